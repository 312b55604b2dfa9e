"""Aggregates folded a block at a time, for `count`/`sum`/`mean`/`min`/`max` (and `aggregateWindow` with
them) pushed into a storage read (`FromStream.folded`): the store's blocks come in time order, each
series ascending within a block, so a series' values are seen in the order its table would hold them.

Every fold gives what the general path computes from the whole column: `sum` and `mean` of floats are
`math.fsum` (correctly rounded), so a block's values are kept as exact partials (floats whose exact sum
is the block's exact sum) and `fsum` of all the partials is `fsum` of all the values; `min`/`max` keep the
first of equal values, as a scan of the column does.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from itertools import chain
from math import fsum, isfinite
from typing import Any

from chalicelib.flux.budget import budget, window_rows_bytes
from chalicelib.kit.points import UInt

NUMERIC = ("float", "int", "uint")


def exact_parts(values: list) -> list[float]:
    """Floats whose exact sum is the exact sum of `values` (as `fsum` converts them): the correctly
    rounded sum, then the correctly rounded remainder, until nothing remains (or the sum is not finite)."""
    s = fsum(values)
    parts = [s]
    while s and isfinite(s):
        s = fsum(chain(values, [-p for p in parts]))
        if s:
            parts.append(s)
    return parts


class Count:
    def __init__(self) -> None:
        self.n = 0

    def add(self, times: list[int], values: list, kind: str) -> None:
        self.n += len(values)

    def result(self, kind: str) -> Any:
        return self.n


class Sum:
    """`fsum` of float values, exact int sum of int values (`agg_sum`)."""

    def __init__(self) -> None:
        self.n = 0
        self.parts: list[float] = []
        self.total = 0

    def add(self, times: list[int], values: list, kind: str) -> None:
        self.n += len(values)
        if kind == "float":
            self.parts.extend(exact_parts(values))
            if len(self.parts) > 64:
                self.parts = exact_parts(self.parts)
        elif kind in ("int", "uint"):
            self.total += sum(values)
        # other types: the table's check raises `unsupported type`

    def result(self, kind: str) -> Any:
        if not self.n:
            return None
        if kind == "float":
            return fsum(self.parts)
        return UInt(self.total) if kind == "uint" else self.total


class Mean:
    """`fsum(values) / len(values)` (`agg_mean`), ints converted to float by `fsum` as there."""

    def __init__(self) -> None:
        self.n = 0
        self.parts: list[float] = []

    def add(self, times: list[int], values: list, kind: str) -> None:
        self.n += len(values)
        if kind in NUMERIC:
            self.parts.extend(exact_parts(values))
            if len(self.parts) > 64:
                self.parts = exact_parts(self.parts)

    def result(self, kind: str) -> Any:
        return fsum(self.parts) / self.n if self.n else None


class Extreme:
    """The first smallest (largest) value and its time, as `min()`/`max()` scan a column."""

    largest = False

    def __init__(self) -> None:
        self.n = 0
        self.best: Any = None
        self.time: int | None = None

    def add(self, times: list[int], values: list, kind: str) -> None:
        if not values:
            return
        self.n += len(values)
        m = max(values) if self.largest else min(values)
        if self.best is None or (m > self.best if self.largest else m < self.best):
            self.best = m
            self.time = times[values.index(m)]

    def result(self, kind: str) -> Any:
        return self.best


class Min(Extreme):
    largest = False


class Max(Extreme):
    largest = True


FOLDS: dict[str, Callable[[], Any]] = {"count": Count, "sum": Sum, "mean": Mean, "min": Min, "max": Max}


_BEFORE_ALL = -(2**63)


class WindowFold:
    """A fold per window of `aggregateWindow`: windows [start, stop) that tile the read's range in order
    (`windows()`, a `Windows` asked for at the first value), one row per window with a value (every
    window with `create_empty`), its time the window's stop (`use_stop`) or start. Its rows are
    charged to the query's budget as they are made; with `create_empty` all of them are refused at
    once when they could not fit."""

    def __init__(
        self,
        make: Callable[[], Any],
        windows: Callable[[], Any],
        create_empty: bool,
        use_stop: bool,
    ) -> None:
        self.make = make
        self.windows_of = windows
        self.create_empty = create_empty
        self.use_stop = use_stop
        self.n = 0
        self.kind = ""
        self.windows: Any = None  # a `Windows`: len(), [i] the bounds of window i, index(t)
        self.i = 0  # the windows before i have their rows
        self.end = 0  # the stop of window i
        self.current: Any = None  # the fold of window i
        self.rows_time: list[int] = []
        self.rows_value: list = []

    def add(self, times: list[int], values: list, kind: str) -> None:
        if not values:
            return
        if self.windows is None:
            self.windows = self.windows_of()
            if self.create_empty:
                budget().ensure(window_rows_bytes(len(self.windows)))
            self.end = self.windows[0][1] if len(self.windows) else _BEFORE_ALL
        self.n += len(values)
        self.kind = kind
        count = len(times)
        lo = 0
        while lo < count:
            if times[lo] >= self.end:
                upto = self.windows.index(times[lo])
                if upto >= len(self.windows):  # past the range (a read bounded by it has none)
                    break
                self._close(upto)
            hi = bisect_left(times, self.end, lo)
            if self.current is None:
                self.current = self.make()
            if lo == 0 and hi == count:
                self.current.add(times, values, kind)
            else:
                self.current.add(times[lo:hi], values[lo:hi], kind)
            lo = hi

    def _close(self, upto: int) -> None:
        """The rows of windows i..upto-1; window `upto` becomes the current one."""
        last = upto if self.create_empty else min(upto, self.i + 1)
        budget().charge(window_rows_bytes(last - self.i))
        for k in range(self.i, last):
            fold = self.current if k == self.i else None
            if fold is None or not fold.n:
                if not self.create_empty:
                    continue
                fold = self.make()
            ws, we = self.windows[k]
            self.rows_time.append(we if self.use_stop else ws)
            self.rows_value.append(fold.result(self.kind))
        self.i = upto
        self.current = None
        if upto < len(self.windows):
            self.end = self.windows[upto][1]

    def finish(self) -> tuple[list[int], list]:
        if self.windows is not None:
            self._close(len(self.windows))
        return self.rows_time, self.rows_value
