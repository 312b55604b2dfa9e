"""A proxy write as a `proxy-writes` Kinesis record: zlib-compressed (Kinesis bills and carries bytes; line
protocol shrinks several times), a JSON header line (db, rp, precision and each line's measurement, in
order) then the lines themselves, byte for byte. A record holds at most 900 KB before compression, so
it stays under Kinesis's 1 MB: a larger write becomes several records (every line whole in one)."""

from __future__ import annotations

import json
import zlib

from chalicelib.kit.batching import parts_by_size
from chalicelib.proxy.fanout import WriteBatch

MAX_RECORD_BYTES = 900_000


def encode(batch: WriteBatch) -> list[bytes]:
    parts = parts_by_size(
        batch.lines, lambda pair: len(pair[1]) + len(pair[0].encode()) + 8, MAX_RECORD_BYTES
    )
    return [_record(batch, part) for part in parts]


def _record(batch: WriteBatch, part: list[tuple[str, bytes]]) -> bytes:
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
