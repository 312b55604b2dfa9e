"""Alert nodes in the task runtime, over chalicelib.alert's state machine (tick/exec/alert_machine.py)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.alert.events import Level
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.time import SECOND
from chalicelib.tick.evaluate import evaluate
from chalicelib.tick.exec import Batch, BatchPoint, Point, RuntimeConfig, TaskRuntime
from chalicelib.tick.exec.alert_machine import AlertStateMachine
from chalicelib.tick.exec.alerting import AlertExec
from chalicelib.tick.exec.base import Context
from chalicelib.tick.parser import parse

S = SECOND
ZERO = 31_536_000 * S


def config(**values: Any) -> RuntimeConfig:
    return RuntimeConfig(**{"task": "testStreamer", "alerts": AlertStateMachine, **values})


def runtime(
    script: str, state: dict[str, Any] | None = None, kind: str = "stream", **values: Any
) -> TaskRuntime:
    return TaskRuntime.build(evaluate(parse(script), kind).pipeline, state, config(**values))


def cpu(values: list[float], host: str = "serverA") -> list[Point]:
    return [Point("cpu", ZERO + i * S, {"value": v}, {"host": host}) for i, v in enumerate(values)]


def test_state_changes_only_and_lambda_errors_are_counted() -> None:
    script = """
stream
    |from().measurement('cpu').groupBy('host')
    |alert()
        .warn(lambda: "value" > 5.0)
        .crit(lambda: "value" > 8.0)
        .stateChangesOnly()
"""
    rt = runtime(script)
    out = rt.feed_points(
        [*cpu([7.0, 7.5, 9.0, 1.0]), Point("cpu", ZERO + 9 * S, {"other": 1.0}, {"host": "serverA"})]
    )
    assert [a.event.level for a in out.alerts] == [Level.WARNING, Level.CRITICAL, Level.OK]
    assert [a.event.id for a in out.alerts] == ["cpu:host=serverA"] * 3
    assert out.alerts[0].topics == ()  # no handler, no topic: counted, sent nowhere
    stats = out.stats["alert2"]["stats"]
    assert (stats["alerts_triggered"], stats["warns_triggered"], stats["oks_triggered"]) == (3, 1, 1)
    # The point without "value" fails both level lambdas: logged and counted, as Kapacitor does.
    assert stats["errors"] == 2
    assert out.logs[0].message == "error evaluating expression for level CRITICAL"


def test_alert_without_the_alert_service_is_refused() -> None:
    with pytest.raises(TicklessError, match=r"RuntimeConfig\.alerts"):
        TaskRuntime.build(evaluate(parse("stream|from()|alert()"), "stream").pipeline)


def test_batch_alert_from_a_query() -> None:
    script = """
batch
    |query('SELECT mean(usage) FROM "db"."rp"."cpu"')
        .period(10s)
        .every(10s)
        .groupBy('host')
    |alert()
        .crit(lambda: "mean" > 80.0)
        .topic('ops')
"""
    rt = runtime(script, kind="batch")
    batch = Batch(
        "cpu", ZERO + 10 * S, {"host": "a"}, [BatchPoint(ZERO + 5 * S, {"mean": 90.0}, {"host": "a"})]
    )
    out = rt.feed_batch("query1", batch)
    [alert] = out.alerts
    assert (alert.event.level, alert.event.time, alert.topics) == (Level.CRITICAL, ZERO + 5 * S, ("ops",))
    assert alert.event.id == "cpu:host=a"
    assert out.stats["query1"]["stats"]["points_queried"] == 1
    state = rt.to_state()
    again = runtime(script, state, kind="batch").feed_batch(
        "query1",
        Batch(
            "cpu", ZERO + 20 * S, {"host": "a"}, [BatchPoint(ZERO + 15 * S, {"mean": 10.0}, {"host": "a"})]
        ),
    )
    assert [(a.event.level, a.event.previous_level) for a in again.alerts] == [(Level.OK, Level.CRITICAL)]


def test_deadman_alerts_on_its_derivative_of_emitted() -> None:
    # The deadman's alert evaluates its condition (data, not syntax) against the "emitted" rate.
    script = "stream|from().measurement('cpu')|deadman(1.0, 10s)"
    pipeline = evaluate(parse(script), "stream").pipeline
    alert = next(n for n in pipeline.nodes if n.type == "alert")
    ex = AlertExec(alert, Context(config()))
    p = Point("cpu", ZERO, {"emitted": 0.5}, {})
    [out] = ex.point(p)
    assert out.fields == {"emitted": 0.5}
    [output] = ex.ctx.outputs.alerts
    assert output.event.level == Level.CRITICAL
    assert output.event.message.endswith("is dead: 0.500 points/10s.")


def test_deadman_with_ticks_of_the_clock() -> None:
    rt = runtime("stream|from().measurement('cpu')|deadman(1.0, 10s)")
    assert rt.tick(ZERO).alerts == []  # the first tick starts the stats clock
    rt.feed_points(cpu([1.0] * 5))
    assert rt.tick(ZERO + 10 * S).alerts == []  # a first count: no rate yet
    state = rt.to_state()
    rt = runtime("stream|from().measurement('cpu')|deadman(1.0, 10s)", state)
    [dead] = rt.tick(ZERO + 20 * S).alerts
    assert dead.event.level == Level.CRITICAL
    assert dead.event.id == "nil:from1 for task 'testStreamer'"
    assert dead.event.message == "nil:from1 for task 'testStreamer' is dead: 0.000 points/10s."
    rt.feed_points([Point("cpu", ZERO + (20 + i) * S, {"value": 1.0}, {}) for i in range(30)])
    [alive] = rt.tick(ZERO + 30 * S).alerts
    assert alive.event.level == Level.OK
    assert alive.event.message.endswith("is alive: 30.000 points/10s.")
    stats = rt.stats()
    assert stats["stats2"]["emitted"] == 3
    assert stats["alert5"]["stats"]["crits_triggered"] == 1
    assert stats["from1"]["processed"] == {"noop3": 35}
