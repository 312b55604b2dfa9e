"""The task runtime against Kapacitor's own integration tests (integrations/streamer_test.go): the same
scripts over the same replayed data (integrations/testdata/*.srpl) give the same httpOut results and
alerts; and a run split by to_state()/build() gives exactly the output of one uninterrupted run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.alert.events import Level
from chalicelib.kit.time import SECOND
from chalicelib.lineprotocol.parser import parse as parse_lines
from chalicelib.tick.evaluate import evaluate
from chalicelib.tick.exec import Outputs, Point, TaskRuntime
from chalicelib.tick.parser import parse
from chalicelib.tick.pipeline import executing_dot
from tests.unit.test_tick_exec_alert import config

S = SECOND
ZERO = 31_536_000 * S  # 1971-01-01T00:00:00Z: the replay moves the first point there


def t(seconds: int) -> str:
    return f"1971-01-01T00:00:{seconds:02d}Z"


def replay(data: str, duration: int) -> list[Point]:
    """Kapacitor's stream replay: times shifted so the first point is at ZERO, up to ZERO + duration s."""
    parsed = [parse_lines(line, precision="s")[0] for line in data.strip().splitlines()]
    diff = ZERO - parsed[0].time
    return [
        Point(p.measurement, p.time + diff, dict(p.fields), dict(p.tags), "dbname", "rpname")
        for p in parsed
        if p.time + diff <= ZERO + duration * S
    ]


def runtime(script: str, state: dict[str, Any] | None = None, **values: Any) -> TaskRuntime:
    pipeline = evaluate(parse(script), "stream").pipeline
    return TaskRuntime.build(pipeline, state, config(**values))


def run(script: str, data: str, duration: int) -> Outputs:
    return runtime(script).feed_points(replay(data, duration))


# ---- the replayed data ---------------------------------------------------------------------------------

WINDOW = """
cpu,type=idle,host=serverA value=97.1 0000000001
cpu,type=idle,host=serverB value=97.1 0000000001
cpu,type=idle,host=serverC value=96.4 0000000001
disk,type=sda,host=serverB value=39 0000000001
cpu,type=idle,host=serverA value=92.6 0000000002
cpu,type=idle,host=serverB value=92.6 0000000002
cpu,type=idle,host=serverA value=95.6 0000000003
cpu,type=idle,host=serverB value=95.6 0000000003
cpu,type=idle,host=serverA value=93.1 0000000004
cpu,type=idle,host=serverB value=93.1 0000000004
cpu,type=idle,host=serverA value=92.6 0000000005
cpu,type=idle,host=serverB value=92.6 0000000005
cpu,type=idle,host=serverA value=95.8 0000000006
cpu,type=idle,host=serverB value=95.8 0000000006
cpu,type=idle,host=serverC value=95.8 0000000006
cpu,type=idle,host=serverA value=92.7 0000000007
cpu,type=idle,host=serverB value=92.7 0000000007
cpu,type=idle,host=serverA value=96.0 0000000008
cpu,type=idle,host=serverB value=96.0 0000000008
cpu,type=idle,host=serverA value=93.4 0000000009
cpu,type=idle,host=serverB value=93.4 0000000009
disk,type=sda,host=serverB value=423 0000000009
cpu,type=idle,host=serverA value=95.3 0000000010
cpu,type=idle,host=serverB value=95.3 0000000010
cpu,type=idle,host=serverA value=96.4 0000000011
cpu,type=idle,host=serverB value=96.4 0000000011
cpu,type=idle,host=serverA value=95.1 0000000012
cpu,type=idle,host=serverB value=95.1 0000000012
cpu,type=idle,host=serverC value=95.8 0000000012
"""
DERIVATIVE = """
packets value=1000 0000000001
packets value=1001 0000000002
packets value2=0 0000000003
packets value=1003 0000000004
packets value=1004 0000000005
packets value=1006 0000000006
packets value=1007 0000000007
packets value=1007 0000000008
packets value=1008 0000000009
packets value=1009 0000000010
packets value=1010 0000000011
packets value=1011 0000000012
"""
DERIVATIVE_NN = """
packets value=1000 0000000001
packets value=1001 0000000002
packets value=1002 0000000003
packets value=1003 0000000004
packets value=1004 0000000005
packets value=1005 0000000006
packets value=0006 0000000007
packets value=0000 0000000008
packets value=0001 0000000009
packets value=0002 0000000010
packets value=0003 0000000011
packets value=0004 0000000012
"""
GROUP_BY = """
errors,service=cartA,dc=A value=7 0000000001
errors,service=login,dc=B value=9 0000000001
disk,service=sda,dc=B value=39 0000000001
errors,service=front,dc=A value=2 0000000002
errors,service=cartA,dc=B value=9 0000000002
errors,service=login,dc=A value=5 0000000003
errors,service=front,dc=B value=9 0000000003
errors,service=cartA,dc=A value=3 0000000004
errors,service=login,dc=B value=9 0000000004
errors,service=front,dc=A value=2 0000000005
errors,service=login,dc=B value=2 0000000005
errors,service=front,dc=A value=5 0000000006
errors,service=cartA,dc=B value=9 0000000006
errors,service=login,dc=C value=7 0000000006
errors,service=front,dc=A value=4 0000000007
errors,service=cartA,dc=B value=8 0000000007
errors,service=front,dc=A value=6 0000000008
errors,service=cartA,dc=B value=6 0000000008
errors,service=login,dc=A value=10 0000000009
errors,service=front,dc=B value=4 0000000009
disk,service=sda,dc=B value=423 0000000009
errors,service=cartA,dc=A value=5 0000000010
errors,service=login,dc=B value=3 0000000010
errors,service=cartA,dc=A value=5 0000000011
errors,service=login,dc=B value=6 0000000011
errors,service=cartA,dc=A value=8 0000000012
errors,service=front,dc=A value=9 0000000012
errors,service=login,dc=B value=5 0000000012
"""
ALERT = """
cpu,type=idle,host=serverA value=97.1 0000000001
cpu,type=idle,host=serverB value=97.1 0000000001
disk,type=sda,host=serverB value=39 0000000001
cpu,type=idle,host=serverA value=92.6 0000000002
cpu,type=idle,host=serverB value=92.6 0000000002
cpu,type=idle,host=serverA value=95.6 0000000003
cpu,type=idle,host=serverB value=95.6 0000000003
cpu,type=idle,host=serverA value=93.1 0000000004
cpu,type=idle,host=serverB value=93.1 0000000004
cpu,type=idle,host=serverA value=92.6 0000000005
cpu,type=idle,host=serverB value=92.6 0000000005
cpu,type=idle,host=serverA value=95.8 0000000006
cpu,type=idle,host=serverB value=95.8 0000000006
cpu,type=idle,host=serverC value=95.8 0000000006
cpu,type=idle,host=serverA value=92.7 0000000007
cpu,type=idle,host=serverB value=92.7 0000000007
cpu,type=idle,host=serverA value=96.0 0000000008
cpu,type=idle,host=serverB value=96.0 0000000008
cpu,type=idle,host=serverA value=93.4 0000000009
cpu,type=idle,host=serverB value=93.4 0000000009
disk,type=sda,host=serverB value=423 0000000009
cpu,type=idle,host=serverA value=95.3 0000000010
cpu,type=idle,host=serverB value=95.3 0000000010
cpu,type=idle,host=serverA value=96.4 0000000011
cpu,type=idle,host=serverB value=96.4 0000000011
cpu,type=idle,host=serverA value=95.1 0000000012
cpu,type=idle,host=serverB value=95.1 0000000012
"""

SIMPLE_MR = ALERT  # TestStream_SimpleMR.srpl is the same file as TestStream_Alert.srpl

# ---- TestStream_Window ---------------------------------------------------------------------------------

WINDOW_SCRIPT = """
var period = 10s
var every = 10s
stream
    |from()
        .database('dbname')
        .retentionPolicy('rpname')
        .measurement('cpu')
        .where(lambda: "host" == 'serverA')
    |window()
        .period(period)
        .every(every)
    |httpOut('TestStream_Window')
"""


def test_stream_window() -> None:
    nums = [97.1, 92.6, 95.6, 93.1, 92.6, 95.8, 92.7, 96.0, 93.4, 95.3]
    out = run(WINDOW_SCRIPT, WINDOW, 13)
    assert out.http["TestStream_Window"] == {
        "series": [
            {
                "name": "cpu",
                "columns": ["time", "host", "type", "value"],
                "values": [[t(i), "serverA", "idle", v] for i, v in enumerate(nums)],
            }
        ]
    }


def test_stream_window_count() -> None:
    # TestStream_Window_Count: ten points at the same time, emitted when the tenth arrives.
    script = """
stream
    |from().measurement('cpu').where(lambda: "host" == 'serverA')
    |window().periodCount(10).everyCount(10)
    |httpOut('TestStream_Window_Count')
"""
    points = [
        Point("cpu", ZERO, {"value": float(i + 1)}, {"host": "serverA", "type": "idle"}) for i in range(12)
    ]
    out = runtime(script).feed_points(points)
    assert out.http["TestStream_Window_Count"]["series"][0]["values"] == [
        [t(0), "serverA", "idle", float(i + 1)] for i in range(10)
    ]


def test_stream_window_count_overlapping() -> None:
    script = """
stream
    |from().measurement('cpu')
    |window().periodCount(3).everyCount(1)
    |httpOut('out')
"""
    points = [
        Point("cpu", ZERO, {"value": float(i + 10)}, {"host": "serverA", "type": "idle"}) for i in range(5)
    ]
    out = runtime(script).feed_points(points)
    assert [row[3] for row in out.http["out"]["series"][0]["values"]] == [12.0, 13.0, 14.0]


# ---- TestStream_SimpleMR, TestStream_GroupBy -----------------------------------------------------------


def test_stream_simple_mr() -> None:
    script = """
stream
    |from()
        .measurement('cpu')
        .where(lambda: "host" == 'serverA')
    |window()
        .period(10s)
        .every(10s)
    |count('value')
    |httpOut('TestStream_SimpleMR')
"""
    out = run(script, SIMPLE_MR, 15)
    assert out.http["TestStream_SimpleMR"] == {
        "series": [{"name": "cpu", "columns": ["time", "count"], "values": [[t(10), 10]]}]
    }


def test_stream_group_by() -> None:
    script = """
stream
    |from()
        .measurement('errors')
        .groupBy('service')
    |window()
        .period(10s)
        .every(10s)
    |sum('value')
    |httpOut('TestStream_GroupBy')
"""
    out = run(script, GROUP_BY, 13)

    def row(service: str, second: int, total: float) -> dict[str, Any]:
        return {
            "name": "errors",
            "tags": {"service": service},
            "columns": ["time", "sum"],
            "values": [[t(second), total]],
        }

    assert out.http["TestStream_GroupBy"] == {
        "series": [row("cartA", 10, 47.0), row("login", 10, 45.0), row("front", 11, 32.0)]
    }
    stats = out.stats
    assert stats["window2"]["stats"]["working_cardinality"] == 3
    assert stats["sum3"]["emitted"] == 3


# ---- TestStream_Derivative* ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "properties", "expected"),
    [
        (DERIVATIVE, "", 1.0),  # TestStream_Derivative
        (DERIVATIVE, ".unit(10s)", 10.0),  # TestStream_DerivativeUnit
        (DERIVATIVE_NN, ".nonNegative()", 1.0),  # TestStream_DerivativeNN
    ],
)
def test_stream_derivative(data: str, properties: str, expected: float) -> None:
    script = f"""
stream
    |from().measurement('packets')
    |derivative('value'){properties}
    |window()
        .period(10s)
        .every(10s)
    |mean('value')
    |httpOut('out')
"""
    out = run(script, data, 15)
    assert out.http["out"] == {
        "series": [{"name": "packets", "columns": ["time", "mean"], "values": [[t(11), expected]]}]
    }


def test_stream_derivative_counts_the_point_without_the_field_as_an_error() -> None:
    out = run("stream|from().measurement('packets')|derivative('value')|httpOut('x')", DERIVATIVE, 15)
    assert out.stats["derivative2"]["stats"]["errors"] == 1
    assert out.logs[0].message == "cannot perform derivative"


def test_stream_derivative_as() -> None:
    # TestStream_DerivativeAs: the rate goes to its own field, the value is kept.
    script = """
stream
    |from().measurement('packets')
    |derivative('value')
        .as('derivative')
    |window()
        .period(10s)
        .every(10s)
    |mean('derivative')
    |httpOut('out')
"""
    out = run(script, DERIVATIVE, 15)
    assert out.http["out"]["series"][0]["values"] == [[t(11), 1.0]]


# ---- TestStream_Alert ----------------------------------------------------------------------------------

ALERT_SCRIPT = """
var infoThreshold = 6.0
var warnThreshold = 7.0
var critThreshold = 8.0

stream
    |from()
        .measurement('cpu')
        .where(lambda: "host" == 'serverA')
        .groupBy('host')
    |window()
        .period(10s)
        .every(10s)
    |count('value')
    |alert()
        .id('kapacitor/{{ .Name }}/{{ index .Tags "host" }}')
        .details('details')
        .idField('id')
        .idTag('id')
        .levelField('level')
        .messageField('msg')
        .levelTag('level')
        .info(lambda: "count" > infoThreshold)
        .warn(lambda: "count" > warnThreshold)
        .crit(lambda: "count" > critThreshold)
        .post('http://localhost/alert')
    |httpOut('TestStream_Alert')
"""


def test_stream_alert() -> None:
    out = run(ALERT_SCRIPT, ALERT, 13)
    assert out.http["TestStream_Alert"] == {
        "series": [
            {
                "name": "cpu",
                "tags": {"host": "serverA", "level": "CRITICAL", "id": "kapacitor/cpu/serverA"},
                "columns": ["time", "count", "id", "level", "msg"],
                "values": [
                    [t(10), 10, "kapacitor/cpu/serverA", "CRITICAL", "kapacitor/cpu/serverA is CRITICAL"]
                ],
            }
        ]
    }
    [alert] = out.alerts
    assert alert.topics == ("main:testStreamer:alert4",)
    body = alert.event.body()
    assert body["id"] == "kapacitor/cpu/serverA"
    assert body["message"] == "kapacitor/cpu/serverA is CRITICAL"
    assert body["details"] == "details"
    assert body["time"] == t(10)
    assert body["level"] == "CRITICAL"
    assert body["recoverable"] is True
    assert body["data"] == {
        "series": [
            {
                "name": "cpu",
                "tags": {"host": "serverA"},
                "columns": ["time", "count"],
                "values": [[t(10), 10]],
            }
        ]
    }
    stats = out.stats["alert4"]["stats"]
    assert stats["alerts_triggered"] == 1 and stats["crits_triggered"] == 1


def test_stream_alert_no_recoveries_and_state() -> None:
    # Every non-OK point is an event (no stateChangesOnly); the recovery at 1.0 is not sent.
    script = """
stream
    |from().measurement('cpu').groupBy('host')
    |alert()
        .id('kapacitor/{{ .Name }}/{{ index .Tags "host" }}')
        .info(lambda: "value" > 2.0)
        .warn(lambda: "value" > 5.0)
        .crit(lambda: "value" > 8.0)
        .noRecoveries()
        .topic('cpu')
"""
    values = [7.0, 6.0, 3.0, 9.0, 1.0, 7.0]
    points = [Point("cpu", ZERO + i * S, {"value": v}, {"host": "serverA"}) for i, v in enumerate(values)]
    out = runtime(script).feed_points(points)
    levels = [(a.event.level, a.event.previous_level, a.event.recoverable) for a in out.alerts]
    assert levels == [
        (Level.WARNING, Level.OK, False),
        (Level.WARNING, Level.WARNING, False),
        (Level.INFO, Level.WARNING, False),
        (Level.CRITICAL, Level.INFO, False),
        (Level.WARNING, Level.CRITICAL, False),
    ]
    assert {a.topics for a in out.alerts} == {("cpu",)}


# ---- restart: the same output whether the run is split or not ------------------------------------------

RESTART_SCRIPTS = [
    WINDOW_SCRIPT,
    ALERT_SCRIPT,
    """
stream
    |from().measurement('errors').groupBy('service')
    |eval(lambda: count(), lambda: sigma("value")).as('n', 'sigma').keep()
    |window().period(4s).every(2s).align()
    |mean('value')
    |derivative('mean').nonNegative()
    |alert().warn(lambda: "mean" > 0.0).stateChangesOnly()
    |httpOut('restart')
""",
    """
stream
    |from().measurement('packets')
    |difference('value')
    |movingAverage('difference', 3)
    |cumulativeSum('movingAverage')
    |stateCount(lambda: "cumulativeSum" > 0.0)
    |httpOut('transforms')
""",
]
RESTART_DATA = [WINDOW, ALERT, GROUP_BY, DERIVATIVE_NN]


def comparable(out: Outputs) -> dict[str, Any]:
    return {
        "alerts": [(a.node, a.topics, a.event.body()) for a in out.alerts],
        "points": [(p.measurement, p.tags, p.fields, p.time) for p in out.points],
        "logs": [(line.node, line.message, line.values) for line in out.logs],
    }


@pytest.mark.parametrize("index", range(len(RESTART_SCRIPTS)))
@pytest.mark.parametrize("split", [1, 7, 20])
def test_restart_gives_the_output_of_one_run(index: int, split: int) -> None:
    script, points = RESTART_SCRIPTS[index], replay(RESTART_DATA[index], 60)
    whole = runtime(script)
    one = whole.feed_points(points)

    first = runtime(script)
    part1 = first.feed_points(points[:split])
    saved = json.loads(json.dumps(first.to_state()))
    second = runtime(script, saved)
    part2 = second.feed_points(points[split:])

    joined = comparable(part1)
    for key, values in comparable(part2).items():
        joined[key] = joined[key] + values
    assert joined == comparable(one)
    assert part2.http == one.http
    assert second.to_state() == whole.to_state() | {"nodes": second.to_state()["nodes"]}
    assert without_timing(second.to_state()) == without_timing(whole.to_state())


def without_timing(state: dict[str, Any]) -> dict[str, Any]:
    # Execution times are wall-clock measurements: the one part of the state no two runs share.
    return {n: {**v, "stats": {**v["stats"], "exec_ns": 0, "execs": 0}} for n, v in state["nodes"].items()}


def test_stats_fit_executing_dot() -> None:
    out = run(ALERT_SCRIPT, ALERT, 13)
    pipeline = evaluate(parse(ALERT_SCRIPT), "stream").pipeline
    text = executing_dot("testStreamer", pipeline, out.stats)
    assert 'alert4 [alerts_inhibited="0" alerts_triggered="1" ' in text
    assert 'stream0 -> from1 [processed="' in text
    assert 'count3 -> alert4 [processed="1"];' in text
