"""API tests: the Chalice app in-process (chalice.test.Client) against a moto server provisioned from
the same declarations infra deploys, with the local stack's event pump delivering Kinesis records to
the app's real consumer."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import boto3
import chalice.local
import pytest
from chalice.test import Client

from scripts.localstack import HTTPServer, chalice_config
from scripts.localstack.lambda_events import kinesis_record_from
from scripts.localstack.motoserver import MotoServer, configure_environment
from scripts.localstack.provision import provision
from scripts.localstack.pump import EventPump


class GreedyRouteMatcher(chalice.local.RouteMatcher):
    """API Gateway's matching, which chalice.local lacks for greedy paths: a route ending in `{proxy+}`
    takes every deeper path no other route takes (Kapacitor's /kapacitor/v1preview/... rewrite)."""

    def __init__(self, route_urls: list[str]) -> None:
        self.greedy = sorted((u for u in route_urls if u.endswith("/{proxy+}")), key=len, reverse=True)
        super().__init__([u for u in route_urls if not u.endswith("/{proxy+}")])

    def match_route(self, url: str) -> chalice.local.MatchResult:
        try:
            return super().match_route(url)
        except ValueError:
            parsed = urlparse(url)
            for route in self.greedy:
                prefix = route[: -len("/{proxy+}")]
                if parsed.path.startswith(prefix + "/"):
                    rest = parsed.path[len(prefix) + 1 :]
                    query = parse_qs(parsed.query, keep_blank_values=True)
                    return chalice.local.MatchResult(route, {"proxy": rest}, query)
            raise


chalice.local.RouteMatcher = GreedyRouteMatcher  # type: ignore[misc]  # the gateway chalice.test builds


_names = itertools.count()


@pytest.fixture(scope="session")
def aws():
    moto = MotoServer().start()
    configure_environment(moto.endpoint_url)
    provision(moto.endpoint_url)
    yield moto
    moto.stop()


@pytest.fixture(scope="session")
def app_module(aws):
    import app as module  # only now: resource names and endpoints come from the environment

    return module


@pytest.fixture(scope="session")
def pump(aws, app_module):
    pump = EventPump(app_module.app, app_module, endpoint_url=aws.endpoint_url, sqs=False, schedules=False)
    pump.start()
    yield pump
    pump.stop()


ONBOARDING = {"username": "admin", "password": "correct-horse", "org": "acme", "bucket": "first"}


class AuthorizedHttp:
    """chalice.test's HTTP client, sending a token unless the test gives its own Authorization."""

    def __init__(self, http, token: str | None) -> None:
        self._http = http
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        base = {"Authorization": f"Token {self.token}"} if self.token else {}
        return {**base, **(headers or {})}

    def get(self, path: str, headers: dict | None = None):
        return self._http.get(path, headers=self._headers(headers))

    def head(self, path: str, headers: dict | None = None):
        return self._http.head(path, headers=self._headers(headers))

    def delete(self, path: str, headers: dict | None = None):
        return self._http.delete(path, headers=self._headers(headers))

    def post(self, path: str, headers: dict | None = None, body: bytes | str = b""):
        return self._http.post(path, headers=self._headers(headers), body=body)

    def put(self, path: str, headers: dict | None = None, body: bytes | str = b""):
        return self._http.put(path, headers=self._headers(headers), body=body)

    def patch(self, path: str, headers: dict | None = None, body: bytes | str = b""):
        return self._http.patch(path, headers=self._headers(headers), body=body)


class TestClient:
    def __init__(self, client, token: str | None) -> None:
        self.http = AuthorizedHttp(client.http, token)
        self.raw = client

    def with_token(self, token: str | None) -> TestClient:
        """The same app, called with another token."""
        return TestClient(self.raw, token)


@pytest.fixture(scope="module")
def http(app_module, onboarding) -> Iterator[str]:
    """The app behind the local stack's HTTP server (API Gateway's routing, catch-alls included), on a
    free port: for what only HTTP shows (chunked bodies, unknown routes)."""
    config = chalice_config(app_module.app, project_dir=Path(__file__).resolve().parents[2])
    server = HTTPServer(app_module.app, port=0, config=config).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def onboarding(app_module) -> dict:
    """Onboard once per session: the operator's user, org, bucket and token."""
    import json

    with Client(app_module.app, stage_name="local") as client:
        response = client.http.post(
            "/api/v2/setup", body=json.dumps(ONBOARDING), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 201, response.body
        return response.json_body


@pytest.fixture
def client(app_module, onboarding):
    with Client(app_module.app, stage_name="local") as client:
        yield TestClient(client, onboarding["auth"]["token"])


@pytest.fixture
def anonymous(app_module):
    with Client(app_module.app, stage_name="local") as client:
        yield TestClient(client, None)


@pytest.fixture
def database(client) -> str:
    """A fresh database per test, so tests never see each other's points."""
    name = f"db{next(_names)}"
    response = client.http.post(f"/query?q=CREATE+DATABASE+{name}")
    assert response.status_code == 200, response.body
    return name


def query(client, q: str, **params) -> dict:
    from urllib.parse import urlencode

    response = client.http.get("/query?" + urlencode({"q": q, **params}))
    assert response.status_code == 200, response.body
    return response.json_body


def series_values(client, q: str, database: str) -> list[list]:
    """The values of the first series of a single-statement query, times as ns."""
    return query(client, q, db=database, epoch="ns")["results"][0]["series"][0]["values"]


def stream_records(endpoint_url: str) -> list[dict]:
    """Every record on the points stream, shaped as Lambda hands them to a consumer."""
    from chalicelib.declarations import physical_name

    kinesis = boto3.client("kinesis", endpoint_url=endpoint_url)
    name = physical_name("points")
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    out = []
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            out.extend(
                kinesis_record_from(r, shard_id=shard["ShardId"], stream_arn=arn) for r in page["Records"]
            )
            if not page["Records"] or not page.get("MillisBehindLatest", 1):
                break
            iterator = page.get("NextShardIterator")
    return out


def _database_of(record: dict) -> str | None:
    parts = record["kinesis"]["partitionKey"].split("|")
    return parts[1] if len(parts) > 1 else None  # a key too long for Kinesis is a digest


def stream_batches(endpoint_url: str, database: str) -> list:
    """The decoded point batches on the stream destined for `database`."""
    from chalicelib.ingest import records

    ours = [r for r in stream_records(endpoint_url) if _database_of(r) == database]
    return [records.decode(base64.b64decode(r["kinesis"]["data"])) for r in ours]
