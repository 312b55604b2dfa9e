"""Winchester's pipeline worker without worker hosts: each run walks the agenda of streams whose fire,
expire or stuck time has passed, claims each by an optimistic write of its next state (a stream another
worker claimed first is left to it), runs the trigger's fire or expire pipeline on the stream's events,
feeds the events the pipeline added back through ingest and records the outcome: `completed` (or purged),
or `error`/`expire_error` for the API's PUT to retry.

As Winchester: a stream whose trigger is no longer defined goes to error (expire_error when expiring); a
trigger without a pipeline for the action just completes; firing wins over expiring. Beyond Winchester: a
stream left in firing/expiring by a worker that died is sent back to retry_fire/retry_expire once stuck
(`streams.STUCK_AFTER`), and a handler that fails to commit (a publish that did not reach its target)
errors the stream instead of being only logged, so nothing is lost without a state that says so. Handler
output has deterministic message_ids, so a pipeline run again (after a crash or a reset) adds no
duplicate events."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.kit.errors import invalid
from chalicelib.stacktach.handlers import Publisher, build_handlers, run_pipeline, stream_env
from chalicelib.stacktach.query import stream_index_keys
from chalicelib.stacktach.records import event_of, stream_doc, stream_of
from chalicelib.stacktach.streams import PURGE_COMPLETED_DEFAULT, Stream, StreamState, stream_key
from chalicelib.stacktach.triggers import HandlerConfig, TriggerDefinition, unknown_pipelines

logger = logging.getLogger(__name__)

PAGE = 100  # agenda entries read at a time


@dataclass(frozen=True, slots=True)
class DueEntry:
    """One agenda entry: look at stream `stream_id` at `at` (filed by the save of `version`)."""

    stream_id: int
    at: datetime
    version: int
    token: str  # the store's own handle on the entry


class PipelineStore(Protocol):
    def due(self, until: datetime, after: DueEntry | None, limit: int) -> list[DueEntry]:
        """Agenda entries up to `until`, after `after` in (at, stream_id) order."""

    def drop_due(self, entry: DueEntry) -> None:
        """Remove the entry unless a later save filed the same time again."""

    def stream(self, stream_id: int) -> dict[str, Any] | None: ...

    def stream_events(self, stream_id: int) -> list[dict[str, Any]]:
        """The stream's events, oldest first."""

    def replace_stream(self, doc: dict[str, Any], expected_version: int) -> bool: ...

    def delete_stream(self, doc: dict[str, Any], key: str, index_keys: list[str]) -> None: ...


class Ingest(Protocol):
    def ingest(self, notifications: Any) -> Any: ...


@dataclass
class WorkerResult:
    fired: int = 0
    expired: int = 0
    errors: int = 0  # streams the run left in error / expire_error
    recovered: int = 0  # stuck streams sent back to retry
    locked: int = 0  # streams another worker claimed first
    failures: list[str] = field(default_factory=list)  # streams whose processing raised (retried later)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fired": self.fired,
            "expired": self.expired,
            "errors": self.errors,
            "recovered": self.recovered,
            "locked": self.locked,
            "failures": len(self.failures),
        }


def is_sns_topic(target: str) -> bool:
    """Publish targets are SNS topic ARNs or, otherwise, Kinesis stream names."""
    return target.startswith("arn:") and ":sns:" in target


def kinesis_targets(pipelines: Mapping[str, Sequence[HandlerConfig]]) -> set[str]:
    """The Kinesis streams the publish steps name (what a deployment must allow putting records on)."""
    targets = {
        str(c.params.get("target")) for steps in pipelines.values() for c in steps if c.name == "publish"
    }
    return {t for t in targets if t and not is_sns_topic(t)}


def check_pipelines(
    triggers: Sequence[TriggerDefinition], pipelines: Mapping[str, Sequence[HandlerConfig]]
) -> None:
    """Refuse, naming the problem, a configuration whose streams could never run their pipelines:
    a pipeline a trigger names but nobody defines, handler params the handler does not take, a publish
    step without a target (tickless has no default one)."""
    if missing := unknown_pipelines(triggers, pipelines):
        raise invalid(f"triggers name pipelines that are not defined: {', '.join(missing)}")
    for name, configs in pipelines.items():
        try:
            build_handlers(configs)
        except Exception as exc:
            raise invalid(f"pipeline {name!r}: {getattr(exc, 'message', exc)}") from None
        for conf in configs:
            if conf.name == "publish" and not conf.params.get("target"):
                raise invalid(
                    f"pipeline {name!r}: publish needs a 'target' (an SNS topic ARN or a Kinesis stream name)"
                )


class PipelineWorker:
    def __init__(
        self,
        store: PipelineStore,
        triggers: Sequence[TriggerDefinition],
        pipelines: Mapping[str, Sequence[HandlerConfig]],
        ingest: Ingest,
        publisher: Publisher | None = None,
        *,
        purge_completed: bool = PURGE_COMPLETED_DEFAULT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.triggers = {t.name: t for t in triggers}
        self.pipelines = pipelines
        self.ingest = ingest
        self.publisher = publisher
        self.purge_completed = purge_completed
        self.clock = clock

    def run(self, has_time: Callable[[], bool] = lambda: True) -> WorkerResult:
        """Every stream due by now, once, while `has_time()`; the rest waits for the next run."""
        result = WorkerResult()
        until = self.clock()
        after: DueEntry | None = None
        while has_time():
            page = self.store.due(until, after, PAGE)
            if not page:
                break
            after = page[-1]
            by_stream: dict[int, list[DueEntry]] = {}
            for entry in page:
                by_stream.setdefault(entry.stream_id, []).append(entry)
            for stream_id, entries in by_stream.items():
                if not has_time():
                    break
                try:
                    self._process(stream_id, entries, result)
                except Exception as exc:  # one stream's trouble must not hold up the others
                    logger.exception("stream %s: pipeline work failed; it is retried", stream_id)
                    result.failures.append(f"stream {stream_id}: {exc!r}")
        return result

    def _process(self, stream_id: int, entries: list[DueEntry], result: WorkerResult) -> None:
        doc = self.store.stream(stream_id)
        if doc is None:  # deleted through the API
            self._drop(entries, None)
            return
        stream, version = stream_of(doc), int(doc["version"])
        now = self.clock()
        if stream.is_stuck(now):
            recovered = stream.recover(now)
            if not self.store.replace_stream(stream_doc(recovered, version + 1), version):
                result.locked += 1
                return
            logger.warning("stream %s was stuck in %s: back to %s", stream_id, stream.state, recovered.state)
            result.recovered += 1
            stream, version = recovered, version + 1
        action = stream.due(now)
        if action is None:
            self._drop(entries, stream)
            return
        claimed = stream.fire(now) if action is StreamState.firing else stream.expire(now)
        if not self.store.replace_stream(stream_doc(claimed, version + 1), version):
            result.locked += 1  # another worker holds it
            return
        version += 1
        ok = self._run(claimed)
        finished = claimed.finish(ok, self.clock(), purge_completed=self.purge_completed)
        if finished is None:
            key = stream_key(claimed.trigger_name, claimed.distinguishing_traits)
            self.store.delete_stream(stream_doc(claimed, version), key, stream_index_keys(claimed))
        elif not self.store.replace_stream(stream_doc(finished, version + 1), version):
            logger.error("stream %s changed while its pipeline ran", stream_id)
        else:
            version += 1
        if ok:
            result.fired += action is StreamState.firing
            result.expired += action is StreamState.expiring
        else:
            result.errors += 1
        self._drop(entries, finished)

    def _run(self, stream: Stream) -> bool:
        """Run the pipeline for the stream's action; whether it went well."""
        firing = stream.state is StreamState.firing
        trigger = self.triggers.get(stream.trigger_name)
        if trigger is None:
            logger.error("stream %s has unknown trigger definition %s", stream.id, stream.trigger_name)
            return False
        name = trigger.fire_pipeline if firing else trigger.expire_pipeline
        if name is None:
            logger.debug("no %s pipeline for stream %s", "fire" if firing else "expire", stream.id)
            return True
        configs = self.pipelines.get(name)
        if configs is None:  # refused at start; a configuration changed under a running stream
            logger.error("trigger %s of stream %s names unknown pipeline %s", trigger.name, stream.id, name)
            return False
        events = [event_of(d) for d in self.store.stream_events(int(stream.id))]
        handlers = build_handlers(configs, publisher=self.publisher)
        outcome = run_pipeline(handlers, events, stream_env(stream.id, stream.trigger_name))
        if not outcome.ok:
            logger.error("pipeline %s failed on stream %s: %s", name, stream.id, outcome.error)
            return False
        if outcome.output_events:
            self.ingest.ingest(outcome.output_events)
        if outcome.commit_errors:
            logger.error("pipeline %s on stream %s: %s", name, stream.id, "; ".join(outcome.commit_errors))
            return False
        return True

    def _drop(self, entries: list[DueEntry], stream: Stream | None) -> None:
        """Drop the passed entries, except one at the time the stream is due next (not reached yet)."""
        keep = stream.next_due() if stream is not None else None
        for entry in entries:
            if entry.at != keep:
                self.store.drop_due(entry)
