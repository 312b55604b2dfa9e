"""Kapacitor's alert topics, events and topic handlers over HTTP: shapes, links, codes and messages as
Kapacitor answers them (services/alert/api.go, server_test.go TestServer_Alert*), under both prefixes,
scoped to the caller's org; events come in through the service tasks call, on the real DynamoDB store."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.alert.events import AlertEvent, Level

_ids = itertools.count()
PREFIXES = ["/kapacitor/v1", "/kapacitor/v1preview"]
TOPICS = "/kapacitor/v1/alerts/topics"


def _topic() -> str:
    return f"topic{next(_ids)}"


def _send(client, method: str, path: str, doc) -> object:
    body = doc if isinstance(doc, bytes) else json.dumps(doc)
    return getattr(client.http, method)(path, body=body, headers={"Content-Type": "application/json"})


def _handler(client, topic: str, handler_id: str = "h", prefix: str = "/kapacitor/v1", **fields) -> dict:
    doc = {"id": handler_id, "kind": "tcp", "options": {"address": "localhost:9"}, **fields}
    response = _send(client, "post", f"{prefix}/alerts/topics/{topic}/handlers", doc)
    assert response.status_code == 200, response.body
    return response.json_body


def _event(event_id: str, level: Level, seconds: int = 0, host: str = "serverA") -> AlertEvent:
    data = {"series": [{"name": "cpu", "tags": {"host": host}, "columns": ["time"], "values": []}]}
    return AlertEvent(
        event_id, f"{event_id} is {level.name}", "details", seconds * 10**9, 0, level, data=data
    )


def _collect(onboarding, topic: str, event: AlertEvent, org_id: str | None = None) -> list[str]:
    from chalicelib import compose

    specs = compose.alert_service().collect(org_id or onboarding["org"]["id"], topic, event)
    return [s.id for s in specs]


def _links(topic: str) -> dict:
    return {
        "link": {"rel": "self", "href": f"{TOPICS}/{topic}"},
        "events-link": {"rel": "events", "href": f"{TOPICS}/{topic}/events"},
        "handlers-link": {"rel": "handlers", "href": f"{TOPICS}/{topic}/handlers"},
    }


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_handler_creates_its_topic(client, prefix):
    topic = _topic()
    created = _handler(client, topic, "myhandler", prefix, options={"channel": "#test"}, kind="slack")
    assert created == {
        "link": {"rel": "self", "href": f"{TOPICS}/{topic}/handlers/myhandler"},
        "id": "myhandler",
        "kind": "slack",
        "options": {"channel": "#test"},
        "match": "",
    }
    response = client.http.get(f"{prefix}/alerts/topics/{topic}")
    assert response.status_code == 200 and response.headers["X-Kapacitor-Version"]
    assert response.json_body == {**_links(topic), "id": topic, "level": "OK", "collected": 0}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_topics_events_and_levels(client, onboarding, prefix):
    topic = _topic()
    _collect(onboarding, topic, _event("cpu", Level.WARNING, 0))
    _collect(onboarding, topic, _event("mem", Level.CRITICAL, 600))
    got = client.http.get(f"{prefix}/alerts/topics/{topic}").json_body
    assert (got["level"], got["collected"]) == ("CRITICAL", 2)

    events = client.http.get(f"{prefix}/alerts/topics/{topic}/events")
    assert events.status_code == 200
    mem = {
        "link": {"rel": "self", "href": f"{TOPICS}/{topic}/events/mem"},
        "id": "mem",
        "state": {
            "message": "mem is CRITICAL",
            "details": "details",
            "time": "1970-01-01T00:10:00Z",
            "duration": "0s",
            "level": "CRITICAL",
        },
    }
    assert events.json_body["link"] == {"rel": "self", "href": f"{TOPICS}/{topic}/events"}
    assert events.json_body["topic"] == topic
    assert [e["id"] for e in events.json_body["events"]] == ["mem", "cpu"]
    assert events.json_body["events"][0] == mem
    critical = client.http.get(f"{prefix}/alerts/topics/{topic}/events?min-level=critical").json_body
    assert critical["events"] == [mem]
    assert client.http.get(f"{prefix}/alerts/topics/{topic}/events/mem").json_body == mem

    _collect(onboarding, topic, _event("mem", Level.OK, 700))
    assert client.http.get(f"{prefix}/alerts/topics/{topic}").json_body["level"] == "WARNING"

    listed = client.http.get(f"{prefix}/alerts/topics?pattern={topic}&min-level=WARNING").json_body
    assert listed == {
        "link": {"rel": "self", "href": f"{prefix}/alerts/topics?pattern={topic}&min-level=WARNING"},
        "topics": [{**_links(topic), "id": topic, "level": "WARNING", "collected": 3}],
    }
    assert (
        client.http.get(f"{prefix}/alerts/topics?pattern={topic}&min-level=CRITICAL").json_body["topics"]
        == []
    )


def test_list_topics_sorted_with_pattern(client, onboarding):
    base = _topic()
    for suffix in ("b", "a", "c"):
        _handler(client, f"{base}{suffix}")
    listed = client.http.get(f"/kapacitor/v1/alerts/topics?pattern={base}%2A").json_body
    assert listed["link"]["href"] == f"/kapacitor/v1/alerts/topics?pattern={base}%2A"
    assert [t["id"] for t in listed["topics"]] == [f"{base}a", f"{base}b", f"{base}c"]
    assert client.http.get("/kapacitor/v1/alerts/topics").json_body["link"]["href"] == TOPICS


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/alerts/topics?pattern=%5B", 400, "invalid pattern: syntax error in pattern"),
        ("/alerts/topics?min-level=FATAL", 400, "unknown alert level 'FATAL'"),
        ("/alerts/topics/nope0", 404, 'unknown topic: "nope0"'),
        ("/alerts/topics/nope0/events", 404, 'failed to get topic events: unknown topic "nope0"'),
        ("/alerts/topics/nope0/events?min-level=x", 400, "unknown alert level 'X'"),
        ("/alerts/topics/nope0/events/cpu", 404, 'unknown event "cpu" in topic "nope0"'),
        ("/alerts/topics/nope0/handlers/h", 404, 'unknown handler: "h"'),
        ("/alerts/topics/nope0/handlers?pattern=%5B", 400, "invalid pattern: syntax error in pattern"),
    ],
)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_get_errors(client, prefix, path, status, message):
    response = client.http.get(prefix + path)
    assert (response.status_code, response.json_body) == (status, {"error": message})
    assert response.headers["X-Kapacitor-Version"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_delete_topic(client, onboarding, prefix):
    topic = _topic()
    _handler(client, topic)
    _collect(onboarding, topic, _event("cpu", Level.CRITICAL))
    assert client.http.delete(f"{prefix}/alerts/topics/{topic}").status_code == 204
    assert client.http.get(f"{prefix}/alerts/topics/{topic}").status_code == 404
    assert client.http.get(f"{prefix}/alerts/topics/{topic}/events/cpu").status_code == 404
    assert client.http.delete(f"{prefix}/alerts/topics/{topic}").status_code == 204  # nothing to delete
    # the topic comes back with the next event, its handlers still registered
    assert _collect(onboarding, topic, _event("cpu", Level.WARNING)) == ["h"]
    assert client.http.get(f"{prefix}/alerts/topics/{topic}").json_body["collected"] == 1


@pytest.mark.parametrize("prefix", PREFIXES)
def test_handlers_crud(client, prefix):
    topic = _topic()
    base = f"{prefix}/alerts/topics/{topic}/handlers"
    for handler_id in ("handler1", "handler0", "other"):
        _handler(client, topic, handler_id, prefix)
    listed = client.http.get(f"{base}?pattern=handler%2A")
    assert listed.status_code == 200
    assert listed.json_body["link"] == {"rel": "self", "href": f"{base}?pattern=handler%2A"}
    assert listed.json_body["topic"] == topic
    assert [h["id"] for h in listed.json_body["handlers"]] == ["handler0", "handler1"]
    assert [h["id"] for h in client.http.get(base).json_body["handlers"]] == ["handler0", "handler1", "other"]
    assert client.http.get(f"{prefix}/alerts/topics/{_topic()}/handlers").json_body["handlers"] == []

    patch = [
        {"op": "replace", "path": "/kind", "value": "log"},
        {"op": "remove", "path": "/options/address"},
        {"op": "add", "path": "/options/path", "value": "/tmp/alert.log"},
    ]
    patched = _send(client, "patch", f"{base}/handler0", patch)
    assert patched.status_code == 200, patched.body
    assert patched.json_body == {
        "link": {"rel": "self", "href": f"{TOPICS}/{topic}/handlers/handler0"},
        "id": "handler0",
        "kind": "log",
        "options": {"path": "/tmp/alert.log"},
        "match": "",
    }
    put = _send(
        client, "put", f"{base}/handler0", {"id": "newid", "kind": "smtp", "options": {"to": ["a@b"]}}
    )
    assert put.status_code == 200, put.body
    assert put.json_body["link"]["href"] == f"{TOPICS}/{topic}/handlers/newid"
    assert client.http.get(f"{base}/handler0").status_code == 404
    assert client.http.get(f"{base}/newid").json_body == put.json_body

    assert client.http.delete(f"{base}/newid").status_code == 204
    assert client.http.delete(f"{base}/newid").status_code == 204
    assert client.http.get(f"{base}/newid").json_body == {"error": 'unknown handler: "newid"'}


@pytest.mark.parametrize(
    ("patch", "status", "message"),
    [
        (
            [{"op": "test", "path": "/id", "value": "x"}],
            400,
            "failed to apply patch: testing value /id failed: test failed",
        ),
        (b"{", 400, "invalid patch json: unexpected end of JSON input"),
        (
            {"op": "add"},
            400,
            "invalid patch json: json: cannot unmarshal object into Go value of type jsonpatch.Patch",
        ),
        ([{"op": "jump", "path": "/id"}], 400, "failed to apply patch: Unexpected kind: jump"),
        (
            [{"op": "remove", "path": "/options/nope"}],
            400,
            "failed to apply patch: error in remove for path: '/options/nope': "
            "Unable to remove nonexistent key: nope: missing value",
        ),
        (
            [{"op": "replace", "path": "/kind", "value": ""}],
            400,
            "invalid handler spec: handler Kind must not be empty",
        ),
        (
            [{"op": "replace", "path": "/topic", "value": "x"}],
            400,
            "failed to update handler: cannot change topic in update",
        ),
        (
            [{"op": "replace", "path": "/kind", "value": "nope"}],
            400,
            'failed to update handler: unsupported action kind "nope"',
        ),
        (
            [{"op": "add", "path": "/options/bogus", "value": 1}],
            400,
            "failed to update handler: failed to decode options into *alert.TCPHandlerConfig: "
            "1 error(s) decoding:\n\n* '' has invalid keys: bogus",
        ),
    ],
)
def test_patch_errors(client, patch, status, message):
    topic = _topic()
    _handler(client, topic)
    response = _send(client, "patch", f"/kapacitor/v1/alerts/topics/{topic}/handlers/h", patch)
    assert (response.status_code, response.json_body) == (status, {"error": message})
    assert client.http.get(f"/kapacitor/v1/alerts/topics/{topic}/handlers/h").json_body["kind"] == "tcp"


def test_patch_and_put_of_an_unknown_handler_are_404(client):
    base = f"/kapacitor/v1/alerts/topics/{_topic()}/handlers/ghost"
    for method in ("patch", "put"):
        response = _send(client, method, base, [] if method == "patch" else {"id": "ghost", "kind": "tcp"})
        assert (response.status_code, response.json_body) == (404, {"error": 'unknown handler: "ghost"'})


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{", 400, "invalid handler json: unexpected EOF"),
        (b"", 400, "invalid handler json: EOF"),
        (
            b'{"id": 5}',
            400,
            "invalid handler json: json: cannot unmarshal number into Go struct field HandlerSpec.id "
            "of type string",
        ),
        ({"id": "x"}, 400, "invalid handler spec: handler Kind must not be empty"),
        (
            {"id": "no/slash", "kind": "tcp"},
            400,
            "invalid handler spec: handler ID must contain only letters, numbers, '-', '.' and '_'. "
            '"no/slash"',
        ),
        ({"id": "x", "kind": "nope"}, 400, 'failed to create handler: unsupported action kind "nope"'),
        (
            {"id": "x", "kind": "exec", "options": {"prog": "/bin/sh"}},
            400,
            'failed to create handler: unsupported action kind "exec": tickless cannot run local processes',
        ),
        (
            {"id": "x", "kind": "log", "options": {"path": "relative"}},
            400,
            "failed to create handler: log path must be absolute: relative is not absolute",
        ),
        (
            {"id": "x", "kind": "tcp", "match": "level() == NOPE"},
            400,
            'failed to create handler: unknown identifier "NOPE"',
        ),
    ],
)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_create_errors(client, prefix, body, status, message):
    response = _send(client, "post", f"{prefix}/alerts/topics/{_topic()}/handlers", body)
    assert (response.status_code, response.json_body) == (status, {"error": message})


def test_create_twice_and_put_errors(client):
    topic = _topic()
    _handler(client, topic, "h")
    _handler(client, topic, "taken")
    again = _send(client, "post", f"/kapacitor/v1/alerts/topics/{topic}/handlers", {"id": "h", "kind": "tcp"})
    assert (again.status_code, again.json_body) == (
        400,
        {"error": 'failed to create handler: cannot register handler, handler with ID "h" already exists'},
    )
    base = f"/kapacitor/v1/alerts/topics/{topic}/handlers/h"
    taken = _send(client, "put", base, {"id": "taken", "kind": "tcp"})
    assert (taken.status_code, taken.json_body) == (
        400,
        {"error": "failed to update handler: handler spec already exists"},
    )
    bad = _send(client, "put", base, b"[")
    assert (bad.status_code, bad.json_body) == (400, {"error": "failed to unmarshal JSON: unexpected EOF"})


def test_collect_returns_matching_handlers(client, onboarding):
    topic = _topic()
    _handler(client, topic, "all")
    _handler(client, topic, "crit_a", match="\"host\" == 'serverA' AND level() == CRITICAL")
    _handler(client, topic, "changes", match="changed()")
    assert _collect(onboarding, topic, _event("id", Level.WARNING, 0, "serverA")) == ["all", "changes"]
    assert _collect(onboarding, topic, _event("id", Level.CRITICAL, 1, "serverB")) == ["all", "changes"]
    assert _collect(onboarding, topic, _event("id", Level.CRITICAL, 2, "serverA")) == ["all", "crit_a"]


def test_concurrent_collects_lose_no_event(client, onboarding):
    topic = _topic()
    events = [_event(f"e{i}", Level.CRITICAL if i % 2 else Level.INFO, i) for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda e: _collect(onboarding, topic, e), events))
    got = client.http.get(f"/kapacitor/v1/alerts/topics/{topic}").json_body
    assert (got["collected"], got["level"]) == (16, "CRITICAL")
    listed = client.http.get(f"/kapacitor/v1/alerts/topics/{topic}/events").json_body["events"]
    assert len(listed) == 16


def test_alerts_need_credentials_and_stay_in_their_org(client, anonymous, onboarding):
    topic = _topic()
    _handler(client, topic)
    _collect(onboarding, topic, _event("cpu", Level.CRITICAL))
    response = anonymous.http.get("/kapacitor/v1/alerts/topics")
    assert (response.status_code, response.json_body) == (
        401,
        {"error": "unable to parse authentication credentials"},
    )

    org = _send(client, "post", "/api/v2/orgs", {"name": f"org{next(_ids)}"})
    assert org.status_code == 201, org.body
    other_org = org.json_body["id"]
    permissions = [
        {"action": a, "resource": {"type": "tasks", "orgID": other_org}} for a in ("read", "write")
    ]
    token = _send(client, "post", "/api/v2/authorizations", {"orgID": other_org, "permissions": permissions})
    stranger = client.with_token(token.json_body["token"])
    assert stranger.http.get("/kapacitor/v1/alerts/topics").json_body["topics"] == []
    assert stranger.http.get(f"/kapacitor/v1/alerts/topics/{topic}").status_code == 404
    assert stranger.http.get(f"/kapacitor/v1/alerts/topics/{topic}/handlers").json_body["handlers"] == []
    assert stranger.http.get(f"/kapacitor/v1/alerts/topics/{topic}/handlers/h").status_code == 404
    assert stranger.http.delete(f"/kapacitor/v1/alerts/topics/{topic}").status_code == 204
    assert stranger.http.delete(f"/kapacitor/v1/alerts/topics/{topic}/handlers/h").status_code == 204
    assert (
        client.http.get(f"/kapacitor/v1/alerts/topics/{topic}").json_body["level"] == "CRITICAL"
    )  # untouched
    assert client.http.get(f"/kapacitor/v1/alerts/topics/{topic}/handlers/h").status_code == 200
    assert _collect(onboarding, topic, _event("cpu", Level.OK), org_id=other_org) == []  # its own topic


def test_writing_handlers_needs_the_write_permission(client, onboarding):
    org_id = onboarding["org"]["id"]
    read = [{"action": "read", "resource": {"type": "tasks", "orgID": org_id}}]
    token = _send(client, "post", "/api/v2/authorizations", {"orgID": org_id, "permissions": read})
    reader = client.with_token(token.json_body["token"])
    topic = _topic()
    assert reader.http.get(f"/kapacitor/v1/alerts/topics/{topic}/handlers").status_code == 200
    refused = _send(
        reader, "post", f"/kapacitor/v1/alerts/topics/{topic}/handlers", {"id": "h", "kind": "tcp"}
    )
    assert (refused.status_code, refused.json_body) == (
        403,
        {"error": "insufficient permissions to write tasks"},
    )


def test_an_event_arriving_late_never_replaces_a_later_one(client, onboarding):
    topic = _topic()
    _collect(onboarding, topic, _event("cpu", Level.OK, 5))  # the recovery arrives first
    _collect(onboarding, topic, _event("cpu", Level.CRITICAL, 3))  # the queue delivered this one late
    got = client.http.get(f"/kapacitor/v1/alerts/topics/{topic}/events/cpu").json_body
    assert got["state"]["level"] == "OK"
