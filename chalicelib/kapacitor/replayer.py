"""Kapacitor's replays as Step Functions executions (chalicelib/workflows/kapacitor_replay.json): the task
run in isolation, as Kapacitor runs it in a task master named by the replay's id, over a recording or
over a live batch or query run when the replay starts.

The run is the stream and batch tasks' own (tick.execution.TaskRunner) on a state of its own
(`replay:<id>`): alert events go to the task's handlers and to topics named `<replay id>:<task>:<node>`,
httpPost and influxDBOut send as the task would. Each step feeds the next points or batches and saves
where it got to with the runtime's state, so a worker that fails mid-way resumes there. The clock: `fast`
feeds everything without waiting; `real` feeds what is due by the wall clock, the execution waiting
between steps. Without `recording-time`, times are moved so the first one is the replay's start, as
Kapacitor's clocks do."""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from typing import Any, Protocol

from chalicelib.kapacitor.query_records import dbrp_of, query_batches, query_points
from chalicelib.kapacitor.recorder import (
    NS,
    Blobs,
    Querier,
    Recordings,
    Workflows,
    batch_queries,
    check_new_id,
    execution_name,
)
from chalicelib.kapacitor.recording_formats import (
    decode_batches,
    decode_stream,
    encode_batches,
    encode_stream,
)
from chalicelib.kapacitor.recordings import (
    Replay,
    list_json,
    parse_create_replay,
    parse_replay_batch,
    parse_replay_query,
)
from chalicelib.kit.errors import CONFLICT, NOT_FOUND, TicklessError, invalid
from chalicelib.tick.batch import merge_outputs, plans_of
from chalicelib.tick.exec.model import Batch, Point
from chalicelib.tick.exec.outputs import Outputs
from chalicelib.tick.exec.runtime import TaskRuntime
from chalicelib.tick.execution import Step, TaskLimits, TaskRunner, TaskStateStore
from chalicelib.tick.tasks import TASKS, DefinitionStore, compile_task, execution_stats

REPLAYS = "replays"
REPLAY_MACHINE = "kapacitor-replay"
CHUNK = 5_000  # points or batches one step feeds at most
MAX_WAIT_SECONDS = 300
CACHED_ITEMS = 2_000_000  # points or batches a worker keeps decoded between the steps of one replay

Item = tuple[int, str, Point | Batch]  # (time, query node name or "", the point or batch)


class StateDeleter(Protocol):
    def delete(self, org_id: str, task_id: str) -> None: ...


def state_key(replay_id: str) -> str:
    return f"replay:{replay_id}"


class Replays:
    def __init__(
        self,
        definitions: DefinitionStore,
        recordings: Recordings,
        blobs: Blobs,
        workflows: Workflows,
        runner: TaskRunner,
        states: TaskStateStore,
        query: Querier,
        prefix: str,
        clock: Callable[[], int],
        limits: TaskLimits | None = None,
    ) -> None:
        self.definitions = definitions
        self.recordings = recordings
        self.blobs = blobs
        self.workflows = workflows
        self.runner = runner
        self.states = states
        self.query = query
        self.prefix = prefix
        self.clock = clock
        self.limits = limits or TaskLimits()
        self._decoded: tuple[tuple[str, str, int], list[Item]] | None = None

    # -- the API -----------------------------------------------------------------------------------

    def create(self, org: str, body: bytes) -> Replay:
        options = parse_create_replay(body)
        task = self._task(org, options.task)
        recording, _ = self.recordings.finished(org, options.recording)
        if recording.type != task.get("type"):
            raise invalid(
                f"cannot replay {recording.type} recording {recording.id} into {task.get('type')} task"
            )
        source = {"recording": options.recording}
        return self._start(org, options, task, source)

    def create_batch(self, org: str, body: bytes) -> Replay:
        now = self.clock()
        options = parse_replay_batch(body, now)
        task = self._task(org, options.task)
        if task.get("type") == "stream":
            raise invalid(f"cannot replay batch against stream task: {options.task}")
        source = {"batch": {"start": options.start, "stop": options.stop}}
        return self._start(org, options, task, source)

    def create_query(self, org: str, body: bytes) -> Replay:
        options = parse_replay_query(body)
        task = self._task(org, options.task)
        if task.get("type") == "stream":
            dbrp_of(options.query)
        source = {"query": {"query": options.query}}
        return self._start(org, options, task, source)

    def get(self, org: str, id: str) -> Replay:
        doc = self.definitions.get(REPLAYS, org, id)
        if doc is None:
            raise TicklessError(NOT_FOUND, "could not find replay: no replay exists")
        return Replay.from_doc(doc["replay"])

    def running_state(self, org: str, replay_id: str, task_id: str) -> str:
        """The state a running replay of the task keeps (GET /tasks/<id>?replay-id=), or 400 as Kapacitor
        answers for a replay that is not running."""
        doc = self.definitions.get(REPLAYS, org, replay_id)
        replay = Replay.from_doc(doc["replay"]) if doc is not None else None
        if replay is None or replay.status != "running" or replay.task != task_id:
            raise invalid(f"no running replay with ID: {replay_id}")
        return state_key(replay_id)

    def list(self, org: str, params: dict[str, Any]) -> dict[str, Any]:
        items = [Replay.from_doc(d["replay"]) for d in self.definitions.list(REPLAYS, org)]
        return list_json("replays", items, params)

    def delete(self, org: str, id: str) -> None:
        doc = self.definitions.get(REPLAYS, org, id)
        if doc is None:
            return
        if Replay.from_doc(doc["replay"]).status == "running" and doc.get("execution"):
            with suppress(TicklessError):  # already over
                self.workflows.stop(doc["execution"], "the replay was deleted")
        self.blobs.delete(self._data_key(org, id))
        self.states.delete(org, state_key(id))
        self.definitions.delete(REPLAYS, org, id)

    # -- the execution's steps -------------------------------------------------------------------

    def step(self, input: dict[str, Any]) -> dict[str, Any]:
        org, id = input["org"], input["id"]
        doc = self.definitions.get(REPLAYS, org, id)
        if doc is None:
            return {"done": True, "wait": 0}  # deleted: Finish finds nothing either
        replay = Replay.from_doc(doc["replay"])
        task = self._task(org, replay.task)
        pipeline = compile_task(task).pipeline
        items = self._items(org, doc, task, pipeline)
        diff = int(doc["zero"]) - items[0][0] if items else 0
        real = replay.clock == "real"

        def feed(state: dict[str, Any]) -> Step | None:
            offset = int(state.get("offset") or 0)
            if offset >= len(items):
                return None
            end = min(len(items), offset + CHUNK)
            if real:
                now = self.clock()
                end = offset
                while end < len(items) and end - offset < CHUNK and items[end][0] + diff <= now:
                    end += 1
                if end == offset:
                    return None
            config = self.limits.config(replay.task, task_master=replay.id)
            runtime = TaskRuntime.build(pipeline, state.get("runtime"), config)
            outputs = _feed(runtime, items[offset:end], 0 if replay.recording_time else diff)
            outputs.stats = runtime.stats()
            return Step({"runtime": runtime.to_state(), "offset": end}, outputs)

        self.runner.run(org, replay.task, pipeline, feed, state_key=state_key(id))
        stored = self.states.load(org, state_key(id))
        offset = int((stored.state.get("offset") if stored is not None else 0) or 0)
        progress = offset / len(items) if items else 1.0
        if self.definitions.get(REPLAYS, org, id) is None:  # deleted while this step ran
            return {"done": True, "wait": 0}
        self._save(org, doc, replay, progress=progress, status="running")
        if offset >= len(items):
            return {"done": True, "wait": 0}
        wait = 0
        if real:
            wait = min(MAX_WAIT_SECONDS, max(0, math.ceil((items[offset][0] + diff - self.clock()) / NS)))
        return {"done": False, "wait": wait}

    def finish(self, input: dict[str, Any]) -> dict[str, Any]:
        org, id = input["org"], input["id"]
        doc = self.definitions.get(REPLAYS, org, id)
        if doc is None:
            return {}
        stored = self.states.load(org, state_key(id))
        state = stored.state if stored is not None else {}
        stats = execution_stats(state.get("stats") or {}, float(state.get("throughput") or 0.0))
        error = state.get("error") or ""
        status = "failed" if error else "finished"
        self._save(
            org, doc, Replay.from_doc(doc["replay"]), status=status, error=error, progress=1.0, stats=stats
        )
        self.states.delete(org, state_key(id))
        self.blobs.delete(self._data_key(org, id))
        return {}

    def failed(self, input: dict[str, Any]) -> dict[str, Any]:
        org, id = input["org"], input["id"]
        doc = self.definitions.get(REPLAYS, org, id)
        if doc is not None:
            error = input.get("error") or {}
            message = error.get("Cause") or error.get("Error") or "replay failed"
            self._save(org, doc, Replay.from_doc(doc["replay"]), status="failed", error=message, progress=1.0)
        self.states.delete(org, state_key(id))
        return {}

    # -- helpers -----------------------------------------------------------------------------------

    def _task(self, org: str, task_id: str) -> dict[str, Any]:
        task = self.definitions.get(TASKS, org, task_id)
        if task is None:
            raise TicklessError(NOT_FOUND, "task load: no task exists")
        return task

    def _start(self, org: str, options: Any, task: dict[str, Any], source: dict[str, Any]) -> Replay:
        now = self.clock()
        recording = source.get("recording", "")
        replay = Replay(
            options.id, options.task, recording, options.recording_time, options.clock, "running", now
        )
        check_new_id(replay.id, "replay")
        doc = {"id": replay.id, "replay": replay.to_doc(), "source": source, "zero": now}
        if not self.definitions.create(REPLAYS, org, doc):
            raise TicklessError(CONFLICT, "replay already exists", status=409)
        try:
            arn = self.workflows.start(
                REPLAY_MACHINE, execution_name(org, replay.id, now), {"org": org, "id": replay.id}
            )
        except Exception:
            self.definitions.delete(REPLAYS, org, replay.id)
            raise
        self.definitions.replace(REPLAYS, org, {**doc, "execution": arn})
        return replay

    def _save(self, org: str, doc: dict[str, Any], replay: Replay, **changes: Any) -> None:
        fields = {**replay.to_doc(), **changes}
        if changes.get("status") in ("finished", "failed"):
            fields["date"] = self.clock()
        self.definitions.replace(REPLAYS, org, {**doc, "replay": Replay.from_doc(fields).to_doc()})

    def _data_key(self, org: str, id: str) -> str:
        return f"{self.prefix}{org}/replays/{id.replace('/', '_')}"

    def _items(self, org: str, doc: dict[str, Any], task: dict[str, Any], pipeline: Any) -> list[Item]:
        """The points or batches to feed, in time order, decoded once per worker for the replay's
        steps (a warm worker takes the next step of the same replay)."""
        key = (org, doc["id"], int(doc["zero"]))
        cached = self._decoded
        if cached is not None and cached[0] == key:
            return cached[1]
        items = self._load_items(org, doc, task, pipeline)
        self._decoded = (key, items) if len(items) <= CACHED_ITEMS else None
        return items

    def _load_items(self, org: str, doc: dict[str, Any], task: dict[str, Any], pipeline: Any) -> list[Item]:
        """The recording's data, or the live run's (queried at the first step and kept until the replay
        ends, so later steps feed the same data)."""
        source = doc.get("source") or {}
        stream = task.get("type") == "stream"
        if "recording" in source:
            _, data = self.recordings.data(org, source["recording"])
        else:
            key = self._data_key(org, doc["id"])
            data = self.blobs.get(key)
            if data is None:
                data = self._live(org, source, task, stream)
                self.blobs.put(key, data)
        if stream:
            return [(p.time, "", p) for p in decode_stream(data)]
        names = [plan.name for plan in plans_of(pipeline)]
        files = decode_batches(data)
        if len(files) != len(names):
            raise invalid(f"unexpected number of batch collectors. exp {len(files)} got {len(names)}")
        items = [(b.tmax, name, b) for name, batches in zip(names, files, strict=True) for b in batches]
        items.sort(key=lambda item: item[0])
        return items

    def _live(self, org: str, source: dict[str, Any], task: dict[str, Any], stream: bool) -> bytes:
        if "batch" in source:
            span = source["batch"]
            return encode_batches(
                batch_queries(task, org, int(span["start"]), int(span["stop"]), self.recordings)
            )
        text = source["query"]["query"]
        answer = self.query(org, text, self.clock())
        if stream:
            return encode_stream(query_points(text, answer))
        return encode_batches([query_batches(answer, self.clock())])


def _feed(runtime: TaskRuntime, items: list[Item], shift: int) -> Outputs:
    outputs = Outputs()
    points = [replace(p, time=p.time + shift) for _, _, p in items if isinstance(p, Point)]
    if points:
        merge_outputs(outputs, runtime.feed_points(points))
    for _, name, batch in items:
        if isinstance(batch, Batch):
            moved = replace(
                batch,
                tmax=batch.tmax + shift,
                points=[replace(bp, time=bp.time + shift) for bp in batch.points],
            )
            merge_outputs(outputs, runtime.feed_batch(name, moved))
    return outputs
