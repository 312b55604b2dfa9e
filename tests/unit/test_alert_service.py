"""The alert service over an in-memory store: collect (topic state, previous level, match), handler CRUD
with Kapacitor's texts and statuses, and JSON patches as Kapacitor's json-patch applies them."""

from __future__ import annotations

import json

import pytest

from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.handler_specs import HandlerSpec
from chalicelib.alert.service import AlertService, apply_patch
from chalicelib.alert.topics import EventState, TopicState
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.gojson import go_json_error
from chalicelib.tick.matching import TickMatcher, compile_match, matches

ORG = "0000000000000001"
OTHER = "0000000000000002"


class MemoryAlerts:
    def __init__(self) -> None:
        self.topic_states: dict[tuple[str, str], TopicState] = {}
        self.specs: dict[tuple[str, str, str], HandlerSpec] = {}

    def topics(self, org_id):
        return [t for (org, _), t in self.topic_states.items() if org == org_id]

    def topic(self, org_id, topic_id):
        return self.topic_states.get((org_id, topic_id))

    def ensure_topic(self, org_id, topic_id):
        self.topic_states.setdefault((org_id, topic_id), TopicState(topic_id))

    def record(self, org_id, topic_id, state):
        topic = self.topic_states.setdefault((org_id, topic_id), TopicState(topic_id))
        topic.collected += 1
        return topic.update(state)

    def delete_topic(self, org_id, topic_id):
        self.topic_states.pop((org_id, topic_id), None)

    def handlers(self, org_id, topic_id):
        found = [s for (org, t, _), s in self.specs.items() if org == org_id and t == topic_id]
        return sorted(found, key=lambda s: s.id)

    def handler(self, org_id, topic_id, handler_id):
        return self.specs.get((org_id, topic_id, handler_id))

    def create_handler(self, org_id, spec):
        key = (org_id, spec.topic, spec.id)
        if key in self.specs:
            return False
        self.specs[key] = spec
        return True

    def replace_handler(self, org_id, spec):
        self.specs[(org_id, spec.topic, spec.id)] = spec

    def delete_handler(self, org_id, topic_id, handler_id):
        self.specs.pop((org_id, topic_id, handler_id), None)


def _event(level: Level, id: str = "cpu", tags: dict | None = None, **fields) -> AlertEvent:
    data = {"series": [{"name": "cpu", "tags": tags or {"host": "serverA"}, "columns": [], "values": []}]}
    return AlertEvent(id, f"{id} is {level.name}", "", 10**9, 0, level, data=data, task="t1", **fields)


def _spec(handler_id: str, match: str = "", kind: str = "tcp") -> bytes:
    options = {"address": "localhost:9"} if kind == "tcp" else {}
    return json.dumps({"id": handler_id, "kind": kind, "options": options, "match": match}).encode()


@pytest.fixture
def service() -> AlertService:
    return AlertService(MemoryAlerts(), TickMatcher())


def _error(call, *args) -> TicklessError:
    with pytest.raises(TicklessError) as info:
        call(*args)
    return info.value


# -- collect ----------------------------------------------------------------------------------------


def test_collect_records_the_event_state_and_counts(service):
    assert service.collect(ORG, "system", _event(Level.WARNING)) == []
    service.collect(ORG, "system", _event(Level.CRITICAL, "mem"))
    service.collect(ORG, "system", _event(Level.OK, "mem"))
    topic = service.topic(ORG, "system")
    assert topic.collected == 3
    assert topic.level == Level.WARNING  # the highest of its events
    assert topic.events["mem"].level == Level.OK
    assert service.event(ORG, "system", "cpu").message == "cpu is WARNING"
    assert _error(service.topic, OTHER, "system").status == 404


def test_collect_answers_the_handlers_whose_match_holds(service):
    service.create_handler(ORG, "system", _spec("always"))
    service.create_handler(ORG, "system", _spec("crit", "level() == CRITICAL"))
    service.create_handler(ORG, "system", _spec("changes", "changed()"))
    service.create_handler(ORG, "system", _spec("hostb", "\"host\" == 'serverB'"))
    ids = lambda specs: [s.id for s in specs]  # noqa: E731
    assert ids(service.collect(ORG, "system", _event(Level.WARNING))) == ["always", "changes"]
    assert ids(service.collect(ORG, "system", _event(Level.WARNING))) == ["always"]
    assert ids(service.collect(ORG, "system", _event(Level.CRITICAL))) == ["always", "changes", "crit"]
    hostb = _event(Level.CRITICAL, tags={"host": "serverB"})
    assert ids(service.collect(ORG, "system", hostb)) == ["always", "crit", "hostb"]
    assert service.collect(ORG, "other", _event(Level.CRITICAL)) == []


def test_the_first_event_of_an_id_changes_from_ok(service):
    service.create_handler(ORG, "t", _spec("changes", "changed()"))
    assert service.collect(ORG, "t", _event(Level.OK)) == []
    assert [s.id for s in service.collect(ORG, "t", _event(Level.INFO))] == ["changes"]


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ("level() == CRITICAL", True),
        ("level() > WARNING AND changed()", True),
        ("level() < CRITICAL", False),
        ("name() == 'cpu'", True),
        ("taskName() == 't1'", True),
        ("alertDuration() > 1m", True),
        ("alertDuration() > 10m", False),
        ("\"host\" == 'serverA'", True),
        ('"host" =~ /^server/ AND "dc" == \'x\'', False),  # a missing tag fails the match
        ("\"missing\" == 'x' OR TRUE", False),
        ("level() == 'x'", False),  # a type error does not match
    ],
)
def test_match(match, expected):
    event = _event(Level.CRITICAL)
    event.duration = 5 * 60 * 10**9
    assert matches(compile_match(match), event, Level.WARNING) is expected


def test_match_expressions_are_checked_when_created(service):
    err = _error(service.create_handler, ORG, "t", _spec("h", "level() == FATAL"))
    assert (err.status, err.message) == (400, 'failed to create handler: unknown identifier "FATAL"')
    err = _error(service.create_handler, ORG, "t", _spec("h", "level() =="))
    assert err.status == 400 and err.message.startswith(
        "failed to create handler: invalid match expression: "
    )


# -- handler CRUD -----------------------------------------------------------------------------------


def test_create_get_list_and_delete(service):
    created = service.create_handler(ORG, "system", _spec("b"))
    assert created.to_json() == {
        "link": {"rel": "self", "href": "/kapacitor/v1/alerts/topics/system/handlers/b"},
        "id": "b",
        "kind": "tcp",
        "options": {"address": "localhost:9"},
        "match": "",
    }
    service.create_handler(ORG, "system", _spec("a"))
    assert [s.id for s in service.handlers(ORG, "system")] == ["a", "b"]
    assert [s.id for s in service.handlers(ORG, "system", "b*")] == ["b"]
    assert service.topic(ORG, "system").level == Level.OK  # registering a handler creates the topic
    assert service.handlers(OTHER, "system") == []
    service.delete_handler(ORG, "system", "a")
    service.delete_handler(ORG, "system", "a")
    err = _error(service.handler, ORG, "system", "a")
    assert (err.status, err.message) == (404, 'unknown handler: "a"')


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 400, "invalid handler json: EOF"),
        (b"{", 400, "invalid handler json: unexpected EOF"),
        (b"x", 400, "invalid handler json: invalid character 'x' looking for beginning of value"),
        (
            b"[1]",
            400,
            "invalid handler json: json: cannot unmarshal array into Go value of type alert.HandlerSpec",
        ),
        (b'{"id":"x"}', 400, "invalid handler spec: handler Kind must not be empty"),
        (
            b'{"id":"a b","kind":"tcp"}',
            400,
            "invalid handler spec: handler ID must contain only letters, numbers, '-', '.' and '_'. \"a b\"",
        ),
        (b'{"id":"x","kind":"nope"}', 400, 'failed to create handler: unsupported action kind "nope"'),
        (
            b'{"id":"x","kind":"exec"}',
            400,
            'failed to create handler: unsupported action kind "exec": tickless cannot run local processes',
        ),
    ],
)
def test_create_refusals(service, body, status, message):
    err = _error(service.create_handler, ORG, "t", body)
    assert (err.status, err.message) == (status, message)


def test_create_twice(service):
    service.create_handler(ORG, "t", _spec("h"))
    err = _error(service.create_handler, ORG, "t", _spec("h"))
    assert err.status == 400
    assert (
        err.message == 'failed to create handler: cannot register handler, handler with ID "h" already exists'
    )


def test_put_replaces_and_may_rename(service):
    service.create_handler(ORG, "t", _spec("h"))
    service.create_handler(ORG, "t", _spec("taken"))
    put = service.replace_handler(ORG, "t", "h", b'{"id":"new","kind":"smtp","options":{"to":["a@b"]}}')
    assert (put.id, put.kind, put.options) == ("new", "smtp", {"to": ["a@b"]})
    assert [s.id for s in service.handlers(ORG, "t")] == ["new", "taken"]
    err = _error(service.replace_handler, ORG, "t", "new", _spec("taken"))
    assert (err.status, err.message) == (400, "failed to update handler: handler spec already exists")
    err = _error(service.replace_handler, ORG, "t", "gone", _spec("x"))
    assert (err.status, err.message) == (404, 'unknown handler: "gone"')
    err = _error(service.replace_handler, ORG, "t", "new", b"{")
    assert (err.status, err.message) == (400, "failed to unmarshal JSON: unexpected EOF")


def test_patch(service):
    service.create_handler(ORG, "system", b'{"id":"h","kind":"slack","options":{"channel":"#test"}}')
    patch = [
        {"op": "replace", "path": "/kind", "value": "log"},
        {"op": "remove", "path": "/options/channel"},
        {"op": "add", "path": "/options/path", "value": "/tmp/alert.log"},
    ]
    patched = service.patch_handler(ORG, "system", "h", json.dumps(patch).encode())
    assert (patched.kind, patched.options) == ("log", {"path": "/tmp/alert.log"})
    assert service.handler(ORG, "system", "h").kind == "log"
    err = _error(service.patch_handler, ORG, "system", "h", b'[{"op":"replace","path":"/topic","value":"x"}]')
    assert (err.status, err.message) == (400, "failed to update handler: cannot change topic in update")


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (b"{", "invalid patch json: unexpected end of JSON input"),
        (b"{}", "invalid patch json: json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        (
            b'["x"]',
            "invalid patch json: json: cannot unmarshal string into Go value of type jsonpatch.Operation",
        ),
        (
            b'[{"op":"test","path":"/id","value":"other"}]',
            "failed to apply patch: testing value /id failed: test failed",
        ),
        (b'[{"op":"bogus","path":"/id"}]', "failed to apply patch: Unexpected kind: bogus"),
        (
            b'[{"op":"remove","path":"/options/nope"}]',
            "failed to apply patch: error in remove for path: '/options/nope': Unable to remove nonexistent "
            "key: nope: missing value",
        ),
        (
            b'[{"op":"add","path":"/a/b","value":1}]',
            'failed to apply patch: add operation does not apply: doc is missing path: "/a/b": missing value',
        ),
    ],
)
def test_patch_refusals(patch, message):
    with pytest.raises(TicklessError) as info:
        apply_patch({"id": "h", "topic": "t", "kind": "tcp", "options": {"a": 1}, "match": ""}, patch)
    assert (info.value.status, info.value.message) == (400, message)


def test_patch_replace_of_a_missing_member_sets_it():
    doc = {"id": "h", "options": {}}
    assert apply_patch(doc, b'[{"op":"replace","path":"/options/x","value":1}]') == {
        "id": "h",
        "options": {"x": 1},
    }


def test_patch_result_that_is_not_a_spec_is_refused(service):
    service.create_handler(ORG, "t", _spec("h"))
    err = _error(service.patch_handler, ORG, "t", "h", b'[{"op":"replace","path":"/kind","value":5}]')
    assert err.status == 400
    assert err.message == (
        "failed to unmarshal patched json: json: cannot unmarshal number into Go struct field "
        "HandlerSpec.kind of type string"
    )


# -- topics -----------------------------------------------------------------------------------------


def test_events_of_unknown_topics_and_delete(service):
    err = _error(service.topic_events, ORG, "nope")
    assert (err.status, err.message) == (404, 'failed to get topic events: unknown topic "nope"')
    err = _error(service.event, ORG, "nope", "cpu")
    assert (err.status, err.message) == (404, 'unknown event "cpu" in topic "nope"')
    service.create_handler(ORG, "t", _spec("h"))
    service.collect(ORG, "t", _event(Level.CRITICAL))
    service.delete_topic(ORG, "t")
    assert _error(service.topic, ORG, "t").status == 404
    assert [s.id for s in service.handlers(ORG, "t")] == ["h"]  # handler specs outlive the topic
    assert [s.id for s in service.collect(ORG, "t", _event(Level.CRITICAL))] == ["h"]
    assert service.topic(ORG, "t").collected == 1


def test_go_json_errors():
    assert go_json_error(b'{"a":1} trailing', stream=True) is None
    assert go_json_error(b'{"a":1} x', stream=False) == "invalid character 'x' after top-level value"
    assert go_json_error(b'{"a" 1}', stream=True) == "invalid character '1' after object key"
    assert go_json_error(b'{"a":1 "b"}', stream=True) == "invalid character '\"' after object key:value pair"
    assert go_json_error(b"[1 2]", stream=True) == "invalid character '2' after array element"
    assert (
        go_json_error(b"{x}", stream=True)
        == "invalid character 'x' looking for beginning of object key string"
    )


def test_event_state_round_trip():
    state = EventState("cpu", "m", "d", 1, 2, Level.INFO)
    assert EventState.from_state(state.to_state()) == state
