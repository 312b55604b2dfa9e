"""The `date` package: parts of a time (`t` a time, a duration relative to `now()`, or int seconds),
`truncate()` (epoch-aligned windows, as Flux's), `add()`, `sub()`, `time()`, `scale()`, and the day and
month constants. Times are read in UTC: the `location` parameter is accepted, but only UTC is known."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import duration_arg, time_arg
from chalicelib.flux.stdlib.library import members, package
from chalicelib.flux.values import Duration, FluxError, Time, add_duration, epoch_month, type_name
from chalicelib.kit.time import DAY_NAMES, MONTH_NAMES


def _date_part(name: str, fn: Callable[[datetime, int], int], location: bool = True) -> None:
    def impl(interp: Interpreter, t, location=None):
        ns = time_arg(interp, t, f"date.{name}")
        seconds, nanos = divmod(ns, 1_000_000_000)
        return fn(datetime.fromtimestamp(seconds, UTC), nanos)

    # millisecond/microsecond/nanosecond take no location in Flux (a zone never moves them)
    package("date", name, "t location" if location else "t", "t")(impl)


_date_part("year", lambda d, ns: d.year)
_date_part("month", lambda d, ns: d.month)
_date_part("quarter", lambda d, ns: (d.month + 2) // 3)
_date_part("week", lambda d, ns: d.isocalendar()[1])  # ISO week, as Go's ISOWeek
_date_part("monthDay", lambda d, ns: d.day)
_date_part("yearDay", lambda d, ns: d.timetuple().tm_yday)
_date_part("weekDay", lambda d, ns: (d.weekday() + 1) % 7)  # Sunday is 0
_date_part("hour", lambda d, ns: d.hour)
_date_part("minute", lambda d, ns: d.minute)
_date_part("second", lambda d, ns: d.second)
_date_part("millisecond", lambda d, ns: ns // 1_000_000, location=False)
_date_part("microsecond", lambda d, ns: ns // 1_000, location=False)
_date_part("nanosecond", lambda d, ns: ns, location=False)


@package("date", "time", "t location", "t")
def date_time(interp: Interpreter, t, location=None) -> Time:
    return Time(time_arg(interp, t, "date.time"))


@package("date", "truncate", "t unit location", "t unit")
def date_truncate(interp: Interpreter, t, unit, location=None) -> Time:
    ns = time_arg(interp, t, "date.truncate")
    return Time(_aligned_start(ns, duration_arg(unit, "date.truncate: unit")))


def _aligned_start(ns: int, unit: Duration) -> int:
    """The start of the window of width `unit` holding `ns`, windows aligned on the Unix epoch (Flux's
    `GetEarliestBounds` with no offset: `1w` starts on a Thursday, `1mo` on the 1st, `1y` on Jan 1)."""
    if unit.months:
        index = epoch_month(ns)
        return add_duration(0, Duration(index // unit.months * unit.months, 0))
    if unit.ns <= 0:
        raise FluxError("date.truncate: unit must be positive")
    return ns // unit.ns * unit.ns


@package("date", "add", "d to location", "d to")
def date_add(interp: Interpreter, d, to, location=None) -> Time:
    return Time(add_duration(time_arg(interp, to, "date.add"), duration_arg(d, "date.add: d")))


@package("date", "sub", "d from location", "d from")
def date_sub(interp: Interpreter, d, location=None, **kw) -> Time:
    return Time(add_duration(time_arg(interp, kw["from"], "date.sub"), duration_arg(d, "date.sub: d"), -1))


@package("date", "scale", "d n", "d n")
def date_scale(interp: Interpreter, d, n) -> Duration:
    if not isinstance(n, int) or isinstance(n, bool):
        raise FluxError(f"date.scale: n must be an int, got {type_name(n)}")
    unit = duration_arg(d, "date.scale: d")
    return Duration(unit.months * n, unit.ns * n)


# Flux's day and month constants: Sunday = 0 ... Saturday = 6, January = 1 ... December = 12.
members("date").update(
    {**{day: i for i, day in enumerate(DAY_NAMES)}, **{month: i + 1 for i, month in enumerate(MONTH_NAMES)}}
)
