"""The columnar feed of aggregate queries: a series' run of a window folded at once (`add_many`) gives
what feeding its points one by one gives, and window runs split ascending times as `Windows.start`."""

from __future__ import annotations

import random

import pytest

from chalicelib.influxql.engine import functions as fn
from chalicelib.influxql.engine.windows import Windows

MINUTE = 60_000_000_000


def runs_of(series: list[list[tuple[int, object]]], make):
    """Results of a reducer fed series by series, point by point and run by run."""
    one, many = make(), make()
    for points in series:
        for t, v in points:
            one.add(t, v, None)
        many.add_many([t for t, _ in points], [v for _, v in points])
    return one.result(), many.result()


REDUCERS = {
    "count": fn.Count,
    "sum": fn.Sum,
    "mean": fn.Mean,
    "spread": fn.Spread,
    "first": fn.First,
    "last": fn.Last,
    "max": fn.Max,
    "min": fn.Min,
    "median": fn.Median,
    "stddev": fn.Stddev,
    "mode": fn.Mode,
    "distinct": fn.Distinct,
    "count_distinct": fn.CountDistinct,
    "percentile": lambda: fn.Percentile(50),
    "integral": lambda: fn.Integral(1_000_000_000, None),
}


@pytest.mark.parametrize("name", sorted(REDUCERS))
@pytest.mark.parametrize("kind", ["float", "integer"])
def test_add_many_equals_add(name, kind):
    rng = random.Random(f"{name}{kind}")
    series = []
    for _ in range(4):
        times = sorted(rng.sample(range(0, 10_000), rng.randint(1, 30)))
        if kind == "float":
            values = [round(rng.uniform(-5, 5), 1) for _ in times]  # repeats: ties on value
        else:
            values = [rng.randint(-3, 3) for _ in times]
        series.append(list(zip(times, values, strict=True)))
    one, many = runs_of(series, REDUCERS[name])
    assert many == one


def test_ties_keep_point_by_point_choice():
    # equal values across series at the same time: max keeps the earliest, first/last the greater
    series = [[(5, 1.0), (7, 9.0)], [(5, 3.0), (7, 9.0)]]
    for make in (fn.Max, fn.Min, fn.First, fn.Last):
        one, many = runs_of(series, make)
        assert many == one


def test_sum_of_integers_wraps_like_point_by_point():
    one, many = runs_of([[(1, 2**62), (2, 2**62)], [(3, 2**62)]], fn.Sum)
    assert many == one == [(None, 2**62 * 3 - 2**64, None)]


@pytest.mark.parametrize(
    "windows",
    [
        Windows(0, 0),
        Windows(MINUTE, 0),
        Windows(MINUTE, 17_000_000_000),
        Windows(24 * 60 * MINUTE, 0, "America/New_York"),
        Windows(60 * MINUTE, 0, "Asia/Kolkata"),
    ],
)
def test_runs_split_times_by_window(windows):
    rng = random.Random(7)
    start = 1_615_600_000_000_000_000  # around a daylight saving change in New York
    times = sorted(set(start + rng.randrange(0, 4 * 24 * 60) * MINUTE for _ in range(2_000)))
    runs = list(windows.runs(times))
    assert [i for _, lo, hi in runs for i in range(lo, hi)] == list(range(len(times)))
    for window, lo, hi in runs:
        assert {windows.start(t) for t in times[lo:hi]} == {window}
    assert len({window for window, _, _ in runs}) == len(runs)


def test_runs_of_nothing():
    assert list(Windows(MINUTE, 0).runs([])) == []
    assert list(Windows(0, 0).runs([])) == []
