"""DOT graphs of a task, as Kapacitor's task API prints them (pipeline.Dot and task.EDot)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.kit.time import SECOND
from chalicelib.tick.pipeline import Pipeline, dot, executing_dot, invoke
from chalicelib.tick.values import Duration, Lambda


def build(kind: str, *calls: tuple[str, str, list[Any]]) -> Pipeline:
    pipeline = Pipeline()
    node: Any = pipeline.source(kind)
    for call_kind, name, args in calls:
        node = invoke(node, call_kind, name, args)
    return pipeline


def stream_from() -> Pipeline:
    return build("stream", ("chain", "from", []), ("property", "measurement", ["test"]))


def test_dot_of_a_stream_task_from_kapacitor_server_test() -> None:
    assert dot("testTaskID", stream_from()) == "digraph testTaskID {\nstream0 -> from1;\n}"


def test_dot_of_a_batch_task_leaves_the_batch_source_out() -> None:
    pipeline = build(
        "batch",
        ("chain", "query", ["SELECT value from mydb.myrp.cpu"]),
        ("property", "period", [Duration(5 * SECOND)]),
        ("property", "every", [Duration(5 * SECOND)]),
        ("chain", "log", []),
    )
    assert dot("testTaskID", pipeline) == "digraph testTaskID {\nquery1 -> log2;\n}"


def test_dot_of_an_empty_pipeline() -> None:
    pipeline = Pipeline()
    pipeline.source("stream")
    assert dot("t1", pipeline) == "digraph t1 {\n}"


def test_dot_of_a_join() -> None:
    pipeline = Pipeline()
    src = pipeline.source("stream")
    a = invoke(src, "chain", "from", [])
    b = invoke(src, "chain", "from", [])
    joined = invoke(invoke(b, "chain", "join", [a]), "property", "as", ["b", "a"])
    invoke(joined, "chain", "httpOut", ["x"])
    assert dot("j", pipeline) == (
        "digraph j {\nstream0 -> from1;\nstream0 -> from2;\nfrom2 -> join4;\n"
        "from1 -> join4;\njoin4 -> http_out5;\n}"
    )


def test_executing_dot_attributes_from_kapacitor_server_test() -> None:
    assert executing_dot("testTaskID", stream_from(), {}) == (
        "digraph testTaskID {\n"
        'graph [throughput="0.00 points/s"];\n'
        "\n"
        'stream0 [avg_exec_time_ns="0s" errors="0" working_cardinality="0" ];\n'
        'stream0 -> from1 [processed="0"];\n'
        "\n"
        'from1 [avg_exec_time_ns="0s" errors="0" working_cardinality="0" ];\n'
        "}"
    )


def test_executing_dot_labels() -> None:
    stats = {
        "stream0": {"stats": {"avg_exec_time_ns": 1500}, "processed": {"from1": 12}},
        "from1": {"stats": {"errors": 2, "working_cardinality": 3}},
    }
    assert executing_dot("t", stream_from(), stats, "labels", throughput=2.345) == (
        "digraph t {\n"
        'graph [label="Throughput: 2.35 points/s" forcelabels=true pad="0.8,0.5"];\n'
        "\n"
        'stream0 [xlabel="avg_exec_time_ns=1.5µs\\rerrors=0\\rworking_cardinality=0"];\n'
        'stream0 -> from1 [label="processed=12"];\n'
        "\n"
        'from1 [xlabel="avg_exec_time_ns=0s\\rerrors=2\\rworking_cardinality=3"];\n'
        "}"
    )


def test_executing_dot_of_a_batch_task_with_alert_stats() -> None:
    pipeline = build(
        "batch",
        ("chain", "query", ["SELECT mean(value) FROM db.rp.cpu"]),
        ("chain", "alert", []),
        ("property", "crit", [Lambda(object(), '"mean" > 1')]),
    )
    stats = {
        "query1": {"stats": {"batches_queried": 4, "points_queried": 40}, "processed": {"alert2": 4}},
        "alert2": {"stats": {"alerts_triggered": 1, "crits_triggered": 1, "avg_exec_time_ns": 2 * SECOND}},
    }
    assert executing_dot("b", pipeline, stats, throughput=1.0) == (
        "digraph b {\n"
        'graph [throughput="1.00 batches/s"];\n'
        "\n"
        'query1 [avg_exec_time_ns="0s" batches_queried="4" errors="0" points_queried="40" '
        'working_cardinality="0" ];\n'
        'query1 -> alert2 [processed="4"];\n'
        "\n"
        'alert2 [alerts_inhibited="0" alerts_triggered="1" avg_exec_time_ns="2s" crits_triggered="1" '
        'errors="0" infos_triggered="0" oks_triggered="0" warns_triggered="0" working_cardinality="0" ];\n'
        "}"
    )


def test_executing_dot_type_specific_defaults() -> None:
    pipeline = build(
        "stream",
        ("chain", "from", []),
        ("chain", "default", []),
        ("chain", "delete", []),
        ("chain", "influxDBOut", []),
    )
    text = executing_dot("t", pipeline, {})
    assert 'default2 [avg_exec_time_ns="0s" errors="0" fields_defaulted="0" tags_defaulted="0" ' in text
    assert 'delete3 [avg_exec_time_ns="0s" errors="0" fields_deleted="0" tags_deleted="0" ' in text
    assert (
        'influxdb_out4 [avg_exec_time_ns="0s" errors="0" points_written="0" working_cardinality="0" ' in text
    )


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=20), st.dictionaries(st.text(max_size=5), st.integers(0, 10**12), max_size=4))
def test_executing_dot_never_crashes(task_id: str, counters: dict[str, int]) -> None:
    pipeline = stream_from()
    text = executing_dot(task_id, pipeline, {"from1": {"stats": counters}}, "labels")
    assert text.startswith(f"digraph {task_id} {{\n") and text.endswith("}")
