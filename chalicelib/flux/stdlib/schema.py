"""The `influxdata/influxdb/schema` package: measurements, tag and field keys, tag values, fieldsAsCols."""

from __future__ import annotations

from typing import Any

from chalicelib.flux import reads
from chalicelib.flux.interpreter import Closure, Interpreter, Scope
from chalicelib.flux.parser import Parser
from chalicelib.flux.stdlib.args import time_arg
from chalicelib.flux.stdlib.library import package
from chalicelib.flux.stdlib.universe.pivot import pivot_
from chalicelib.flux.stdlib.universe.sources import filter_
from chalicelib.flux.tables import Stream, Table
from chalicelib.flux.values import NS_PER_UNIT, Duration


def _schema_read(interp: Interpreter, bucket: str, start: Any, stop: Any, predicate: Any) -> reads.FromStream:
    stream = reads.FromStream(interp, interp.context.buckets.bucket(bucket, None))
    start_ns = time_arg(interp, start if start is not None else Duration(0, -30 * NS_PER_UNIT["d"]), "start")
    stop_ns = time_arg(interp, stop, "stop") if stop is not None else interp.now()
    stream = stream.bounded(start_ns, stop_ns)
    if predicate is not None:
        stream = filter_.call(interp, {"fn": predicate}, stream)
    return stream


def _value_table(values: list[str]) -> list[Table]:
    return [Table([("_value", "string")], [values], [], {})]


def _schema_series(
    interp, bucket, start, stop, predicate, need: str
) -> tuple[list[str], dict[str, set[str]]]:
    """The group key columns (less `_start`, `_stop`) of the storage tables the read selects, and the
    values of each. Answered from the series index when the predicate reads only measurement, fields
    and tags (see `FromStream.listing`), else from the points."""
    stream = _schema_read(interp, bucket, start, stop, predicate)
    if isinstance(stream, reads.FromStream):
        rows = stream.listing(need)
    else:
        rows = (
            (
                t.keyvals["_measurement"],
                {k: t.keyvals[k] for k in t.key if k not in reads.STORAGE_KEY},
                [t.keyvals["_field"]],
            )
            for t in stream.tables()
            if t.n
        )
    keys: set[str] = set()
    values: dict[str, set[str]] = {}
    for measurement, tags, fields in rows:
        keys.update(("_field", "_measurement"))
        values.setdefault("_measurement", set()).add(measurement)
        values.setdefault("_field", set()).update(fields)
        for k, v in tags.items():
            keys.add(k)
            values.setdefault(k, set()).add(v)
    return sorted(keys), values


def _tag_values(interp, bucket, tag, predicate=None, start=None, stop=None):
    def produce():
        need = "fields" if tag == "_field" else "series"
        _, values = _schema_series(interp, bucket, start, stop, predicate, need)
        return _value_table(sorted(values.get(tag, ())))

    return Stream(produce)


def _tag_keys(interp, bucket, predicate=None, start=None, stop=None):
    def produce():
        keys, _ = _schema_series(interp, bucket, start, stop, predicate, "series")
        head = [k for k in ("_field", "_measurement") if k in keys]
        return _value_table(["_start", "_stop", *head, *[k for k in keys if k not in head]])

    return Stream(produce)


def _measurement_predicate(interp: Interpreter, measurement: str) -> Closure:
    scope = Scope(interp.universe, {"m": measurement})
    return interp.eval(Parser("(r) => r._measurement == m").expression(), scope)


def schema_functions(path: str) -> None:
    """Register the schema functions as the package at `path` (`schema`, and `v1` with the same)."""

    def fn(name: str, params: str, required: str, impl) -> None:
        package(path, name, params, required)(impl)

    fn(
        "tagValues",
        "bucket tag predicate start stop",
        "bucket tag",
        lambda interp, bucket, tag, predicate=None, start=None, stop=None: _tag_values(
            interp, bucket, tag, predicate, start, stop
        ),
    )
    fn(
        "tagKeys",
        "bucket predicate start stop",
        "bucket",
        lambda interp, bucket, predicate=None, start=None, stop=None: _tag_keys(
            interp, bucket, predicate, start, stop
        ),
    )
    fn(
        "fieldKeys",
        "bucket predicate start stop",
        "bucket",
        lambda interp, bucket, predicate=None, start=None, stop=None: _tag_values(
            interp, bucket, "_field", predicate, start, stop
        ),
    )
    fn(
        "measurements",
        "bucket start stop",
        "bucket",
        lambda interp, bucket, start=None, stop=None: _tag_values(
            interp, bucket, "_measurement", None, start, stop
        ),
    )
    fn(
        "measurementTagValues",
        "bucket measurement tag start stop",
        "bucket measurement tag",
        lambda interp, bucket, measurement, tag, start=None, stop=None: _tag_values(
            interp, bucket, tag, _measurement_predicate(interp, measurement), start, stop
        ),
    )
    fn(
        "measurementTagKeys",
        "bucket measurement start stop",
        "bucket measurement",
        lambda interp, bucket, measurement, start=None, stop=None: _tag_keys(
            interp, bucket, _measurement_predicate(interp, measurement), start, stop
        ),
    )
    fn(
        "measurementFieldKeys",
        "bucket measurement start stop",
        "bucket measurement",
        lambda interp, bucket, measurement, start=None, stop=None: _tag_values(
            interp, bucket, "_field", _measurement_predicate(interp, measurement), start, stop
        ),
    )
    package(path, "fieldsAsCols", "", "", "tables")(
        lambda interp, tables: pivot_.call(
            interp, {"rowKey": ["_time"], "columnKey": ["_field"], "valueColumn": "_value"}, tables
        )
    )


schema_functions("influxdata/influxdb/schema")
