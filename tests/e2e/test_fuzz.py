"""Hostile input at every route of the local stack: mutated line protocol at the write routes, mutated
InfluxQL at /query, mutated Flux at /api/v2/query, mutated and deeply nested JSON at every resource
route, garbage ids, parameters, encodings and credentials. Whatever comes in, the answer is never a 5xx
and never a hang; a 4xx is in the route's own error format.

The runs are derandomized (the same examples every run), so a failure found in CI reproduces locally.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REQUEST_TIMEOUT = 60.0  # a request that takes longer counts as a hang
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

GOOD_LINES = [
    b'cpu,host=a,region=us-west usage=12.5,idle=80i,ok=true,msg="fine" 1700000000000000000',
    b"mem,host=b used=1u,free=2.5e3 1700000000000000001\nweather,city=Z\\ rich temp=-3.5",
    b"disk,path=/var free=1i",
]
LINES = [
    *GOOD_LINES,
    # the shapes that broke the store or the stream: long names and keys, many and huge fields
    b"m" * 3_000 + b" v=1",
    b"m," + b"k" * 1_100 + b"=v " + b"f" * 1_100 + b"=1",
    b"wide " + b",".join(b"f%d=%d" % (i, i) for i in range(3_000)),
    b'big s="' + b"x" * 600_000 + b'"',
]
INFLUXQL = [
    "SELECT mean(usage) FROM cpu WHERE time > now() - 1h GROUP BY time(1m), host fill(previous)",
    "SELECT * FROM cpu WHERE host = 'a' OR (region =~ /us-.*/ AND usage > 1.5) LIMIT 10",
    "SHOW TAG VALUES FROM cpu WITH KEY = host; SHOW FIELD KEYS; SHOW MEASUREMENTS",
    "SELECT usage INTO other FROM cpu; DELETE FROM cpu WHERE time < 0; DROP SERIES FROM mem",
    "CREATE DATABASE fz WITH DURATION 2h; SHOW RETENTION POLICIES ON fz",
    # the shapes that overflowed the stack
    "SELECT usage FROM cpu WHERE " + " OR ".join(["usage = 1"] * 500),
    "SELECT " + " + ".join(["usage"] * 1_000) + " FROM cpu",
    "SELECT usage FROM cpu WHERE " + "(" * 1_000 + "usage = 1" + ")" * 1_000,
]
FLUX = [
    'from(bucket: "{bucket}") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu")'
    " |> aggregateWindow(every: 1m, fn: mean) |> yield()",
    'import "strings"\nfrom(bucket: "{bucket}") |> range(start: 0) |> map(fn: (r) => ({{r with s: '
    'strings.toUpper(v: r.host)}})) |> group(columns: ["host"]) |> count()',
    "buckets() |> limit(n: 2)",
    'import "influxdata/influxdb/schema"\nschema.tagValues(bucket: "{bucket}", tag: "host")',
    'from(bucket: "{bucket}") |> range(start: -5m) |> pivot(rowKey: ["_time"], columnKey: ["_field"], '
    'valueColumn: "_value")',
    "x = " + " + ".join(["1"] * 1_000) + "\nx",
    "x = " + "(" * 1_000 + "1" + ")" * 1_000 + "\nx",
]
ID_LIKE = st.sampled_from(["0000000000000001", "zz", "", "ffffffffffffffff", "a" * 300, "0" * 16, "%00", "é"])


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """`seed` with bytes replaced, inserted and deleted at a few places, or cut short."""

    @st.composite
    def build(draw) -> bytes:
        data = bytearray(seed)
        for _ in range(draw(st.integers(0, 6))):
            if not data:
                break
            at = draw(st.integers(0, len(data) - 1))
            action = draw(st.sampled_from(["replace", "insert", "delete", "repeat"]))
            byte = draw(st.sampled_from(b" ,=\\\"\n\t{}()[]/*'|>.#:0123456789azZ\xff\xc3-+_$@"))
            if action == "replace":
                data[at] = byte
            elif action == "insert":
                data.insert(at, byte)
            elif action == "delete":
                del data[at]
            else:
                data[at:at] = data[at : at + draw(st.integers(1, 40))] * draw(st.integers(1, 200))
        if draw(st.booleans()) and data:
            data = data[: draw(st.integers(0, len(data)))]
        return bytes(data)

    return build()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)


BODY_KEYS = [
    "name",
    "orgID",
    "org",
    "bucketID",
    "labelID",
    "id",
    "userID",
    "permissions",
    "retentionRules",
    "description",
    "status",
    "database",
    "retention_policy",
    "default",
    "password",
    "token",
    "properties",
    "username",
    "bucket",
    "query",
    "type",
    "start",
    "stop",
    "predicate",
]


@st.composite
def json_bodies(draw) -> bytes:
    """A JSON document: random, a plausible resource body with wrong types, hostile nesting, or not JSON."""
    kind = draw(st.sampled_from(["random", "plausible", "deep", "broken"]))
    if kind == "random":
        return json.dumps(draw(JSON_VALUES)).encode()
    if kind == "plausible":
        names = draw(st.lists(st.sampled_from(BODY_KEYS), max_size=6))
        doc = {key: draw(JSON_VALUES | ID_LIKE) for key in names}
        return json.dumps(doc).encode()
    if kind == "deep":
        depth = draw(st.sampled_from([100, 1_000, 20_000]))
        return (
            (b'{"a":' * depth) + b"1" + (b"}" * depth) if draw(st.booleans()) else b"[" * depth + b"]" * depth
        )
    return draw(
        mutated(b'{"name": "x", "orgID": "0000000000000001", "retentionRules": [{"everySeconds": 3600}]}')
    )


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str


def send(url: str, method: str, headers: dict[str, str], body: bytes | None) -> Answer:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return Answer(response.status, response.read(), response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read(), exc.headers.get("Content-Type", ""))
    except (TimeoutError, socket.timeout) as exc:  # noqa: UP041 -- urllib raises either
        raise AssertionError(f"{method} {url} hung for {REQUEST_TIMEOUT} s") from exc


# Routes whose honest answer is 501 (the choice for Kapacitor's pprof: no Go runtime to profile).
NOT_IMPLEMENTED_PATHS = ("/debug/pprof",)


def check(answer: Answer, method: str, url: str) -> None:
    if answer.status == 501 and any(p in urlsplit(url).path for p in NOT_IMPLEMENTED_PATHS):
        return
    assert answer.status < 500, f"{method} {url} -> {answer.status}: {answer.body[:500]!r}"
    if answer.status >= 400 and answer.body and answer.content_type.startswith("application/json"):
        doc = json.loads(answer.body)
        # InfluxDB's {code, message}, Kapacitor's and the proxy's {error}, StackTach's {title, description}
        assert isinstance(doc, dict) and ("message" in doc or "error" in doc or "description" in doc), doc


@pytest.fixture(scope="module")
def fuzz_target(stack, onboarded):
    """A bucket with a few points, a database name mapped onto it, and the operator's headers."""
    bucket = "fuzz"
    auth = onboarded.headers
    created = send(
        f"{stack.url}/api/v2/buckets",
        "POST",
        {**auth, "Content-Type": "application/json"},
        json.dumps({"name": f"{bucket}/autogen", "orgID": onboarded.org_id}).encode(),
    )
    assert created.status == 201, created.body
    query = urlencode({"org": onboarded.org_name, "bucket": f"{bucket}/autogen"})
    for lines in GOOD_LINES:
        assert send(f"{stack.url}/api/v2/write?{query}", "POST", auth, lines).status == 204
    stack.drain()
    return {"bucket": f"{bucket}/autogen", "database": bucket, "auth": auth, "org": onboarded.org_name}


WRITE_ROUTES = ["/write", "/api/v2/write", "/kapacitor/v1/write", "/kapacitor/v1preview/write"]


@FUZZ
@given(
    route=st.sampled_from(WRITE_ROUTES),
    lines=st.sampled_from(LINES).flatmap(mutated),
    precision=st.sampled_from(["", "ns", "s", "ms", "u", "h", "x", "1"]),
    encoding=st.sampled_from(["", "gzip", "gzip-junk", "deflate"]),
    authorized=st.booleans(),
)
def test_mutated_line_protocol_never_5xx(stack, fuzz_target, route, lines, precision, encoding, authorized):
    params = {"db": fuzz_target["database"], "org": fuzz_target["org"], "bucket": fuzz_target["bucket"]}
    if precision:
        params["precision"] = precision
    headers = dict(fuzz_target["auth"]) if authorized else {"Authorization": "Token nope"}
    body = lines
    if encoding.startswith("gzip"):
        body = gzip.compress(lines) + (b"junk" if encoding == "gzip-junk" else b"")
        headers["Content-Encoding"] = "gzip"
    elif encoding:
        headers["Content-Encoding"] = encoding
    url = f"{stack.url}{route}?{urlencode(params)}"
    check(send(url, "POST", headers, body), "POST", url)


@FUZZ
@given(
    statement=st.sampled_from(INFLUXQL).map(str.encode).flatmap(mutated),
    method=st.sampled_from(["GET", "POST"]),
    extra=st.dictionaries(
        st.sampled_from(["epoch", "chunked", "chunk_size", "pretty", "params", "rp"]),
        st.sampled_from(["ns", "true", "0", "-1", "10", "x", '{"a": 1}', "[", "autogen"]),
    ),
)
def test_mutated_influxql_never_5xx(stack, fuzz_target, statement, method, extra):
    params = {"db": fuzz_target["database"], "q": statement.decode("utf-8", "replace"), **extra}
    url = f"{stack.url}/query?{urlencode(params)}"
    check(send(url, method, fuzz_target["auth"], None if method == "GET" else b""), method, url)


@FUZZ
@given(
    program=st.sampled_from(FLUX).flatmap(lambda text: mutated(text.encode())),
    envelope=st.sampled_from(["json", "vnd.flux", "analyze", "ast"]),
)
def test_mutated_flux_never_5xx(stack, fuzz_target, program, envelope):
    text = program.decode("utf-8", "replace").replace("{bucket}", fuzz_target["bucket"])
    headers = {**fuzz_target["auth"], "Content-Type": "application/json"}
    path = {"analyze": "/api/v2/query/analyze", "ast": "/api/v2/query/ast"}.get(envelope, "/api/v2/query")
    body = json.dumps({"query": text, "type": "flux"}).encode()
    if envelope == "vnd.flux":
        headers["Content-Type"] = "application/vnd.flux"
        body = text.encode()
    url = f"{stack.url}{path}?{urlencode({'org': fuzz_target['org']})}"
    check(send(url, "POST", headers, body), "POST", url)


def _resource_routes() -> list[tuple[str, str]]:
    """(path template, method) of every route the app serves but the write and query routes fuzzed
    above: the app's own route table, so a new route is fuzzed without anyone adding it here."""
    import app

    skip = {*WRITE_ROUTES, "/query", "/api/v2/query"}
    return sorted(
        (path, method) for path, methods in app.app.routes.items() if path not in skip for method in methods
    )


RESOURCE_ROUTES = _resource_routes()


@settings(FUZZ, max_examples=400)
@given(
    route=st.sampled_from(RESOURCE_ROUTES),
    ids=st.lists(ID_LIKE, min_size=3, max_size=3),
    body=json_bodies(),
    query=st.dictionaries(
        st.sampled_from(
            ["org", "orgID", "limit", "offset", "after", "descending", "name", "id", "userID", "db"]
        ),
        ID_LIKE | st.sampled_from(["-1", "1000", "true", "acme"]),
        max_size=3,
    ),
    credentials=st.sampled_from(["operator", "none", "garbage", "basic"]),
)
def test_mutated_json_at_every_route_never_5xx(stack, fuzz_target, route, ids, body, query, credentials):
    path, method = route
    for value in ids:
        path = re.sub(r"\{[^}]+\}", quote(value, safe="") or "x", path, count=1)
    headers = {"Content-Type": "application/json"}
    if credentials == "operator":
        headers.update(fuzz_target["auth"])
    elif credentials == "garbage":
        headers["Authorization"] = "Bearer garbage"
    elif credentials == "basic":
        headers["Authorization"] = "Basic !!!notbase64"
    if credentials == "operator" and path.endswith("/password"):
        headers.pop(
            "Authorization"
        )  # the operator's own password must stay what the other tests sign in with
    data = None if method in ("GET", "HEAD", "DELETE") else body
    url = f"{stack.url}{path}?{urlencode(query)}" if query else f"{stack.url}{path}"
    check(send(url, method, headers, data), method, url)
