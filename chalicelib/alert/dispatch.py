"""Taking a task's alert events to their handlers, one queue message at a time, so a slow or failing
endpoint never holds up a task and no event is lost: an `event` message is collected into each of its
topics (chalicelib.alert.service) and becomes one `delivery` message per handler (the script's own
handlers and the topics' matching handler specs); a `delivery` message is rendered (delivery.py) and sent,
and a failure to send raises, so the queue retries it with backoff and keeps it in its dead-letter queue
after the last attempt. Kapacitor sends once and forgets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from chalicelib.alert.delivery import Delivery, render
from chalicelib.alert.events import AlertEvent
from chalicelib.alert.handler_aggregate import publish
from chalicelib.alert.handlers import HandlerConfig
from chalicelib.alert.service import AlertService
from chalicelib.kit.errors import TicklessError

EVENT, DELIVERY = "event", "delivery"
_MAX_PUBLISH_DEPTH = 8  # publish handlers re-collect into other topics: a cycle of topics stops here


class Queue(Protocol):
    def send(self, messages: list[dict[str, Any]]) -> None: ...


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
        service_configs: Callable[[str, str], Any] = lambda org_id, kind: None,
        log: Callable[[str, str, dict[str, Any]], None] = lambda level, message, extra: None,
    ) -> None:
        self.alerts = alerts
        self.queue = queue
        self.sender = sender
        self.service_configs = service_configs  # (org, kind) -> that kind's service section
        self.log = log

    def handle(self, message: dict[str, Any]) -> None:
        if message.get("type") == EVENT:
            self.fan_out(message)
        elif message.get("type") == DELIVERY:
            self.deliver(message)
        else:
            self.log("error", "unknown alert message", {"type": message.get("type")})

    def fan_out(self, message: dict[str, Any]) -> None:
        org, task = message["org"], message.get("task", "")
        event = AlertEvent.from_state(message["event"])
        deliveries = [
            _delivery(org, task, message["topics"][0], handler["kind"], handler["options"], event)
            for handler in message.get("handlers", [])
        ]
        for topic in message["topics"]:
            deliveries += self._collect(org, task, topic, event, 0)
        if deliveries:
            self.queue.send(deliveries)

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
                self.log(
                    "error", "aggregate handlers are not supported yet", {"topic": topic, "handler": spec.id}
                )
            else:
                out.append(_delivery(org, task, topic, spec.kind, spec.options or {}, event))
        return out

    def deliver(self, message: dict[str, Any]) -> None:
        event = AlertEvent.from_state(message["event"])
        kind = message["kind"]
        try:
            delivery = render(
                kind,
                message["options"],
                self.service_configs(message["org"], kind),
                event,
                topic=message.get("topic", ""),
            )
        except TicklessError as exc:
            # Kapacitor logs these and sends nothing (service disabled, no recipients, a template that
            # does not render): retrying would not change them.
            self.log("error", "alert handler did not send", {"kind": kind, "error": exc.message})
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
