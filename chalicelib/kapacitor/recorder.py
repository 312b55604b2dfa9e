"""Kapacitor's recordings as Step Functions executions (chalicelib/workflows/kapacitor_recording.json).

- A stream recording captures, from the moment it is created, the points the task's stream would see
  (its dbrps; its `from()` measurements when every `from()` names one), up to its stop time: the task
  consumer hands each batch of records to `capture`, which writes them as parts in S3, one per Kinesis
  record (a redelivered record writes the same part again). The first point past the stop time ends the
  capture, as in Kapacitor; so does the stop time passing on the wall clock plus a grace period (Kapacitor
  would wait for such a point for ever). Assembling sorts the points by time into one .srpl file.
- A batch recording runs the task's batch queries for every query time between start and stop; a query
  recording runs one InfluxQL query; both write their file in one step (a worker that fails runs the
  step again from its start).

Recordings and their capture entries are per organization; the files live in S3 under the
recordings area. Deleting a recording stops its execution and removes its files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, Protocol

from chalicelib.kapacitor.query_records import dbrp_of, query_batches, query_points
from chalicelib.kapacitor.recording_formats import decode_stream, encode_batches, encode_stream
from chalicelib.kapacitor.recordings import (
    Recording,
    list_json,
    parse_record_batch,
    parse_record_query,
    parse_record_stream,
)
from chalicelib.kit.errors import CONFLICT, NOT_FOUND, TicklessError, invalid
from chalicelib.tick.batch import plans_of
from chalicelib.tick.exec.model import Batch, Point
from chalicelib.tick.tasks import TASKS, DefinitionStore, compile_task

RECORDINGS, CAPTURES = "recordings", "recording-captures"
PAST = "recording-past"  # a stream recording whose capture saw a point past its stop time
RECORDING_MACHINE = "kapacitor-recording"
CAPTURE_GRACE_SECONDS = 300  # after the stop time, how long a capture waits for a point past it
MAX_CAPTURE_SECONDS = 365 * 24 * 3600
MAX_BATCH_QUERIES = 1_000  # query times of one query node a batch recording or replay runs at most
NS = 1_000_000_000
MAX_ID_BYTES = 256  # a recording's or replay's ID is a storage key (DynamoDB and S3 keys are bounded)


def check_new_id(id: str, what: str) -> None:
    if len(id.encode()) > MAX_ID_BYTES:
        raise invalid(f"{what} ID must be at most {MAX_ID_BYTES} bytes")


class Blobs(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str) -> list[str]: ...


class Workflows(Protocol):
    def start(self, machine: str, name: str, input: dict[str, Any]) -> str: ...
    def stop(self, arn: str, cause: str) -> None: ...


class Tokens(Protocol):
    def succeed(self, token: str, output: dict[str, Any]) -> None: ...


# (org, InfluxQL text, now ns) -> the InfluxQL answer (epoch ns), as batch tasks query
Querier = Callable[[str, str, int], dict[str, Any]]


def execution_name(org: str, id: str, now: int) -> str:
    """A Step Functions execution name (80 of [A-Za-z0-9-_], unique per machine for 90 days)."""
    digest = hashlib.sha256(f"{org}\n{id}".encode()).hexdigest()[:40]
    return f"{digest}-{now}"


class Recordings:
    def __init__(
        self,
        definitions: DefinitionStore,
        blobs: Blobs,
        workflows: Workflows,
        tokens: Tokens,
        query: Querier,
        prefix: str,
        clock: Callable[[], int],
    ) -> None:
        self.definitions = definitions
        self.blobs = blobs
        self.workflows = workflows
        self.tokens = tokens
        self.query = query
        self.prefix = prefix  # the S3 area's prefix
        self.clock = clock  # ns

    # -- the API -----------------------------------------------------------------------------------

    def record_stream(self, org: str, body: bytes) -> Recording:
        options = parse_record_stream(body)
        task = self._task(org, options.task)
        now = self.clock()
        recording = Recording(options.id, "stream", "running", now, task=options.task)
        dbrps = [[d["db"], d["rp"]] for d in task.get("dbrps", [])]
        capture = {
            "id": options.id,
            "dbrps": dbrps,
            "measurements": _measurements(task),
            "stop": options.stop,
            "token": None,
        }
        seconds = max(0, (options.stop - now) // NS) + CAPTURE_GRACE_SECONDS
        self._start(org, recording, {"kind": "stream", "timeout": min(seconds, MAX_CAPTURE_SECONDS)}, capture)
        return recording

    def record_batch(self, org: str, body: bytes) -> Recording:
        now = self.clock()
        options = parse_record_batch(body, now)
        task = self._task(org, options.task)
        if task.get("type") != "batch":
            raise invalid("task is not a batch task")
        recording = Recording(options.id, "batch", "running", now, task=options.task)
        source = {"batch": {"task": options.task, "start": options.start, "stop": options.stop}}
        self._start(org, recording, {"kind": "batch"}, None, source)
        return recording

    def record_query(self, org: str, body: bytes) -> Recording:
        options = parse_record_query(body)
        if options.type == "stream":
            dbrp_of(options.query)  # where its points belong, or 400 now rather than a failed recording
        now = self.clock()
        recording = Recording(options.id, options.type, "running", now)
        source = {"query": {"query": options.query, "type": options.type}}
        self._start(org, recording, {"kind": "query"}, None, source)
        return recording

    def get(self, org: str, id: str) -> Recording:
        doc = self.definitions.get(RECORDINGS, org, id)
        if doc is None:
            raise TicklessError(NOT_FOUND, "error finding recording: no recording exists")
        return Recording.from_doc(doc["recording"])

    def list(self, org: str, params: dict[str, Any]) -> dict[str, Any]:
        items = [Recording.from_doc(d["recording"]) for d in self.definitions.list(RECORDINGS, org)]
        return list_json("recordings", items, params)

    def delete(self, org: str, id: str) -> None:
        """Stop a running recording's execution and remove it with its files (nothing to do when there
        is no such recording, as Kapacitor answers)."""
        doc = self.definitions.get(RECORDINGS, org, id)
        if doc is None:
            return
        if Recording.from_doc(doc["recording"]).status == "running" and doc.get("execution"):
            with suppress(TicklessError):  # already over
                self.workflows.stop(doc["execution"], "the recording was deleted")
        self.definitions.delete(CAPTURES, org, id)
        self.definitions.delete(PAST, org, id)
        for key in self.blobs.keys(self._dir(org, id)):
            self.blobs.delete(key)
        self.blobs.delete(self.data_key(org, doc))
        self.definitions.delete(RECORDINGS, org, id)

    def finished(self, org: str, id: str) -> tuple[Recording, str]:
        """A finished recording and the key of its file (what a replay reads)."""
        doc = self.definitions.get(RECORDINGS, org, id)
        if doc is None:
            raise TicklessError(NOT_FOUND, "recording not found: no recording exists")
        recording = Recording.from_doc(doc["recording"])
        if recording.status != "finished":
            raise invalid(f"recording {id} is {recording.status}, not finished")
        return recording, self.data_key(org, doc)

    def data(self, org: str, id: str) -> tuple[Recording, bytes]:
        """A finished recording and its file."""
        recording, key = self.finished(org, id)
        data = self.blobs.get(key)
        if data is None:
            raise invalid(f"recording {id} has no data")
        return recording, data

    # -- the execution's steps -------------------------------------------------------------------

    def capture_started(self, input: dict[str, Any]) -> bool:
        """The Capture step: keep its token for `capture` to answer. False when there is nothing to
        wait for: the recording is gone, or a point past its stop time came before the step did. (The
        step writes its token then reads the marker; `capture` writes the marker then reads the token:
        one of them sees the other, whatever their order.)"""
        org, id = input["org"], input["id"]
        entry = self.definitions.get(CAPTURES, org, id)
        if entry is None:
            return False
        self.definitions.replace(CAPTURES, org, {**entry, "token": input["token"]})
        return self.definitions.get(PAST, org, id) is None

    def capture(self, org: str, records: Sequence[tuple[str, str, Sequence[Point]]]) -> None:
        """Records' points, as (shard, sequence number, points), for every stream recording of `org`
        under way."""
        for entry in self.definitions.list(CAPTURES, org):
            dbrps = {tuple(d) for d in entry.get("dbrps") or []}
            names = set(entry.get("measurements") or [])
            stop = int(entry["stop"])
            past = False
            for shard, sequence, points in records:
                mine = [
                    p
                    for p in points
                    if (p.database, p.retention_policy) in dbrps and (not names or p.name in names)
                ]
                kept = [p for p in mine if p.time <= stop]
                past = past or len(kept) < len(mine)
                if kept:
                    part = f"{self._dir(org, entry['id'])}parts/{shard}-{sequence}"
                    self.blobs.put(part, encode_stream(kept))
            if past:
                self.definitions.replace(PAST, org, {"id": entry["id"]})
                token = (self.definitions.get(CAPTURES, org, entry["id"]) or {}).get("token")
                if token:
                    with suppress(TicklessError):  # a point past the stop: the capture is over (once)
                        self.tokens.succeed(token, {})

    def run_queries(self, input: dict[str, Any]) -> dict[str, Any]:
        org, id = input["org"], input["id"]
        doc = self.definitions.get(RECORDINGS, org, id)
        if doc is None:
            return {}
        source = doc.get("source") or {}
        if "batch" in source:
            data = self._batch_file(org, source["batch"])
        else:
            data = self._query_file(org, source["query"])
        self.blobs.put(self.data_key(org, doc), data)
        return {}

    def assemble(self, input: dict[str, Any]) -> dict[str, Any]:
        org, id = input["org"], input["id"]
        doc = self.definitions.get(RECORDINGS, org, id)
        if doc is None:
            return {}
        recording = Recording.from_doc(doc["recording"])
        key = self.data_key(org, doc)
        if input.get("kind") == "stream":
            parts = self.blobs.keys(f"{self._dir(org, id)}parts/")
            points = [p for part in parts for p in decode_stream(self.blobs.get(part) or b"")]
            points.sort(key=lambda p: p.time)
            data = encode_stream(points)
            self.blobs.put(key, data)
            for part in parts:
                self.blobs.delete(part)
            self.definitions.delete(CAPTURES, org, id)
            self.definitions.delete(PAST, org, id)
        else:
            data = self.blobs.get(key) or b""
        if self.definitions.get(RECORDINGS, org, id) is not None:  # not deleted meanwhile
            self._save(org, doc, recording, status="finished", size=len(data), progress=1.0)
        return {}

    def failed(self, input: dict[str, Any]) -> dict[str, Any]:
        org, id = input["org"], input["id"]
        doc = self.definitions.get(RECORDINGS, org, id)
        if doc is not None:
            error = input.get("error") or {}
            message = error.get("Cause") or error.get("Error") or "recording failed"
            self._save(org, doc, Recording.from_doc(doc["recording"]), status="failed", error=message)
        self.definitions.delete(CAPTURES, org, id)
        self.definitions.delete(PAST, org, id)
        return {}

    # -- helpers -----------------------------------------------------------------------------------

    def data_key(self, org: str, doc: dict[str, Any]) -> str:
        recording = doc["recording"]
        extension = ".srpl" if recording["type"] == "stream" else ".brpl"
        return f"{self.prefix}{org}/{_safe(recording['id'])}{extension}"

    def _dir(self, org: str, id: str) -> str:
        return f"{self.prefix}{org}/{_safe(id)}/"

    def _task(self, org: str, task_id: str) -> dict[str, Any]:
        task = self.definitions.get(TASKS, org, task_id)
        if task is None:
            raise TicklessError(NOT_FOUND, "no task exists")
        return task

    def _start(
        self,
        org: str,
        recording: Recording,
        input: dict[str, Any],
        capture: dict[str, Any] | None,
        source: dict[str, Any] | None = None,
    ) -> None:
        check_new_id(recording.id, "recording")
        doc = {"id": recording.id, "recording": recording.to_doc(), "source": source or {}}
        if not self.definitions.create(RECORDINGS, org, doc):
            raise TicklessError(CONFLICT, "recording already exists", status=409)
        if capture is not None:
            self.definitions.replace(CAPTURES, org, capture)
        name = execution_name(org, recording.id, recording.date)
        try:
            arn = self.workflows.start(RECORDING_MACHINE, name, {"org": org, "id": recording.id, **input})
        except Exception:
            self.definitions.delete(CAPTURES, org, recording.id)
            self.definitions.delete(RECORDINGS, org, recording.id)
            raise
        self.definitions.replace(RECORDINGS, org, {**doc, "execution": arn})

    def _save(self, org: str, doc: dict[str, Any], recording: Recording, **changes: Any) -> None:
        fields = {**recording.to_doc(), **changes, "date": self.clock()}
        self.definitions.replace(RECORDINGS, org, {**doc, "recording": Recording.from_doc(fields).to_doc()})

    def _batch_file(self, org: str, source: dict[str, Any]) -> bytes:
        task = self._task(org, source["task"])
        return encode_batches(batch_queries(task, org, int(source["start"]), int(source["stop"]), self))

    def _query_file(self, org: str, source: dict[str, Any]) -> bytes:
        answer = self.query(org, source["query"], self.clock())
        if source["type"] == "stream":
            return encode_stream(query_points(source["query"], answer))
        return encode_batches([query_batches(answer, self.clock())])


def batch_queries(
    task: dict[str, Any], org: str, start: int, stop: int, recordings: Recordings
) -> list[list[Batch]]:
    """Every query time of each of the task's query nodes after `start` up to `stop` (and not after
    now), run and turned into batches as the task would get them: one list per query node."""
    pipeline = compile_task(task).pipeline
    now = recordings.clock()
    out: list[list[Batch]] = []
    for plan in plans_of(pipeline):
        ticks, skipped = plan.schedule.due(start, None, stop, MAX_BATCH_QUERIES)
        if skipped:
            raise invalid(
                f"{plan.name} would run {skipped + len(ticks)} queries between start and stop; "
                f"at most {MAX_BATCH_QUERIES}: narrow the time range"
            )
        batches: list[Batch] = []
        for tick in ticks:
            if tick - plan.offset > now:
                break
            batches += plan.batches(recordings.query(org, plan.text_at(tick), tick), tick)
        out.append(batches)
    return out


def _measurements(task: dict[str, Any]) -> list[str]:
    """The measurements a stream task's `from()`s read; empty (all) when one of them names none."""
    try:
        pipeline = compile_task(task).pipeline
    except TicklessError:
        return []
    names: list[str] = []
    for node in pipeline.nodes:
        if node.type == "from":
            measurement = getattr(node, "measurement", "") or ""
            if not measurement:
                return []
            names.append(measurement)
    return sorted(set(names))


def _safe(id: str) -> str:
    """An S3 key segment for an ID (IDs are letters, digits, '-', '.', '_'; '..' stays harmless)."""
    return id.replace("/", "_")
