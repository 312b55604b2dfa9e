"""`aggregateWindow()`: an aggregate or selector per time window (folded as the read streams when it can)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator

from chalicelib.flux import folds, reads
from chalicelib.flux.budget import budget, table_bytes, window_rows_bytes
from chalicelib.flux.interpreter import Closure, Interpreter
from chalicelib.flux.stdlib.args import duration_arg, stream_of
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.stdlib.universe.aggregates import AGG_TYPES, AGGREGATES
from chalicelib.flux.stdlib.universe.grouping import merge_tables
from chalicelib.flux.stdlib.universe.windows import Windows, in_order, rows_between, time_bounds, time_order
from chalicelib.flux.tables import Stream, Table, normalize_key
from chalicelib.flux.values import Duration, FluxError

FAST_AGGREGATES = {**AGGREGATES, "first": None, "last": None, "min": None, "max": None}


@universe("aggregateWindow", "every period offset fn column timeSrc timeDst createEmpty location", "every fn")
def aggregate_window(
    interp: Interpreter,
    tables,
    every,
    fn,
    period=None,
    offset=None,
    column="_value",
    timeSrc="_stop",
    timeDst="_time",
    createEmpty=True,
    location=None,
):
    every_d = duration_arg(every, "aggregateWindow: every")
    period_d = duration_arg(period, "aggregateWindow: period") if period is not None else every_d
    offset_d = duration_arg(offset, "aggregateWindow: offset") if offset is not None else Duration()
    fname = getattr(fn, "name", "")
    fast = fname in FAST_AGGREGATES and not isinstance(fn, Closure)

    def produce() -> list[Table]:
        return [
            r
            for r in (aggregate_one(t) for t in stream_of(tables, "aggregateWindow").tables())
            if r is not None
        ]

    def aggregate_one(t: Table) -> Table | None:
        b = time_bounds(t, "_time")
        if b is None:
            return None
        if fast:
            result = _fast_window(
                t, b, fname, column, timeSrc, timeDst, createEmpty, every_d, period_d, offset_d
            )
        else:
            result = _generic_window(
                interp, t, b, fn, column, timeSrc, timeDst, createEmpty, every_d, period_d, offset_d
            )
        if result is not None:
            budget().charge(table_bytes(result.n, len(result.columns)))
        return result

    if (
        fast
        and fname in folds.FOLDS
        and column == "_value"
        and period_d == every_d
        and isinstance(tables, reads.FromStream)
    ):
        # folded window by window as the store streams the read (the windows tile the range in order)
        read = tables
        shared: list[Windows] = []  # one for every table: they share the read's range

        def bounds() -> Windows:
            assert read.start is not None and read.stop is not None
            if not shared:
                shared.append(Windows(read.start, read.stop, every_d, period_d, offset_d))
            return shared[0]

        def make() -> folds.WindowFold:
            return folds.WindowFold(folds.FOLDS[fname], bounds, bool(createEmpty), timeSrc == "_stop")

        def finish(t: Table, fold: folds.WindowFold) -> Table:
            kind = _window_kind(t, fname, column)
            rows_time, rows_value = fold.finish()
            return _window_table(t, column, AGG_TYPES.get(fname, kind), timeDst, rows_time, rows_value)

        def general(ts: list[Table]) -> list[Table]:
            return [r for r in map(aggregate_one, ts) if r is not None]

        return read.folded(make, finish, general)
    return Stream(produce, charged=True)


def _windows_of(
    b: tuple[int, int],
    times: list[int],
    create_empty: bool,
    every: Duration,
    period: Duration,
    offset: Duration,
) -> Iterator[tuple[int, int]]:
    """The windows of a table's range `b` to aggregate: every one (refused at once when their rows
    would not fit the query's budget) with `create_empty`, else those that may hold one of `times`."""
    spans = Windows(b[0], b[1], every, period, offset)
    if not create_empty:
        return spans.containing(times)
    budget().ensure(window_rows_bytes(len(spans)))
    return _checked(iter(spans))


def _checked(items: Iterator[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """`items`, checking the query's time every 4096."""
    check = budget().check
    for n, item in enumerate(items):
        if not n & 4095:
            check()
        yield item


def _window_columns(t: Table, column: str, value_kind: str, time_dst: str) -> list[tuple[str, str]]:
    columns = []
    for name, kind in t.columns:
        if name == column:
            columns.append((name, value_kind))
        elif name == time_dst:
            columns.append((name, "time"))
        elif name in t.key:
            columns.append((name, kind))
    if not any(n == time_dst for n, _ in columns):
        at = max((i + 1 for i, (n, _) in enumerate(columns) if n in ("_start", "_stop")), default=0)
        columns.insert(at, (time_dst, "time"))
    if not any(n == column for n, _ in columns):
        raise FluxError(f'aggregateWindow: column "{column}" does not exist')
    return columns


def _window_kind(t: Table, fname: str, column: str) -> str:
    kind = t.type_of(column)
    if kind is None:
        raise FluxError(f'column "{column}" does not exist')
    if fname not in ("count", "first", "last") and kind not in ("float", "int", "uint"):
        raise FluxError(f"{fname}: unsupported type {kind} of column {column}")
    return kind


def _window_table(
    t: Table, column: str, value_kind: str, time_dst: str, rows_time: list[int], rows_value: list
) -> Table:
    columns = _window_columns(t, column, value_kind, time_dst)
    n = len(rows_time)
    data = []
    for name, _ in columns:
        if name == time_dst:
            data.append(rows_time)
        elif name == column:
            data.append(rows_value)
        else:
            data.append([t.keyvals.get(name)] * n)
    return Table(columns, data, list(t.key), dict(t.keyvals))


def _fast_window(t, b, fname, column, time_src, time_dst, create_empty, every, period, offset) -> Table:
    kind = _window_kind(t, fname, column)
    value_kind = AGG_TYPES.get(fname, kind)
    _window_columns(t, column, value_kind, time_dst)  # its errors before the windows'
    idx, times = time_order(t, "_time")
    col = in_order(t.col(column), idx)
    nulls = None in col
    rows_time, rows_value = [], []
    agg = AGGREGATES.get(fname)
    lo = 0
    fsum = math.fsum
    for ws, we in _windows_of(b, times, create_empty, every, period, offset):
        lo = bisect.bisect_left(times, ws, lo)  # windows ascend: search from the last one on
        hi = bisect.bisect_left(times, we, lo)
        values = col[lo:hi] if not nulls else [v for v in col[lo:hi] if v is not None]
        if not values and not create_empty:
            continue
        if fname == "mean":  # the common case, inlined
            v = fsum(values) / len(values) if values else None
        elif agg is not None:
            v = agg(values, kind)
        elif not values:
            v = None
        elif fname == "first":
            v = values[0]
        elif fname == "last":
            v = values[-1]
        elif fname == "min":
            v = min(values)
        else:
            v = max(values)
        rows_time.append(we if time_src == "_stop" else ws)
        rows_value.append(v)
    return _window_table(t, column, value_kind, time_dst, rows_time, rows_value)


def _generic_window(interp, t, b, fn, column, time_src, time_dst, create_empty, every, period, offset):
    idx, times = time_order(t, "_time")
    parts: list[Table] = []
    for ws, we in _windows_of(b, times, create_empty, every, period, offset):
        lo, hi = bisect.bisect_left(times, ws), bisect.bisect_left(times, we)
        if lo == hi and not create_empty:
            continue
        w = t.take(rows_between(idx, lo, hi))
        w.set_key_constant("_start", "time", ws)
        w.set_key_constant("_stop", "time", we)
        args = {"column": column} if not isinstance(fn, Closure) or "column" in fn.param_names else {}
        result = interp.call_function(fn, args, Stream(tables=[w]))
        got = stream_of(result, "aggregateWindow fn").tables()
        if not got or all(g.n == 0 for g in got):
            if not create_empty:
                continue
            filler = _window_columns(t, column, t.type_of(column) or "float", time_dst)
            got = [Table(filler, [[w.keyvals.get(n)] for n, _ in filler], list(w.key), dict(w.keyvals))]
            got[0].data[[n for n, _ in filler].index(column)] = [None]
        for g in got:
            src = ws if time_src == "_start" else we
            g = g.with_data([list(c) for c in g.data])
            g.set_constant(time_dst, "time", src)
            for name in ("_start", "_stop"):
                if g.has(name):
                    g.data[g.index(name)] = [t.keyvals.get(name, b[0] if name == "_start" else b[1])] * g.n
            parts.append(g)
    if not parts:
        return None
    merged = merge_tables([(p, None) for p in parts], list(t.key), dict(t.keyvals))
    return normalize_key(merged)
