"""One query cannot exhaust the service, over HTTP: statements nested too deeply are a 400 (InfluxQL's
`error parsing query`, Flux's `Program is nested too deep`) while 500 OR terms are answered; influxd's
max-select-point/-series/-buckets, query-timeout and Flux's memory allocator limit stop a query with
influxd's words; an answer larger than Lambda can return is a 400; `/api/v2/config` shows the limits,
which come from `TICKLESS_QUERY_*`."""

# ruff: noqa: E501 -- queries read best on one line
from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest

from chalicelib import compose
from tests.api.test_flux_api import flux, new_bucket
from tests.api.test_write_api import write_v1, write_v2

S = 1_000_000_000
LINES = """\
cpu,host=a usage=1.5,idle=90i 1000000000
cpu,host=b usage=2.5,idle=80i 2000000000
cpu,host=a usage=3.5,idle=85i 3000000000
cpu,host=c usage=4.5,idle=70i 4000000000
"""


@pytest.fixture
def limits(monkeypatch):
    """Set `TICKLESS_QUERY_*` settings for the test (the composition root reads them afresh)."""

    def set_limits(**settings: str) -> None:
        for name, value in settings.items():
            monkeypatch.setenv(f"TICKLESS_QUERY_{name.upper()}", value)
        compose.query_limits.cache_clear()

    compose.query_limits.cache_clear()
    yield set_limits
    compose.query_limits.cache_clear()


@pytest.fixture
def loaded(client, pump, database):
    assert write_v1(client, LINES, db=database).status_code == 204
    pump.drain()
    return database


def v1(client, q: str, **params):
    headers = params.pop("headers", None)
    return client.http.get("/query?" + urlencode({"q": q, **params}), headers=headers)


def statement_error(response) -> str:
    assert response.status_code == 200, response.body
    return response.json_body["results"][0]["error"]


# -- case 1: depth ------------------------------------------------------------------------------------


def test_influxql_500_or_terms_are_answered(client, loaded):
    terms = " OR ".join(f"host = 'h{i}'" for i in range(498))
    response = v1(
        client, f"SELECT usage FROM cpu WHERE {terms} OR host = 'a' OR host = 'c'", db=loaded, epoch="s"
    )
    assert response.status_code == 200, response.body
    assert response.json_body["results"][0]["series"][0]["values"] == [[1, 1.5], [3, 3.5], [4, 4.5]]


@pytest.mark.parametrize(
    ("q", "message"),
    [
        (
            "SELECT " + " + ".join(["usage"] * 1000) + " FROM cpu",
            "expression nested too deeply (more than 200 levels)",
        ),
        (
            "SELECT " + "(" * 1000 + "usage" + ")" * 1000 + " FROM cpu",
            "expression nested too deeply (more than 200 levels) at line 1, char 208",
        ),
        (
            "SELECT usage FROM cpu WHERE " + "(" * 1000 + "usage > 1" + ")" * 1000,
            "expression nested too deeply (more than 200 levels) at line 1, char 229",
        ),
        (
            "SELECT usage FROM " + "(SELECT usage FROM " * 40 + "cpu" + ")" * 40,
            "subqueries nested too deeply (more than 32 levels) at line 1, char 627",
        ),
    ],
    ids=[
        "1000 + terms",
        "1000 nested parentheses",
        "1000 nested parentheses in WHERE",
        "40 nested subqueries",
    ],
)
def test_influxql_nested_too_deeply_is_a_400(client, loaded, q, message):
    response = v1(client, q, db=loaded)
    assert response.status_code == 400
    assert response.json_body == {"error": f"error parsing query: {message}"}


def test_influxql_nested_to_the_limit_is_answered(client, loaded):
    fields = "(" * 197 + "usage + 1" + ")" * 197 + ", " + " + ".join(["idle"] * 200)
    where = "(" * 196 + "time >= 1s + 1s AND usage > 1" + ")" * 196
    subqueries = (
        "SELECT * FROM " + "(SELECT * FROM " * 31 + f"(SELECT {fields} FROM cpu WHERE {where})" + ")" * 31
    )
    response = v1(client, subqueries, db=loaded, epoch="s")
    assert response.status_code == 200, response.body
    assert response.json_body["results"][0]["series"][0]["values"] == [
        [2, 16000, 3.5],
        [3, 17000, 4.5],
        [4, 14000, 5.5],
    ]


FLUX_DEEP = {
    "500 or terms": "x = " + " or ".join(["true"] * 500),
    "1000 + terms": "x = " + " + ".join(["1"] * 1000),
    "1000 nested parentheses": "x = " + "(" * 1000 + "1" + ")" * 1000,
    "nested records": "x = " + "{a: " * 1000 + "1" + "}" * 1000,
    "nested arrays": "x = " + "[" * 1000 + "1" + "]" * 1000,
    "nested calls": "x = " + "f(a: " * 1000 + "1" + ")" * 1000,
    "nested functions": "x = " + "() => " * 1000 + "1",
}


@pytest.mark.parametrize("program", FLUX_DEEP.values(), ids=FLUX_DEEP)
def test_flux_nested_too_deeply_is_a_400_on_every_route(client, program):
    for response in (
        flux(client, program),
        client.http.post(
            "/api/v2/query/ast",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"query": program}),
        ),
    ):
        assert response.status_code == 400, response.body
        body = response.json_body
        assert body["code"] == "invalid"
        assert re.fullmatch(r"error @1:\d+-1:\d+: Program is nested too deep", body["message"]), body
    analyzed = client.http.post(
        "/api/v2/query/analyze",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"query": program}),
    )
    assert analyzed.status_code == 200
    assert [e["message"] for e in analyzed.json_body["errors"]] == ["Program is nested too deep"]


@pytest.mark.parametrize(
    "program",
    [
        "x = " + "(" * 39 + "1" + ")" * 39,
        "r = " + "{a: " * 38 + "1" + "}" * 38 + "\nx = 1",
        "f = (a) => a\nx = " + "f(a: " * 39 + "1" + ")" * 39,
        "x = " + " + ".join(["1"] * 177) + " - 176",
    ],
    ids=["39 nested parentheses", "38 nested records", "39 nested calls", "177 + terms and a -"],
)
def test_flux_nested_to_the_limit_is_answered(client, program):
    response = flux(client, 'import "array"\n' + program + "\narray.from(rows: [{v: x}])", dialect=None)
    assert response.status_code == 200, response.body
    assert response.body.decode().splitlines()[1].endswith(",1")


def test_flux_a_deep_extern_is_a_400(client):
    chain = {"type": "IntegerLiteral", "value": "1"}
    for _ in range(300):
        chain = {
            "type": "BinaryExpression",
            "operator": "+",
            "left": chain,
            "right": {"type": "IntegerLiteral", "value": "1"},
        }
    extern = {
        "type": "File",
        "body": [{"type": "VariableAssignment", "id": {"type": "Identifier", "name": "x"}, "init": chain}],
    }
    response = flux(client, 'import "array"\narray.from(rows: [{v: x}])', extern=extern)
    assert response.status_code == 400
    assert response.json_body["message"] == "Program is nested too deep"


# -- case 2: Flux's work ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def day_bucket(module_client, pump, onboarding):
    """Three series over a day, a point an hour."""
    name, bucket_id = new_bucket(module_client, onboarding)
    lines = "\n".join(f"cpu,host=h{h} usage={i + h} {i * 3600 * S}" for h in range(3) for i in range(24))
    assert write_v2(module_client, lines, org="acme", bucket=name).status_code == 204
    pump.drain()
    yield name
    module_client.http.delete(f"/api/v2/buckets/{bucket_id}")


@pytest.fixture(scope="module")
def module_client(app_module, onboarding):
    from chalice.test import Client

    from tests.api.conftest import TestClient

    with Client(app_module.app, stage_name="local") as raw:
        yield TestClient(raw, onboarding["auth"]["token"])


@pytest.mark.parametrize("every", ["10ms", "1ms"])
def test_flux_aggregate_window_10ms_over_a_day_is_a_400(client, day_bucket, every):
    q = f'from(bucket: "{day_bucket}") |> range(start: 1970-01-01T00:00:00Z, stop: 1970-01-02T00:00:00Z) |> aggregateWindow(every: {every}, fn: mean)'
    response = flux(client, q)
    assert response.status_code == 400, response.body
    assert response.json_body["code"] == "invalid"
    assert re.fullmatch(
        r"memory allocation limit reached: limit 268435456 bytes, allocated: \d+, wanted: \d+",
        response.json_body["message"],
    )


def test_flux_aggregate_window_10ms_without_empty_windows_is_answered(client, day_bucket):
    q = f'from(bucket: "{day_bucket}") |> range(start: 1970-01-01T00:00:00Z, stop: 1970-01-02T00:00:00Z) |> aggregateWindow(every: 10ms, fn: mean, createEmpty: false)'
    response = flux(client, q, dialect=None)
    assert response.status_code == 200, response.body
    assert response.body.decode().count("\r\n") == 1 + 3 * 24 + 1


def test_flux_answer_larger_than_the_response_limit_is_a_400(client, day_bucket, limits):
    limits(max_response_bytes="2000")
    q = f'from(bucket: "{day_bucket}") |> range(start: 1970-01-01T00:00:00Z, stop: 1970-01-02T00:00:00Z)'
    response = flux(client, q)
    assert response.status_code == 400
    assert response.json_body == {
        "code": "invalid",
        "message": "query-max-response-bytes limit exceeded: the answer is larger than 2000 bytes; ask for less (a narrower time range, an aggregate, a LIMIT)",
    }
    assert flux(client, q + " |> last()").status_code == 200


def test_flux_query_timeout_is_a_400(client, day_bucket, limits):
    limits(timeout="1ms")
    q = f'from(bucket: "{day_bucket}") |> range(start: 1970-01-01T00:00:00Z, stop: 1970-01-02T00:00:00Z)'
    response = flux(client, q)
    assert response.status_code == 400
    assert response.json_body == {"code": "invalid", "message": "query-timeout limit exceeded"}


def test_flux_query_memory_bytes_is_a_400(client, day_bucket, limits):
    limits(memory_bytes="5000")  # the read of 72 points is charged about 9 KB
    q = f'from(bucket: "{day_bucket}") |> range(start: 1970-01-01T00:00:00Z, stop: 1970-01-02T00:00:00Z)'
    response = flux(client, q)
    assert response.status_code == 400
    assert re.fullmatch(
        r"memory allocation limit reached: limit 5000 bytes, allocated: \d+, wanted: \d+",
        response.json_body["message"],
    )


# -- case 3: the same bounds for InfluxQL --------------------------------------------------------------


def test_influxql_max_select_point(client, loaded, limits):
    limits(max_select_point="3")
    assert (
        statement_error(v1(client, "SELECT * FROM cpu", db=loaded)) == "max-select-point limit exceeed: (8/3)"
    )
    # a statement's own count: the next query reads afresh
    limits(max_select_point="8")
    assert v1(client, "SELECT * FROM cpu", db=loaded).json_body["results"][0]["series"]


def test_influxql_max_select_series(client, loaded, limits):
    limits(max_select_series="2")
    assert (
        statement_error(v1(client, "SELECT usage FROM cpu", db=loaded))
        == "max-select-series limit exceeded: (3/2)"
    )
    assert v1(client, "SELECT usage FROM cpu WHERE host = 'a'", db=loaded).json_body["results"][0]["series"]


def test_influxql_max_select_buckets(client, loaded, limits):
    limits(max_select_buckets="10")
    q = "SELECT mean(usage) FROM cpu WHERE time >= 0s AND time < 100s GROUP BY time(1s)"
    assert statement_error(v1(client, q, db=loaded)) == "max-select-buckets limit exceeded: (100/10)"
    q = "SELECT mean(usage) FROM cpu WHERE time >= 0s AND time < 10s GROUP BY time(1s)"
    assert len(v1(client, q, db=loaded).json_body["results"][0]["series"][0]["values"]) == 10


def test_influxql_max_select_buckets_by_default(client, loaded):
    # counted before reading, from the lower time bound, whatever the fill (as influxd counts them)
    q = "SELECT mean(usage) FROM cpu WHERE time >= 0s AND time < 1d GROUP BY time(10ms) fill(none)"
    assert statement_error(v1(client, q, db=loaded)) == "max-select-buckets limit exceeded: (8640000/1000000)"


def test_influxql_query_memory_bytes(client, loaded, limits):
    limits(memory_bytes="1000")
    message = statement_error(v1(client, "SELECT * FROM cpu", db=loaded))
    assert re.fullmatch(
        r"memory allocation limit reached: limit 1000 bytes, allocated: \d+, wanted: \d+", message
    )


def test_influxql_query_timeout_is_the_statement_error(client, loaded, limits):
    limits(timeout="1ms")
    response = v1(client, "SELECT * FROM cpu; SELECT * FROM cpu", db=loaded)
    assert response.status_code == 200
    assert response.json_body == {
        "results": [
            {"statement_id": 0, "error": "query-timeout limit exceeded"},
            {"statement_id": 1, "error": "not executed"},
        ]
    }


@pytest.mark.parametrize(
    "params",
    [{}, {"chunked": "true", "chunk_size": "1"}, {"headers": {"Accept": "application/csv"}}],
    ids=["json", "chunked", "csv"],
)
def test_influxql_answer_larger_than_the_response_limit_is_a_400(client, loaded, limits, params):
    sizes = {
        q: len(json.dumps(v1(client, q, db=loaded, **params).body.decode())) - 2
        for q in ("SELECT * FROM cpu", "SELECT * FROM cpu LIMIT 1")
    }
    limit = (sizes["SELECT * FROM cpu"] + sizes["SELECT * FROM cpu LIMIT 1"]) // 2
    limits(max_response_bytes=str(limit))
    response = v1(client, "SELECT * FROM cpu", db=loaded, **params)
    assert response.status_code == 400
    assert response.json_body == {
        "error": f"query-max-response-bytes limit exceeded: the answer is larger than {limit} bytes; ask for less (a narrower time range, an aggregate, a LIMIT)"
    }
    assert v1(client, "SELECT * FROM cpu LIMIT 1", db=loaded, **params).status_code == 200


def test_config_shows_the_query_limits(client, limits):
    config = client.http.get("/api/v2/config").json_body["config"]
    assert {
        k: config[k]
        for k in (
            "query-timeout",
            "query-memory-bytes",
            "max-select-point",
            "max-select-series",
            "max-select-buckets",
            "query-max-response-bytes",
        )
    } == {
        "query-timeout": "25s",
        "query-memory-bytes": 268435456,
        "max-select-point": 10000000,
        "max-select-series": 100000,
        "max-select-buckets": 1000000,
        "query-max-response-bytes": 6000000,
    }
    limits(timeout="1500ms", max_select_point="0")
    config = client.http.get("/api/v2/config").json_body["config"]
    assert (config["query-timeout"], config["max-select-point"]) == ("1500ms", 0)
