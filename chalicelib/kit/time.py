"""Time as InfluxDB counts it: nanoseconds since the epoch within int64 (its two extremes excluded),
the precision and epoch names its APIs take, and RFC 3339 text as Go writes it."""

from __future__ import annotations

import time

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

# InfluxDB's time range (models.MinNanoTime / MaxNanoTime): int64 without its two extremes.
MIN_TIME = -9223372036854775806
MAX_TIME = 9223372036854775806

# Nanoseconds per unit, by the unit's canonical name.
NS_PER_UNIT: dict[str, int] = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": SECOND, "m": MINUTE, "h": HOUR}

# The precision names InfluxDB 1.x takes on /write (and Kapacitor on its /write), to canonical units.
V1_PRECISIONS: dict[str, str] = {
    "n": "ns",
    "ns": "ns",
    "u": "us",
    "us": "us",
    "ms": "ms",
    "s": "s",
    "m": "m",
    "h": "h",
}
# The precisions InfluxDB 2.x takes on /api/v2/write.
V2_PRECISIONS: tuple[str, ...] = ("ns", "us", "ms", "s")
# The `epoch` values of a 1.x /query: the 1.x precisions, and `µ` for microseconds.
EPOCHS: dict[str, str] = {**V1_PRECISIONS, "µ": "us"}

# Go's names (time.Month, time.Weekday): Flux's date package and Go templates print them.
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

_DATES: dict[int, str] = {}  # day since the epoch -> "YYYY-MM-DDT": formatting is on hot paths


def format_rfc3339nano(ns: int) -> str:
    """Go's time.RFC3339Nano in UTC: the fraction with trailing zeros trimmed, none when zero; the
    decimal nanoseconds for a time no calendar here can show."""
    seconds, frac = divmod(ns, SECOND)
    day, second = divmod(seconds, 86_400)
    date = _DATES.get(day)
    if date is None:
        try:
            date = "%04d-%02d-%02dT" % time.gmtime(day * 86_400)[:3]  # noqa: UP031 -- the fast path
        except (OverflowError, ValueError, OSError):
            return str(ns)
        if len(_DATES) > 100_000:
            _DATES.clear()
        _DATES[day] = date
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    if frac:
        return f"{date}{hour:02d}:{minute:02d}:{second:02d}.{frac:09d}".rstrip("0") + "Z"
    return f"{date}{hour:02d}:{minute:02d}:{second:02d}Z"


def go_duration(ns: int) -> str:
    """Go's time.Duration.String(): `0s`, `1.5s`, `1m0s`, `2h30m0s`, `500ms`, `1µs`, `10ns`."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < SECOND:
        for unit, name in ((1_000_000, "ms"), (1_000, "µs")):
            if ns >= unit:
                return sign + _fraction(ns, unit) + name
        return f"{sign}{ns}ns"
    text = ""
    hours, rest = divmod(ns, HOUR)
    minutes, rest = divmod(rest, MINUTE)
    if hours:
        text += f"{hours}h"
    if hours or minutes:
        text += f"{minutes}m"
    return sign + text + _fraction(rest, SECOND) + "s"


def _fraction(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{frac:0{digits}d}".rstrip("0")
