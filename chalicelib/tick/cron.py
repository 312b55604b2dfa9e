"""Cron schedules as Kapacitor's `.cron()` takes them (it uses gorhill/cronexpr): 5 fields (minute, hour,
day of month, month, day of week), 6 (the same and a year) or 7 (a second first, then the 6); `@yearly`,
`@annually`, `@monthly`, `@weekly`, `@daily`, `@hourly`; `*` and `?`, values, ranges, `/` steps, names of
months and weekdays, `L`, `W` and `LW` in the day of month, `5L` and `5#3` in the day of week; years
1970 to 2099. A restricted day of month and day of week both apply (either matches), as in crontab.
`next_after(t)` is the first whole second after `t` that matches, in UTC (Kapacitor uses its server's
local time zone; a Lambda's is UTC). Errors read as cronexpr's."""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chalicelib.kit.errors import invalid

_NS = 1_000_000_000
_NUMBERS = {str(n): n for n in range(60)} | {f"0{n}": n for n in range(10)}
_NUMBERS |= {str(y): y for y in range(1970, 2100)}
_MONTHS = {str(n): n for n in range(1, 13)}
for _n, _name in enumerate(calendar.month_name[1:], start=1):
    _MONTHS[_name.lower()] = _n
    _MONTHS[_name.lower()[:3]] = _n
_DAYS = {"0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 0}
for _n, _name in enumerate(("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")):
    _DAYS[_name] = _n
    _DAYS[_name[:3]] = _n

_MACROS = {
    "@yearly": "0 0 0 1 1 * *",
    "@annually": "0 0 0 1 1 * *",
    "@monthly": "0 0 0 1 * * *",
    "@weekly": "0 0 0 * * 0 *",
    "@daily": "0 0 0 * * * *",
    "@hourly": "0 0 * * * * *",
}
_MACRO = re.compile("|".join(re.escape(m) for m in _MACROS))


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    pattern: str
    atoi: dict[str, int]

    def value(self, text: str) -> int:
        return self.atoi.get(text, 0)


_MONTH_NAMES = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|january|february|march|april|june|july|"
_MONTH_NAMES += "august|september|october|november|december"
_DAY_NAMES = "sun|mon|tue|wed|thu|fri|sat|sunday|monday|tuesday|wednesday|thursday|friday|saturday"
SECOND = _Field("second", 0, 59, r"0?[0-9]|[1-5][0-9]", _NUMBERS)
MINUTE = _Field("minute", 0, 59, r"0?[0-9]|[1-5][0-9]", _NUMBERS)
HOUR = _Field("hour", 0, 23, r"0?[0-9]|1[0-9]|2[0-3]", _NUMBERS)
DOM = _Field("day-of-month", 1, 31, r"0?[1-9]|[12][0-9]|3[01]", _NUMBERS)
MONTH = _Field("month", 1, 12, r"0?[1-9]|1[012]|" + _MONTH_NAMES, _MONTHS)
DOW = _Field("day-of-week", 0, 6, r"0?[0-7]|" + _DAY_NAMES, _DAYS)
YEAR = _Field("year", 1970, 2099, r"19[789][0-9]|20[0-9]{2}", _NUMBERS)

ALL, ONE, SPAN, NONE = "all", "one", "span", "none"


def _directives(text: str, f: _Field) -> list[tuple[str, int, int, int, str]]:
    """(kind, first, last, step, the entry as written) per comma-separated entry."""
    entries = [e for e in text.split(",") if e]
    if not entries:
        raise invalid(f"{f.name} field: missing directive")
    v = f"(?:{f.pattern})"
    out = []
    for raw in entries:
        s = raw.lower()
        if s in ("*", "?"):
            out.append((ALL, f.low, f.high, 1, raw))
        elif re.fullmatch(v, s):
            out.append((ONE, f.value(s), 0, 0, raw))
        elif m := re.fullmatch(f"({v})-({v})", s):
            out.append((SPAN, f.value(m[1]), f.value(m[2]), 1, raw))
        elif m := re.fullmatch(r"\*/(\d+)", s):
            out.append((SPAN, f.low, f.high, _step(m[1], f, s), raw))
        elif m := re.fullmatch(f"({v})/(\\d+)", s):
            out.append((SPAN, f.value(m[1]), f.high, _step(m[2], f, s), raw))
        elif m := re.fullmatch(f"({v})-({v})/(\\d+)", s):
            out.append((SPAN, f.value(m[1]), f.value(m[2]), _step(m[3], f, s), raw))
        else:
            out.append((NONE, 0, 0, 0, raw))
    return out


def _step(text: str, f: _Field, entry: str) -> int:
    step = _NUMBERS.get(text, 0)
    if step < 1 or step > f.high:
        raise invalid(f"invalid interval {entry}")
    return step


def _values(text: str, f: _Field) -> list[int]:
    found: set[int] = set()
    for kind, first, last, step, raw in _directives(text, f):
        if kind == NONE:
            raise invalid(f"syntax error in {f.name} field: '{raw}'")
        if kind == ALL:
            return list(range(f.low, f.high + 1))
        found.update([first] if kind == ONE else range(first, last + 1, step))
    return sorted(found)


@dataclass
class CronExpr:
    seconds: list[int]
    minutes: list[int]
    hours: list[int]
    months: list[int]
    years: list[int]
    days: set[int] = field(default_factory=set)
    workdays: set[int] = field(default_factory=set)
    last_day: bool = False
    last_workday: bool = False
    days_restricted: bool = True
    weekdays: set[int] = field(default_factory=set)
    nth_weekdays: set[int] = field(default_factory=set)  # (week - 1) * 7 + weekday
    last_weekdays: set[int] = field(default_factory=set)
    weekdays_restricted: bool = True

    def next_after(self, t: int) -> int | None:
        """The first matching whole second after `t` (ns since the epoch), or None (none before 2100)."""
        start = datetime.fromtimestamp(t // _NS + 1, UTC)
        bounded = True  # the fields above the current one are still `start`'s
        for year in self.years[bisect_left(self.years, start.year) :]:
            bounded = bounded and year == start.year
            months = self.months[bisect_left(self.months, start.month) :] if bounded else self.months
            for month in months:
                b_month = bounded and month == start.month
                days = self.month_days(year, month)
                for day in days[bisect_left(days, start.day) :] if b_month else days:
                    b_day = b_month and day == start.day
                    hours = self.hours[bisect_left(self.hours, start.hour) :] if b_day else self.hours
                    for hour in hours:
                        b_hour = b_day and hour == start.hour
                        minutes = self.minutes
                        if b_hour:
                            minutes = minutes[bisect_left(minutes, start.minute) :]
                        for minute in minutes:
                            seconds = self.seconds
                            if b_hour and minute == start.minute:
                                seconds = seconds[bisect_left(seconds, start.second) :]
                            for second in seconds:
                                at = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
                                return int(at.timestamp()) * _NS
                bounded = False
            bounded = False
        return None

    def month_days(self, year: int, month: int) -> list[int]:
        """The days of `month` that match: every day when neither day field is restricted, else those
        of the day of month and those of the day of week."""
        last = calendar.monthrange(year, month)[1]
        if not self.days_restricted and not self.weekdays_restricted:
            return list(range(1, last + 1))
        found: set[int] = set()
        if self.days_restricted:
            if self.last_day:
                found.add(last)
            if self.last_workday:
                found.add(_workday(year, month, last, last))
            found.update(d for d in self.days if d <= last)
            found.update(_workday(year, month, d, last) for d in self.workdays if d <= last)
        if self.weekdays_restricted:
            offset = 7 - _weekday(year, month, 1)
            for wd in self.weekdays:
                first = 1 + (offset + wd) % 7
                found.update(d for d in range(first, 32, 7) if d <= last)
            for code in self.nth_weekdays:
                d = 1 + 7 * (code // 7) + (offset + code) % 7
                if d <= last:
                    found.add(d)
            origin = last - 6
            offset = 7 - _weekday(year, month, origin)
            for wd in self.last_weekdays:
                found.add(origin + (offset + wd) % 7)
        return sorted(d for d in found if 1 <= d <= last)


def _weekday(year: int, month: int, day: int) -> int:
    """Go's weekday: Sunday is 0."""
    return (datetime(year, month, day).weekday() + 1) % 7


def _workday(year: int, month: int, day: int, last: int) -> int:
    """The weekday nearest `day` within its month (Saturday: the Friday before, or the Monday after on
    the 1st; Sunday: the Monday after, or the Friday before on the month's last day)."""
    wd = _weekday(year, month, day)
    if wd == 6:
        return day - 1 if day > 1 else day + 2
    if wd == 0:
        return day + 1 if day < last else day - 2
    return day


def parse_cron(text: str) -> CronExpr:
    line = _MACRO.sub(lambda m: _MACROS[m[0]], text)
    fields = line.split()
    if len(fields) < 5:
        raise invalid("missing field(s)")
    fields = fields[:7]
    seconds = _values(fields.pop(0), SECOND) if len(fields) == 7 else [0]
    minutes = _values(fields[0], MINUTE)
    hours = _values(fields[1], HOUR)
    expr = CronExpr(seconds, minutes, hours, [], [])
    _day_of_month(expr, fields[2])
    expr.months = _values(fields[3], MONTH)
    _day_of_week(expr, fields[4])
    expr.years = _values(fields[5], YEAR) if len(fields) > 5 else list(range(1970, 2100))
    return expr


def _day_of_month(expr: CronExpr, text: str) -> None:
    for kind, first, last, step, raw in _directives(text, DOM):
        s = raw.lower()
        if kind == NONE:
            if s == "l":
                expr.last_day = True
            elif s == "lw":
                expr.last_workday = True
            elif m := re.fullmatch(f"({DOM.pattern})w", s):
                expr.workdays.add(DOM.value(m[1]))
            else:
                raise invalid(f"syntax error in day-of-month field: '{raw}'")
        elif kind == ONE:
            expr.days.add(first)
        else:
            expr.days.update(range(first, last + 1, step))
            if kind == ALL:
                expr.days_restricted = False


def _day_of_week(expr: CronExpr, text: str) -> None:
    for kind, first, last, step, raw in _directives(text, DOW):
        s = raw.lower()
        if kind == NONE:
            if m := re.fullmatch(f"({DOW.pattern})l", s):
                expr.last_weekdays.add(DOW.value(m[1]))
            elif m := re.fullmatch(f"({DOW.pattern})#([1-5])", s):
                expr.nth_weekdays.add((_NUMBERS[m[2]] - 1) * 7 + DOW.value(m[1]) % 7)
            else:
                raise invalid(f"syntax error in day-of-week field: '{raw}'")
        elif kind == ONE:
            expr.weekdays.add(first)
        else:
            expr.weekdays.update(range(first, last + 1, step))
            if kind == ALL:
                expr.weekdays_restricted = False
