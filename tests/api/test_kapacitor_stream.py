"""Stream tasks running on the points stream (their own consumer): points written to InfluxDB's /write and
to Kapacitor's /write reach the enabled tasks of the writer's org whose dbrps match, in event time, with
state kept in DynamoDB between invocations; httpOut serves the result at /kapacitor/v1/tasks/<id>/<name>."""

from __future__ import annotations

import itertools
import json

import pytest

from chalicelib import compose

_ids = itertools.count()
SECOND = 1_000_000_000
MEAN = """stream
    |from()
        .measurement('cpu')
    |window()
        .period(10s)
        .every(10s)
    |mean('value')
    |httpOut('mean')
"""


def _task(client, database: str, script: str = MEAN, status: str = "enabled") -> str:
    task_id = f"stream{next(_ids)}"
    doc = {"id": task_id, "script": script, "dbrps": [{"db": database, "rp": "autogen"}], "status": status}
    response = client.http.post("/kapacitor/v1/tasks", body=json.dumps(doc))
    assert response.status_code == 200, response.body
    return task_id


def _write(client, database: str, lines: list[str]) -> None:
    response = client.http.post(f"/write?db={database}", body="\n".join(lines).encode())
    assert response.status_code == 204, response.body


def _points(start: int, values: list[float], measurement: str = "cpu") -> list[str]:
    return [f"{measurement},host=a value={v} {(start + i) * SECOND}" for i, v in enumerate(values)]


def test_window_mean_through_the_stream_and_httpout(client, pump, database):
    task_id = _task(client, database)
    before = client.http.get(f"/kapacitor/v1/tasks/{task_id}/mean")
    assert before.status_code == 200 and before.json_body == {"series": None}
    _write(client, database, _points(0, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100]))  # t=0..10s
    pump.drain()
    result = client.http.get(f"/kapacitor/v1/tasks/{task_id}/mean").json_body
    assert result == {
        "series": [{"name": "cpu", "columns": ["time", "mean"], "values": [["1970-01-01T00:00:10Z", 5.5]]}]
    }
    task = client.http.get(f"/kapacitor/v1/tasks/{task_id}").json_body
    assert task["executing"] is True
    assert task["stats"]["node-stats"]["from1"]["collected"] == 11
    assert 'window2 -> mean3 [processed="1"];' in task["dot"]


def test_state_survives_between_invocations_and_redelivery_does_not_double_count(
    client, pump, database, onboarding
):
    task_id = _task(client, database)
    _write(client, database, _points(0, [1, 2, 3, 4, 5]))  # half the window in one invocation
    pump.drain()
    _write(client, database, _points(5, [6, 7, 8, 9, 10, 0]))  # the rest, and the point closing it
    pump.drain()
    result = client.http.get(f"/kapacitor/v1/tasks/{task_id}/mean").json_body
    assert result["series"][0]["values"] == [["1970-01-01T00:00:10Z", 5.5]]

    # Lambda redelivers a batch: the task's saved sequence numbers skip what it consumed.
    org = onboarding["org"]["id"]
    stored = compose.task_states().load(org, task_id)
    assert stored is not None and stored.state["sequences"]
    from tests.api.conftest import stream_records

    replay = [r for r in stream_records(pump.endpoint_url)]
    from chalicelib.events.task_consumer import consume_tasks

    consume_tasks({"Records": replay}, None)
    again = compose.task_states().load(org, task_id)
    assert again.state["runtime"] == stored.state["runtime"]


def test_tasks_see_only_their_dbrps_and_disabled_tasks_do_not_run(client, pump, database):
    running = _task(client, database)
    disabled = _task(client, database, status="disabled")
    _write(client, database, _points(0, [1] * 11, measurement="mem") + _points(0, [2] * 11))
    pump.drain()
    assert client.http.get(f"/kapacitor/v1/tasks/{running}/mean").json_body["series"][0]["values"] == [
        ["1970-01-01T00:00:10Z", 2.0]
    ]
    assert client.http.get(f"/kapacitor/v1/tasks/{disabled}/mean").status_code == 404
    assert client.http.get(f"/kapacitor/v1/tasks/{running}/nope").status_code == 404


def test_kapacitor_writes_feed_tasks_without_being_stored(client, pump, database):
    task_id = _task(client, database)
    body = "\n".join(_points(0, [4] * 11)).encode()
    response = client.http.post(f"/kapacitor/v1/write?db={database}&rp=autogen", body=body)
    assert response.status_code == 204
    pump.drain()
    values = client.http.get(f"/kapacitor/v1/tasks/{task_id}/mean").json_body["series"][0]["values"]
    assert values == [["1970-01-01T00:00:10Z", 4.0]]
    stored = client.http.get(f"/query?db={database}&q=SELECT+count(*)+FROM+cpu").json_body
    assert "series" not in stored["results"][0]


def test_disabling_forgets_the_state(client, pump, database, onboarding):
    task_id = _task(client, database)
    _write(client, database, _points(0, [1] * 11))
    pump.drain()
    org = onboarding["org"]["id"]
    assert compose.task_states().load(org, task_id) is not None
    patch = client.http.patch(f"/kapacitor/v1/tasks/{task_id}", body=json.dumps({"status": "disabled"}))
    assert patch.status_code == 200 and patch.json_body["executing"] is False
    assert compose.task_states().load(org, task_id) is None


@pytest.mark.parametrize("script", ["stream|from().measurement('cpu')|alert().crit(lambda: TRUE).post()"])
def test_handlers_are_checked_when_the_task_is_enabled(client, database, script):
    doc = {"script": script, "dbrps": [{"db": database, "rp": "autogen"}], "status": "enabled"}
    response = client.http.post("/kapacitor/v1/tasks", body=json.dumps(doc))
    assert response.status_code == 400
    assert response.json_body == {"error": "invalid TICKscript: Either URL or endpoint must be non-empty"}


def test_debug_vars_show_the_orgs_task_statistics_as_telegraf_reads_them(client, pump, database):
    task_id = _task(client, database)
    _write(client, database, _points(0, [1] * 11))
    pump.drain()
    response = client.http.get("/kapacitor/v1/debug/vars")
    assert response.status_code == 200 and response.headers["X-Kapacitor-Version"]
    body = response.json_body
    assert body["num_enabled_tasks"] >= 1 and body["product"] == "kapacitor"
    nodes = {
        obj["tags"]["node"]: obj["values"]
        for obj in body["kapacitor"].values()
        if obj["name"] == "nodes" and obj["tags"]["task"] == task_id
    }
    assert nodes["from1"]["collected"] == 11
    assert nodes["window2"]["emitted"] == 1
    assert nodes["mean3"]["avg_exec_time_ns"].endswith("s")  # a Go duration, as telegraf parses it
    edges = [o for o in body["kapacitor"].values() if o["name"] == "edges" and o["tags"]["task"] == task_id]
    assert {"parent": "window2", "child": "mean3"}.items() <= next(
        e["tags"] for e in edges if e["tags"]["parent"] == "window2"
    ).items()
    assert body["memstats"]["Sys"] > 0


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("stream|from()|barrier().idle(5s)", "invalid TICKscript: the barrier node is not supported"),
        ("stream|from()|httpPost('http://h').codeField('c')", "invalid TICKscript: httpPost's codeField"),
    ],
)
def test_nodes_the_runtime_cannot_run_are_refused_when_the_task_is_enabled(client, database, script, message):
    doc = {"script": script, "dbrps": [{"db": database, "rp": "autogen"}]}
    assert client.http.post("/kapacitor/v1/tasks", body=json.dumps(doc)).status_code == 200  # disabled: kept
    response = client.http.post("/kapacitor/v1/tasks", body=json.dumps({**doc, "status": "enabled"}))
    assert response.status_code == 400 and response.json_body["error"].startswith(message)
