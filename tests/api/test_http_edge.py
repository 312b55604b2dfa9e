"""The HTTP edge over HTTP: request bodies (multi-member gzip, trailing junk, the limit across members,
bodies API Gateway already inflated), unknown routes and wrong methods in each surface's format, v1
credentials in a form body, and credentials on Kapacitor's write endpoints.

Unknown paths only reach the app through the catch-all resources of API Gateway's tree, which
chalice.test's gateway does not have: those tests go through the local stack's HTTP server, in process."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import urlencode

import pytest
import requests

from tests.api.conftest import query, series_values, stream_batches

SECRET = "Token do-not-echo-this-token"


def write_v1(client, body: bytes, database: str, headers: dict | None = None):
    headers = {"Content-Type": "text/plain", **(headers or {})}
    return client.http.post(f"/write?db={database}", body=body, headers=headers)


# -- request bodies --------------------------------------------------------------------------------------


def test_multi_member_gzip_body_stores_every_member(client, pump, database):
    body = gzip.compress(b"mm value=1i 1\n") + gzip.compress(b"mm value=2i 2\n") + gzip.compress(b"")
    response = write_v1(client, body, database, {"Content-Encoding": "gzip"})
    assert response.status_code == 204, response.body
    pump.drain()
    assert series_values(client, "SELECT value FROM mm", database) == [[1, 1], [2, 2]]


@pytest.mark.parametrize(
    "junk",
    [b"\n", b"\x00\x00\x00\x00", b"trailing junk", b"\x1f\x8b\x08"],
    ids=["newline", "zeros", "text", "cut"],
)
def test_data_after_the_gzip_stream_is_refused(client, pump, database, junk):
    response = write_v1(
        client, gzip.compress(b"tj value=1i 1\n") + junk, database, {"Content-Encoding": "gzip"}
    )
    assert response.status_code == 400
    assert response.json_body == {"error": "invalid gzip body: data after the gzip stream"}
    v2 = client.http.post(
        f"/api/v2/write?org=acme&bucket={database}/autogen",
        body=gzip.compress(b"tj value=1i 1\n") + junk,
        headers={"Content-Type": "text/plain", "Content-Encoding": "gzip"},
    )
    assert v2.status_code == 400
    assert v2.json_body == {"code": "invalid", "message": "invalid gzip body: data after the gzip stream"}
    pump.drain()
    assert query(client, "SELECT * FROM tj", db=database)["results"] == [{"statement_id": 0}]


def test_decompressed_limit_holds_across_members(client, database):
    half = gzip.compress(b"0" * 13_000_000)  # two members of 13 MB each: 26 MB, over the 25 MB limit
    response = write_v1(client, half + half, database, {"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert response.json_body == {"error": "request body is too large"}
    one = write_v1(client, half, database, {"Content-Encoding": "gzip"})
    assert one.status_code == 400  # within the limit: read, then refused as line protocol


def test_body_labelled_gzip_that_the_gateway_already_inflated(client, pump, database):
    """API Gateway (REST) inflates gzip request bodies before Lambda and keeps `Content-Encoding: gzip`
    (docs/DEPLOY.md): a body so labelled without gzip's magic bytes is taken as inflated."""
    response = write_v1(client, b"inflated value=3i 3\n", database, {"Content-Encoding": "gzip"})
    assert response.status_code == 204, response.body
    pump.drain()
    assert series_values(client, "SELECT value FROM inflated", database) == [[3, 3]]


# -- unknown routes: 404 in the surface's format, nothing echoed -----------------------------------------


@pytest.mark.parametrize(
    ("path", "expected", "header"),
    [
        ("/api/v2/nope", {"code": "not found", "message": "path not found"}, "X-Platform-Error-Code"),
        (
            "/api/v2/buckets/0123/not/a/route",
            {"code": "not found", "message": "path not found"},
            "X-Influxdb-Version",
        ),
        ("/api/v3", {"code": "not found", "message": "path not found"}, "X-Influxdb-Version"),
        ("/private/nope", {"code": "not found", "message": "path not found"}, "X-Influxdb-Version"),
        ("/nope", {"error": "path not found"}, "X-Influxdb-Version"),
        ("/write/extra", {"error": "path not found"}, "X-Influxdb-Version"),
        ("/", {"error": "path not found"}, "X-Influxdb-Version"),
        ("/kapacitor/v1/nope", {"error": "Not Found"}, "X-Kapacitor-Version"),
        ("/kapacitor/v1preview/tasks/x/y/z", {"error": "Not Found"}, "X-Kapacitor-Version"),
        ("/kapacitor", {"error": "Not Found"}, "X-Kapacitor-Version"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_unknown_route_is_404_in_the_surfaces_format(http, path, expected, header, method):
    response = requests.request(method, http + path, headers={"Authorization": SECRET}, data=b"x v=1")
    assert response.status_code == 404
    assert response.json() == expected
    assert response.headers[header]
    assert "do-not-echo-this-token" not in response.text
    assert not any("do-not-echo-this-token" in value for value in response.headers.values())


def test_unknown_route_head_is_404_without_a_body(http):
    response = requests.head(http + "/api/v2/nope")
    assert response.status_code == 404 and response.content == b""


# -- wrong methods: 405 in the surface's format ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "expected", "allow"),
    [
        ("PUT", "/api/v2/write", {"code": "method not allowed", "message": "allow: POST"}, "POST"),
        (
            "DELETE",
            "/api/v2/buckets",
            {"code": "method not allowed", "message": "allow: GET, POST"},
            "GET, POST",
        ),
        ("GET", "/write", {"error": "allow: POST"}, "POST"),
        ("DELETE", "/query", {"error": "allow: GET, POST"}, "GET, POST"),
        ("GET", "/kapacitor/v1/write", {"error": "allow: POST"}, "POST"),
        ("PATCH", "/kapacitor/v1preview/write", {"error": "allow: POST"}, "POST"),
    ],
)
def test_wrong_method_is_405_in_the_surfaces_format(client, method, path, expected, allow):
    response = getattr(client.http, method.lower())(path, headers={"Authorization": SECRET})
    assert response.status_code == 405
    assert response.json_body == expected
    assert response.headers["Allow"] == allow
    assert "do-not-echo-this-token" not in response.body.decode()


def test_wrong_method_through_the_gateway(http):
    response = requests.options(http + "/api/v2/write")
    assert response.status_code == 405
    assert response.json() == {"code": "method not allowed", "message": "allow: POST"}
    assert response.headers["X-Platform-Error-Code"] == "method not allowed"


# -- v1 credentials in a urlencoded POST body ------------------------------------------------------------


def form_query(anonymous, fields: dict):
    return anonymous.http.post(
        "/query",
        body=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_v1_credentials_in_a_form_body(anonymous, onboarding, database):
    token = onboarding["auth"]["token"]
    ok = form_query(anonymous, {"q": "SHOW MEASUREMENTS", "db": database, "u": "anyone", "p": token})
    assert ok.status_code == 200, ok.body
    assert ok.json_body == {"results": [{"statement_id": 0}]}
    wrong = form_query(
        anonymous, {"q": "SHOW MEASUREMENTS", "db": database, "u": "anyone", "p": "not-a-token"}
    )
    assert wrong.status_code == 401
    assert wrong.json_body == {"error": "unauthorized access"}
    none = form_query(anonymous, {"q": "SHOW MEASUREMENTS", "db": database})
    assert none.status_code == 401


# -- Kapacitor's write endpoints need credentials --------------------------------------------------------

PREFIXES = ["/kapacitor/v1", "/kapacitor/v1preview"]


def kapacitor_write(anonymous, prefix: str, database: str, headers: dict | None = None, **params):
    return anonymous.http.post(
        f"{prefix}/write?" + urlencode({"db": database, **params}),
        body=b"kauth value=1 1",
        headers={"Content-Type": "text/plain", **(headers or {})},
    )


@pytest.mark.parametrize("prefix", PREFIXES)
def test_kapacitor_write_without_credentials_is_401(anonymous, pump, prefix):
    database = f"kanon{prefix.rsplit('/', 1)[-1]}"
    response = kapacitor_write(anonymous, prefix, database)
    assert response.status_code == 401
    assert response.json_body == {"error": "unable to parse authentication credentials"}
    assert response.headers["X-Kapacitor-Version"]
    for headers, params in [
        ({"Authorization": "Token not-a-token"}, {}),
        ({}, {"u": "x", "p": "not-a-token"}),
    ]:
        refused = kapacitor_write(anonymous, prefix, database, headers, **params)
        assert refused.status_code == 401
        assert refused.json_body == {"error": "authorization failed"}
    assert stream_batches(pump.endpoint_url, database) == []


@pytest.mark.parametrize("prefix", PREFIXES)
def test_kapacitor_write_with_influxdb_credentials(anonymous, onboarding, pump, prefix):
    token = onboarding["auth"]["token"]
    database = f"kcreds{prefix.rsplit('/', 1)[-1]}"
    basic = base64.b64encode(f"admin:{token}".encode()).decode()
    for headers, params in [
        ({"Authorization": f"Token {token}"}, {}),
        ({"Authorization": f"Bearer {token}"}, {}),
        ({"Authorization": f"Basic {basic}"}, {}),
        ({}, {"u": "admin", "p": token}),
    ]:
        response = kapacitor_write(anonymous, prefix, database, headers, **params)
        assert response.status_code == 204, (headers, params, response.body)
    assert len(stream_batches(pump.endpoint_url, database)) == 4


def test_kapacitor_write_needs_write_on_every_bucket_of_the_org(client, anonymous, onboarding, pump):
    org_id = onboarding["org"]["id"]
    bucket = onboarding["bucket"]
    one_bucket = client.http.post(
        "/api/v2/authorizations",
        body=json.dumps(
            {
                "orgID": org_id,
                "permissions": [
                    {"action": "write", "resource": {"type": "buckets", "id": bucket["id"], "orgID": org_id}}
                ],
            }
        ),
        headers={"Content-Type": "application/json"},
    )
    assert one_bucket.status_code == 201, one_bucket.body
    token = one_bucket.json_body["token"]
    response = kapacitor_write(anonymous, "/kapacitor/v1", "kscoped", {"Authorization": f"Token {token}"})
    assert response.status_code == 403
    assert response.json_body == {"error": "insufficient permissions for write"}
    assert stream_batches(pump.endpoint_url, "kscoped") == []
