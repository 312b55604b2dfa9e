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
from chalicelib.tick.tasks import ENABLED, TASKS, DefinitionStore, compile_task

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
    ) -> None:
        self.definitions = definitions
        self.states = states
        self.effects = effects
        self.outbox_of = outbox_of  # a feed's outputs as messages to send (with the pipeline's handlers)
        self.log = log

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

    def stats(self, org: str, task_id: str) -> dict[str, Any]:
        """By node name, the statistics the task's last run saved (empty before it ran)."""
        stored = self.states.load(org, task_id)
        return (stored.state.get("stats") or {}) if stored is not None else {}

    def run(self, org: str, task: dict[str, Any], records: Sequence[Record]) -> None:
        try:
            pipeline = compile_task(task).pipeline
        except TicklessError as exc:
            self.log("error", "task no longer compiles", {"task": task["id"], "error": exc.message})
            return
        for _ in range(MAX_ATTEMPTS):
            stored = self.states.load(org, task["id"])
            state = dict(stored.state) if stored is not None else {}
            version = stored.version if stored is not None else None
            if state.get("outbox"):  # a previous invocation saved these but may not have sent them
                self.effects.send(org, task["id"], state["outbox"])
                state["outbox"] = []
            consumed = dict(state.get("sequences") or {})
            fresh = [r for r in records if _after(r.sequence, consumed.get(r.shard))]
            if not fresh and stored is not None and not stored.state.get("outbox"):
                return  # a redelivery of what this task already consumed
            config = RuntimeConfig(task=task["id"], alerts=AlertStateMachine)
            runtime = TaskRuntime.build(pipeline, state.get("runtime"), config)
            outputs = runtime.feed_points(_points(fresh))
            for record in fresh:
                consumed[record.shard] = record.sequence
            outbox = self.outbox_of(pipeline, outputs)
            state = {
                "runtime": runtime.to_state(),
                "sequences": consumed,
                "http": {**(state.get("http") or {}), **outputs.http},
                "stats": outputs.stats,
                "outbox": outbox,
            }
            if self.states.save(org, task["id"], state, version):
                if outbox:
                    self.effects.send(org, task["id"], outbox)
                    # Sent: clear the outbox, unless another invocation saved meanwhile (it sends it again).
                    self.states.save(org, task["id"], {**state, "outbox": []}, (version or 0) + 1)
                for line in outputs.logs:
                    self.log(line.level, line.text(task["id"]), {"task": task["id"]})
                return
        raise Conflict(f"task {task['id']} state kept changing")


def _after(sequence: str, consumed: str | None) -> bool:
    return consumed is None or int(sequence) > int(consumed)


def _points(records: Iterable[Record]) -> list[Point]:
    """The records' points in time order (stable: a write's points keep their order), as the task's
    stream sees them. Records group a write's points by series, so arrival order is not kept."""
    points = []
    for record in records:
        destination = record.batch.destination
        for series in record.batch.series:
            tags = dict(series.tags)
            for time, fields in series.rows:
                points.append(
                    Point(
                        name=series.measurement,
                        time=time,
                        fields=dict(fields),
                        tags=dict(tags),
                        database=destination.database,
                        retention_policy=destination.retention_policy,
                    )
                )
    points.sort(key=lambda p: p.time)
    return points
