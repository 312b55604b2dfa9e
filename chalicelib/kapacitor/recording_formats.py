"""Kapacitor's recording files, read and written as Kapacitor does (replay.go, edge/messages.go).

- A stream recording (`.srpl`) is gzip over, per point, three lines: database, retention policy, and
  the point in line protocol with nanosecond timestamps (a point at Go's zero time has none). Fields and
  tags are sorted by key, floats written without an exponent, as InfluxDB's models.Point writes them.
- A batch recording (`.brpl`) is a zip archive with one entry per batch query of the task, named "0",
  "1", ...; each holds one JSON batch a line: name, tmax, group, byname, tags, points (fields, tags,
  time), with encoding/json's omissions and number and string formats.

Reading follows Kapacitor's readers: JSON numbers of a batch become floats (its fields are
interface{} values), a batch without points is skipped, and what json.Unmarshal would refuse inside a
batch is dropped rather than failing (Kapacitor ignores that error), up to a bad time, which ends it."""

from __future__ import annotations

import gzip
import io
import json
import math
import struct
import zipfile
import zlib
from collections.abc import Iterable
from typing import Any

from chalicelib.alert.handler_json import go_json
from chalicelib.kit.errors import invalid
from chalicelib.kit.gofloat import format_float
from chalicelib.kit.gojson import go_json_error
from chalicelib.kit.gotime import GoTimeError, unmarshal_json_time
from chalicelib.kit.points import UInt
from chalicelib.kit.time import format_rfc3339nano
from chalicelib.lineprotocol.parser import UNBALANCED_QUOTES, LineProtocolError, parse
from chalicelib.lineprotocol.serializer import escape_key, escape_string, series_key
from chalicelib.tick.exec.model import GO_ZERO_TIME, Batch, BatchPoint, Point

# (database, retention policy, point): what one entry of a stream recording says.
StreamPoint = tuple[str, str, Point]

EXPECTED_LINE = "invalid replay file format, expected another line"
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1

# --- stream recordings (.srpl) -----------------------------------------------------------------------


def encode_stream(points: Iterable[Point]) -> bytes:
    """The .srpl bytes of `points`, in their order. A point line protocol cannot carry (no fields, a
    newline in a name, a float that is not finite) raises INVALID: Kapacitor would write a file it
    cannot read back."""
    text = "".join(
        f"{_name_line(p.database)}\n{_name_line(p.retention_policy)}\n{_line(p)}\n" for p in points
    )
    return _gzip(text.encode("utf-8", "replace"))


# Go's gzip.Writer header at its default level: no name, no time, no extra flags, OS "unknown".
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def _gzip(data: bytes) -> bytes:
    deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflate.compress(data) + deflate.flush()
    return _GZIP_HEADER + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def _name_line(name: str) -> str:
    if "\n" in name or "\r" in name:
        raise invalid(f"cannot record a point of database or retention policy {name!r}: it holds a newline")
    return name


def _line(p: Point) -> str:
    """models.Point's text: key (tags sorted, empty values left out), fields sorted, time in ns."""
    if not p.name or p.name[0] == "#":
        raise invalid(f"cannot record a point of measurement {p.name!r} in line protocol")
    key = series_key(p.name, p.tags)
    if "\n" in key or any(not k for k, v in p.tags.items() if v):
        raise invalid(f"cannot record the series {key!r} in line protocol")
    fields = []
    for name in sorted(p.fields):
        if not name or "\n" in name:
            raise invalid(f"cannot record the field {name!r} in line protocol")
        fields.append(f"{escape_key(name)}={_field_value(p.fields[name])}")
    if not fields:
        raise invalid(f"cannot record a point of {key!r} without fields")
    line = f"{key} {','.join(fields)}"
    return line if p.time == GO_ZERO_TIME else f"{line} {p.time}"


def _field_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, UInt):
        if not 0 <= value <= _UINT64_MAX:
            raise invalid(f"cannot record the unsigned {int(value)}: out of range")
        return f"{int(value)}u"
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise invalid(f"cannot record the integer {value}: out of range")
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise invalid(f"cannot record the float {format_float(value)} in line protocol")
        return format_float(value)  # strconv.AppendFloat(v, 'f', -1, 64)
    if isinstance(value, str):
        return f'"{escape_string(value)}"'
    raise invalid(f"cannot record the field value {value!r}")


def decode_stream(data: bytes) -> list[Point]:
    """The points of a .srpl file. Empty bytes are an empty recording (Kapacitor's gzip never writes
    none). A broken file raises INVALID with Kapacitor's message."""
    if not data:
        return []
    lines = _lines(_gunzip(data))
    if len(lines) % 3 == 0:
        fast = _decode_aligned(lines)
        if fast is not None:
            return fast
    return _decode_sequential(lines)


def _gunzip(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except EOFError:
        raise invalid("read replay file failed: unexpected EOF") from None
    except gzip.BadGzipFile as err:
        if str(err).startswith("Not a gzipped file"):
            raise invalid("gzip: invalid header") from None
        raise invalid("read replay file failed: gzip: invalid checksum") from None
    except (OSError, zlib.error):
        raise invalid("read replay file failed: flate: corrupt input") from None


def _lines(raw: bytes) -> list[bytes]:
    """bufio.ScanLines: split at newlines, a trailing carriage return dropped, no empty last line."""
    lines = raw.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _decode_aligned(lines: list[bytes]) -> list[Point] | None:
    """Every third line parsed at once; None unless each gave exactly one point (a string field that
    spans lines makes a count or a parse go wrong, and the line by line reader takes over)."""
    try:
        parsed = parse(b"\n".join(lines[2::3]), "ns", now=GO_ZERO_TIME)
    except LineProtocolError:
        return None
    if len(parsed) * 3 != len(lines):
        return None
    return [_point(lines[3 * i], lines[3 * i + 1], p) for i, p in enumerate(parsed)]


def _decode_sequential(lines: list[bytes]) -> list[Point]:
    """readPointsFromIO, line by line; a string field holding a newline (which Kapacitor writes as is)
    is read across the lines it spans."""
    points = []
    i, count = 0, len(lines)
    while i < count:
        if i + 2 >= count:
            raise invalid(EXPECTED_LINE)
        db, rp, text = lines[i], lines[i + 1], lines[i + 2]
        i += 3
        while True:
            try:
                parsed = parse(text, "ns", now=GO_ZERO_TIME)
                break
            except LineProtocolError as err:
                if err.reason != UNBALANCED_QUOTES or i >= count:
                    raise invalid(str(err)) from None
                text += b"\n" + lines[i]
                i += 1
        if not parsed:  # a blank or comment line: Kapacitor fails on it too (it indexes the first point)
            raise invalid("invalid replay file format, expected a point")
        points.append(_point(db, rp, parsed[0]))
    return points


def _point(db: bytes, rp: bytes, p: Any) -> Point:
    return Point(
        p.measurement,
        p.time,
        p.fields,
        dict(p.tags),
        db.decode("utf-8", "replace"),
        rp.decode("utf-8", "replace"),
    )


# --- batch recordings (.brpl) ------------------------------------------------------------------------


def encode_batches(queries: list[list[Batch]]) -> bytes:
    """The .brpl bytes: entry "<i>" holds the batches of query i, one JSON line each."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for index, batches in enumerate(queries):
            text = "".join(go_json(_batch_json(b), newline=True) for b in batches)
            archive.writestr(
                zipfile.ZipInfo(str(index)), text.encode("utf-8", "replace"), zipfile.ZIP_DEFLATED
            )
    return out.getvalue()


def _batch_json(b: Batch) -> dict[str, Any]:
    """bufferedBatchMessageJSON: empty name, group, byname, tags and points left out (`omitempty`);
    tmax always (a struct). A point's tags are null when it has none, as a query's untagged series."""
    doc: dict[str, Any] = {}
    if b.name:
        doc["name"] = b.name
    doc["tmax"] = format_rfc3339nano(b.tmax)
    if b.group:
        doc["group"] = b.group
    if b.by_name:
        doc["byname"] = True
    if b.tags:
        doc["tags"] = _sorted(b.tags)
    if b.points:
        doc["points"] = [
            {"fields": _sorted(p.fields), "tags": _sorted(p.tags) or None, "time": format_rfc3339nano(p.time)}
            for p in b.points
        ]
    return doc


def _sorted(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: mapping[key] for key in sorted(mapping)}  # encoding/json sorts map keys


def decode_batches(data: bytes) -> list[list[Batch]]:
    """The batches of a .brpl file, per query, in the archive's order; INVALID for a broken file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise invalid("zip: not a valid zip file") from None
    files = []
    with archive:
        for info in archive.infolist():
            try:
                raw = archive.read(info)
            except NotImplementedError:
                raise invalid("zip: unsupported compression algorithm") from None
            except zipfile.BadZipFile as err:
                message = "zip: checksum error" if "CRC" in str(err) else "zip: not a valid zip file"
                raise invalid(message) from None
            except (OSError, EOFError, zlib.error):
                raise invalid("flate: corrupt input") from None
            files.append(_decode_entry(raw))
    return files


class _Object(list):
    """A JSON object as its (key, value) pairs, in order, as Go's decoder walks it."""


class _Syntax(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON to Go.
    if name.startswith("-"):
        raise _Syntax(f"invalid character {name[1]!r} in numeric literal")
    raise _Syntax(f"invalid character {name[0]!r} looking for beginning of value")


# Every number a float: models.Fields is map[string]interface{}.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_Object, parse_int=float, parse_float=float, parse_constant=_refuse_constant
)
_JSON_SPACE = " \t\r\n"


def _decode_entry(raw: bytes) -> list[Batch]:
    """readBatchFromIO: json.Decoder values while More(); batches without points skipped."""
    text = raw.decode("utf-8", "replace")
    batches = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _JSON_SPACE:
            pos += 1
        if pos >= end or text[pos] in "]}":
            return batches
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except _Syntax as err:
            raise invalid(str(err)) from None
        except (json.JSONDecodeError, RecursionError):
            problem = go_json_error(text[pos:].encode(), stream=True)
            raise invalid(problem or "unexpected EOF") from None
        batch = _batch(value)
        if batch is not None and batch.points:
            batches.append(batch)


class _Stop(Exception):
    """json.Unmarshal stopped at a bad time; what it decoded before stays."""


_BATCH_KEYS = ("name", "tmax", "group", "byname", "tags", "points")
_POINT_KEYS = ("fields", "tags", "time")


def _batch(value: Any) -> Batch | None:
    """bufferedBatchMessage.UnmarshalJSON, which ignores json.Unmarshal's error."""
    if not isinstance(value, _Object):
        return None
    state: dict[str, Any] = {"name": "", "tmax": GO_ZERO_TIME, "byname": False, "tags": None, "points": []}
    try:
        for key, item in value:
            name = _key(key, _BATCH_KEYS)
            if name == "name" and isinstance(item, str):
                state["name"] = item
            elif name == "tmax":
                state["tmax"] = _time(item, state["tmax"])
            elif name == "byname" and isinstance(item, bool):
                state["byname"] = item
            elif name == "tags":
                state["tags"] = _tags(item, state["tags"])
            elif name == "points" and (item is None or isinstance(item, list)):
                state["points"] = []
                for element in item or ():
                    point = {"fields": {}, "tags": None, "time": GO_ZERO_TIME}
                    state["points"].append(point)
                    _point_fields(element, point)
    except _Stop:
        pass
    tags = state["tags"] or {}
    points = [BatchPoint(p["time"], p["fields"], dict(p["tags"] or tags)) for p in state["points"]]
    return Batch(state["name"], state["tmax"], dict(tags), points, state["byname"])


def _point_fields(element: Any, point: dict[str, Any]) -> None:
    if not isinstance(element, _Object):
        return  # Go leaves the element zero
    for key, item in element:
        name = _key(key, _POINT_KEYS)
        if name == "fields" and isinstance(item, _Object):
            for field, field_value in item:
                # Go keeps null, arrays and objects (and nil for an overflowing number); a point
                # here holds scalars only.
                if isinstance(field_value, str | bool) or (
                    isinstance(field_value, float) and math.isfinite(field_value)
                ):
                    point["fields"][field] = field_value
                else:
                    point["fields"].pop(field, None)
        elif name == "fields" and item is None:
            point["fields"] = {}
        elif name == "tags":
            point["tags"] = _tags(item, point["tags"])
        elif name == "time":
            point["time"] = _time(item, point["time"])


def _key(key: str, names: tuple[str, ...]) -> str | None:
    """encoding/json's field match: exact, else ignoring case."""
    if key in names:
        return key
    return next((n for n in names if n.casefold() == key.casefold()), None)


def _time(item: Any, current: int) -> int:
    try:
        parsed = unmarshal_json_time(item)
    except GoTimeError:
        raise _Stop from None
    return current if parsed is None else parsed


def _tags(item: Any, current: dict[str, str] | None) -> dict[str, str] | None:
    """map[string]string: null empties it; a value of another type becomes "" (Go stores the zero)."""
    if item is None:
        return None
    if not isinstance(item, _Object):
        return current
    tags = current if current is not None else {}
    for key, value in item:
        tags[key] = value if isinstance(value, str) else ""
    return tags
