"""The local stack's HTTP server compresses as API Gateway does with `minimum_compression_size` set."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator

import pytest
from chalice import Chalice, Response

from scripts.localstack import HTTPServer, chalice_config
from scripts.localstack.httpserver import accepts_gzip

CSV = "".join(f",,0,2020-01-01T00:00:{i % 60:02d}Z,{i}\r\n" for i in range(200))  # ~6 KB


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    app = Chalice(app_name="gzipapp")

    @app.route("/csv")
    def csv() -> Response:
        return Response(body=CSV, headers={"Content-Type": "text/csv; charset=utf-8"})

    @app.route("/small")
    def small() -> Response:
        return Response(body="x" * 100, headers={"Content-Type": "text/plain"})

    @app.route("/encoded")
    def encoded() -> Response:
        return Response(body=CSV, headers={"Content-Type": "text/csv", "Content-Encoding": "identity"})

    stages = {"stages": {"local": {"minimum_compression_size": 1400}}}
    config = chalice_config(app, project_dir="/nonexistent", config_from_disk=stages)
    server = HTTPServer(app, port=0, config=config).start()
    yield server
    server.stop()


def get(server: HTTPServer, path: str, method: str = "GET", **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def test_gzip_when_accepted_and_large_enough(server):
    response = get(server, "/csv", **{"Accept-Encoding": "gzip, deflate", "Accept": "application/json"})
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert int(response.headers["Content-Length"]) == len(response.body) < len(CSV)
    assert gzip.decompress(response.body).decode() == CSV


@pytest.mark.parametrize("accept_encoding", [None, "identity", "gzip;q=0", "*", "br"])
def test_identity_unless_gzip_is_accepted(server, accept_encoding):
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    response = get(server, "/csv", **headers)
    assert "Content-Encoding" not in response.headers
    assert response.body.decode() == CSV


def test_small_and_already_encoded_bodies_stay_as_they_are(server):
    small = get(server, "/small", **{"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers and small.body == b"x" * 100
    encoded = get(server, "/encoded", **{"Accept-Encoding": "gzip"})
    assert encoded.headers["Content-Encoding"] == "identity" and encoded.body.decode() == CSV


def test_no_compression_without_the_setting():
    app = Chalice(app_name="plainapp")

    @app.route("/csv")
    def csv() -> Response:
        return Response(body=CSV, headers={"Content-Type": "text/csv"})

    server = HTTPServer(app, port=0, config=chalice_config(app, project_dir="/nonexistent")).start()
    try:
        response = get(server, "/csv", **{"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in response.headers and response.body.decode() == CSV
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("header", "expected"),
    [("gzip", True), ("deflate, GZIP", True), ("gzip;q=0.5", True), ("gzip; q=0", False), ("*", False)],
)
def test_accepts_gzip(header, expected):
    assert accepts_gzip(header) is expected
