"""The local stack's HTTP server does what the deployed REST API does and chalice local does not: it
compresses as API Gateway does with `minimum_compression_size` set, reads chunked request bodies, and
routes every request to the app through API Gateway's resource tree (catch-alls included)."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import socket
from collections.abc import Iterator

import pytest
from chalice import Chalice, Response

from scripts.localstack import HTTPServer, chalice_config
from scripts.localstack.httpserver import BadFraming, accepts_gzip, read_chunked

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

    @app.route("/echo", methods=["POST"], content_types=["*/*"])
    def echo() -> Response:
        request = app.current_request
        raw = request.raw_body or b""
        seen = {
            "length": len(raw),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "headers": {k.lower(): v for k, v in request.headers.items()},
        }
        return Response(body=json.dumps(seen), headers={"Content-Type": "application/json"})

    @app.route("/things/{thing}", methods=["GET", "HEAD"])
    def thing(thing: str) -> Response:
        return Response(body=f"thing {thing}", headers={"Content-Type": "text/plain"})

    @app.middleware("http")
    def routing(request, get_response):
        """Tells where the gateway routed a request that no view takes (the real app answers 404/405)."""
        if request.path not in ("/csv", "/small", "/encoded", "/echo", "/things/{thing}"):
            seen = {"resource": request.path, "parameters": request.uri_params, "method": request.method}
            return Response(
                body=json.dumps(seen), status_code=404, headers={"Content-Type": "application/json"}
            )
        return get_response(request)

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


# -- chunked request bodies (Telegraf, the JavaScript client): read whole, as API Gateway buffers them -----


def raw_request(server: HTTPServer, data: bytes) -> tuple[int, dict[str, str], bytes, bool]:
    """Sends `data` as is on a new connection; returns the status, headers, body of the first answer
    and whether the server then closed the connection."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        reader = sock.makefile("rb")
        response = http.client.HTTPResponse(sock)
        response.fp = reader  # the answer is read from the same buffered file
        response.begin()
        body = response.read()
        closed = response.will_close
        return response.status, dict(response.getheaders()), body, closed


def test_chunked_request_body_reaches_the_app_whole(server):
    payload = b"cpu,host=a usage=1 1\n" * 5000  # ~110 KB in uneven chunks
    chunks = [payload[i : i + 7777] for i in range(0, len(payload), 7777)]
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.request(
        "POST", "/echo", body=iter(chunks), headers={"Content-Type": "text/plain"}, encode_chunked=True
    )
    response = connection.getresponse()
    seen = json.loads(response.read())
    assert response.status == 200
    assert seen["length"] == len(payload)
    assert seen["sha256"] == hashlib.sha256(payload).hexdigest()
    # As API Gateway passes it on: no Transfer-Encoding, the length of the assembled body.
    assert "transfer-encoding" not in seen["headers"]
    assert seen["headers"]["content-length"] == str(len(payload))
    # The connection stays usable for the next request.
    connection.request("POST", "/echo", body=b"x", headers={"Content-Type": "text/plain"})
    assert json.loads(connection.getresponse().read())["length"] == 1
    connection.close()


def test_chunked_gzip_body_is_passed_on_as_sent(server):
    payload = gzip.compress(b"m v=1i 1\n" * 1000)
    head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
    # A chunk extension, hex digits in both cases and a trailer field: all legal, all ignored.
    framed = head + b"Transfer-Encoding: chunked\r\n\r\n"
    framed += b"%x;name=value\r\n" % 10 + payload[:10] + b"\r\n"
    framed += b"%X\r\n" % (len(payload) - 10) + payload[10:] + b"\r\n"
    framed += b"0\r\nX-Checksum: none\r\n\r\n"
    status, _, body, _ = raw_request(server, framed)
    seen = json.loads(body)
    assert status == 200
    assert seen["sha256"] == hashlib.sha256(payload).hexdigest()
    assert seen["headers"]["content-encoding"] == "gzip"


@pytest.mark.parametrize(
    "framing",
    [b"zz\r\nabc\r\n0\r\n\r\n", b"5\r\nabc\r\n0\r\n\r\n", b"+3\r\nabc\r\n0\r\n\r\n", b"3\r\nabcXY0\r\n\r\n"],
    ids=["not-hex", "short-chunk", "signed-size", "no-crlf-after-data"],
)
def test_malformed_chunked_body_is_400_and_the_connection_closes(server, framing):
    head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, _, body, closed = raw_request(server, head + framing)
    assert status == 400
    assert json.loads(body) == {"message": "malformed chunked request body"}
    assert closed


def test_chunked_body_over_the_limit_is_refused():
    framed = b"".join(b"4\r\nabcd\r\n" for _ in range(3)) + b"0\r\n\r\n"
    assert read_chunked(io.BytesIO(framed), limit=12) == b"abcd" * 3
    with pytest.raises(BadFraming) as refused:
        read_chunked(io.BytesIO(framed), limit=11)
    assert refused.value.status == 413


# -- routing through API Gateway's resource tree: every request reaches the app --------------------------


@pytest.mark.parametrize(
    ("method", "path", "resource", "parameters"),
    [
        ("GET", "/nope", "/{proxy+}", {"proxy": "nope"}),
        ("GET", "/a/b/c?x=1", "/{proxy+}", {"proxy": "a/b/c"}),
        ("DELETE", "/things/7/parts/9", "/things/{thing}/{proxy+}", {"thing": "7", "proxy": "parts/9"}),
        ("GET", "/", "/", {}),
        ("POST", "/things", "/things", {}),
    ],
)
def test_every_request_reaches_the_app(server, method, path, resource, parameters):
    """chalice local answers unknown paths itself with a 403 that echoes the Authorization header."""
    secret = "Token do-not-echo-me"
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.request(method, path, headers={"Authorization": secret})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status != 403
    assert b"do-not-echo-me" not in body
    assert json.loads(body) == {"resource": resource, "parameters": parameters, "method": method}


def test_options_reaches_the_app(server):
    """The deployed API has an ANY method on every resource: OPTIONS goes to the app too (here Chalice's
    405, as the route lacks it), not to chalice local's stand-in for API Gateway's CORS answer."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.request("OPTIONS", "/things/7")
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 405


def test_head_answers_without_a_body_and_the_connection_stays_usable(server):
    """A body after a HEAD answer would be read as the start of the next answer on the connection."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b"HEAD /things/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /things/2 HTTP/1.1\r\nHost: x\r\n\r\n")
        reader = sock.makefile("rb")  # one reader for both answers, as a pipelining client reads them
        head = http.client.HTTPResponse(sock, method="HEAD")
        head.fp = reader
        head.begin()
        assert head.status == 200 and int(head.headers["Content-Length"]) == len("thing 1")
        get = http.client.HTTPResponse(sock, method="GET")
        get.fp = reader
        get.begin()
        assert get.status == 200 and get.read() == b"thing 2"
