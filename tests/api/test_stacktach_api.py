"""StackTach.v3's API over HTTP: notifications posted, events and streams read back in StackTach's
shapes, streams deleted and reset, and every bad input a clear 4xx in its falcon format; only an
operator's token reaches the cloud-wide data."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest


def _now(minutes: int = 0) -> str:
    return (datetime.now(UTC) - timedelta(minutes=20 - minutes)).strftime("%Y-%m-%d %H:%M:%S.%f")


def _nova(event_type: str, instance: str, minutes: int = 0) -> dict:
    return {
        "message_id": str(uuid.uuid4()),
        "event_type": event_type,
        "publisher_id": "compute.host-1",
        "timestamp": _now(minutes),
        "payload": {"instance_id": instance, "tenant_id": "t1", "memory_mb": 512},
    }


def _post(client, path: str, doc) -> object:
    body = doc if isinstance(doc, bytes) else json.dumps(doc)
    return client.http.post(path, body=body, headers={"Content-Type": "application/json"})


def test_posted_notifications_are_read_back_as_stacktach_shows_them(client) -> None:
    instance = str(uuid.uuid4())
    sent = [
        _nova("compute.instance.create.start", instance),
        _nova("compute.instance.create.end", instance, 1),
    ]
    answer = _post(client, "/v1/notifications", sent)
    assert (answer.status_code, answer.json_body) == (200, {"stored": 2, "duplicates": 0, "dropped": 0})
    assert _post(client, "/v1/notifications", sent[0]).json_body["duplicates"] == 1

    event = client.http.get(f"/v1/events/{sent[1]['message_id']}").json_body
    assert event["event_type"] == "compute.instance.create.end" and event["instance_id"] == instance
    assert event["timestamp"]["__type__"] == "datetime"
    listed = client.http.get(f"/v1/events?traits=instance_id:{instance}").json_body
    assert [e["message_id"] for e in listed] == [sent[1]["message_id"], sent[0]["message_id"]]
    assert all("_mark" in e for e in listed)
    assert client.http.get(f"/v1/events/count?traits=instance_id:{instance}").json_body == [{"count": 2}]

    [stream] = client.http.get(f"/v1/streams?distinguishing_traits=instance_id:{instance}").json_body
    assert stream["name"] == "instance_day" and stream["state"] == "active"
    assert stream["_mark"] == f"{stream['id']:x}"
    [detailed] = client.http.get(f"/v1/streams/{stream['id']}?details=true").json_body
    assert [e["message_id"] for e in detailed["events"]] == [n["message_id"] for n in sent]

    assert client.http.put(f"/v1/streams/{stream['id']}").status_code == 204  # active: as it was
    assert client.http.delete(f"/v1/streams/{stream['id']}").status_code == 204
    assert client.http.get(f"/v1/streams/{stream['id']}").status_code == 404
    assert client.http.get(f"/v1/events/{sent[0]['message_id']}").status_code == 200  # events stay


@pytest.mark.parametrize(
    ("path", "word"),
    [
        ("/v1/streams?older_than=yesterday", "older_than"),
        ("/v1/streams?state=done", "state"),
        ("/v1/streams?mark=zz", "mark"),
        ("/v1/streams?limit=ten", "limit"),
        ("/v1/streams/abc", "stream"),
        ("/v1/events?traits=nocolon", "traits"),
        ("/v1/events?from_datetime=2015-02-28&to_datetime=2015-02-27", "from_datetime"),
    ],
)
def test_bad_input_is_a_400_that_says_what(client, path, word) -> None:
    answer = client.http.get(path)
    assert answer.status_code == 400
    assert answer.json_body["title"] == "Bad Request" and word in answer.json_body["description"]


def test_unknown_ids_and_bad_bodies(client) -> None:
    assert client.http.get(f"/v1/events/{uuid.uuid4()}").status_code == 404
    assert client.http.get("/v1/streams/987654321").status_code == 404
    assert _post(client, "/v1/notifications", b"{nope").status_code == 400
    refused = _post(client, "/v1/notifications", [{"event_type": "compute.instance.update"}])
    assert refused.status_code == 400 and "refused" in refused.json_body["description"]
    override = client.http.post("/v1/streams/1", headers={"X-HTTP-Method-Override": "PATCH"})
    assert override.status_code == 400


def test_only_an_operator_reaches_stacktach(client, anonymous, onboarding) -> None:
    assert anonymous.http.get("/v1/streams").status_code == 401
    org_id = onboarding["org"]["id"]
    scoped = [
        {"action": a, "resource": {"type": "notificationRules", "orgID": org_id}} for a in ("read", "write")
    ]
    token = _post(client, "/api/v2/authorizations", {"orgID": org_id, "permissions": scoped})
    tenant = client.with_token(token.json_body["token"])
    answer = tenant.http.get("/v1/streams")
    assert answer.status_code == 403 and answer.json_body["title"] == "Forbidden"
