"""Executes InfluxQL statements for the v1 `/query` endpoint and shapes InfluxDB 1.x results.

Statements are parsed by chalicelib.influxql and dispatched to one module per concern: `admin`
(databases, retention policies, deletes), `users` (users and privileges), `show` (index listings),
`select` + `plan` + `functions` (the query engine), `into` (SELECT ... INTO). Output encoding lives
in `output` (JSON) and `csv`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from chalicelib.influxql import ParseError, ast, conditions
from chalicelib.influxql import parse as parse_influxql
from chalicelib.influxql.engine import admin, output, show, users
from chalicelib.influxql.engine.context import Context, Series, Services, StatementError
from chalicelib.influxql.engine.csv import to_csv
from chalicelib.influxql.engine.into import select_into
from chalicelib.influxql.engine.select import select
from chalicelib.influxql.generator import generate
from chalicelib.kit.budget import Budget
from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.tenancy.dbrp import DatabaseNotFound
from chalicelib.tenancy.service import Principal

__all__ = ["Context", "Services", "StatementError", "chunks", "execute", "run", "to_csv", "to_json"]

DEFAULT_CHUNK_SIZE = 10_000


def execute(
    services: Services,
    principal: Principal,
    query: str,
    database: str = "",
    retention_policy: str = "",
    epoch: str | None = None,
    now: int = 0,
    params: dict[str, Any] | None = None,
    budget: Budget | None = None,
) -> dict[str, Any]:
    """Run every statement of `query` within `budget` (time, memory, max-select-*: unbounded when
    None); the first failing statement ends the run, as in influxd."""
    budget = budget or Budget.unlimited()
    try:
        statements = parse_influxql(query, params, budget.check)
    except ParseError as exc:
        raise TicklessError(INVALID, f"error parsing query: {exc}") from exc
    context = Context(
        principal, database, retention_policy, now, output.time_formatter(epoch), services, epoch, budget
    )
    results: list[dict[str, Any]] = []
    failed = False
    for statement_id, statement in enumerate(statements):
        if failed:
            results.append({"statement_id": statement_id, "error": "not executed"})
            continue
        context.begin_statement()
        try:
            series = run(statement, context)
        except (StatementError, conditions.ConditionError) as exc:
            results.append({"statement_id": statement_id, "error": str(exc)})
            failed = True
            continue
        except TicklessError as exc:
            message = exc.query_message if isinstance(exc, DatabaseNotFound) else exc.message
            results.append({"statement_id": statement_id, "error": message})
            failed = True
            continue
        result: dict[str, Any] = {"statement_id": statement_id}
        if series:
            result["series"] = series
        results.append(result)
    return {"results": results}


def to_json(payload: dict[str, Any], pretty: bool = False) -> str:
    return output.to_json(payload, pretty)


def chunks(payload: dict[str, Any], chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[dict[str, Any]]:
    """The responses influxd streams for `chunked=true`: one result per series part of at most
    `chunk_size` rows; a part followed by more rows of the same series is marked `partial`."""
    chunk_size = chunk_size if chunk_size > 0 else DEFAULT_CHUNK_SIZE
    for result in payload["results"]:
        series_list = result.get("series")
        if not series_list:
            yield {"results": [result]}
            continue
        for series in series_list:
            values = series.get("values", [])
            parts = [values[i : i + chunk_size] for i in range(0, len(values), chunk_size)] or [[]]
            for n, part in enumerate(parts):
                item = {k: v for k, v in series.items() if k != "values"}
                if part:
                    item["values"] = part
                partial = n < len(parts) - 1
                if partial:
                    item["partial"] = True
                chunk: dict[str, Any] = {"statement_id": result["statement_id"], "series": [item]}
                if partial:
                    chunk["partial"] = True
                yield {"results": [chunk]}


def run(statement: ast.Statement, context: Context) -> list[Series]:
    handler = _HANDLERS.get(type(statement))
    if handler is None:
        raise StatementError(f"statement is not supported yet: {generate(statement)}")
    return handler(statement, context)


def _select(statement: ast.SelectStatement, context: Context) -> list[Series]:
    series = select_into(statement, context) if statement.target is not None else select(statement, context)
    formatter = context.format_time
    if statement.location and not context.epoch:
        formatter = output.zoned_formatter(statement.location)
    for item in series:
        for row in item.get("values", []):
            row[0] = formatter(row[0])
    return series


_HANDLERS: dict[type, Callable[[Any, Context], list[Series]]] = {
    ast.ShowDatabasesStatement: admin.show_databases,
    ast.CreateDatabaseStatement: admin.create_database,
    ast.DropDatabaseStatement: admin.drop_database,
    ast.CreateRetentionPolicyStatement: admin.create_retention_policy,
    ast.AlterRetentionPolicyStatement: admin.alter_retention_policy,
    ast.DropRetentionPolicyStatement: admin.drop_retention_policy,
    ast.ShowRetentionPoliciesStatement: admin.show_retention_policies,
    ast.DeleteSeriesStatement: admin.delete_series,
    ast.DropSeriesStatement: admin.drop_series,
    ast.DropMeasurementStatement: admin.drop_measurement,
    ast.ShowMeasurementsStatement: show.show_measurements,
    ast.ShowSeriesStatement: show.show_series,
    ast.ShowTagKeysStatement: show.show_tag_keys,
    ast.ShowTagValuesStatement: show.show_tag_values,
    ast.ShowFieldKeysStatement: show.show_field_keys,
    ast.ShowSeriesCardinalityStatement: show.show_series_cardinality,
    ast.ShowMeasurementCardinalityStatement: show.show_measurement_cardinality,
    ast.ShowTagKeyCardinalityStatement: show.show_tag_key_cardinality,
    ast.ShowTagValuesCardinalityStatement: show.show_tag_values_cardinality,
    ast.ShowFieldKeyCardinalityStatement: show.show_field_key_cardinality,
    ast.SelectStatement: _select,
    ast.ShowUsersStatement: users.show_users,
    ast.ShowGrantsForUserStatement: users.show_grants,
    ast.CreateUserStatement: users.create_user,
    ast.DropUserStatement: users.drop_user,
    ast.SetPasswordUserStatement: users.set_password,
    ast.GrantStatement: users.grant,
    ast.RevokeStatement: users.revoke,
    ast.GrantAdminStatement: users.grant_admin,
    ast.RevokeAdminStatement: users.revoke_admin,
}
