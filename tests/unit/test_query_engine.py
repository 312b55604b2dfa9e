"""Unit tests of the query engine's pure parts: reducers, transforms, expression typing, windows,
CSV and chunking."""

from __future__ import annotations

import math

import pytest

from chalicelib.influxql.engine import functions as fn
from chalicelib.influxql.engine.csv import format_float, to_csv
from chalicelib.influxql.engine.evaluate import binary, call_math
from chalicelib.influxql.engine.run import chunks
from chalicelib.influxql.engine.windows import Windows


def reduce(reducer, points):
    for t, v in points:
        reducer.add(t, v, None)
    return reducer.result()


@pytest.mark.parametrize(
    "reducer, points, expected",
    [
        (fn.Sum(), [(1, 2), (2, 3)], [(None, 5, None)]),
        (fn.Mean(), [(1, 2), (2, 3)], [(None, 2.5, None)]),
        (fn.Median(), [(1, 1), (2, 9), (3, 4), (4, 2)], [(None, 3.0, None)]),
        (fn.Mode(), [(1, 3), (2, 1), (3, 3), (4, 1)], [(None, 1, None)]),
        (fn.Spread(), [(1, 3), (2, -1)], [(None, 4, None)]),
        (fn.Stddev(), [(1, 5.0)], [(None, None, None)]),
        (fn.Max(), [(1, 5), (2, 5), (3, 1)], [(1, 5, None)]),
        (fn.Min(), [(3, 1), (1, 1)], [(1, 1, None)]),
        (fn.First(), [(3, 1), (1, 2)], [(1, 2, None)]),
        (fn.Last(), [(3, 1), (1, 2)], [(3, 1, None)]),
        (fn.Percentile(90), [(i, i) for i in range(1, 11)], [(9, 9, None)]),
        (fn.Percentile(1), [(1, 1), (2, 2)], [(None, None, None)]),
        (fn.Integral(1_000_000_000, None), [(0, 0.0), (2_000_000_000, 2.0)], [(None, 2.0, None)]),
        (fn.Distinct(), [(1, 2), (2, 1), (3, 2)], [(None, 2, None), (None, 1, None)]),  # first seen
        (fn.First(), [(1, 1), (1, 3), (1, 2)], [(1, 3, None)]),  # equal times: the greater value
        (fn.Last(), [(1, 1), (1, 3), (1, 2)], [(1, 3, None)]),
    ],
)
def test_reducers(reducer, points, expected):
    assert reduce(reducer, points) == expected


def test_top_bottom_are_time_ordered_and_tag_distinct():
    top = fn.TopBottom(2, top=True, by_tags=True)
    for t, v, host in [(1, 9, "a"), (2, 8, "a"), (3, 5, "b"), (4, 1, "c")]:
        top.add(t, v, ((host,), {}, {}))
    assert [(t, v) for t, v, _ in top.result()] == [(1, 9), (3, 5)]


def test_transforms():
    derivative = fn.Transform("derivative", unit=1_000_000_000)
    out = [
        p for t, v in [(0, 1.0), (2_000_000_000, 5.0), (3_000_000_000, None)] for p in derivative.push(t, v)
    ]
    assert out == [(2_000_000_000, 2.0)]
    average = fn.Transform("moving_average", window=3)
    assert [p for t in range(4) for p in average.push(t, t)] == [(2, 1.0), (3, 2.0)]


@pytest.mark.parametrize(
    "op, a, b, expected",
    [
        ("+", 1, 2, 3),
        ("/", 3, 2, 1.5),
        ("/", 3, 0, 0.0),
        ("%", 7, 0, 0),
        ("*", 2, 1.5, 3.0),
        ("+", "a", "b", "ab"),
        ("&", 6, 3, 2),
        ("+", 1, None, None),
        ("-", True, 1, None),
    ],
)
def test_binary(op, a, b, expected):
    assert binary(op, a, b) == expected and type(binary(op, a, b)) is type(expected)


def test_math():
    assert (
        call_math("abs", [-3]) == 3
        and call_math("round", [2.5]) == 3.0
        and call_math("round", [-2.5]) == -3.0
    )
    assert call_math("floor", [7]) == 7 and math.isnan(call_math("sqrt", [-1.0]))
    assert call_math("log", [8, 2]) == 3.0 and call_math("pow", [2, 10]) == 1024.0
    assert call_math("sin", ["x"]) is None


def test_windows_offset_and_zone():
    windows = Windows(60_000_000_000, 15_000_000_000)
    assert windows.start(10_000_000_000) == -45_000_000_000
    assert windows.range(0, 119_000_000_000) == [-45_000_000_000, 15_000_000_000, 75_000_000_000]
    day = 86_400_000_000_000
    paris = Windows(day, 0, "Europe/Paris")  # UTC+1 in January
    assert paris.start(day * 10 + 3_600_000_000_000) == day * 10 - 3_600_000_000_000


def test_csv_and_float_format():
    assert format_float(1e21) == "1000000000000000000000" and format_float(0.1) == "0.1"
    payload = {
        "results": [
            {
                "statement_id": 0,
                "series": [
                    {
                        "name": "m",
                        "tags": {"a": "x y", "b": "1,2"},
                        "columns": ["time", "v"],
                        "values": [[1, 'q"']],
                    }
                ],
            }
        ]
    }
    assert to_csv(payload) == 'name,tags,time,v\nm,"a=x\\ y,b=1\\,2",1,"q"""\n'


def test_chunks_split_series():
    payload = {
        "results": [{"statement_id": 0, "series": [{"name": "m", "columns": ["time"], "values": [[1], [2]]}]}]
    }
    got = list(chunks(payload, 1))
    assert got[0]["results"][0]["partial"] is True and got[0]["results"][0]["series"][0]["partial"] is True
    assert "partial" not in got[1]["results"][0]


def _run(transform: fn.Transform, values: list[float]) -> list[tuple[int, float]]:
    return [out for t, v in enumerate(values) for out in transform.push(t, v)]


def test_technical_analysis_transforms():
    values = [4.0, 2.0, 3.0, 5.0, 4.0]
    # EMA(3): alpha scaled 2/(n+2) while warming up, then 2/(3+1); held for period-1 points
    ema = _run(fn.Transform("exponential_moving_average", window=3), values)
    assert [t for t, _ in ema] == [2, 3, 4]
    e1 = 4 + (2 - 4) * 2 / 3
    e2 = e1 + (3 - e1) * 0.5
    assert ema[0][1] == pytest.approx(e2)
    assert ema[1][1] == pytest.approx(e2 + (5 - e2) * 0.5)
    # CMO(2) over the last 2 changes, from the 2nd point; KER(2) from the 3rd
    cmo = _run(fn.Transform("chande_momentum_oscillator", window=2), values)
    assert cmo[:3] == [(1, -100.0), (2, pytest.approx(100 * (1 - 2) / 3)), (3, 100.0)]
    ker = _run(fn.Transform("kaufmans_efficiency_ratio", window=2), values)
    assert ker[:2] == [(2, pytest.approx(1 / 3)), (3, 1.0)]
    rsi = _run(fn.Transform("relative_strength_index", window=2), values)
    assert [t for t, _ in rsi] == [2, 3, 4]
    assert all(0 <= v <= 100 for _, v in rsi)
