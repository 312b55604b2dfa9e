"""Batch tasks on their one-minute schedule (chalicelib/events/batch_scheduler.py): points written through
/write, an enabled batch task queries them at each due time through the InfluxQL engine, state is saved in
DynamoDB between runs, and httpOut serves the result at /kapacitor/v1/tasks/<id>/<name>."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

from chalicelib import compose
from chalicelib.events.batch_scheduler import run_batch_tasks
from chalicelib.tick.batch import go_truncate

_ids = itertools.count()
SECOND = 1_000_000_000
MAX = """batch
    |query('SELECT max("value") AS "max" FROM "{db}"."autogen"."cpu"')
        .period(10s)
        .every(10s)
        .align()
        .groupBy('host')
    |httpOut('max')
"""


def _task(client, database: str) -> tuple[str, int]:
    """An enabled batch task; its first due time (the next multiple of 10s after it was enabled)."""
    task_id = f"batch{next(_ids)}"
    doc = {
        "id": task_id,
        "script": MAX.format(db=database),
        "dbrps": [{"db": database, "rp": "autogen"}],
        "status": "enabled",
    }
    response = client.http.post("/kapacitor/v1/tasks", body=json.dumps(doc))
    assert response.status_code == 200, response.body
    enabled = datetime.fromisoformat(response.json_body["last-enabled"].replace("Z", "+00:00"))
    start = (int(enabled.timestamp()) * 1_000_000 + enabled.microsecond) * 1000
    return task_id, go_truncate(start, 10 * SECOND) + 10 * SECOND


def _write(client, pump, database: str, lines: list[str]) -> None:
    response = client.http.post(f"/write?db={database}", body="\n".join(lines).encode())
    assert response.status_code == 204, response.body
    pump.drain()


def _rfc3339(t: int) -> str:
    moment = datetime.fromtimestamp(t // SECOND, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _result(client, task_id: str) -> dict:
    response = client.http.get(f"/kapacitor/v1/tasks/{task_id}/max")
    assert response.status_code == 200, response.body
    return response.json_body


def test_batch_task_queries_each_due_time_and_serves_httpout(client, pump, database, onboarding):
    task_id, first = _task(client, database)
    assert _result(client, task_id) == {"series": None}
    _write(
        client,
        pump,
        database,
        [
            f"cpu,host=a value=1 {first - 5 * SECOND}",
            f"cpu,host=a value=7 {first - 2 * SECOND}",
            f"cpu,host=b value=4 {first - 3 * SECOND}",
            f"cpu,host=a value=9 {first + 1 * SECOND}",  # the next period's
        ],
    )
    run_batch_tasks(now=first)
    result = _result(client, task_id)
    assert result == {
        "series": [
            {
                "name": "cpu",
                "tags": {"host": "a"},
                "columns": ["time", "max"],
                "values": [[_rfc3339(first - 2 * SECOND), 7.0]],
            },
            {
                "name": "cpu",
                "tags": {"host": "b"},
                "columns": ["time", "max"],
                "values": [[_rfc3339(first - 3 * SECOND), 4.0]],
            },
        ]
    }
    task = client.http.get(f"/kapacitor/v1/tasks/{task_id}").json_body
    assert task["executing"] is True and task["error"] == ""
    assert task["stats"]["node-stats"]["query1"]["emitted"] == 2

    # The next run starts from the saved state: the next period only.
    org = onboarding["org"]["id"]
    saved = compose.task_states().load(org, task_id)
    assert saved is not None and saved.state["last"] == {"query1": first}
    run_batch_tasks(now=first + 10 * SECOND)
    values = {s["tags"]["host"]: s["values"] for s in _result(client, task_id)["series"]}
    assert values["a"] == [[_rfc3339(first + 1 * SECOND), 9.0]]

    # A second run at the same time (or a concurrent one) runs nothing twice.
    before = compose.task_states().load(org, task_id)
    run_batch_tasks(now=first + 10 * SECOND)
    after = compose.task_states().load(org, task_id)
    assert after.version == before.version and after.state == before.state


def test_sub_minute_every_runs_each_time_of_the_minute(client, pump, database, onboarding):
    task_id, first = _task(client, database)
    _write(
        client,
        pump,
        database,
        [f"cpu,host=a value={i} {first - 10 * SECOND + i * SECOND}" for i in range(60)],
    )
    run_batch_tasks(now=first + 50 * SECOND)  # six due times, one invocation
    org = onboarding["org"]["id"]
    stats = compose.stream_tasks().execution(org, task_id).stats
    assert stats["query1"]["emitted"] == 6
    assert _result(client, task_id)["series"][0]["values"] == [[_rfc3339(first + 49 * SECOND), 59.0]]


def test_a_failing_query_is_the_task_s_error_not_a_500(client, pump, database):
    task_id, first = _task(client, database)
    dropped = client.http.post(f"/query?q=DROP+DATABASE+{database}")
    assert dropped.status_code == 200
    run_batch_tasks(now=first)
    task = client.http.get(f"/kapacitor/v1/tasks/{task_id}")
    assert task.status_code == 200
    assert task.json_body["error"].startswith("error executing query: ")
    assert (
        client.http.patch(
            f"/kapacitor/v1/tasks/{task_id}", body=json.dumps({"status": "disabled"})
        ).status_code
        == 200
    )
    index = compose.task_definitions().store.list("running-batch", "all")
    assert all(entry["task"] != task_id for entry in index)


def test_httppost_sends_each_due_times_batch(client, pump, database):
    """A run with several due times posts every one of their batches (the run's feeds' outputs are all
    kept, not only the last feed's)."""
    import boto3

    from chalicelib.declarations import physical_name

    task_id = f"post{next(_ids)}"
    script = f"""batch
    |query('SELECT max("value") AS "max" FROM "{database}"."autogen"."cpu"')
        .period(10s)
        .every(10s)
        .align()
    |httpPost('http://127.0.0.1:9/{task_id}')
"""
    doc = {"id": task_id, "script": script, "dbrps": [{"db": database, "rp": "autogen"}], "status": "enabled"}
    response = client.http.post("/kapacitor/v1/tasks", body=json.dumps(doc))
    assert response.status_code == 200, response.body
    enabled = datetime.fromisoformat(response.json_body["last-enabled"].replace("Z", "+00:00"))
    first = go_truncate((int(enabled.timestamp()) * 1_000_000 + enabled.microsecond) * 1000, 10 * SECOND)
    first += 10 * SECOND
    _write(client, pump, database, [f"cpu value={i} {first - 10 * SECOND + i * SECOND}" for i in range(60)])
    run_batch_tasks(now=first + 50 * SECOND)  # six due times in one run

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=physical_name("alerts"))["QueueUrl"]
    posted: list[dict] = []
    for _ in range(20):
        got = (
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages") or []
        )
        if not got:
            break
        for message in got:
            body = json.loads(message["Body"])
            if body.get("task") == task_id:
                posted.append(body)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert [m["type"] for m in posted] == ["request"] * 6
