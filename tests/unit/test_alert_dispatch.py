"""Alert events to their handlers (chalicelib/alert/dispatch.py): an event message fans out into one
delivery per handler (the script's, then each topic's matching specs, publish handlers followed), a
delivery is rendered and sent; what can never be sent is logged, what the endpoint refused raises."""

from __future__ import annotations

import json

import pytest

from chalicelib.alert.dispatch import DELIVERY, EVENT, DeliveryFailed, Dispatcher
from chalicelib.alert.events import Level
from chalicelib.alert.service import AlertService
from chalicelib.tick.matching import TickMatcher
from tests.unit.test_alert_service import MemoryAlerts, _event

ORG = "0000000000000001"


class Queue:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def send(self, messages: list[dict]) -> None:
        self.sent.extend(messages)


class Sender:
    def __init__(self, fail: bool = False) -> None:
        self.sent = []
        self.fail = fail

    def send(self, delivery) -> None:
        if self.fail:
            raise DeliveryFailed("post: 500")
        self.sent.append(delivery)


def _dispatcher(sender: Sender | None = None):
    service = AlertService(MemoryAlerts(), TickMatcher())
    logs: list[tuple] = []
    queue = Queue()
    dispatcher = Dispatcher(service, queue, sender or Sender(), log=lambda *entry: logs.append(entry))
    return dispatcher, service, queue, logs


def _event_message(**extra) -> dict:
    event = _event(Level.CRITICAL, tags={"host": "a"})
    return {"type": EVENT, "org": ORG, "task": "t", "node": "alert2", "event": event.to_state(), **extra}


def test_an_event_fans_out_to_the_scripts_handlers_and_the_topics_matching_ones() -> None:
    dispatcher, service, queue, _ = _dispatcher()
    for handler_id, match in (("all", ""), ("crit", "level() == CRITICAL"), ("warn", "level() == WARNING")):
        body = {
            "id": handler_id,
            "kind": "post",
            "options": {"url": f"http://x/{handler_id}"},
            "match": match,
        }
        service.create_handler(ORG, "ops", json.dumps(body).encode())
    script = [{"kind": "post", "options": {"url": "http://x/script"}}]
    dispatcher.handle(_event_message(topics=["main:t:alert2", "ops"], handlers=script))
    assert [m["type"] for m in queue.sent] == [DELIVERY] * 3
    assert [m["options"]["url"] for m in queue.sent] == ["http://x/script", "http://x/all", "http://x/crit"]
    assert service.topic(ORG, "ops").level is Level.CRITICAL


def test_publish_handlers_collect_the_event_into_their_topics() -> None:
    dispatcher, service, queue, _ = _dispatcher()
    service.create_handler(
        ORG, "a", json.dumps({"id": "p", "kind": "publish", "options": {"topics": ["b"]}}).encode()
    )
    service.create_handler(
        ORG, "b", json.dumps({"id": "h", "kind": "post", "options": {"url": "http://b"}}).encode()
    )
    dispatcher.handle(_event_message(topics=["a"]))
    assert [(m["topic"], m["options"]["url"]) for m in queue.sent] == [("b", "http://b")]
    assert service.topic(ORG, "b").level is Level.CRITICAL


def test_a_delivery_is_rendered_and_sent_and_a_refusal_raises_for_a_retry() -> None:
    dispatcher, _, queue, _ = _dispatcher()
    dispatcher.handle(
        _event_message(topics=["x"], handlers=[{"kind": "post", "options": {"url": "http://x/y"}}])
    )
    [delivery] = queue.sent
    sender = Sender()
    _dispatcher(sender)[0].handle(delivery)
    [sent] = sender.sent
    assert (sent.transport, sent.target) == ("http", "http://x/y")
    assert json.loads(sent.body)["level"] == "CRITICAL"
    with pytest.raises(DeliveryFailed):
        _dispatcher(Sender(fail=True))[0].handle(delivery)


def test_what_can_never_be_sent_is_logged_not_retried() -> None:
    dispatcher, _, _, logs = _dispatcher()
    # Slack without its service configured: Kapacitor logs and drops it.
    message = {**_event_message(topics=["x"]), "type": DELIVERY, "kind": "slack", "options": {}, "topic": "x"}
    dispatcher.handle(message)
    assert logs and logs[0][0] == "error"
    dispatcher.handle({"type": "nonsense"})
    assert logs[-1][1] == "unknown alert message"
