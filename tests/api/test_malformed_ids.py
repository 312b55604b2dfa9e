"""A malformed id is a bad request, as influxd answers it (kit/platform/id.go): `400 invalid`,
`id must have a length of 16 bytes` when it is not 16 characters long, `invalid ID` when it is but is
not a non-zero hex number; never a 404 (which says the id was fine and named nothing).

Walks every route of the app that takes an id in its path (read off the Chalice route table, so a new
route is covered without being listed here), each id in turn malformed and the others real, and
every id-taking query parameter of the list routes, writes, deletes and Flux queries."""

from __future__ import annotations

import itertools
import json
from urllib.parse import urlencode

import pytest

from chalicelib.scheduler.definitions import KINDS

JSON = {"Content-Type": "application/json"}
# Lists that word a malformed ID as influxd's decoder does, after its prefix (not `<words> "x": ...`).
PREFIXED = {"/api/v2/tasks": "failed to decode request: "}
MALFORMED = [("zz", "id must have a length of 16 bytes"), ("zzzzzzzzzzzzzzzz", "invalid ID")]
SURFACE_PREFIXES = ("/api/v2", "/private/legacy", "/legacy")
_n = itertools.count()


@pytest.fixture
def real_ids(client, onboarding) -> dict[str, str]:
    """An existing object for every id a route can take."""
    org_id, bucket_id = onboarding["org"]["id"], onboarding["bucket"]["id"]

    def made(path: str, body: dict) -> dict:
        response = client.http.post(path, body=json.dumps(body), headers=JSON)
        assert response.status_code == 201, response.body
        return response.json_body

    read = [{"action": "read", "resource": {"type": "buckets", "orgID": org_id}}]
    n = next(_n)
    label = made("/api/v2/labels", {"orgID": org_id, "name": f"ids-{n}"})["label"]
    legacy = made(
        "/private/legacy/authorizations", {"orgID": org_id, "token": f"ids-{n}", "permissions": read}
    )
    dbrp = made(
        "/api/v2/dbrps",
        {"orgID": org_id, "bucketID": bucket_id, "database": f"ids{n}", "retention_policy": "rp"},
    )
    flux = f'option task = {{name: "ids-{n}", every: 1h}}\nfrom(bucket: "b") |> range(start: -1h)'
    task = made("/api/v2/tasks", {"orgID": org_id, "flux": flux})
    return {
        "orgID": org_id,
        "bucketID": bucket_id,
        "taskID": task["id"],
        "userID": onboarding["user"]["id"],
        "labelID": label["id"],
        "authID": onboarding["auth"]["id"],
        "legacyID": legacy["id"],
        "dbrpID": dbrp["id"],
    }


def _id_routes(app) -> list[tuple[str, str, list[str]]]:
    routes = []
    for path, methods in sorted(app.routes.items()):
        params = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        if path.startswith(SURFACE_PREFIXES) and any(p.endswith("ID") for p in params):
            routes += [(path, method, params) for method in sorted(methods)]
    return routes


def test_a_malformed_id_in_any_path_is_a_bad_request(app_module, client, real_ids):
    routes = _id_routes(app_module.app)
    assert len(routes) >= 40
    body = json.dumps(
        {
            "password": "long-enough-password",
            "name": "renamed",
            "labelID": real_ids["labelID"],
            "id": real_ids["userID"],
        }
    )
    wrong = []
    for template, method, params in routes:
        legacy = "legacy/authorizations" in template
        ids = {**real_ids, "authID": real_ids["legacyID"] if legacy else real_ids["authID"]}
        for malformed_param in (p for p in params if p.endswith("ID")):
            for value, message in MALFORMED:
                path = template
                for param in params:
                    path = path.replace("{" + param + "}", value if param == malformed_param else ids[param])
                sent = body if method in ("POST", "PUT", "PATCH") else b""
                response = client.http._http.request(
                    method, path, headers={**JSON, "Authorization": f"Token {client.http.token}"}, body=sent
                )
                expected = {"code": "invalid", "message": message}
                if response.status_code != 400 or response.json_body != expected:
                    wrong.append(f"{method} {path}: {response.status_code} {response.body[:200]!r}")
    assert not wrong, "\n".join(wrong)


def _query_id_params() -> list[tuple[str, str, str]]:
    """(path, parameter, the words influxd puts before the error) of every id-taking query parameter:
    each kind's list filters at every path it is served at, and where writes, deletes and Flux
    queries name their org and bucket."""
    found = [
        (path, param, kind.id_context.get(param, ""))
        for kind in KINDS
        for path in kind.paths
        for param in kind.id_params
    ]
    for path in ("/api/v2/write", "/api/v2/delete"):
        found += [(path, "orgID", ""), (path, "bucketID", "")]
    return [*found, ("/api/v2/query", "orgID", "")]


QUERY_ID_PARAMS = _query_id_params()


@pytest.mark.parametrize(
    ("path", "param", "words"), QUERY_ID_PARAMS, ids=[f"{p}?{q}" for p, q, _ in QUERY_ID_PARAMS]
)
def test_a_malformed_id_query_parameter_is_a_bad_request(client, real_ids, path, param, words):
    method = "GET" if path not in ("/api/v2/write", "/api/v2/delete", "/api/v2/query") else "POST"
    params = {"orgID": real_ids["orgID"], "bucket": real_ids["bucketID"]}  # the others well formed
    for value, message in MALFORMED:
        url = f"{path}?{urlencode({**params, param: value})}"
        body = json.dumps(
            {"query": "buckets()", "start": "1970-01-01T00:00:00Z", "stop": "1970-01-02T00:00:00Z"}
        )
        response = client.http.get(url) if method == "GET" else client.http.post(url, body=body, headers=JSON)
        expected = f"{words} {json.dumps(value)}: {message}" if words else message
        expected = PREFIXED[path] + message if path in PREFIXED else expected
        assert (response.status_code, response.json_body) == (400, {"code": "invalid", "message": expected})


def test_the_same_ids_well_formed_are_found(client, real_ids):
    """The control: these routes do take these ids (upper case too, as influxd parses hex)."""
    bucket = real_ids["bucketID"]
    assert client.http.get(f"/api/v2/buckets/{bucket.upper()}").json_body["id"] == bucket
    listed = client.http.get(f"/api/v2/buckets?id={bucket.upper()}").json_body["buckets"]
    assert [b["id"] for b in listed] == [bucket]
    missing = client.http.get("/api/v2/buckets/0000000000000001")
    assert (missing.status_code, missing.json_body["message"]) == (404, "bucket not found")
