"""Statements that manage databases and retention policies, and those that delete data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.influxql import ast, conditions
from chalicelib.influxql.engine.context import (
    Context,
    Series,
    StatementError,
    measurement_matches,
    measurements,
    policy,
)
from chalicelib.influxql.engine.output import format_duration
from chalicelib.kit.time import MAX_TIME, MIN_TIME
from chalicelib.tenancy.dbrp import DEFAULT_RP


def show_databases(_statement: ast.ShowDatabasesStatement, context: Context) -> list[Series]:
    names = context.catalog.databases(context.principal)
    series: Series = {"name": "databases", "columns": ["name"]}
    if names:
        series["values"] = [[name] for name in names]
    return [series]


def create_database(statement: ast.CreateDatabaseStatement, context: Context) -> list[Series]:
    context.principal.require("write", "buckets", org_id=context.principal.org_id)
    context.catalog.create_database(
        context.principal,
        statement.name,
        rp_name=statement.retention_policy_name or DEFAULT_RP,
        duration=statement.retention_policy_duration,
        shard_duration=statement.retention_policy_shard_group_duration or 0,
        replication=statement.retention_policy_replication,
        with_policy=statement.retention_policy_create,
    )
    return []


def drop_database(statement: ast.DropDatabaseStatement, context: Context) -> list[Series]:
    """DROP DATABASE: its buckets go, and with them their points (influxd: no error if missing)."""
    context.catalog.drop_database(context.principal, statement.name)
    return []


def create_retention_policy(statement: ast.CreateRetentionPolicyStatement, context: Context) -> list[Series]:
    """REPLICATION is compared with an existing policy's (always 1) but not kept for a new one."""
    context.principal.require("write", "buckets", org_id=context.principal.org_id)
    context.catalog.create_retention_policy(
        context.principal,
        statement.database,
        statement.name,
        duration=statement.duration,
        shard_duration=statement.shard_group_duration,
        default=statement.default,
        replication=statement.replication,
    )
    return []


def alter_retention_policy(statement: ast.AlterRetentionPolicyStatement, context: Context) -> list[Series]:
    """REPLICATION is accepted and ignored (a bucket has no replicas), as CREATE does."""
    context.principal.require("write", "buckets", org_id=context.principal.org_id)
    context.catalog.alter_retention_policy(
        context.principal,
        statement.database,
        statement.name,
        duration=statement.duration,
        shard_duration=statement.shard_group_duration,
        default=statement.default,
    )
    return []


def drop_retention_policy(statement: ast.DropRetentionPolicyStatement, context: Context) -> list[Series]:
    context.catalog.drop_retention_policy(context.principal, statement.database, statement.name)
    return []


def show_retention_policies(statement: ast.ShowRetentionPoliciesStatement, context: Context) -> list[Series]:
    database = statement.database or context.database
    if not database:
        raise StatementError("database name required")
    policies = context.catalog.retention_policies(context.principal, database)
    columns = ["name", "duration", "shardGroupDuration", "replicaN", "default"]
    values = [
        [
            rp.name,
            format_duration(rp.duration),
            format_duration(rp.shard_duration),
            rp.replication,
            rp.default,
        ]
        for rp in sorted(policies, key=lambda p: p.name)
    ]
    return [{"columns": columns, "values": values}]


def delete_series(statement: ast.DeleteSeriesStatement, context: Context) -> list[Series]:
    """DELETE [FROM m] [WHERE tag and time conditions]: remove points, keep the database."""
    tmin, tmax, condition = conditions.time_range(statement.condition, context.now)
    _delete_matching(context, statement.sources, tmin, tmax, condition, "deletion")
    return []


def drop_series(statement: ast.DropSeriesStatement, context: Context) -> list[Series]:
    """DROP SERIES [FROM m] [WHERE tag conditions]: remove whole series, points and index entries."""
    if statement.condition is not None and any(
        isinstance(n, ast.VarRef) and n.val == "time" for n in ast.walk(statement.condition)
    ):
        raise StatementError("DROP SERIES doesn't support time in WHERE clause")
    _delete_matching(context, statement.sources, MIN_TIME, MAX_TIME, statement.condition, "DROP SERIES")
    return []


def drop_measurement(statement: ast.DropMeasurementStatement, context: Context) -> list[Series]:
    rp = policy(context, "", "", "write")
    context.store.delete(rp.namespace, statement.name)
    return []


@dataclass(frozen=True)
class _Selection:
    """The series a DELETE or DROP SERIES names: its FROM measurements and its WHERE tag condition."""

    sources: list[ast.Source]
    condition: ast.Expr | None

    def measurement_matches(self, measurement: str) -> bool:
        named = [s for s in self.sources if isinstance(s, ast.Measurement)]
        return not self.sources or any(measurement_matches(s, measurement) for s in named)

    def tags_match(self, tags: Mapping[str, str]) -> bool:
        return self.condition is None or conditions.eval_condition(self.condition, dict(tags))

    @property
    def has_tag_conditions(self) -> bool:
        return self.condition is not None

    @property
    def tag_equals(self) -> tuple[str, frozenset[str]] | None:
        # tags_match reads tags only: whatever the ref's type, a matching series has one of the values
        pinned = conditions.tag_equals(self.condition)
        return (pinned[0].val, pinned[1]) if pinned is not None else None


def _delete_matching(
    context: Context, sources: list[ast.Source], tmin: int, tmax: int, condition: ast.Expr | None, what: str
) -> None:
    rp = policy(context, "", "", "write")
    if condition is not None:  # influxd refuses a field in the condition, before deleting anything
        refs = {n.val for n in ast.walk(condition) if isinstance(n, ast.VarRef)} - {"time"}
        for measurement in measurements(context, rp, sources):
            tag_keys = {
                key for entry in context.series.series(rp.namespace, measurement) for key, _ in entry.tags
            }
            if (refs - tag_keys) & set(context.series.field_types(rp.namespace, measurement)):
                raise StatementError(f"fields not supported in WHERE clause during {what}")
    context.store.delete_selected(rp.namespace, _Selection(sources, condition), tmin, tmax)
