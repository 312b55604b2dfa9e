"""Kapacitor's users over HTTP (seeds/000 "Users"; Kapacitor's services/auth and httpd handler):
`/kapacitor/v1/users` CRUD in the caller's organization, passwords stored only hashed, and Basic or
`u`/`p` credentials of a Kapacitor user on the task, config and write routes with Kapacitor's 401 and
403; InfluxDB credentials keep working beside them."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from urllib.parse import quote

import boto3
import pytest

_ids = itertools.count()
_RUN = uuid.uuid4().hex[:6]  # the onboarded org is shared with other files' tasks: no name collides
USERS = "/kapacitor/v1/users"
SCRIPT = "stream\n    |from()\n        .measurement('cpu')\n"


def _name(prefix: str = "user") -> str:
    return f"{prefix}{_RUN}{next(_ids)}"


def _post(client, path: str, doc, headers: dict | None = None):
    body = doc if isinstance(doc, bytes) else json.dumps(doc)
    return client.http.post(path, body=body, headers={"Content-Type": "application/json", **(headers or {})})


def _patch(client, path: str, doc, headers: dict | None = None):
    body = doc if isinstance(doc, bytes) else json.dumps(doc)
    return client.http.patch(path, body=body, headers={"Content-Type": "application/json", **(headers or {})})


def _basic(name: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def _user(client, permissions: list[str] | None = None, kind: str = "normal", password: str = "pass") -> str:
    name = _name()
    doc = {"name": name, "password": password, "type": kind, "permissions": permissions or []}
    response = _post(client, USERS, doc)
    assert response.status_code == 200, response.body
    return name


def _as(anonymous, name: str, password: str = "pass"):
    """Calls with a Kapacitor user's Basic credentials."""
    return _Basic(anonymous, _basic(name, password))


class _Basic:
    def __init__(self, anonymous, headers: dict) -> None:
        self.anonymous, self.headers = anonymous, headers

    def get(self, path: str):
        return self.anonymous.http.get(path, headers=self.headers)

    def delete(self, path: str):
        return self.anonymous.http.delete(path, headers=self.headers)

    def post(self, path: str, doc, **headers):
        return _post(self.anonymous, path, doc, {**self.headers, **headers})

    def patch(self, path: str, doc):
        return _patch(self.anonymous, path, doc, self.headers)


def _token(client, org_id: str, permissions: list[dict]) -> str:
    response = _post(client, "/api/v2/authorizations", {"orgID": org_id, "permissions": permissions})
    assert response.status_code == 201, response.body
    return response.json_body["token"]


def _org_client(client, *types: str):
    """A client of a new organization whose token reads and writes `types` there."""
    org = _post(client, "/api/v2/orgs", {"name": _name("org")}).json_body["id"]
    permissions = [
        {"action": action, "resource": {"type": kind, "orgID": org}}
        for kind in types
        for action in ("read", "write")
    ]
    return client.with_token(_token(client, org, permissions))


def _task(caller) -> dict:
    doc = {"id": _name("task"), "script": SCRIPT, "dbrps": [{"db": "telegraf", "rp": "autogen"}]}
    response = (
        caller.post("/kapacitor/v1/tasks", doc)
        if isinstance(caller, _Basic)
        else _post(caller, "/kapacitor/v1/tasks", doc)
    )
    assert response.status_code == 200, response.body
    return response.json_body


# -- CRUD --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/kapacitor/v1", "/kapacitor/v1preview"])
def test_create_get_list_update_and_delete(client, prefix):
    name = _name()
    created = _post(
        client, f"{prefix}/users", {"name": name, "password": "pass", "permissions": ["config_api"]}
    )
    assert created.status_code == 200 and created.headers["X-Kapacitor-Version"]
    shown = {
        "link": {"rel": "self", "href": f"/kapacitor/v1/users/{name}"},
        "name": name,
        "type": "normal",
        "permissions": ["config_api"],
    }
    assert created.json_body == shown
    assert client.http.get(f"{prefix}/users/{name}").json_body == shown
    assert shown in client.http.get(f"{prefix}/users").json_body["users"]
    listed = client.http.get(f"{prefix}/users?pattern={name}&fields=type").json_body
    assert listed == {"users": [{"link": shown["link"], "name": name, "type": "normal"}]}

    updated = _patch(
        client, f"{prefix}/users/{name}", {"password": "new", "type": "admin", "permissions": ["all"]}
    )
    assert updated.status_code == 200 and updated.json_body == {**shown, "type": "admin", "permissions": []}

    assert client.http.delete(f"{prefix}/users/{name}").status_code == 204
    missing = client.http.get(f"{prefix}/users/{name}")
    assert missing.status_code == 404 and missing.json_body == {"error": "no user exists"}
    assert client.http.delete(f"{prefix}/users/{name}").status_code == 204  # deleting nothing is fine


def test_all_three_grants_are_all(client):
    name = _name()
    doc = {"name": name, "password": "p", "permissions": ["write_points", "api", "config_api"]}
    assert _post(client, USERS, doc).json_body["permissions"] == ["all"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "invalid JSON"),
        (b"", 400, "invalid JSON"),
        (b"[1]", 400, "invalid JSON"),
        (json.dumps({"name": "x", "password": "p", "permissions": ["root"]}).encode(), 400, "invalid JSON"),
        (json.dumps({"name": "x", "password": "p", "type": "superuser"}).encode(), 400, "invalid JSON"),
        (json.dumps({"password": "p"}).encode(), 400, "username is required"),
        (json.dumps({"name": "x"}).encode(), 400, "password is required"),
        (
            json.dumps({"name": "a/b", "password": "p"}).encode(),
            400,
            "username must contain only letters, numbers, '-', '.', '@' and '_'. \"a/b\"",
        ),
    ],
)
def test_bad_bodies(client, body, status, message):
    response = _post(client, USERS, body)
    assert (response.status_code, response.json_body) == (status, {"error": message})


def test_a_duplicate_name_is_a_conflict_whatever_the_org(client):
    name = _user(client)
    again = _post(client, USERS, {"name": name, "password": "other"})
    assert again.status_code == 409
    assert again.json_body == {"error": "failed to create user: creating user: user already exists"}
    other = _org_client(client, "tasks", "buckets")
    assert _post(other, USERS, {"name": name, "password": "other"}).status_code == 409


def test_unknown_users_and_bad_updates(client):
    missing = _patch(client, f"{USERS}/nobody{next(_ids)}", {"password": "x"})
    assert missing.status_code == 404
    assert missing.json_body == {"error": "failed to create user: updating user: no user exists"}
    name = _user(client)
    bad = _patch(client, f"{USERS}/{name}", b"{")
    assert (bad.status_code, bad.json_body) == (400, {"error": "invalid JSON"})
    listing = client.http.get(f"{USERS}?fields=password")
    assert (listing.status_code, listing.json_body) == (400, {"error": 'unsupported field "password"'})
    slash = client.http.get(f"{USERS}/")
    assert (slash.status_code, slash.json_body) == (400, {"error": "must specify username on path"})
    odd = client.http.get(f"{USERS}/{quote('é' * 600)}")
    assert odd.status_code == 404 and odd.json_body == {"error": "no user exists"}


def test_the_password_is_stored_only_hashed(client, aws):
    from chalicelib.declarations import RESOURCES

    name = _user(client, password="correct-horse-battery")
    table = boto3.resource("dynamodb", endpoint_url=aws.endpoint_url).Table(RESOURCES.physical_name)
    item = table.get_item(Key={RESOURCES.hash_key: "k|users", RESOURCES.range_key: name}, ConsistentRead=True)
    stored = json.dumps(item["Item"], default=str)
    assert name in stored and "correct-horse-battery" not in stored and "scrypt$" in stored
    for response in (client.http.get(f"{USERS}/{name}"), client.http.get(USERS)):
        assert "scrypt" not in response.body.decode() and "correct-horse" not in response.body.decode()


# -- authenticating as a Kapacitor user ----------------------------------------------------------------


def test_an_api_user_manages_tasks_with_basic_or_u_and_p(client, anonymous):
    name = _user(client, ["api"])
    bob = _as(anonymous, name)
    task = _task(bob)
    assert bob.get(f"/kapacitor/v1/tasks/{task['id']}").status_code == 200
    via_params = anonymous.http.get(f"/kapacitor/v1/tasks/{task['id']}?u={name}&p=pass")
    assert via_params.status_code == 200
    assert task["id"] in [
        t["id"] for t in client.http.get("/kapacitor/v1/tasks").json_body["tasks"]
    ]  # the org's
    assert bob.delete(f"/kapacitor/v1/tasks/{task['id']}").status_code == 204
    assert bob.get(USERS).status_code == 200  # `api` covers /users, as in Kapacitor

    config = bob.get("/kapacitor/v1preview/config/smtp")
    assert config.status_code == 403
    assert config.json_body == {
        "error": f'user {name} does not have "read" privilege for API endpoint "/kapacitor/v1/config/smtp"'
    }
    write = bob.post("/kapacitor/v1/write?db=telegraf", b"cpu v=1")
    assert write.status_code == 403
    assert write.json_body == {
        "error": f'user {name} does not have "write" privilege for API endpoint "/kapacitor/v1/write"'
    }


def test_a_config_api_user_reaches_only_config(client, anonymous):
    name = _user(client, ["config_api"])
    carol = _as(anonymous, name)
    assert carol.get("/kapacitor/v1/config/smtp").status_code == 200
    assert carol.post("/kapacitor/v1/config/smtp/", {"set": {"port": 2525}}).status_code == 204
    refused = carol.get("/kapacitor/v1/tasks")
    assert refused.status_code == 403
    assert refused.json_body == {
        "error": f'user {name} does not have "read" privilege for API endpoint "/kapacitor/v1/tasks"'
    }


def test_a_write_points_user_writes_and_may_not_delete_users(client, anonymous, database):
    name = _user(client, ["write_points"])
    dave = _as(anonymous, name)
    written = dave.post(
        f"/kapacitor/v1/write?db={database}&rp=autogen", b"cpu usage=1", **{"Content-Type": "text/plain"}
    )
    assert written.status_code == 204, written.body
    refused = dave.delete(f"{USERS}/root")
    assert refused.status_code == 403
    assert refused.json_body == {
        "error": f'user {name} does not have "delete" privilege for API endpoint "/kapacitor/v1/users/root"'
    }
    assert dave.get("/kapacitor/v1/tasks").status_code == 403


def test_an_admin_may_do_anything_in_its_org_and_bootstraps_others(client, anonymous):
    root = _as(anonymous, _user(client, kind="admin"))
    assert root.get("/kapacitor/v1/config").status_code == 200
    assert root.get("/kapacitor/v1/tasks").status_code == 200
    name = _name()
    created = root.post(USERS, {"name": name, "password": "pw", "permissions": ["api"]})
    assert created.status_code == 200, created.body
    assert _as(anonymous, name, "pw").get("/kapacitor/v1/tasks").status_code == 200
    assert root.patch(f"{USERS}/{name}", {"permissions": []}).status_code == 200
    refused = _as(anonymous, name, "pw").get("/kapacitor/v1/tasks")
    assert refused.status_code == 403


def test_wrong_or_missing_credentials_are_401_in_kapacitors_words(client, anonymous):
    name = _user(client, ["api"])
    for response in (
        _as(anonymous, name, "wrong").get("/kapacitor/v1/tasks"),
        _as(anonymous, f"nobody{next(_ids)}", "pass").get("/kapacitor/v1/tasks"),
        anonymous.http.get(f"/kapacitor/v1/tasks?u={name}&p=wrong"),
        _as(anonymous, name, "wrong").get(USERS),
    ):
        assert (response.status_code, response.json_body) == (401, {"error": "authorization failed"})
    for response in (anonymous.http.get(f"/kapacitor/v1/tasks?u={name}"), anonymous.http.get(USERS)):
        assert response.status_code == 401
        assert response.json_body == {"error": "unable to parse authentication credentials"}


def test_a_changed_password_and_a_deleted_user_stop_working(client, anonymous):
    name = _user(client, ["api"])
    assert _patch(client, f"{USERS}/{name}", {"password": "new"}).status_code == 200
    assert _as(anonymous, name).get("/kapacitor/v1/tasks").status_code == 401
    assert _as(anonymous, name, "new").get("/kapacitor/v1/tasks").status_code == 200
    assert client.http.delete(f"{USERS}/{name}").status_code == 204
    assert _as(anonymous, name, "new").get("/kapacitor/v1/tasks").status_code == 401


def test_influxdb_credentials_keep_working_beside_users(client, anonymous, onboarding):
    token = onboarding["auth"]["token"]
    name = _user(client, ["config_api"])
    # a token as the Basic password, whatever the user name (a Kapacitor user's name included)
    assert _as(anonymous, "anyone", token).get("/kapacitor/v1/tasks").status_code == 200
    assert _as(anonymous, name, token).get("/kapacitor/v1/tasks").status_code == 200
    assert anonymous.http.get(f"/kapacitor/v1/tasks?u={name}&p={token}").status_code == 200
    assert client.http.get("/kapacitor/v1/tasks").status_code == 200


# -- organizations and who manages users ---------------------------------------------------------------


def test_a_user_sees_only_its_own_organization(client, anonymous):
    task = _task(client)  # the onboarded org's
    mine = _name()
    other = _org_client(client, "tasks", "buckets")
    name = _name()
    assert _post(other, USERS, {"name": name, "password": "pass", "permissions": ["api"]}).status_code == 200
    stranger = _as(anonymous, name)
    assert task["id"] not in [t["id"] for t in stranger.get("/kapacitor/v1/tasks").json_body["tasks"]]
    missing = stranger.get(f"/kapacitor/v1/tasks/{task['id']}")
    assert (missing.status_code, missing.json_body) == (404, {"error": "no task exists"})
    theirs = _task(stranger)
    assert client.http.get(f"/kapacitor/v1/tasks/{theirs['id']}").status_code == 404

    assert _post(client, USERS, {"name": mine, "password": "pass", "permissions": ["api"]}).status_code == 200
    assert [u["name"] for u in stranger.get(USERS).json_body["users"]] == [name]
    assert stranger.get(f"{USERS}/{mine}").status_code == 404
    assert stranger.patch(f"{USERS}/{mine}", {"password": "taken"}).status_code == 404
    assert stranger.delete(f"{USERS}/{mine}").status_code == 204
    assert client.http.get(f"{USERS}/{mine}").status_code == 200  # untouched
    assert _as(anonymous, mine).get("/kapacitor/v1/tasks").status_code == 200


def test_influxdb_callers_need_their_orgs_tasks_and_buckets_to_manage_users(client):
    tasks_only = _org_client(client, "tasks")
    assert tasks_only.http.get(USERS).status_code == 200
    refused = _post(tasks_only, USERS, {"name": _name(), "password": "p", "type": "admin"})
    assert (refused.status_code, refused.json_body) == (
        403,
        {"error": "insufficient permissions to write users"},
    )
    buckets_only = _org_client(client, "buckets")
    refused = buckets_only.http.get(USERS)
    assert (refused.status_code, refused.json_body) == (
        403,
        {"error": "insufficient permissions to read users"},
    )
    both = _org_client(client, "tasks", "buckets")
    assert _post(both, USERS, {"name": _name(), "password": "p", "type": "admin"}).status_code == 200


def test_odd_requests_get_an_error_never_a_500(client, anonymous):
    name = _user(client, ["api"])
    odd = [
        _post(client, USERS, b"\xff\xfe{"),
        _post(client, USERS, b'{"name": "x\\ud800", "password": "p"}'),
        _post(client, USERS, {"name": "é" * 600, "password": "p"}),
        _post(client, USERS, {"name": _name(), "password": "x" * 100}),
        _post(client, USERS, {"name": _name(), "password": "p", "permissions": [{"api": 1}]}),
        _patch(client, f"{USERS}/{name}", b"[]"),
        _patch(client, f"{USERS}/{name}", {"type": 5}),
        client.http.get(f"{USERS}?offset=-1"),
        client.http.get(f"{USERS}?limit=abc"),
        client.http.get(f"{USERS}?pattern=%5B%5D"),
        anonymous.http.get(USERS, headers={"Authorization": "Basic %%%"}),
        anonymous.http.get(f"{USERS}?u=%C3%A9&p=%FF"),
        _as(anonymous, "é" * 600, "p").get(USERS),
    ]
    for response in odd:
        assert 400 <= response.status_code < 500, response.body
        assert set(response.json_body) == {"error"}, response.body
