"""How the series store names things in DynamoDB: partition keys, sort keys and time blocks.

Points are grouped in time blocks; a segment item holds the points of one measurement within one block
that arrived in one Kinesis record. Its sort key `<block>#<sequence>#<part>` orders segments by time
block, then by arrival, which is the order the newest-write-wins merge needs.
"""

from __future__ import annotations

import hashlib

from chalicelib.kit.time import HOUR

BLOCK_NS = HOUR
_BLOCK_BIAS = 1 << 32  # keeps block numbers of pre-1970 points positive, so they sort as text


def block_of(time_ns: int) -> int:
    return time_ns // BLOCK_NS


def block_start(block: int) -> int:
    return block * BLOCK_NS


def block_key(block: int) -> str:
    return f"{block + _BLOCK_BIAS:010x}"


def block_from_key(sort_key: str) -> int:
    return int(sort_key[:10], 16) - _BLOCK_BIAS


def sequence_key(sequence: str) -> str:
    """Kinesis sequence numbers are decimal strings of varying length; prefix the length so they
    sort numerically as text."""
    return f"{len(sequence):03d}{sequence}"


def segment_sort_key(block: int, sequence: str, part: int) -> str:
    return f"{block_key(block)}#{sequence_key(sequence)}#{part:04d}"


def compacted_sort_key(block: int, sequence_part: str, part: int) -> str:
    """The key of a compacted segment: right after the newest segment it merged (`c` sorts after the
    digits of part numbers), before any segment written later, so newest-write-wins still holds."""
    return f"{block_key(block)}#{sequence_part}#c{part:04d}"


def sequence_part(sort_key: str) -> str:
    """The (length-prefixed) sequence of a segment's sort key."""
    return sort_key.split("#", 2)[1]


def is_compacted(sort_key: str) -> bool:
    return sort_key.rsplit("#", 1)[1].startswith("c")


# DynamoDB keys stop at 1,024 bytes (sort) and 2,048 (partition); InfluxDB names reach 65,535. A name
# longer than this is written into keys as a prefix of it plus its SHA-256 (`bounded`).
MAX_NAME_BYTES = 900


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def bounded(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """`name` as it appears in a key: itself up to `limit` bytes, else a prefix of it, `#` and its
    SHA-256 in hex: 22 to 25 bytes more than `limit` (922 to 925 by default), so never equal to a
    name kept as is. Several names sharing one key (tag postings) each take a smaller `limit`."""
    data = name.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return name
    prefix = data[: limit - 40].decode("utf-8", "ignore")  # cut at a character boundary
    return f"{prefix}#{hashlib.sha256(data).hexdigest()}"


def is_digest(key_part: str) -> bool:
    """Whether a key part made by `bounded` stands for a longer name (kept in an attribute)."""
    return utf8_length(key_part) > MAX_NAME_BYTES


def chunk_partition(namespace: str, measurement: str) -> str:
    return f"{namespace}|{bounded(measurement)}"


def sort_key_range(tmin: int, tmax: int) -> tuple[str, str]:
    """Sort key bounds (inclusive) covering every segment that may hold points in [tmin, tmax]."""
    return block_key(block_of(tmin)), block_key(block_of(tmax)) + "~"
