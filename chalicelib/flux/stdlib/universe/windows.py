"""Time windows: their bounds, the rows of a table in time order, and `window()`."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from itertools import islice
from operator import le

from chalicelib.flux.budget import TABLE_BYTES, budget, table_bytes
from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import duration_arg, stream_of
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.stdlib.universe.grouping import regroup
from chalicelib.flux.tables import Stream, Table, normalize_key
from chalicelib.flux.values import MAX_NS, Duration, FluxError, add_duration, epoch_month


def time_bounds(t: Table, time_col: str) -> tuple[int, int] | None:
    """The time range a table's windows cover: its `_start`/`_stop` (the range bounds) when it has them,
    else the span of its times."""
    if "_start" in t.key and "_stop" in t.key and t.keyvals.get("_start") is not None:
        return t.keyvals["_start"], t.keyvals["_stop"]
    if t.has("_start") and t.has("_stop"):
        starts, stops = _present(t.col("_start")), _present(t.col("_stop"))
        if starts and stops:
            return min(starts), max(stops)
    times = _present(t.col(time_col)) if t.has(time_col) else []
    if not times:
        return None
    return min(times), max(times) + 1


def _present(values: list) -> list:
    """The values that are not null (the list itself when none is)."""
    return values if None not in values else [v for v in values if v is not None]


class Windows:
    """The windows [s, e) of `every`, `period` and `offset` that overlap [start, stop), aligned to the
    epoch plus offset, clipped to the range, in order: counted, listed and looked up without building
    them all (a day of 1 ms windows is 86.4 million)."""

    def __init__(self, start: int, stop: int, every: Duration, period: Duration, offset: Duration) -> None:
        if every.is_zero or every.months < 0 or every.ns < 0:
            raise FluxError("window: every must be positive")
        self.start, self.stop = start, stop
        self._months: list[tuple[int, int]] | None = None
        if every.months:  # calendar windows: a few hundred a century, listed
            if every.ns:
                raise FluxError("window: mixed month and nanosecond durations are not supported")
            self._months = list(_month_windows(start, stop, every, period, offset))
            return
        self._every = every.ns
        self._period = period.approx_ns()
        self._offset = offset.approx_ns() % every.ns
        self._first = (start - self._offset - self._period) // self._every + 1  # first k with e > start
        self._last = (stop - 1 - self._offset) // self._every  # last k with s < stop

    def __len__(self) -> int:
        if self._months is not None:
            return len(self._months)
        return max(0, self._last - self._first + 1)

    def __getitem__(self, i: int) -> tuple[int, int]:
        """The i-th window (0-based)."""
        if self._months is not None:
            return self._months[i]
        return self._window(self._first + i)

    def _window(self, k: int) -> tuple[int, int]:
        ws = k * self._every + self._offset
        return max(ws, self.start), min(ws + self._period, self.stop)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        if self._months is not None:
            yield from self._months
            return
        for k in range(self._first, self._last + 1):
            yield self._window(k)

    def index(self, t: int) -> int:
        """The position of the window holding time `t` in [start, stop), when windows tile the range
        (period equal to every)."""
        if self._months is not None:
            return max(0, bisect.bisect_right([ws for ws, _ in self._months], t) - 1)
        return (t - self._offset) // self._every - self._first

    def containing(self, times: list[int]) -> Iterator[tuple[int, int]]:
        """In order, the windows that may hold one of `times` (ascending): every window that holds one,
        never one whose unclipped span holds none, so a sparse table's empty windows cost nothing."""
        if self._months is not None:
            yield from self._months
            return
        e, p, off, last = self._every, self._period, self._offset, self._last
        if p <= 0:
            return
        i, n, k = 0, len(times), self._first
        while i < n and k <= last:
            t = times[i]
            lo = max(k, (t - off - p) // e + 1)  # the first window from k on whose end is after t
            if lo > last:
                return
            hi = min(last, (t - off) // e)  # the last window that starts at or before t
            if lo <= hi:
                for j in range(lo, hi + 1):
                    yield self._window(j)
                lo = hi + 1
            k = lo
            i = bisect.bisect_left(times, k * e + off, i + 1)  # times before window k are done


def _month_windows(
    start: int, stop: int, every: Duration, period: Duration, offset: Duration
) -> Iterator[tuple[int, int]]:
    index = epoch_month(start)
    k = (index // every.months) * every.months - (period.months or every.months)
    while True:
        ws = add_duration(add_duration(0, Duration(k, 0)), offset)
        if ws >= stop:
            return
        we = add_duration(ws, period)
        if we > start:
            yield max(ws, start), min(we, stop)
        k += every.months


def time_order(t: Table, time_col: str) -> tuple[list[int] | None, list[int]]:
    """The indexes of the rows with a time, in time order (stable), and their times; None for the
    indexes when that is every row as it stands (the common case: storage tables are in time order)."""
    times = t.col(time_col)
    idx: list[int] | None = None
    if None in times:
        idx = [i for i, v in enumerate(times) if v is not None]
    ordered = in_order(times, idx)
    if all(map(le, ordered, islice(ordered, 1, None))):
        return idx, ordered
    idx = sorted(range(len(times)) if idx is None else idx, key=times.__getitem__)  # runs merge fast
    return idx, in_order(times, idx)


def rows_between(idx: list[int] | None, lo: int, hi: int) -> Iterable[int]:
    """The rows at positions [lo, hi) of a `time_order`."""
    return range(lo, hi) if idx is None else idx[lo:hi]


def in_order(column: list, idx: list[int] | None) -> list:
    """A column's values in a `time_order`."""
    return column if idx is None else list(map(column.__getitem__, idx))


@universe("window", "every period offset timeColumn startColumn stopColumn createEmpty location")
def window_(
    interp: Interpreter,
    tables,
    every=None,
    period=None,
    offset=None,
    timeColumn="_time",
    startColumn="_start",
    stopColumn="_stop",
    createEmpty=False,
    location=None,
):
    if every is None and period is None:
        raise FluxError("window: specify every or period")
    if isinstance(every, Duration) and every.ns >= MAX_NS:  # window(every: inf): undo windowing
        return Stream(lambda: _unwindow(stream_of(tables, "window").tables(), startColumn, stopColumn))
    every_d = duration_arg(every if every is not None else period, "window: every")
    period_d = duration_arg(period if period is not None else every_d, "window: period")
    offset_d = duration_arg(offset, "window: offset") if offset is not None else Duration()

    def produce() -> list[Table]:
        out: list[Table] = []
        charge = budget().charge
        for t in stream_of(tables, "window").tables():
            b = time_bounds(t, timeColumn)
            if b is None:
                continue
            idx, times = time_order(t, timeColumn)
            spans = Windows(b[0], b[1], every_d, period_d, offset_d)
            if createEmpty:  # a table per window, most of them empty
                budget().ensure(len(spans) * TABLE_BYTES)
            for ws, we in spans if createEmpty else spans.containing(times):
                lo, hi = bisect.bisect_left(times, ws), bisect.bisect_left(times, we)
                if lo == hi and not createEmpty:
                    continue
                w = t.take(rows_between(idx, lo, hi))
                w.set_key_constant(startColumn, "time", ws)
                w.set_key_constant(stopColumn, "time", we)
                charge(table_bytes(w.n, len(w.columns)))
                out.append(normalize_key(w))
        return out

    return Stream(produce, charged=True)


def _unwindow(tables: list[Table], start_col: str, stop_col: str) -> list[Table]:
    merged = regroup(tables, lambda t: [k for k in t.key if k not in (start_col, stop_col)])
    for t in merged:
        for name, pick in ((start_col, min), (stop_col, max)):
            if t.has(name):
                vals = [v for v in t.col(name) if v is not None]
                if vals:
                    t.data[t.index(name)] = [pick(vals)] * t.n
    return merged
