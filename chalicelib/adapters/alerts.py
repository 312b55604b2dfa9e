"""Kapacitor's alert topics on the `resources` table, one partition per kind and organization:

- `a|t|<org>` / `<topic>`: a topic (it exists once an event was collected or a handler registered on it),
  with its `collected` count, incremented atomically;
- `a|e|<org>` / `<topic>\\0<event id>`: the last state of one event id (JSON), so listing an org's topics
  with their levels is two Queries, and one topic's events a Query on the prefix;
- `a|h|<org>` / `<topic>\\0<handler id>`: a topic handler spec (JSON), by ID within the topic.

Each event id is its own item, replaced with one PutItem that returns the item it replaced: two Lambdas
collecting into a topic at once lose no event, and each sees the other's state as previous (or none).
Creating a handler is conditional, so two creators of one ID cannot both succeed."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from chalicelib.adapters.conditions import condition_failed, saved_if
from chalicelib.alert.handler_specs import HandlerSpec
from chalicelib.alert.topics import EventState, TopicState
from chalicelib.declarations import RESOURCES

SEP = "\0"


class AlertItem(Model):
    """An item of the `resources` table as the alert store writes it (ResourceItem's keys and `doc`, plus
    a topic's counter)."""

    class Meta:
        table_name = RESOURCES.physical_name

    pk = UnicodeAttribute(hash_key=True, attr_name=RESOURCES.hash_key)
    sk = UnicodeAttribute(range_key=True, attr_name=RESOURCES.range_key)
    doc = UnicodeAttribute(null=True)
    collected = NumberAttribute(null=True)
    version = NumberAttribute(null=True)  # of an aggregate handler's buffer
    time = NumberAttribute(null=True)  # of an event's state: a later event is never replaced by an earlier


def _topics_pk(org_id: str) -> str:
    return f"a|t|{org_id}"


def _events_pk(org_id: str) -> str:
    return f"a|e|{org_id}"


def _handlers_pk(org_id: str) -> str:
    return f"a|h|{org_id}"


def _aggregates_pk(org_id: str) -> str:
    return f"a|g|{org_id}"


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


class DynamoAlerts:
    """alert.service.AlertStore."""

    # -- topics and events

    def topics(self, org_id: str) -> list[TopicState]:
        found = {
            item.sk: TopicState(item.sk, {}, int(item.collected or 0))
            for item in AlertItem.query(_topics_pk(org_id), consistent_read=True)
        }
        for item in AlertItem.query(_events_pk(org_id), consistent_read=True):
            topic_id, _, _ = item.sk.rpartition(SEP)
            if topic_id in found:
                state = EventState.from_state(json.loads(item.doc))
                found[topic_id].events[state.id] = state
        return list(found.values())

    def topic(self, org_id: str, topic_id: str) -> TopicState | None:
        if not topic_id:
            return None
        try:
            item = AlertItem.get(_topics_pk(org_id), topic_id, consistent_read=True)
        except AlertItem.DoesNotExist:
            return None
        topic = TopicState(topic_id, {}, int(item.collected or 0))
        for event in self._events(org_id, topic_id):
            topic.events[event.id] = event
        return topic

    def _event_items(self, org_id: str, topic_id: str) -> list[AlertItem]:
        prefix = topic_id + SEP
        return list(
            AlertItem.query(_events_pk(org_id), AlertItem.sk.startswith(prefix), consistent_read=True)
        )

    def _events(self, org_id: str, topic_id: str) -> list[EventState]:
        return [EventState.from_state(json.loads(i.doc)) for i in self._event_items(org_id, topic_id)]

    def ensure_topic(self, org_id: str, topic_id: str) -> None:
        # ADD 0 creates the item (counter 0) or leaves an existing one as it is
        AlertItem(_topics_pk(org_id), topic_id).update(actions=[AlertItem.collected.add(0)])

    def record(self, org_id: str, topic_id: str, state: EventState) -> EventState | None:
        """The event's new state, unless the topic holds a later one (the queue does not keep order:
        an older event arriving late leaves the newer state); returns the state it held before."""
        connection = AlertItem._get_connection()
        key = topic_id + SEP + state.id
        try:
            answer = connection.put_item(
                _events_pk(org_id),
                range_key=key,
                attributes={"doc": {"S": _dump(state.to_state())}, "time": {"N": str(state.time)}},
                condition=AlertItem.time.does_not_exist() | (AlertItem.time <= state.time),
                return_values="ALL_OLD",
            )
        except PutError as exc:
            if not condition_failed(exc):
                raise
            newer = AlertItem.get(_events_pk(org_id), key, consistent_read=True)
            return EventState.from_state(json.loads(newer.doc)) if newer.doc else None
        AlertItem(_topics_pk(org_id), topic_id).update(actions=[AlertItem.collected.add(1)])
        old = (answer or {}).get("Attributes", {}).get("doc", {}).get("S")
        return EventState.from_state(json.loads(old)) if old else None

    def delete_topic(self, org_id: str, topic_id: str) -> None:
        if not topic_id:
            return
        AlertItem(_topics_pk(org_id), topic_id).delete()
        with AlertItem.batch_write() as batch:
            for item in self._event_items(org_id, topic_id):
                batch.delete(item)

    # -- handler specs

    def handlers(self, org_id: str, topic_id: str) -> list[HandlerSpec]:
        query = AlertItem.query(
            _handlers_pk(org_id), AlertItem.sk.startswith(topic_id + SEP), consistent_read=True
        )
        return [HandlerSpec.from_state(json.loads(i.doc)) for i in query]

    def handler(self, org_id: str, topic_id: str, handler_id: str) -> HandlerSpec | None:
        if not handler_id:
            return None
        try:
            item = AlertItem.get(_handlers_pk(org_id), topic_id + SEP + handler_id, consistent_read=True)
        except AlertItem.DoesNotExist:
            return None
        return HandlerSpec.from_state(json.loads(item.doc))

    def create_handler(self, org_id: str, spec: HandlerSpec) -> bool:
        item = AlertItem(_handlers_pk(org_id), spec.topic + SEP + spec.id, doc=_dump(spec.to_state()))
        return saved_if(item, AlertItem.pk.does_not_exist())

    def replace_handler(self, org_id: str, spec: HandlerSpec) -> None:
        AlertItem(_handlers_pk(org_id), spec.topic + SEP + spec.id, doc=_dump(spec.to_state())).save()

    def delete_handler(self, org_id: str, topic_id: str, handler_id: str) -> None:
        if handler_id:
            AlertItem(_handlers_pk(org_id), topic_id + SEP + handler_id).delete()

    def all_handlers(self, org_id: str) -> list[HandlerSpec]:
        query = AlertItem.query(_handlers_pk(org_id), consistent_read=True)
        return [HandlerSpec.from_state(json.loads(i.doc)) for i in query]

    def restore_topic(self, org_id: str, topic: TopicState) -> None:
        """The topic's count set and its events written as given, events it no longer has deleted."""
        AlertItem(_topics_pk(org_id), topic.id, collected=topic.collected).save()
        stale = {i.sk: i for i in self._event_items(org_id, topic.id)}
        with AlertItem.batch_write() as batch:
            for event in topic.events.values():
                key = topic.id + SEP + event.id
                stale.pop(key, None)
                batch.save(AlertItem(_events_pk(org_id), key, doc=_dump(event.to_state()), time=event.time))
            for item in stale.values():
                batch.delete(item)

    # -- aggregate handlers' buffers -------------------------------------------------------------------

    def aggregate(self, org_id: str, topic_id: str, handler_id: str) -> tuple[int, dict[str, Any]] | None:
        try:
            item = AlertItem.get(_aggregates_pk(org_id), topic_id + SEP + handler_id, consistent_read=True)
        except AlertItem.DoesNotExist:
            return None
        return int(item.version or 0), json.loads(item.doc or "{}")

    def save_aggregate(
        self, org_id: str, topic_id: str, handler_id: str, state: dict[str, Any], expected: int | None
    ) -> bool:
        """Conditional on the version read (None: none yet): False when another worker saved meanwhile."""
        item = AlertItem(
            _aggregates_pk(org_id), topic_id + SEP + handler_id, doc=_dump(state), version=(expected or 0) + 1
        )
        condition = AlertItem.pk.does_not_exist() if expected is None else AlertItem.version == expected
        return saved_if(item, condition)
