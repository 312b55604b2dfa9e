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

# -- the civil calendar: proleptic Gregorian in UTC, any year (year 0 included), as Go's time counts it ----

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    return 29 if month == 2 and is_leap(year) else _DAYS_IN_MONTH[month - 1]


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a date (month and day in range)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day number since 1970-01-01."""
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    mp = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day


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
