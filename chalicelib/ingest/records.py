"""The envelope of points on the `points` Kinesis stream.

A record carries the points of one namespace and measurement (its partition key), grouped by series,
as zlib-compressed JSON. JSON keeps both ends fast (orjson) and zlib keeps records small
(Kinesis bills per 25 KB); unsigned fields are flagged since JSON has one integer type.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter, methodcaller

import orjson

from chalicelib.kit.batching import parts_by_size
from chalicelib.kit.points import Point, UInt

VERSION = 1
MAX_RECORD_BYTES = 1_000_000  # Kinesis allows 1 MiB of data + partition key per record
_TARGET_RAW_BYTES = 2_000_000  # uncompressed size we aim for before compressing a record
_MAX_PARTITION_KEY = 256
_values = methodcaller("values")


class RecordError(ValueError):
    """A record that can never be processed (corrupt or of an unknown version)."""


@dataclass(frozen=True, slots=True)
class Destination:
    """Where points go: the storage namespace (None: not stored, only streamed, e.g. Kapacitor writes),
    the v1 names the stream consumers (Kapacitor tasks, subscriptions) match on, and the organization
    whose tasks may see them."""

    namespace: str | None
    database: str
    retention_policy: str
    org: str | None = None


@dataclass(slots=True)
class SeriesRows:
    key: str
    measurement: str
    tags: tuple[tuple[str, str], ...]
    rows: list[tuple[int, dict]]


@dataclass(slots=True)
class PointBatch:
    destination: Destination
    series: list[SeriesRows]


def partition_key(destination: Destination, measurement: str) -> str:
    key = f"{destination.namespace or ''}|{destination.database}|{destination.retention_policy}|{measurement}"
    if len(key) > _MAX_PARTITION_KEY:
        key = hashlib.sha256(key.encode()).hexdigest()
    return key


def encode(destination: Destination, points: Iterable[Point]) -> list[tuple[str, bytes]]:
    """Points -> [(partition key, record data)], one or more records per measurement, in input order
    within each measurement so later duplicates stay later. Records hold at most MAX_RECORD_BYTES
    except one of a single point larger than that."""
    by_measurement: dict[str, dict[str, SeriesRows]] = {}
    for point in points:
        series_map = by_measurement.setdefault(point.measurement, {})
        series = series_map.get(point.key)
        if series is None:
            series = series_map[point.key] = SeriesRows(point.key, point.measurement, point.tags, [])
        series.rows.append((point.time, point.fields))
    records: list[tuple[str, bytes]] = []
    for measurement, series_map in by_measurement.items():
        key = partition_key(destination, measurement)
        for chunk in _chunks(list(series_map.values())):
            records.extend((key, data) for data in _compress(destination, chunk))
    return records


def _chunks(series: list[SeriesRows]) -> Iterator[list[SeriesRows]]:
    """Split series lists so each chunk is about _TARGET_RAW_BYTES of JSON (rows estimated)."""
    return parts_by_size(series, _estimate, _TARGET_RAW_BYTES)


def _estimate(s: SeriesRows) -> int:
    return len(s.key) + 40 * len(s.rows) + 30 * sum(map(len, map(itemgetter(1), s.rows)))


def _compress(destination: Destination, series: list[SeriesRows]) -> list[bytes]:
    body = {
        "v": VERSION,
        "ns": destination.namespace,
        "db": destination.database,
        "rp": destination.retention_policy,
        "org": destination.org,
        "s": [[s.key, s.measurement, s.tags, _typed_rows(s.rows)] for s in series],
    }
    data = zlib.compress(orjson.dumps(body), 6)
    if len(data) <= MAX_RECORD_BYTES:
        return [data]
    if len(series) > 1:
        half = len(series) // 2
        return _compress(destination, series[:half]) + _compress(destination, series[half:])
    rows = series[0].rows
    if len(rows) < 2:
        return [data]  # one point larger than a record: the publisher sends it by claim check
    head = SeriesRows(series[0].key, series[0].measurement, series[0].tags, rows[: len(rows) // 2])
    tail = SeriesRows(series[0].key, series[0].measurement, series[0].tags, rows[len(rows) // 2 :])
    return _compress(destination, [head]) + _compress(destination, [tail])


def _typed_rows(rows: list[tuple[int, dict]]) -> list:
    # Rows are [time, fields] or, when a row has unsigned fields, [time, fields, [names of uints]].
    # Looking for unsigned values in C first spares the per-row loop when there are none (usual).
    if UInt not in set(map(type, chain.from_iterable(map(_values, map(itemgetter(1), rows))))):
        return rows  # (time, fields) tuples: JSON arrays
    out = []
    for time, fields in rows:
        uints = [name for name, value in fields.items() if type(value) is UInt]
        out.append([time, fields, uints] if uints else [time, fields])
    return out


def decode(data: bytes) -> PointBatch:
    try:
        body = orjson.loads(zlib.decompress(data))
    except (zlib.error, ValueError) as exc:  # orjson.JSONDecodeError is a ValueError
        raise RecordError(f"undecodable points record: {exc}") from exc
    version = body.get("v") if isinstance(body, dict) else None
    if version != VERSION:
        raise RecordError(f"unknown points record version: {version!r}")
    try:
        destination = Destination(body["ns"], body["db"], body["rp"], body.get("org"))
        series = []
        for key, measurement, tags, rows in body["s"]:
            if set(map(len, rows)) == {2}:  # no unsigned field: no per-row work in Python
                decoded_rows = list(map(tuple, rows))
            else:
                decoded_rows = []
                for row in rows:
                    fields = row[1]
                    if len(row) > 2:
                        for name in row[2]:
                            fields[name] = UInt(fields[name])
                    decoded_rows.append((row[0], fields))
            series.append(SeriesRows(key, measurement, tuple(tuple(t) for t in tags), decoded_rows))
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(f"malformed points record: {exc!r}") from exc
    return PointBatch(destination, series)
