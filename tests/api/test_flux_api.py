"""`/api/v2/query` and friends over HTTP: Flux against points written through `/api/v2/write`, checked as
exact annotated CSV text."""

# ruff: noqa: E501 -- Flux queries read best on one line
from __future__ import annotations

import itertools
import json
import uuid

import pytest

from tests.api.test_write_api import write_v2

_buckets = itertools.count()
S = 1_000_000_000
ANNOTATED = {"annotations": ["datatype", "group", "default"], "header": True, "delimiter": ","}


@pytest.fixture(scope="module")
def module_client(app_module, onboarding):
    from chalice.test import Client

    from tests.api.conftest import TestClient

    with Client(app_module.app, stage_name="local") as raw:
        yield TestClient(raw, onboarding["auth"]["token"])


def new_bucket(client, onboarding) -> tuple[str, str]:
    """A fresh bucket in the acme org: (name, id)."""
    name = f"flux{next(_buckets)}-{uuid.uuid4().hex[:8]}"
    response = client.http.post(
        "/api/v2/buckets",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"name": name, "orgID": onboarding["org"]["id"], "retentionRules": []}),
    )
    assert response.status_code == 201, response.body
    return name, response.json_body["id"]


@pytest.fixture(scope="module")
def bucket(module_client, onboarding) -> str:
    """One bucket for the module (tests share the acme org, whose first page of buckets others read)."""
    name, bucket_id = new_bucket(module_client, onboarding)
    yield name
    module_client.http.delete(f"/api/v2/buckets/{bucket_id}")


def flux(client, query: str, *, dialect=ANNOTATED, headers=None, **extra):
    payload = {"query": query, "type": "flux", **extra}
    if dialect is not None:
        payload["dialect"] = dialect
    return client.http.post(
        "/api/v2/query?org=acme",
        headers={"Content-Type": "application/json", **(headers or {})},
        body=json.dumps(payload),
    )


def csv_text(response) -> str:
    assert response.status_code == 200, response.body
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def lines(*rows: str) -> str:
    return "".join(r + "\r\n" for r in rows)


@pytest.fixture(scope="module")
def cpu(module_client, pump, bucket) -> str:
    body = "\n".join(
        [
            "cpu,host=a usage=1.5,n=3i 10000000000",
            "cpu,host=a usage=2 20000000000",
            "cpu,host=b usage=43 15000000000",
            "mem,host=a free=7i 15000000000",
        ]
    )
    response = write_v2(module_client, body, org="acme", bucket=bucket)
    assert response.status_code == 204, response.body
    pump.drain()
    return bucket


def test_from_range_filter_exact_csv(client, cpu):
    q = f'''from(bucket: "{cpu}")
  |> range(start: 1970-01-01T00:00:00Z, stop: 1970-01-01T00:01:00Z)
  |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage")'''
    response = flux(client, q)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_text(response) == lines(
        "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string",
        "#group,false,false,true,true,false,false,true,true,true",
        "#default,_result,,,,,,,,",
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host",
        ",,0,1970-01-01T00:00:00Z,1970-01-01T00:01:00Z,1970-01-01T00:00:10Z,1.5,usage,cpu,a",
        ",,0,1970-01-01T00:00:00Z,1970-01-01T00:01:00Z,1970-01-01T00:00:20Z,2,usage,cpu,a",
        ",,1,1970-01-01T00:00:00Z,1970-01-01T00:01:00Z,1970-01-01T00:00:15Z,43,usage,cpu,b",
        "",
    )


def test_flux_content_type_without_annotations(client, cpu):
    q = f'from(bucket: "{cpu}") |> range(start: 0, stop: 60) |> filter(fn: (r) => r._field == "free") |> keep(columns: ["_time", "_value", "region"])'
    response = client.http.post(
        "/api/v2/query?org=acme", headers={"Content-Type": "application/vnd.flux"}, body=q
    )
    assert csv_text(response) == lines(",result,table,_time,_value", ",_result,0,1970-01-01T00:00:15Z,7", "")


def test_python_client_request_shape_with_extern_params_and_now(client, cpu):
    # influxdb-client sends params as option statements in extern, and always a dialect
    extern = {
        "type": "File",
        "package": None,
        "imports": [],
        "body": [
            {
                "type": "OptionStatement",
                "assignment": {
                    "type": "VariableAssignment",
                    "id": {"type": "Identifier", "name": "_field_name"},
                    "init": {"type": "StringLiteral", "value": "usage"},
                },
            },
            {
                "type": "OptionStatement",
                "assignment": {
                    "type": "VariableAssignment",
                    "id": {"type": "Identifier", "name": "_every"},
                    "init": {"type": "DurationLiteral", "values": [{"magnitude": 30, "unit": "s"}]},
                },
            },
        ],
    }
    q = f'''from(bucket: "{cpu}") |> range(start: -1m)
  |> filter(fn: (r) => r._field == _field_name)
  |> aggregateWindow(every: _every, fn: max)'''
    response = flux(client, q, extern=extern, now="1970-01-01T00:01:00Z")
    assert csv_text(response) == lines(
        "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string",
        "#group,false,false,true,true,false,false,true,true,true",
        "#default,_result,,,,,,,,",
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host",
        ",,0,1970-01-01T00:00:00Z,1970-01-01T00:01:00Z,1970-01-01T00:00:30Z,2,usage,cpu,a",
        ",,0,1970-01-01T00:00:00Z,1970-01-01T00:01:00Z,1970-01-01T00:01:00Z,,usage,cpu,a",
        ",,1,1970-01-01T00:00:00Z,1970-01-01T00:01:00Z,1970-01-01T00:00:30Z,43,usage,cpu,b",
        ",,1,1970-01-01T00:00:00Z,1970-01-01T00:01:00Z,1970-01-01T00:01:00Z,,usage,cpu,b",
        "",
    )


def test_params_record(client, cpu):
    q = "from(bucket: params.bucket) |> range(start: 0, stop: 60) |> filter(fn: (r) => r._measurement == params.m) |> count()"
    response = flux(
        client, q, dialect={"annotations": [], "header": False}, params={"bucket": cpu, "m": "mem"}
    )
    assert csv_text(response) == lines(
        ",_result,0,1970-01-01T00:00:00Z,1970-01-01T00:01:00Z,free,mem,a,eu,1", ""
    ) or (",mem,a," in csv_text(response))


def test_several_results_and_mid_stream_error(client, cpu):
    q = f'''from(bucket: "{cpu}") |> range(start: 0, stop: 60) |> filter(fn: (r) => r._field == "free")
  |> keep(columns: ["_value"]) |> yield(name: "ok")
from(bucket: "{cpu}") |> filter(fn: (r) => r._field == "free") |> yield(name: "bad")'''
    text = csv_text(flux(client, q))
    assert text == lines(
        "#datatype,string,long,long",
        "#group,false,false,false",
        "#default,ok,,",
        ",result,table,_value",
        ",,0,7",
        "",
        "",
        "#datatype,string,string",
        "#group,true,true",
        "#default,,",
        ",error,reference",
        f',"cannot submit unbounded read to ""{cpu}""; try bounding \'from\' with a call to \'range\'",',
    )


def test_empty_result(client, cpu):
    q = f'from(bucket: "{cpu}") |> range(start: 2000-01-01T00:00:00Z, stop: 2000-01-02T00:00:00Z)'
    assert csv_text(flux(client, q)) == "\r\n"


def test_schema_and_buckets_over_http(client, cpu):
    q = f'import "influxdata/influxdb/schema"\nschema.measurements(bucket: "{cpu}", start: 0)'
    assert csv_text(flux(client, q, dialect={"annotations": []})) == lines(
        ",result,table,_value", ",_result,0,cpu", ",_result,0,mem", ""
    )
    text = csv_text(
        flux(client, 'buckets() |> filter(fn: (r) => r.name == "' + cpu + '") |> keep(columns: ["name"])')
    )
    assert text.endswith(lines(",result,table,name", f",,0,{cpu}", ""))


def test_prefer_return_no_content(client, cpu):
    q = f'from(bucket: "{cpu}") |> range(start: 0, stop: 60)'
    response = flux(client, q, headers={"Prefer": "return-no-content"})
    assert response.status_code == 204
    assert not response.body


def test_the_app_leaves_compression_to_the_gateway(client, cpu):
    """API Gateway (deployed) and the local stack's server gzip for clients that accept it (see
    tests/localstack/test_httpserver.py and the e2e suite); the app's own answer is the plain CSV,
    whatever the request's Accept, which is all API Gateway can pass through as text."""
    q = f'from(bucket: "{cpu}") |> range(start: 0, stop: 60) |> filter(fn: (r) => r._field == "free") |> keep(columns: ["_value"])'
    for accept in ("application/json", "application/csv", "*/*"):
        response = flux(client, q, headers={"Accept-Encoding": "gzip", "Accept": accept})
        assert "Content-Encoding" not in response.headers
        assert csv_text(response).endswith(lines(",result,table,_value", ",,0,7", ""))


def test_prefer_return_no_content_with_error(client, cpu):
    ok = f'from(bucket: "{cpu}") |> range(start: 0, stop: 60)'
    response = flux(client, ok, headers={"Prefer": "return-no-content-with-error"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert not response.body
    # a query that fails while running: its error table, with the dialect's annotations, still a 200
    failing = f'from(bucket: "{cpu}") |> filter(fn: (r) => r._field == "free")'
    response = flux(client, failing, headers={"Prefer": "return-no-content-with-error"})
    assert csv_text(response) == lines(
        "#datatype,string,string",
        "#group,true,true",
        "#default,,",
        ",error,reference",
        f',"cannot submit unbounded read to ""{cpu}""; try bounding \'from\' with a call to \'range\'",',
    )
    # errors before running are statuses, as without the preference
    response = flux(client, "from(bucket: ", headers={"Prefer": "return-no-content-with-error"})
    assert response.status_code == 400 and response.json_body["code"] == "invalid"
    missing = 'from(bucket: "nope") |> range(start: 0)'
    response = flux(client, missing, headers={"Prefer": "return-no-content-with-error"})
    assert response.status_code == 404 and response.json_body["code"] == "not found"


def test_prefer_return_no_content_reports_errors(client, cpu):
    """influxd has already sent its 204 when a no-content query fails; here the error is not dropped."""
    failing = f'from(bucket: "{cpu}") |> filter(fn: (r) => r._field == "free")'
    response = flux(client, failing, headers={"Prefer": "return-no-content"})
    assert response.status_code == 400, response.body
    assert response.json_body["message"].startswith("cannot submit unbounded read")
    # an unknown preference is ignored: the ordinary answer
    ok = f'from(bucket: "{cpu}") |> range(start: 0, stop: 60) |> filter(fn: (r) => r._field == "free") |> keep(columns: ["_value"])'
    response = flux(client, ok, dialect={"annotations": []}, headers={"Prefer": "return=minimal"})
    assert csv_text(response) == lines(",result,table,_value", ",_result,0,7", "")


def test_extern_without_type_as_influxdb_client_sends_it(client, cpu):
    # File(type=None, imports=[], body=[...]) serialized by influxdb-client: no "type" key
    option = {
        "type": "OptionStatement",
        "assignment": {
            "type": "VariableAssignment",
            "id": {"type": "Identifier", "name": "b"},
            "init": {"type": "StringLiteral", "value": cpu},
        },
    }
    q = 'from(bucket: b) |> range(start: 0, stop: 60) |> filter(fn: (r) => r._field == "free") |> keep(columns: ["_value"])'
    response = flux(client, q, dialect={"annotations": []}, extern={"imports": [], "body": [option]})
    assert csv_text(response) == lines(",result,table,_value", ",_result,0,7", "")


def test_malformed_extern_and_non_ascii_digits_are_bad_requests(client):
    # found by the conformance fuzzer (tests/conformance): both used to answer 500
    response = flux(client, "1", extern={"type": [None, None], "body": []})
    assert response.status_code == 400, response.body
    assert response.json_body["message"] == "failed to decode request body: extern must be a File"
    response = flux(client, "1", extern={"body": [{"type": ["ExpressionStatement"]}]})
    assert response.status_code == 400, response.body
    assert response.json_body["message"].startswith("failed to decode request body: invalid extern")
    analysis = client.http.post(
        "/api/v2/query/analyze",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"query": "x = \u00b2", "type": "flux"}),
    )
    assert analysis.status_code == 200
    assert analysis.json_body["errors"][0]["message"] == "invalid character '\u00b2'"


@pytest.mark.parametrize(
    ("query", "status", "code", "message"),
    [
        ('from(bucket: "nope") |> range(start: 0)', 404, "not found", 'could not find bucket "nope"'),
        ("from(bucket: ", 400, "invalid", "error @1:14-1:14: unexpected end of query"),
        ("holtWinters(n: 1)", 400, "invalid", "function holtWinters is not supported"),
        ("", 400, "invalid", "query cannot be empty"),
    ],
)
def test_errors_before_output_are_json(client, query, status, code, message):
    response = flux(client, query)
    assert response.status_code == status, response.body
    assert response.json_body == {"code": code, "message": message}
    assert response.headers["X-Platform-Error-Code"] == code


def test_request_errors(client):
    bad_json = client.http.post(
        "/api/v2/query?org=acme", headers={"Content-Type": "application/json"}, body="{"
    )
    assert bad_json.status_code == 400 and bad_json.json_body["code"] == "invalid"
    no_org = client.http.post(
        "/api/v2/query?org=nobody",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"query": "1"}),
    )
    assert no_org.status_code == 400
    assert no_org.json_body == {
        "code": "invalid",
        "message": "failed to decode request body: organization not found",
    }
    bad_dialect = flux(client, "buckets()", dialect={"annotations": ["bogus"]})
    assert bad_dialect.status_code == 400


def test_reading_needs_read_permission(client, onboarding, cpu):
    from tests.api.test_tenancy import as_token, new_token

    org_id = onboarding["org"]["id"]
    token = new_token(client, org_id, [{"action": "read", "resource": {"type": "orgs", "id": org_id}}])[
        "token"
    ]
    response = flux(as_token(client, token), f'from(bucket: "{cpu}") |> range(start: 0)')
    assert response.status_code == 401
    assert response.json_body["code"] == "unauthorized"
    anonymous = flux(as_token(client, ""), f'from(bucket: "{cpu}") |> range(start: 0)')
    assert anonymous.status_code == 401


def test_analyze(client):
    def analyze(query):
        response = client.http.post(
            "/api/v2/query/analyze",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"query": query}),
        )
        assert response.status_code == 200, response.body
        return response.json_body

    assert analyze('from(bucket: "b") |> range(start: -1h)') == {"errors": []}
    assert analyze('from(: "iot_center")\n|> range(start: -90d)') == {
        "errors": [{"line": 1, "column": 6, "character": 5, "message": "missing property key"}]
    }
    # names are not checked: only syntax
    assert analyze('from(foo: "iot_center")') == {"errors": []}


def test_ast(client):
    response = client.http.post(
        "/api/v2/query/ast",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"query": 'from(bucket: "example-bucket") |> range(start: -5m)'}),
    )
    assert response.status_code == 200, response.body
    tree = response.json_body["ast"]
    assert tree["type"] == "Package" and tree["package"] == "main"
    file = tree["files"][0]
    assert file["type"] == "File"
    pipe = file["body"][0]["expression"]
    assert pipe["type"] == "PipeExpression"
    assert pipe["argument"]["callee"]["name"] == "from"
    assert pipe["argument"]["arguments"][0]["properties"][0]["value"]["value"] == "example-bucket"
    assert pipe["call"]["arguments"][0]["properties"][0]["value"]["argument"]["values"] == [
        {"magnitude": 5, "unit": "m"}
    ]
    bad = client.http.post(
        "/api/v2/query/ast",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"query": "a |> 1"}),
    )
    assert bad.status_code == 400 and bad.json_body["code"] == "invalid"


def test_suggestions(client):
    listing = client.http.get("/api/v2/query/suggestions")
    assert listing.status_code == 200
    names = {f["name"] for f in listing.json_body["funcs"]}
    assert {"from", "range", "filter", "aggregateWindow", "sum", "buckets"} <= names
    assert "holtWinters" not in names  # not implemented: not suggested
    one = client.http.get("/api/v2/query/suggestions/sum")
    assert one.json_body == {"name": "sum", "params": {"column": "string", "tables": "stream"}}
    missing = client.http.get("/api/v2/query/suggestions/nope")
    assert missing.status_code == 404
    assert missing.json_body == {"code": "not found", "message": "function nope not found"}


HOURS_STOP = "1970-01-01T03:00:00Z"


@pytest.fixture(scope="module")
def hours(module_client, pump, onboarding) -> str:
    """A bucket of its own with points over three hourly blocks; `n` is missing from the newest."""
    name, bucket_id = new_bucket(module_client, onboarding)
    hour = 3600 * S
    body = "\n".join(
        [
            f"cpu,host=a usage=1,n=1i {hour // 2}",
            f"cpu,host=a usage=2,n=2i {hour + 60 * S}",
            f"cpu,host=a usage=3 {2 * hour + 60 * S}",
            f"cpu,host=b usage=4 {hour + 30 * S}",
            f"cpu,host=b usage=5 {hour + 90 * S}",
            f"mem,host=c free=6i {2 * hour}",
        ]
    )
    written = write_v2(module_client, body, org="acme", bucket=name)
    assert written.status_code == 204, written.body
    pump.drain()
    yield name
    module_client.http.delete(f"/api/v2/buckets/{bucket_id}")


@pytest.mark.parametrize("selector", ["first()", "last()"])
@pytest.mark.parametrize(
    "where", ["r._measurement =~ /./", 'r._field == "n"', 'r.host == "b" or r._measurement == "mem"']
)
def test_first_and_last_read_from_the_store_edge_equal_the_general_path(client, hours, selector, where):
    read = f'from(bucket: "{hours}") |> range(start: 0, stop: {HOURS_STOP}) |> filter(fn: (r) => {where})'
    pushed = csv_text(flux(client, f"{read} |> {selector}"))
    general = csv_text(flux(client, f"{read} |> filter(fn: (r) => exists r._value) |> {selector}"))
    assert pushed == general
    assert ",,0," in pushed


@pytest.mark.parametrize(
    "call",
    [
        'schema.tagValues(bucket: "{b}", tag: "host"{p})',
        'schema.tagKeys(bucket: "{b}"{p})',
        'schema.fieldKeys(bucket: "{b}"{p})',
        'schema.tagValues(bucket: "{b}", tag: "_measurement"{p})',
    ],
)
@pytest.mark.parametrize("predicate", [None, 'r._measurement == "cpu"', 'r.host != "a"', 'r._field == "n"'])
def test_schema_from_the_index_equals_the_points_over_http(client, hours, call, predicate):
    def query(body: str | None) -> str:
        p = f", predicate: (r) => {body}" if body else ""
        return 'import "influxdata/influxdb/schema"\n' + call.format(
            b=hours, p=f"{p}, start: 0, stop: {HOURS_STOP}"
        )

    index = csv_text(flux(client, query(predicate)))
    points = csv_text(flux(client, query(f"({predicate or 'true'}) and exists r._value")))
    assert index == points
    assert ",,0," in index


def test_to_writes_through_the_write_path(client, pump, cpu):
    # last in the module: it adds a measurement to the shared bucket
    q = f'''from(bucket: "{cpu}") |> range(start: 0, stop: 60) |> filter(fn: (r) => r._field == "usage")
  |> set(key: "_measurement", value: "copy") |> to(bucket: "{cpu}")'''
    assert flux(client, q, headers={"Prefer": "return-no-content"}).status_code == 204
    pump.drain()
    read = f'''from(bucket: "{cpu}") |> range(start: 0, stop: 60) |> filter(fn: (r) => r._measurement == "copy")
  |> keep(columns: ["_time", "_value", "host"])'''
    assert csv_text(flux(client, read, dialect={"annotations": []})) == lines(
        ",result,table,_time,_value,host",
        ",_result,0,1970-01-01T00:00:10Z,1.5,a",
        ",_result,0,1970-01-01T00:00:20Z,2,a",
        ",_result,1,1970-01-01T00:00:15Z,43,b",
        "",
    )
