"""The task document: create, patch, show and list, with influxd's answers and messages."""

from __future__ import annotations

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.kit.time import MINUTE, SECOND
from chalicelib.scheduler import tasks
from chalicelib.scheduler.runs import FAILED, SUCCESS, LogEvent, Run

ORG, OWNER, ID = "48c88459ee424a04", "0772396d1f411000", "09956cbb6d378000"
DECODE = "failed to decode request: "
NOW = 1_656_601_200 * SECOND + 123_456_789  # 2022-06-30T15:00:00.123456789Z
FLUX = """option task = {name: "CPU Total 1 Hour New", every: 1h}

from(bucket: "telegraf")
    |> range(start: -1h)
    |> filter(fn: (r) => (r._measurement == "cpu"))
    |> aggregateWindow(every: 1h, fn: max)
    |> to(bucket: "cpu_usage_user_total_1h", org: "INFLUX_ORG")
"""


def new(body=None, **kw):
    body = (
        {"flux": FLUX, "orgID": ORG, "status": "active", "description": "downsample"}
        if body is None
        else body
    )
    return tasks.new_task(body, ORG, OWNER, NOW, kw.pop("id", ID), org="INFLUX_ORG")


def test_a_new_task_from_the_seed_request():
    doc = new()
    assert doc["name"] == "CPU Total 1 Hour New" and doc["every"] == "1h" and doc["cron"] == ""
    assert doc["type"] == "system" and doc["status"] == "active"
    assert doc["createdAt"] == doc["latestCompleted"] == doc["latestScheduled"] == 1_656_601_200 * SECOND
    assert tasks.task_json(doc) == {
        "links": {
            "labels": f"/api/v2/tasks/{ID}/labels",
            "logs": f"/api/v2/tasks/{ID}/logs",
            "members": f"/api/v2/tasks/{ID}/members",
            "owners": f"/api/v2/tasks/{ID}/owners",
            "runs": f"/api/v2/tasks/{ID}/runs",
            "self": f"/api/v2/tasks/{ID}",
        },
        "labels": [],
        "id": ID,
        "orgID": ORG,
        "org": "INFLUX_ORG",
        "ownerID": OWNER,
        "name": "CPU Total 1 Hour New",
        "description": "downsample",
        "status": "active",
        "flux": FLUX,
        "every": "1h",
        "latestCompleted": "2022-06-30T15:00:00Z",
        "createdAt": "2022-06-30T15:00:00Z",
    }


def test_status_defaults_to_active_and_cron_and_offset_show():
    flux = 'option task = {name: "nightly", cron: "0 2 * * *", offset: 90s}\nfrom(bucket: "b")'
    doc = new({"flux": flux, "org": "INFLUX_ORG"})
    out = tasks.task_json(doc, [{"id": "l1", "name": "x"}])
    assert out["status"] == "active" and out["cron"] == "0 2 * * *" and out["offset"] == "1m30s"
    assert "every" not in out and "description" not in out and out["labels"] == [{"id": "l1", "name": "x"}]


@pytest.mark.parametrize(
    "ns, text", [(5 * MINUTE, "5m"), (-5 * MINUTE, "-5m"), (3600 * SECOND, "1h"), (3725 * SECOND, "1h2m5s")]
)
def test_offset_text(ns, text):
    assert tasks.offset_text(ns) == text


@pytest.mark.parametrize(
    "body, message",
    [
        (
            [],
            DECODE + "json: cannot unmarshal array into Go value of type taskmodel.TaskCreate",
        ),
        ({"orgID": ORG}, "failed to decode request: missing flux"),
        ({"flux": FLUX}, "failed to decode request: missing orgID and org"),
        ({"flux": FLUX, "orgID": "abc"}, "failed to decode request: id must have a length of 16 bytes"),
        ({"flux": FLUX, "orgID": "zzzzzzzzzzzzzzzz"}, "failed to decode request: invalid ID"),
        ({"flux": FLUX, "org": "o", "status": "on"}, 'failed to decode request: invalid task status: "on"'),
        (
            {"flux": 1, "org": "o"},
            DECODE + "json: cannot unmarshal number into Go struct field TaskCreate.flux of type string",
        ),
        ({"flux": "option task = {every: 1h}", "org": "o"}, "invalid options: missing required option: name"),
        ({"flux": 'from(bucket: "b")', "org": "o"}, "invalid options: no task options defined"),
        (
            {"flux": 'option task = {name: "a", every: 0s}', "org": "o"},
            "invalid options: invalid options: must specify exactly one of either cron or every",
        ),
    ],
)
def test_create_errors(body, message):
    with pytest.raises(TicklessError) as e:
        new(body)
    assert (e.value.code, e.value.message) == ("invalid", message)


LATER = NOW + 60 * SECOND


def test_patch_every_rewrites_the_script():
    doc = tasks.patched(new(), {"every": "30m", "offset": "5m"}, LATER)
    assert (
        doc["flux"].splitlines()[0] == 'option task = {name: "CPU Total 1 Hour New", every: 30m, offset: 5m}'
    )
    assert doc["flux"].split("\n", 1)[1] == FLUX.split("\n", 1)[1]
    assert (doc["every"], doc["offset"], doc["updatedAt"]) == ("30m", 5 * MINUTE, LATER)
    out = tasks.task_json(doc)
    assert out["every"] == "30m" and out["offset"] == "5m" and out["updatedAt"] == "2022-06-30T15:01:00Z"


def test_patch_cron_replaces_every():
    doc = tasks.patched(new(), {"cron": "0 */2 * * *", "name": "two-hourly"}, LATER)
    assert doc["flux"].startswith('option task = {name: "two-hourly", cron: "0 */2 * * *"}\n')
    assert (doc["name"], doc["every"], doc["cron"]) == ("two-hourly", "", "0 */2 * * *")


def test_patch_a_new_script_and_a_description():
    flux = 'option task = {name: "other", every: 10m}\nfrom(bucket: "b") |> range(start: -10m)'
    doc = tasks.patched(new(), {"flux": flux, "description": "new"}, LATER)
    assert (doc["flux"], doc["name"], doc["every"], doc["description"]) == (flux, "other", "10m", "new")


def test_patch_status_moves_the_schedule_to_now_when_activating():
    off = tasks.patched(new(), {"status": "inactive"}, LATER)
    assert off["status"] == "inactive" and off["latestCompleted"] == new()["latestCompleted"]
    on = tasks.patched(off, {"status": "active"}, LATER + 3600 * SECOND + 7)
    assert on["latestCompleted"] == on["latestScheduled"] == LATER + 3600 * SECOND - LATER % SECOND
    same = tasks.patched(on, {"status": "active"}, LATER + 7200 * SECOND)
    assert same == on  # no change, updatedAt stays


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "failed to decode request: cannot update task without content"),
        ({"description": "x"}, "failed to decode request: cannot update task without content"),
        ({"offset": "0s"}, "failed to decode request: cannot update task without content"),
        (
            {"every": "1h", "cron": "* * * * *"},
            "failed to decode request: cannot specify both every and cron",
        ),
        (
            {"offset": "1d"},
            'failed to decode request: offset: 1d, time: unknown unit "d" in duration "1d" is invalid, '
            "the largest unit supported is h",
        ),
        ({"status": "paused"}, 'failed to decode request: invalid task status: "paused"'),
        ({"every": "abc"}, "failed to decode request: invalid duration abc"),
        ({"every": "5"}, "failed to decode request: duration is missing a unit: "),
        (
            {"name": 3},
            DECODE + "json: cannot unmarshal number into Go struct field .name of type string",
        ),
        ({"flux": 'from(bucket: "b")'}, "failed to update task: invalid options: no task options defined"),
        ({"name": ""}, "failed to decode request: cannot update task without content"),
        (
            {"every": "1h", "offset": "1d"},
            'failed to update task: unexpected error parsing time: time: unknown unit "d" in duration "1d"',
        ),
        ({"flux": 'from(bucket: "b")', "every": "1h"}, "failed to update task: unable to edit option"),
    ],
)
def test_patch_errors(body, message):
    with pytest.raises(TicklessError) as e:
        tasks.patched(new(), body, LATER)
    assert (e.value.code, e.value.message) == ("invalid", message)


def test_a_finished_run_moves_the_task_forward_only():
    doc = new()
    t = doc["latestCompleted"] + 3600 * SECOND
    log = tuple(LogEvent("r", i, m) for i, m in enumerate(["Started", "Completed(failed)", "boom"]))
    failed = tasks.run_finished(doc, Run("r", ID, FAILED, t, log=log))
    assert failed["latestCompleted"] == failed["latestFailure"] == t and failed["latestSuccess"] is None
    assert (failed["lastRunStatus"], failed["lastRunError"]) == ("failed", "Completed(failed)")
    older = tasks.run_finished(failed, Run("q", ID, SUCCESS, t - 60 * SECOND))
    assert older["latestCompleted"] == t and older["latestSuccess"] == t - 60 * SECOND
    assert (older["lastRunStatus"], older["lastRunError"]) == ("success", "")
    assert tasks.task_json(older)["lastRunStatus"] == "success" and "lastRunError" not in tasks.task_json(
        older
    )


def test_the_schedule_continues_from_the_later_of_scheduled_and_completed():
    doc = new()
    assert tasks.last_scheduled(doc) == doc["createdAt"]
    ahead = tasks.scheduled_up_to(doc, doc["createdAt"] + 600 * SECOND)
    assert tasks.last_scheduled(ahead) == doc["createdAt"] + 600 * SECOND
    assert tasks.scheduled_up_to(ahead, doc["createdAt"]) is ahead
    assert tasks.last_scheduled({**ahead, "latestCompleted": doc["createdAt"] + 900 * SECOND}) == (
        doc["createdAt"] + 900 * SECOND
    )


# -- list --------------------------------------------------------------------------------------------------

IDS = [f"0a{i:014x}" for i in range(1, 6)]


def docs():
    out = [new(id=i) for i in IDS]
    out[1] = {**out[1], "status": "inactive"}
    out[2] = {**out[2], "ownerID": "0000000000000abc", "name": "other"}
    out[3] = {**out[3], "type": "threshold"}  # a check's task: not listed
    out[4] = {**out[4], "type": ""}  # stored without a type: a system task
    return out


@pytest.mark.parametrize(
    "params, kw, expected",
    [
        ({}, {"auth_user_id": OWNER}, [0, 1, 4]),
        ({"orgID": ORG}, {}, [0, 1, 2, 4]),
        ({}, {"org_id": ORG}, [0, 1, 2, 4]),
        ({"orgID": ORG, "status": "inactive"}, {}, [1]),
        ({"orgID": ORG, "status": "bogus"}, {}, [0, 1, 2, 4]),  # ignored
        ({"orgID": ORG, "name": "other"}, {}, [2]),
        ({"orgID": ORG, "user": "0000000000000abc"}, {}, [2]),
        ({"orgID": ORG, "after": IDS[1]}, {}, [2, 4]),
        ({"orgID": ORG, "limit": "2"}, {}, [0, 1]),
        ({"orgID": ORG, "type": "basic"}, {}, [0, 1, 2, 4]),
    ],
)
def test_list_filters(params, kw, expected):
    f = tasks.task_filter(params, **kw)
    assert [d["id"] for d in tasks.select(reversed(docs()), f)] == [IDS[i] for i in expected]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"limit": "0"}, "failed to decode request: limit must be between 1 and 500"),
        ({"limit": "501"}, "failed to decode request: limit must be between 1 and 500"),
        ({"limit": "ten"}, 'failed to decode request: strconv.Atoi: parsing "ten": invalid syntax'),
        ({"after": "123"}, "failed to decode request: id must have a length of 16 bytes"),
        ({"user": "xxxxxxxxxxxxxxxx"}, "failed to decode request: invalid ID"),
        ({"type": "stream"}, 'failed to decode request: "stream" is not a valid task type'),
    ],
)
def test_list_filter_errors(params, message):
    with pytest.raises(TicklessError) as e:
        tasks.task_filter(params)
    assert (e.value.code, e.value.message) == ("invalid", message)


def test_list_answer_links_and_basic_view():
    f = tasks.task_filter({"orgID": ORG, "limit": "2", "type": "basic"})
    out = tasks.tasks_json(tasks.select(docs(), f), f)
    assert out["links"] == {
        "self": f"/api/v2/tasks?limit=2&orgID={ORG}",
        "next": f"/api/v2/tasks?after={IDS[1]}&limit=2&orgID={ORG}",
    }
    first = out["tasks"][0]
    assert first["flux"] == "" and first["org"] == "" and "createdAt" not in first
    assert first["every"] == "1h" and first["latestCompleted"] == "2022-06-30T15:00:00Z"
    f = tasks.task_filter({}, auth_user_id=OWNER)
    assert tasks.tasks_json(tasks.select(docs(), f), f)["links"] == {
        "self": f"/api/v2/tasks?limit=100&user={OWNER}"
    }
