"""Which time range a GROUP BY time() statement reads (`select._look_back`): influxd 1.6.7 reads one
interval before the range (after it for ORDER BY time DESC) for derivatives, differences, `elapsed`
and `moving_average` of windows, and only those calls see the extra points (`_slot_bounds`)."""

from __future__ import annotations

import pytest

from chalicelib.influxql import parse
from chalicelib.influxql.engine import plan as planner
from chalicelib.influxql.engine.select import _look_back, _slot_bounds, group_by_interval
from chalicelib.influxql.engine.windows import Windows
from chalicelib.kit.time import MIN_TIME

M = 60 * 1_000_000_000
T0 = 1_609_462_800_000_000_000  # 2021-01-01T01:00:00Z
RANGE = "time >= '2021-01-01T01:05:00Z' AND time < '2021-01-01T01:30:00Z'"
TMIN, TMAX = T0 + 5 * M, T0 + 30 * M - 1


def look_back(q: str, tmin: int = TMIN, tmax: int = TMAX) -> tuple[int, int, tuple[int, int] | None]:
    (statement,) = parse(q)
    interval, offset = group_by_interval(statement)
    return _look_back(statement, Windows(interval, offset), tmin, tmax)


@pytest.mark.parametrize(
    "call",
    [
        "derivative(mean(v))",
        "non_negative_derivative(max(v), 1m)",
        "difference(mean(v))",
        "non_negative_difference(sum(v))",
        "elapsed(mean(v))",
        "moving_average(mean(v), 5)",
        "derivative(mean(v)) * 2",
    ],
)
def test_window_transformations_read_one_interval_before(call):
    q = f"SELECT {call} FROM m WHERE {RANGE} GROUP BY time(10m)"
    assert look_back(q) == (TMIN - 10 * M, TMAX, (TMIN, TMAX))  # not aligned: 00:55


def test_descending_reads_one_interval_after():
    q = f"SELECT derivative(mean(v)) FROM m WHERE {RANGE} GROUP BY time(10m) ORDER BY time DESC"
    assert look_back(q) == (TMIN, TMAX + 10 * M, (TMIN, TMAX))


@pytest.mark.parametrize(
    "q",
    [
        f"SELECT cumulative_sum(mean(v)) FROM m WHERE {RANGE} GROUP BY time(10m)",
        f"SELECT mean(v) FROM m WHERE {RANGE} GROUP BY time(10m)",
        f"SELECT derivative(v) FROM m WHERE {RANGE}",  # raw points: no windows
    ],
)
def test_other_statements_read_their_range(q):
    assert look_back(q) == (TMIN, TMAX, None)


def test_no_lower_bound_nothing_to_extend():
    q = "SELECT derivative(mean(v)) FROM m WHERE time < '2021-01-01T01:30:00Z' GROUP BY time(10m)"
    assert look_back(q, MIN_TIME) == (MIN_TIME, TMAX, None)


def test_only_the_looking_back_calls_see_the_extra_points():
    (statement,) = parse(
        f"SELECT derivative(mean(v)), mean(v), cumulative_sum(max(v)) FROM m WHERE {RANGE} GROUP BY time(10m)"
    )
    plan = planner.plan(statement, True, 10 * M, {"v": "float"}, [])
    assert _slot_bounds(plan.slots, (TMIN, TMAX)) == [None, (TMIN, TMAX), (TMIN, TMAX)]
    assert _slot_bounds(plan.slots, None) is None
