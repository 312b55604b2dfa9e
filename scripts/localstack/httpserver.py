"""Serve a Chalice app over HTTP with `chalice local`'s own machinery (LocalGateway, threaded server).

Like API Gateway with the stage's `minimum_compression_size`, it gzips bodies of at least that many
bytes for clients that send `Accept-Encoding: gzip` (the app never compresses; see docs/FLUX.md).

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
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalChalice, LocalDevServer, create_local_server

logger = logging.getLogger("tickless.localstack.http")

CONTROL_PREFIX = "/_localstack/"


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


class _Handler(ChaliceRequestHandler):
    control: Callable[[str, str, dict[str, list[str]]], tuple[int, dict[str, Any] | None]] | None = None
    # The stage's `minimum_compression_size` (None: API Gateway compresses nothing).
    minimum_compression_size: int | None = None
    # Headers and body leave in two writes; with Nagle's algorithm the body waits for the client's
    # delayed ACK of the headers (40 ms on Linux) on a keep-alive connection.
    disable_nagle_algorithm = True

    def _generic_handle(self) -> None:
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
        super()._send_http_response_with_body(code, headers, data)

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s - %s", self.address_string(), format % args)


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
    ) -> None:
        self.app = app
        self.config = config or chalice_config(app, project_dir=project_dir, stage=stage)
        # A subclass per server, so two servers in one process keep their own control callback.
        attributes = {
            "control": staticmethod(control),
            "minimum_compression_size": self.config.minimum_compression_size,
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
