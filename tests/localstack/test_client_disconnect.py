"""The local stack's server stops a query whose client has gone: the Lambda context it hands the app
reports no time left once the client has closed the connection, and the app's query budget ends a
query when its invocation has no time left (docs/QUERY.md)."""

from __future__ import annotations

import http.client
import json
import queue
import socket
import time
from collections.abc import Iterator

import pytest
from chalice import Chalice, Response

from scripts.localstack import HTTPServer, chalice_config
from scripts.localstack.httpserver import client_gone

seen: queue.Queue[str] = queue.Queue()


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    app = Chalice(app_name="disconnect")

    @app.route("/remaining")
    def remaining() -> Response:
        left = app.current_request.lambda_context.get_remaining_time_in_millis()
        return Response(body=json.dumps({"left": left}), headers={"Content-Type": "application/json"})

    @app.route("/wait")
    def wait() -> Response:
        """A long query: works until its invocation has no time left (or 10 s)."""
        context = app.current_request.lambda_context
        give_up = time.monotonic() + 10
        while time.monotonic() < give_up:
            if context.get_remaining_time_in_millis() <= 0:
                seen.put("no time left")
                return Response(body="{}")
            time.sleep(0.01)
        seen.put("still running after 10 s")
        return Response(body="{}")

    server = HTTPServer(app, port=0, config=chalice_config(app, project_dir="/nonexistent")).start()
    yield server
    server.stop()


def test_a_connected_client_leaves_the_invocation_its_time(server):
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    for _ in range(2):  # a keep-alive connection, request after request
        connection.request("GET", "/remaining")
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["left"] > 800_000  # chalice local's 900 s
    connection.close()


def test_a_query_stops_when_its_client_goes_away(server):
    client = socket.create_connection((server.host, server.port), timeout=10)
    client.sendall(f"GET /wait HTTP/1.1\r\nHost: {server.host}\r\n\r\n".encode())
    time.sleep(0.2)  # the app is waiting
    started = time.monotonic()
    client.close()
    assert seen.get(timeout=5) == "no time left"
    assert time.monotonic() - started < 2


def test_client_gone_sees_a_closed_peer_and_not_a_pipelined_request():
    ours, theirs = socket.socketpair()
    try:
        assert not client_gone(ours)
        theirs.sendall(b"GET / HTTP/1.1\r\n\r\n")  # the next request, waiting: still there
        assert not client_gone(ours)
        assert ours.recv(100).startswith(b"GET")
        theirs.close()
        assert client_gone(ours)
    finally:
        ours.close()
