"""The write endpoints over HTTP (chalice.test.Client): status codes, error formats, and that accepted
points come back from /query once the stream consumer has stored them."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest

from tests.api.conftest import query, series_values, stream_batches


def write_v1(client, body: bytes | str, **params):
    from urllib.parse import urlencode

    data = body.encode() if isinstance(body, str) else body
    headers = params.pop("headers", {"Content-Type": "text/plain; charset=utf-8"})
    return client.http.post("/write?" + urlencode(params), body=data, headers=headers)


def write_v2(client, body: bytes | str, **params):
    from urllib.parse import urlencode

    data = body.encode() if isinstance(body, str) else body
    return client.http.post(
        "/api/v2/write?" + urlencode(params), body=data, headers={"Content-Type": "text/plain"}
    )


def test_ping_health_ready(client):
    ping = client.http.get("/ping")
    assert ping.status_code == 204
    assert ping.headers["X-Influxdb-Version"].startswith("v2.")
    assert ping.headers["X-Influxdb-Build"] == "OSS"
    assert client.http.head("/ping").status_code == 204
    health = client.http.get("/health")
    assert health.status_code == 200
    assert health.json_body["status"] == "pass"
    assert health.json_body["message"] == "ready for queries and writes"
    assert client.http.get("/ready").json_body["status"] == "ready"


def test_v1_write_then_query(client, pump, database):
    response = write_v1(client, "cpu,host=a value=1.5,n=2i 1000\ncpu,host=b value=2.5 2000\n", db=database)
    assert response.status_code == 204, response.body
    pump.drain()
    result = query(client, "SELECT * FROM cpu", db=database, epoch="ns")
    assert result == {
        "results": [
            {
                "statement_id": 0,
                "series": [
                    {
                        "name": "cpu",
                        "columns": ["time", "host", "n", "value"],
                        "values": [[1000, "a", 2, 1.5], [2000, "b", None, 2.5]],
                    }
                ],
            }
        ]
    }


def test_v1_precision_and_missing_timestamps(client, pump, database):
    assert write_v1(client, "p value=1 5", db=database, precision="s").status_code == 204
    assert write_v1(client, "p value=2", db=database, precision="h").status_code == 204
    pump.drain()
    rows = series_values(client, "SELECT value FROM p", database)
    assert rows[0] == [5_000_000_000, 1]
    stamped = rows[1][0]
    assert stamped % 3_600_000_000_000 == 0 and stamped > 1_700_000_000_000_000_000  # now, truncated to h


@pytest.mark.parametrize(
    "body, params, status, error",
    [
        ("m v=1", {}, 400, "database is required"),
        ("m v=1", {"db": "missing_db"}, 404, 'database not found: "missing_db"'),
        ("m v=1", {"db": "DB", "precision": "x"}, 400, 'invalid precision "x"'),
        ("m v=1", {"db": "DB", "rp": "nope"}, 404, "retention policy not found: nope"),
        ("m v=1\nm,host=a v=\n", {"db": "DB"}, 400, "unable to parse 'm,host=a v=': missing field value"),
        ("m", {"db": "DB"}, 400, "unable to parse 'm': missing fields"),
    ],
)
def test_v1_write_errors(client, database, body, params, status, error):
    params = {k: (database if v == "DB" else v) for k, v in params.items()}
    response = write_v1(client, body, **params)
    assert response.status_code == status
    assert response.json_body == {"error": error}
    assert response.headers["X-Influxdb-Version"].startswith("v2.")


def test_rejected_batch_writes_nothing(client, pump, database):
    before = len(stream_batches(pump.endpoint_url, database))
    response = write_v1(client, "good v=1 1\ngood v=oops 2\n", db=database)
    assert response.status_code == 400
    pump.drain()
    assert len(stream_batches(pump.endpoint_url, database)) == before
    assert query(client, "SELECT * FROM good", db=database)["results"] == [{"statement_id": 0}]


def test_gzip_bodies(client, pump, database):
    body = gzip.compress(b"gz value=7i 1\n")
    response = write_v1(
        client, body, db=database, headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"}
    )
    assert response.status_code == 204, response.body
    pump.drain()
    values = series_values(client, "SELECT value FROM gz", database)
    assert values == [[1, 7]]


def test_corrupt_gzip_is_invalid(client, database):
    response = write_v1(
        client, b"\x1f\x8bnot really", db=database, headers={"Content-Encoding": "gzip", "Content-Type": "x"}
    )
    assert response.status_code == 400
    assert response.json_body["error"].startswith("invalid gzip body")


def test_oversized_body_is_413(client, database):
    bomb = zlib.compress(b"0" * 26_000_000)  # a small upload that inflates past the 25 MB limit
    gz = gzip.compress(zlib.decompress(bomb))
    response = write_v1(
        client, gz, db=database, headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"}
    )
    assert response.status_code == 413
    assert response.json_body == {"error": "request body is too large"}


def test_field_type_conflict_v1_is_400_partial_write(client, pump, database):
    assert write_v1(client, "t value=1 1", db=database).status_code == 204
    response = write_v1(client, 't value=2i 2\nt value=3 3\nt other="s" 4', db=database)
    assert response.status_code == 400
    assert response.json_body == {
        "error": 'partial write: field type conflict: input field "value" on measurement "t" '
        "is type integer, already exists as type float dropped=1"
    }
    pump.drain()
    values = series_values(client, "SELECT * FROM t", database)
    assert values == [[1, None, 1], [3, None, 3], [4, "s", None]]


def test_conflict_within_one_batch(client, database):
    response = write_v1(client, "w f=1i 1\nw f=1.5 2", db=database)
    assert response.status_code == 400
    assert "is type float, already exists as type integer dropped=1" in response.json_body["error"]


def test_v2_write_by_bucket_name_or_id(client, pump, database):
    response = write_v2(client, "v2m,host=x value=1 1", bucket=f"{database}/autogen", org="acme")
    assert response.status_code == 204, response.body
    buckets = client.http.get(f"/api/v2/buckets?org=acme&name={database}/autogen").json_body["buckets"]
    org_id = buckets[0]["orgID"]
    response = write_v2(
        client, "v2m,host=x value=2 2000", bucket=buckets[0]["id"], orgID=org_id, precision="us"
    )
    assert response.status_code == 204, response.body
    pump.drain()
    values = series_values(client, "SELECT value FROM v2m", database)
    assert values == [[1, 1], [2_000_000, 2]]


@pytest.mark.parametrize(
    "body, params, status, code, message",
    [
        ("m v=1", {"bucket": "DB"}, 400, "invalid", "Please provide either orgID or org"),
        ("m v=1", {"org": "acme"}, 400, "invalid", "Please provide bucket"),
        ("m v=1", {"org": "nope", "bucket": "DB"}, 404, "not found", 'organization name "nope" not found'),
        ("m v=1", {"org": "acme", "bucket": "nope"}, 404, "not found", 'bucket "nope" not found'),
        (
            "m v=1",
            {"org": "acme", "bucket": "DB", "precision": "h"},
            400,
            "invalid",
            'invalid precision "h", must be one of ns, us, ms, s',
        ),
        (
            "m v=1 x",
            {"org": "acme", "bucket": "DB"},
            400,
            "invalid",
            "unable to parse 'm v=1 x': bad timestamp",
        ),
    ],
)
def test_v2_write_errors(client, database, body, params, status, code, message):
    params = {k: (f"{database}/autogen" if v == "DB" else v) for k, v in params.items()}
    response = write_v2(client, body, **params)
    assert response.status_code == status
    assert response.json_body == {"code": code, "message": message}
    assert response.headers["X-Platform-Error-Code"] == code


def test_v2_field_type_conflict_is_422(client, database):
    bucket = f"{database}/autogen"
    assert write_v2(client, "c2 f=1", bucket=bucket, org="acme").status_code == 204
    response = write_v2(client, "c2 f=true", bucket=bucket, org="acme")
    assert response.status_code == 422
    assert response.json_body == {
        "code": "unprocessable entity",
        "message": "failure writing points to database: partial write: field type conflict: "
        'input field "f" on measurement "c2" is type boolean, already exists as type float dropped=1',
    }


@pytest.mark.parametrize("prefix", ["/kapacitor/v1", "/kapacitor/v1preview"])
def test_kapacitor_write_streams_without_storing(client, pump, prefix):
    response = client.http.post(
        f"{prefix}/write?db=kdb&rp=krp", body=b"k value=1 1", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 204
    assert response.headers["X-Kapacitor-Version"]
    batches = stream_batches(pump.endpoint_url, "kdb")
    assert batches and all(
        b.destination.namespace is None and b.destination.retention_policy == "krp" for b in batches
    )
    bad = client.http.post(f"{prefix}/write", body=b"k value=1", headers={"Content-Type": "text/plain"})
    assert bad.status_code == 400
    assert bad.json_body == {"error": "missing required parameter db"}
    assert bad.headers["X-Kapacitor-Version"]
    unparsable = client.http.post(
        f"{prefix}/write?db=kdb", body=b"k value=", headers={"Content-Type": "text/plain"}
    )
    assert unparsable.status_code == 400
    assert unparsable.json_body == {"error": "unable to parse 'k value=': missing field value"}


def test_query_errors(client, database):
    missing = client.http.get("/query")
    assert missing.status_code == 400
    assert missing.json_body == {"error": 'missing required parameter "q"'}
    bad = client.http.get("/query?q=SELECT")
    assert bad.status_code == 400
    assert bad.json_body["error"].startswith("error parsing query: ")
    no_db = query(client, "SELECT * FROM cpu")
    assert no_db == {"results": [{"statement_id": 0, "error": "database name required"}]}
    two = query(client, "SELECT * FROM cpu; SHOW DATABASES")
    assert two["results"][1] == {"statement_id": 1, "error": "not executed"}


def test_query_by_post_form(client, database):
    response = client.http.post(
        "/query",
        body=f"q=SHOW+MEASUREMENTS&db={database}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert json.loads(response.body) == {"results": [{"statement_id": 0}]}
