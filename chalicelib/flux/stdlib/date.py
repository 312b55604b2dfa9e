"""The `date` package: parts of a time, `truncate()`, `add()` and `sub()`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.flux.stdlib.args import duration_arg, time_arg
from chalicelib.flux.stdlib.library import package
from chalicelib.flux.values import Duration, Time, add_duration, epoch_month


def _date_part(name: str, fn: Callable[[Any], int]) -> None:
    def impl(interp, t):
        ns = time_arg(interp, t, f"date.{name}")
        return fn(datetime.fromtimestamp(ns // 1_000_000_000, UTC))

    package("date", name, "t location", "t")(impl)


_date_part("year", lambda d: d.year)
_date_part("month", lambda d: d.month)
_date_part("monthDay", lambda d: d.day)
_date_part("yearDay", lambda d: d.timetuple().tm_yday)
_date_part("weekDay", lambda d: (d.weekday() + 1) % 7)
_date_part("hour", lambda d: d.hour)
_date_part("minute", lambda d: d.minute)
_date_part("second", lambda d: d.second)


@package("date", "truncate", "t unit location", "t unit")
def date_truncate(interp, t, unit, location=None):
    ns = time_arg(interp, t, "date.truncate")
    return Time(_aligned_start(ns, duration_arg(unit, "date.truncate: unit")))


def _aligned_start(ns: int, unit: Duration) -> int:
    if unit.months:
        index = epoch_month(ns)
        return add_duration(0, Duration(index // unit.months * unit.months, 0))
    return ns // unit.ns * unit.ns


@package("date", "add", "d to location", "d to")
def date_add(interp, d, to, location=None):
    return Time(add_duration(time_arg(interp, to, "date.add"), duration_arg(d, "date.add: d")))


@package("date", "sub", "d from location", "d from")
def date_sub(interp, d, location=None, **kw):
    return Time(add_duration(time_arg(interp, kw["from"], "date.sub"), duration_arg(d, "date.sub: d"), -1))
