"""holtWinters and holtWintersWithFit: InfluxDB's Holt-Winters reducer against its own tests
(query/functions_test.go), Kapacitor's integration tests (TestStream_HoltWinters*) through the task
runtime, a batch task, a run split by to_state()/build(), and the Go arithmetic it reproduces."""

from __future__ import annotations

import math
import random

import pytest

from chalicelib.kit.time import SECOND
from chalicelib.tick.exec import Batch, BatchPoint, TaskRuntime
from chalicelib.tick.exec.holtwinters import _powers, go_pow_int, holt_winters
from tests.unit.test_tick_exec_alert import runtime
from tests.unit.test_tick_exec_kapacitor import ZERO, replay, run, t

S = SECOND
MAX_TIME = 2**63 - 2  # influxql.MaxTime


def assert_points(got: list[tuple[int, float]], expected: list[tuple[int, float]]) -> None:
    # The times exactly; the values to the last bit (InfluxDB's tests allow 1e-5, we match Go exactly).
    assert [p[0] for p in got] == [p[0] for p in expected]
    assert [p[1] for p in got] == [p[1] for p in expected]


# ---- InfluxDB's query/functions_test.go ----------------------------------------------------------------

AUS_TOURISTS = [
    30.052513, 19.148496, 25.317692, 27.591437, 32.076456, 23.487961, 28.47594, 35.123753, 36.838485,
    25.007017, 30.72223, 28.693759, 36.640986, 23.824609, 29.311683, 31.770309, 35.177877, 19.775244,
    29.60175, 34.538842, 41.273599, 26.655862, 28.279859, 35.191153, 41.727458, 24.04185, 32.328103,
    37.328708, 46.213153, 29.346326, 36.48291, 42.977719, 48.901525, 31.180221, 37.717881, 40.420211,
    51.206863, 31.887228, 40.978263, 43.772491, 55.558567, 33.850915, 42.076383, 45.642292, 59.76678,
    35.191877, 44.319737, 47.913736,
]  # fmt: skip

US_POPULATION = [
    3.93, 5.31, 7.24, 9.64, 12.90, 17.10, 23.20, 31.40, 39.80, 50.20, 62.90, 76.00, 92.00, 105.70, 122.80,
    131.70, 151.30, 179.30, 203.20,
]  # fmt: skip


def test_aus_tourists_seasonal_forecast() -> None:
    points = [(i + 1, v) for i, v in enumerate(AUS_TOURISTS)]
    expected = [
        51.85064132137853, 43.26055282315273, 41.827258044814464, 54.3990354591749, 54.62334472770803,
        45.57155693625209, 44.06051240252263, 57.30029870759433, 57.53591513519172, 47.999008139396096,
    ]  # fmt: skip
    assert_points(holt_winters(points, 10, 4, False, 1), list(zip(range(49, 59), expected, strict=True)))


def test_aus_tourists_with_missing_values() -> None:
    missing = {2, 8, 18, 29, 33, 39, 40}
    points = [(i + 1, v) for i, v in enumerate(AUS_TOURISTS) if i + 1 not in missing]
    expected = [
        54.84533610387743, 41.19329421863249, 45.71673175112451, 56.05759298805955, 59.32337460282217,
        44.75280096850461, 49.98865098113751, 61.86084934967605, 65.95805633454883, 50.1502170480547,
    ]  # fmt: skip
    assert_points(holt_winters(points, 10, 4, False, 1), list(zip(range(49, 59), expected, strict=True)))


def test_us_population_with_fit() -> None:
    points = [(i + 1, v) for i, v in enumerate(US_POPULATION)]
    expected = [
        3.93, 4.957405463559748, 7.012210102535647, 10.099589257439924, 14.229926188104242,
        19.418878968703797, 25.68749172281409, 33.062351305731305, 41.575791076125206, 51.26614395589263,
        62.178047564264595, 74.36280483872488, 87.87880423073163, 102.79200429905801, 119.17648832929542,
        137.11509549747296, 156.70013608313175, 178.03419933863566, 201.23106385518594, 226.4167216525905,
        253.73052878285205, 283.32649700397553, 315.37474308085984, 350.06311454009256, 387.59901328556873,
        428.21144141893404, 472.1532969569147, 519.7039509590035, 571.1721419458248,
    ]  # fmt: skip
    assert_points(holt_winters(points, 10, 0, True, 1), list(zip(range(1, 30), expected, strict=True)))


def test_us_population_with_missing_values() -> None:
    missing = {9, 14, 18}
    points = [(i + 1, v) for i, v in enumerate(US_POPULATION) if i + 1 not in missing]
    expected = [
        3.93, 4.8931364428135105, 6.962653629047061, 10.056207765903274, 14.18435088129532,
        19.362939306110846, 25.613247940326584, 32.96213087008264, 41.442230043017204, 51.09223428526052,
        61.95719155158485, 74.08887794968567, 87.54622778052787, 102.39582960014131, 118.7124941463221,
        136.57990089987464, 156.09133107941278, 177.35049601833734, 200.472471161683, 225.58474737097785,
        252.82841286206823, 282.35948095261017, 314.3503808953992, 348.99163145856954, 386.49371962730555,
        427.08920989407727, 471.0351131332573, 518.615548088049, 570.1447331101863,
    ]  # fmt: skip
    assert_points(holt_winters(points, 10, 0, True, 1), list(zip(range(1, 30), expected, strict=True)))


def test_round_time_to_the_interval() -> None:
    # Go's test rounds MaxTime to the second, past int64 (it wraps); the times here are the unwrapped ones.
    top = 9_223_372_037 * S
    data = [(top - 5 * S, 1.0), (top - 4103 * S // 1000, 10.0), (top - 3223 * S // 1000, 2.0)]
    data.append((top - 2481 * S // 1000, 11.0))
    expected = [
        (top - 5 * S, 1.0),
        (top - 4 * S, 10.006729104838234),
        (top - 3 * S, 1.998341814469269),
        (top - 2 * S, 10.997858830631172),
        (top - 1 * S, 4.085860238030013),
        (top, 11.35713604403339),
    ]
    assert_points(holt_winters(data, 2, 2, True, S), expected)


def test_max_time() -> None:
    data = [(MAX_TIME - 1, 1.0), (MAX_TIME, 2.0)]
    expected = [(MAX_TIME - 1, 1.0), (MAX_TIME, 2.001516944066403), (MAX_TIME + 1, 2.5365248972488343)]
    assert_points(holt_winters(data, 1, 0, True, 1), expected)


def test_too_little_data_forecasts_nothing() -> None:
    assert holt_winters([(1, 1.0)], 3, 0, False, 1) == []  # fewer than 2 points
    assert holt_winters([(1, 1.0), (2, 2.0), (3, 3.0)], 3, 4, False, 1) == []  # fewer points than m
    assert holt_winters([(1, 1.0), (2, 2.0)], 0, 0, False, 1) == []  # no horizon
    assert holt_winters([(10, 1.0), (12, 2.0)], 3, 0, False, 10) == []  # one interval only


# ---- Go's arithmetic -----------------------------------------------------------------------------------


def test_go_pow_squares_the_mantissa() -> None:
    # Go's math.Pow multiplies repeated squares; it can differ from libm's pow in the last bit.
    assert go_pow_int(0.5, 3) == 0.125 and go_pow_int(1.0, 7) == 1.0 and go_pow_int(0.0, 3) == 0.0
    assert math.isnan(go_pow_int(math.nan, 2))
    assert go_pow_int(1e-300, 5) == 0.0
    differs = [
        x for x in (random.Random(7).random() for _ in range(2000)) if go_pow_int(x, 13) != math.pow(x, 13)
    ]
    assert differs  # the two really differ, so the Go way matters for bit-exact results


def test_the_powers_table_is_go_pow_for_every_exponent() -> None:
    rng = random.Random(3)
    for _ in range(300):
        x = rng.random() ** rng.choice([1, 5, 50, 400])
        size = rng.randint(2, 200)
        table = _powers(x, size)
        assert [table[n] for n in range(1, size)] == [go_pow_int(x, n) for n in range(1, size)]


# ---- Kapacitor's integrations/streamer_test.go ---------------------------------------------------------

PACKETS = "\n".join(
    f"packets,host=serverA value={v} {i + 1:010d}"
    for i, v in enumerate([1000, 1001, 1002, 1003, 1004, 1006, 1007, 1007, 1008, 1009, 1010, 1011])
)

SCRIPT = """
stream
    |from()
        .measurement('packets')
        .groupBy('host')
    |window()
        .period(10s)
        .every(10s)
    |{fn}('value', 3, 0, 1s)
    |where(lambda: "host" == 'serverA')
    |httpOut('TestStream_HoltWinters')
"""

FORECAST = [[t(10), 1009.324690106368], [t(11), 1009.7524349889708], [t(12), 1010.105056042826]]
FIT = [
    [t(0), 1000.0],
    [t(1), 1000.7349380776699],
    [t(2), 1001.8935462884633],
    [t(3), 1003.1750039651934],
    [t(4), 1004.4245269000132],
    [t(5), 1005.5685498251902],
    [t(6), 1006.5782508658309],
    [t(7), 1007.4488388165385],
    [t(8), 1008.1877681696025],
    [t(9), 1008.8080773333872],
]


@pytest.mark.parametrize(
    ("fn", "expected"), [("holtWinters", FORECAST), ("holtWintersWithFit", FIT + FORECAST)]
)
def test_stream_holt_winters(fn: str, expected: list[list[object]]) -> None:
    out = run(SCRIPT.format(fn=fn), PACKETS, 15)
    assert out.http["TestStream_HoltWinters"]["series"] == [
        {
            "name": "packets",
            "tags": {"host": "serverA"},
            "columns": ["time", "holtWinters"],
            "values": expected,
        }
    ]


# ---- a batch task --------------------------------------------------------------------------------------

BATCH_SCRIPT = """
batch
    |query('SELECT value FROM "db"."rp"."packets"').period(10s).every(10s).groupBy('host')
    |holtWinters('value', 3, 0, 1s)
        .as('forecast')
    |httpOut('out')
"""


def packets(end: int, values: list[float | int], host: str = "serverA") -> Batch:
    start = end - 10
    points = [BatchPoint(ZERO + (start + i) * S, {"value": v}, {"host": host}) for i, v in enumerate(values)]
    return Batch("packets", ZERO + end * S, {"host": host}, points)


WINDOW = [1000, 1001, 1002, 1003, 1004, 1006, 1007, 1007, 1008, 1009]


def test_batch_task_forecasts_after_the_last_point() -> None:
    rt = runtime(BATCH_SCRIPT, kind="batch")
    out = rt.feed_batch("query1", packets(10, [float(v) for v in WINDOW]))
    assert out.http["out"]["series"] == [
        {"name": "packets", "tags": {"host": "serverA"}, "columns": ["time", "forecast"], "values": FORECAST}
    ]
    # Integer fields are forecast as floats, identically.
    again = runtime(BATCH_SCRIPT, kind="batch").feed_batch("query1", packets(10, WINDOW))
    assert again.http["out"] == out.http["out"]


def test_batch_task_bad_and_short_batches() -> None:
    rt = runtime(BATCH_SCRIPT, kind="batch")
    out = rt.feed_batch("query1", packets(10, ["a", "b"]))  # type: ignore[list-item]
    assert out.http["out"] == {"series": None}  # no point could be aggregated: no batch, as Kapacitor
    assert "cannot apply holtWinters to string field" in out.logs[0].values["err"]
    short = rt.feed_batch("query1", packets(20, [1.0]))  # too short to forecast: an empty batch
    assert short.http["out"]["series"] == [{"name": "packets", "tags": {"host": "serverA"}}]
    # A zero interval (a panic in Go) is an error for the batch, not the end of the task.
    zero = runtime(BATCH_SCRIPT.replace("1s)", "0s)"), kind="batch")
    out = zero.feed_batch("query1", packets(10, [1.0, 2.0, 3.0]))
    assert out.http["out"] == {"series": None}
    assert out.logs[0].values["err"] == "holtWinters needs a positive interval, got 0"


def test_a_restarted_task_forecasts_as_one_run() -> None:
    # The reducer lives for one batch: the saved state holds no series, and a restart changes nothing.
    batches = [packets(10, WINDOW), packets(20, [v + 10 for v in WINDOW]), packets(30, WINDOW[::-1])]
    whole = runtime(BATCH_SCRIPT, kind="batch")
    expected = [whole.feed_batch("query1", b).http["out"] for b in batches]
    got = []
    state = None
    for b in batches:
        rt: TaskRuntime = runtime(BATCH_SCRIPT, state, kind="batch")
        got.append(rt.feed_batch("query1", b).http["out"])
        state = rt.to_state()
    assert got == expected
    assert len(expected[1]["series"][0]["values"]) == 3


def test_stream_replay_split_by_a_restart() -> None:
    script = SCRIPT.format(fn="holtWintersWithFit")
    points = replay(PACKETS, 15)
    first = runtime(script)
    first.feed_points(points[:5])
    second = runtime(script, first.to_state())
    out = second.feed_points(points[5:])
    assert out.http["TestStream_HoltWinters"]["series"][0]["values"] == FIT + FORECAST
