"""Serve a Chalice app over HTTP with `chalice local`'s own machinery (LocalGateway, threaded server),
taught three things the deployed REST API does and chalice local does not:

- request bodies sent with `Transfer-Encoding: chunked` are read whole and handed to the app, as API
  Gateway buffers them (chalice local reads `Content-Length` only, and would drop them);
- routing goes through the resource tree infra declares (`chalicelib/api/routing.py`): every request
  reaches the app, which answers unknown paths and methods in each surface's format (chalice local
  answers a 403 that echoes the caller's `Authorization` header);
- with the stage's `minimum_compression_size`, bodies of at least that many bytes are gzipped for
  clients that send `Accept-Encoding: gzip` (the app never compresses; see docs/FLUX.md).

Also answers a few control paths under `/_localstack/` (never routed to the app), so tests running
the stack in another process can wait for the event pump:
  POST /_localstack/drain?timeout=30   204 once drained, 504 (with the busy sources) on timeout
  GET  /_localstack/stats              the pump's counters per handler, as JSON
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import re
import select
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    LambdaEventConverter,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    MatchResult,
    create_local_server,
)

from chalicelib.api.routing import ResourceTree

logger = logging.getLogger("tickless.localstack.http")

CONTROL_PREFIX = "/_localstack/"
# API Gateway refuses request payloads over 10 MB (REST APIs); a chunked body stops being read there.
MAX_CHUNKED_BYTES = 10 * 1024 * 1024
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_MAX_LINE = 65536


def chalice_config(
    app: Any, *, project_dir: str | Path = ".", stage: str = "local", config_from_disk: dict | None = None
) -> Config:
    """The `Config` `chalice local --stage <stage>` would build: `.chalice/config.json` of `project_dir`
    (when present) for `stage`, with `app` as the Chalice app."""
    project_dir = Path(project_dir).resolve()
    if config_from_disk is None:
        path = project_dir / ".chalice" / "config.json"
        config_from_disk = json.loads(path.read_text()) if path.exists() else {}
    return Config(
        chalice_stage=stage,
        user_provided_params={"chalice_app": app, "project_dir": str(project_dir)},
        config_from_disk=config_from_disk,
        default_params={
            "project_dir": str(project_dir),
            "api_gateway_stage": "api",
            "api_gateway_endpoint_type": "EDGE",
            "autogen_policy": True,
        },
    )


def stage_environment(project_dir: str | Path = ".", stage: str = "local") -> dict[str, str]:
    """Environment variables `.chalice/config.json` gives the functions of `stage`."""
    path = Path(project_dir) / ".chalice" / "config.json"
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    values = dict(raw.get("environment_variables", {}))
    values.update(raw.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return {key: str(value) for key, value in values.items()}


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an `Accept-Encoding` header names gzip with a non-zero q-value (API Gateway compresses
    only for a coding named explicitly: not for `*`, nor when the header is missing)."""
    for item in (accept_encoding or "").split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        if coding.lower() != "gzip":
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


class BadFraming(Exception):
    """A request whose chunked body cannot be read: answered by the server, the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def read_chunked(rfile: Any, limit: int = MAX_CHUNKED_BYTES) -> bytes:
    """A `Transfer-Encoding: chunked` body from `rfile` (chunk extensions and trailers skipped)."""
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(_MAX_LINE + 1)
        size_text = line.split(b";", 1)[0].strip()
        if not line.endswith(b"\n") or not _CHUNK_SIZE.fullmatch(size_text):
            raise BadFraming(400, "malformed chunked request body")
        size = int(size_text, 16)
        if size == 0:
            break
        total += size
        if total > limit:
            raise BadFraming(413, "Request Too Long")
        data = rfile.read(size)
        if len(data) < size or rfile.readline(3) not in (b"\r\n", b"\n"):
            raise BadFraming(400, "malformed chunked request body")
        parts.append(data)
    while True:  # trailer fields, up to the empty line
        line = rfile.readline(_MAX_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return b"".join(parts)
        if not line.endswith(b"\n"):
            raise BadFraming(400, "malformed chunked request body")


class _TreeMatcher:
    """chalice local's route matcher, answering from API Gateway's resource tree (catch-alls included)."""

    def __init__(self, tree: ResourceTree) -> None:
        self._tree = tree

    def match_route(self, url: str) -> MatchResult:
        parts = urlsplit(url)
        resource, captured = self._tree.match(parts.path)
        return MatchResult(resource, captured, parse_qs(parts.query, keep_blank_values=True))


class _Gateway(LocalGateway):
    """chalice local's gateway routing as the deployed REST API does: every path reaches the app (the
    catch-alls carry an ANY method, so OPTIONS does too: chalice local's CORS stand-in is not used)."""

    def __init__(self, app_object: Any, config: Config, tree: ResourceTree) -> None:
        super().__init__(app_object, config)
        self.event_converter = LambdaEventConverter(_TreeMatcher(tree), app_object.api.binary_types)
        self._routes = tree.routes

    def handle_request(self, method: str, path: str, headers: dict, body: bytes | None) -> dict:
        context = self._generate_lambda_context()
        event = self._generate_lambda_event(method, path, headers, body)
        if event["requestContext"]["resourcePath"] in self._routes:  # authorizers belong to routes
            event, context = self._authorizer.authorize(path, event, context)
        return self._app_object(event, context)


def client_gone(connection: socket.socket) -> bool:
    """Whether the client has closed its side of `connection` (a peek finds the end of the stream);
    bytes waiting (a pipelined request) mean it is still there."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):  # reset, or closed already
        return True


def watch_client(gateway: LocalGateway, connection: socket.socket) -> None:
    """The Lambda contexts `gateway` makes report no time left once the client has gone, so a query
    running for it stops (the app bounds its work by the invocation's remaining time; docs/QUERY.md).
    API Gateway lets an abandoned invocation run: there, the time limit alone ends it."""
    make = gateway._generate_lambda_context

    def generate() -> Any:
        context = make()
        remaining = context.get_remaining_time_in_millis
        context.get_remaining_time_in_millis = lambda: 0 if client_gone(connection) else remaining()
        return context

    gateway._generate_lambda_context = generate  # type: ignore[method-assign]


class _Handler(ChaliceRequestHandler):
    control: Callable[[str, str, dict[str, list[str]]], tuple[int, dict[str, Any] | None]] | None = None
    # The stage's `minimum_compression_size` (None: API Gateway compresses nothing).
    minimum_compression_size: int | None = None
    # Headers and body leave in two writes; with Nagle's algorithm the body waits for the client's
    # delayed ACK of the headers (40 ms on Linux) on a keep-alive connection.
    disable_nagle_algorithm = True
    # API Gateway's resources for the app (set per server).
    tree: ResourceTree = ResourceTree.of([])
    # A path prefix added to every request: the proxy's own port serves the app's `/proxy` routes at its
    # root, as influx-proxy listens (a dedicated deployment maps its API the same way).
    mount: str = ""

    def __init__(
        self, request: Any, client_address: Any, server: Any, app_object: Any, config: Config
    ) -> None:
        # ChaliceRequestHandler's, with the gateway that routes as API Gateway does.
        self.local_gateway = _Gateway(app_object, config, self.tree)
        watch_client(self.local_gateway, request)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
        """The headers and body; a chunked body is read whole and passed on as API Gateway passes it,
        without `Transfer-Encoding` and with its `Content-Length`."""
        codings = [c.strip().lower() for c in (self.headers.get("transfer-encoding") or "").split(",")]
        if codings[-1] != "chunked":
            return super()._parse_payload()
        body = read_chunked(self.rfile)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
        headers["Content-Length"] = str(len(body))
        return headers, body or None

    def _generic_handle(self) -> None:
        try:
            self._handle()
        except BadFraming as exc:
            # The rest of the stream cannot be trusted to start a request: answer and hang up, as a
            # gateway does (its answer, not the app's: it never reaches the app).
            self.close_connection = True
            payload = json.dumps({"message": exc.message})
            self._send_http_response(exc.status, {"Connection": "close"}, payload)

    def _handle(self) -> None:
        if self.mount and not self.path.startswith(CONTROL_PREFIX):
            self.path = self.mount + self.path
        parts = urlsplit(self.path)
        if parts.path.startswith(CONTROL_PREFIX) and self.control is not None:
            self._parse_payload()  # consume the body so keep-alive connections stay in sync
            try:
                status, payload = type(self).control(self.command, parts.path, parse_qs(parts.query))
            except Exception as exc:
                logger.exception("control request %s failed", self.path)
                status, payload = 500, {"error": str(exc)}
            if payload is None:
                self._send_http_response(status, {}, None)
            else:
                self._send_http_response(status, {"Content-Type": "application/json"}, json.dumps(payload))
            return
        super()._generic_handle()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _send_http_response_with_body(self, code: int, headers: dict[str, Any], body: str | bytes) -> None:
        """API Gateway's response compression: a body of at least `minimum_compression_size` bytes is
        gzipped when the client accepts gzip and the app did not set a `Content-Encoding` itself."""
        data = body.encode() if isinstance(body, str) else body
        limit = self.minimum_compression_size
        if (
            limit is not None
            and len(data) >= limit
            and self.command != "HEAD"
            and not any(name.lower() == "content-encoding" for name in headers)
            and accepts_gzip(self.headers.get("Accept-Encoding"))
        ):
            data = gzip.compress(data, compresslevel=6)
            headers = {**headers, "Content-Encoding": "gzip"}
        if self.command == "HEAD":
            # The length of what a GET would send, and no body: one would break the connection's framing.
            self.send_response(code)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            self._send_headers(headers)
            return
        super()._send_http_response_with_body(code, headers, data)

    def log_message(self, format: str, *args: Any) -> None:
        # The app logs each request itself, with the keys it logs on AWS (chalicelib/api/observability.py):
        # this server's line is only for debugging it, and leaves out the query string, whose u, p or
        # token parameters are credentials.
        text = format % args
        path = getattr(self, "path", "") or ""
        if "?" in path:
            text = text.replace(path, path.split("?", 1)[0] + "?...")
        logger.debug("%s - %s", self.address_string(), text)


class HTTPServer:
    """The app on `host:port` (0: any free port) in a background thread; `stop()` shuts it down."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 8086,
        config: Config | None = None,
        project_dir: str | Path = ".",
        stage: str = "local",
        control: Callable[[str, str, dict[str, list[str]]], tuple[int, dict[str, Any] | None]] | None = None,
        mount: str = "",
    ) -> None:
        self.app = app
        self.config = config or chalice_config(app, project_dir=project_dir, stage=stage)
        # A subclass per server, so two servers in one process keep their own control callback.
        attributes = {
            "control": staticmethod(control),
            "minimum_compression_size": self.config.minimum_compression_size,
            "tree": ResourceTree.of(app.routes),
            "mount": mount,
        }
        handler_cls = type("LocalStackRequestHandler", (_Handler,), attributes)
        if isinstance(app, LocalChalice):  # already served once in this process
            self._dev = LocalDevServer(app, self.config, host, port, handler_cls=handler_cls)
        else:
            # chalice's own setup (it makes `app` a LocalChalice: thread-local current_request)
            self._dev = create_local_server(app, self.config, host, port)
            self._dev.server.RequestHandlerClass = functools.partial(
                handler_cls, app_object=app, config=self.config
            )
        self._dev.server.daemon_threads = True
        self.host = host
        self.port = self._dev.server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def server(self) -> LocalDevServer:
        return self._dev

    def start(self) -> HTTPServer:
        self._thread = threading.Thread(target=self._dev.server.serve_forever, name="http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._dev.server.shutdown()
            self._thread.join(10)
            self._thread = None
        self._dev.server.server_close()
