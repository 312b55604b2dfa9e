"""A proxy write as a `proxy-writes` Kinesis record: a JSON header line (db, rp, precision and each
line's measurement, in order) then the lines themselves, byte for byte. Records stay under Kinesis's
1 MB: a larger write becomes several records (every line is whole in one of them)."""

from __future__ import annotations

import json

from chalicelib.proxy.fanout import WriteBatch

MAX_RECORD_BYTES = 900_000


def encode(batch: WriteBatch) -> list[bytes]:
    records: list[bytes] = []
    start, size = 0, 0
    for i, (measurement, line) in enumerate(batch.lines):
        grown = size + len(line) + len(measurement.encode()) + 8
        if i > start and grown > MAX_RECORD_BYTES:
            records.append(_record(batch, start, i))
            start, grown = i, len(line) + len(measurement.encode()) + 8
        size = grown
    if start < len(batch.lines):
        records.append(_record(batch, start, len(batch.lines)))
    return records


def _record(batch: WriteBatch, start: int, stop: int) -> bytes:
    part = batch.lines[start:stop]
    header = {"db": batch.db, "rp": batch.rp, "precision": batch.precision, "m": [m for m, _ in part]}
    # json, not orjson: a measurement of bytes that are not UTF-8 is carried as surrogate escapes
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + b"\n".join(line for _, line in part)


def decode(data: bytes) -> WriteBatch:
    """Raises ValueError for what this module did not write."""
    head, _, body = data.partition(b"\n")
    try:
        header = json.loads(head)
        measurements = header["m"]
        lines = body.split(b"\n") if measurements else []
        if not isinstance(measurements, list) or len(lines) != len(measurements):
            raise ValueError("lines and measurements differ in number")
        return WriteBatch(
            str(header["db"]),
            str(header["rp"]),
            str(header["precision"]),
            list(zip(measurements, lines, strict=True)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a proxy write record: {exc}") from None
