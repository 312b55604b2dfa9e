"""Alert events to their handlers (chalicelib/alert/dispatch.py): an event message fans out into one
delivery per handler (the script's, then each topic's matching specs, publish handlers followed), a
delivery is rendered and sent; what can never be sent is logged, what the endpoint refused raises."""

from __future__ import annotations

import json

import pytest

from chalicelib.alert.dispatch import AGGREGATE_TICK, DELIVERY, EVENT, DeliveryFailed, Dispatcher
from chalicelib.alert.events import Level
from chalicelib.alert.service import AlertService
from chalicelib.tick.matching import TickMatcher
from tests.unit.test_alert_service import MemoryAlerts, _event

ORG = "0000000000000001"
SECOND = 1_000_000_000


class Queue:
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.delays: list[int] = []

    def send(self, messages: list[dict], delay_seconds: int = 0) -> None:
        self.sent.extend(messages)
        self.delays.extend([delay_seconds] * len(messages))


class Aggregates:
    """The aggregate buffers' store, with its version condition."""

    def __init__(self) -> None:
        self.items: dict[tuple, tuple[int, dict]] = {}

    def aggregate(self, org_id, topic_id, handler_id):
        return self.items.get((org_id, topic_id, handler_id))

    def save_aggregate(self, org_id, topic_id, handler_id, state, expected):
        current = self.items.get((org_id, topic_id, handler_id))
        if (current[0] if current else None) != expected:
            return False
        self.items[(org_id, topic_id, handler_id)] = ((expected or 0) + 1, json.loads(json.dumps(state)))
        return True


class Sender:
    def __init__(self, fail: bool = False) -> None:
        self.sent = []
        self.fail = fail

    def send(self, delivery) -> None:
        if self.fail:
            raise DeliveryFailed("post: 500")
        self.sent.append(delivery)


def _dispatcher(sender: Sender | None = None, clock=None):
    service = AlertService(MemoryAlerts(), TickMatcher())
    logs: list[tuple] = []
    queue = Queue()
    dispatcher = Dispatcher(
        service,
        queue,
        sender or Sender(),
        aggregates=Aggregates(),
        log=lambda *entry: logs.append(entry),
        clock=clock or (lambda: 0),
    )
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


def test_aggregate_handlers_send_one_event_per_interval() -> None:
    now = [1_000 * SECOND]
    dispatcher, service, queue, _ = _dispatcher(clock=lambda: now[0])
    options = {"interval": 10 * SECOND, "topic": "summary", "id": "agg", "message": "{{ .Count }} alerts"}
    service.create_handler(
        ORG, "cpu", json.dumps({"id": "a", "kind": "aggregate", "options": options}).encode()
    )
    service.create_handler(
        ORG, "summary", json.dumps({"id": "s", "kind": "post", "options": {"url": "http://s"}}).encode()
    )
    dispatcher.handle(_event_message(topics=["cpu"]))
    now[0] += 3 * SECOND
    dispatcher.handle(_event_message(topics=["cpu"]))
    [tick] = queue.sent  # the interval's tick, scheduled by its first event only
    assert tick["type"] == AGGREGATE_TICK and queue.delays == [10]
    dispatcher.handle(tick)  # too early: put off again
    assert queue.sent[-1]["type"] == AGGREGATE_TICK and queue.delays[-1] == 7
    now[0] += 7 * SECOND
    dispatcher.handle(tick)
    delivery = queue.sent[-1]
    assert (delivery["type"], delivery["topic"], delivery["options"]["url"]) == (
        DELIVERY,
        "summary",
        "http://s",
    )
    assert delivery["event"]["message"] == "2 alerts" and delivery["event"]["level"] == "CRITICAL"
    dispatcher.handle(tick)  # a repeated tick finds the buffer empty
    assert queue.sent[-1] is delivery
