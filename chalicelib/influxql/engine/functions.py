"""InfluxQL aggregates, selectors and transformations as incremental reducers.

A reducer receives the points of one window (`add(time, value, aux)`, in any order) and gives the
window's output points (`result()`): a list of `(time, value, aux)` where time None stands for the
window's time. Selectors keep the chosen point's time and auxiliary values. Transformations
(`Transform`) consume a time-ordered stream of points and emit points as they go.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter, deque
from typing import Any

Point = tuple[int | None, Any, Any]  # (time, value, aux)

AGGREGATES = {"count", "distinct", "integral", "mean", "median", "mode", "spread", "stddev", "sum"}
SELECTORS = {"bottom", "first", "last", "max", "min", "percentile", "sample", "top"}
TRANSFORMS = {
    "derivative", "non_negative_derivative", "difference", "non_negative_difference",
    "moving_average", "cumulative_sum", "elapsed",
    *("exponential_moving_average", "relative_strength_index", "chande_momentum_oscillator"),
    "kaufmans_efficiency_ratio",
}  # fmt: skip
# Technical analysis transformations: (period, hold period, warmup type) arguments.
TECHNICAL = {
    "exponential_moving_average", "relative_strength_index", "chande_momentum_oscillator",
    "kaufmans_efficiency_ratio",
}  # fmt: skip
WARMUP_TYPES = {"exponential", "simple", "none"}
NUMERIC_ONLY = {
    "mean", "median", "spread", "stddev", "sum", "integral", "percentile", "min", "max", "top", "bottom",
    "derivative", "non_negative_derivative", "difference", "non_negative_difference", "moving_average",
    "cumulative_sum", *TECHNICAL,
}  # fmt: skip
# numeric-only calls influxd 1.6 also gives boolean fields (true is greater than false)
BOOLEAN_TOO = {"min", "max"}
# The type of a call's result given its argument's field type (None: the argument's type).
FLOAT_RESULT = {
    "mean",
    "median",
    "stddev",
    "integral",
    "derivative",
    "non_negative_derivative",
    "moving_average",
    *TECHNICAL,
}


def result_type(name: str, field_type: str) -> str:
    if name == "count" or name == "elapsed":
        return "integer"
    if name in FLOAT_RESULT:
        return "float"
    return field_type


class Reducer:
    def add(self, time: int, value: Any, aux: Any) -> None:
        raise NotImplementedError

    def add_many(self, times: list[int], values: list) -> None:
        """Add one series' points of the window (times ascending and unique, no None values, no aux).
        Overridden where a whole run folds faster than point by point."""
        for time, value in zip(times, values, strict=True):
            self.add(time, value, None)

    def result(self) -> list[Point]:
        raise NotImplementedError


class Count(Reducer):
    def __init__(self) -> None:
        self.n = 0

    def add(self, time, value, aux):
        self.n += 1

    def add_many(self, times, values):
        self.n += len(values)

    def result(self):
        return [(None, self.n, None)]


class CountDistinct(Reducer):
    def __init__(self) -> None:
        self.seen: set = set()

    def add(self, time, value, aux):
        self.seen.add((type(value), value))

    def result(self):
        return [(None, len(self.seen), None)]


class Sum(Reducer):
    def __init__(self) -> None:
        self.total: Any = None

    def add(self, time, value, aux):
        self.total = value if self.total is None else self.total + value

    def add_many(self, times, values):
        # sum() with a start folds left to right, so the result is the point-by-point one
        self.total = sum(values[1:], values[0]) if self.total is None else sum(values, self.total)

    def result(self):
        total = self.total
        if type(total) is int:
            total = (total + (1 << 63)) % (1 << 64) - (1 << 63)
        return [(None, total, None)]


class Mean(Reducer):
    def __init__(self) -> None:
        self.total = 0.0
        self.n = 0

    def add(self, time, value, aux):
        self.total += value
        self.n += 1

    def add_many(self, times, values):
        self.total = sum(values, self.total)
        self.n += len(values)

    def result(self):
        return [(None, self.total / self.n, None)]


class Values(Reducer):
    """Base of reducers needing every value of the window."""

    def __init__(self) -> None:
        self.values: list = []

    def add(self, time, value, aux):
        self.values.append(value)

    def add_many(self, times, values):
        self.values.extend(values)


class Median(Values):
    def result(self):
        values = sorted(self.values)
        n = len(values)
        if n % 2:
            return [(None, float(values[n // 2]), None)]
        low, high = values[n // 2 - 1], values[n // 2]
        return [(None, float(low) + float(high - low) / 2, None)]


class Mode(Values):
    def result(self):
        counts = Counter(self.values)
        best = max(counts.values())
        return [(None, min(v for v, c in counts.items() if c == best), None)]


class Spread(Reducer):
    def __init__(self) -> None:
        self.low: Any = None
        self.high: Any = None

    def add(self, time, value, aux):
        if self.low is None:
            self.low = self.high = value
        else:
            self.low = min(self.low, value)
            self.high = max(self.high, value)

    def add_many(self, times, values):
        self.add(0, min(values), None)
        self.add(0, max(values), None)

    def result(self):
        return [(None, self.high - self.low, None)]


class Stddev(Values):
    def result(self):
        n = len(self.values)
        if n < 2:
            return [(None, None, None)]
        mean = sum(float(v) for v in self.values) / n
        variance = sum((float(v) - mean) ** 2 for v in self.values) / (n - 1)
        return [(None, math.sqrt(variance), None)]


class Distinct(Reducer):
    """distinct(): each value once, ordered (as influxd) by the time it was first seen."""

    def __init__(self) -> None:
        self.seen: dict = {}

    def add(self, time, value, aux):
        key = (type(value), value)
        known = self.seen.get(key)
        if known is None or time < known[0]:
            self.seen[key] = (time, value)

    def result(self):
        return [(None, v, None) for _, v in sorted(self.seen.values(), key=lambda p: p[0])]


class Integral(Reducer):
    def __init__(self, unit: int, window: tuple[int, int] | None) -> None:
        self.unit = unit
        self.points: list[tuple[int, float]] = []

    def add(self, time, value, aux):
        self.points.append((time, float(value)))

    def result(self):
        points = sorted(self.points)
        total = 0.0
        for (t0, v0), (t1, v1) in itertools.pairwise(points):
            total += (v0 + v1) / 2 * (t1 - t0) / self.unit
        return [(None, total, None)]


class First(Reducer):
    def __init__(self) -> None:
        self.best: Point | None = None

    def add(self, time, value, aux):
        best = self.best
        # influxd breaks ties at equal times by keeping the greater value
        if best is None or time < best[0] or (time == best[0] and value > best[1]):
            self.best = (time, value, aux)

    def add_many(self, times, values):
        self.add(times[0], values[0], None)

    def result(self):
        return [self.best]


class Last(First):
    def add(self, time, value, aux):
        best = self.best
        if best is None or time > best[0] or (time == best[0] and value > best[1]):
            self.best = (time, value, aux)

    def add_many(self, times, values):
        self.add(times[-1], values[-1], None)


class Max(First):
    def add(self, time, value, aux):
        best = self.best
        if best is None or value > best[1] or (value == best[1] and time < best[0]):
            self.best = (time, value, aux)

    def add_many(self, times, values):
        high = max(values)
        self.add(times[values.index(high)], high, None)  # the earliest of equal values


class Min(First):
    def add(self, time, value, aux):
        best = self.best
        if best is None or value < best[1] or (value == best[1] and time < best[0]):
            self.best = (time, value, aux)

    def add_many(self, times, values):
        low = min(values)
        self.add(times[values.index(low)], low, None)  # the earliest of equal values


class Points(Reducer):
    def __init__(self) -> None:
        self.points: list[Point] = []

    def add(self, time, value, aux):
        self.points.append((time, value, aux))


class Percentile(Points):
    def __init__(self, percentile: float) -> None:
        super().__init__()
        self.percentile = percentile

    def result(self):
        points = sorted(self.points, key=lambda p: (p[1], p[0]))
        i = math.floor(len(points) * self.percentile / 100 + 0.5) - 1
        if i < 0 or i >= len(points):
            return [(None, None, None)]
        return [points[i]]


class Sample(Reducer):
    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0
        self.points: list[Point] = []

    def add(self, time, value, aux):
        self.seen += 1
        if len(self.points) < self.n:
            self.points.append((time, value, aux))
        else:
            j = random.randrange(self.seen)
            if j < self.n:
                self.points[j] = (time, value, aux)

    def result(self):
        return sorted(self.points, key=lambda p: p[0])


class TopBottom(Points):
    """top()/bottom(): the N highest (lowest) points, one per distinct tag combination when tags are
    given (the `key` of the aux), returned in time order."""

    def __init__(self, n: int, top: bool, by_tags: bool) -> None:
        super().__init__()
        self.n = n
        self.top = top
        self.by_tags = by_tags

    def _rank(self, point: Point) -> tuple:
        time, value, _ = point
        return (-value if self.top else value, time)

    def result(self):
        points = self.points
        if self.by_tags:
            best: dict = {}
            for point in points:
                key = point[2][0]
                if key not in best or self._rank(point) < self._rank(best[key]):
                    best[key] = point
            points = list(best.values())
        chosen = sorted(points, key=self._rank)[: self.n]
        return sorted(chosen, key=lambda p: (p[0], self._rank(p)))


# -- transformations --------------------------------------------------------------------------------


class _Ema:
    """An exponential moving average over `period` points with influxd's warmups: `exponential`
    scales alpha as 2/(n+1) over the first points (n seen so far), `simple` averages them, `none`
    starts at the first value; afterwards alpha is `alpha` (2/(period+1) unless given)."""

    def __init__(self, period: int, warmup: str, alpha: float | None = None) -> None:
        self.period = period
        self.warmup = warmup
        self.alpha = 2 / (period + 1) if alpha is None else alpha
        self.count = 0
        self.value = 0.0

    def add(self, v: float) -> float:
        n = self.count
        if n == 0:
            self.value = v
        elif n < self.period and self.warmup != "none":
            if self.warmup == "simple":
                self.value = (self.value * n + v) / (n + 1)
            else:
                self.value += (v - self.value) * 2 / (n + 2)
        else:
            self.value += (v - self.value) * self.alpha
        self.count += 1
        return self.value


class _Technical:
    """influxd's technical analysis transformations over a stream of float values."""

    def __init__(self, name: str, period: int, hold: int, warmup: str) -> None:
        self.name = name
        self.period = period
        self.warmup = warmup or ("none" if name == "chande_momentum_oscillator" else "exponential")
        if hold < 0:
            hold = {
                "exponential_moving_average": period - 1,
                "relative_strength_index": period,
                "chande_momentum_oscillator": period if self.warmup != "none" else period - 1,
                "kaufmans_efficiency_ratio": period,
            }[name]
        self.hold = hold
        self.seen = 0
        self.ema = _Ema(period, self.warmup)
        self.up = _Ema(period + 1, self.warmup, 1 / period)
        self.down = _Ema(period + 1, self.warmup, 1 / period)
        self.last = 0.0
        self.values: deque = deque(maxlen=period + 1)

    def add(self, v: float) -> float | None:
        name = self.name
        out: float | None
        if name == "exponential_moving_average":
            out = self.ema.add(v)
        elif name == "relative_strength_index":
            diff = v - self.last
            self.last = v
            up, down = self.up.add(max(diff, 0.0)), self.down.add(max(-diff, 0.0))
            out = 100.0 if down == 0 else 100 - 100 / (1 + up / down)
        else:
            self.values.append(v)
            values = list(self.values)
            diffs = [b - a for a, b in itertools.pairwise(values)]
            if name == "chande_momentum_oscillator":
                up = sum(d for d in diffs if d > 0)
                down = -sum(d for d in diffs if d < 0)
                out = 100 * (up - down) / (up + down) if up + down else 0.0
            else:
                total = sum(abs(d) for d in diffs)
                out = abs(values[-1] - values[0]) / total if total else 0.0
        self.seen += 1
        return out if self.seen > self.hold else None


class Transform:
    def __init__(
        self,
        name: str,
        unit: int = 0,
        window: int = 0,
        ascending: bool = True,
        technical: tuple[int, str] = (-1, ""),
    ) -> None:
        self.name = name
        self.technical = _Technical(name, window, *technical) if name in TECHNICAL else None
        self.ascending = ascending
        self.unit = unit
        self.window = window
        self.prev: tuple[int, Any] | None = None
        self.total: Any = None
        self.recent: deque = deque(maxlen=window or None)

    def push(self, time: int, value: Any) -> list[tuple[int, Any]]:
        """The points emitted for input point (time, value); None values are skipped."""
        if value is None:
            return []
        name = self.name
        if self.technical is not None:
            out = self.technical.add(float(value))
            return [] if out is None else [(time, out)]
        if name == "cumulative_sum":
            self.total = value if self.total is None else self.total + value
            return [(time, self.total)]
        if name == "moving_average":
            self.recent.append(value)
            if len(self.recent) < self.window:
                return []
            return [(time, sum(float(v) for v in self.recent) / self.window)]
        prev, self.prev = self.prev, (time, value)
        if prev is None:
            return []
        if name == "elapsed":
            return [(time, (time - prev[0]) // self.unit)]
        if name in ("difference", "non_negative_difference"):
            diff = value - prev[1]
            if name == "non_negative_difference" and diff < 0:
                return []
            return [(time, diff)]
        # derivative
        if time == prev[0]:
            return []
        elapsed = (time - prev[0]) if self.ascending else (prev[0] - time)
        elapsed /= self.unit
        rate = (float(value) - float(prev[1])) / elapsed
        if name == "non_negative_derivative" and rate < 0:
            return []
        return [(time, rate)]
