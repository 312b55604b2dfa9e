"""Alert topics as Kapacitor's alert service keeps them: per topic the state of each event id and a
collected count, the topic's level being the highest level among its events; the list filters (`pattern`
with Go's path.Match, `min-level`) and the JSON shapes of /kapacitor/v1/alerts/topics. Plain data; storage
is an adapter's concern."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.levels import parse_level
from chalicelib.kit.errors import NOT_FOUND, TicklessError, invalid, not_found
from chalicelib.kit.gopath import go_match
from chalicelib.kit.gotemplate import go_quote
from chalicelib.kit.time import format_rfc3339nano, go_duration

TOPICS_PATH = "/kapacitor/v1/alerts/topics"


def anonymous_topic(task: str, node: str) -> str:
    """The topic a task's alert node sends to when it has handlers of its own: `main:<task>:<node>`."""
    return f"main:{task}:{node}"


@dataclass(slots=True)
class EventState:
    """The last state of one event id in a topic."""

    id: str
    message: str
    details: str
    time: int  # ns
    duration: int  # ns
    level: Level

    @classmethod
    def of(cls, event: AlertEvent) -> EventState:
        return cls(event.id, event.message, event.details, event.time, event.duration, event.level)

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message": self.message,
            "details": self.details,
            "time": self.time,
            "duration": self.duration,
            "level": int(self.level),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> EventState:
        return cls(
            str(state["id"]),
            str(state.get("message", "")),
            str(state.get("details", "")),
            int(state["time"]),
            int(state.get("duration", 0)),
            Level(int(state["level"])),
        )

    def json(self) -> dict[str, Any]:
        """client.EventState: the duration as Go prints a time.Duration."""
        return {
            "message": self.message,
            "details": self.details,
            "time": format_rfc3339nano(self.time),
            "duration": go_duration(self.duration),
            "level": self.level.name,
        }


@dataclass(slots=True)
class TopicState:
    id: str
    events: dict[str, EventState] = field(default_factory=dict)
    collected: int = 0

    @property
    def level(self) -> Level:
        return max((e.level for e in self.events.values()), default=Level.OK)

    def collect(self, event: AlertEvent) -> EventState | None:
        """Record an event sent to this topic; returns the event id's previous state (its level is the
        event's previousLevel), None for a first event."""
        previous = self.update(EventState.of(event))
        self.collected += 1
        return previous

    def update(self, state: EventState) -> EventState | None:
        previous = self.events.get(state.id)
        self.events[state.id] = state
        return previous

    def event_states(self, min_level: Level = Level.OK) -> list[EventState]:
        """The events at or above `min_level`, highest level first, then by id."""
        chosen = [e for e in self.events.values() if e.level >= min_level]
        return sorted(chosen, key=lambda e: (-e.level, e.id))

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "collected": self.collected,
            "events": [e.to_state() for e in self.events.values()],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TopicState:
        events = [EventState.from_state(e) for e in state.get("events", [])]
        return cls(str(state["id"]), {e.id: e for e in events}, int(state.get("collected", 0)))


# ----------------------------------------------------------------------------------------- path.Match


def validate_pattern(pattern: str) -> None:
    """The `pattern` query parameter: a 400 `invalid pattern: syntax error in pattern` when malformed."""
    try:
        go_match(pattern, "")
    except ValueError:
        raise invalid("invalid pattern: syntax error in pattern") from None


def pattern_match(pattern: str, name: str) -> bool:
    """alert.PatternMatch: an empty pattern matches everything; a malformed one nothing."""
    if not pattern:
        return True
    try:
        return go_match(pattern, name)
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------- JSON


def _link(rel: str, *parts: str) -> dict[str, str]:
    return {"rel": rel, "href": posixpath.normpath(posixpath.join(TOPICS_PATH, *parts))}


def topic_json(topic: TopicState) -> dict[str, Any]:
    """GET /kapacitor/v1/alerts/topics/<id>."""
    return {
        "link": _link("self", topic.id),
        "id": topic.id,
        "level": topic.level.name,
        "collected": topic.collected,
        "events-link": _link("events", topic.id, "events"),
        "handlers-link": _link("handlers", topic.id, "handlers"),
    }


def list_topics_json(
    topics: list[TopicState], pattern: str = "", min_level: str = "", href: str = TOPICS_PATH
) -> dict[str, Any]:
    """GET /kapacitor/v1/alerts/topics: `href` is the request URL (with its query), echoed as self link."""
    validate_pattern(pattern)
    level = parse_level(min_level)
    chosen = [t for t in topics if pattern_match(pattern, t.id) and t.level >= level]
    return {
        "link": {"rel": "self", "href": href},
        "topics": [topic_json(t) for t in sorted(chosen, key=lambda t: t.id)],
    }


def event_json(topic_id: str, event: EventState) -> dict[str, Any]:
    """GET /kapacitor/v1/alerts/topics/<topic>/events/<event>."""
    return {"link": _link("self", topic_id, "events", event.id), "id": event.id, "state": event.json()}


def events_json(topic: TopicState, min_level: str = "") -> dict[str, Any]:
    """GET /kapacitor/v1/alerts/topics/<topic>/events."""
    level = parse_level(min_level)
    return {
        "link": _link("self", topic.id, "events"),
        "topic": topic.id,
        "events": [event_json(topic.id, e) for e in topic.event_states(level)],
    }


def unknown_topic(topic_id: str) -> TicklessError:
    """GET of a topic that does not exist: 404."""
    return not_found(f"unknown topic: {_go_q(topic_id)}")


def unknown_topic_events(topic_id: str) -> TicklessError:
    """Listing the events of a topic that does not exist: 404 (Kapacitor answers 500; docs/DECISIONS.md)."""
    return TicklessError(NOT_FOUND, f"failed to get topic events: unknown topic {_go_q(topic_id)}")


def unknown_event(topic_id: str, event_id: str) -> TicklessError:
    return not_found(f"unknown event {_go_q(event_id)} in topic {_go_q(topic_id)}")


def _go_q(text: str) -> str:
    return go_quote(text)
