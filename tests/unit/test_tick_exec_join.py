"""Join and union against Kapacitor's integration tests (TestStream_Join, TestStream_JoinOn,
TestStream_Union) with their replayed data, and the restart guarantee for both."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.test_tick_exec_kapacitor import comparable, replay, run, runtime, t

JOIN_SCRIPT = """
var errorCounts = stream
    |from()
        .measurement('errors')
        .groupBy('service')
    |window()
        .period(10s)
        .every(10s)
        .align()
    |sum('value')

var viewCounts = stream
    |from()
        .measurement('views')
        .groupBy('service')
    |window()
        .period(10s)
        .every(10s)
        .align()
    |sum('value')

errorCounts
    |join(viewCounts)
        .as('errors', 'views')
        .streamName('error_view')
    |eval(lambda: "errors.sum" / "views.sum")
        .as('error_percent')
        .keep()
    |httpOut('TestStream_Join')
"""

JOIN_ON_SCRIPT = """
var errorsByServiceDC = stream
    |from()
        .measurement('errors')
        .groupBy('dc', 'service')
    |window()
        .period(10s)
        .every(10s)
        .align()
    |sum('value')

var errorsByServiceGlobal = stream
    |from()
        .measurement('errors')
        .groupBy('service')
    |window()
        .period(10s)
        .every(10s)
        .align()
    |sum('value')

errorsByServiceGlobal
    |join(errorsByServiceDC)
        .as('service', 'dc')
        .on('service')
        .streamName('dc_error_percent')
    |eval(lambda: "dc.sum" / "service.sum")
        .keep()
        .as('value')
    |httpOut('TestStream_JoinOn')
"""

UNION_SCRIPT = """
var cpuT = stream
    |from()
        .measurement('cpu')
        .where(lambda: "cpu" == 'total')
var cpu0 = stream
    |from()
        .measurement('cpu')
        .where(lambda: "cpu" == '0')
var cpu1 = stream
    |from()
        .measurement('cpu')
        .where(lambda: "cpu" == '1')

cpuT
    |union(cpu0, cpu1)
        .rename('cpu_all')
    |window()
        .period(10s)
        .every(10s)
    |count('value')
    |httpOut('TestStream_Union')
"""


def by_tags(series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Kapacitor compares these results ignoring the order of the series.
    return sorted(series, key=lambda row: sorted(row.get("tags", {}).items()))


def test_stream_join() -> None:
    out = run(JOIN_SCRIPT, JOIN, 13)
    expected = [
        {
            "name": "error_view",
            "tags": {"service": service},
            "columns": ["time", "error_percent", "errors.sum", "views.sum"],
            "values": [[t(10), 0.01, errors, views]],
        }
        for service, errors, views in (
            ("cartA", 47.0, 4700.0),
            ("login", 45.0, 4500.0),
            ("front", 32.0, 3200.0),
        )
    ]
    assert by_tags(out.http["TestStream_Join"]["series"]) == by_tags(expected)


def test_stream_join_on() -> None:
    out = run(JOIN_ON_SCRIPT, JOIN_ON, 13)
    cases = [
        ("A", "cartA", 15.0, 47.0),
        ("B", "cartA", 32.0, 47.0),
        ("A", "login", 15.0, 45.0),
        ("B", "login", 23.0, 45.0),
        ("C", "login", 7.0, 45.0),
        ("A", "front", 19.0, 32.0),
        ("B", "front", 13.0, 32.0),
    ]
    expected = [
        {
            "name": "dc_error_percent",
            "tags": {"dc": dc, "service": service},
            "columns": ["time", "dc.sum", "service.sum", "value"],
            "values": [[t(10), part, total, part / total]],
        }
        for dc, service, part, total in cases
    ]
    assert by_tags(out.http["TestStream_JoinOn"]["series"]) == by_tags(expected)


def test_stream_union() -> None:
    out = run(UNION_SCRIPT, UNION, 15)
    assert out.http["TestStream_Union"] == {
        "series": [{"name": "cpu_all", "columns": ["time", "count"], "values": [[t(10), 20]]}]
    }


@pytest.mark.parametrize(
    ("script", "data"), [(JOIN_SCRIPT, "JOIN"), (JOIN_ON_SCRIPT, "JOIN_ON"), (UNION_SCRIPT, "UNION")]
)
@pytest.mark.parametrize("split", [5, 31, 70])
def test_restart_of_joins_and_unions(script: str, data: str, split: int) -> None:
    points = replay(globals()[data], 60)
    one = runtime(script).feed_points(points)
    first = runtime(script)
    part1 = first.feed_points(points[:split])
    second = runtime(script, json.loads(json.dumps(first.to_state())))
    part2 = second.feed_points(points[split:])
    joined = comparable(part1)
    for key, values in comparable(part2).items():
        joined[key] += values
    assert joined == comparable(one)
    assert part2.http == one.http


# ---- the replayed data ---------------------------------------------------------------------------------

JOIN = """
errors,service=cartA,dc=A value=7 0000000001
views,service=cartA,dc=A value=700 0000000001
errors,service=login,dc=B value=9 0000000001
views,service=login,dc=B value=900 0000000001
disk,service=sda,dc=B value=39 0000000001
errors,service=front,dc=A value=2 0000000001
views,service=front,dc=A value=200 0000000002
errors,service=cartA,dc=B value=9 0000000002
views,service=cartA,dc=B value=900 0000000002
errors,service=login,dc=A value=5 0000000003
views,service=login,dc=A value=500 0000000003
errors,service=front,dc=B value=9 0000000003
views,service=front,dc=B value=900 0000000003
errors,service=cartA,dc=A value=3 0000000004
views,service=cartA,dc=A value=300 0000000004
errors,service=login,dc=B value=9 0000000004
views,service=login,dc=B value=900 0000000004
errors,service=front,dc=A value=2 0000000005
views,service=front,dc=A value=200 0000000005
errors,service=login,dc=B value=2 0000000005
views,service=login,dc=B value=200 0000000005
errors,service=front,dc=A value=5 0000000006
views,service=front,dc=A value=500 0000000006
errors,service=cartA,dc=B value=9 0000000006
views,service=cartA,dc=B value=900 0000000006
errors,service=login,dc=C value=7 0000000006
views,service=login,dc=C value=700 0000000006
errors,service=front,dc=A value=4 0000000007
views,service=front,dc=A value=400 0000000007
errors,service=cartA,dc=B value=8 0000000007
views,service=cartA,dc=B value=800 0000000007
errors,service=front,dc=A value=6 0000000008
views,service=front,dc=A value=600 0000000008
errors,service=cartA,dc=B value=6 0000000008
views,service=cartA,dc=B value=600 0000000008
errors,service=login,dc=A value=10 0000000009
views,service=login,dc=A value=1000 0000000009
errors,service=front,dc=B value=4 0000000009
views,service=front,dc=B value=400 0000000009
disk,service=sda,dc=B value=423 0000000009
errors,service=cartA,dc=A value=5 0000000010
views,service=cartA,dc=A value=500 0000000010
errors,service=login,dc=B value=3 0000000010
views,service=login,dc=B value=300 0000000010
errors,service=cartA,dc=A value=5 0000000011
views,service=cartA,dc=A value=500 0000000011
errors,service=login,dc=B value=6 0000000011
views,service=login,dc=B value=600 0000000011
errors,service=cartA,dc=A value=8 0000000012
views,service=cartA,dc=A value=800 0000000012
errors,service=front,dc=A value=9 0000000012
views,service=front,dc=A value=900 0000000012
errors,service=login,dc=B value=5 0000000012
views,service=login,dc=B value=500 0000000012
"""

JOIN_ON = """
errors,service=cartA,dc=A,rack=0 value=7 0000000001
errors,service=login,dc=B,rack=1 value=9 0000000001
errors,service=front,dc=A,rack=0 value=2 0000000001
errors,service=cartA,dc=B,rack=1 value=9 0000000002
errors,service=login,dc=A,rack=0 value=5 0000000003
errors,service=front,dc=B,rack=1 value=9 0000000003
errors,service=cartA,dc=A,rack=0 value=3 0000000004
errors,service=login,dc=B,rack=1 value=9 0000000004
errors,service=front,dc=A,rack=0 value=2 0000000005
errors,service=login,dc=B,rack=1 value=2 0000000005
errors,service=front,dc=A,rack=0 value=5 0000000006
errors,service=cartA,dc=B,rack=1 value=9 0000000006
errors,service=login,dc=C,rack=0 value=7 0000000006
errors,service=front,dc=A,rack=1 value=4 0000000007
errors,service=cartA,dc=B,rack=0 value=8 0000000007
errors,service=front,dc=A,rack=1 value=6 0000000008
errors,service=cartA,dc=B,rack=0 value=6 0000000008
errors,service=login,dc=A,rack=1 value=10 0000000009
errors,service=front,dc=B,rack=0 value=4 0000000009
errors,service=cartA,dc=A,rack=1 value=5 0000000010
errors,service=login,dc=B,rack=0 value=3 0000000010
errors,service=login,dc=B,rack=0 value=6 0000000011
errors,service=cartA,dc=A,rack=1 value=8 0000000012
errors,service=cartA,dc=A,rack=0 value=8 0000000012
errors,service=front,dc=A,rack=0 value=9 0000000012
errors,service=front,dc=A,rack=1 value=9 0000000012
errors,service=login,dc=A,rack=1 value=5 0000000012
errors,service=login,dc=A,rack=0 value=5 0000000012
errors,service=cartA,dc=B,rack=0 value=8 0000000012
errors,service=cartA,dc=B,rack=1 value=8 0000000012
errors,service=front,dc=B,rack=1 value=9 0000000012
errors,service=front,dc=B,rack=0 value=9 0000000012
errors,service=login,dc=B,rack=0 value=5 0000000012
errors,service=login,dc=B,rack=1 value=5 0000000012
errors,service=login,dc=C,rack=1 value=5 0000000012
errors,service=login,dc=C,rack=0 value=5 0000000012
"""

UNION = """
cpu,cpu=0,host=serverA value=98 0000000001
cpu,cpu=1,host=serverB value=97 0000000001
cpu,cpu=total,host=serverA value=92 0000000002
cpu,cpu=0,host=serverA value=95 0000000003
cpu,cpu=1,host=serverB value=95 0000000003
cpu,cpu=total,host=serverA value=93 0000000004
cpu,cpu=0,host=serverB value=93 0000000004
cpu,cpu=1,host=serverA value=92 0000000005
cpu,cpu=total,host=serverB value=92 0000000005
cpu,cpu=0,host=serverA value=95 0000000006
cpu,cpu=1,host=serverB value=95 0000000006
cpu,cpu=total,host=serverC value=95 0000000006
cpu,cpu=0,host=serverA value=92 0000000007
cpu,cpu=1,host=serverB value=92 0000000007
cpu,cpu=total,host=serverA value=96 0000000008
cpu,cpu=0,host=serverB value=96 0000000008
cpu,cpu=1,host=serverA value=93 0000000009
cpu,cpu=total,host=serverB value=93 0000000009
cpu,cpu=0,host=serverA value=95 0000000010
cpu,cpu=1,host=serverB value=95 0000000010
cpu,cpu=total,host=serverA value=96 0000000011
cpu,cpu=0,host=serverB value=96 0000000011
cpu,cpu=1,host=serverA value=95 0000000012
cpu,cpu=total,host=serverB value=95 0000000012
"""
