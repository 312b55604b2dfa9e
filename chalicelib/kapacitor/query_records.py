"""A query recording's data: an InfluxQL answer as the stream points or the batches Kapacitor records
(read as Kapacitor's InfluxDB client reads answers: tick/batch.answer_series).

A stream recording of a query needs to know where its points belong, so the query must name its
database and retention policy (`FROM "db"."rp"."m"`), as Kapacitor asks."""

from __future__ import annotations

from typing import Any

from chalicelib.influxql import ast
from chalicelib.kit.errors import invalid
from chalicelib.tick.batch import answer_series, select_statement
from chalicelib.tick.exec.model import Batch, BatchPoint, Point


def dbrp_of(text: str) -> tuple[str, str]:
    """The database and retention policy the query reads (its first source must name both)."""
    sources = [s for s in select_statement(text).sources if isinstance(s, ast.Measurement)]
    if not sources or not sources[0].database or not sources[0].retention_policy:
        raise invalid("could not determine database and retention policy. Is the query fully qualified?")
    return sources[0].database, sources[0].retention_policy


def query_points(text: str, answer: dict[str, Any]) -> list[Point]:
    """The answer's rows as points of the query's database and retention policy, in time order."""
    database, rp = dbrp_of(text)
    points = [
        Point(name, time, fields, dict(tags), database, rp)
        for name, tags, rows in answer_series(answer)
        for time, fields in rows
    ]
    points.sort(key=lambda p: p.time)
    return points


def query_batches(answer: dict[str, Any], now: int) -> list[Batch]:
    """One batch per series of the answer, its time the latest row's (now when it has none)."""
    batches = []
    for name, tags, rows in answer_series(answer):
        points = [BatchPoint(time, fields, dict(tags)) for time, fields in rows]
        batches.append(Batch(name, max((p.time for p in points), default=now), tags, points))
    return batches
