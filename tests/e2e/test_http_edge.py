"""The HTTP edge of `make run`'s stack with real clients and raw requests: chunked request bodies (plain
and gzipped, as Telegraf and the JavaScript client send them) on every write endpoint, the official
JavaScript client under node, unknown routes and wrong methods, v1 credentials in a form body and from the
`influx` 1.x CLI, and credentials on Kapacitor's write endpoints."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests

JS_CLIENT = "@influxdata/influxdb-client@1.35.0"
DATABASE = "edge"


@pytest.fixture(scope="module")
def db(stack, onboarded) -> str:
    """A v1 database (bucket `edge/autogen` of the onboarded org)."""
    response = requests.post(
        f"{stack.url}/query", params={"q": f"CREATE DATABASE {DATABASE}"}, headers=onboarded.headers
    )
    assert response.status_code == 200, response.text
    return DATABASE


def rows(stack, onboarded, measurement: str) -> list[list]:
    stack.drain()
    response = requests.get(
        f"{stack.url}/query",
        params={"db": DATABASE, "q": f'SELECT * FROM "{measurement}"', "epoch": "ns"},
        headers=onboarded.headers,
    )
    assert response.status_code == 200, response.text
    series = response.json()["results"][0].get("series", [])
    return series[0]["values"] if series else []


def post_chunked(
    stack, path: str, body: bytes, headers: dict[str, str], pieces: int = 5
) -> tuple[int, bytes]:
    """POST with `Transfer-Encoding: chunked` and no Content-Length, as Telegraf's outputs do."""
    url = urlsplit(stack.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    step = max(1, len(body) // pieces)
    chunks = iter([body[i : i + step] for i in range(0, len(body), step)])
    connection.request("POST", path, body=chunks, headers=headers, encode_chunked=True)
    response = connection.getresponse()
    answer = response.status, response.read()
    connection.close()
    return answer


# -- chunked request bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize("route", ["/write", "/api/v2/write"])
def test_chunked_write_is_stored(stack, onboarded, db, route, encoding):
    measurement = f"chunked_{route.strip('/').replace('/', '_')}_{encoding}"
    lines = "".join(f"{measurement},host=h{i % 3} value={i}i {1_000 + i}\n" for i in range(500)).encode()
    body = gzip.compress(lines) if encoding == "gzip" else lines
    params = {"db": db} if route == "/write" else {"org": onboarded.org_name, "bucket": f"{db}/autogen"}
    headers = {**onboarded.headers, "Content-Type": "text/plain; charset=utf-8", "Content-Encoding": encoding}
    status, answer = post_chunked(stack, f"{route}?{urlencode(params)}", body, headers)
    assert status == 204, answer
    stored = rows(stack, onboarded, measurement)
    assert len(stored) == 500
    assert sorted(row[0] for row in stored) == list(range(1_000, 1_500))


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize("prefix", ["/kapacitor/v1", "/kapacitor/v1preview"])
def test_chunked_kapacitor_write_is_read_whole(stack, onboarded, prefix, encoding):
    lines = b"".join(b"k value=%di %d\n" % (i, i) for i in range(300))
    body = gzip.compress(lines) if encoding == "gzip" else lines
    headers = {**onboarded.headers, "Content-Type": "text/plain", "Content-Encoding": encoding}
    status, answer = post_chunked(stack, f"{prefix}/write?db=kchunked", body, headers)
    assert status == 204, answer
    # A truncated body would not parse: prove the whole body arrived by breaking its last line.
    status, answer = post_chunked(
        stack, f"{prefix}/write?db=kchunked", lines + b"k value=", headers | {"Content-Encoding": "identity"}
    )
    assert status == 400 and json.loads(answer) == {
        "error": "unable to parse 'k value=': missing field value"
    }


def test_multi_member_gzip_and_trailing_junk(stack, onboarded, db):
    body = gzip.compress(b"members value=1i 1\n") + gzip.compress(b"members value=2i 2\n")
    headers = {**onboarded.headers, "Content-Type": "text/plain", "Content-Encoding": "gzip"}
    status, answer = post_chunked(stack, f"/write?db={db}", body, headers)
    assert status == 204, answer
    assert rows(stack, onboarded, "members") == [[1, 1], [2, 2]]
    status, answer = post_chunked(stack, f"/write?db={db}", body + b"junk", headers)
    assert status == 400
    assert json.loads(answer) == {"error": "invalid gzip body: data after the gzip stream"}


# -- the official JavaScript client (node): gzipped batches go out chunked -------------------------------


@pytest.fixture(scope="session")
def js_client() -> Path:
    """`@influxdata/influxdb-client` installed with npm into a cache outside the repository."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the JavaScript client (apt-get install nodejs npm)")
    home = Path(tempfile.gettempdir()) / "tickless-e2e-js"
    package = home / "node_modules" / "@influxdata" / "influxdb-client" / "package.json"
    if not package.exists() or json.loads(package.read_text())["version"] != JS_CLIENT.rsplit("@", 1)[1]:
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(home), JS_CLIENT],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return home


JS_WRITE = """
const {InfluxDB, Point} = require('@influxdata/influxdb-client');
const [url, token, org, bucket, measurement, count] = process.argv.slice(1);
const writeApi = new InfluxDB({url, token}).getWriteApi(org, bucket, 'ns', {batchSize: 100000});
for (let i = 0; i < Number(count); i++) {
  writeApi.writePoint(new Point(measurement).tag('host', 'js').intField('value', i).timestamp(`${1000 + i}`));
}
writeApi.close().then(() => console.log('written'), (e) => { console.error(String(e)); process.exit(1); });
"""


@pytest.mark.parametrize("count", [3, 2000], ids=["small-plain", "large-gzipped-chunked"])
def test_javascript_client_writes_are_stored(stack, onboarded, db, js_client, count):
    """The client gzips bodies over 1000 bytes and then sends them without Content-Length (chunked)."""
    measurement = f"js_{count}"
    run = subprocess.run(
        [
            "node",
            "-e",
            JS_WRITE,
            stack.url,
            onboarded.token,
            onboarded.org_name,
            f"{db}/autogen",
            measurement,
            str(count),
        ],
        cwd=js_client,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NODE_PATH": str(js_client / "node_modules")},
    )
    assert run.returncode == 0 and "written" in run.stdout, run.stderr
    stored = rows(stack, onboarded, measurement)
    assert [row[0] for row in stored] == list(range(1000, 1000 + count))
    assert [row[-1] for row in stored] == list(range(count))


# -- unknown routes and wrong methods --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v2/nope", {"code": "not found", "message": "path not found"}),
        ("/api/v2/orgs/1/nope/deeper", {"code": "not found", "message": "path not found"}),
        ("/nope", {"error": "path not found"}),
        ("/kapacitor/v1/nope", {"error": "Not Found"}),
    ],
)
def test_unknown_route_is_404_and_echoes_no_credentials(stack, path, expected):
    secret = "Token never-echo-this-secret"
    response = requests.get(stack.url + path, headers={"Authorization": secret})
    assert response.status_code == 404
    assert response.json() == expected
    assert "never-echo-this-secret" not in response.text


def test_wrong_method_is_405(stack):
    response = requests.get(f"{stack.url}/api/v2/write")
    assert response.status_code == 405
    assert response.json() == {"code": "method not allowed", "message": "allow: POST"}
    assert response.headers["Allow"] == "POST"
    v1 = requests.put(f"{stack.url}/query")
    assert (v1.status_code, v1.json()) == (405, {"error": "allow: GET, POST"})


# -- v1 credentials --------------------------------------------------------------------------------------


def test_credentials_in_a_form_post_to_query(stack, onboarded, db):
    form = {"q": "SHOW DATABASES", "u": onboarded.username, "p": onboarded.token}
    response = requests.post(f"{stack.url}/query", data=form)  # application/x-www-form-urlencoded
    assert response.status_code == 200, response.text
    assert [db] in response.json()["results"][0]["series"][0]["values"]
    refused = requests.post(f"{stack.url}/query", data={**form, "p": "wrong"})
    assert refused.status_code == 401


def test_influx_cli_with_username_and_password(stack, onboarded, db):
    """The `influx` 1.x CLI sends Basic credentials (checked against it: not `u`/`p` in a form)."""
    if shutil.which("influx") is None:
        pytest.skip("the influx 1.x CLI is not installed")
    url = urlsplit(stack.url)

    def influx(username: str, password: str, *options: str) -> subprocess.CompletedProcess:
        command = ["influx", "-host", url.hostname, "-port", str(url.port)]
        command += ["-username", username, "-password", password, *options, "-execute", "SHOW DATABASES"]
        return subprocess.run(command, capture_output=True, text=True, timeout=30)

    run = influx(onboarded.username, onboarded.token, "-database", db, "-format", "json")
    assert run.returncode == 0, run.stderr + run.stdout
    assert [db] in json.loads(run.stdout)["results"][0]["series"][0]["values"]
    refused = influx("x", "wrong")
    assert "unauthorized" in (refused.stdout + refused.stderr).lower()


# -- Kapacitor's write endpoints need credentials --------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/kapacitor/v1", "/kapacitor/v1preview"])
def test_kapacitor_write_needs_credentials(stack, onboarded, prefix):
    url = f"{stack.url}{prefix}/write?db=kauth"
    anonymous = requests.post(url, data=b"k value=1 1")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": "unable to parse authentication credentials"}
    wrong = requests.post(url, data=b"k value=1 1", auth=("admin", "wrong"))
    assert (wrong.status_code, wrong.json()) == (401, {"error": "authorization failed"})
    basic = base64.b64encode(f"{onboarded.username}:{onboarded.token}".encode()).decode()
    allowed = requests.post(url, data=b"k value=1 1", headers={"Authorization": f"Basic {basic}"})
    assert allowed.status_code == 204, allowed.text
