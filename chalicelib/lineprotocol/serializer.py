"""InfluxDB line protocol serializer: escaping, canonical series keys and point formatting.

Escaping is minimal, as InfluxDB prints keys: a backslash is doubled only where the parser would
otherwise read it as an escape (before a character that part escapes, before another backslash, or at
the end), so `C:\\Windows` stays `C:\\Windows` in a series key while `parse(format_point(...))` still
gives back exactly the same point.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from chalicelib.kit.points import Point, UInt

__all__ = [
    "escape_key",
    "escape_measurement",
    "escape_string",
    "format_fields",
    "format_point",
    "format_points",
    "series_key",
]

_MEASUREMENT_SPECIAL = re.compile(r"[, ]|\\(?=[\\, ]|\Z)")
_KEY_SPECIAL = re.compile(r"[,= ]|\\(?=[\\,= ]|\Z)")
_NEEDS_MEASUREMENT = re.compile(r"[, \\]").search
_NEEDS_KEY = re.compile(r"[,= \\]").search


def _prefix(m: re.Match) -> str:
    return "\\" + m.group()


def escape_measurement(s: str) -> str:
    """Escape a measurement name: `,`, space, and a backslash where it would read as an escape."""
    return _MEASUREMENT_SPECIAL.sub(_prefix, s) if _NEEDS_MEASUREMENT(s) else s


def escape_key(s: str) -> str:
    """Escape a tag key, tag value or field key: `,`, `=`, space, and a backslash where needed."""
    return _KEY_SPECIAL.sub(_prefix, s) if _NEEDS_KEY(s) else s


def escape_string(s: str) -> str:
    """Escape a string field value (without its quotes): `"` and `\\`."""
    if "\\" in s:
        s = s.replace("\\", "\\\\")
    if '"' in s:
        s = s.replace('"', '\\"')
    return s


def _pairs(items) -> Iterable[tuple]:
    return items.items() if isinstance(items, Mapping) else items


def series_key(measurement: str, tags) -> str:
    """The canonical series key: escaped measurement, then `,key=value` for each tag sorted by key.
    `tags` is a mapping or an iterable of (key, value) pairs; tags with an empty value are left out
    (line protocol cannot carry them)."""
    pairs = sorted(kv for kv in _pairs(tags) if kv[1] != "")
    if not pairs:
        return escape_measurement(measurement)
    return escape_measurement(measurement) + "".join(f",{escape_key(k)}={escape_key(v)}" for k, v in pairs)


# Escaped field keys, reused across points (field keys repeat a lot); bounded.
_FIELD_KEYS: dict[str, str] = {}
_FIELD_KEYS_MAX = 10_000

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1


def _field_key(k: str) -> str:
    esc = _FIELD_KEYS.get(k)
    if esc is None:
        if not isinstance(k, str) or not k or "\n" in k:
            raise ValueError(f"invalid field key {k!r}")
        esc = escape_key(k)
        if len(_FIELD_KEYS) >= _FIELD_KEYS_MAX:
            _FIELD_KEYS.clear()
        _FIELD_KEYS[k] = esc
    return esc


def _value(v) -> str:
    kind = type(v)
    if kind is float:
        s = float.__repr__(v)
        if s[-1] in "fn":  # inf, -inf, nan
            raise ValueError(f"line protocol cannot carry the float {s}")
        return s
    if kind is int:
        if not _INT64_MIN <= v <= _INT64_MAX:
            raise ValueError(f"integer {v} out of the int64 range")
        return f"{v}i"
    if kind is str:
        return f'"{escape_string(v)}"'
    if kind is bool:
        return "true" if v else "false"
    if kind is UInt:
        if not 0 <= v <= _UINT64_MAX:
            raise ValueError(f"unsigned {int(v)} out of the uint64 range")
        return f"{int(v)}u"
    # subclasses (numpy scalars and the like are not accepted: convert them first)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, UInt):
        return _value(UInt(int(v)))
    if isinstance(v, int):
        return _value(int(v))
    if isinstance(v, float):
        return _value(float(v))
    if isinstance(v, str):
        return _value(str(v))
    raise TypeError(f"not a field value: {v!r}")


def format_fields(fields) -> str:
    """`key=value,...` for a mapping (or pairs) of field values: floats in their shortest round-trip
    form, ints with `i`, UInt with `u`, booleans `true`/`false`, strings quoted and escaped."""
    out = []
    for k, v in _pairs(fields):
        kind = type(v)
        if kind is float:
            s = float.__repr__(v)
            if s[-1] in "fn":
                raise ValueError(f"line protocol cannot carry the float {s} (field {k!r})")
        elif kind is int and _INT64_MIN <= v <= _INT64_MAX:
            s = f"{v}i"
        else:
            s = _value(v)
        out.append(f"{_FIELD_KEYS.get(k) or _field_key(k)}={s}")
    if not out:
        raise ValueError("a point needs at least one field")
    return ",".join(out)


def format_point(measurement: str, tags, fields, time: int | None = None) -> str:
    """One line of line protocol (no newline). `tags` and `fields` are mappings or (key, value) pairs;
    `time` is in nanoseconds (left out when None)."""
    if not measurement:
        raise ValueError("a point needs a measurement")
    if measurement[0] == "#":
        raise ValueError("a measurement cannot start with '#' in line protocol (the line is a comment)")
    key = series_key(measurement, tags)
    if "\n" in key:
        raise ValueError("a measurement, tag key or tag value cannot hold a newline in line protocol")
    line = f"{key} {format_fields(fields)}"
    return line if time is None else f"{line} {int(time)}"


def format_points(points: Iterable[Point]) -> str:
    """Points as line protocol, one a line, each ending with a newline (empty input: empty string).
    `Point.key` is used as the series key when set (it is canonical), else it is built."""
    lines = []
    for p in points:
        key = p.key or series_key(p.measurement, p.tags)
        if "\n" in key:
            raise ValueError("a measurement, tag key or tag value cannot hold a newline in line protocol")
        lines.append(f"{key} {format_fields(p.fields)} {p.time}")
    if not lines:
        return ""
    lines.append("")
    return "\n".join(lines)
