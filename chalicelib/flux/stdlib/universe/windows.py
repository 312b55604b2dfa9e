"""Time windows: their bounds, the rows of a table in time order, and `window()`."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from itertools import islice
from operator import le

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


def windows(
    start: int, stop: int, every: Duration, period: Duration, offset: Duration
) -> list[tuple[int, int]]:
    """Window bounds [s, e) overlapping [start, stop), aligned to the epoch plus offset, clipped."""
    if every.is_zero or every.months < 0 or every.ns < 0:
        raise FluxError("window: every must be positive")
    out = []
    if every.months:
        if every.ns:
            raise FluxError("window: mixed month and nanosecond durations are not supported")
        index = epoch_month(start)
        k = (index // every.months) * every.months - (period.months or every.months)
        while True:
            ws = add_duration(add_duration(0, Duration(k, 0)), offset)
            if ws >= stop:
                break
            we = add_duration(ws, period)
            if we > start:
                out.append((max(ws, start), min(we, stop)))
            k += every.months
        return out
    e = every.ns
    p = period.approx_ns()
    off = offset.approx_ns() % e
    k = (start - off - p) // e + 1
    while True:
        ws = k * e + off
        if ws >= stop:
            break
        we = ws + p
        if we > start:
            out.append((max(ws, start), min(we, stop)))
        k += 1
    return out


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
        for t in stream_of(tables, "window").tables():
            b = time_bounds(t, timeColumn)
            if b is None:
                continue
            idx, times = time_order(t, timeColumn)
            for ws, we in windows(b[0], b[1], every_d, period_d, offset_d):
                lo, hi = bisect.bisect_left(times, ws), bisect.bisect_left(times, we)
                if lo == hi and not createEmpty:
                    continue
                w = t.take(rows_between(idx, lo, hi))
                w.set_key_constant(startColumn, "time", ws)
                w.set_key_constant(stopColumn, "time", we)
                out.append(normalize_key(w))
        return out

    return Stream(produce)


def _unwindow(tables: list[Table], start_col: str, stop_col: str) -> list[Table]:
    merged = regroup(tables, lambda t: [k for k in t.key if k not in (start_col, stop_col)])
    for t in merged:
        for name, pick in ((start_col, min), (stop_col, max)):
            if t.has(name):
                vals = [v for v in t.col(name) if v is not None]
                if vals:
                    t.data[t.index(name)] = [pick(vals)] * t.n
    return merged
