"""InfluxDB v2 tenancy over HTTP: onboarding, sessions, orgs, users, buckets, labels, members,
authorizations and what a token may reach, DBRP mappings and the v1 statements that manage them."""

from __future__ import annotations

import base64
import itertools
import json
from urllib.parse import urlencode

import pytest

from tests.api.conftest import ONBOARDING, query

_n = itertools.count()
JSON = {"Content-Type": "application/json"}


def unique(prefix: str) -> str:
    return f"{prefix}{next(_n)}"


def post(client, path: str, body: dict, **headers):
    return client.http.post(path, body=json.dumps(body), headers={**JSON, **headers})


def patch(client, path: str, body: dict):
    return client.http.patch(path, body=json.dumps(body), headers=JSON)


@pytest.fixture
def org_id(onboarding) -> str:
    return onboarding["org"]["id"]


def new_bucket(client, org_id: str, name: str | None = None, **extra) -> dict:
    response = post(client, "/api/v2/buckets", {"orgID": org_id, "name": name or unique("b"), **extra})
    assert response.status_code == 201, response.body
    return response.json_body


def new_token(client, org_id: str, permissions: list[dict], **extra) -> dict:
    response = post(client, "/api/v2/authorizations", {"orgID": org_id, "permissions": permissions, **extra})
    assert response.status_code == 201, response.body
    return response.json_body


def as_token(client, token: str):
    return client.with_token(token)


def bucket_permission(action: str, bucket: dict) -> dict:
    return {"action": action, "resource": {"type": "buckets", "id": bucket["id"], "orgID": bucket["orgID"]}}


# -- onboarding -------------------------------------------------------------------------------------


def test_onboarding_response_and_second_setup(anonymous, onboarding):
    assert onboarding["user"]["name"] == ONBOARDING["username"]
    assert onboarding["org"]["name"] == ONBOARDING["org"]
    assert onboarding["bucket"]["name"] == ONBOARDING["bucket"]
    assert onboarding["bucket"]["orgID"] == onboarding["org"]["id"]
    auth = onboarding["auth"]
    assert auth["userID"] == onboarding["user"]["id"] and auth["status"] == "active"
    assert len(base64.urlsafe_b64decode(auth["token"])) == 64
    assert {p["resource"]["type"] for p in auth["permissions"]} >= {
        "buckets",
        "orgs",
        "users",
        "authorizations",
    }
    assert anonymous.http.get("/api/v2/setup").json_body == {"allowed": False}
    again = post(anonymous, "/api/v2/setup", {"username": "x", "org": "y", "bucket": "z"})
    assert again.status_code == 422
    assert again.json_body == {"code": "conflict", "message": "onboarding has already been completed"}


@pytest.mark.parametrize(
    "path, method",
    [
        ("/api/v2/buckets", "get"),
        ("/api/v2/orgs", "get"),
        ("/api/v2/me", "get"),
        ("/query?q=SHOW+DATABASES", "get"),
    ],
)
def test_no_or_bad_credentials_are_401(anonymous, client, path, method):
    response = getattr(anonymous.http, method)(path)
    assert response.status_code == 401
    bad = getattr(as_token(client, "not-a-token").http, method)(path)
    assert bad.status_code == 401


# -- buckets ----------------------------------------------------------------------------------------


def test_bucket_crud_conflicts_and_name_rules(client, org_id):
    name = unique("bucket")
    bucket = new_bucket(client, org_id, name, retentionRules=[{"type": "expire", "everySeconds": 7200}])
    assert bucket["retentionRules"][0]["everySeconds"] == 7200
    assert bucket["links"]["self"] == f"/api/v2/buckets/{bucket['id']}"
    duplicate = post(client, "/api/v2/buckets", {"orgID": org_id, "name": name})
    assert duplicate.status_code == 422
    assert duplicate.json_body == {"code": "conflict", "message": f"bucket with name {name} already exists"}
    assert duplicate.headers["X-Platform-Error-Code"] == "conflict"
    underscore = post(client, "/api/v2/buckets", {"orgID": org_id, "name": "_mine"})
    assert underscore.status_code == 400
    short = post(
        client,
        "/api/v2/buckets",
        {"orgID": org_id, "name": unique("b"), "retentionRules": [{"type": "expire", "everySeconds": 60}]},
    )
    assert short.json_body["message"] == "expiration seconds must be greater than or equal to one hour"
    renamed = patch(client, f"/api/v2/buckets/{bucket['id']}", {"name": name + "x", "description": "d"})
    assert renamed.status_code == 200 and renamed.json_body["name"] == name + "x"
    assert client.http.get(f"/api/v2/buckets/{bucket['id']}").json_body["description"] == "d"
    assert client.http.delete(f"/api/v2/buckets/{bucket['id']}").status_code == 204
    gone = client.http.get(f"/api/v2/buckets/{bucket['id']}")
    assert gone.status_code == 404
    assert gone.json_body == {"code": "not found", "message": "bucket not found"}


def test_orgs_get_system_buckets_and_bucket_lists_page(client):
    org = post(client, "/api/v2/orgs", {"name": unique("org")}).json_body
    names = {b["name"] for b in client.http.get(f"/api/v2/buckets?orgID={org['id']}").json_body["buckets"]}
    assert names == {"_tasks", "_monitoring"}
    for _ in range(3):
        new_bucket(client, org["id"])
    first = client.http.get(f"/api/v2/buckets?orgID={org['id']}&limit=2").json_body
    assert len(first["buckets"]) == 2
    assert "next" in first["links"] and "prev" not in first["links"]
    second = client.http.get(f"/api/v2/buckets?orgID={org['id']}&limit=2&offset=2").json_body
    assert len(second["buckets"]) == 2 and "prev" in second["links"]
    assert not {b["id"] for b in first["buckets"]} & {b["id"] for b in second["buckets"]}
    by_org_name = client.http.get(f"/api/v2/buckets?org={org['name']}").json_body["buckets"]
    assert len(by_org_name) == 5
    bad_limit = client.http.get("/api/v2/buckets?limit=1000")
    assert bad_limit.status_code == 400


def test_system_buckets_cannot_be_deleted(client, org_id):
    (system,) = client.http.get(f"/api/v2/buckets?orgID={org_id}&name=_tasks").json_body["buckets"]
    assert client.http.delete(f"/api/v2/buckets/{system['id']}").status_code == 400


# -- orgs, users, members, sessions -----------------------------------------------------------------


def test_org_members_and_owners(client, onboarding):
    org = post(client, "/api/v2/orgs", {"name": unique("org")}).json_body
    owners = client.http.get(f"/api/v2/orgs/{org['id']}/owners").json_body["users"]
    assert [o["id"] for o in owners] == [onboarding["user"]["id"]]  # the creator owns it
    user = post(client, "/api/v2/users", {"name": unique("user")}).json_body
    added = post(client, f"/api/v2/orgs/{org['id']}/members", {"id": user["id"]})
    assert added.status_code == 201 and added.json_body["role"] == "member"
    members = client.http.get(f"/api/v2/orgs/{org['id']}/members").json_body["users"]
    assert [m["name"] for m in members] == [user["name"]]
    assert [o["id"] for o in client.http.get(f"/api/v2/orgs?userID={user['id']}").json_body["orgs"]] == [
        org["id"]
    ]
    assert client.http.delete(f"/api/v2/orgs/{org['id']}/members/{user['id']}").status_code == 204
    assert client.http.get(f"/api/v2/orgs/{org['id']}/members").json_body["users"] == []


def test_org_names_are_unique_and_delete_cascades(client):
    name = unique("org")
    org = post(client, "/api/v2/orgs", {"name": name}).json_body
    assert post(client, "/api/v2/orgs", {"name": name}).status_code == 422
    bucket = new_bucket(client, org["id"])
    assert client.http.delete(f"/api/v2/orgs/{org['id']}").status_code == 204
    assert client.http.get(f"/api/v2/buckets/{bucket['id']}").status_code == 404
    assert client.http.get(f"/api/v2/orgs/{org['id']}").status_code == 404


def test_user_password_signin_session_and_signout(client, anonymous):
    user = post(client, "/api/v2/users", {"name": unique("user")}).json_body
    assert "password" not in user
    short = post(client, f"/api/v2/users/{user['id']}/password", {"password": "short"})
    assert short.status_code == 400
    assert (
        post(client, f"/api/v2/users/{user['id']}/password", {"password": "long-enough"}).status_code == 204
    )
    basic = base64.b64encode(f"{user['name']}:wrong-password".encode()).decode()
    assert (
        anonymous.http.post("/api/v2/signin", headers={"Authorization": f"Basic {basic}"}).status_code == 401
    )
    basic = base64.b64encode(f"{user['name']}:long-enough".encode()).decode()
    signin = anonymous.http.post("/api/v2/signin", headers={"Authorization": f"Basic {basic}"})
    assert signin.status_code == 204
    cookie = signin.headers["Set-Cookie"].split(";")[0]
    me = anonymous.http.get("/api/v2/me", headers={"Cookie": cookie})
    assert me.status_code == 200 and me.json_body["name"] == user["name"]
    assert anonymous.http.post("/api/v2/signout", headers={"Cookie": cookie}).status_code == 204
    assert anonymous.http.get("/api/v2/me", headers={"Cookie": cookie}).status_code == 401


def test_me_password_with_old_password(anonymous, client):
    user = post(client, "/api/v2/users", {"name": unique("user")}).json_body
    post(client, f"/api/v2/users/{user['id']}/password", {"password": "first-password"})
    basic = base64.b64encode(f"{user['name']}:first-password".encode()).decode()
    changed = anonymous.http.put(
        "/api/v2/me/password",
        body=json.dumps({"password": "second-password"}),
        headers={**JSON, "Authorization": f"Basic {basic}"},
    )
    assert changed.status_code == 204
    basic = base64.b64encode(f"{user['name']}:second-password".encode()).decode()
    assert (
        anonymous.http.post("/api/v2/signin", headers={"Authorization": f"Basic {basic}"}).status_code == 204
    )


# -- authorizations and what they reach ------------------------------------------------------------


def test_read_only_token_cannot_write(client, org_id, pump):
    bucket = new_bucket(client, org_id, unique("ro") + "/autogen")
    token = new_token(client, org_id, [bucket_permission("read", bucket)])["token"]
    reader = as_token(client, token)
    params = urlencode({"org": ONBOARDING["org"], "bucket": bucket["name"]})
    refused = reader.http.post(
        f"/api/v2/write?{params}", body=b"m v=1 1", headers={"Content-Type": "text/plain"}
    )
    assert refused.status_code == 403
    assert refused.json_body == {"code": "forbidden", "message": "insufficient permissions for write"}
    written = client.http.post(
        f"/api/v2/write?{params}", body=b"m v=1 1", headers={"Content-Type": "text/plain"}
    )
    assert written.status_code == 204
    pump.drain()
    database = bucket["name"].split("/")[0]
    got = query(reader, "SELECT v FROM m", db=database, epoch="ns")
    assert got["results"][0]["series"][0]["values"] == [[1, 1]]


def test_token_of_another_org_reaches_nothing(client, org_id):
    other = post(client, "/api/v2/orgs", {"name": unique("org")}).json_body
    mine = new_bucket(client, org_id)
    token = new_token(
        client,
        other["id"],
        [
            {"action": "read", "resource": {"type": "buckets", "orgID": other["id"]}},
            {"action": "write", "resource": {"type": "buckets", "orgID": other["id"]}},
        ],
    )["token"]
    outsider = as_token(client, token)
    got = outsider.http.get(f"/api/v2/buckets/{mine['id']}")
    assert got.status_code == 401
    assert got.json_body["message"] == f"read:orgs/{org_id}/buckets/{mine['id']} is unauthorized"
    listed = outsider.http.get("/api/v2/buckets").json_body["buckets"]
    assert listed and all(b["orgID"] == other["id"] for b in listed)
    created = post(outsider, "/api/v2/buckets", {"orgID": org_id, "name": unique("b")})
    assert created.status_code == 401  # creating is checked against the org, as influxd words it
    assert created.json_body["message"] == f"write:orgs/{org_id}/buckets is unauthorized"
    params = urlencode({"orgID": org_id, "bucket": mine["id"]})
    write = outsider.http.post(
        f"/api/v2/write?{params}", body=b"m v=1", headers={"Content-Type": "text/plain"}
    )
    assert write.status_code == 403


def test_inactive_and_deleted_tokens_are_refused(client, org_id, onboarding):
    auth = new_token(
        client,
        org_id,
        [{"action": "read", "resource": {"type": "buckets", "orgID": org_id}}],
        description="temporary",
    )
    holder = as_token(client, auth["token"])
    assert holder.http.get("/api/v2/buckets").status_code == 200
    assert patch(client, f"/api/v2/authorizations/{auth['id']}", {"status": "inactive"}).json_body[
        "status"
    ] == ("inactive")
    assert holder.http.get("/api/v2/buckets").status_code == 401
    patch(client, f"/api/v2/authorizations/{auth['id']}", {"status": "active"})
    assert holder.http.get("/api/v2/buckets").status_code == 200
    mine = client.http.get(f"/api/v2/authorizations?userID={onboarding['user']['id']}").json_body[
        "authorizations"
    ]
    assert auth["id"] in {a["id"] for a in mine}
    assert client.http.delete(f"/api/v2/authorizations/{auth['id']}").status_code == 204
    assert holder.http.get("/api/v2/buckets").status_code == 401


def test_a_token_cannot_grant_more_than_it_holds(client, org_id):
    narrow = new_token(
        client,
        org_id,
        [
            {"action": "read", "resource": {"type": "buckets", "orgID": org_id}},
            {"action": "write", "resource": {"type": "authorizations", "orgID": org_id}},
        ],
    )
    wider = post(
        as_token(client, narrow["token"]),
        "/api/v2/authorizations",
        {
            "orgID": org_id,
            "permissions": [{"action": "write", "resource": {"type": "buckets", "orgID": org_id}}],
        },
    )
    assert wider.status_code == 403
    assert wider.json_body["code"] == "forbidden"


def test_invalid_permissions_are_400(client, org_id):
    bad = post(
        client,
        "/api/v2/authorizations",
        {"orgID": org_id, "permissions": [{"action": "read", "resource": {"type": "nope"}}]},
    )
    assert bad.status_code == 400
    assert (
        bad.json_body["message"]
        == "invalid resource type for permission: unknown resource type for permission"
    )


# -- labels -----------------------------------------------------------------------------------------


def test_labels_on_buckets_and_orgs(client, org_id):
    created = post(
        client, "/api/v2/labels", {"orgID": org_id, "name": unique("l"), "properties": {"color": "red"}}
    )
    assert created.status_code == 201
    label = created.json_body["label"]
    bucket = new_bucket(client, org_id)
    attached = post(client, f"/api/v2/buckets/{bucket['id']}/labels", {"labelID": label["id"]})
    assert attached.status_code == 201 and attached.json_body["label"]["id"] == label["id"]
    assert [
        lb["id"] for lb in client.http.get(f"/api/v2/buckets/{bucket['id']}/labels").json_body["labels"]
    ] == [label["id"]]
    assert post(client, f"/api/v2/orgs/{org_id}/labels", {"labelID": label["id"]}).status_code == 201
    updated = patch(client, f"/api/v2/labels/{label['id']}", {"properties": {"color": "", "size": "xl"}})
    assert updated.json_body["label"]["properties"] == {"size": "xl"}
    assert client.http.delete(f"/api/v2/buckets/{bucket['id']}/labels/{label['id']}").status_code == 204
    assert client.http.get(f"/api/v2/buckets/{bucket['id']}/labels").json_body["labels"] == []
    missing = post(client, f"/api/v2/buckets/{bucket['id']}/labels", {"labelID": "0000000000000001"})
    assert missing.status_code == 404


# -- DBRP mappings and v1 ---------------------------------------------------------------------------


def test_dbrp_mapping_routes_v1_names_to_a_bucket(client, org_id, pump):
    bucket = new_bucket(client, org_id)
    database = unique("legacydb")
    created = post(
        client,
        "/api/v2/dbrps",
        {"orgID": org_id, "bucketID": bucket["id"], "database": database, "retention_policy": "main"},
    )
    assert created.status_code == 201
    mapping = created.json_body
    assert mapping["default"] is True  # the first mapping of a database is its default
    listed = client.http.get(f"/api/v2/dbrps?orgID={org_id}&db={database}").json_body["content"]
    assert [m["id"] for m in listed] == [mapping["id"]]
    assert client.http.get(f"/api/v2/dbrps/{mapping['id']}").json_body["content"]["bucketID"] == bucket["id"]
    assert client.http.get("/api/v2/dbrps").status_code == 400  # org or orgID is required
    written = client.http.post(
        f"/write?db={database}", body=b"m v=3 3", headers={"Content-Type": "text/plain"}
    )
    assert written.status_code == 204
    pump.drain()
    got = query(client, "SELECT v FROM m", db=database, rp="main", epoch="ns")
    assert got["results"][0]["series"][0]["values"] == [[3, 3]]
    assert client.http.delete(f"/api/v2/dbrps/{mapping['id']}").status_code == 204
    assert (
        query(client, "SELECT v FROM m", db=database)["results"][0]["error"]
        == f"database not found: {database}"
    )


def test_dbrp_patch_moves_the_default_and_lists_are_not_paged(client, org_id):
    """As influxd's DBRP service: a database has one default mapping, which PATCH can move."""
    database = unique("patchdb")

    def new_mapping(rp: str) -> dict:
        body = {"orgID": org_id, "bucketID": new_bucket(client, org_id)["id"], "database": database}
        created = post(client, "/api/v2/dbrps", {**body, "retention_policy": rp})
        assert created.status_code == 201, created.body
        return created.json_body

    def defaults() -> dict[str, bool]:
        listed = client.http.get(f"/api/v2/dbrps?orgID={org_id}&db={database}").json_body["content"]
        return {m["retention_policy"]: m["default"] for m in listed}

    first, second = new_mapping("a"), new_mapping("b")
    assert (first["default"], second["default"]) == (True, False)
    moved = patch(client, f"/api/v2/dbrps/{second['id']}", {"default": True})
    assert moved.status_code == 200 and moved.json_body["content"]["default"] is True
    assert defaults() == {"a": False, "b": True}
    shown = query(client, f"SHOW RETENTION POLICIES ON {database}")["results"][0]["series"][0]["values"]
    assert [(name, default) for name, *_, default in shown] == [("a", False), ("b", True)]
    # unsetting the default passes it to the first other mapping
    assert patch(client, f"/api/v2/dbrps/{second['id']}", {"default": False}).status_code == 200
    assert defaults() == {"a": True, "b": False}
    # influxd does not page DBRP lists: `limit` is not a DBRP parameter, and there are no links
    unpaged = client.http.get(f"/api/v2/dbrps?orgID={org_id}&db={database}&limit=1").json_body
    assert list(unpaged) == ["content"] and len(unpaged["content"]) == 2
    # the only mapping of a database stays its default
    assert client.http.delete(f"/api/v2/dbrps/{second['id']}").status_code == 204
    kept = patch(client, f"/api/v2/dbrps/{first['id']}", {"default": False})
    assert kept.status_code == 200 and kept.json_body["content"]["default"] is True
    assert defaults() == {"a": True}


def test_v1_database_and_retention_policy_statements(client, org_id):
    database = unique("v1db")
    assert query(client, f"CREATE DATABASE {database}") == {"results": [{"statement_id": 0}]}
    buckets = client.http.get(f"/api/v2/buckets?orgID={org_id}&name={database}/autogen").json_body["buckets"]
    assert len(buckets) == 1
    assert query(client, f"CREATE RETENTION POLICY week ON {database} DURATION 7d REPLICATION 1") == {
        "results": [{"statement_id": 0}]
    }
    policies = query(client, f"SHOW RETENTION POLICIES ON {database}")["results"][0]["series"][0]
    assert policies["columns"] == ["name", "duration", "shardGroupDuration", "replicaN", "default"]
    assert policies["values"] == [
        ["autogen", "0s", "168h0m0s", 1, True],
        ["week", "168h0m0s", "24h0m0s", 1, False],
    ]
    assert [database] in query(client, "SHOW DATABASES")["results"][0]["series"][0]["values"]
    assert query(client, f"DROP RETENTION POLICY week ON {database}") == {"results": [{"statement_id": 0}]}
    assert client.http.get(f"/api/v2/buckets?orgID={org_id}&name={database}/week").json_body["buckets"] == []
    query(client, f"DROP DATABASE {database}")
    assert (
        client.http.get(f"/api/v2/buckets?orgID={org_id}&name={database}/autogen").json_body["buckets"] == []
    )


def test_show_databases_lists_only_readable_mappings(client, org_id):
    visible = new_bucket(client, org_id, unique("seen") + "/autogen")
    hidden = new_bucket(client, org_id, unique("unseen") + "/autogen")
    token = new_token(client, org_id, [bucket_permission("read", visible)])["token"]
    names = [
        v[0] for v in query(as_token(client, token), "SHOW DATABASES")["results"][0]["series"][0]["values"]
    ]
    assert visible["name"].split("/")[0] in names
    assert hidden["name"].split("/")[0] not in names


def test_legacy_authorization_with_password(client, org_id, anonymous):
    bucket = new_bucket(client, org_id, unique("leg") + "/autogen")
    name = unique("v1user")
    created = post(
        client,
        "/private/legacy/authorizations",
        {"orgID": org_id, "token": name, "permissions": [bucket_permission("read", bucket)]},
    )
    assert created.status_code == 201, created.body
    auth = created.json_body
    assert "password" not in auth
    assert post(
        client, f"/private/legacy/authorizations/{auth['id']}/password", {"password": "v1-secret"}
    ).status_code == (204)
    database = bucket["name"].split("/")[0]
    ok = anonymous.http.get(
        "/query?" + urlencode({"q": "SHOW MEASUREMENTS", "db": database, "u": name, "p": "v1-secret"})
    )
    assert ok.status_code == 200, ok.body
    basic = base64.b64encode(f"{name}:v1-secret".encode()).decode()
    assert (
        anonymous.http.get(
            f"/query?q=SHOW+DATABASES&db={database}", headers={"Authorization": f"Basic {basic}"}
        ).status_code
        == 200
    )
    wrong = anonymous.http.get("/query?" + urlencode({"q": "SHOW DATABASES", "u": name, "p": "nope"}))
    assert wrong.status_code == 401
    listed = client.http.get(f"/legacy/authorizations?orgID={org_id}").json_body["authorizations"]
    assert auth["id"] in {a["id"] for a in listed}
