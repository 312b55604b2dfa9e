"""A proxy write as a `proxy-writes` Kinesis record: zlib-compressed (Kinesis bills and carries bytes; line
protocol shrinks several times), a JSON header line (db, rp, precision and each line's measurement, in
order) then the lines themselves, byte for byte. A record holds at most 900 KB before compression, so
it stays under Kinesis's 1 MB: a larger write becomes several records (every line whole in one)."""

from __future__ import annotations

import json
import zlib

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
    raw = json.dumps(header, separators=(",", ":")).encode() + b"\n" + b"\n".join(line for _, line in part)
    return zlib.compress(raw, 1)


def decode(data: bytes) -> WriteBatch:
    """Raises ValueError for what this module did not write."""
    try:
        data = zlib.decompress(data)
    except zlib.error as exc:
        raise ValueError(f"not a proxy write record: {exc}") from None
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
