"""`GET /kapacitor/v1preview/logs` over HTTP: a stream task's `|log()` lines and an alert `log` handler's
lines, written through the points stream's consumer and the alert worker, read back filtered as
Kapacitor filters them (`key=value`, `lvl=<level>+`), as logfmt or JSON lines; each organization sees
only its own; the answer is bounded (a wait that ends, `since` to go on); errors in Kapacitor's shape."""

from __future__ import annotations

import itertools
import json
import time
import uuid

import boto3
import requests

from chalicelib import compose
from chalicelib.adapters.kapacitor_logs import DynamoLogRing
from chalicelib.declarations import physical_name
from chalicelib.kit.logrecords import record
from chalicelib.kit.time import SECOND

LOGS = "/kapacitor/v1preview/logs"
JSON = {"Content-Type": "application/json"}
_ids = itertools.count()
LOGGED = """stream
    |from()
        .measurement('cpu')
    |log()
        .prefix('P')
"""


def _task(client, database: str, script: str = LOGGED, task_id: str | None = None) -> str:
    task_id = task_id or f"logs{next(_ids)}-{uuid.uuid4().hex[:6]}"
    doc = {"id": task_id, "script": script, "dbrps": [{"db": database, "rp": "autogen"}], "status": "enabled"}
    response = client.http.post("/kapacitor/v1/tasks", body=json.dumps(doc))
    assert response.status_code == 200, response.body
    return task_id


def _write(client, database: str, values: list[float], start: int = 0, host: str = "a") -> None:
    lines = [f"cpu,host={host} value={v} {(start + i) * SECOND}" for i, v in enumerate(values)]
    response = client.http.post(f"/write?db={database}", body="\n".join(lines).encode())
    assert response.status_code == 204, response.body


def _logs(client, query: str = "", headers: dict | None = None, status: int = 200):
    separator = "&" if query else ""
    response = client.http.get(f"{LOGS}?{query}{separator}wait=0", headers=headers)
    assert response.status_code == status, response.body
    return response


def _lines(response) -> list[str]:
    return response.body.decode().splitlines()


def test_a_log_nodes_lines_show_for_their_task_as_logfmt_and_as_json(client, pump, database):
    task_id = _task(client, database)
    _write(client, database, [1, 2, 3])
    pump.drain()

    response = _logs(client, f"task={task_id}")
    assert response.headers["Content-Type"] == "application/logfmt"
    assert response.headers["X-Kapacitor-Version"]
    lines = _lines(response)
    assert len(lines) == 3 and response.body.endswith(b"\n")
    for i, line in enumerate(lines):
        assert line.startswith("ts=") and line.split(" ", 1)[0].endswith("Z")
        head = (
            f"lvl=info msg=point service=kapacitor task={task_id} node=log2 prefix=P name=cpu db={database}"
        )
        assert head in line
        assert f"rp=autogen group= tag_host=a field_value={i + 1} time=1970-01-01T00:00:0{i}Z" in line

    as_json = _logs(client, f"task={task_id}", headers=JSON)
    assert as_json.headers["Content-Type"] == "application/json"
    entries = [json.loads(line) for line in _lines(as_json)]
    assert [list(e)[:6] for e in entries] == [["ts", "lvl", "msg", "service", "task", "node"]] * 3
    assert [(e["tag"], e["field"]) for e in entries] == [({"host": "a"}, {"value": v}) for v in (1, 2, 3)]
    accepted = _logs(client, f"task={task_id}", headers={"Accept": "application/json"})
    assert [json.loads(line)["msg"] for line in _lines(accepted)] == ["point"] * 3


def test_filters_are_kapacitors_key_value_pairs(client, pump, database):
    task_id = _task(client, database)
    _write(client, database, [1, 2])
    _write(client, database, [3], start=2, host="b")
    pump.drain()

    def count(query: str) -> int:
        return len(_lines(_logs(client, f"task={task_id}&{query}")))

    assert count("node=log2") == 3 and count("node=from1") == 0
    assert count("lvl=info") == 3 and count("lvl=error") == 0
    assert count("lvl=info%2B") == 3 and count("lvl=error%2B") == 0  # `info+`: at least info
    assert count("msg=point") == 3 and count("service=kapacitor") == 3 and count("service=alert") == 0
    assert count("tag_host=b") == 1 and count("field_value=2") == 1 and count("prefix=P") == 3
    assert len(_lines(_logs(client, "task=no-such-task"))) == 0


def test_an_organization_sees_only_its_own_entries(client, pump, database):
    task_id = _task(client, database)
    _write(client, database, [1, 2])
    other = _other_org(client)
    other_db = f"db{uuid.uuid4().hex[:8]}"
    assert other.http.post(f"/query?q=CREATE+DATABASE+{other_db}").status_code == 200
    _task(other, other_db, task_id=task_id)  # the same task id in the other organization
    _write(other, other_db, [7], host="theirs")
    pump.drain()

    mine = _lines(_logs(client, f"task={task_id}"))
    theirs = _lines(_logs(other, f"task={task_id}"))
    assert len(mine) == 2 and all(f"db={database}" in line and "theirs" not in line for line in mine)
    assert len(theirs) == 1 and f"db={other_db}" in theirs[0] and "tag_host=theirs" in theirs[0]
    assert not any(database in line for line in _lines(_logs(other, "")))


def test_the_wait_ends_at_its_bound_with_an_empty_body(client):
    started = time.monotonic()
    response = client.http.get(f"{LOGS}?task=never-{uuid.uuid4().hex}&wait=1.5")
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.body == b""
    assert 1.5 <= elapsed < 5
    assert response.headers["X-Tickless-Logs-Since"].endswith("Z")


def test_since_goes_on_where_an_answer_stopped(client, pump, database):
    task_id = _task(client, database)
    _write(client, database, [1])
    pump.drain()
    first = _logs(client, f"task={task_id}")
    assert len(_lines(first)) == 1
    since = first.headers["X-Tickless-Logs-Since"]
    assert _lines(_logs(client, f"task={task_id}&since={since}")) == []
    _write(client, database, [2], start=1)
    pump.drain()
    later = _lines(_logs(client, f"task={task_id}&since={since}"))
    assert len(later) == 1 and "field_value=2" in later[0]


def test_an_alert_log_handlers_lines_are_alert_entries(client, pump, database):
    script = (
        "stream|from().measurement('cpu')|alert().id('cpu-alert').crit(lambda: TRUE).log('/tmp/alerts.log')"
    )
    task_id = _task(client, database, script)
    _write(client, database, [1])
    pump.drain()
    _deliver_alerts(task_id)

    entries = [
        json.loads(line) for line in _lines(_logs(client, f"task={task_id}&service=alert", headers=JSON))
    ]
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["lvl"], entry["msg"], entry["handler"], entry["path"]) == (
        "info",
        "alert",
        "log",
        "/tmp/alerts.log",
    )
    assert (entry["id"], entry["level"], entry["event_message"]) == (
        "cpu-alert",
        "CRITICAL",
        "cpu-alert is CRITICAL",
    )
    assert entry["topic"] == f"main:{task_id}:alert2"
    assert json.loads(entry["data"])["series"][0]["name"] == "cpu"


def _deliver_alerts(task_id: str) -> None:
    """The alert worker's part for this task's messages (the test pump leaves the queue alone): its
    event fans out into deliveries, which are delivered."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=physical_name("alerts"))["QueueUrl"]
    for _ in range(20):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") or []
        if not messages:
            return
        for message in messages:
            body = json.loads(message["Body"])
            if body.get("task") == task_id:  # others' stay invisible until the queue's timeout
                compose.dispatcher().handle(body)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_bad_parameters_are_kapacitors_errors(client):
    cases = {
        "task=a&task=b": "query params cannot contain duplicate params",
        "lvl=warn%2B": 'invalid log level "warn+": want debug+, info+ or error+',
        "since=yesterday": 'invalid since "yesterday": want an RFC 3339 time',
    }
    for query, message in cases.items():
        response = _logs(client, query, status=400)
        assert response.json_body == {"error": message}
        assert response.headers["X-Kapacitor-Version"]
    too_long = client.http.get(f"{LOGS}?wait=21")
    assert too_long.status_code == 400
    assert too_long.json_body == {"error": 'invalid wait "21": want seconds from 0 to 20'}


def test_credentials_are_required(anonymous):
    response = anonymous.http.get(f"{LOGS}?wait=0")
    assert response.status_code == 401 and "error" in response.json_body


def test_kapacitor_serves_logs_on_its_preview_prefix_only(http, onboarding):
    headers = {"Authorization": f"Token {onboarding['auth']['token']}"}
    served = requests.get(f"{http}{LOGS}?wait=0&task=none", headers=headers)
    assert served.status_code == 200 and served.headers["Content-Type"] == "application/logfmt"
    assert requests.get(f"{http}/kapacitor/v1/logs?wait=0", headers=headers).status_code == 404


def test_an_organization_keeps_at_most_its_limit_per_minute_and_says_so(aws):
    ring = DynamoLogRing(per_minute=3)
    org = f"cap{uuid.uuid4().hex[:12]}"
    records = [record("info", "point", [("service", "kapacitor"), ("task", "t"), ("n", i)]) for i in range(5)]
    ring.append(org, records[:2])
    ring.append(org, records[2:])  # goes over: one kept, two dropped, one entry says so
    ring.append(org, records[:1])  # all dropped, said once
    entries = ring.read(org, 0, 100)
    kept = [dict(e.keys)["n"] for e in entries if e.msg == "point"]
    assert kept == [0, 1, 2]
    [over] = [e for e in entries if e.msg != "point"]
    assert (over.lvl, dict(over.keys)) == ("error", {"service": "logs", "task": "t", "limit": 3})
    assert [e.ts for e in entries] == sorted(e.ts for e in entries)


def _other_org(client):
    """A client of a second organization (its own user, bucket and all-access token)."""
    uid = uuid.uuid4().hex[:8]
    made = client.http.post(
        "/api/v2/setup/user",
        body=json.dumps(
            {
                "username": f"logs-{uid}",
                "password": f"pw-{uid}-long",
                "org": f"logs-{uid}",
                "bucket": f"b{uid}",
            }
        ),
        headers=JSON,
    )
    assert made.status_code == 201, made.body
    return client.with_token(made.json_body["auth"]["token"])
