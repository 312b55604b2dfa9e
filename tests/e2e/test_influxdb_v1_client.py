"""A new user's first session, through the official `influxdb` (1.x) client against `make run`'s stack:
create a database, write points of every field type with escaped names, query them back exactly.

InfluxDB 2.x serves the 1.x API only to callers with credentials: the client authenticates with the
onboarding (operator) token as its password, or with a legacy v1 authorization's name and password."""

from __future__ import annotations

import gzip
import json
import time
from urllib.parse import urlparse

import pytest
import requests
from influxdb import InfluxDBClient
from influxdb.exceptions import InfluxDBClientError


def wait_for(fetch, expected_count: int, timeout: float = 30.0):
    """Points become readable once the stream consumer has stored them (seconds, locally)."""
    deadline = time.monotonic() + timeout
    while True:
        got = fetch()
        if len(got) >= expected_count or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def v1_client(stack, username: str, password: str, database: str = "e2e") -> InfluxDBClient:
    url = urlparse(stack.url)
    return InfluxDBClient(
        host=url.hostname, port=url.port, username=username, password=password, database=database
    )


@pytest.fixture(scope="module")
def client(stack, onboarded):
    client = v1_client(stack, "admin", onboarded.token)
    client.create_database("e2e")
    return client


def test_ping_reports_a_version(client):
    assert client.ping().startswith("v2.")


def test_create_and_show_databases(client):
    client.create_database("other_db")
    names = {d["name"] for d in client.get_list_database()}
    assert {"e2e", "other_db"} <= names


def test_every_field_type_and_escaped_names_round_trip(client):
    base = 1_700_000_000_000_000_000
    points = [
        {
            "measurement": "weather station",
            "tags": {"location": "us,west", "sensor id": "a=1"},
            "time": base,
            "fields": {"temperature": 21.5, "count": 7, "ok": True, "note": 'said "hi"\\ there'},
        },
        {
            "measurement": "weather station",
            "tags": {"location": "us,west", "sensor id": "a=1"},
            "time": base + 1,
            "fields": {"temperature": -0.25, "count": -9223372036854775807, "ok": False, "note": ""},
        },
        {
            "measurement": "weather station",
            "tags": {"location": "eu", "sensor id": "b"},
            "time": base + 2,
            "fields": {"temperature": 1e-7, "count": 0, "ok": True, "note": "ünïcode ✓"},
        },
    ]
    assert client.write_points(points, time_precision="n")
    query = f'SELECT * FROM "weather station" WHERE time >= {base}'
    rows = wait_for(lambda: list(client.query(query, epoch="ns").get_points()), 3)
    assert rows == [
        {
            "time": base,
            "count": 7,
            "location": "us,west",
            "note": 'said "hi"\\ there',
            "ok": True,
            "sensor id": "a=1",
            "temperature": 21.5,
        },
        {
            "time": base + 1,
            "count": -9223372036854775807,
            "location": "us,west",
            "note": "",
            "ok": False,
            "sensor id": "a=1",
            "temperature": -0.25,
        },
        {
            "time": base + 2,
            "count": 0,
            "location": "eu",
            "note": "ünïcode ✓",
            "ok": True,
            "sensor id": "b",
            "temperature": 1e-7,
        },
    ]
    # A tag filter and explicit columns, RFC3339 times.
    q = """SELECT temperature, "sensor id" FROM "weather station" WHERE location = 'eu'"""
    tagged = list(client.query(q).get_points())
    assert tagged == [{"time": "2023-11-14T22:13:20.000000002Z", "temperature": 1e-7, "sensor id": "b"}]
    measurements = {m["name"] for m in client.get_list_measurements()}
    assert "weather station" in measurements


def test_duplicate_points_merge_newest_wins(client):
    t = 1_600_000_000_000_000_000
    client.write([f"dup,host=a value=1,other=5i {t}"], {"db": "e2e"}, protocol="line")
    client.write([f"dup,host=a value=2 {t}"], {"db": "e2e"}, protocol="line")

    def fetch():
        rows = list(client.query("SELECT * FROM dup", epoch="ns").get_points())
        return rows if rows and rows[0]["value"] == 2 else []

    rows = wait_for(fetch, 1)
    assert rows == [{"time": t, "host": "a", "value": 2.0, "other": 5}]


def test_gzip_write(stack, onboarded, client):
    body = gzip.compress(b"gz,host=x value=42i 1000000000\n")
    response = requests.post(
        f"{stack.url}/write",
        params={"db": "e2e", "precision": "n"},
        data=body,
        headers={"Content-Encoding": "gzip", "Content-Type": "text/plain", **onboarded.headers},
    )
    assert response.status_code == 204, response.text
    rows = wait_for(lambda: list(client.query("SELECT value FROM gz", epoch="s").get_points()), 1)
    assert rows == [{"time": 1, "value": 42}]


def test_bad_line_rejects_the_whole_batch(stack, onboarded, client):
    response = requests.post(
        f"{stack.url}/write",
        params={"db": "e2e"},
        data=b"bad,host=a value=1\nbad,host=b value=\n",
        headers=onboarded.headers,
    )
    assert response.status_code == 400
    assert response.json() == {"error": "unable to parse 'bad,host=b value=': missing field value"}
    time.sleep(1.0)
    assert list(client.query("SELECT * FROM bad").get_points()) == []


def test_unknown_database_is_an_error(client):
    with pytest.raises(InfluxDBClientError) as err:
        client.write_points([{"measurement": "m", "fields": {"v": 1}}], database="nope")
    assert err.value.code == 404
    assert json.loads(err.value.content) == {"error": 'database not found: "nope"'}


def test_field_type_conflict_is_a_partial_write(stack, onboarded, client):
    client.write(["conflict value=1.5 1"], {"db": "e2e"}, protocol="line")
    response = requests.post(
        f"{stack.url}/write",
        params={"db": "e2e"},
        data=b"conflict value=2i 2\nconflict value=3.5 3\n",
        headers=onboarded.headers,
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": 'partial write: field type conflict: input field "value" on measurement "conflict" is type '
        "integer, already exists as type float dropped=1"
    }
    rows = wait_for(lambda: list(client.query("SELECT value FROM conflict", epoch="ns").get_points()), 2)
    assert rows == [{"time": 1, "value": 1.5}, {"time": 3, "value": 3.5}]


# -- credentials --------------------------------------------------------------------------------------


def test_requests_without_credentials_are_unauthorized(stack, client):
    write = requests.post(f"{stack.url}/write", params={"db": "e2e"}, data=b"anon value=1 1\n")
    assert write.status_code == 401, write.text
    assert "unauthorized" in write.text
    query = requests.get(f"{stack.url}/query", params={"db": "e2e", "q": "SHOW MEASUREMENTS"})
    assert query.status_code == 401, query.text
    # The 1.x client's default credentials (root/root) are no token either.
    anonymous = v1_client(stack, "root", "root")
    with pytest.raises(InfluxDBClientError) as err:
        anonymous.write_points([{"measurement": "anon", "fields": {"value": 1}}])
    assert err.value.code == 401


def test_token_in_u_and_p_parameters(stack, onboarded, client):
    response = requests.post(
        f"{stack.url}/write",
        params={"db": "e2e", "u": "anyone", "p": onboarded.token, "precision": "s"},
        data=b"uparams value=1i 5\n",
    )
    assert response.status_code == 204, response.text

    def fetch():
        answer = requests.get(
            f"{stack.url}/query",
            params={
                "db": "e2e",
                "u": "anyone",
                "p": onboarded.token,
                "q": "SELECT value FROM uparams",
                "epoch": "s",
            },
        )
        assert answer.status_code == 200, answer.text
        series = answer.json()["results"][0].get("series", [])
        return [dict(zip(s["columns"], v, strict=True)) for s in series for v in s["values"]]

    assert wait_for(fetch, 1) == [{"time": 5, "value": 1}]
    wrong = requests.post(
        f"{stack.url}/write", params={"db": "e2e", "u": "anyone", "p": "not-a-token"}, data=b"uparams v=1\n"
    )
    assert wrong.status_code == 401, wrong.text


def test_legacy_v1_authorization_with_password(stack, onboarded, client):
    client.create_database("legacy_db")
    auth = requests.post(
        f"{stack.url}/private/legacy/authorizations",
        json={
            "orgID": onboarded.org_id,
            "token": "v1user",
            "description": "a 1.x user",
            "permissions": [
                {"action": action, "resource": {"type": "buckets", "orgID": onboarded.org_id}}
                for action in ("read", "write")
            ],
        },
        headers=onboarded.headers,
    )
    assert auth.status_code == 201, auth.text
    created = auth.json()
    assert created["token"] == "v1user"
    assert created["orgID"] == onboarded.org_id
    assert created["status"] == "active"
    assert "password" not in created
    password = requests.post(
        f"{stack.url}/private/legacy/authorizations/{created['id']}/password",
        json={"password": "v1-secret-pw"},
        headers=onboarded.headers,
    )
    assert password.status_code == 204, password.text

    legacy = v1_client(stack, "v1user", "v1-secret-pw", database="legacy_db")
    assert legacy.write_points(
        [{"measurement": "legacy", "tags": {"host": "h1"}, "time": 1_000_000_000, "fields": {"v": 2.5}}],
        time_precision="n",
    )
    rows = wait_for(lambda: list(legacy.query("SELECT v, host FROM legacy", epoch="s").get_points()), 1)
    assert rows == [{"time": 1, "v": 2.5, "host": "h1"}]
    assert "legacy_db" in {d["name"] for d in legacy.get_list_database()}

    wrong = v1_client(stack, "v1user", "not-the-password", database="legacy_db")
    with pytest.raises(InfluxDBClientError) as err:
        wrong.write_points([{"measurement": "legacy", "fields": {"v": 1.0}}])
    assert err.value.code == 401
    with pytest.raises(InfluxDBClientError) as err:
        wrong.query("SELECT v FROM legacy")
    assert err.value.code == 401
