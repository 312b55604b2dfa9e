"""Stream points move through the runtime's batched nodes (stream, from, window) in runs: on generated
points and tasks, every output, statistic (but the measured times) and saved state is what feeding the
points one message at a time (`TaskRuntime.batching = False`) gives; and the state's JSON copy through
orjson is json's."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.kit.fastjson import copy as json_copy
from chalicelib.kit.points import UInt
from chalicelib.kit.time import SECOND
from chalicelib.tick.evaluate import evaluate
from chalicelib.tick.exec import Outputs, Point, RuntimeConfig, TaskRuntime
from chalicelib.tick.exec import runtime as runtime_module
from chalicelib.tick.exec.alert_machine import AlertStateMachine
from chalicelib.tick.parser import parse

S = SECOND
ZERO = 1_700_000_000 * S

SCRIPTS = [
    # The benchmark's task, and grouped.
    "stream|from().measurement('cpu').where(lambda: \"host\" != 'x')|window().period(10s).every(10s)"
    "|mean('usage')|alert().crit(lambda: \"mean\" > 90)",
    "stream|from().measurement('cpu').groupBy('host').where(lambda: \"host\" != 'x')"
    "|window().period(10s).every(10s)|mean('usage')|alert().crit(lambda: \"mean\" > 90)",
    # where() lambdas the fast checks decide for some points only (types, missing values, errors).
    "stream|from().where(lambda: \"usage\" > 50)|window().period(5s).every(5s)|count('usage')|httpOut('o')",
    'stream|from().where(lambda: "usage" > 50 AND "host" != \'b\')|window().period(5s).every(5s)'
    "|httpOut('o')",
    "stream|from().where(lambda: \"host\" == 'a').where(lambda: \"usage\" < 70.5)|httpOut('o')",
    "stream|from().where(lambda: count(\"usage\") > 2)|window().period(3s).every(3s)|httpOut('o')",
    # Grouping, truncation, rounding, measurements.
    "stream|from().groupBy(*).truncate(2s)|window().period(4s).every(2s)|max('usage')|httpOut('o')",
    "stream|from().groupBy('host').groupByMeasurement().round(3s)|window().period(6s).every(3s).align()"
    "|last('usage')|log()",
    "stream|from().database('db').retentionPolicy('rp').measurement('mem')|window().period(4s).every(0s)"
    "|httpOut('o')",
    "stream|from().groupBy('host')|window().period(4s).every(4s).fillPeriod()|httpOut('o')",
    "stream|from().groupBy('host')|window().periodCount(3).everyCount(2)|sum('usage')|httpOut('o')",
    # Branches, joins, stats: runs go on message by message.
    "var f = stream|from().groupBy('host')\n"
    "f|window().period(4s).every(4s)|mean('usage')|httpOut('a')\n"
    "f|where(lambda: \"usage\" > 40)|httpOut('b')",
    "var a = stream|from().measurement('cpu')\nvar b = stream|from().measurement('mem')\n"
    "a|union(b)|window().period(4s).every(4s)|httpOut('o')",
    "var f = stream|from().groupBy('host')\nf|stats(10s)|httpOut('s')\nf|window().period(4s).every(4s)"
    "|httpOut('o')",
    "stream|from().groupBy('host')|eval(lambda: \"usage\" * 2.0).as('double')|alert().warn(lambda: "
    '"double" > 100).crit(lambda: "double" > 150)',
]

HOSTS = st.sampled_from(["a", "b", "c", "d", "x"])
VALUES = st.one_of(
    st.floats(0, 100, allow_nan=False),
    st.integers(0, 100),
    st.sampled_from(["hot", "", math.nan]),
    st.booleans(),
)


@st.composite
def points(draw: st.DrawFn) -> list[Point]:
    out: list[Point] = []
    t = ZERO
    for _ in range(draw(st.integers(0, 60))):
        t += draw(st.sampled_from([0, 0, S, S, 2 * S, 7 * S, 40 * S, -S]))
        fields: dict[str, Any] = {"other": 1.0}
        if draw(st.integers(0, 9)):
            fields["usage"] = draw(VALUES)
        tags = {"host": draw(HOSTS)}
        if draw(st.booleans()):
            tags["cpu"] = "cpu-total"
        name = draw(st.sampled_from(["cpu", "cpu", "mem"]))
        db, rp = draw(st.sampled_from([("db", "rp"), ("db", "other"), ("telegraf", "autogen")]))
        out.append(Point(name, t, fields, tags, db, rp))
    return out


def build(script: str, state: dict[str, Any] | None, limits: dict[str, int]) -> TaskRuntime:
    config = RuntimeConfig(task="t", alerts=AlertStateMachine, **limits)
    return TaskRuntime.build(evaluate(parse(script), "stream").pipeline, state, config)


def comparable(out: Outputs) -> str:
    """The outputs, without the measured times (the one thing runs change: a run is timed as a whole)."""
    for node in out.stats.values():
        node["stats"].pop("avg_exec_time_ns", None)
    return repr(out)


def untimed(state: dict[str, Any]) -> dict[str, Any]:
    for node in state["nodes"].values():
        node["stats"].pop("exec_ns")
    return state


def feed(
    script: str, feeds: list[list[Point]], limits: dict[str, int], *, batching: bool, round_trip: bool
) -> tuple[list[str], dict[str, Any]]:
    outputs, state = [], None
    rt = build(script, None, limits)
    for pts in feeds:
        if round_trip:
            rt = build(script, state, limits)
        rt.batching = batching
        outputs.append(comparable(rt.feed_points([p.copy() for p in pts])))
        state = rt.to_state()
    return outputs, untimed(rt.to_state())


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    script=st.sampled_from(SCRIPTS),
    pts=points(),
    cuts=st.lists(st.integers(0, 60), max_size=3),
    limits=st.fixed_dictionaries(
        {}, optional={"max_groups": st.integers(1, 4), "group_idle": st.sampled_from([0, 5 * S, 30 * S])}
    ),
    run_length=st.sampled_from([1, 2, 3, 1024]),
    round_trip=st.booleans(),
)
def test_runs_give_what_one_message_at_a_time_gives(
    script: str,
    pts: list[Point],
    cuts: list[int],
    limits: dict[str, int],
    run_length: int,
    round_trip: bool,
) -> None:
    bounds = [0, *sorted(c for c in cuts if c < len(pts)), len(pts)]
    feeds = [pts[a:b] for a, b in itertools.pairwise(bounds)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runtime_module, "RUN_LENGTH", run_length)
        batched = feed(script, feeds, limits, batching=True, round_trip=round_trip)
    single = feed(script, feeds, limits, batching=False, round_trip=round_trip)
    assert batched == single


def test_the_statistics_count_each_point_of_a_run() -> None:
    script = SCRIPTS[1]
    pts = [Point("cpu", ZERO + i * S, {"usage": 95.0}, {"host": h}) for i in range(25) for h in "ab"]
    out = build(script, None, {}).feed_points(pts)
    assert out.stats["stream0"]["collected"] == out.stats["stream0"]["emitted"] == 50
    assert out.stats["stream0"]["processed"] == {"from1": 50}
    assert out.stats["from1"]["processed"] == {"window2": 50}
    assert out.stats["window2"]["emitted"] == 4  # two windows closed, for each host
    assert out.stats["window2"]["stats"]["avg_exec_time_ns"] >= 0


def test_a_where_error_is_logged_between_the_outputs_of_the_points_around_it() -> None:
    script = (
        'stream|from().where(lambda: "usage" > 50)|window().period(1s).every(1s)|log()'
        '|alert().crit(lambda: "usage" > 0).message(\'{{ index .Fields "usage" }}\')'
    )
    pts = [Point("cpu", ZERO + i * S, {"usage": v}, {}) for i, v in enumerate([60.0, 70.0, "x", 80.0, 90.0])]
    orders = []
    for batching in (True, False):
        rt = build(script, None, {})
        rt.batching = batching
        out = rt.feed_points(pts)
        orders.append([(log.node, log.message) for log in out.logs])
    assert orders[0] == orders[1]
    # After the window of the first point (closed by the second), before the next ones.
    assert orders[0][:4] == [
        ("log3", "begin batch"),
        ("log3", "batch point"),
        ("log3", "end batch"),
        ("from1", "failed to evaluate WHERE expression"),
    ]
    assert len(orders[0]) > 4


# ---- the JSON copy of the state ---------------------------------------------------------------------------

KEYS = st.one_of(
    st.text(max_size=4), st.integers(-3, 3), st.booleans(), st.none(), st.floats(allow_nan=False)
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(),
    st.integers(0, 5).map(UInt),
    st.floats(),
    st.text(),
    st.sampled_from(["null", "\ud800", "é", "\x00"]),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=4), inner, max_size=4),
        st.dictionaries(KEYS, inner, max_size=3),
    ),
    max_leaves=20,
)


def json_result(data: Any) -> Any:
    try:
        return ("ok", json.dumps(json.loads(json.dumps(data))))
    except (TypeError, ValueError) as err:
        return ("error", type(err).__name__, str(err))


def copy_result(data: Any) -> Any:
    try:
        return ("ok", json.dumps(json_copy(data)))
    except (TypeError, ValueError) as err:
        return ("error", type(err).__name__, str(err))


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(data=DATA)
def test_json_copy_is_jsons_round_trip(data: Any) -> None:
    assert copy_result({"state": data}) == json_result({"state": data})


def test_json_copy_keeps_types_and_nan() -> None:
    state = {"a": [1, 2.0, -0.0, "s", True, None], "b": {"nan": math.nan, "big": 2**70}}
    copied = json_copy(state)
    assert repr(copied) == repr(json.loads(json.dumps(state)))
    assert copied is not state and copied["a"] is not state["a"]
