"""A Kapacitor user's loop over real HTTP on the local stack: define an alerting stream task, write points
with the official InfluxDB client, and receive the alerts on a local HTTP server, through the stream
consumer, the alerts queue and its delivery worker; a failing endpoint is retried until it takes them."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

SECOND = 1_000_000_000


class Receiver:
    """A local HTTP endpoint keeping every JSON body POSTed to it; it answers 500 `fail_first` times."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[dict] = []
        self.attempts = 0
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.attempts += 1
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.bodies.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/alert"

    def wait_for(self, count: int, timeout: float = 60.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.bodies

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def _session(onboarded) -> requests.Session:
    session = requests.Session()
    session.headers.update(onboarded.headers)
    return session


def _database(session: requests.Session, url: str, name: str) -> None:
    assert session.post(f"{url}/query", params={"q": f"CREATE DATABASE {name}"}).status_code == 200


def _alert_task(session, url: str, task_id: str, database: str, endpoint: str) -> None:
    script = f"""stream
    |from()
        .measurement('cpu')
        .groupBy('host')
    |alert()
        .id('cpu:{{{{ index .Tags "host" }}}}')
        .message('{{{{ .ID }}}} is {{{{ .Level }}}} value:{{{{ index .Fields "value" }}}}')
        .crit(lambda: "value" > 90)
        .post('{endpoint}')
"""
    doc = {"id": task_id, "script": script, "dbrps": [{"db": database, "rp": "autogen"}], "status": "enabled"}
    response = session.post(f"{url}/kapacitor/v1/tasks", data=json.dumps(doc))
    assert response.status_code == 200, response.text


def test_alerts_reach_a_local_http_endpoint(stack, onboarded, unique, receiver):
    session = _session(onboarded)
    database = unique("kdb").replace("-", "_")
    _database(session, stack.url, database)
    task_id = unique("cpu_alert")
    _alert_task(session, stack.url, task_id, database, receiver.url)

    from influxdb import InfluxDBClient  # the official 1.x client, as Telegraf-era tools write

    client = InfluxDBClient(host="127.0.0.1", port=int(stack.url.rsplit(":", 1)[1]), database=database)
    client._headers.update(onboarded.headers)
    client.write_points(
        [
            {"measurement": "cpu", "tags": {"host": "a"}, "time": 1 * SECOND, "fields": {"value": 50.0}},
            {"measurement": "cpu", "tags": {"host": "a"}, "time": 2 * SECOND, "fields": {"value": 95.0}},
            {"measurement": "cpu", "tags": {"host": "a"}, "time": 3 * SECOND, "fields": {"value": 40.0}},
        ],
        time_precision="n",
    )
    stack.drain()
    bodies = receiver.wait_for(2)
    assert [(b["id"], b["level"], b["previousLevel"]) for b in bodies] == [
        ("cpu:a", "CRITICAL", "OK"),
        ("cpu:a", "OK", "CRITICAL"),
    ]
    assert bodies[0]["message"] == "cpu:a is CRITICAL value:95"
    assert bodies[0]["time"] == "1970-01-01T00:00:02Z"
    assert bodies[0]["data"]["series"][0]["tags"] == {"host": "a"}
    assert bodies[1]["duration"] == SECOND

    topic = session.get(f"{stack.url}/kapacitor/v1/alerts/topics/main:{task_id}:alert2").json()
    assert topic["level"] == "OK" and topic["id"] == f"main:{task_id}:alert2"


def test_a_failing_endpoint_is_retried_until_it_takes_the_alert(stack, onboarded, unique):
    receiver = Receiver(fail_first=1)
    try:
        session = _session(onboarded)
        database = unique("kdb").replace("-", "_")
        _database(session, stack.url, database)
        _alert_task(session, stack.url, unique("retried"), database, receiver.url)
        body = f"cpu,host=b value=99 {5 * SECOND}"
        assert session.post(f"{stack.url}/write", params={"db": database}, data=body).status_code == 204
        bodies = receiver.wait_for(1, timeout=90)
        assert receiver.attempts >= 2
        assert [b["level"] for b in bodies] == ["CRITICAL"]
    finally:
        receiver.close()


def test_httppost_sends_each_row_to_its_url(stack, onboarded, unique, receiver):
    session = _session(onboarded)
    database = unique("kdb").replace("-", "_")
    _database(session, stack.url, database)
    script = f"stream\n    |from()\n        .measurement('mem')\n    |httpPost('{receiver.url}')\n"
    doc = {
        "id": unique("post"),
        "script": script,
        "dbrps": [{"db": database, "rp": "autogen"}],
        "status": "enabled",
    }
    assert session.post(f"{stack.url}/kapacitor/v1/tasks", data=json.dumps(doc)).status_code == 200
    body = f"mem,host=c used=7i {3 * SECOND}"
    assert session.post(f"{stack.url}/write", params={"db": database}, data=body).status_code == 204
    stack.drain()
    [posted] = receiver.wait_for(1)
    assert posted == {
        "series": [
            {
                "name": "mem",
                "tags": {"host": "c"},
                "columns": ["time", "used"],
                "values": [["1970-01-01T00:00:03Z", 7]],
            }
        ]
    }
