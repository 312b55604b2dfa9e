"""`/kapacitor/v1/recordings` and `/replays` over HTTP: creation answers at once with Kapacitor's shapes
(the execution runs on), and every bad request gets Kapacitor's 4xx and words, never a 500: bad JSON,
bad ids, unknown tasks and recordings, missing times and queries, bad clocks, wrong task types; each
organization sees only its own."""

from __future__ import annotations

import itertools
import json

import pytest

_ids = itertools.count()
STREAM = "stream\n    |from()\n        .measurement('cpu')\n    |httpOut('out')\n"
BATCH = """batch
    |query('SELECT mean(v) FROM "db"."autogen"."cpu"')
        .period(10s)
        .every(10s)
"""


def _post(client, path: str, doc) -> object:
    body = doc if isinstance(doc, bytes) else json.dumps(doc)
    return client.http.post(f"/kapacitor/v1{path}", body=body, headers={"Content-Type": "application/json"})


def _own_org(client) -> object:
    org = client.http.post(
        "/api/v2/orgs",
        body=json.dumps({"name": f"rec{next(_ids)}"}),
        headers={"Content-Type": "application/json"},
    ).json_body["id"]
    permissions = [{"action": a, "resource": {"type": "tasks", "orgID": org}} for a in ("read", "write")]
    token = client.http.post(
        "/api/v2/authorizations",
        body=json.dumps({"orgID": org, "permissions": permissions}),
        headers={"Content-Type": "application/json"},
    )
    return client.with_token(token.json_body["token"])


def _task(client, script: str = STREAM) -> str:
    task_id = f"t{next(_ids)}"
    doc = {"id": task_id, "script": script, "dbrps": [{"db": "db", "rp": "autogen"}]}
    assert _post(client, "/tasks", doc).status_code == 200
    return task_id


def test_a_stream_recording_starts_running_and_is_listed(client):
    mine = _own_org(client)
    task = _task(mine)
    created = _post(
        mine, "/recordings/stream", {"id": "r-1.x_y", "task": task, "stop": "2030-01-01T00:00:00Z"}
    )
    assert created.status_code == 201, created.body
    body = created.json_body
    assert body["link"] == {"rel": "self", "href": "/kapacitor/v1/recordings/r-1.x_y"}
    assert (body["id"], body["type"], body["status"], body["size"], body["error"]) == (
        "r-1.x_y",
        "stream",
        "running",
        0,
        "",
    )
    shown = mine.http.get("/kapacitor/v1/recordings/r-1.x_y")
    assert shown.status_code == 202 and shown.json_body["status"] == "running"
    listed = mine.http.get("/kapacitor/v1/recordings").json_body
    assert [r["id"] for r in listed["recordings"]] == ["r-1.x_y"]
    assert _post(mine, "/recordings/stream", {"id": "r-1.x_y", "task": task}).status_code == 409
    # another organization sees nothing of it
    other = _own_org(client)
    assert other.http.get("/kapacitor/v1/recordings/r-1.x_y").status_code == 404
    assert other.http.get("/kapacitor/v1/recordings").json_body == {"recordings": []}
    # deleting a running recording stops it
    assert mine.http.delete("/kapacitor/v1/recordings/r-1.x_y").status_code == 204
    assert mine.http.get("/kapacitor/v1/recordings/r-1.x_y").status_code == 404
    assert mine.http.delete("/kapacitor/v1/recordings/r-1.x_y").status_code == 204  # as Kapacitor


@pytest.mark.parametrize(
    ("path", "doc", "status", "says"),
    [
        ("/recordings/stream", b"{", 400, ""),
        ("/recordings/stream", {"id": "a b", "task": "t"}, 400, "recording ID must contain only letters"),
        ("/recordings/stream", {"task": "nope"}, 404, "no task exists"),
        ("/recordings/batch", {"task": "nope"}, 400, "must provide start time"),
        ("/recordings/batch", {"task": "nope", "start": "1970-01-01T00:00:00Z"}, 404, "no task exists"),
        ("/recordings/query", {"type": "stream"}, 400, "must provide query"),
        ("/recordings/query", {"query": "SELECT v FROM cpu", "type": "stream"}, 400, "fully qualified"),
        ("/replays", {"task": "nope", "recording": "nope"}, 404, "task load: no task exists"),
        ("/replays/batch", {"task": "nope"}, 404, "task load: no task exists"),
        ("/replays/query", {"task": "nope"}, 400, "must provide query"),
    ],
)
def test_bad_requests_get_kapacitors_answers(client, path, doc, status, says):
    mine = _own_org(client)
    answer = _post(mine, path, doc)
    assert answer.status_code == status, answer.body
    assert set(answer.json_body) == {"error"} and says in answer.json_body["error"]


def test_replays_check_their_task_recording_and_clock(client):
    mine = _own_org(client)
    stream_task, batch_task = _task(mine), _task(mine, BATCH)
    missing = _post(mine, "/replays", {"task": stream_task, "recording": "nope"})
    assert missing.status_code == 404 and missing.json_body["error"].startswith("recording not found")
    running = _post(mine, "/recordings/stream", {"task": stream_task, "stop": "2030-01-01T00:00:00Z"})
    unfinished = _post(mine, "/replays", {"task": stream_task, "recording": running.json_body["id"]})
    assert unfinished.status_code == 400 and "not finished" in unfinished.json_body["error"]
    clock = _post(mine, "/replays/batch", {"task": batch_task, "clock": "slow"})
    assert clock.status_code == 400 and clock.json_body["error"] == "unknown Clock slow"
    wrong = _post(mine, "/replays/batch", {"task": stream_task, "start": "1970-01-01T00:00:00Z"})
    assert wrong.status_code == 400
    assert wrong.json_body["error"] == f"cannot replay batch against stream task: {stream_task}"
    assert mine.http.get("/kapacitor/v1/replays/nope").status_code == 404
    assert mine.http.delete("/kapacitor/v1/replays/nope").status_code == 204
    assert mine.http.get("/kapacitor/v1/replays").json_body == {"replays": []}


def test_lists_take_kapacitors_paging_and_fields(client):
    mine = _own_org(client)
    task = _task(mine)
    for name in ("b", "a", "c"):
        assert _post(mine, "/recordings/stream", {"id": name, "task": task}).status_code == 201
    listed = mine.http.get("/kapacitor/v1/recordings?offset=1&limit=1&fields=status").json_body["recordings"]
    assert listed == [
        {"id": "b", "link": {"rel": "self", "href": "/kapacitor/v1/recordings/b"}, "status": "running"}
    ]
    bad = mine.http.get("/kapacitor/v1/recordings?limit=x")
    assert bad.status_code == 400 and "invalid limit parameter" in bad.json_body["error"]


def test_without_credentials_401(anonymous):
    answer = anonymous.http.get("/kapacitor/v1/recordings")
    assert answer.status_code == 401 and "error" in answer.json_body


def test_a_replay_step_run_again_resumes_where_the_last_one_saved(client, database, pump, monkeypatch):
    """A worker that dies after a step saved its progress (its message delivered again) goes on from
    there: the task sees every point once. The steps are run here as the workflow worker runs them."""
    from chalicelib import compose
    from chalicelib.kapacitor import replayer

    lines = "\n".join(f"cpu v={i} {i}" for i in range(10))
    assert client.http.post(f"/write?db={database}&precision=s", body=lines).status_code == 204
    pump.drain()
    org = client.http.get("/api/v2/orgs?org=acme").json_body["orgs"][0]["id"]  # the onboarded org
    task = f"resume{next(_ids)}"
    script = "stream\n    |from()\n        .measurement('cpu')\n    |count('v')\n    |httpOut('n')\n"
    doc = {"id": task, "script": script, "dbrps": [{"db": database, "rp": "autogen"}]}
    assert _post(client, "/tasks", doc).status_code == 200
    query = f'SELECT v FROM "{database}"."autogen"."cpu"'
    created = _post(client, "/recordings/query", {"query": query, "type": "stream"}).json_body
    step = {"org": org, "id": created["id"], "kind": "query"}
    compose.recordings().run_queries(step)  # the execution's steps, by hand
    compose.recordings().assemble(step)
    assert client.http.get(f"/kapacitor/v1/recordings/{created['id']}").json_body["status"] == "finished"

    replay = _post(client, "/replays", {"task": task, "recording": created["id"], "recording-time": True})
    assert replay.status_code == 201, replay.body
    monkeypatch.setattr(replayer, "CHUNK", 4)
    steps = {"org": org, "id": replay.json_body["id"]}
    assert compose.replays().step(steps) == {"done": False, "wait": 0}
    shown = client.http.get(f"/kapacitor/v1/replays/{steps['id']}").json_body
    assert shown["status"] == "running" and shown["progress"] == 0.4
    # the task as the running replay sees it
    seen = client.http.get(f"/kapacitor/v1/tasks/{task}?replay-id={steps['id']}").json_body
    assert seen["executing"] is True and seen["stats"]["node-stats"]["from1"]["collected"] == 4
    assert client.http.get(f"/kapacitor/v1/tasks/{task}").json_body["executing"] is False
    while not compose.replays().step(steps)["done"]:  # the same message again, and on
        pass
    compose.replays().finish(steps)
    done = client.http.get(f"/kapacitor/v1/replays/{steps['id']}")
    assert done.status_code == 200 and done.json_body["status"] == "finished"
    assert done.json_body["stats"]["node-stats"]["from1"]["collected"] == 10  # each point once
    over = client.http.get(f"/kapacitor/v1/tasks/{task}?replay-id={steps['id']}")
    assert over.status_code == 400 and over.json_body == {
        "error": f"no running replay with ID: {steps['id']}"
    }


@pytest.mark.parametrize(
    "doc",
    [
        {"task": ""},
        {"task": "x" * 2000},
        {"task": 5},
        {"task": None},
        None,
        [],
        {"id": "", "task": ""},
        {"id": "x" * 2000, "task": "TASK"},
        {"task": "TASK", "stop": "9999-12-31T23:59:59Z"},
        {"task": "TASK", "stop": "0001-01-01T00:00:00Z", "start": "0001-01-01T00:00:00Z"},
        {"task": "TASK", "recording": "", "query": "SELECT"},
    ],
)
def test_odd_bodies_at_every_creation_route_never_5xx(client, doc):
    """What the fuzzer found: empty and oversized IDs, nulls, far times; valid ones may start (201)."""
    mine = _own_org(client)
    task = _task(mine)
    if isinstance(doc, dict) and doc.get("task") == "TASK":
        doc = {**doc, "task": task}
    for path in ("/recordings/stream", "/recordings/batch", "/recordings/query", "/replays"):
        for suffix in ("", "/batch", "/query") if path == "/replays" else ("",):
            answer = _post(mine, path + suffix, json.dumps(doc).encode())
            assert answer.status_code < 500, (path + suffix, doc, answer.body)
            if answer.status_code >= 400:
                assert set(answer.json_body) == {"error"}
