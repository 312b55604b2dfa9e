"""EventBridge schedule expressions: `rate(...)` periods and AWS 6-field `cron(...)` evaluation.

Cron fields are `minutes hours day-of-month month day-of-week year`, evaluated in UTC. Supported:
`*`, `?`, single values, lists (`1,5`), ranges (`MON-FRI`, `1-5`), steps (`*/5`, `10/15`, `1-30/2`),
month and weekday names (`JAN`, `SUN`; weekdays count 1=SUN..7=SAT as in AWS), `L` in day-of-month
(last day of the month), `<d>L` in day-of-week (last such weekday of the month) and `<d>#<n>`
(n-th such weekday). Not supported (rejected with ValueError): `W` (nearest weekday) and `LW`.
When both day fields are restricted (AWS requires one of them to be `?`), both must match.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalice.app import Cron as ChaliceCron
from chalice.app import Rate as ChaliceRate

_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, start=1)}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


@dataclass(frozen=True)
class RateSchedule:
    seconds: float

    def next_after(self, moment: float) -> float:
        return moment + self.seconds


def parse_rate(value: int | str, unit: str) -> RateSchedule:
    unit = unit.lower().rstrip("s")
    if unit not in _UNIT_SECONDS:
        raise ValueError(f"unknown rate unit: {unit!r}")
    amount = int(value)
    if amount <= 0:
        raise ValueError(f"rate must be positive: {value!r}")
    return RateSchedule(amount * _UNIT_SECONDS[unit])


def _parse_number(token: str, names: dict[str, int]) -> int:
    token = token.upper()
    if token in names:
        return names[token]
    if not token.isdigit():
        raise ValueError(f"bad cron value: {token!r}")
    return int(token)


def _parse_field(
    text: str, low: int, high: int, names: dict[str, int] | None = None
) -> frozenset[int] | None:
    """The allowed values of a plain cron field; None means any value (`*` or `?`)."""
    names = names or {}
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        step, stepped = 1, "/" in part
        if stepped:
            part, step_text = part.split("/", 1)
            step = int(step_text)
            if step <= 0:
                raise ValueError(f"bad cron step: {text!r}")
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _parse_number(first, names), _parse_number(last, names)
        else:
            start = _parse_number(part, names)
            end = high if stepped else start
        if not (low <= start <= high and low <= end <= high):
            raise ValueError(f"cron value out of range {low}-{high}: {text!r}")
        if end >= start:
            values.update(range(start, end + 1, step))
        else:  # wrap-around range such as FRI-MON
            span = list(range(start, high + 1)) + list(range(low, end + 1))
            values.update(span[::step])
    return frozenset(values)


def _aws_weekday(day: datetime) -> int:
    """AWS numbering: 1=Sunday .. 7=Saturday."""
    return (day.weekday() + 1) % 7 + 1


@dataclass(frozen=True)
class CronSchedule:
    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    month_days: Callable[[datetime], bool]
    months: frozenset[int] | None
    week_days: Callable[[datetime], bool]
    years: frozenset[int] | None

    def matches_day(self, day: datetime) -> bool:
        return (
            (self.years is None or day.year in self.years)
            and (self.months is None or day.month in self.months)
            and self.month_days(day)
            and self.week_days(day)
        )

    def matches(self, moment: datetime) -> bool:
        return (
            self.matches_day(moment)
            and (self.hours is None or moment.hour in self.hours)
            and (self.minutes is None or moment.minute in self.minutes)
        )

    def next_after(self, moment: float) -> float:
        """Epoch seconds of the first matching minute strictly after `moment`."""
        start = datetime.fromtimestamp(moment, UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        last_year = max(self.years) if self.years else start.year + 30
        hours = sorted(self.hours) if self.hours is not None else range(24)
        minutes = sorted(self.minutes) if self.minutes is not None else range(60)
        while day.year <= last_year:
            if self.matches_day(day):
                for hour in hours:
                    for minute in minutes:
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate.timestamp()
            day += timedelta(days=1)
        raise ValueError("cron expression never fires again")


def _month_day_matcher(text: str) -> Callable[[datetime], bool]:
    if "W" in text.upper():
        raise ValueError(f"cron 'W' (nearest weekday) is not supported locally: {text!r}")
    if text.upper() == "L":
        return lambda day: day.day == calendar.monthrange(day.year, day.month)[1]
    allowed = _parse_field(text, 1, 31)
    return lambda day: allowed is None or day.day in allowed


def _week_day_matcher(text: str) -> Callable[[datetime], bool]:
    upper = text.upper()
    if match := re.fullmatch(r"(\w+)#([1-5])", upper):
        weekday, nth = _parse_number(match.group(1), _WEEKDAYS), int(match.group(2))
        return lambda day: _aws_weekday(day) == weekday and (day.day - 1) // 7 + 1 == nth
    if match := re.fullmatch(r"(\w*)L", upper):
        weekday = _parse_number(match.group(1), _WEEKDAYS) if match.group(1) else 7
        return lambda day: (
            _aws_weekday(day) == weekday and day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        )
    allowed = _parse_field(text, 1, 7, _WEEKDAYS)
    return lambda day: allowed is None or _aws_weekday(day) in allowed


def parse_cron(expression: str) -> CronSchedule:
    fields = expression.split()
    if len(fields) != 6:
        raise ValueError(
            f"AWS cron needs 6 fields (min hour day-of-month month day-of-week year): {expression!r}"
        )
    minutes, hours, month_days, months, week_days, years = fields
    return CronSchedule(
        minutes=_parse_field(minutes, 0, 59),
        hours=_parse_field(hours, 0, 23),
        month_days=_month_day_matcher(month_days),
        months=_parse_field(months, 1, 12, _MONTHS),
        week_days=_week_day_matcher(week_days),
        years=_parse_field(years, 1970, 2199),
    )


Schedule = RateSchedule | CronSchedule


def parse_schedule(expression: Any) -> Schedule:
    """A chalice `Rate`/`Cron`, or a string `rate(5 minutes)` / `cron(0 12 * * ? *)`."""
    if isinstance(expression, ChaliceRate):
        return parse_rate(expression.value, expression.unit)
    if isinstance(expression, ChaliceCron):
        expression = expression.to_string()
    if not isinstance(expression, str):
        raise ValueError(f"unsupported schedule expression: {expression!r}")
    text = expression.strip()
    if match := re.fullmatch(r"rate\(\s*(\d+)\s+(\w+)\s*\)", text, re.IGNORECASE):
        return parse_rate(match.group(1), match.group(2))
    if match := re.fullmatch(r"cron\((.*)\)", text, re.IGNORECASE):
        return parse_cron(match.group(1))
    raise ValueError(f"unsupported schedule expression: {expression!r}")
