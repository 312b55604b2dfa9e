"""Task definitions through the official `influxdb-client` TasksApi, as a user would: create with
`every`, find (by name, with paging), update, labels, delete. Tasks are stored, not run (yet)."""

from __future__ import annotations

import pytest
from influxdb_client import InfluxDBClient, LabelsApi, Organization, TaskUpdateRequest
from influxdb_client.rest import ApiException

FLUX = 'from(bucket: "b") |> range(start: -1h) |> yield()'


@pytest.fixture
def org(onboarded) -> Organization:
    return Organization(id=onboarded.org_id, name=onboarded.org_name)


@pytest.fixture
def client(onboarded):
    with InfluxDBClient(url=onboarded.url, token=onboarded.token, org=onboarded.org_name) as client:
        yield client


def test_task_lifecycle_with_the_official_client(client, org, onboarded, unique):
    tasks = client.tasks_api()
    name = unique("client-task")
    task = tasks.create_task_every(name, FLUX, "1h", org)
    assert (task.name, task.every, task.status, task.org_id) == (name, "1h", "active", org.id)
    assert task.owner_id == onboarded.user_id and "every: 1h" in task.flux

    assert [t.id for t in tasks.find_tasks(name=name)] == [task.id]
    assert task.id in [t.id for t in tasks.find_tasks(org_id=onboarded.org_id)]
    assert tasks.find_task_by_id(task.id).name == name

    task.status = "inactive"
    task.description = "kept, not run"
    updated = tasks.update_task(task)
    assert (updated.status, updated.description) == ("inactive", "kept, not run")
    cron = tasks.update_task_request(task.id, TaskUpdateRequest(cron="0 * * * *"))
    assert cron.cron == "0 * * * *" and not cron.every

    label = LabelsApi(client).create_label(unique("task-label"), onboarded.org_id)
    tasks.add_label(label.id, task.id)
    assert [lb.id for lb in tasks.get_labels(task.id).labels] == [label.id]
    tasks.delete_label(label.id, task.id)

    tasks.delete_task(task.id)
    with pytest.raises(ApiException) as missing:
        tasks.find_task_by_id(task.id)
    assert missing.value.status == 404


def test_find_tasks_pages_with_after(client, org, onboarded, unique):
    tasks = client.tasks_api()
    made = sorted(tasks.create_task_every(unique("paged-task"), FLUX, "5m", org).id for _ in range(3))
    first = tasks.find_tasks(org_id=onboarded.org_id, limit=1, after=made[0])
    assert [t.id for t in first] == [made[1]]
    pages = list(tasks.find_tasks_iter(org_id=onboarded.org_id, limit=2))
    assert set(made) <= {t.id for t in pages}


def test_a_bad_script_is_a_bad_request(client, org):
    with pytest.raises(ApiException) as refused:
        client.tasks_api().create_task_every("bad", "from(", "1h", org)
    assert refused.value.status == 400 and '"code":"invalid"' in refused.value.body.replace(" ", "")
