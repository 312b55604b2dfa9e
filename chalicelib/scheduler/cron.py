"""Cron schedules as InfluxDB 2.x tasks read them (github.com/influxdata/cron, not the gorhill/cronexpr of
Kapacitor in chalicelib.tick.cron): 5 fields (minute hour day-of-month month day-of-week), 6 (a second
first) or 7 (a second first, a year last); `*`, values, `a-b` ranges, `/n` steps (`a/n` runs from a to the
field's end), three-letter month and weekday names in any case; `@yearly`, `@annually`, `@monthly`,
`@weekly`, `@daily`, `@midnight`, `@hourly`, `@every_minute`, `@every_second` and `@every <duration>`.
Unlike crontab, a restricted day of month and day of week must both match. All in UTC; years end at 2099."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.kit.errors import invalid
from chalicelib.kit.time import SECOND, civil_from_days, days_from_civil

_DAY = 86_400
_LAST_YEAR = 2099
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

# (name, low, high, names) per position of the 7-field form.
_SECOND = ("second", 0, 59, ())
_MINUTE = ("minute", 0, 59, ())
_HOUR = ("hour", 0, 23, ())
_DOM = ("day of month", 1, 31, ())
_MONTH = ("month", 1, 12, _MONTH_NAMES)
_DOW = ("day of week", 0, 6, _DAY_NAMES)
_YEAR = ("year", 1970, _LAST_YEAR, ())

_MACROS = {
    "@yearly": "0 0 0 1 1 *",
    "@annually": "0 0 0 1 1 *",
    "@monthly": "0 0 0 1 * *",
    "@weekly": "0 0 0 * * 0",
    "@daily": "0 0 0 * * *",
    "@midnight": "0 0 0 * * *",
    "@hourly": "0 0 * * * *",
    "@every_minute": "0 * * * * *",
    "@every_second": "* * * * * *",
}
# The units `@every` takes, longest first so `mo`, `ms` and `hr` win over `m` and `h`.
_EVERY_PART = re.compile(r"(\d+)(mo|ms|ns|us|µs|hr|y|w|d|h|m|s|u)", re.IGNORECASE)
_EVERY_NS = {"ms": 1_000_000, "ns": 1, "us": 1_000, "µs": 1_000, "u": 1_000, "s": SECOND}
_EVERY_NS |= {"h": 3600 * SECOND, "hr": 3600 * SECOND, "m": 60 * SECOND, "d": _DAY * SECOND}
_EVERY_NS["w"] = 7 * _EVERY_NS["d"]


@dataclass(frozen=True)
class Every:
    """`@every`: a calendar step (months, Go's AddDate) plus whole seconds (the library drops fractions)."""

    months: int
    seconds: int


@dataclass(frozen=True)
class Cron:
    seconds: tuple[int, ...] = ()
    minutes: tuple[int, ...] = ()
    hours: tuple[int, ...] = ()
    doms: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    dows: frozenset[int] = frozenset()
    years: frozenset[int] | None = None  # None: any year
    every: Every | None = None

    def next_after(self, t: int) -> int | None:
        """The first time strictly after `t` (ns) the schedule fires, None when it never does again."""
        if self.every is not None:
            nxt = add_months(t, self.every.months) + self.every.seconds * SECOND
            return nxt if nxt > t else None
        start = t // SECOND + 1
        day, tod = divmod(start, _DAY)
        while True:
            year, month, dom = civil_from_days(day)
            if year > _LAST_YEAR:
                return None
            if self.years is not None and year not in self.years:
                day, tod = days_from_civil(year + 1, 1, 1), 0
                continue
            if month not in self.months:
                day, tod = _first_of_next_month(year, month), 0
                continue
            if dom in self.doms and (day + 4) % 7 in self.dows:  # 1970-01-01 was a Thursday (4)
                found = self._time_of_day(tod)
                if found is not None:
                    return (day * _DAY + found) * SECOND
            day, tod = day + 1, 0

    def _time_of_day(self, tod: int) -> int | None:
        """The first matching second of the day at or after `tod`."""
        for h in self.hours:
            if (h + 1) * 3600 <= tod:
                continue
            for m in self.minutes:
                if h * 3600 + (m + 1) * 60 <= tod:
                    continue
                for s in self.seconds:
                    at = h * 3600 + m * 60 + s
                    if at >= tod:
                        return at
        return None


def parse_cron(text: str) -> Cron:
    """A Cron, or an invalid error worded after the library's (InfluxDB prefixes it with `cron invalid: `)."""
    stripped = text.strip()
    if stripped.startswith("@"):
        return _macro(text, stripped)
    fields = stripped.split()
    if len(fields) == 5:
        fields = ["0", *fields, "*"]
    elif len(fields) == 6:
        fields = [*fields, "*"]
    elif len(fields) > 7:
        raise invalid("too many positions in cron")
    elif len(fields) != 7:
        raise invalid(f"failed to parse cron string '{text}'")
    sec, minute, hour, dom, month, dow, year = (
        _field(f, spec)
        for f, spec in zip(fields, (_SECOND, _MINUTE, _HOUR, _DOM, _MONTH, _DOW, _YEAR), strict=True)
    )
    return Cron(
        seconds=tuple(sorted(sec)),
        minutes=tuple(sorted(minute)),
        hours=tuple(sorted(hour)),
        doms=frozenset(dom),
        months=frozenset(month),
        dows=frozenset(dow),
        years=None if year == set(range(1970, _LAST_YEAR + 1)) else frozenset(year),
    )


def _macro(text: str, stripped: str) -> Cron:
    if stripped in _MACROS:
        return parse_cron(_MACROS[stripped])
    head, _, rest = stripped.partition(" ")
    if head != "@every" or not rest.strip():
        raise invalid(f"error in parsing at char 1, '{text.lstrip()[1:2]}'")
    months = ns = 0
    body = rest.strip()
    pos = 0
    for match in _EVERY_PART.finditer(body):
        if body[pos : match.start()].strip():
            break
        magnitude, unit = int(match.group(1)), match.group(2).lower()
        if unit == "y":
            months += 12 * magnitude
        elif unit == "mo":
            months += magnitude
        else:
            ns += magnitude * _EVERY_NS[unit]
        pos = match.end()
    if body[pos:].strip():
        at = len(text) - len(body) + pos
        raise invalid(f"error in parsing at char {at}, '{text[at : at + 1]}'")
    if months == 0 and ns // SECOND == 0:
        raise invalid(f"failed to parse cron string '{text}'")
    return Cron(every=Every(months, ns // SECOND))


def _field(text: str, spec: tuple[str, int, int, tuple[str, ...]]) -> set[int]:
    name, low, high, _ = spec
    values: set[int] = set()
    for entry in text.split(","):
        part, _, step_text = entry.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0 or int(step_text) > high - low + 1:
                raise invalid(f"invalid {name} */{step_text}")
            step = int(step_text)
        if part == "*":
            first, last = low, high
        else:
            first_text, dash, last_text = part.partition("-")
            first = _value(first_text, spec)
            if dash:
                last = _value(last_text, spec)
                if name == "day of week" and last == 7:
                    last = 6  # the library reads a range ending at 7 as ending on Saturday
            else:
                last = high if step_text else first
            if first > last:
                raise invalid(f"invalid {name} range {part}: start must be before end")
        values.update(v % 7 if name == "day of week" else v for v in range(first, last + 1, step))
    if not values:
        raise invalid(f"invalid {name} {text}")
    return values


def _value(text: str, spec: tuple[str, int, int, tuple[str, ...]]) -> int:
    name, low, high, names = spec
    if text.lower() in names:
        return names.index(text.lower()) + (1 if name == "month" else 0)
    if not text.isdigit():
        raise invalid(f"error in parsing {name} '{text}'")
    value = int(text)
    top = 7 if name == "day of week" else high  # 7 is Sunday too
    if not low <= value <= top:
        raise invalid(f"invalid {name} {value}")
    return value


# -- month arithmetic on the civil calendar (kit/time.py) ------------------------------------------------


def add_months(t: int, months: int) -> int:
    """Go's t.AddDate(0, months, 0) in UTC: a day past the month's end rolls into the next (Jan 31 + 1mo is
    Mar 3 or Mar 2)."""
    if not months:
        return t
    days, rest = divmod(t, _DAY * SECOND)
    year, month, day = civil_from_days(days)
    year, month0 = divmod(year * 12 + month - 1 + months, 12)
    return (days_from_civil(year, month0 + 1, 1) + day - 1) * _DAY * SECOND + rest


def _first_of_next_month(year: int, month: int) -> int:
    return days_from_civil(year + month // 12, month % 12 + 1, 1)
