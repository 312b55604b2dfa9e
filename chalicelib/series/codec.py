"""The binary format of a segment: the columns of many series, compressed, readable series by series.

Layout (integers little-endian):

    version      u8       VERSION; a reader refuses any other
    header_len   u32      length of the compressed header
    header       zlib     see below
    blocks       zlib...  one after another, each independently compressed

    header:  u32 block count, then per block: u32 compressed length, u32 raw length
             u32 series count, then per series: u32 key length, key (UTF-8), i64 min time, i64 max time,
                 u32 point count, u32 block number, u32 offset and u32 length within the raw block

A block holds the payloads of one or more series: a large series gets a block of its own, small ones
share a block (per-block compression has a fixed cost and small series compress better together), so
decoding some series decompresses only the blocks holding them.

Series payload:

    u32 n (points), times as an integer sequence: u8 encoding, u8 width, u32 length, payload
    u32 column count, then per column:
        u32 name length, name (UTF-8), u8 type, u8 presence, [n x u8 mask (1: present) when MASK],
        u8 encoding, u8 width, i8 exponent, u32 payload length, payload

Only present (non-null) values are stored, m of them: m = n for a DENSE column, else the number of mask
bytes that are 1. Payloads by type:

    integer   DELTA: i64 first value, then m - 1 differences as signed integers of `width` bytes (the
              narrowest of 1, 2, 4, 8 holding them all); RAW (differences overflow 64 bits): m x i64
    unsigned  as integer, with the first value (DELTA) or all values (RAW) as u64
    float     DECIMAL: the values times 10**exponent, as an integer DELTA sequence (used only when it
              round-trips bit-exactly, e.g. values written with at most 6 decimals); RAW: m x f64
    boolean   m x u8
    string    m x u32 lengths in code points, then the concatenated UTF-8 (surrogates passed through)

Arrays of items wider than a byte are byte-shuffled (all first bytes, then all second bytes, ...) so the
slowly changing high bytes compress to runs. Timestamps are an integer sequence (DELTA in practice:
regular intervals compress to almost nothing).
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from collections.abc import Collection, Container, Iterable, Mapping
from itertools import accumulate, repeat
from operator import sub, truediv
from typing import NamedTuple

from chalicelib.kit.points import BOOLEAN, FLOAT, INTEGER, STRING, UNSIGNED, UInt
from chalicelib.series.columns import Column, SeriesColumns, compact

VERSION = 1
# Measured with scripts/bench/bench_codec.py: decoding runs at the same speed whatever the level; level 1
# gives ~9% more bytes, level 9 ~2% fewer bytes for 5x slower encoding.
ZLIB_LEVEL = 6
_BLOCK_TARGET = 64 * 1024  # raw bytes; small series are packed together up to this size
_MAX_EXPONENT = 6  # DECIMAL floats: up to 6 decimal digits

_TYPE_CODES = {FLOAT: 0, INTEGER: 1, UNSIGNED: 2, BOOLEAN: 3, STRING: 4}
_TYPE_NAMES = {code: name for name, code in _TYPE_CODES.items()}
_DENSE, _MASK = 0, 1
_RAW, _DELTA, _DECIMAL = 0, 1, 2

_U8 = struct.Struct("<B")
_U32 = struct.Struct("<I")
_U8U8 = struct.Struct("<BB")
_SEQUENCE = struct.Struct("<BBI")  # encoding, width, payload length
_COLUMN = struct.Struct("<BBbI")  # encoding, width, exponent, payload length
_WIDTHS = {1: "b", 2: "h", 4: "i", 8: "q"}  # signed array type codes by item size
_RANGES = {"q": (-(1 << 63), (1 << 63) - 1), "Q": (0, (1 << 64) - 1)}
_BLOCK = struct.Struct("<II")
_SERIES = struct.Struct("<qqIIII")
_BIG_ENDIAN = sys.byteorder == "big"
assert all(array(code).itemsize == width for width, code in _WIDTHS.items())


class SeriesSummary(NamedTuple):
    key: str
    min_time: int
    max_time: int
    count: int


class CorruptSegment(ValueError):
    """Segment data that cannot be decoded: corrupt, truncated or of an unknown version."""


# -- encoding ---------------------------------------------------------------------------------------


def encode_segment(series: Mapping[str, SeriesColumns]) -> bytes:
    """Encode the columns of series keyed by series key. Series without points are left out."""
    entries: list[tuple[bytes, int, int, int, int, int, int]] = []
    raw_blocks: list[bytearray] = []
    current = bytearray()
    for key, cols in series.items():
        if not cols.times:
            continue
        try:
            payload = _encode_series(cols)
        except (TypeError, OverflowError, ValueError, UnicodeEncodeError) as exc:
            raise ValueError(f"cannot encode series {key!r}: {exc}") from exc
        if current and len(current) + len(payload) > _BLOCK_TARGET:
            raw_blocks.append(current)
            current = bytearray()
        times = cols.times
        entries.append(
            (_utf8(key), times[0], times[-1], len(times), len(raw_blocks), len(current), len(payload))
        )
        current += payload
    if current:
        raw_blocks.append(current)
    blocks = [zlib.compress(raw, ZLIB_LEVEL) for raw in raw_blocks]
    header = bytearray(_U32.pack(len(blocks)))
    for raw, block in zip(raw_blocks, blocks, strict=True):
        header += _BLOCK.pack(len(block), len(raw))
    header += _U32.pack(len(entries))
    for key_bytes, *numbers in entries:
        header += _U32.pack(len(key_bytes))
        header += key_bytes
        header += _SERIES.pack(*numbers)
    packed_header = zlib.compress(header, ZLIB_LEVEL)
    return b"".join([_U8.pack(VERSION), _U32.pack(len(packed_header)), packed_header, *blocks])


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _encode_series(cols: SeriesColumns) -> bytearray:
    times = cols.times
    n = len(times)
    out = bytearray(_U32.pack(n))
    encoding, width, payload = _encode_sequence(times, "q", increasing=True)
    out += _SEQUENCE.pack(encoding, width, len(payload))
    out += payload
    out += _U32.pack(len(cols.fields))
    for name, column in cols.fields.items():
        values = column.values
        if len(values) != n:
            raise ValueError(f"field {name!r} has {len(values)} values for {n} times")
        type_code = _TYPE_CODES.get(column.type)
        if type_code is None:
            raise ValueError(f"field {name!r} has an unknown type {column.type!r}")
        name_bytes = _utf8(name)
        out += _U32.pack(len(name_bytes))
        out += name_bytes
        if values.count(None):
            out += _U8U8.pack(type_code, _MASK)
            out += bytes([v is not None for v in values])
            values = [v for v in values if v is not None]
        else:
            out += _U8U8.pack(type_code, _DENSE)
        encoding, width, exponent, payload = _ENCODERS[column.type](values)
        out += _COLUMN.pack(encoding, width, exponent, len(payload))
        out += payload
    return out


def _pack(typecode: str, values) -> bytes:
    packed = array(typecode, values)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def _shuffle(data: bytes, width: int) -> bytes:
    return b"".join([data[i::width] for i in range(width)]) if width > 1 else data


def _encode_sequence(values: list, typecode: str, increasing: bool = False) -> tuple[int, int, bytes]:
    """(encoding, width, payload) of integers of array type `typecode` ("q" or "Q"): DELTA, the first
    value then the differences in the narrowest signed width holding them all, or RAW when they do not
    fit in 64 bits."""
    if not values:
        return _RAW, 8, b""
    deltas = list(map(sub, values[1:], values[:-1]))
    low, high = (min(deltas), max(deltas)) if deltas else (0, 0)
    if increasing and deltas and low <= 0:
        raise ValueError("times are not ascending and unique")
    lowest, highest = (values[0], values[-1]) if increasing else (min(values), max(values))
    bottom, top = _RANGES[typecode]
    if lowest < bottom or highest > top:
        raise ValueError(f"{lowest if lowest < bottom else highest} is out of range")
    for width, delta_typecode in _WIDTHS.items():
        limit = 1 << (8 * width - 1)
        if -limit <= low and high < limit:
            return _DELTA, width, _pack(typecode, values[:1]) + _shuffle(_pack(delta_typecode, deltas), width)
    return _RAW, 8, _shuffle(_pack(typecode, values), 8)


def _encode_integers(values: list) -> tuple[int, int, int, bytes]:
    encoding, width, payload = _encode_sequence(values, "q")
    return encoding, width, 0, payload


def _encode_unsigned(values: list) -> tuple[int, int, int, bytes]:
    encoding, width, payload = _encode_sequence(values, "Q")
    return encoding, width, 0, payload


def _encode_floats(values: list) -> tuple[int, int, int, bytes]:
    raw = _pack("d", values)
    exponent = _decimal_exponent(values)
    if exponent is not None:
        scale = 10.0**exponent
        try:
            scaled = [round(v * scale) for v in values]
            if _pack("d", map(truediv, scaled, repeat(scale))) == raw:
                encoding, width, payload = _encode_sequence(scaled, "q")
                if encoding == _DELTA:
                    return _DECIMAL, width, exponent, payload
        except (OverflowError, ValueError):  # inf, nan, or too large for int64
            pass
    return _RAW, 8, 0, _shuffle(raw, 8)


def _decimal_exponent(values: list) -> int | None:
    """The fewest decimal digits that represent a sample of the values exactly, if any."""
    sample = values[:16]
    if not sample:
        return None
    raw = _pack("d", sample)
    for exponent in range(_fewest_decimals(sample), _MAX_EXPONENT + 1):
        scale = 10.0**exponent
        try:
            if _pack("d", [round(v * scale) / scale for v in sample]) == raw:
                return exponent
        except (OverflowError, ValueError):
            return None
    return None


def _fewest_decimals(sample: list) -> int:
    """Where the search for the exponent may start: a value needs at least the decimals of its shortest
    round-trip text (Python's repr), so fewer cannot represent it exactly."""
    most = 0
    for text in map(repr, sample):
        if text.endswith(".0"):
            continue
        point = text.find(".")
        if point < 0 or "e" in text:  # exponent notation, inf or nan: search from 0
            return 0
        most = max(most, len(text) - point - 1)
    return min(most, _MAX_EXPONENT + 1)


def _encode_booleans(values: list) -> tuple[int, int, int, bytes]:
    return _RAW, 1, 0, bytes(values)


def _encode_strings(values: list) -> tuple[int, int, int, bytes]:
    if not all(type(v) is str for v in values):
        raise TypeError("string field with a non-string value")
    return _RAW, 4, 0, _shuffle(_pack("I", map(len, values)), 4) + _utf8("".join(values))


_ENCODERS = {
    FLOAT: _encode_floats,
    INTEGER: _encode_integers,
    UNSIGNED: _encode_unsigned,
    BOOLEAN: _encode_booleans,
    STRING: _encode_strings,
}


# -- decoding ---------------------------------------------------------------------------------------


class _Header(NamedTuple):
    blocks: list[tuple[int, int, int]]  # (start in data, compressed length, raw length)
    series: list[tuple[str, int, int, int, int, int, int]]  # key, min, max, count, block, offset, len


def segment_index(data: bytes) -> list[SeriesSummary]:
    """The series of a segment with their time range and point count, from the header alone."""
    header = _read_header(data)
    return [SeriesSummary(key, lo, hi, count) for key, lo, hi, count, *_ in header.series]


def decode_segment(
    data: bytes, keys: Container[str] | None = None, fields: Collection[str] | None = None
) -> dict[str, SeriesColumns]:
    """The columns of the series of a segment, only those in `keys` unless None; blocks holding none of
    them are not decompressed. With `fields`, only those fields are decoded and times where all of them
    are null are left out (as columns.select_fields does); series left without points are omitted."""
    header = _read_header(data)
    result: dict[str, SeriesColumns] = {}
    raw_blocks: dict[int, memoryview] = {}
    for key, min_time, max_time, count, block, offset, length in header.series:
        if keys is not None and key not in keys:
            continue
        try:
            raw = raw_blocks.get(block)
            if raw is None:
                raw = raw_blocks[block] = _decompress_block(data, header.blocks[block], block)
            if offset + length > len(raw):
                raise CorruptSegment("it lies outside its block")
            cols = _decode_series(raw[offset : offset + length], fields)
            times = cols.times
            if len(times) != count or times[0] != min_time or times[-1] != max_time:
                raise CorruptSegment("its points do not match its header entry")
        except Exception as exc:  # struct.error, zlib.error, IndexError, UnicodeDecodeError, ...
            detail = str(exc) if isinstance(exc, CorruptSegment) else repr(exc)
            raise CorruptSegment(f"corrupt segment, series {key!r}: {detail}") from exc
        if fields is not None:
            cols = compact(cols)
            if not cols.times:
                continue
        result[key] = cols
    return result


def _inflate(data: bytes | memoryview, raw_length: int, what: str) -> bytes:
    inflater = zlib.decompressobj()
    raw = inflater.decompress(data, raw_length + 1)
    if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail or len(raw) != raw_length:
        raise CorruptSegment(f"{what} does not inflate to its recorded length")
    return raw


def _read_header(data: bytes) -> _Header:
    try:
        return _parse_header(data)
    except CorruptSegment:
        raise
    except Exception as exc:  # struct.error, UnicodeDecodeError, ...
        raise CorruptSegment(f"corrupt segment header: {exc!r}") from exc


def _parse_header(data: bytes) -> _Header:
    if not data:
        raise CorruptSegment("empty segment")
    if data[0] != VERSION:
        raise CorruptSegment(f"unknown segment version {data[0]} (this reader knows {VERSION})")
    (header_length,) = _U32.unpack_from(data, 1)
    start = 5 + header_length
    if start > len(data):
        raise CorruptSegment("truncated segment header")
    try:
        header = zlib.decompress(memoryview(data)[5:start])
    except zlib.error as exc:
        raise CorruptSegment(f"corrupt segment header: {exc}") from exc
    (block_count,) = _U32.unpack_from(header, 0)
    pos = 4
    blocks = []
    for compressed, raw_length in _BLOCK.iter_unpack(header[pos : pos + 8 * block_count]):
        blocks.append((start, compressed, raw_length))
        start += compressed
    pos += 8 * block_count
    if len(blocks) != block_count:
        raise CorruptSegment("truncated segment header")
    if start != len(data):
        raise CorruptSegment(f"segment is {len(data)} bytes, its header describes {start}")
    (series_count,) = _U32.unpack_from(header, pos)
    pos += 4
    series = []
    unpack_u32, unpack_series, series_size = _U32.unpack_from, _SERIES.unpack_from, _SERIES.size
    for _ in range(series_count):
        (key_length,) = unpack_u32(header, pos)
        pos += 4
        key = header[pos : pos + key_length].decode("utf-8", "surrogatepass")
        pos += key_length
        min_time, max_time, count, block, offset, length = unpack_series(header, pos)
        pos += series_size
        if block >= block_count or not count:
            raise CorruptSegment(f"corrupt segment header: bad entry for series {key!r}")
        series.append((key, min_time, max_time, count, block, offset, length))
    if pos != len(header):
        raise CorruptSegment("corrupt segment header: trailing bytes")
    return _Header(blocks, series)


def _decompress_block(data: bytes, block: tuple[int, int, int], number: int) -> memoryview:
    start, compressed, raw_length = block
    return memoryview(_inflate(memoryview(data)[start : start + compressed], raw_length, f"block {number}"))


def _unpack(typecode: str, data, count: int | None = None) -> array:
    values = array(typecode)
    values.frombytes(data)
    if count is not None and len(values) != count:
        raise CorruptSegment(f"expected {count} values, found {len(values)}")
    if _BIG_ENDIAN:
        values.byteswap()
    return values


def _unshuffle(data: memoryview, width: int) -> bytes | bytearray | memoryview:
    if width == 1:
        return data
    if len(data) % width:
        raise CorruptSegment("array length is not a multiple of its item size")
    n = len(data) // width
    out = bytearray(len(data))
    for i in range(width):
        out[i::width] = data[i * n : (i + 1) * n]
    return out


def _decode_sequence(payload: memoryview, count: int, encoding: int, width: int, typecode: str) -> list:
    if encoding == _DELTA:
        return list(_delta_values(payload, count, width, typecode))
    if encoding == _RAW:
        return _unpack(typecode, _unshuffle(payload, 8), count).tolist()
    raise CorruptSegment(f"unknown integer encoding {encoding}")


def _delta_values(payload: memoryview, count: int, width: int, typecode: str) -> Iterable[int]:
    """The values of a DELTA sequence, lazily (callers build the one list they need from it)."""
    delta_typecode = _WIDTHS.get(width)
    if delta_typecode is None or count < 1:
        raise CorruptSegment(f"bad delta sequence (width {width}, {count} values)")
    (first,) = _unpack(typecode, payload[:8], 1)
    deltas = payload[8:]
    step = _constant_delta(deltas, width, count - 1)
    if step is not None:  # regular intervals (most timestamps): no per-value work in Python
        return repeat(first, count) if step == 0 else range(first, first + step * count, step)
    return accumulate(_unpack(delta_typecode, _unshuffle(deltas, width), count - 1), initial=first)


def _constant_delta(shuffled: memoryview, width: int, count: int) -> int | None:
    """The difference when all `count` shuffled differences are equal: each byte plane is one byte
    repeated."""
    if count < 2 or len(shuffled) != width * count:
        return None
    step = bytearray(width)
    for i in range(width):  # the low byte plane comes first and tells varying values at once
        plane = bytes(shuffled[i * count : (i + 1) * count])
        step[i] = first = plane[0]
        if plane.count(first) != count:
            return None
    return int.from_bytes(step, "little", signed=True)


def _decode_series(raw: memoryview, fields: Collection[str] | None) -> SeriesColumns:
    (n,) = _U32.unpack_from(raw, 0)
    encoding, width, length = _SEQUENCE.unpack_from(raw, 4)
    pos = 4 + _SEQUENCE.size
    times = _decode_sequence(raw[pos : pos + length], n, encoding, width, "q")
    pos += length
    (column_count,) = _U32.unpack_from(raw, pos)
    pos += 4
    columns: dict[str, Column] = {}
    for _ in range(column_count):
        (name_length,) = _U32.unpack_from(raw, pos)
        pos += 4
        name = bytes(raw[pos : pos + name_length]).decode("utf-8", "surrogatepass")
        pos += name_length
        type_code, presence = _U8U8.unpack_from(raw, pos)
        pos += 2
        type_name = _TYPE_NAMES.get(type_code)
        if type_name is None:
            raise CorruptSegment(f"field {name!r} has an unknown type code {type_code}")
        mask = None
        if presence == _MASK:
            mask = raw[pos : pos + n]
            pos += n
            present = n - bytes(mask).count(0)
        elif presence == _DENSE:
            present = n
        else:
            raise CorruptSegment(f"field {name!r} has an unknown presence code {presence}")
        encoding, width, exponent, payload_length = _COLUMN.unpack_from(raw, pos)
        pos += _COLUMN.size
        payload = raw[pos : pos + payload_length]
        if len(payload) != payload_length:
            raise CorruptSegment(f"field {name!r} is truncated")
        pos += payload_length
        if fields is not None and name not in fields:
            continue
        values = _DECODERS[type_name](payload, present, encoding, width, exponent)
        if len(values) != present:
            raise CorruptSegment(f"field {name!r} holds {len(values)} values, expected {present}")
        if mask is not None:
            take = iter(values).__next__
            values = [take() if bit else None for bit in mask]
        columns[name] = Column(type_name, values)
    if pos != len(raw):
        raise CorruptSegment("trailing bytes after a series")
    return SeriesColumns(times, columns)


def _decode_integers(payload: memoryview, count: int, encoding: int, width: int, _exponent: int) -> list:
    return _decode_sequence(payload, count, encoding, width, "q")


def _decode_unsigned(payload: memoryview, count: int, encoding: int, width: int, _exponent: int) -> list:
    values = _decode_sequence(payload, count, encoding, width, "Q")
    if values and (min(values) < 0 or max(values) > 0xFFFF_FFFF_FFFF_FFFF):
        raise CorruptSegment("unsigned value out of range")
    distinct = set(values)
    if len(distinct) * 2 > len(values):
        return list(map(UInt, values))
    # Slowly changing values repeat: share one UInt per value (UInt objects are costly to make).
    shared = {value: UInt(value) for value in distinct}
    return list(map(shared.__getitem__, values))


def _decode_floats(payload: memoryview, count: int, encoding: int, width: int, exponent: int) -> list:
    if encoding == _RAW:
        return _unpack("d", _unshuffle(payload, 8), count).tolist()
    if encoding == _DECIMAL:
        scaled = _delta_values(payload, count, width, "q")
        if exponent == 0:
            return list(map(float, scaled))
        return list(map(truediv, scaled, repeat(10.0**exponent)))
    raise CorruptSegment(f"unknown float encoding {encoding}")


def _decode_booleans(payload: memoryview, count: int, encoding: int, _width: int, _exponent: int) -> list:
    if encoding != _RAW:
        raise CorruptSegment(f"unknown boolean encoding {encoding}")
    return list(map(bool, payload))


def _decode_strings(payload: memoryview, count: int, encoding: int, _width: int, _exponent: int) -> list:
    if encoding != _RAW:
        raise CorruptSegment(f"unknown string encoding {encoding}")
    lengths = _unpack("I", _unshuffle(payload[: 4 * count], 4), count)
    text = bytes(payload[4 * count :]).decode("utf-8", "surrogatepass")
    ends = list(accumulate(lengths))
    if ends and ends[-1] != len(text):
        raise CorruptSegment("string lengths do not match the text")
    return list(map(text.__getitem__, map(slice, [0, *ends[:-1]], ends)))


_DECODERS = {
    FLOAT: _decode_floats,
    INTEGER: _decode_integers,
    UNSIGNED: _decode_unsigned,
    BOOLEAN: _decode_booleans,
    STRING: _decode_strings,
}
