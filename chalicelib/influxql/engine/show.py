"""SHOW MEASUREMENTS / SERIES / TAG KEYS / TAG VALUES / FIELD KEYS from the series index, shaped as
InfluxDB 1.x answers them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.influxql import ast, conditions
from chalicelib.influxql.engine.context import (
    Context,
    Series,
    measurement_matches,
    measurements,
    page,
    policy,
)
from chalicelib.tenancy.dbrp import RetentionPolicy


def _entries(context: Context, rp: RetentionPolicy, measurement: str, condition: ast.Expr | None):
    """The index entries of `measurement` whose tags satisfy `condition` (time terms ignored)."""
    condition = _without_time(condition)
    # a tag pinned to a few values: the index may read just those series (they are checked below)
    pinned = conditions.tag_equals(condition)
    hint = (pinned[0].val, pinned[1]) if pinned is not None else None
    entries = context.series.series(rp.namespace, measurement, hint)
    if condition is None:
        return entries
    return [e for e in entries if conditions.eval_condition(condition, dict(e.tags))]


def _without_time(condition: ast.Expr | None) -> ast.Expr | None:
    def drop_time(node: ast.Expr) -> ast.Expr | None:
        if isinstance(node, ast.BinaryExpr) and node.op not in ("AND", "OR"):
            for side in (node.lhs, node.rhs):
                if isinstance(side, ast.VarRef) and side.val.lower() == "time":
                    return None
        return node

    return ast.rewrite_expr(condition, drop_time)


def show_measurements(statement: ast.ShowMeasurementsStatement, context: Context) -> list[Series]:
    rp = policy(context, statement.database, statement.retention_policy)
    names = sorted(context.series.measurements(rp.namespace))
    source = statement.source
    if isinstance(source, ast.Measurement):
        names = [n for n in names if measurement_matches(source, n)]
    if statement.condition is not None:
        names = [n for n in names if _entries(context, rp, n, statement.condition)]
    names = page(names, statement.limit, statement.offset)
    if not names:
        return []
    return [{"name": "measurements", "columns": ["name"], "values": [[n] for n in names]}]


def show_series(statement: ast.ShowSeriesStatement, context: Context) -> list[Series]:
    rp = policy(context, statement.database, "")
    keys: list[str] = []
    for measurement in measurements(context, rp, statement.sources):
        keys.extend(e.key for e in _entries(context, rp, measurement, statement.condition))
    keys = page(sorted(keys), statement.limit, statement.offset)
    if not keys:
        return []
    return [{"columns": ["key"], "values": [[k] for k in keys]}]


def show_tag_keys(statement: ast.ShowTagKeysStatement, context: Context) -> list[Series]:
    rp = policy(context, statement.database, "")
    out: list[Series] = []
    for measurement in measurements(context, rp, statement.sources):
        entries = _entries(context, rp, measurement, statement.condition)
        tag_keys = sorted({k for e in entries for k, _ in e.tags})
        if statement.tag_key_expr is not None:
            tag_keys = [k for k in tag_keys if _key_matches(statement.tag_key_op, statement.tag_key_expr, k)]
        tag_keys = page(tag_keys, statement.limit, statement.offset)
        if tag_keys:
            out.append({"name": measurement, "columns": ["tagKey"], "values": [[k] for k in tag_keys]})
    return out  # influxd 1.6 ignores SLIMIT/SOFFSET here


def _key_matches(op: str, expr: ast.Literal, key: str) -> bool:
    probe = ast.ShowTagValuesStatement(op=op, tag_key_expr=expr)
    return probe.key_matches(key)


def show_tag_values(statement: ast.ShowTagValuesStatement, context: Context) -> list[Series]:
    rp = policy(context, statement.database, "")
    out: list[Series] = []
    for measurement in measurements(context, rp, statement.sources):
        pairs = {
            (key, value)
            for e in _entries(context, rp, measurement, statement.condition)
            for key, value in e.tags
            if statement.key_matches(key)
        }
        values = page(sorted(pairs), statement.limit, statement.offset)
        if values:
            out.append(
                {"name": measurement, "columns": ["key", "value"], "values": [list(p) for p in values]}
            )
    return out


def show_field_keys(statement: ast.ShowFieldKeysStatement, context: Context) -> list[Series]:
    rp = policy(context, statement.database, "")
    out: list[Series] = []
    for measurement in measurements(context, rp, statement.sources):
        types = context.series.field_types(rp.namespace, measurement)
        keys = page(sorted(types), statement.limit, statement.offset)
        if keys:
            out.append(
                {
                    "name": measurement,
                    "columns": ["fieldKey", "fieldType"],
                    "values": [[k, types[k]] for k in keys],
                }
            )
    return out


# -- SHOW ... CARDINALITY ---------------------------------------------------------------------------


def _count_series(total: int, exact: bool, name: str | None = None) -> Series:
    item: Series = {"name": name} if name is not None else {}
    item["columns"] = ["count" if exact else "cardinality estimation"]
    item["values"] = [[total]]
    return item


def _per_measurement(
    statement: Any, context: Context, count: Callable[[RetentionPolicy, str], int]
) -> list[Series]:
    """One `count` series per measurement of the statement's sources with a non-zero count."""
    rp = policy(context, statement.database, "")
    out = []
    for measurement in measurements(context, rp, statement.sources):
        n = count(rp, measurement)
        if n:
            out.append(_count_series(n, True, measurement))
    return page(out, statement.limit, statement.offset)


def show_series_cardinality(statement: ast.ShowSeriesCardinalityStatement, context: Context) -> list[Series]:
    def series(rp: RetentionPolicy, measurement: str) -> int:
        return len(_entries(context, rp, measurement, statement.condition))

    if statement.exact:
        return _per_measurement(statement, context, series)
    rp = policy(context, statement.database, "")
    return [_count_series(sum(series(rp, m) for m in measurements(context, rp, statement.sources)), False)]


def show_measurement_cardinality(
    statement: ast.ShowMeasurementCardinalityStatement, context: Context
) -> list[Series]:
    rp = policy(context, statement.database, "")
    names = measurements(context, rp, statement.sources)
    if statement.condition is not None:
        names = [n for n in names if _entries(context, rp, n, statement.condition)]
    return [_count_series(len(names), statement.exact)]


def show_tag_key_cardinality(statement: ast.ShowTagKeyCardinalityStatement, context: Context) -> list[Series]:
    def tag_keys(rp: RetentionPolicy, measurement: str) -> int:
        return len({k for e in _entries(context, rp, measurement, statement.condition) for k, _ in e.tags})

    return _per_measurement(statement, context, tag_keys)


def show_tag_values_cardinality(
    statement: ast.ShowTagValuesCardinalityStatement, context: Context
) -> list[Series]:
    probe = ast.ShowTagValuesStatement(op=statement.op, tag_key_expr=statement.tag_key_expr)

    def pairs(rp: RetentionPolicy, measurement: str) -> int:
        entries = _entries(context, rp, measurement, statement.condition)
        return len({(k, v) for e in entries for k, v in e.tags if probe.key_matches(k)})

    return _per_measurement(statement, context, pairs)


def show_field_key_cardinality(
    statement: ast.ShowFieldKeyCardinalityStatement, context: Context
) -> list[Series]:
    return _per_measurement(
        statement, context, lambda rp, measurement: len(context.series.field_types(rp.namespace, measurement))
    )
