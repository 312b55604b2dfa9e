"""Serve a Chalice app over HTTP with `chalice local`'s own machinery (LocalGateway, threaded server).

Also answers a few control paths under `/_localstack/` (never routed to the app), so tests running
the stack in another process can wait for the event pump:
  POST /_localstack/drain?timeout=30   204 once drained, 504 (with the busy sources) on timeout
  GET  /_localstack/stats              the pump's counters per handler, as JSON
"""

from __future__ import annotations

import functools
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


class _Handler(ChaliceRequestHandler):
    control: Callable[[str, str, dict[str, list[str]]], tuple[int, dict[str, Any] | None]] | None = None
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
        handler_cls = type("LocalStackRequestHandler", (_Handler,), {"control": staticmethod(control)})
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
