"""Kapacitor's recordings and replays on the local stack, as Kapacitor's own server tests use them: record
a task's stream while points are written, replay the recording into the task (alerts reach a local
HTTP endpoint, on the replay's own topic), and compare with the same task running live; record a query
and a batch task's queries and replay them. Each recording and replay is a Step Functions execution
whose steps reach the workflow worker through task tokens."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.e2e.test_kapacitor_alerts_e2e import Receiver

SECOND = 1_000_000_000
POINTS = "\n".join(
    f"test value=1 {t:010d}" for t in (0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 5, 6, 7, 8, 9, 10, 11, 12)
)


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def _session(onboarded) -> requests.Session:
    session = requests.Session()
    session.headers.update(onboarded.headers)
    return session


def _kapacitor(stack) -> str:
    return f"{stack.url}/kapacitor/v1"


def _count_task(session, stack, task_id: str, database: str, endpoint: str, status: str) -> None:
    script = f"""stream
    |from()
        .measurement('test')
    |window()
        .period(10s)
        .every(10s)
    |count('value')
    |alert()
        .id('test-count')
        .message('{{{{ .ID }}}} got: {{{{ index .Fields "count" }}}}')
        .crit(lambda: TRUE)
        .post('{endpoint}')
"""
    doc = {"id": task_id, "script": script, "dbrps": [{"db": database, "rp": "autogen"}], "status": status}
    answer = session.post(f"{_kapacitor(stack)}/tasks", data=json.dumps(doc))
    assert answer.status_code == 200, answer.text


def _until_done(session, url: str, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        answer = session.get(url)
        body = answer.json()
        if answer.status_code == 200:
            return body
        assert answer.status_code == 202 and body["status"] == "running", body
        if time.monotonic() > deadline:
            raise AssertionError(f"still running: {body}")
        time.sleep(0.3)


def _database(session, stack, name: str) -> None:
    assert session.post(f"{stack.url}/query", params={"q": f"CREATE DATABASE {name}"}).status_code == 200


def test_a_recorded_stream_replayed_alerts_as_the_live_task_does(stack, onboarded, unique, receiver):
    session = _session(onboarded)
    database = unique("rdb").replace("-", "_")
    _database(session, stack, database)
    task_id = unique("count")
    _count_task(session, stack, task_id, database, receiver.url, "disabled")

    recording_id = unique("rec")
    created = session.post(
        f"{_kapacitor(stack)}/recordings/stream",
        data=json.dumps({"id": recording_id, "task": task_id, "stop": "1970-01-01T00:00:10Z"}),
    )
    assert created.status_code == 201, created.text
    assert created.json()["link"]["href"] == f"/kapacitor/v1/recordings/{recording_id}"
    assert created.json()["status"] == "running" and created.json()["type"] == "stream"

    written = session.post(f"{stack.url}/write", params={"db": database, "precision": "s"}, data=POINTS)
    assert written.status_code == 204
    stack.drain()
    recording = _until_done(session, f"{_kapacitor(stack)}/recordings/{recording_id}")
    assert recording["status"] == "finished" and recording["error"] == "" and recording["size"] > 0
    assert recording["progress"] == 1

    replay_id = unique("replay")
    started = session.post(
        f"{_kapacitor(stack)}/replays",
        data=json.dumps(
            {
                "id": replay_id,
                "task": task_id,
                "recording": recording_id,
                "clock": "fast",
                "recording-time": True,
            }
        ),
    )
    assert started.status_code == 201, started.text
    assert started.json()["task"] == task_id and started.json()["recording"] == recording_id
    replay = _until_done(session, f"{_kapacitor(stack)}/replays/{replay_id}")
    assert replay["status"] == "finished" and replay["error"] == "", replay
    assert replay["stats"]["node-stats"]["count3"]["emitted"] == 1

    [alert] = receiver.wait_for(1)
    assert (alert["id"], alert["message"], alert["level"]) == ("test-count", "test-count got: 15", "CRITICAL")
    assert alert["time"] == "1970-01-01T00:00:10Z"
    topic = session.get(f"{_kapacitor(stack)}/alerts/topics/{replay_id}:{task_id}:alert4")
    assert topic.status_code == 200 and topic.json()["level"] == "CRITICAL"

    # the same task running live over the same points says the same
    live_db = unique("ldb").replace("-", "_")
    _database(session, stack, live_db)
    _count_task(session, stack, unique("live"), live_db, receiver.url, "enabled")
    session.post(f"{stack.url}/write", params={"db": live_db, "precision": "s"}, data=POINTS)
    stack.drain()
    bodies = receiver.wait_for(2)
    assert {k: bodies[1][k] for k in ("id", "message", "level", "time")} == {
        k: alert[k] for k in ("id", "message", "level", "time")
    }

    listed = session.get(f"{_kapacitor(stack)}/recordings", params={"pattern": recording_id}).json()
    assert [r["id"] for r in listed["recordings"]] == [recording_id]
    assert session.delete(f"{_kapacitor(stack)}/replays/{replay_id}").status_code == 204
    assert session.delete(f"{_kapacitor(stack)}/recordings/{recording_id}").status_code == 204
    assert session.get(f"{_kapacitor(stack)}/recordings/{recording_id}").status_code == 404


def test_a_query_recording_replays_into_a_stream_task_without_recording_time(
    stack, onboarded, unique, receiver
):
    session = _session(onboarded)
    database = unique("qdb").replace("-", "_")
    _database(session, stack, database)
    session.post(f"{stack.url}/write", params={"db": database, "precision": "s"}, data=POINTS)
    stack.drain()
    task_id = unique("qcount")
    _count_task(session, stack, task_id, database, receiver.url, "disabled")

    query = f'SELECT value FROM "{database}"."autogen"."test" WHERE time < 20s'
    created = session.post(
        f"{_kapacitor(stack)}/recordings/query", data=json.dumps({"query": query, "type": "stream"})
    )
    assert created.status_code == 201, created.text
    recording = _until_done(session, f"{_kapacitor(stack)}/recordings/{created.json()['id']}")
    assert recording["status"] == "finished", recording

    before = time.time()
    started = session.post(
        f"{_kapacitor(stack)}/replays", data=json.dumps({"task": task_id, "recording": recording["id"]})
    )
    assert started.status_code == 201, started.text
    assert started.json()["clock"] == "fast" and started.json()["recording-time"] is False
    replay = _until_done(session, f"{_kapacitor(stack)}/replays/{started.json()['id']}")
    assert replay["status"] == "finished", replay
    [alert] = receiver.wait_for(1)
    # stored points of one series and time overwrite each other: ten distinct seconds in the window
    # (the stream recording kept all fifteen writes); the points moved to the replay's start
    assert alert["message"] == "test-count got: 10"
    assert alert["time"] > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(before - 1))


def test_a_batch_tasks_queries_recorded_and_replayed(stack, onboarded, unique, receiver):
    session = _session(onboarded)
    database = unique("bdb").replace("-", "_")
    _database(session, stack, database)
    lines = "\n".join(f"cpu,host=a value={v} {t}" for t, v in ((1, 10), (2, 20), (11, 95), (12, 97)))
    session.post(f"{stack.url}/write", params={"db": database, "precision": "s"}, data=lines)
    stack.drain()
    script = f"""batch
    |query('SELECT mean(value) AS mean FROM "{database}"."autogen"."cpu"')
        .period(10s)
        .every(10s)
    |alert()
        .id('cpu-mean')
        .message('{{{{ .ID }}}} {{{{ .Level }}}} {{{{ index .Fields "mean" }}}}')
        .crit(lambda: "mean" > 90)
        .post('{receiver.url}')
"""
    task_id = unique("bmean")
    doc = {
        "id": task_id,
        "script": script,
        "dbrps": [{"db": database, "rp": "autogen"}],
        "status": "disabled",
    }
    assert session.post(f"{_kapacitor(stack)}/tasks", data=json.dumps(doc)).status_code == 200

    created = session.post(
        f"{_kapacitor(stack)}/recordings/batch",
        data=json.dumps({"task": task_id, "start": "1970-01-01T00:00:00Z", "stop": "1970-01-01T00:00:20Z"}),
    )
    assert created.status_code == 201, created.text
    recording = _until_done(session, f"{_kapacitor(stack)}/recordings/{created.json()['id']}")
    assert recording["status"] == "finished" and recording["type"] == "batch", recording

    started = session.post(
        f"{_kapacitor(stack)}/replays",
        data=json.dumps({"task": task_id, "recording": recording["id"], "recording-time": True}),
    )
    assert started.status_code == 201, started.text
    replay = _until_done(session, f"{_kapacitor(stack)}/replays/{started.json()['id']}")
    assert replay["status"] == "finished", replay
    [alert] = receiver.wait_for(1)
    # the query at 20s covers [10s, 20s): its mean, timed at the range's start, is the one over 90
    assert alert["message"] == "cpu-mean CRITICAL 96" and alert["time"] == "1970-01-01T00:00:10Z"
