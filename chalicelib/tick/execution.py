"""Running Kapacitor's stream tasks on the points stream: one invocation's records, per organization,
through each enabled stream task whose dbrps they match.

A task's state (its runtime's, the last Kinesis sequence number it consumed per shard, its httpOut
results and what it still has to send) is loaded, fed, and saved once per invocation with a condition on
the version it read: two invocations running the same task at once (its points on two shards) never both
win, the loser runs again on the winner's state. Records at or before a shard's saved sequence number are
skipped, so Kinesis's redelivery never counts a point twice. What a feed produces (alert events, points
for influxDBOut) is saved with the state as its outbox before it is sent, and cleared after: a crash in
between sends it again rather than losing it."""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.ingest.records import PointBatch
from chalicelib.kit.errors import TicklessError, not_found
from chalicelib.tick.exec.alert_machine import AlertStateMachine
from chalicelib.tick.exec.base import RuntimeConfig
from chalicelib.tick.exec.model import Point
from chalicelib.tick.exec.outputs import Outputs
from chalicelib.tick.exec.runtime import TaskRuntime
from chalicelib.tick.tasks import ENABLED, TASKS, DefinitionStore, Execution, compile_task

MAX_ATTEMPTS = 8  # conflicting saves of one task before the invocation fails (Lambda retries it)


@dataclass(frozen=True, slots=True)
class StoredState:
    version: int
    state: dict[str, Any]


class StateTooLarge(ValueError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"task state of {size} bytes compressed is over the limit of {limit}")


class TaskStateStore(Protocol):
    def load(self, org_id: str, task_id: str) -> StoredState | None: ...
    def save(self, org_id: str, task_id: str, state: dict[str, Any], expected: int | None) -> bool:
        """False when the stored version is no longer `expected` (None: no state yet)."""

    def delete(self, org_id: str, task_id: str) -> None: ...


class Effects(Protocol):
    """Where a task's outputs go: alert events to their handlers, points to the write path."""

    def send(self, org_id: str, task_id: str, outbox: list[dict[str, Any]]) -> None: ...


@dataclass(frozen=True, slots=True)
class TaskLimits:
    """Bounds of every task's runtime (Kapacitor has none and runs out of memory): groups one node keeps
    (a new one beyond is refused and counted as the node's error), and ns of event time after which an
    idle group is forgotten (0: never)."""

    max_groups: int = 10_000
    group_idle: int = 24 * 3600 * 1_000_000_000

    def config(
        self, task_id: str, state_changes_only: bool = False, task_master: str = "main"
    ) -> RuntimeConfig:
        return RuntimeConfig(
            task=task_id,
            alerts=AlertStateMachine,
            max_groups=self.max_groups,
            group_idle=self.group_idle,
            state_changes_only=state_changes_only,
            task_master=task_master,
        )


class Conflict(RuntimeError):
    """A task's state kept changing under this invocation: fail it and let Lambda retry."""


@dataclass(frozen=True, slots=True)
class Record:
    """One Kinesis record's points: its shard, sequence number and decoded batch."""

    shard: str
    sequence: str
    batch: PointBatch


class StreamTasks:
    def __init__(
        self,
        definitions: DefinitionStore,
        states: TaskStateStore,
        effects: Effects,
        outbox_of: Callable[[Any, Outputs], list[dict[str, Any]]],
        log: Callable[[str, str, dict[str, Any]], None] = lambda level, message, extra: None,
        limits: TaskLimits = TaskLimits(),
        state_changes_only: Callable[[str], bool] = lambda org_id: False,
    ) -> None:
        self.definitions = definitions
        self.states = states
        self.log = log
        self.limits = limits
        self.runner = TaskRunner(
            states, effects, outbox_of, log, limits, state_changes_only=state_changes_only
        )

    def consume(self, records: Sequence[Record]) -> int:
        """Feed the records to every enabled stream task of their org that reads their db/rp. Returns
        the number of (task, invocation) runs. A task whose script no longer compiles is skipped."""
        runs = 0
        by_org: dict[str, list[Record]] = {}
        for record in records:
            org = record.batch.destination.org
            if org:
                by_org.setdefault(org, []).append(record)
        for org, mine in by_org.items():
            for task in self.definitions.list(TASKS, org):
                if task.get("status") != ENABLED or task.get("type") != "stream":
                    continue
                dbrps = {(d["db"], d["rp"]) for d in task.get("dbrps", [])}
                wanted = [
                    r
                    for r in mine
                    if (r.batch.destination.database, r.batch.destination.retention_policy) in dbrps
                ]
                if wanted:
                    self.run(org, task, wanted)
                    runs += 1
        return runs

    def http_out(self, org: str, task_id: str, endpoint: str) -> dict[str, Any]:
        """The current result of a running task's httpOut endpoint (Kapacitor serves it while the task
        runs: before any data, `{"series": null}`)."""
        task = self.definitions.get(TASKS, org, task_id)
        if task is None or task.get("status") != ENABLED:
            raise not_found("Not Found")
        try:
            pipeline = compile_task(task).pipeline
        except TicklessError:
            raise not_found("Not Found") from None
        if endpoint not in {getattr(n, "endpoint", None) for n in pipeline.nodes if n.type == "httpOut"}:
            raise not_found("Not Found")
        stored = self.states.load(org, task_id)
        http = (stored.state.get("http") or {}) if stored is not None else {}
        return http.get(endpoint) or {"series": None}

    def execution(self, org: str, task_id: str) -> Execution:
        return read_execution(self.states, org, task_id)

    def run(self, org: str, task: dict[str, Any], records: Sequence[Record]) -> None:
        try:
            pipeline = compile_task(task).pipeline
        except TicklessError as exc:
            self.log("error", "task no longer compiles", {"task": task["id"], "error": exc.message})
            return
        state_changes_only = self.runner.state_changes_only(org) if has_alerts(pipeline) else False

        def step(state: dict[str, Any], reset: str = "") -> Step | None:
            consumed = dict(state.get("sequences") or {})
            fresh = [r for r in records if _after(r.sequence, consumed.get(r.shard))]
            if not fresh:
                return None  # a redelivery of what this task already consumed
            for record in fresh:
                consumed[record.shard] = record.sequence
            config = self.limits.config(task["id"], state_changes_only)
            try:
                runtime = TaskRuntime.build(pipeline, None if reset else state.get("runtime"), config)
                outputs = runtime.feed_points(record_points(fresh))
            except Exception as exc:  # the runtime is pure: what fails here fails on every retry
                # These points are skipped for this task, which keeps its state and says why; other
                # tasks, and the shard, go on (Kapacitor would stop the task).
                message = f"{type(exc).__name__}: {exc}"
                self.log("error", "task failed on its points", {"task": task["id"], "error": message})
                return Step({"sequences": consumed, "error": message}, Outputs())
            return Step({"runtime": runtime.to_state(), "sequences": consumed, "error": reset}, outputs)

        try:
            self.runner.run(org, task["id"], pipeline, step)
        except StateTooLarge as exc:
            # Kapacitor would run out of memory here: start the task's state afresh and say so.
            message = f"task state reset: {exc}"
            self.log("error", "task state too large", {"task": task["id"], "error": message})
            try:
                self.runner.run(org, task["id"], pipeline, lambda state: step(state, reset=message))
            except StateTooLarge:  # these points alone are too much: skip them too
                self.runner.run(org, task["id"], pipeline, lambda state: _skipped(state, records, message))


@dataclass(frozen=True, slots=True)
class Step:
    """What one run of a task did: the state fields it changed and what its feeds produced."""

    fields: dict[str, Any]
    outputs: Outputs


class TaskRunner:
    """One run of a task over its saved state, the part stream and batch tasks share: load the state,
    send what a previous run saved but may not have sent, let `step` feed the runtime, save the new state
    with its outbox on a condition of the version read, then send the outbox and clear it. A save that
    loses to another run starts over on the winner's state (`step` sees what the winner consumed)."""

    def __init__(
        self,
        states: TaskStateStore,
        effects: Effects,
        outbox_of: Callable[[Any, Outputs], list[dict[str, Any]]],
        log: Callable[[str, str, dict[str, Any]], None] = lambda level, message, extra: None,
        limits: TaskLimits = TaskLimits(),
        clock: Callable[[], float] = time.time,
        state_changes_only: Callable[[str], bool] = lambda org_id: False,
    ) -> None:
        self.states = states
        self.limits = limits
        # whether an org's config makes every alert node state-changes-only (a global section that says so)
        self.state_changes_only = state_changes_only
        self.clock = clock  # wall seconds: a task's throughput is points per second of its runs
        self.effects = effects
        self.outbox_of = outbox_of  # a feed's outputs as messages to send (with the pipeline's handlers)
        self.log = log

    def run(
        self,
        org: str,
        task_id: str,
        pipeline: Any,
        step: Callable[[dict[str, Any]], Step | None],
        state_key: str | None = None,
    ) -> bool:
        """True when `step` ran and its state was saved; False when it had nothing to do. The state is
        the task's own, or the one under `state_key` (a replay's run of the task)."""
        key = state_key or task_id
        for _ in range(MAX_ATTEMPTS):
            stored = self.states.load(org, key)
            state = dict(stored.state) if stored is not None else {}
            version = stored.version if stored is not None else None
            pending = state.get("outbox")
            if pending:  # a previous run saved these but may not have sent them
                self.effects.send(org, task_id, pending)
                state["outbox"] = []
            done = step(state)
            if done is None:
                if pending:  # sent: cleared, unless another run saved meanwhile (it sends them again)
                    self.states.save(org, key, state, version)
                return False
            outputs = done.outputs
            outbox = self.outbox_of(pipeline, outputs)
            now = self.clock()
            stats = outputs.stats or state.get("stats") or {}
            state = {
                **state,
                **done.fields,
                "http": {**(state.get("http") or {}), **outputs.http},
                "stats": stats,
                "outbox": outbox,
                "throughput": _throughput(state, stats, now),
                "saved_at": now,
            }
            if self.states.save(org, key, state, version):
                if outbox:
                    self.effects.send(org, task_id, outbox)
                    # Sent: clear the outbox, unless another run saved meanwhile (it sends it again).
                    self.states.save(org, key, {**state, "outbox": []}, (version or 0) + 1)
                return True  # (the run's log lines went with its outbox: tick/outbox.py)
        raise Conflict(f"task {task_id} state kept changing")


def read_execution(states: TaskStateStore, org: str, task_id: str) -> Execution:
    """What the task's last run (stream or batch) saved: statistics, throughput, error."""
    stored = states.load(org, task_id)
    if stored is None:
        return Execution()
    state = stored.state
    return Execution(
        state.get("stats") or {}, float(state.get("throughput") or 0.0), state.get("error") or ""
    )


def _throughput(previous: dict[str, Any], stats: dict[str, Any], now: float) -> float:
    """What the task's source (`stream0`, `batch0`) collected since the last saved run, per second."""
    saved_at = previous.get("saved_at")
    if not saved_at or now <= saved_at:
        return 0.0
    collected = _source_collected(stats) - _source_collected(previous.get("stats") or {})
    return max(0.0, collected / (now - saved_at))


def _source_collected(stats: dict[str, Any]) -> int:
    return sum(int(node.get("collected", 0)) for name, node in stats.items() if name in ("stream0", "batch0"))


def _skipped(state: dict[str, Any], records: Sequence[Record], message: str) -> Step | None:
    consumed = dict(state.get("sequences") or {})
    fresh = [r for r in records if _after(r.sequence, consumed.get(r.shard))]
    if not fresh:
        return None
    for record in fresh:
        consumed[record.shard] = record.sequence
    return Step({"runtime": None, "sequences": consumed, "error": message}, Outputs())


def has_alerts(pipeline: Any) -> bool:
    """Whether the pipeline has an alert node (only those read the org's config when they run)."""
    return any(node.type == "alert" for node in pipeline.nodes)


def _after(sequence: str, consumed: str | None) -> bool:
    return consumed is None or int(sequence) > int(consumed)


def record_points(records: Iterable[Record]) -> list[Point]:
    """The records' points in time order (stable: a write's points keep their order), as the task's
    stream sees them. Records group a write's points by series, so arrival order is not kept. The
    points share the records' fields (every task and every retry is fed them) and a series' tags:
    no node changes what it receives (tests/unit/test_tick_exec_inputs_untouched.py)."""
    points: list[Point] = []
    append = points.append
    for record in records:
        destination = record.batch.destination
        database, rp = destination.database, destination.retention_policy
        for series in record.batch.series:
            name, tags = series.measurement, dict(series.tags)
            for point_time, fields in series.rows:
                append(Point(name, point_time, fields, tags, database, rp))
    points.sort(key=_time_of)
    return points


_time_of = operator.attrgetter("time")
