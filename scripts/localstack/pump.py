"""Feed a Chalice app's event handlers from moto the way Lambda's event source mappings would.

Handlers come from `app.event_sources` (Kinesis, SQS, schedules); the callables from `handlers`
(a module or a mapping of handler name to callable) or else `app.handler_map`. Each handler gets
Lambda-shaped event dicts and a minimal context, so production code runs unchanged.

Kinesis settings Chalice cannot express (retries, bisect, partial batch responses, on-failure
queue) come from the `declarations.KinesisConsumer` whose `handler` is the handler's name.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError
from chalice.app import KinesisEventConfig, ScheduledEventConfig, SQSEventConfig

from chalicelib import declarations
from chalicelib.declarations import KinesisConsumer, physical_name

from . import kinesis_hook
from .lambda_events import (
    LambdaContext,
    kinesis_record_from,
    role_arn,
    schedule_rule_arn,
    scheduled_event,
    sqs_record,
    utc_iso,
)
from .motoserver import DEFAULT_REGION
from .schedules import RateSchedule, parse_schedule

if TYPE_CHECKING:
    from .checkpoints import Checkpoints

logger = logging.getLogger("tickless.localstack.pump")

SPEEDUP_ENV = "TICKLESS_SCHEDULE_SPEEDUP"
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class HandlerStats:
    invocations: int = 0
    records_delivered: int = 0  # records handed to the handler, redeliveries included
    records_succeeded: int = 0  # records checkpointed (Kinesis) or deleted (SQS)
    retries: int = 0  # invocations that redelivered records a previous invocation failed on
    errors: int = 0  # invocations that raised
    partial_failures: int = 0  # invocations that returned batchItemFailures
    failures: int = 0  # Kinesis records given up on after max_retry_attempts (sent to on-failure)
    ticks: int = 0  # scheduled invocations
    # CPU time of the handler's invocations (their thread's): what Lambda would bill, near enough
    cpu_seconds: float = 0.0
    # CPU time of fetching its records and building its events (Kinesis): Lambda's poller, not billed
    poll_cpu_seconds: float = 0.0


@dataclass(frozen=True)
class KinesisSettings:
    handler: str
    stream: str  # physical name
    batch_size: int
    starting_position: str
    max_batching_window: float
    max_retry_attempts: int  # -1: retry until the records expire, i.e. forever here
    bisect_on_error: bool
    report_batch_item_failures: bool
    on_failure_queue: str | None  # physical name


class _Worker:
    """A daemon thread with the bookkeeping `EventPump.drain` needs."""

    def __init__(self, pump: EventPump, name: str) -> None:
        self.pump = pump
        self.name = name
        # monotonic time at which a poll started that then found nothing pending and nothing new
        self.caught_up_at = -1.0
        self.finished = False
        self.thread = threading.Thread(target=self._main, name=f"pump-{name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def drained_since(self, moment: float) -> bool:
        return self.finished or self.caught_up_at >= moment

    def _main(self) -> None:
        try:
            self.run()
        except Exception:  # a worker must never take the pump down silently
            logger.exception("pump worker %s crashed", self.name)
        finally:
            self.finished = True

    def run(self) -> None:
        raise NotImplementedError


class EventPump:
    """Drive `app`'s Kinesis, SQS and scheduled handlers against the AWS endpoint in the environment.

    `handlers`: a module (handler looked up with `getattr(module, name)`) or a mapping name -> callable;
    missing names fall back to `app.handler_map`. `consumers`: the `KinesisConsumer` settings to match
    by handler name (default `declarations.KINESIS_CONSUMERS`). `schedule_speedup` divides `rate(...)`
    periods (default env TICKLESS_SCHEDULE_SPEEDUP or 1)."""

    def __init__(
        self,
        app: Any,
        handlers: Mapping[str, Handler] | ModuleType | None = None,
        *,
        consumers: Iterable[KinesisConsumer] | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        stage: str = "local",
        poll_interval: float = 0.05,
        idle_poll_interval: float = 1.0,
        retry_delay: float = 0.05,
        shard_refresh_interval: float = 2.0,
        schedule_speedup: float | None = None,
        kinesis: bool = True,
        sqs: bool = True,
        schedules: bool = True,
        wake_on_put: bool = True,
        checkpoints: Checkpoints | None = None,
    ) -> None:
        self.app = app
        self._handlers = handlers
        self.consumers = {
            c.handler: c for c in (declarations.KINESIS_CONSUMERS if consumers is None else consumers)
        }
        self.endpoint_url = endpoint_url
        self.region = region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        self.stage = stage
        self.poll_interval = poll_interval
        # Lambda polls a shard with nothing new about once a second; drain() wakes idle shards at once
        self.idle_poll_interval = idle_poll_interval
        self._wakeup = threading.Condition()
        # Bumped by every wake-up: a poller that saw it change since its poll began polls again at
        # once, so a put landing while it was reading is not left for the next idle poll.
        self._wakeups = 0
        # Records put on a stream wake its pollers (kinesis_hook, moto in this process), so a point
        # is readable right after its write; an idle stack still polls only once a second.
        self.wake_on_put = wake_on_put
        # Kinesis positions survive a restart there (a persistent stack); None: in memory only.
        self.checkpoints = checkpoints
        self.retry_delay = retry_delay
        self.shard_refresh_interval = shard_refresh_interval
        if schedule_speedup is None:
            schedule_speedup = float(os.environ.get(SPEEDUP_ENV, "1") or 1)
        if schedule_speedup <= 0:
            raise ValueError("schedule_speedup must be positive")
        self.schedule_speedup = schedule_speedup
        self._enabled = {"kinesis": kinesis, "sqs": sqs, "schedules": schedules}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stats: dict[str, HandlerStats] = {}
        self._workers: list[_Worker] = []
        self._watchers: list[_StreamWatcher] = []
        self._threads: list[threading.Thread] = []
        self._started = False

    # -- handlers ------------------------------------------------------------------------------

    def handler(self, name: str) -> Handler:
        found: Any = None
        if isinstance(self._handlers, Mapping):
            found = self._handlers.get(name)
        elif self._handlers is not None:
            found = getattr(self._handlers, name, None)
        if found is None:
            found = self.app.handler_map.get(name)
        if found is None:
            raise LookupError(f"no callable for event handler {name!r}")
        return found

    def function_name(self, name: str) -> str:
        return f"{self.app.app_name}-{self.stage}-{name}"

    def kinesis_settings(self, config: KinesisEventConfig) -> KinesisSettings:
        consumer = self.consumers.get(config.name)
        if consumer is None:
            # Lambda's defaults for what Chalice cannot configure: retry forever, no bisect,
            # whole-batch success/failure, no on-failure destination.
            return KinesisSettings(
                handler=config.name,
                stream=config.stream,
                batch_size=config.batch_size,
                starting_position=config.starting_position,
                max_batching_window=config.maximum_batching_window_in_seconds or 0,
                max_retry_attempts=-1,
                bisect_on_error=False,
                report_batch_item_failures=False,
                on_failure_queue=None,
            )
        if physical_name(consumer.stream) != config.stream:
            logger.warning(
                "%s: app reads stream %s but declarations say %s",
                config.name,
                config.stream,
                physical_name(consumer.stream),
            )
        return KinesisSettings(
            handler=config.name,
            stream=config.stream,
            batch_size=consumer.batch_size,
            starting_position=consumer.starting_position,
            max_batching_window=consumer.max_batching_window,
            max_retry_attempts=consumer.max_retry_attempts,
            bisect_on_error=consumer.bisect_on_error,
            report_batch_item_failures=consumer.report_batch_item_failures,
            on_failure_queue=physical_name(consumer.on_failure_queue) if consumer.on_failure_queue else None,
        )

    # -- plumbing shared by workers ----------------------------------------------------------

    def client(self, service: str) -> Any:
        # One session per call: boto3 sessions are not thread-safe, clients are.
        return boto3.session.Session().client(
            service, endpoint_url=self.endpoint_url, region_name=self.region
        )

    def count(self, name: str, **deltas: float) -> None:
        with self._lock:
            stats = self._stats.setdefault(name, HandlerStats())
            for key, delta in deltas.items():
                setattr(stats, key, getattr(stats, key) + delta)

    def invoke(self, name: str, event: dict[str, Any]) -> tuple[bool, Any]:
        """Call the handler; (True, result) or (False, exception). Exceptions are logged, never raised."""
        context = LambdaContext(self.function_name(name), region=self.region, stopping=lambda: self.stopping)
        self.count(name, invocations=1)
        started = time.thread_time()
        try:
            return True, self.handler(name)(event, context)
        except Exception as exc:
            self.count(name, errors=1)
            logger.exception("handler %s failed (request %s)", name, context.aws_request_id)
            return False, exc
        finally:
            self.count(name, cpu_seconds=time.thread_time() - started)

    def wait(self, seconds: float) -> bool:
        """Sleep unless stopping; True when the pump is stopping."""
        return self._stop.wait(seconds)

    @property
    def wakeups(self) -> int:
        """How many wake-ups so far; pass the value read before a poll to `wait_idle`."""
        return self._wakeups

    def wait_idle(self, since: int | None = None) -> bool:
        """Sleep as an idle shard poller does, unless records are put, drain() or stop() wakes it, or
        a wake-up came after `since` (a `wakeups` value); True when stopping."""
        with self._wakeup:
            if not self._stop.is_set() and (since is None or since == self._wakeups):
                self._wakeup.wait(self.idle_poll_interval)
        return self._stop.is_set()

    def _wake_idle(self) -> None:
        with self._wakeup:
            self._wakeups += 1
            self._wakeup.notify_all()

    def wake(self, stream: str | None = None) -> None:
        """Poll idle shards now (records were put on `stream`: any of ours, or unknown when None)."""
        if stream is None or any(w.settings.stream == stream for w in self._watchers):
            self._wake_idle()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def add_worker(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.append(worker)
        worker.start()

    # -- public API ----------------------------------------------------------------------------

    def start(self) -> EventPump:
        if self._started:
            return self
        self._started = True
        self._stop.clear()
        if self.wake_on_put and self._enabled["kinesis"]:
            kinesis_hook.subscribe(self.wake)
        for config in self.app.event_sources:
            if isinstance(config, KinesisEventConfig) and self._enabled["kinesis"]:
                watcher = _StreamWatcher(self, self.kinesis_settings(config))
                self._watchers.append(watcher)
                self._threads.append(watcher.thread)
                watcher.thread.start()
            elif isinstance(config, SQSEventConfig) and self._enabled["sqs"]:
                self.add_worker(_QueueWorker(self, config))
            elif isinstance(config, ScheduledEventConfig) and self._enabled["schedules"]:
                thread = threading.Thread(
                    target=self._run_schedule, args=(config,), name=f"pump-{config.name}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            else:
                logger.info("event source %s (%s) is not pumped locally", config.name, type(config).__name__)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling and wait for in-flight invocations to finish."""
        self._stop.set()
        kinesis_hook.unsubscribe(self.wake)
        self._wake_idle()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = [*self._threads, *(w.thread for w in self._workers)]
        for thread in threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        self._started = False

    def drain(self, timeout: float = 30.0, *, queues: bool = True) -> bool:
        """Wait until every shard has been read to its end, every queue polled empty (when `queues`)
        and nothing is being retried or handled. Covers what was written before the call.
        Raises TimeoutError naming the sources still busy."""
        since = time.monotonic()
        deadline = since + timeout
        while True:
            with self._lock:
                workers = list(self._workers)
            busy = [w.name for w in self._watchers if not w.ready.is_set()]
            busy += [
                w.name
                for w in workers
                if not w.drained_since(since) and (queues or not isinstance(w, _QueueWorker))
            ]
            if not busy:
                return True
            if time.monotonic() > deadline:
                raise TimeoutError(f"event pump not drained after {timeout}s: {', '.join(busy)}")
            self._wake_idle()
            time.sleep(self.poll_interval / 2)

    def stats(self, name: str | None = None) -> HandlerStats:
        """Counters of one handler, or summed over all handlers."""
        with self._lock:
            if name is not None:
                return HandlerStats(**asdict(self._stats.get(name, HandlerStats())))
            total = HandlerStats()
            for stats in self._stats.values():
                for key, value in asdict(stats).items():
                    setattr(total, key, getattr(total, key) + value)
            return total

    def all_stats(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {name: asdict(stats) for name, stats in self._stats.items()}

    def __enter__(self) -> EventPump:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- schedules -----------------------------------------------------------------------------

    def _run_schedule(self, config: ScheduledEventConfig) -> None:
        try:
            schedule = parse_schedule(config.schedule_expression)
        except ValueError as exc:
            logger.error("schedule %s not run locally: %s", config.name, exc)
            return
        rule_arn = schedule_rule_arn(self.function_name(config.name), self.region)
        if isinstance(schedule, RateSchedule):
            period = schedule.seconds / self.schedule_speedup
            next_tick = time.monotonic() + period
            while not self.wait(max(0.0, next_tick - time.monotonic())):
                self._tick(config.name, rule_arn, time.time())
                next_tick = max(next_tick + period, time.monotonic())
            return
        while not self.stopping:  # cron: wall clock, UTC; not sped up
            fire_at = schedule.next_after(time.time())
            while not self.stopping and time.time() < fire_at:
                self.wait(min(1.0, fire_at - time.time()))
            if not self.stopping:
                self._tick(config.name, rule_arn, fire_at)

    def run_schedule(self, name: str) -> tuple[bool, Any]:
        """Invoke a scheduled handler now, as its rule would (`aws events` cannot be hurried on moto
        either); (True, result) or (False, exception)."""
        if not any(isinstance(c, ScheduledEventConfig) and c.name == name for c in self.app.event_sources):
            return False, LookupError(f"no scheduled handler {name!r}")
        rule_arn = schedule_rule_arn(self.function_name(name), self.region)
        return self._tick(name, rule_arn, time.time())

    def _tick(self, name: str, rule_arn: str, moment: float) -> tuple[bool, Any]:
        event = scheduled_event(rule_arn, moment, region=self.region)
        self.count(name, ticks=1)
        return self.invoke(name, event)


# -- Kinesis -------------------------------------------------------------------------------------


class _StreamWatcher:
    """Starts one `_ShardWorker` per shard, and more when the stream is resharded."""

    def __init__(self, pump: EventPump, settings: KinesisSettings) -> None:
        self.pump = pump
        self.settings = settings
        self.name = f"{settings.handler}<-{settings.stream}"
        self.ready = threading.Event()  # set once the initial shards have workers
        self.shard_workers: dict[str, _ShardWorker] = {}
        self.thread = threading.Thread(target=self._run, name=f"pump-{self.name}", daemon=True)

    def _run(self) -> None:
        kinesis = self.pump.client("kinesis")
        stream_arn = None
        while not self.pump.stopping:
            try:
                if stream_arn is None:
                    stream_arn = kinesis.describe_stream_summary(StreamName=self.settings.stream)[
                        "StreamDescriptionSummary"
                    ]["StreamARN"]
                shards = []
                for page in kinesis.get_paginator("list_shards").paginate(StreamName=self.settings.stream):
                    shards.extend(page["Shards"])
                initial = not self.ready.is_set()
                for shard in shards:
                    shard_id = shard["ShardId"]
                    if shard_id in self.shard_workers:
                        ending = shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
                        self.shard_workers[shard_id].ending_sequence = ending
                        continue
                    parents = [
                        self.shard_workers[p]
                        for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId"))
                        if p in self.shard_workers
                    ]
                    position = self.settings.starting_position if initial else "TRIM_HORIZON"
                    worker = _ShardWorker(self.pump, self.settings, stream_arn, shard_id, position, parents)
                    self.shard_workers[shard_id] = worker
                    self.pump.add_worker(worker)
                self.ready.set()
            except Exception:
                logger.exception("cannot list shards of %s (retrying)", self.settings.stream)
                stream_arn = None
            if self.pump.wait(self.pump.shard_refresh_interval if self.ready.is_set() else 0.5):
                return


class _ShardWorker(_Worker):
    def __init__(
        self,
        pump: EventPump,
        settings: KinesisSettings,
        stream_arn: str,
        shard_id: str,
        starting_position: str,
        parents: list[_ShardWorker],
    ) -> None:
        super().__init__(pump, f"{settings.handler}<-{settings.stream}/{shard_id}")
        self.settings = settings
        self.stream_arn = stream_arn
        self.shard_id = shard_id
        self.starting_position = starting_position
        self.parents = parents
        # Set by the watcher once the shard is closed (resharding): read to there, then finish.
        self.ending_sequence: str | None = None

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        return kinesis_record_from(
            record,
            shard_id=self.shard_id,
            stream_arn=self.stream_arn,
            region=self.pump.region,
            identity_arn=role_arn(self.pump.app.app_name, self.pump.stage),
        )

    def _iterator(self, kinesis: Any, after: str | None) -> str | None:
        if after is not None:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
        else:
            kwargs = {"ShardIteratorType": self.starting_position}
        return kinesis.get_shard_iterator(StreamName=self.settings.stream, ShardId=self.shard_id, **kwargs)[
            "ShardIterator"
        ]

    def run(self) -> None:
        pump, settings = self.pump, self.settings
        # Lambda finishes a parent shard before reading its children.
        for parent in self.parents:
            while not parent.finished:
                if pump.wait(pump.poll_interval):
                    return
        kinesis = pump.client("kinesis")
        iterator = None
        while iterator is None:
            try:
                resume = self._resume_point()
                iterator = self._iterator(kinesis, resume)
            except Exception:
                logger.exception("%s: cannot get a shard iterator (retrying)", self.name)
                if pump.wait(1.0):
                    return
        pending: list[dict[str, Any]] = []  # fetched, not yet checkpointed
        last_fetched: str | None = resume
        closed = False
        window_opened = 0.0
        self.failed_invocations = 0  # consecutive failed invocations starting at pending[0]
        self.bisect_ends: list[int] = []  # stack of sequence numbers bounding bisected halves
        while not pump.stopping:
            poll_started = time.monotonic()
            wakeups = pump.wakeups
            fetched = 0
            if not closed and len(pending) < settings.batch_size:
                polling = time.thread_time()
                try:
                    response = kinesis.get_records(
                        ShardIterator=iterator, Limit=min(10000, settings.batch_size)
                    )
                    pump.count(settings.handler, poll_cpu_seconds=time.thread_time() - polling)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") == "ExpiredIteratorException":
                        iterator = self._iterator(kinesis, last_fetched)
                        continue
                    logger.exception("%s: get_records failed (retrying)", self.name)
                    pump.wait(1.0)
                    continue
                records = response["Records"]
                fetched = len(records)
                if records:
                    if not pending:
                        window_opened = time.monotonic()
                    pending.extend(records)
                    last_fetched = records[-1]["SequenceNumber"]
                iterator = response.get("NextShardIterator")
                ending = self.ending_sequence
                closed = iterator is None or (
                    not records
                    and ending is not None
                    and (last_fetched is None or int(last_fetched) >= int(ending))
                )
            if not pending:
                if closed:
                    return  # a closed shard read to its end: children take over
                if fetched == 0:
                    self.caught_up_at = poll_started
                    pump.wait_idle(wakeups)
                else:
                    pump.wait(pump.poll_interval)
                continue
            collecting = (
                not closed
                and self.failed_invocations == 0
                and not self.bisect_ends
                and len(pending) < settings.batch_size
                and time.monotonic() - window_opened < settings.max_batching_window
            )
            if collecting:  # batching window: wait for a full batch, a closed shard or the window's end
                if not fetched:
                    pump.wait(pump.poll_interval)
                continue
            self._deliver(pending)

    def _deliver(self, pending: list[dict[str, Any]]) -> None:
        pump, settings = self.pump, self.settings
        batch = pending[: settings.batch_size]
        if self.bisect_ends:
            bound = self.bisect_ends[-1]
            batch = [r for r in batch if int(r["SequenceNumber"]) <= bound] or batch[:1]
        sequences = [r["SequenceNumber"] for r in batch]
        retry = self.failed_invocations > 0
        pump.count(settings.handler, records_delivered=len(batch), retries=int(retry))
        building = time.thread_time()
        event = {"Records": [self._record(r) for r in batch]}
        pump.count(settings.handler, poll_cpu_seconds=time.thread_time() - building)
        ok, result = pump.invoke(settings.handler, event)
        failed_at: int | None = None  # index of the first record to retry
        if not ok:
            failed_at = 0
        elif (
            settings.report_batch_item_failures
            and isinstance(result, dict)
            and result.get("batchItemFailures")
        ):
            pump.count(settings.handler, partial_failures=1)
            ids = [
                item.get("itemIdentifier") if isinstance(item, dict) else None
                for item in result["batchItemFailures"]
            ]
            if all(i in sequences for i in ids):
                failed_at = min(sequences.index(i) for i in ids)
            else:
                logger.error(
                    "%s: batchItemFailures names records not in the batch: %s; retrying the batch",
                    settings.handler,
                    ids,
                )
                failed_at = 0
        if failed_at is None:
            self._checkpoint(pending, len(batch))
            return
        if failed_at > 0:
            self._checkpoint(pending, failed_at)
            batch = batch[failed_at:]
        self.failed_invocations += 1
        exhausted = 0 <= settings.max_retry_attempts < self.failed_invocations
        if exhausted:
            self._give_up(batch)
            self._checkpoint(pending, len(batch), succeeded=False)
            return
        if not ok and settings.bisect_on_error and len(batch) > 1:
            self.bisect_ends.append(int(batch[len(batch) // 2 - 1]["SequenceNumber"]))
        pump.wait(pump.retry_delay)

    def _resume_point(self) -> str | None:
        """The persisted checkpoint to read after, if any (a restart resumes there, at least once)."""
        store = self.pump.checkpoints
        return store.load(self.settings.handler, self.settings.stream, self.shard_id) if store else None

    def _save_checkpoint(self, sequence: str) -> None:
        store = self.pump.checkpoints
        if store is None:
            return
        try:
            store.save(self.settings.handler, self.settings.stream, self.shard_id, sequence)
        except Exception:  # at least once: a lost checkpoint only redelivers after a restart
            logger.exception("%s: cannot save checkpoint %s", self.name, sequence)

    def _checkpoint(self, pending: list[dict[str, Any]], count: int, *, succeeded: bool = True) -> None:
        if count <= 0:
            return
        last = int(pending[count - 1]["SequenceNumber"])
        del pending[:count]
        self._save_checkpoint(str(last))
        self.failed_invocations = 0
        while self.bisect_ends and self.bisect_ends[-1] <= last:
            self.bisect_ends.pop()
        if succeeded:
            self.pump.count(self.settings.handler, records_succeeded=count)

    def _give_up(self, batch: list[dict[str, Any]]) -> None:
        """Retries exhausted: send Lambda's on-failure record (batch coordinates, not data), move on."""
        settings = self.settings
        self.pump.count(settings.handler, failures=len(batch))
        first, last = batch[0], batch[-1]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": LambdaContext(
                    self.pump.function_name(settings.handler), region=self.pump.region
                ).invoked_function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self.failed_invocations,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "KinesisBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": utc_iso(first["ApproximateArrivalTimestamp"]),
                "approximateArrivalOfLastRecord": utc_iso(last["ApproximateArrivalTimestamp"]),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        logger.error(
            "%s: retries exhausted for %s..%s (%d records)",
            self.name,
            first["SequenceNumber"],
            last["SequenceNumber"],
            len(batch),
        )
        if not settings.on_failure_queue:
            return  # Lambda drops them too when no on-failure destination is configured
        try:
            sqs = self.pump.client("sqs")
            url = sqs.get_queue_url(QueueName=settings.on_failure_queue)["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
        except Exception:
            logger.exception("%s: cannot send to on-failure queue %s", self.name, settings.on_failure_queue)


# -- SQS -----------------------------------------------------------------------------------------


class _QueueWorker(_Worker):
    def __init__(self, pump: EventPump, config: SQSEventConfig) -> None:
        queue = config.queue or (config.queue_arn or "").rsplit(":", 1)[-1]
        super().__init__(pump, f"{config.name}<-{queue}")
        self.config = config
        self.queue = queue

    def _record(self, message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
        return sqs_record(message, queue_arn=queue_arn, region=self.pump.region)

    def run(self) -> None:
        pump, name = self.pump, self.config.name
        sqs = pump.client("sqs")
        while True:
            try:
                url = sqs.get_queue_url(QueueName=self.queue)["QueueUrl"]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
                break
            except Exception:
                logger.exception("%s: queue %s not available (retrying)", name, self.queue)
                if pump.wait(1.0):
                    return
        while not pump.stopping:
            poll_started = time.monotonic()
            wakeups = pump.wakeups
            try:
                messages = self._receive(sqs, url)
            except Exception:
                logger.exception("%s: receive_message failed (retrying)", name)
                pump.wait(1.0)
                continue
            if not messages:
                self.caught_up_at = poll_started
                # Idle as the shard pollers are: a drain() wakes it at once, rather than waiting out
                # a long poll (every drain paid up to a second per queue).
                pump.wait_idle(wakeups)
                continue
            pump.count(
                name,
                records_delivered=len(messages),
                retries=int(
                    any(
                        int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")) > 1 for m in messages
                    )
                ),
            )
            ok, result = pump.invoke(name, {"Records": [self._record(m, arn) for m in messages]})
            done = messages if ok else []
            if ok and isinstance(result, dict) and result.get("batchItemFailures"):
                pump.count(name, partial_failures=1)
                ids = {
                    item.get("itemIdentifier") if isinstance(item, dict) else None
                    for item in result["batchItemFailures"]
                }
                known = {m["MessageId"] for m in messages}
                # An unknown identifier makes Lambda treat the whole batch as failed.
                done = [m for m in messages if m["MessageId"] not in ids] if ids <= known else []
            # Failed messages stay in the queue and reappear after their visibility timeout.
            for start in range(0, len(done), 10):
                chunk = done[start : start + 10]
                try:
                    sqs.delete_message_batch(
                        QueueUrl=url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                        ],
                    )
                except Exception:
                    logger.exception("%s: delete_message_batch failed", name)
            pump.count(name, records_succeeded=len(done))

    def _receive(self, sqs: Any, url: str) -> list[dict[str, Any]]:
        batch_size = max(1, self.config.batch_size)
        messages: list[dict[str, Any]] = []
        while len(messages) < batch_size and not self.pump.stopping:
            wanted = min(10, batch_size - len(messages))
            got = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=wanted,
                WaitTimeSeconds=0,  # short polls: the worker idles on the pump's wake-ups (run)
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(got)
            if len(got) < wanted:
                break
        return messages
