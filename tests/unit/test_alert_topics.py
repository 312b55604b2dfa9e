"""Alert topics: state, filters and the JSON of /kapacitor/v1/alerts/topics."""

from __future__ import annotations

import json

import pytest

from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.topics import (
    EventState,
    TopicState,
    anonymous_topic,
    event_json,
    events_json,
    list_topics_json,
    pattern_match,
    topic_json,
    unknown_event,
    unknown_topic,
    unknown_topic_events,
    validate_pattern,
)
from chalicelib.kit.errors import TicklessError

S = 10**9
DEC1 = 1_480_550_400 * S  # 2016-12-01T00:00:00Z


def event(id: str, level: Level, time: int = DEC1, duration: int = 0) -> AlertEvent:
    return AlertEvent(id, f"{id} is {level.name}", "", time, duration, level)


def system() -> TopicState:
    topic = TopicState("system")
    topic.collect(event("cpu", Level.WARNING, DEC1, 5 * 60 * S))
    topic.collect(event("mem", Level.CRITICAL, DEC1 + 600 * S, 60 * S))
    return topic


def test_anonymous_topic_name() -> None:
    assert anonymous_topic("cpu_alert", "alert2") == "main:cpu_alert:alert2"


def test_topic_level_is_highest_event_level_and_collect_returns_previous() -> None:
    topic = TopicState("t")
    assert topic.level == Level.OK
    assert topic.collect(event("a", Level.WARNING)) is None
    previous = topic.collect(event("a", Level.CRITICAL))
    assert previous is not None and previous.level == Level.WARNING
    topic.collect(event("b", Level.INFO))
    assert topic.level == Level.CRITICAL and topic.collected == 3
    topic.collect(event("a", Level.OK))
    assert topic.level == Level.INFO


def test_topic_json() -> None:
    assert topic_json(system()) == {
        "link": {"rel": "self", "href": "/kapacitor/v1/alerts/topics/system"},
        "id": "system",
        "level": "CRITICAL",
        "collected": 2,
        "events-link": {"rel": "events", "href": "/kapacitor/v1/alerts/topics/system/events"},
        "handlers-link": {"rel": "handlers", "href": "/kapacitor/v1/alerts/topics/system/handlers"},
    }


def test_list_topics_filters_and_sorts() -> None:
    app = TopicState("app")
    app.collect(event("x", Level.OK))
    topics = [system(), app, TopicState("main:task:alert2")]
    listed = list_topics_json(topics)
    assert listed["link"] == {"rel": "self", "href": "/kapacitor/v1/alerts/topics"}
    assert [t["id"] for t in listed["topics"]] == ["app", "main:task:alert2", "system"]
    warning = list_topics_json(
        topics, min_level="WARNING", href="/kapacitor/v1/alerts/topics?min-level=WARNING"
    )
    assert [t["id"] for t in warning["topics"]] == ["system"]
    assert warning["link"]["href"] == "/kapacitor/v1/alerts/topics?min-level=WARNING"
    assert [t["id"] for t in list_topics_json(topics, pattern="main:*")["topics"]] == ["main:task:alert2"]


def test_list_topics_bad_filters() -> None:
    with pytest.raises(TicklessError) as info:
        list_topics_json([], pattern="[")
    assert (info.value.status, info.value.message) == (400, "invalid pattern: syntax error in pattern")
    with pytest.raises(TicklessError) as info:
        list_topics_json([], min_level="bad")
    assert (info.value.status, info.value.message) == (400, "unknown alert level 'BAD'")


def test_events_json() -> None:
    assert events_json(system()) == {
        "link": {"rel": "self", "href": "/kapacitor/v1/alerts/topics/system/events"},
        "topic": "system",
        "events": [
            {
                "link": {"rel": "self", "href": "/kapacitor/v1/alerts/topics/system/events/mem"},
                "id": "mem",
                "state": {
                    "message": "mem is CRITICAL",
                    "details": "",
                    "time": "2016-12-01T00:10:00Z",
                    "duration": "1m0s",
                    "level": "CRITICAL",
                },
            },
            {
                "link": {"rel": "self", "href": "/kapacitor/v1/alerts/topics/system/events/cpu"},
                "id": "cpu",
                "state": {
                    "message": "cpu is WARNING",
                    "details": "",
                    "time": "2016-12-01T00:00:00Z",
                    "duration": "5m0s",
                    "level": "WARNING",
                },
            },
        ],
    }
    assert [e["id"] for e in events_json(system(), "critical")["events"]] == ["mem"]


def test_event_json() -> None:
    state = system().events["cpu"]
    assert event_json("system", state)["link"]["href"] == "/kapacitor/v1/alerts/topics/system/events/cpu"
    assert event_json("system", state)["id"] == "cpu"


def test_not_found_errors() -> None:
    assert (unknown_topic("x").status, unknown_topic("x").message) == (404, 'unknown topic: "x"')
    assert unknown_event("t", "e").message == 'unknown event "e" in topic "t"'
    assert (unknown_topic_events("x").status, unknown_topic_events("x").message) == (
        404,
        'failed to get topic events: unknown topic "x"',
    )


@pytest.mark.parametrize(
    ("pattern", "name", "matched"),
    [
        ("", "anything", True),
        ("*", "main:task:alert2", True),
        ("main:*", "main:task:alert2", True),
        ("*", "a/b", False),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("[a-c]x", "bx", True),
        ("[^a-c]x", "bx", False),
        ("[!a]x", "!x", True),
        ("a\\*", "a*", True),
        ("a\\*", "ab", False),
        ("sys", "system", False),
        ("[", "[", False),
        ("[z-a]", "m", False),  # Go accepts a reversed range, which matches nothing
    ],
)
def test_pattern_match(pattern: str, name: str, matched: bool) -> None:
    assert pattern_match(pattern, name) is matched


@pytest.mark.parametrize("pattern", ["[", "[]a]", "a\\", "[a-]"])
def test_bad_patterns(pattern: str) -> None:
    with pytest.raises(TicklessError):
        validate_pattern(pattern)


def test_topic_state_round_trips() -> None:
    topic = system()
    restored = TopicState.from_state(json.loads(json.dumps(topic.to_state())))
    assert restored == topic
    assert EventState.from_state(topic.events["cpu"].to_state()) == topic.events["cpu"]
