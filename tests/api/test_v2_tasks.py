"""InfluxDB v2 task definitions over HTTP (/api/v2/tasks): create, list, get, patch, delete, labels,
members and owners, answered and worded as influxd answers them. Tasks are stored, not run (yet)."""

from __future__ import annotations

import itertools
import json

import pytest

JSON = {"Content-Type": "application/json"}
_n = itertools.count()
BODY = 'from(bucket: "b") |> range(start: -1h)'


def _flux(name: str, options: str = "every: 1h") -> str:
    return f'option task = {{name: "{name}", {options}}}\n\n{BODY}'


def _post(http, path: str, body: object):
    return http.post(path, body=json.dumps(body), headers=JSON)


def _patch(http, path: str, body: object):
    return http.patch(path, body=json.dumps(body), headers=JSON)


def _error(response, status: int, message: str) -> None:
    assert (response.status_code, response.json_body["message"]) == (status, message), response.body


@pytest.fixture(scope="module")
def org(app_module, onboarding) -> dict:
    from chalice.test import Client

    with Client(app_module.app, stage_name="local") as raw:
        made = raw.http.post(
            "/api/v2/orgs",
            body=json.dumps({"name": f"tasks-{next(_n)}"}),
            headers={**JSON, "Authorization": f"Token {onboarding['auth']['token']}"},
        )
        assert made.status_code == 201, made.body
        return made.json_body


def _task(client, org: dict, name: str | None = None, options: str = "every: 1h", **extra) -> dict:
    name = name or f"task-{next(_n)}"
    made = _post(client.http, "/api/v2/tasks", {"orgID": org["id"], "flux": _flux(name, options), **extra})
    assert made.status_code == 201, made.body
    return made.json_body


def test_create_every_get_and_shape(client, org, onboarding):
    task = _task(client, org, "shape", description="downsample", status="inactive")
    assert task["name"] == "shape" and task["every"] == "1h" and "cron" not in task
    assert task["orgID"] == org["id"] and task["org"] == org["name"]
    assert task["ownerID"] == onboarding["user"]["id"]  # the token's user
    assert task["status"] == "inactive" and task["description"] == "downsample"
    assert task["flux"] == _flux("shape") and task["labels"] == []
    base = f"/api/v2/tasks/{task['id']}"
    assert task["links"] == {
        "self": base,
        "labels": f"{base}/labels",
        "logs": f"{base}/logs",
        "members": f"{base}/members",
        "owners": f"{base}/owners",
        "runs": f"{base}/runs",
    }
    assert {"createdAt", "latestCompleted"} <= set(task)
    got = client.http.get(base)
    assert got.status_code == 200 and got.json_body == task


def test_create_cron_offset_and_by_org_name(client, org):
    flux = _flux("cron", 'cron: "0 * * * *", offset: 5m')
    made = _post(client.http, "/api/v2/tasks", {"org": org["name"], "flux": flux})
    assert made.status_code == 201, made.body
    task = made.json_body
    assert (task["cron"], task["offset"], task["orgID"], task["status"]) == (
        "0 * * * *",
        "5m",
        org["id"],
        "active",
    )
    assert "every" not in task


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"flux": BODY}, "invalid options: no task options defined"),
        ({"flux": "option task = {every: 1h}\n" + BODY}, "invalid options: missing required option: name"),
        (
            {"flux": _flux("both", 'every: 1h, cron: "* * * * *"')},
            "invalid options: cannot use both cron and every in task options",
        ),
        ({"flux": "option task = {name: "}, None),  # a syntax error, in the parser's words
        ({}, "failed to decode request: missing flux"),
        ({"flux": _flux("x"), "status": "paused"}, 'failed to decode request: invalid task status: "paused"'),
        ({"flux": 1}, None),
    ],
)
def test_create_errors_are_influxds(client, org, body, message):
    sent = {"orgID": org["id"], **{k: v for k, v in body.items() if v is not None}}
    response = _post(client.http, "/api/v2/tasks", sent)
    assert response.status_code == 400, response.body
    assert response.json_body["code"] == "invalid"
    if message is not None:
        assert response.json_body["message"] == message


def test_create_needs_an_org_and_a_json_object(client, org):
    _error(
        _post(client.http, "/api/v2/tasks", {"flux": _flux("x")}),
        400,
        "failed to decode request: missing orgID and org",
    )
    _error(
        _post(client.http, "/api/v2/tasks", {"flux": _flux("x"), "orgID": "zz"}),
        400,
        "failed to decode request: id must have a length of 16 bytes",
    )
    response = _post(client.http, "/api/v2/tasks", [1])
    assert response.status_code == 400 and "cannot unmarshal array" in response.json_body["message"]
    bad = client.http.post("/api/v2/tasks", body=b"{not json", headers=JSON)
    assert bad.status_code == 400 and bad.json_body["code"] == "invalid"
    missing = _post(client.http, "/api/v2/tasks", {"flux": _flux("x"), "orgID": "0000000000000001"})
    assert missing.status_code == 404
    unknown = _post(client.http, "/api/v2/tasks", {"flux": _flux("x"), "org": "no-such-org"})
    assert unknown.status_code == 404


def test_list_filters(client, org, onboarding):
    a = _task(client, org, "filter-a")
    b = _task(client, org, "filter-b", status="inactive")

    def listed(query: str) -> list[str]:
        response = client.http.get(f"/api/v2/tasks?{query}")
        assert response.status_code == 200, response.body
        return [t["id"] for t in response.json_body["tasks"]]

    assert {a["id"], b["id"]} <= set(listed(f"orgID={org['id']}"))
    assert {a["id"], b["id"]} <= set(listed(f"org={org['name']}"))
    assert listed(f"orgID={org['id']}&name=filter-a") == [a["id"]]
    assert listed(f"orgID={org['id']}&status=inactive&name=filter-b") == [b["id"]]
    assert listed(f"orgID={org['id']}&status=active&name=filter-b") == []
    assert {a["id"], b["id"]} <= set(listed(f"user={onboarding['user']['id']}"))
    assert listed(f"orgID={org['id']}&user=0000000000000001") == []
    assert {a["id"], b["id"]} <= set(listed(""))  # no org nor user: the caller's own tasks
    basic = client.http.get(f"/api/v2/tasks?orgID={org['id']}&type=basic&name=filter-a").json_body["tasks"]
    assert basic[0]["flux"] == "" and "createdAt" not in basic[0]
    _error(
        client.http.get("/api/v2/tasks?type=other"),
        400,
        'failed to decode request: "other" is not a valid task type',
    )
    _error(
        client.http.get("/api/v2/tasks?limit=0"),
        400,
        "failed to decode request: limit must be between 1 and 500",
    )
    _error(
        client.http.get("/api/v2/tasks?limit=x"),
        400,
        'failed to decode request: strconv.Atoi: parsing "x": invalid syntax',
    )
    _error(
        client.http.get("/api/v2/tasks?orgID=zz"),
        400,
        "failed to decode request: id must have a length of 16 bytes",
    )
    assert client.http.get("/api/v2/tasks?org=no-such-org").status_code == 404


def test_list_pages_with_after_and_limit(client):
    org = _post(client.http, "/api/v2/orgs", {"name": f"tasks-paging-{next(_n)}"}).json_body
    made = sorted(_task(client, org)["id"] for _ in range(5))
    first = client.http.get(f"/api/v2/tasks?orgID={org['id']}&limit=2").json_body
    assert [t["id"] for t in first["tasks"]] == made[:2]
    assert first["links"]["self"] == f"/api/v2/tasks?limit=2&orgID={org['id']}"
    assert first["links"]["next"] == f"/api/v2/tasks?after={made[1]}&limit=2&orgID={org['id']}"
    seen, url = [], f"/api/v2/tasks?orgID={org['id']}&limit=2"
    while url:
        page = client.http.get(url).json_body
        seen += [t["id"] for t in page["tasks"]]
        url = page["links"].get("next")
    assert seen == made
    after = client.http.get(f"/api/v2/tasks?orgID={org['id']}&after={made[2]}").json_body
    assert [t["id"] for t in after["tasks"]] == made[3:] and "next" not in after["links"]


def test_patch_rewrites_the_script(client, org):
    task = _task(client, org, "patched")
    path = f"/api/v2/tasks/{task['id']}"
    every = _patch(client.http, path, {"every": "30m", "offset": "10s"}).json_body
    assert (every["every"], every["offset"]) == ("30m", "10s")
    assert "every: 30m" in every["flux"] and "offset: 10s" in every["flux"]
    cron = _patch(client.http, path, {"cron": "*/5 * * * *"}).json_body
    assert cron["cron"] == "*/5 * * * *" and "every" not in cron and 'cron: "*/5 * * * *"' in cron["flux"]
    renamed = _patch(
        client.http, path, {"name": "renamed", "description": "d", "status": "inactive"}
    ).json_body
    assert (renamed["name"], renamed["description"], renamed["status"]) == ("renamed", "d", "inactive")
    assert 'name: "renamed"' in renamed["flux"] and "updatedAt" in renamed
    flux = _patch(client.http, path, {"flux": _flux("from-flux", "every: 2h")}).json_body
    assert (flux["name"], flux["every"]) == ("from-flux", "2h")
    assert client.http.get(path).json_body == flux
    _error(
        _patch(client.http, path, {"every": "1h", "cron": "* * * * *"}),
        400,
        "failed to decode request: cannot specify both every and cron",
    )
    _error(_patch(client.http, path, {}), 400, "failed to decode request: cannot update task without content")
    _error(
        _patch(client.http, path, {"status": "paused"}),
        400,
        'failed to decode request: invalid task status: "paused"',
    )
    assert _patch(client.http, path, [1]).status_code == 400
    assert client.http.patch(path, body=b"{", headers=JSON).status_code == 400
    assert _patch(client.http, "/api/v2/tasks/0000000000000001", {"status": "active"}).status_code == 404


def test_delete_then_404(client, org):
    task = _task(client, org)
    path = f"/api/v2/tasks/{task['id']}"
    assert client.http.delete(path).status_code == 204
    for response in (
        client.http.get(path),
        client.http.delete(path),
        _patch(client.http, path, {"status": "active"}),
    ):
        assert response.status_code == 404 and response.json_body == {
            "code": "not found",
            "message": "task not found",
        }
    listed = client.http.get(f"/api/v2/tasks?orgID={org['id']}").json_body["tasks"]
    assert task["id"] not in [t["id"] for t in listed]


def test_labels_members_owners(client, org):
    task = _task(client, org)
    path = f"/api/v2/tasks/{task['id']}"
    label = _post(client.http, "/api/v2/labels", {"orgID": org["id"], "name": f"tl-{next(_n)}"}).json_body[
        "label"
    ]
    assert _post(client.http, f"{path}/labels", {"labelID": label["id"]}).status_code == 201
    assert [lb["id"] for lb in client.http.get(f"{path}/labels").json_body["labels"]] == [label["id"]]
    shown = client.http.get(path).json_body["labels"]
    assert shown == [{"id": label["id"], "orgID": org["id"], "name": label["name"], "properties": {}}]
    listed = client.http.get(f"/api/v2/tasks?orgID={org['id']}").json_body["tasks"]
    assert next(t for t in listed if t["id"] == task["id"])["labels"] == shown
    assert client.http.delete(f"{path}/labels/{label['id']}").status_code == 204
    assert client.http.get(f"{path}/labels").json_body["labels"] == []
    user = _post(client.http, "/api/v2/users", {"name": f"task-user-{next(_n)}"}).json_body
    for plural, role in (("members", "member"), ("owners", "owner")):
        added = _post(client.http, f"{path}/{plural}", {"id": user["id"]})
        assert added.status_code == 201 and added.json_body["role"] == role
        assert [u["id"] for u in client.http.get(f"{path}/{plural}").json_body["users"]] == [user["id"]]
        assert client.http.delete(f"{path}/{plural}/{user['id']}").status_code == 204
        assert client.http.get(f"{path}/{plural}").json_body["users"] == []


def test_another_orgs_token_reaches_nothing(client, org):
    task = _task(client, org)
    other = _post(
        client.http,
        "/api/v2/setup/user",
        {
            "username": f"task-other-{next(_n)}",
            "password": "other-password",
            "org": f"task-other-{next(_n)}",
            "bucket": "b",
        },
    ).json_body
    stranger = client.with_token(other["auth"]["token"]).http
    path = f"/api/v2/tasks/{task['id']}"
    for response in (
        stranger.get(path),
        _patch(stranger, path, {"status": "inactive"}),
        stranger.delete(path),
        stranger.get(f"{path}/labels"),
        stranger.get(f"{path}/members"),
    ):
        assert response.status_code == 401, response.body  # influxd's: the permission it lacks
        assert task["name"] not in response.body.decode()
    assert task["id"] not in stranger.get(f"/api/v2/tasks?orgID={org['id']}").body.decode()
    assert stranger.get("/api/v2/tasks").json_body["tasks"] == []
    refused = _post(stranger, "/api/v2/tasks", {"orgID": org["id"], "flux": _flux("x")})
    assert refused.status_code == 401
    own = _post(stranger, "/api/v2/tasks", {"orgID": other["org"]["id"], "flux": _flux("mine")})
    assert own.status_code == 201 and own.json_body["ownerID"] == other["user"]["id"]
    assert client.http.get(path).json_body["status"] == "active"


def test_read_only_token_lists_but_cannot_write(client, org):
    task = _task(client, org)
    read = [{"action": "read", "resource": {"type": "tasks", "orgID": org["id"]}}]
    token = _post(client.http, "/api/v2/authorizations", {"orgID": org["id"], "permissions": read}).json_body[
        "token"
    ]
    reader = client.with_token(token).http
    path = f"/api/v2/tasks/{task['id']}"
    assert reader.get(path).status_code == 200
    assert task["id"] in [t["id"] for t in reader.get(f"/api/v2/tasks?orgID={org['id']}").json_body["tasks"]]
    assert _patch(reader, path, {"status": "inactive"}).status_code == 401
    assert reader.delete(path).status_code == 401
    assert _post(reader, "/api/v2/tasks", {"orgID": org["id"], "flux": _flux("x")}).status_code == 401


def test_malformed_ids_and_no_token(client, anonymous, org):
    for path in ("/api/v2/tasks/zz", "/api/v2/tasks/zzzzzzzzzzzzzzzz/labels"):
        assert client.http.get(path).status_code == 400
    _error(client.http.get("/api/v2/tasks/zz"), 400, "id must have a length of 16 bytes")
    _error(
        client.http.get("/api/v2/tasks?after=zzzzzzzzzzzzzzzz"), 400, "failed to decode request: invalid ID"
    )
    for response in (
        anonymous.http.get("/api/v2/tasks"),
        anonymous.http.post(
            "/api/v2/tasks", body=json.dumps({"orgID": org["id"], "flux": _flux("x")}), headers=JSON
        ),
        anonymous.http.get("/api/v2/tasks/0000000000000001"),
    ):
        assert response.status_code == 401


def test_deleting_the_org_deletes_its_tasks(client):
    org = _post(client.http, "/api/v2/orgs", {"name": f"tasks-gone-{next(_n)}"}).json_body
    task = _task(client, org)
    assert client.http.delete(f"/api/v2/orgs/{org['id']}").status_code == 204
    assert client.http.get(f"/api/v2/tasks/{task['id']}").status_code == 404
