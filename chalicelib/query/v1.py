"""Executes InfluxQL statements for the v1 `/query` endpoint and shapes InfluxDB 1.x results.

This is the read path the full InfluxQL engine grows from: statements are parsed by
chalicelib.influxql, series are chosen from the index by their tags, and points are read from the
series store block by block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib import services
from chalicelib.catalog import DEFAULT_RP, Catalog, RetentionPolicy
from chalicelib.errors import INVALID, TicklessError
from chalicelib.influxql import ParseError, ast, conditions
from chalicelib.influxql import parse as parse_influxql
from chalicelib.query import output
from chalicelib.query.output import format_duration
from chalicelib.storage.keys import MAX_TIME, MIN_TIME
from chalicelib.storage.ports import IndexRepository
from chalicelib.storage.store import SeriesStore
from chalicelib.tenancy.service import Principal


class StatementError(Exception):
    """An error reported inside the statement's result, as influxd does (`{"statement_id", "error"}`)."""


@dataclass
class Context:
    principal: Principal
    database: str
    retention_policy: str
    now: int
    format_time: Callable[[int], Any]
    catalog: Catalog = field(default_factory=services.catalog)
    store: SeriesStore = field(default_factory=services.store)

    @property
    def index(self) -> IndexRepository:
        return self.store.index


def execute(
    principal: Principal,
    query: str,
    database: str = "",
    retention_policy: str = "",
    epoch: str | None = None,
    now: int = 0,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run every statement of `query`; the first failing statement ends the run, as in influxd."""
    try:
        statements = parse_influxql(query, params)
    except ParseError as exc:
        raise TicklessError(INVALID, f"error parsing query: {exc}") from exc
    context = Context(principal, database, retention_policy, now, output.time_formatter(epoch))
    results: list[dict[str, Any]] = []
    failed = False
    for statement_id, statement in enumerate(statements):
        if failed:
            results.append({"statement_id": statement_id, "error": "not executed"})
            continue
        try:
            series = run(statement, context)
        except (StatementError, conditions.ConditionError) as exc:
            results.append({"statement_id": statement_id, "error": str(exc)})
            failed = True
            continue
        except TicklessError as exc:
            results.append({"statement_id": statement_id, "error": exc.message})
            failed = True
            continue
        result: dict[str, Any] = {"statement_id": statement_id}
        if series:
            result["series"] = series
        results.append(result)
    return {"results": results}


def to_json(payload: dict[str, Any], pretty: bool = False) -> str:
    return output.to_json(payload, pretty)


def run(statement: ast.Statement, context: Context) -> list[dict[str, Any]]:
    handler = _HANDLERS.get(type(statement))
    if handler is None:
        raise StatementError(f"statement is not supported yet: {statement}")
    return handler(statement, context)


# -- database statements --------------------------------------------------------------------------


def _show_databases(_statement: ast.ShowDatabasesStatement, context: Context) -> list[dict[str, Any]]:
    names = context.catalog.databases(context.principal)
    series: dict[str, Any] = {"name": "databases", "columns": ["name"]}
    if names:
        series["values"] = [[name] for name in names]
    return [series]


def _create_database(statement: ast.CreateDatabaseStatement, context: Context) -> list[dict[str, Any]]:
    context.principal.require("write", "buckets", org_id=context.principal.org_id)
    context.catalog.create_database(
        context.principal,
        statement.name,
        rp_name=statement.retention_policy_name or DEFAULT_RP,
        duration=statement.retention_policy_duration or 0,
        shard_duration=statement.retention_policy_shard_group_duration or 0,
        replication=statement.retention_policy_replication or 1,
    )
    return []


def _show_measurements(statement: ast.ShowMeasurementsStatement, context: Context) -> list[dict[str, Any]]:
    rp = _policy(context, statement.database, statement.retention_policy)
    names = context.index.measurements(rp.namespace)
    source = statement.source
    if isinstance(source, ast.Measurement):
        names = [n for n in names if _measurement_matches(source, n)]
    if statement.condition is not None:
        names = [
            n
            for n in names
            if any(
                conditions.eval_condition(statement.condition, dict(e.tags))
                for e in context.index.series(rp.namespace, n)
            )
        ]
    names = _page(names, statement.limit, statement.offset)
    if not names:
        return []
    return [{"name": "measurements", "columns": ["name"], "values": [[n] for n in names]}]


def _drop_database(statement: ast.DropDatabaseStatement, context: Context) -> list[dict[str, Any]]:
    """DROP DATABASE: its buckets go, and with them their points (influxd: no error if missing)."""
    context.catalog.drop_database(context.principal, statement.name)
    return []


def _create_retention_policy(
    statement: ast.CreateRetentionPolicyStatement, context: Context
) -> list[dict[str, Any]]:
    context.catalog.create_retention_policy(
        context.principal,
        statement.database,
        statement.name,
        duration=statement.duration,
        shard_duration=statement.shard_group_duration,
        default=statement.default,
    )
    return []


def _drop_retention_policy(
    statement: ast.DropRetentionPolicyStatement, context: Context
) -> list[dict[str, Any]]:
    context.catalog.drop_retention_policy(context.principal, statement.database, statement.name)
    return []


def _show_retention_policies(
    statement: ast.ShowRetentionPoliciesStatement, context: Context
) -> list[dict[str, Any]]:
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


# -- deletes ----------------------------------------------------------------------------------------


def _delete_series(statement: ast.DeleteSeriesStatement, context: Context) -> list[dict[str, Any]]:
    """DELETE [FROM m] [WHERE tag and time conditions]: remove points, keep the database."""
    tmin, tmax, condition = conditions.time_range(statement.condition, context.now)
    _delete_matching(context, statement.sources, tmin, tmax, condition, "deletion")
    return []


def _drop_series(statement: ast.DropSeriesStatement, context: Context) -> list[dict[str, Any]]:
    """DROP SERIES [FROM m] [WHERE tag conditions]: remove whole series, points and index entries."""
    if statement.condition is not None and any(
        isinstance(n, ast.VarRef) and n.val == "time" for n in ast.walk(statement.condition)
    ):
        raise StatementError("DROP SERIES doesn't support time in WHERE clause")
    _delete_matching(context, statement.sources, MIN_TIME, MAX_TIME, statement.condition, "DROP SERIES")
    return []


def _drop_measurement(statement: ast.DropMeasurementStatement, context: Context) -> list[dict[str, Any]]:
    rp = _policy(context, "", "", "write")
    context.store.delete(rp.namespace, statement.name)
    services.field_guard().forget(rp.namespace)
    return []


def _delete_matching(
    context: Context, sources: list[ast.Source], tmin: int, tmax: int, condition: ast.Expr | None, what: str
) -> None:
    rp = _policy(context, "", "", "write")
    names = context.index.measurements(rp.namespace)
    if sources:
        names = [
            n
            for n in names
            if any(_measurement_matches(s, n) for s in sources if isinstance(s, ast.Measurement))
        ]
    for measurement in names:
        entries = context.index.series(rp.namespace, measurement)
        tag_keys = {key for entry in entries for key, _ in entry.tags}
        if condition is not None:
            refs = {n.val for n in ast.walk(condition) if isinstance(n, ast.VarRef)}
            if refs - tag_keys - {"time"} & set(context.index.field_types(rp.namespace, measurement)):
                raise StatementError(f"fields not supported in WHERE clause during {what}")
        keys = None
        if condition is not None:
            keys = {e.key for e in entries if conditions.eval_condition(condition, dict(e.tags))}
            if not keys:
                continue
        context.store.delete(rp.namespace, measurement, tmin, tmax, keys)
    services.field_guard().forget(rp.namespace)


# -- SELECT ---------------------------------------------------------------------------------------


@dataclass
class Column:
    name: str  # the field or tag read
    source: str  # "field" or "tag"
    label: str = ""  # the column's name in the output (an alias), when not `name`


def _select(statement: ast.SelectStatement, context: Context) -> list[dict[str, Any]]:
    if statement.target is not None:
        raise StatementError("SELECT ... INTO is not supported yet")
    interval, _ = _group_by_interval(statement)
    if interval or not statement.is_raw_query:
        raise StatementError("aggregate queries are not supported yet")
    tmin, tmax, condition = conditions.time_range(statement.condition, context.now)
    results: list[dict[str, Any]] = []
    for rp, measurement in _sources(statement.sources, context):
        cutoff = rp.cutoff(context.now)
        low = tmin if cutoff is None else max(tmin, cutoff)
        results.extend(_select_measurement(statement, context, rp, measurement, low, tmax, condition))
    return _page(results, statement.slimit, statement.soffset)


def _group_by_interval(statement: ast.SelectStatement) -> tuple[int, int]:
    try:
        return statement.group_by_interval()
    except ValueError as exc:
        raise StatementError(str(exc)) from exc


def _sources(sources: Iterable[ast.Source], context: Context) -> list[tuple[RetentionPolicy, str]]:
    found: list[tuple[RetentionPolicy, str]] = []
    for source in sources:
        if not isinstance(source, ast.Measurement):
            raise StatementError("subqueries are not supported yet")
        rp = _policy(context, source.database, source.retention_policy)
        if source.regex is not None:
            names = [n for n in context.index.measurements(rp.namespace) if _measurement_matches(source, n)]
        else:
            names = [source.name]
        found.extend((rp, name) for name in sorted(names))
    return found


def _select_measurement(
    statement: ast.SelectStatement,
    context: Context,
    rp: RetentionPolicy,
    measurement: str,
    tmin: int,
    tmax: int,
    condition: ast.Expr | None,
) -> list[dict[str, Any]]:
    field_types = context.index.field_types(rp.namespace, measurement)
    if not field_types:  # no such measurement: an empty result, as influxd gives
        return []
    entries = context.index.series(rp.namespace, measurement)
    tag_keys = sorted({key for entry in entries for key, _ in entry.tags})
    columns = _columns(statement, field_types, tag_keys)
    if not any(c.source == "field" for c in columns):
        raise StatementError("statement must have at least one field in select clause")
    group_keys = _group_keys(statement, tag_keys)

    def is_tag(name: str) -> bool:
        return name in tag_keys and name not in field_types

    tag_condition, field_condition = (
        conditions.split_condition(condition, is_tag) if condition is not None else (None, None)
    )
    tags_of = {e.key: dict(e.tags) for e in entries}
    wanted = {
        key
        for key, tags in tags_of.items()
        if tag_condition is None or conditions.eval_condition(tag_condition, tags)
    }
    if not wanted:
        return []
    selected_fields = [c.name for c in columns if c.source == "field" and c.name in field_types]
    needed_fields = set(selected_fields)
    if field_condition is not None:
        needed_fields |= {ref.val for ref in ast.walk(field_condition) if isinstance(ref, ast.VarRef)} & set(
            field_types
        )
    descending = not statement.time_ascending()
    groups: dict[tuple[str, ...], list[tuple[int, str, list[Any]]]] = {}
    for block in context.store.scan(
        rp.namespace, measurement, tmin, tmax, wanted, needed_fields, descending=descending
    ):
        block_rows: dict[tuple[str, ...], list[tuple[int, str, list[Any]]]] = {}
        for key, cols in block.items():
            tags = tags_of.get(key, {})
            group = tuple(tags.get(k, "") for k in group_keys)
            rows = block_rows.setdefault(group, [])
            for time, values in _rows(cols, columns, selected_fields, tags, field_condition, field_types):
                rows.append((time, key, values))
        for group, rows in block_rows.items():
            rows.sort(key=lambda r: (r[0], r[1]), reverse=descending)
            groups.setdefault(group, []).extend(rows)
    series = []
    column_names = ["time", *(c.label or c.name for c in columns)]
    for group in sorted(groups):
        rows = _page(groups[group], statement.limit, statement.offset)
        if not rows:
            continue
        item: dict[str, Any] = {"name": measurement}
        if statement.dimensions:
            item["tags"] = dict(zip(group_keys, group, strict=True))
        item["columns"] = column_names
        item["values"] = [[context.format_time(time), *values] for time, _, values in rows]
        series.append(item)
    return series


def _columns(
    statement: ast.SelectStatement, field_types: dict[str, str], tag_keys: list[str]
) -> list[Column]:
    columns: list[Column] = []
    for selected in statement.fields:
        expr = selected.expr
        if isinstance(expr, ast.Wildcard):
            names = sorted(set(field_types) | set(tag_keys))
            columns.extend(Column(n, "field" if n in field_types else "tag") for n in names)
        elif isinstance(expr, ast.VarRef):
            if expr.val == "time":
                continue
            is_tag = expr.type == "tag" or (
                expr.type != "field" and expr.val not in field_types and expr.val in tag_keys
            )
            columns.append(Column(expr.val, "tag" if is_tag else "field", selected.alias))
        else:
            raise StatementError(f"expressions are not supported yet: {expr}")
    return columns


def _group_keys(statement: ast.SelectStatement, tag_keys: list[str]) -> list[str]:
    keys: list[str] = []
    for dimension in statement.dimensions:
        expr = dimension.expr
        if isinstance(expr, ast.Wildcard):
            keys.extend(tag_keys)
        elif isinstance(expr, ast.VarRef):
            keys.append(expr.val)
        elif isinstance(expr, ast.RegexLiteral):
            pattern = expr.compiled
            keys.extend(k for k in tag_keys if pattern.search(k))
    return sorted(set(keys))


def _rows(
    cols,
    columns: list[Column],
    selected_fields: list[str],
    tags: dict[str, str],
    field_condition: ast.Expr | None,
    field_types: dict[str, str],
):
    field_values = {name: cols.fields[name].values for name in cols.fields}
    present = [field_values[name] for name in selected_fields if name in field_values]
    for i, time in enumerate(cols.times):
        if all(values[i] is None for values in present):
            continue
        if field_condition is not None:
            point_fields = {name: values[i] for name, values in field_values.items() if values[i] is not None}
            if not conditions.eval_condition(field_condition, tags, point_fields, field_keys=field_types):
                continue
        row = []
        for column in columns:
            if column.source == "tag":
                row.append(tags.get(column.name))
            else:
                values = field_values.get(column.name)
                row.append(None if values is None else values[i])
        yield time, row


# -- helpers --------------------------------------------------------------------------------------


def _policy(context: Context, database: str, retention_policy: str, action: str = "read") -> RetentionPolicy:
    """The bucket a statement reads (or, for deletes, writes), checked against the caller's rights."""
    database = database or context.database
    if not database:
        raise StatementError("database name required")
    rp = context.catalog.resolve(
        context.principal, database, retention_policy or context.retention_policy or None
    )
    context.principal.require(action, "buckets", id=rp.namespace, org_id=rp.org_id)
    return rp


def _measurement_matches(source: ast.Measurement, name: str) -> bool:
    if source.regex is not None:
        return source.regex.compiled.search(name) is not None
    return source.name == name


def _page(items: list, limit: int, offset: int) -> list:
    if offset:
        items = items[offset:]
    if limit:
        items = items[:limit]
    return items


_HANDLERS: dict[type, Callable[[Any, Context], list[dict[str, Any]]]] = {
    ast.ShowDatabasesStatement: _show_databases,
    ast.CreateDatabaseStatement: _create_database,
    ast.ShowMeasurementsStatement: _show_measurements,
    ast.SelectStatement: _select,
    ast.DropDatabaseStatement: _drop_database,
    ast.CreateRetentionPolicyStatement: _create_retention_policy,
    ast.DropRetentionPolicyStatement: _drop_retention_policy,
    ast.ShowRetentionPoliciesStatement: _show_retention_policies,
    ast.DeleteSeriesStatement: _delete_series,
    ast.DropSeriesStatement: _drop_series,
    ast.DropMeasurementStatement: _drop_measurement,
}
