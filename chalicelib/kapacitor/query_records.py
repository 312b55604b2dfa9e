"""A query recording's data: an InfluxQL answer as the stream points or the batches Kapacitor records.

A stream recording of a query needs to know where its points belong, so the query must name its
database and retention policy (`FROM "db"."rp"."m"`), as Kapacitor asks."""

from __future__ import annotations

from typing import Any

from chalicelib.influxql import ast
from chalicelib.influxql.parser import ParseError, parse
from chalicelib.kit.errors import invalid
from chalicelib.tick.exec.model import Batch, BatchPoint, Point


def _select(text: str) -> ast.SelectStatement:
    try:
        statements = parse(text)
    except ParseError as exc:
        raise invalid(f"failed to parse query: {exc}") from None
    if len(statements) != 1 or not isinstance(statements[0], ast.SelectStatement):
        raise invalid("query must be a single select statement")
    return statements[0]


def dbrp_of(text: str) -> tuple[str, str]:
    """The database and retention policy the query reads (its first source must name both)."""
    statement = _select(text)
    sources = [s for s in statement.sources if isinstance(s, ast.Measurement)]
    if not sources or not sources[0].database or not sources[0].retention_policy:
        raise invalid("could not determine database and retention policy. Is the query fully qualified?")
    return sources[0].database, sources[0].retention_policy


def _rows(answer: dict[str, Any]) -> list[tuple[str, dict[str, str], list[tuple[int, dict[str, Any]]]]]:
    """(measurement, tags, [(time, fields)]) per series of the answer; an error answer raises."""
    out = []
    for result in answer.get("results") or []:
        if result.get("error"):
            raise invalid(result["error"])
        for series in result.get("series") or []:
            columns = series.get("columns") or []
            rows = []
            for row in series.get("values") or []:
                time, fields = 0, {}
                for column, value in zip(columns, row, strict=False):
                    if column == "time":
                        time = int(value)
                    elif value is not None:
                        fields[column] = value
                if fields:
                    rows.append((time, fields))
            out.append((series.get("name", ""), dict(series.get("tags") or {}), rows))
    return out


def query_points(text: str, answer: dict[str, Any]) -> list[Point]:
    """The answer's rows as points of the query's database and retention policy, in time order."""
    database, rp = dbrp_of(text)
    points = [
        Point(name, time, fields, dict(tags), database, rp)
        for name, tags, rows in _rows(answer)
        for time, fields in rows
    ]
    points.sort(key=lambda p: p.time)
    return points


def query_batches(answer: dict[str, Any], now: int) -> list[Batch]:
    """One batch per series of the answer, its time the latest row's (now when it has none)."""
    batches = []
    for name, tags, rows in _rows(answer):
        points = [BatchPoint(time, fields, dict(tags)) for time, fields in rows]
        tmax = max((p.time for p in points), default=now)
        batches.append(Batch(name, tmax, tags, points))
    return batches
