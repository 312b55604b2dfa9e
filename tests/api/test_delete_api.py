"""`POST /api/v2/delete`: points of a bucket in a time range, narrowed by InfluxDB's predicate."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from tests.api.conftest import series_values
from tests.api.test_write_api import write_v1

LINES = """\
cpu,host=a,region=us v=1 1000000000
cpu,host=a,region=us v=2 2000000000
cpu,host=b,region=eu v=3 2000000000
mem,host=a v=4 2000000000
"""


def delete(client, database: str, body: dict | bytes, **params):
    query = urlencode({"org": "acme", "bucket": f"{database}/autogen", **params})
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.http.post(
        f"/api/v2/delete?{query}", body=data, headers={"Content-Type": "application/json"}
    )


@pytest.fixture
def loaded(client, pump, database):
    assert write_v1(client, LINES, db=database).status_code == 204
    pump.drain()
    return database


def test_delete_by_time_range_and_tag_predicate(client, loaded):
    response = delete(
        client,
        loaded,
        {
            "start": "1970-01-01T00:00:01Z",
            "stop": "1970-01-01T00:00:02Z",
            "predicate": '_measurement="cpu" AND host="a"',
        },
    )
    assert response.status_code == 204, response.body
    assert series_values(client, "SELECT v, host FROM cpu", loaded) == [[2_000_000_000, 3, "b"]]
    assert series_values(client, "SELECT v FROM mem", loaded) == [[2_000_000_000, 4]]


def test_delete_without_predicate_clears_the_range(client, loaded):
    body = {"start": "1970-01-01T00:00:00Z", "stop": "1970-01-01T00:00:01.5Z"}
    assert delete(client, loaded, body).status_code == 204
    assert series_values(client, "SELECT v FROM cpu", loaded) == [[2_000_000_000, 2], [2_000_000_000, 3]]


def test_not_equal_predicate(client, loaded):
    body = {"start": "1970-01-01T00:00:00Z", "stop": "1970-01-01T00:00:05Z", "predicate": 'region!="us"'}
    assert delete(client, loaded, body).status_code == 204
    assert [v[1] for v in series_values(client, "SELECT v FROM cpu", loaded)] == [1, 2]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"stop": "1970-01-01T00:00:01Z"}, "invalid RFC3339Nano for field start"),
        ({"start": "yesterday", "stop": "1970-01-01T00:00:01Z"}, "invalid RFC3339Nano for field start"),
        ({"start": "1970-01-01T00:00:05Z", "stop": "1970-01-01T00:00:01Z"}, "start must not be after stop"),
        (
            {"start": "1970-01-01T00:00:00Z", "stop": "1970-01-01T00:00:01Z", "predicate": 'a="b" OR c="d"'},
            "the logical operator OR is not supported",
        ),
        (
            {"start": "1970-01-01T00:00:00Z", "stop": "1970-01-01T00:00:01Z", "predicate": '_field="v"'},
            "delete by field is not supported",
        ),
        (b"{not json", "error parsing request json"),
    ],
)
def test_bad_requests(client, loaded, body, message):
    response = delete(client, loaded, body)
    assert response.status_code == 400
    assert response.json_body["code"] == "invalid"
    assert message in response.json_body["message"]


def test_delete_needs_write_permission_and_a_known_bucket(client, anonymous, loaded):
    body = {"start": "1970-01-01T00:00:00Z", "stop": "1970-01-01T00:00:05Z"}
    assert delete(anonymous, loaded, body).status_code == 401
    missing = client.http.post(
        "/api/v2/delete?org=acme&bucket=nope",
        body=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert missing.status_code == 404
