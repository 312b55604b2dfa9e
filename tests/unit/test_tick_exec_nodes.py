"""The runtime's nodes one by one, its bounds (group cardinality, idle groups) and bad data."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.kit.errors import TicklessError
from chalicelib.kit.time import SECOND
from chalicelib.tick.exec import Batch, BatchPoint, Outputs, Point, TaskRuntime
from chalicelib.tick.exec.model import go_round, go_truncate, group_id
from tests.unit.test_tick_exec_alert import runtime

S = SECOND
ZERO = 31_536_000 * S


def t(seconds: int) -> str:
    return f"1971-01-01T00:00:{seconds:02d}Z"


def pts(values: list[Any], field: str = "value", **tags: str) -> list[Point]:
    return [Point("m", ZERO + i * S, {field: v}, dict(tags), "db", "rp") for i, v in enumerate(values)]


def values(out: Outputs, endpoint: str = "out", series: int = 0) -> list[list[Any]]:
    return out.http[endpoint]["series"][series]["values"]


# ---- the data model ------------------------------------------------------------------------------------


def test_group_ids_as_kapacitor_computes_them() -> None:
    assert group_id("cpu", {"host": "a", "dc": "x"}, (), False) == ""
    assert group_id("cpu", {"host": "a"}, (), True) == "cpu"
    assert group_id("cpu", {"host": "a", "dc": "x"}, ("host", "dc"), False) == "host=a,dc=x"
    assert group_id("cpu", {"host": "a"}, ("host", "dc"), True) == "cpu\nhost=a,dc="


def test_go_truncate_and_round_count_from_year_one() -> None:
    week = 7 * 86_400 * S
    # 1970-01-01 was a Thursday; Go's zero time a Monday: weeks truncate to Mondays.
    assert go_truncate(0, week) == -3 * 86_400 * S
    assert go_round(1500 * 10**6, S) == 2 * S
    assert go_round(1499 * 10**6, S) == S
    assert go_truncate(5, 0) == 5


# ---- bounds --------------------------------------------------------------------------------------------


def test_new_groups_beyond_the_limit_are_refused_and_counted() -> None:
    script = "stream|from().groupBy('host')|window().period(2s).every(2s)|httpOut('out')"
    rt = runtime(script, max_groups=2)
    points = [Point("m", ZERO + i * S, {"v": 1.0}, {"host": h}) for i in range(4) for h in ("a", "b", "c")]
    out = rt.feed_points(points)
    window = out.stats["window2"]["stats"]
    assert window["working_cardinality"] == 2
    assert window["errors"] == 4  # each point of host c
    assert {row["tags"]["host"] for row in out.http["out"]["series"]} == {"a", "b"}
    assert out.logs[0].values["group"] == "host=c"


def test_idle_groups_expire_in_event_time() -> None:
    script = "stream|from().groupBy('host')|window().period(10s).every(10s)|httpOut('out')"
    rt = runtime(script, group_idle=60 * S)
    rt.feed_points([Point("m", ZERO, {"v": 1.0}, {"host": "old"})])
    out = rt.feed_points([Point("m", ZERO + i * 10 * S, {"v": 1.0}, {"host": "new"}) for i in range(1, 15)])
    assert out.stats["window2"]["stats"]["working_cardinality"] == 1
    assert "host=old" not in rt.to_state()["nodes"]["window2"]["groups"]
    assert [row["tags"]["host"] for row in out.http["out"]["series"]] == ["new"]


# ---- where, eval, default, delete, shift, sample -------------------------------------------------------


def test_eval_keep_tags_and_stateful_functions_per_group() -> None:
    script = """
stream
    |from().groupBy('host')
    |eval(lambda: count(), lambda: string("value" > 1.0), lambda: "value" * 2.0)
        .as('n', 'big', 'double')
        .tags('big')
        .keep('value', 'n', 'double')
    |httpOut('out')
"""
    points = [
        Point("m", ZERO, {"value": 1.0}, {"host": "a"}),
        Point("m", ZERO + S, {"value": 2.0}, {"host": "b"}),
        Point("m", ZERO + 2 * S, {"value": 3.0}, {"host": "a"}),
    ]
    out = runtime(script).feed_points(points)
    [a, b] = out.http["out"]["series"]
    assert a == {
        "name": "m",
        "tags": {"host": "a", "big": "true"},
        "columns": ["time", "double", "n", "value"],
        "values": [[t(2), 6.0, 2, 3.0]],
    }
    assert b["values"] == [[t(1), 4.0, 1, 2.0]]


def test_eval_errors_are_counted_unless_quiet() -> None:
    loud = runtime("stream|from()|eval(lambda: \"value\" * 2.0).as('x')|httpOut('out')")
    out = loud.feed_points(pts(["text", 1.0]))
    assert out.stats["eval2"]["stats"]["errors"] == 1
    assert out.logs[0].message == "error evaluating expression"
    assert values(out) == [[t(1), 2.0]]
    quiet = runtime("stream|from()|eval(lambda: \"value\" * 2.0).as('x').quiet()|httpOut('out')")
    out = quiet.feed_points(pts(["text", 1.0]))
    assert (out.stats["eval2"]["stats"]["errors"], out.logs) == (0, [])


def test_from_filters_truncates_and_where_errors() -> None:
    script = """
stream
    |from().database('db').retentionPolicy('rp').measurement('m').truncate(10s)
        .where(lambda: "value" > 1.0)
    |httpOut('out')
"""
    rt = runtime(script)
    out = rt.feed_points([*pts([2.0, "bad", 0.5, 3.0]), Point("other", ZERO, {"value": 9.0}, {}, "db", "rp")])
    assert values(out) == [[t(0), 3.0]]
    assert out.stats["from1"]["stats"]["errors"] == 1
    assert out.logs[0].message == "failed to evaluate WHERE expression"


def test_default_delete_shift_and_their_stats() -> None:
    script = """
stream
    |from()
    |default().field('extra', 5).tag('dc', 'none')
    |delete().field('value').tag('host')
    |shift(5s)
    |httpOut('out')
"""
    out = runtime(script).feed_points([Point("m", ZERO, {"value": 1.0}, {"host": "a"})])
    assert out.http["out"]["series"] == [
        {"name": "m", "tags": {"dc": "none"}, "columns": ["time", "extra"], "values": [[t(5), 5]]}
    ]
    default = out.stats["default2"]["stats"]
    assert (default["fields_defaulted"], default["tags_defaulted"]) == (1, 1)
    assert out.stats["delete3"]["stats"]["fields_deleted"] == 1


@pytest.mark.parametrize(("rate", "expected"), [("3", [0, 3, 6, 9]), ("3s", [0, 3, 6, 9])])
def test_sample(rate: str, expected: list[int]) -> None:
    out = runtime(f"stream|from()|sample({rate})|log()").feed_points(pts([float(i) for i in range(11)]))
    assert [line.values["field_value"] for line in out.logs] == [float(i) for i in expected]


# ---- window --------------------------------------------------------------------------------------------


def test_window_every_shorter_than_period_and_align() -> None:
    script = "stream|from()|window().period(4s).every(2s).align()|count('value')|httpOut('out')"
    rt = runtime(script)
    seen = []
    for p in pts([1.0] * 9):
        out = rt.feed_points([p])
        seen.append(values(out)[0] if out.http["out"]["series"] else None)
    assert [s for s in seen if s] == [
        [t(2), 2],
        [t(2), 2],
        [t(4), 4],
        [t(4), 4],
        [t(6), 4],
        [t(6), 4],
        [t(8), 4],
    ]


def test_window_fill_period_waits_for_a_whole_period() -> None:
    script = "stream|from()|window().period(4s).every(1s).fillPeriod()|count('value')|log()"
    out = runtime(script).feed_points(pts([1.0] * 6))
    assert [line.values["field_count"] for line in out.logs] == [4, 4]


# ---- InfluxQL functions --------------------------------------------------------------------------------

DATA = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]


def reduce(call: str, data: list[Any] = DATA) -> list[list[Any]]:
    script = f"stream|from()|window().period(10s).every(10s)|{call}|httpOut('out')"
    out = runtime(script).feed_points([*pts(data), Point("m", ZERO + 10 * S, {"value": 0.0}, {})])
    return values(out)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("count('value')", 8),
        ("sum('value')", 31.0),
        ("mean('value')", 3.875),
        ("median('value')", 3.5),
        ("mode('value')", 1.0),
        ("spread('value')", 8.0),
        ("stddev('value')", pytest.approx(2.748376)),
    ],
)
def test_aggregates(call: str, expected: Any) -> None:
    assert reduce(call) == [[t(10), expected]]


def test_aggregates_of_integers() -> None:
    ints = [3, 1, 4, 1]
    assert reduce("sum('value')", ints) == [[t(10), 9]]
    assert reduce("mean('value')", ints) == [[t(10), 2.25]]
    assert reduce("median('value')", ints) == [[t(10), 2.0]]


def test_selectors_keep_the_point_and_rename_the_field() -> None:
    assert reduce("max('value')") == [[t(10), 9.0]]
    assert reduce("min('value').usePointTimes()") == [[t(1), 1.0]]
    assert reduce("first('value').as('value')") == [[t(10), 3.0]]
    assert reduce("last('value').usePointTimes()") == [[t(7), 6.0]]
    assert reduce("percentile('value', 75.0).usePointTimes()") == [[t(4), 5.0]]


def test_top_bottom_and_distinct_emit_batches() -> None:
    assert reduce("top(2, 'value').usePointTimes()") == [[t(5), 9.0], [t(7), 6.0]]
    assert reduce("bottom(2, 'value').usePointTimes()") == [[t(1), 1.0], [t(3), 1.0]]
    assert [v[1] for v in reduce("distinct('value')")] == [3.0, 1.0, 4.0, 5.0, 9.0, 2.0, 6.0]


def test_stream_transformations() -> None:
    script = """
stream
    |from()
    |difference('value')
    |cumulativeSum('difference')
    |movingAverage('cumulativeSum', 2)
    |httpOut('out')
"""
    out = runtime(script).feed_points(pts([1.0, 4.0, 2.0, 7.0]))
    # differences 3, -2, 5; sums 3, 1, 6; averages of two: 2, 3.5
    assert values(out) == [[t(3), 3.5]]
    elapsed = runtime("stream|from()|elapsed('value', 1s)|log()").feed_points(pts([1.0, 2.0, 3.0]))
    assert [line.values["field_elapsed"] for line in elapsed.logs] == [1, 1]


def test_an_aggregate_of_a_string_field_is_an_error_not_a_crash() -> None:
    script = "stream|from()|window().period(2s).every(2s)|mean('value')|httpOut('out')"
    out = runtime(script).feed_points(pts(["a", "b", "c"]))
    assert out.http["out"] == {"series": None}
    assert out.stats["mean3"]["stats"]["errors"] == 2
    assert "cannot apply mean to string field" in out.logs[0].values["err"]


def test_aggregate_of_stream_points_closes_on_a_new_time() -> None:
    script = "stream|from()|sum('value')|log()"
    points = [Point("m", ZERO, {"value": 1.0}, {}), Point("m", ZERO, {"value": 2.0}, {})]
    out = runtime(script).feed_points([*points, Point("m", ZERO + S, {"value": 5.0}, {})])
    assert [(line.values["field_sum"], line.values["time"]) for line in out.logs] == [(3.0, t(0))]


# ---- stateful nodes ------------------------------------------------------------------------------------


def test_state_duration_count_and_change_detect() -> None:
    script = """
stream
    |from()
    |stateDuration(lambda: "value" > 2.0)
    |stateCount(lambda: "value" > 2.0)
    |changeDetect('value')
    |log()
"""
    out = runtime(script).feed_points(pts([1.0, 3.0, 3.0, 5.0, 1.0, 1.0]))
    got = [(line.values["field_state_duration"], line.values["field_state_count"]) for line in out.logs]
    assert got == [(-1.0, -1), (0.0, 1), (2.0, 3), (-1.0, -1)]


# ---- outputs -------------------------------------------------------------------------------------------


def test_influxdb_out_writes_with_its_overrides() -> None:
    script = """
stream
    |from()
    |influxDBOut().database('out').retentionPolicy('autogen').measurement('copy').tag('k', 'v').precision('s')
"""
    out = runtime(script).feed_points([Point("m", ZERO, {"value": 1.0}, {"host": "a"}, "db", "rp")])
    [p] = out.points
    assert (p.database, p.retention_policy, p.measurement, p.tags, p.fields, p.time, p.precision) == (
        "out",
        "autogen",
        "copy",
        {"host": "a", "k": "v"},
        {"value": 1.0},
        ZERO,
        "s",
    )
    assert out.stats["influxdb_out2"]["stats"]["points_written"] == 1


def test_log_lines_read_as_kapacitor_writes_them() -> None:
    out = runtime("stream|from()|log().prefix('P')").feed_points([Point("m", ZERO, {"v": 1.0}, {"h": "a"})])
    text = out.logs[0].text("task1")
    assert text.startswith("lvl=info msg=point task=task1 node=log2 prefix=P name=m")
    assert "tag_h=a field_v=1.0" in text


# ---- batch tasks ---------------------------------------------------------------------------------------


def test_batch_group_by_emits_on_the_next_time_and_feeds_aggregates() -> None:
    script = """
batch
    |query('SELECT value FROM "db"."rp"."m"').period(10s).every(10s)
    |groupBy('host')
    |mean('value')
    |httpOut('out')
"""
    rt: TaskRuntime = runtime(script, kind="batch")

    def result(end: int, *rows: tuple[str, float]) -> Batch:
        return Batch(
            "m",
            ZERO + end * S,
            {},
            [BatchPoint(ZERO + i * S, {"value": v}, {"host": h}) for i, (h, v) in enumerate(rows)],
        )

    first = rt.feed_batch("query1", result(10, ("a", 1.0), ("b", 2.0), ("a", 3.0)))
    assert first.http["out"] == {"series": None}  # held until a batch of another time
    second = rt.feed_batch("query1", result(20, ("a", 5.0)))
    assert second.http["out"]["series"] == [
        {"name": "m", "tags": {"host": "a"}, "columns": ["time", "mean"], "values": [[t(10), 2.0]]},
        {"name": "m", "tags": {"host": "b"}, "columns": ["time", "mean"], "values": [[t(10), 2.0]]},
    ]


def test_batch_where_eval_and_empty_batches() -> None:
    script = """
batch
    |query('SELECT value FROM "db"."rp"."m"').period(10s).every(10s)
    |where(lambda: "value" > 1.0)
    |eval(lambda: "value" * 10.0).as('value')
    |sum('value')
    |httpOut('out')
"""
    rt = runtime(script, kind="batch")
    batch = Batch(
        "m", ZERO + 10 * S, {}, [BatchPoint(ZERO + i * S, {"value": float(i)}, {}) for i in range(4)]
    )
    assert values(rt.feed_batch("query1", batch)) == [[t(10), 50.0]]
    empty = rt.feed_batch("query1", Batch("m", ZERO + 20 * S, {}, []))
    assert values(empty) == [[t(20), 0.0]]  # sum is one of the functions that reports an empty batch


def test_nan_survives_the_saved_state() -> None:
    # The standard deviation of a single point is NaN, which the state keeps.
    script = "stream|from()|window().period(1s).every(1s)|stddev('value')|httpOut('out')"
    rt = runtime(script)
    out = rt.feed_points(pts([1.0, 1.0]))
    assert math.isnan(values(out)[0][1])
    again = TaskRuntime.build(rt.pipeline, rt.to_state())
    assert math.isnan(again.to_state()["nodes"]["http_out4"]["groups"][""]["values"][0][1])


# ---- bad data never crashes the runtime ----------------------------------------------------------------

FIELD_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.text(max_size=3),
)
BUSY_SCRIPT = """
stream
    |from().groupBy('host')
    |eval(lambda: "value" * 2.0, lambda: sigma("value")).as('double', 'sigma').keep().quiet()
    |derivative('value')
    |window().period(3s).every(2s)
    |mean('value')
    |alert().warn(lambda: "mean" > 0.5).crit(lambda: "mean" / 0.0 > 1.0)
    |httpOut('out')
"""


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 20),
            st.sampled_from(["a", "b"]),
            st.dictionaries(st.sampled_from(["value", "x"]), FIELD_VALUES),
        ),
        max_size=30,
    )
)
def test_any_data_is_handled_without_crashing(rows: list[tuple[int, str, dict[str, Any]]]) -> None:
    rt = runtime(BUSY_SCRIPT)
    points = [
        Point("m", ZERO + second * S, fields, {"host": host})
        for second, host, fields in sorted(rows, key=lambda r: r[0])
    ]
    rt.feed_points(points)
    state = rt.to_state()
    assert runtime(BUSY_SCRIPT, state).to_state()["nodes"].keys() == state["nodes"].keys()


def test_a_state_of_another_script_is_ignored() -> None:
    rt = runtime("stream|from()|window().period(10s).every(10s)|httpOut('out')")
    rt.feed_points(pts([1.0]))
    other = runtime(
        "stream|from()|window().period(10s).every(10s)|count('value')|httpOut('out')", rt.to_state()
    )
    assert other.to_state()["nodes"]["window2"]["groups"] == {}


def test_unsupported_nodes_are_refused_when_built() -> None:
    with pytest.raises(TicklessError, match="the sideload node is not supported"):
        runtime("stream|from()|sideload().source('file:///x')")


def test_an_unreadable_state_starts_the_task_afresh_and_says_so() -> None:
    script = "stream|from()|window().period(10s).every(10s)|httpOut('out')"
    state = runtime(script).to_state()
    state["nodes"]["window2"]["groups"] = {"": {"name": "m"}}  # a group without its buffer
    rt = runtime(script, state)
    out = rt.feed_points(pts([1.0]))
    assert out.logs[0].message == "discarded unreadable task state"
    assert rt.to_state()["nodes"]["window2"]["groups"][""]["buffer"] == [[ZERO, {"value": 1.0}, {}]]
