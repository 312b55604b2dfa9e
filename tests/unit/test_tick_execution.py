"""StreamTasks' failure paths (chalicelib/tick/execution.py): a task whose runtime fails on its points,
or whose state outgrows the store, records why in its state and lets the shard go on; nothing here may
block the other tasks or make Lambda retry a batch forever."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.ingest.records import Destination, PointBatch, SeriesRows
from chalicelib.tick.exec.runtime import TaskRuntime
from chalicelib.tick.execution import Record, StateTooLarge, StoredState, StreamTasks
from chalicelib.tick.tasks import TASKS

ORG = "0000000000000001"
SCRIPT = "stream|from().measurement('cpu')|window().period(10s).every(10s)|mean('v')|httpOut('m')"


class Definitions:
    def __init__(self, *tasks: dict) -> None:
        self.tasks = {t["id"]: t for t in tasks}

    def list(self, kind: str, org_id: str) -> list[dict]:
        return list(self.tasks.values()) if kind == TASKS else []

    def get(self, kind: str, org_id: str, id: str) -> dict | None:
        return self.tasks.get(id)


class States:
    def __init__(self, limit: int | None = None) -> None:
        self.items: dict[str, StoredState] = {}
        self.limit = limit  # points a saved window may hold before the state is "too large"

    def load(self, org_id: str, task_id: str) -> StoredState | None:
        return self.items.get(task_id)

    def save(self, org_id: str, task_id: str, state: dict[str, Any], expected: int | None) -> bool:
        current = self.items.get(task_id)
        if (current.version if current else None) != expected:
            return False
        if self.limit is not None and len(repr(state.get("runtime"))) > self.limit:
            raise StateTooLarge(len(repr(state)), self.limit)
        self.items[task_id] = StoredState((expected or 0) + 1, state)
        return True

    def delete(self, org_id: str, task_id: str) -> None:
        self.items.pop(task_id, None)


class Effects:
    def send(self, org_id: str, task_id: str, outbox: list[dict]) -> None:
        pass


def _task(task_id: str) -> dict:
    return {
        "id": task_id,
        "script": SCRIPT,
        "type": "stream",
        "status": "enabled",
        "dbrps": [{"db": "db", "rp": "autogen"}],
        "vars": {},
    }


def _record(sequence: int, times: range) -> Record:
    rows = [(t * 1_000_000_000, {"v": float(t)}) for t in times]
    series = SeriesRows("cpu", "cpu", (), rows)
    return Record("shard-0", str(sequence), PointBatch(Destination("ns", "db", "autogen", ORG), [series]))


def _tasks(states: States, *tasks: dict) -> tuple[StreamTasks, list]:
    logs: list = []
    runner = StreamTasks(
        Definitions(*tasks), states, Effects(), lambda p, o: [], log=lambda *e: logs.append(e)
    )
    return runner, logs


def test_a_runtime_failure_is_the_tasks_error_and_the_shard_goes_on(monkeypatch) -> None:
    states = States()
    tasks, logs = _tasks(states, _task("bad"), _task("good"))

    def broken(self, points):  # only the first task's runtime breaks
        if self.ctx.config.task == "bad":
            raise ZeroDivisionError("boom")
        return original(self, points)

    original = TaskRuntime.feed_points
    monkeypatch.setattr(TaskRuntime, "feed_points", broken)
    tasks.consume([_record(1, range(0, 11))])
    bad, good = states.items["bad"].state, states.items["good"].state
    assert bad["error"] == "ZeroDivisionError: boom" and bad["sequences"] == {"shard-0": "1"}
    assert good["error"] == "" and good["http"]["m"]["series"][0]["values"] == [["1970-01-01T00:00:10Z", 4.5]]
    assert any(entry[1] == "task failed on its points" for entry in logs)


def test_a_state_too_large_starts_afresh() -> None:
    states = States()
    tasks, _ = _tasks(states, _task("t"))
    tasks.consume([_record(1, range(0, 5))])  # half a window, saved
    states.limit = len(repr(states.items["t"].state["runtime"]))  # more buffered points do not fit
    tasks.consume([_record(2, range(5, 9))])
    state = states.items["t"].state
    assert state["error"].startswith("task state reset: task state of ")
    assert state["runtime"]["nodes"]["window2"]  # afresh, with these points only
    assert state["sequences"] == {"shard-0": "2"}
    states.limit = None
    tasks.consume([_record(3, range(20, 31))])  # and it goes on
    assert states.items["t"].state["error"] == ""


def test_points_too_large_alone_are_skipped() -> None:
    states = States(limit=10)
    tasks, _ = _tasks(states, _task("t"))
    tasks.consume([_record(1, range(0, 5))])
    state = states.items["t"].state
    assert state["runtime"] is None and state["error"].startswith("task state reset: ")
    assert state["sequences"] == {"shard-0": "1"}


@pytest.mark.parametrize("redelivered", [1, 2])
def test_redelivered_records_are_not_fed_twice(redelivered: int) -> None:
    states = States()
    tasks, _ = _tasks(states, _task("t"))
    tasks.consume([_record(1, range(0, 5)), _record(2, range(5, 11))])
    saved = states.items["t"]
    tasks.consume([_record(redelivered, range(0, 11))])
    assert states.items["t"] is saved


def test_group_cardinality_is_bounded_by_the_tasks_limits() -> None:
    from chalicelib.tick.execution import TaskLimits

    states = States()
    task = {
        **_task("t"),
        "script": SCRIPT.replace(".measurement('cpu')", ".measurement('cpu').groupBy('host')"),
    }
    runner = StreamTasks(
        Definitions(task), states, Effects(), lambda p, o: [], limits=TaskLimits(max_groups=1)
    )
    rows = [(t * 1_000_000_000, {"v": 1.0}) for t in range(11)]
    series = [SeriesRows(f"cpu,host={h}", "cpu", (("host", h),), rows) for h in ("a", "b")]
    runner.consume([Record("shard-0", "1", PointBatch(Destination("ns", "db", "autogen", ORG), series))])
    stats = states.items["t"].state["stats"]
    assert stats["window2"]["stats"]["working_cardinality"] == 1  # host b was refused, 11 times
    assert stats["window2"]["stats"]["errors"] == 11


def test_throughput_is_what_the_source_collected_per_second_between_runs() -> None:
    states = States()
    clock = iter([100.0, 102.0])
    tasks = StreamTasks(Definitions(_task("t")), states, Effects(), lambda p, o: [])
    tasks.runner.clock = lambda: next(clock)
    tasks.consume([_record(1, range(0, 5))])
    assert states.items["t"].state["throughput"] == 0.0  # a first run has nothing to compare with
    tasks.consume([_record(2, range(5, 11))])
    assert states.items["t"].state["throughput"] == 3.0  # 6 points in 2 s
    assert tasks.execution(ORG, "t").throughput == 3.0


@pytest.mark.parametrize(("forced", "events"), [(False, 3), (True, 1)])
def test_a_global_section_can_make_every_alert_state_changes_only(forced: bool, events: int) -> None:
    """Kapacitor's `global = true` with `state-changes-only = true` (e.g. [slack]): every alert node
    behaves as if it said `.stateChangesOnly()`; the org's config is asked once per run."""
    task = {**_task("a"), "script": "stream|from().measurement('cpu')|alert().crit(lambda: \"v\" > 0)"}
    asked: list[str] = []
    sent: list = []

    def forced_for(org_id: str) -> bool:
        asked.append(org_id)
        return forced

    runner = StreamTasks(
        Definitions(task),
        States(),
        Effects(),
        lambda pipeline, outputs: sent.extend(outputs.alerts) or [],
        state_changes_only=forced_for,
    )
    runner.consume([_record(1, range(1, 4))])
    assert [a.event.level.name for a in sent] == ["CRITICAL"] * events
    assert asked == [ORG]
