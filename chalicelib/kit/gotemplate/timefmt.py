"""time.Time and time.Duration as Go prints them: String, Format and RFC3339Nano of UTC times."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.kit.time import DAY_NAMES, MONTH_NAMES, SECOND, civil_from_days

_MONTHS = MONTH_NAMES
_DAYS = DAY_NAMES


@dataclass(frozen=True, slots=True)
class _Parts:
    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    nanos: int
    weekday: int
    yearday: int


def _parts(ns: int) -> _Parts:
    seconds, nanos = divmod(ns, SECOND)
    days, rest = divmod(seconds, 86400)
    year, month, day = civil_from_days(days)
    jan1 = days - (day - 1) - sum(_month_length(year, m) for m in range(1, month))
    return _Parts(
        year, month, day, rest // 3600, rest // 60 % 60, rest % 60, nanos, (days + 4) % 7, days - jan1 + 1
    )


def _month_length(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _year_text(year: int) -> str:
    return f"{year:04d}" if year >= 0 else f"-{-year:04d}"


def time_string(ns: int) -> str:
    """time.Time.String() of a UTC time: `2006-01-02 15:04:05.999999999 +0000 UTC`."""
    p = _parts(ns)
    text = f"{_year_text(p.year)}-{p.month:02d}-{p.day:02d} {p.hour:02d}:{p.minute:02d}:{p.second:02d}"
    if p.nanos:
        text += f".{p.nanos:09d}".rstrip("0")
    return text + " +0000 UTC"


def time_rfc3339nano(ns: int) -> str:
    p = _parts(ns)
    text = f"{_year_text(p.year)}-{p.month:02d}-{p.day:02d}T{p.hour:02d}:{p.minute:02d}:{p.second:02d}"
    if p.nanos:
        text += f".{p.nanos:09d}".rstrip("0")
    return text + "Z"


_LAYOUT = re.compile(
    r"January|Jan|Monday|Mon|MST|2006|002|__2|_2|01|02|03|04|05|06|15|Z07:00:00|Z070000|Z07:00|Z0700|Z07"
    r"|-07:00:00|-070000|-07:00|-0700|-07|PM|pm|[.,](?:0+|9+)(?!\d)|1|2|3|4|5"
)


def time_format(ns: int, layout: str) -> str:
    """time.Time.Format for a UTC time with Go's reference-time layout."""
    p = _parts(ns)

    def token(match: re.Match[str]) -> str:
        t = match.group(0)
        simple = {
            "January": _MONTHS[p.month - 1],
            "Jan": _MONTHS[p.month - 1][:3],
            "Monday": _DAYS[p.weekday],
            "Mon": _DAYS[p.weekday][:3],
            "MST": "UTC",
            "2006": _year_text(p.year),
            "06": f"{p.year % 100:02d}",
            "01": f"{p.month:02d}",
            "1": str(p.month),
            "02": f"{p.day:02d}",
            "2": str(p.day),
            "_2": f"{p.day:2d}",
            "__2": f"{p.yearday:3d}",
            "002": f"{p.yearday:03d}",
            "15": f"{p.hour:02d}",
            "03": f"{(p.hour % 12) or 12:02d}",
            "3": str((p.hour % 12) or 12),
            "04": f"{p.minute:02d}",
            "4": str(p.minute),
            "05": f"{p.second:02d}",
            "5": str(p.second),
            "PM": "PM" if p.hour >= 12 else "AM",
            "pm": "pm" if p.hour >= 12 else "am",
        }
        if t in simple:
            return simple[t]
        if t.startswith("Z"):
            return "Z"
        if t.startswith("-07"):
            return {"-07": "+00", "-0700": "+0000", "-07:00": "+00:00", "-070000": "+000000"}.get(
                t, "+00:00:00"
            )
        digits = f"{p.nanos:09d}"[: len(t) - 1]
        if t[1] == "9":
            digits = digits.rstrip("0")
            return t[0] + digits if digits else ""
        return t[0] + digits

    return _LAYOUT.sub(token, layout)


def _decimal(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    return f"{whole}.{frac:0{len(str(unit)) - 1}d}".rstrip("0")
