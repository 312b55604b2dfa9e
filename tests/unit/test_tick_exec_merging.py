"""flatten and combine against Kapacitor's TestStream_Flatten and TestStream_Combine_All."""

from __future__ import annotations

import json

from tests.unit.test_tick_exec_join import by_tags
from tests.unit.test_tick_exec_kapacitor import comparable, replay, run, runtime, t

FLATTEN_SCRIPT = """
stream
    |from()
        .measurement('request_latency')
        .groupBy('dc')
    |flatten()
        .on('service', 'host')
        .tolerance(1s)
    |httpOut('TestStream_Flatten')
"""

COMBINE_SCRIPT = """
stream
    |from()
        .measurement('request_latency')
        .groupBy('dc')
    |combine(lambda: TRUE, lambda: TRUE)
        .as('first', 'second')
        .tolerance(1s)
        .delimiter('.')
    |groupBy('first.service', 'second.service', 'dc')
    |eval(lambda: "first.value" / "second.value")
        .as('ratio')
    |httpOut('TestStream_Combine')
"""


def test_stream_flatten() -> None:
    out = run(FLATTEN_SCRIPT, FLATTEN, 13)
    columns = [
        "time",
        "auth.server01.value",
        "auth.server02.value",
        "cart.server01.value",
        "cart.server02.value",
        "log.server01.value",
        "log.server02.value",
    ]
    expected = [
        {
            "name": "request_latency",
            "tags": {"dc": dc},
            "columns": columns,
            "values": [[t(0), *values]],
        }
        for dc, values in (
            ("A", [700.0, 702.0, 800.0, 802.0, 600.0, 602.0]),
            ("B", [750.0, 752.0, 850.0, 852.0, 650.0, 652.0]),
        )
    ]
    assert by_tags(out.http["TestStream_Flatten"]["series"]) == by_tags(expected)


def test_stream_flatten_drop_original_field_name() -> None:
    script = FLATTEN_SCRIPT.replace(".tolerance(1s)", ".tolerance(1s).dropOriginalFieldName()")
    out = run(script, FLATTEN, 13)
    [a, _] = by_tags(out.http["TestStream_Flatten"]["series"])
    assert a["columns"] == [
        "time",
        "auth.server01",
        "auth.server02",
        "cart.server01",
        "cart.server02",
        "log.server01",
        "log.server02",
    ]


def test_stream_combine_all() -> None:
    out = run(COMBINE_SCRIPT, COMBINE, 13)
    cases = [
        ("A", "auth", "log", 7.0 / 6.0),
        ("A", "auth", "cart", 7.0 / 8.0),
        ("A", "log", "cart", 6.0 / 8.0),
        ("B", "auth", "log", 7.5 / 6.5),
        ("B", "auth", "cart", 7.5 / 8.5),
        ("B", "log", "cart", 6.5 / 8.5),
    ]
    expected = [
        {
            "name": "request_latency",
            "tags": {"dc": dc, "first.service": first, "second.service": second},
            "columns": ["time", "ratio"],
            "values": [[t(0), ratio]],
        }
        for dc, first, second, ratio in cases
    ]
    assert by_tags(out.http["TestStream_Combine"]["series"]) == by_tags(expected)


# ---- the replayed data ---------------------------------------------------------------------------------

FLATTEN = """
request_latency,service=auth,host=server01,dc=A value=700 0000000001
request_latency,service=auth,host=server02,dc=A value=702 0000000001
request_latency,service=log,host=server01,dc=A value=600 0000000001
request_latency,service=log,host=server02,dc=A value=602 0000000001
request_latency,service=cart,host=server01,dc=A value=800 0000000001
request_latency,service=cart,host=server02,dc=A value=802 0000000001
request_latency,service=auth,host=server01,dc=B value=750 0000000001
request_latency,service=auth,host=server02,dc=B value=752 0000000001
request_latency,service=log,host=server01,dc=B value=650 0000000001
request_latency,service=log,host=server02,dc=B value=652 0000000001
request_latency,service=cart,host=server01,dc=B value=850 0000000001
request_latency,service=cart,host=server02,dc=B value=852 0000000001
request_latency,service=auth,host=server01,dc=A value=500 0000000002
request_latency,service=auth,host=server02,dc=A value=502 0000000002
request_latency,service=log,host=server01,dc=A value=700 0000000002
request_latency,service=log,host=server02,dc=A value=702 0000000002
request_latency,service=cart,host=server01,dc=A value=300 0000000002
request_latency,service=cart,host=server02,dc=A value=302 0000000002
request_latency,service=auth,host=server01,dc=B value=850 0000000002
request_latency,service=auth,host=server02,dc=B value=852 0000000002
request_latency,service=log,host=server01,dc=B value=450 0000000002
request_latency,service=log,host=server02,dc=B value=452 0000000002
request_latency,service=cart,host=server01,dc=B value=950 0000000002
request_latency,service=cart,host=server02,dc=B value=952 0000000002
"""

COMBINE = """
request_latency,service=auth,dc=A value=700 0000000001
request_latency,service=log,dc=A value=600 0000000001
request_latency,service=cart,dc=A value=800 0000000001
request_latency,service=auth,dc=B value=750 0000000001
request_latency,service=log,dc=B value=650 0000000001
request_latency,service=cart,dc=B value=850 0000000001
request_latency,service=auth,dc=A value=500 0000000002
request_latency,service=log,dc=A value=700 0000000002
request_latency,service=cart,dc=A value=300 0000000002
request_latency,service=auth,dc=B value=850 0000000002
request_latency,service=log,dc=B value=450 0000000002
request_latency,service=cart,dc=B value=950 0000000002
"""


def test_restart_of_flatten_and_combine() -> None:
    for script, data in ((FLATTEN_SCRIPT, FLATTEN), (COMBINE_SCRIPT, COMBINE)):
        points = replay(data, 60)
        one = runtime(script).feed_points(points)
        for split in (1, 5, 11):
            first = runtime(script)
            part1 = first.feed_points(points[:split])
            second = runtime(script, json.loads(json.dumps(first.to_state())))
            part2 = second.feed_points(points[split:])
            joined = comparable(part1)
            for key, values in comparable(part2).items():
                joined[key] += values
            assert joined == comparable(one)
            assert part2.http == one.http
