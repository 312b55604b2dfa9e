"""Events and streams as the store keeps them: JSON documents that give back the same objects
(datetimes and time ranges with StackTach's type hints; a stream's own bookkeeping kept too)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.stacktach.distiller import Event, Trait, TraitType
from chalicelib.stacktach.streams import Stream, StreamState, decode_value, encode_value
from chalicelib.stacktach.timex import TimeRange


def event_doc(event: Event) -> dict[str, Any]:
    return {
        "message_id": event.message_id,
        "event_type": event.event_type,
        "when": event.when.isoformat(),
        "traits": [[t.name, str(t.type), encode_value(t.value)] for t in event.traits.values()],
    }


def event_of(doc: dict[str, Any]) -> Event:
    traits = {
        name: Trait(name, TraitType(kind), _aware(decode_value(value)))
        for name, kind, value in doc.get("traits") or []
    }
    return Event(doc["message_id"], doc["event_type"], datetime.fromisoformat(doc["when"]), traits)


def stream_doc(stream: Stream, version: int) -> dict[str, Any]:
    return {
        "id": stream.id,
        "trigger_name": stream.trigger_name,
        "first_event": stream.first_event.isoformat(),
        "last_event": stream.last_event.isoformat(),
        "expire_timestamp": stream.expire_timestamp.isoformat(),
        "fire_timestamp": stream.fire_timestamp.isoformat() if stream.fire_timestamp else None,
        "distinguishing_traits": {k: encode_value(v) for k, v in stream.distinguishing_traits.items()},
        "state": str(stream.state),
        "state_serial_no": stream.state_serial_no,
        "state_changed_at": stream.state_changed_at.isoformat() if stream.state_changed_at else None,
        "event_count": stream.event_count,
        "fire_counts": list(stream.fire_counts),
        "version": version,  # the store's condition: one save per version
        # the store files the stream under this time for the pipeline worker (none: nothing left to do)
        "due": due.isoformat() if (due := stream.next_due()) else None,
    }


def stream_of(doc: dict[str, Any]) -> Stream:
    def when(key: str) -> datetime | None:
        return datetime.fromisoformat(doc[key]) if doc.get(key) else None

    return Stream(
        id=int(doc["id"]),
        trigger_name=doc["trigger_name"],
        first_event=when("first_event"),  # type: ignore[arg-type]
        last_event=when("last_event"),  # type: ignore[arg-type]
        expire_timestamp=when("expire_timestamp"),  # type: ignore[arg-type]
        distinguishing_traits={k: _aware(decode_value(v)) for k, v in doc["distinguishing_traits"].items()},
        state=StreamState(doc["state"]),
        fire_timestamp=when("fire_timestamp"),
        state_serial_no=int(doc.get("state_serial_no", 0)),
        state_changed_at=when("state_changed_at"),
        event_count=int(doc.get("event_count", 0)),
        fire_counts=tuple(int(n) for n in doc.get("fire_counts") or ()),
    )


def _aware(value: Any) -> Any:
    """Decoded datetimes and time ranges come back naive (StackTach's JSON has no zone): they are UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if isinstance(value, TimeRange):
        return TimeRange(_aware(value.begin), _aware(value.end))
    return value
