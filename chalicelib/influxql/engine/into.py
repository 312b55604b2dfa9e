"""SELECT ... INTO: the query's rows written back as points through the ordinary write path."""

from __future__ import annotations

import dataclasses

from chalicelib.influxql import ast
from chalicelib.influxql.engine.context import Context, Series, StatementError, policy
from chalicelib.influxql.engine.select import select
from chalicelib.lineprotocol.serializer import format_point


def select_into(statement: ast.SelectStatement, context: Context) -> list[Series]:
    target = statement.target
    assert target is not None
    measurement = target.measurement
    rp = policy(context, measurement.database, measurement.retention_policy, "write")
    inner = dataclasses.replace(statement, target=None)
    if inner.fill == "null" and any(_is_time_call(d.expr) for d in inner.dimensions):
        inner.fill = "none"  # influxd: empty windows are not written anyway (fill applies to windows only)
    lines: list[str] = []
    for series in select(inner, context):
        name = measurement.name or series["name"]
        if not name:
            raise StatementError("no measurement name for INTO")
        tags = sorted((k, v) for k, v in series.get("tags", {}).items() if v != "")
        columns = series["columns"][1:]
        for row in series["values"]:
            fields = {
                c: v
                for c, v in zip(columns, row[1:], strict=True)
                if v is not None and not (type(v) is float and v != v)
            }
            if fields:
                lines.append(format_point(name, tags, fields, row[0]))
    if lines:
        body = "\n".join(lines).encode()
        result = context.writer.write(rp.destination, body, "ns", context.now, retention=rp.duration)
        if result.partial:
            raise StatementError(result.partial_message)
    return [{"name": "result", "columns": ["time", "written"], "values": [[0, len(lines)]]}]


def _is_time_call(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Call) and expr.name == "time"
