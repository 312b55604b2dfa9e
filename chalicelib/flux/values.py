"""Flux values in Python: ints, UInt, floats, strings, bools and None (null) as themselves; `Time`,
`Duration`, compiled regular expressions, dicts (records), lists (arrays), functions and table streams
(whose class names its Flux type as `flux_type`, so that this module needs no other).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.kit.gofloat import format_float
from chalicelib.kit.points import UInt
from chalicelib.kit.time import format_rfc3339nano as format_time

NS_PER_UNIT = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 604_800_000_000_000,
}
MONTHS_PER_UNIT = {"mo": 1, "y": 12}

MIN_NS = -9223372036854775806
MAX_NS = 9223372036854775806


class FluxError(TicklessError):
    """A runtime error of a Flux program (a user error: `invalid`)."""

    def __init__(self, message: str) -> None:
        super().__init__(INVALID, message)


# Python errors a transformation can raise on an unchecked type mix or a bug; they are still the
# query's error (`runtime error: ...`), never a 500.
RUNTIME_ERRORS = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    ZeroDivisionError,
    RecursionError,
    OverflowError,
)


@dataclass(frozen=True, order=True, slots=True)
class Time:
    ns: int

    def __str__(self) -> str:
        return format_time(self.ns)


@dataclass(frozen=True, slots=True)
class Duration:
    months: int = 0
    ns: int = 0

    def __neg__(self) -> Duration:
        return Duration(-self.months, -self.ns)

    def __str__(self) -> str:
        return format_duration(self)

    @property
    def is_zero(self) -> bool:
        return self.months == 0 and self.ns == 0

    def approx_ns(self) -> int:
        return self.months * 30 * NS_PER_UNIT["d"] + self.ns


def duration_of(parts: list[tuple[int, str]]) -> Duration:
    months = ns = 0
    for magnitude, unit in parts:
        if unit in MONTHS_PER_UNIT:
            months += magnitude * MONTHS_PER_UNIT[unit]
        elif unit in NS_PER_UNIT:
            ns += magnitude * NS_PER_UNIT[unit]
        else:
            raise FluxError(f"invalid duration unit {unit!r}")
    return Duration(months, ns)


def format_duration(d: Duration) -> str:
    if d.is_zero:
        return "0s"
    sign = "-" if (d.months < 0 or d.ns < 0) else ""
    months, ns = abs(d.months), abs(d.ns)
    out = []
    if months:
        y, mo = divmod(months, 12)
        out += [f"{y}y"] if y else []
        out += [f"{mo}mo"] if mo else []
    for unit in ("w", "d", "h", "m", "s", "ms", "us", "ns"):
        size = NS_PER_UNIT[unit]
        if ns >= size:
            out.append(f"{ns // size}{unit}")
            ns %= size
    return sign + "".join(out)


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})?)?$"
)


def parse_time(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time (or a bare date, midnight UTC)."""
    m = _RFC3339.match(text.strip())
    if not m:
        raise FluxError(f"invalid time {text!r}: expected RFC3339")
    year, month, day, hh, mm, ss, frac, zone = m.groups()
    try:
        seconds = calendar.timegm((int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0)))
        datetime(int(year), int(month), int(day))  # validates the day
    except ValueError as exc:
        raise FluxError(f"invalid time {text!r}: {exc}") from exc
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    ns = int((frac or "").ljust(9, "0")) if frac else 0
    return seconds * 1_000_000_000 + ns


def add_duration(ns: int, d: Duration, scale: int = 1) -> int:
    """`ns + scale * d`, months in calendar arithmetic (day clamped to the month's length)."""
    months = d.months * scale
    if months:
        seconds, frac = divmod(ns, 1_000_000_000)
        t = datetime.fromtimestamp(seconds, UTC)
        total = t.year * 12 + (t.month - 1) + months
        year, month = divmod(total, 12)
        day = min(t.day, calendar.monthrange(year, month + 1)[1])
        t = t.replace(year=year, month=month + 1, day=day)
        ns = calendar.timegm(t.timetuple()) * 1_000_000_000 + frac
    return ns + d.ns * scale


def epoch_month(ns: int) -> int:
    """The month of a time, counted from January 1970 (0), in UTC."""
    t = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
    return (t.year - 1970) * 12 + t.month - 1


def type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, UInt):
        return "uint"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, Time):
        return "time"
    if isinstance(v, Duration):
        return "duration"
    if isinstance(v, re.Pattern):
        return "regexp"
    if isinstance(v, dict):
        return "record"
    if isinstance(v, list):
        return "array"
    flux_type = getattr(type(v), "flux_type", None)  # a kind of value defined elsewhere (`tables.Stream`)
    if flux_type is not None:
        return flux_type
    if callable(v) or hasattr(v, "call"):
        return "function"
    return type(v).__name__


def to_string(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return format_float(v)
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, re.Pattern):
        return v.pattern
    return str(v)


def compile_regex(pattern: str) -> re.Pattern:
    """A Go RE2 pattern as a Python pattern (the syntaxes agree on what queries use)."""
    try:
        return re.compile(pattern.replace("(?P<", "(?P<").replace("\\z", "\\Z"))
    except re.error as exc:
        raise FluxError(f"invalid regular expression {pattern!r}: {exc}") from exc
