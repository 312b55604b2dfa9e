"""Taking a task's alert events to their handlers, one queue message at a time, so a slow or failing
endpoint never holds up a task and no event is lost: an `event` message is collected into each of its
topics (chalicelib.alert.service) and becomes one `delivery` message per handler (the script's own
handlers and the topics' matching handler specs); a `delivery` message is rendered (delivery.py) and sent,
and a failure to send raises, so the queue retries it with backoff and keeps it in its dead-letter queue
after the last attempt. Kapacitor sends once and forgets. A `log` handler's line (a file in Kapacitor;
Lambda has none) becomes an entry of the organization's log (GET /kapacitor/v1preview/logs) when a log
sink is given, else it goes to the sender like any delivery."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from chalicelib.alert.delivery import Delivery, render
from chalicelib.alert.events import AlertEvent
from chalicelib.alert.handler_aggregate import AggregateState, publish
from chalicelib.alert.handlers import KINDS, HandlerConfig, create, global_kinds
from chalicelib.alert.http_post import http_post_delivery
from chalicelib.alert.remote_write import cluster_named, influxdb_write
from chalicelib.alert.service import AlertService
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.logrecords import ALERT, LogSink, record
from chalicelib.kit.time import format_rfc3339nano, go_duration

EVENT, DELIVERY, AGGREGATE_TICK, REQUEST = "event", "delivery", "aggregate-tick", "request"
WRITE = "write"  # influxDBOut's points for another InfluxDB
_MAX_DELAY_SECONDS = 900  # SQS's longest delay: a longer interval's tick is put off again
_SAVE_ATTEMPTS = 8
_MAX_PUBLISH_DEPTH = 8  # publish handlers re-collect into other topics: a cycle of topics stops here


class Queue(Protocol):
    def send(self, messages: list[dict[str, Any]], delay_seconds: int = 0) -> None: ...


class AggregateStore(Protocol):
    """Aggregate handlers' buffers, saved conditionally on the version read (None: none yet)."""

    def aggregate(self, org_id: str, topic_id: str, handler_id: str) -> tuple[int, dict[str, Any]] | None: ...
    def save_aggregate(
        self, org_id: str, topic_id: str, handler_id: str, state: dict[str, Any], expected: int | None
    ) -> bool: ...


class Sender(Protocol):
    def send(self, delivery: Delivery) -> None:
        """Send it, or raise DeliveryFailed."""


class DeliveryFailed(RuntimeError):
    """The endpoint did not take the delivery: the message is retried."""


class Dispatcher:
    def __init__(
        self,
        alerts: AlertService,
        queue: Queue,
        sender: Sender,
        aggregates: AggregateStore,
        service_configs: Callable[[str], Mapping[str, Any]] = lambda org_id: {},
        log: Callable[[str, str, dict[str, Any]], None] = lambda level, message, extra: None,
        clock: Callable[[], int] = time.time_ns,
        logs: LogSink | None = None,
    ) -> None:
        self.alerts = alerts
        self.logs = logs
        self.queue = queue
        self.sender = sender
        self.aggregates = aggregates
        self.clock = clock  # aggregate handlers tick on the wall clock, as Kapacitor's ticker
        self.service_configs = service_configs  # org -> its handler sections (its config overrides)
        self.log = log

    def handle(self, message: dict[str, Any]) -> None:
        if message.get("type") == EVENT:
            self.fan_out(message)
        elif message.get("type") == DELIVERY:
            self.deliver(message)
        elif message.get("type") == AGGREGATE_TICK:
            self.tick_aggregate(message)
        elif message.get("type") == REQUEST:
            self.request(message)
        elif message.get("type") == WRITE:
            self.write(message)
        else:
            self.log("error", "unknown alert message", {"type": message.get("type")})

    def fan_out(self, message: dict[str, Any]) -> None:
        org, task = message["org"], message.get("task", "")
        event = AlertEvent.from_state(message["event"])
        handlers = list(message.get("handlers", []))
        handlers += self._global_handlers(org, handlers)
        deliveries = [
            _delivery(org, task, message["topics"][0], handler["kind"], handler["options"], event)
            for handler in handlers
        ]
        for topic in message["topics"]:
            deliveries += self._collect(org, task, topic, event, 0)
        if deliveries:
            self.queue.send(deliveries)

    def _global_handlers(self, org: str, handlers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A task's alert node also sends to each service whose section says `global`, unless the script
        gave it a handler of that kind, as Kapacitor adds them when it starts the task (here the
        sections are read when the event is sent: an override applies without restarting the task)."""
        present = {handler["kind"] for handler in handlers}
        kinds = global_kinds(self.service_configs(org))
        return [{"kind": kind, "options": {}} for kind in kinds if kind not in present]

    def _collect(
        self, org: str, task: str, topic: str, event: AlertEvent, depth: int
    ) -> list[dict[str, Any]]:
        out = []
        for spec in self.alerts.collect(org, topic, event):
            if spec.kind == "publish":
                if depth >= _MAX_PUBLISH_DEPTH:
                    self.log("error", "publish handlers loop", {"topic": topic})
                    continue
                config = HandlerConfig("publish", spec.options or {})
                for collected in publish(config, event):
                    out += self._collect(org, task, collected.topic, event, depth + 1)
            elif spec.kind == "aggregate":
                if depth >= _MAX_PUBLISH_DEPTH:
                    self.log("error", "aggregate handlers loop", {"topic": topic, "handler": spec.id})
                    continue
                out += self._aggregate(org, task, topic, spec.id, spec.options or {}, event, depth)
            else:
                out.append(_delivery(org, task, topic, spec.kind, spec.options or {}, event))
        return out

    def _aggregate(
        self, org: str, task: str, topic: str, handler_id: str, options: dict, event: AlertEvent, depth: int
    ) -> list[dict[str, Any]]:
        """Buffer the event in the handler's interval; a tick that passed meanwhile first sends what the
        buffer held. The first event of an interval schedules its tick (a delayed queue message)."""
        config = create("aggregate", options)
        for _ in range(_SAVE_ATTEMPTS):
            now = self.clock()
            found = self.aggregates.aggregate(org, topic, handler_id)
            version = found[0] if found else None
            buffer = AggregateState.from_state(found[1]) if found else AggregateState.start(now)
            emitted = buffer.tick(config, now)
            first = not buffer.events
            buffer.add(event)
            if self.aggregates.save_aggregate(org, topic, handler_id, buffer.to_state(), version):
                if first:
                    self._schedule_tick(
                        org, task, topic, handler_id, buffer.next_tick(config.options["interval"])
                    )
                out: list[dict[str, Any]] = []
                for collected in emitted:
                    out += self._collect(org, task, collected.topic, collected.event, depth + 1)
                return out
        raise RuntimeError(f"aggregate buffer of {topic}/{handler_id} kept changing")

    def _schedule_tick(self, org: str, task: str, topic: str, handler_id: str, due: int) -> None:
        delay = max(0, min(_MAX_DELAY_SECONDS, -(-(due - self.clock()) // 1_000_000_000)))
        message = {"type": AGGREGATE_TICK, "org": org, "task": task, "topic": topic, "handler": handler_id}
        self.queue.send([{**message, "due": due}], delay_seconds=delay)

    def tick_aggregate(self, message: dict[str, Any]) -> None:
        """An aggregate handler's interval ended: what it buffered goes to its topic as one event."""
        org, task, topic, handler_id = (
            message["org"],
            message.get("task", ""),
            message["topic"],
            message["handler"],
        )
        try:
            spec = self.alerts.handler(org, topic, handler_id)
        except TicklessError:
            return  # the handler (or its topic) is gone: so is its buffer's purpose
        if self.clock() < message["due"]:
            self._schedule_tick(org, task, topic, handler_id, message["due"])  # an interval over 15 min
            return
        config = create("aggregate", spec.options or {})
        for _ in range(_SAVE_ATTEMPTS):
            found = self.aggregates.aggregate(org, topic, handler_id)
            if found is None:
                return
            buffer = AggregateState.from_state(found[1])
            emitted = buffer.tick(config, self.clock())
            if not emitted:
                return
            if self.aggregates.save_aggregate(org, topic, handler_id, buffer.to_state(), found[0]):
                deliveries: list[dict[str, Any]] = []
                for collected in emitted:
                    deliveries += self._collect(org, task, collected.topic, collected.event, 1)
                if deliveries:
                    self.queue.send(deliveries)
                return
        raise RuntimeError(f"aggregate buffer of {topic}/{handler_id} kept changing")

    def request(self, message: dict[str, Any]) -> None:
        """A task's httpPost: its row to its URL or endpoint (retried, as deliveries are, until taken)."""
        try:
            delivery = http_post_delivery(message, self.service_configs(message["org"]).get("httppost"))
        except TicklessError as exc:
            # an endpoint removed since the task started, a template that does not run: Kapacitor logs it
            self.log("error", "httpPost did not send", {"task": message.get("task"), "error": exc.message})
            return
        self.sender.send(delivery)

    def write(self, message: dict[str, Any]) -> None:
        """influxDBOut's points to the InfluxDB its `.cluster()` names, as that cluster is configured now."""
        try:
            cluster = cluster_named(self.service_configs(message["org"]).get("influxdb"), message["cluster"])
        except TicklessError as exc:
            # Kapacitor refuses to start such a task; one whose cluster went since then drops its points
            self.log("error", "failed to write points", {"task": message.get("task"), "error": exc.message})
            return
        self.sender.send(
            influxdb_write(
                cluster,
                message["database"],
                message["retention_policy"],
                message["precision"],
                message["lines"],
            )
        )

    def deliver(self, message: dict[str, Any]) -> None:
        event = AlertEvent.from_state(message["event"])
        kind = message["kind"]
        try:
            delivery = render(
                kind,
                message["options"],
                _service_section(self.service_configs(message["org"]), kind),
                event,
                topic=message.get("topic", ""),
            )
        except TicklessError as exc:
            # Kapacitor logs these and sends nothing (service disabled, no recipients, a template that
            # does not render): retrying would not change them.
            self.log("error", "alert handler did not send", {"kind": kind, "error": exc.message})
            return
        if delivery.transport == "log" and self.logs is not None:
            self.logs.append(message["org"], [_log_record(message, delivery.target, event)])
            return
        self.sender.send(delivery)


def _delivery(
    org: str, task: str, topic: str, kind: str, options: dict[str, Any], event: AlertEvent
) -> dict[str, Any]:
    return {
        "type": DELIVERY,
        "org": org,
        "task": task,
        "topic": topic,
        "kind": kind,
        "options": options,
        "event": event.to_state(),
    }


def _log_record(message: dict[str, Any], path: str, event: AlertEvent) -> dict[str, Any]:
    """A log handler's line as an entry: the handler's context, then the alert its file would get."""
    context = [("service", ALERT), ("task", message.get("task") or ""), ("topic", message.get("topic", ""))]
    keys = [
        *(pair for pair in context if pair[1]),
        ("handler", "log"),
        ("path", path),
        ("id", event.id),
        ("level", event.level.name),
        ("event_message", event.message),
        ("time", format_rfc3339nano(event.time)),
        ("duration", go_duration(event.duration)),
        ("data", json.dumps(event.data, separators=(",", ":"), default=str)),
    ]
    return record("info", "alert", keys)


def _service_section(configs: Mapping[str, Any], kind: str) -> Any:
    """The section of `configs` the handler kind sends through (None: it has none, or none is set)."""
    found = KINDS.get(kind)
    return configs.get(found.service) if found is not None and found.service else None
