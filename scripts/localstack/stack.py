"""`LocalStack`: moto + provisioned declarations + event pump + HTTP, in this process."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import Any

from chalicelib.declarations import DEFAULT_PREFIX, PREFIX_ENV

from .checkpoints import Checkpoints
from .httpserver import HTTPServer, stage_environment
from .motoserver import DEFAULT_REGION, MotoServer, configure_environment
from .persistence import DEFAULT_COMPACT_BYTES
from .provision import Provisioned, provision
from .pump import EventPump

logger = logging.getLogger("tickless.localstack")

APP_ENV = "TICKLESS_APP"
DEFAULT_APP = "app:app"


def load_app(spec: str, project_dir: str | Path = ".") -> tuple[Any, ModuleType]:
    """Import `module:attribute` (attribute defaults to `app`) and return (app, module)."""
    module_name, _, attribute = spec.partition(":")
    root = str(Path(project_dir).resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    module = importlib.import_module(module_name)
    return getattr(module, attribute or "app"), module


class LocalStack:
    """Start everything `make run` serves, in-process; also a context manager.

    `app`: a Chalice object or a `module:attribute` spec (default env TICKLESS_APP or `app:app`),
    imported only after the AWS environment points at moto. `port=0` / `moto_port=None` pick free
    ports. `prefix` defaults to env TICKLESS_PREFIX, then the stage's config, then `tickless-local-`.
    `aws_endpoint`: use AWS APIs already served there (a moto server in another process, as
    `--aws-only` starts one) instead of starting moto in this process. `data_dir`: keep the AWS state
    there across restarts (persistence.py; None, the default here: in memory only)."""

    def __init__(
        self,
        app: Any = None,
        *,
        handlers: Any = None,
        host: str = "127.0.0.1",
        port: int = 8086,
        proxy_port: int | None = None,
        moto_port: int | None = None,
        aws_endpoint: str | None = None,
        prefix: str | None = None,
        region: str = DEFAULT_REGION,
        project_dir: str | Path = ".",
        stage: str = "local",
        schedule_speedup: float | None = None,
        serve_http: bool = True,
        run_pump: bool = True,
        pump_options: dict[str, Any] | None = None,
        data_dir: str | Path | None = None,
        compact_bytes: int = DEFAULT_COMPACT_BYTES,
    ) -> None:
        self.app_spec = app if app is not None else os.environ.get(APP_ENV) or DEFAULT_APP
        self.handlers = handlers
        self.host = host
        self.port = port
        self.proxy_port = proxy_port
        self.moto_port = moto_port
        self.aws_endpoint = aws_endpoint
        self.prefix = prefix
        self.region = region
        self.project_dir = Path(project_dir).resolve()
        self.stage = stage
        self.schedule_speedup = schedule_speedup
        self.serve_http = serve_http
        self.run_pump = run_pump
        self.pump_options = pump_options or {}
        self.data_dir = data_dir
        self.compact_bytes = compact_bytes
        self.app: Any = None
        self.moto: MotoServer | None = None
        self.pump: EventPump | None = None
        self.http: HTTPServer | None = None
        self.proxy_http: HTTPServer | None = None
        self.provisioned: Provisioned | None = None

    # -- URLs ------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Where the app answers (the InfluxDB API), e.g. http://127.0.0.1:8086"""
        assert self.http is not None, "HTTP is not being served"
        return self.http.url

    @property
    def proxy_url(self) -> str | None:
        """Where influx-proxy's API answers at the root of its own port (None: no proxy configured)."""
        return self.proxy_http.url if self.proxy_http is not None else None

    @property
    def kapacitor_url(self) -> str:
        return f"{self.url}/kapacitor/v1/"

    @property
    def moto_url(self) -> str:
        if self.aws_endpoint:
            return self.aws_endpoint
        assert self.moto is not None, "not started"
        return self.moto.endpoint_url

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        if not self.aws_endpoint:
            self.moto = MotoServer(
                self.host, self.moto_port, data_dir=self.data_dir, compact_bytes=self.compact_bytes
            ).start()
        endpoint = self.moto_url
        configure_environment(endpoint, prefix=self.prefix, region=self.region)
        for key, value in stage_environment(self.project_dir, self.stage).items():
            os.environ.setdefault(key, value)
        os.environ.setdefault(PREFIX_ENV, DEFAULT_PREFIX)
        self.provisioned = provision(endpoint, region=self.region)
        if self.moto is not None and self.moto.persistence is not None:
            Checkpoints(endpoint, self.region).create()
        if not self.run_pump and not self.serve_http:
            return  # AWS only: the app runs in another process
        # Only now, with the environment pointing at moto: the app resolves resource names at import.
        check_configuration()
        if isinstance(self.app_spec, str):
            self.app, module = load_app(self.app_spec, self.project_dir)
            handlers = self.handlers if self.handlers is not None else module
        else:
            self.app, handlers = self.app_spec, self.handlers
        if self.run_pump:
            options = {
                "schedule_speedup": self.schedule_speedup,
                "stage": self.stage,
                # a persistent AWS endpoint (here or --aws-only) keeps Kinesis checkpoints across restarts
                "checkpoints": Checkpoints.find(endpoint, self.region),
                **self.pump_options,
            }
            self.pump = EventPump(
                self.app, handlers, endpoint_url=endpoint, region=self.region, **options
            ).start()
        if self.serve_http:
            self.http = HTTPServer(
                self.app,
                host=self.host,
                port=self.port,
                project_dir=self.project_dir,
                stage=self.stage,
                control=self._control,
            ).start()
            # the all-in-one app's /proxy routes also at the root of their own port (a dedicated proxy
            # app has them at its root already)
            if proxy_configured() and "/proxy/ping" in self.app.routes:
                self.proxy_http = HTTPServer(
                    self.app,
                    host=self.host,
                    port=proxy_port(self.proxy_port),
                    project_dir=self.project_dir,
                    stage=self.stage,
                    control=self._control,
                    mount="/proxy",
                ).start()

    def stop(self) -> None:
        if self.proxy_http is not None:
            self.proxy_http.stop()
            self.proxy_http = None
        if self.http is not None:
            self.http.stop()
            self.http = None
        if self.pump is not None:
            self.pump.stop()
            self.pump = None
        if self.moto is not None:
            self.moto.stop()
            self.moto = None

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until the event pump has handled everything written so far (see EventPump.drain)."""
        return self.pump.drain(timeout) if self.pump is not None else True

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- /_localstack/ control endpoints -----------------------------------------------------------

    def _control(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        name = path.removeprefix("/_localstack/").strip("/")
        if name == "drain" and method == "POST":
            timeout = float(query.get("timeout", ["30"])[0])
            try:
                self.drain(timeout)
            except TimeoutError as exc:
                return 504, {"error": str(exc)}
            return 204, None
        if name == "stats" and method == "GET":
            if self.pump is None:
                return 200, {"handlers": {}, "totals": {}}
            return 200, {"handlers": self.pump.all_stats(), "totals": asdict(self.pump.stats())}
        if name.startswith("schedules/") and method == "POST":
            if self.pump is None:
                return 404, {"error": "the event pump is not running"}
            ok, result = self.pump.run_schedule(name.removeprefix("schedules/"))
            if not ok:
                return 404 if isinstance(result, LookupError) else 500, {"error": str(result)}
            return 200, {"result": result if isinstance(result, int | float | str | None) else repr(result)}
        if name == "resources" and method == "GET":
            return 200, {"moto": self.moto_url, **asdict(self.provisioned)}
        return 404, {"error": f"unknown control endpoint {method} {path}"}


class ConfigurationError(Exception):
    """A configuration file the environment names is unreadable or invalid: the stack does not start."""


def check_configuration() -> None:
    """Refuse to start on a StackTach file (STACKTACH_*_CONFIG) that the app would refuse at first use."""
    from chalicelib import compose  # only now: the environment points at the local AWS endpoint
    from chalicelib.kit.errors import TicklessError

    try:
        compose.check_stacktach()
    except TicklessError as exc:
        raise ConfigurationError(exc.message) from None


PROXY_PORT_ENV = "PROXY_PORT"
DEFAULT_PROXY_PORT = 7076


def proxy_configured() -> bool:
    return bool(os.environ.get("PROXY_CONFIG") or os.environ.get("PROXY_CONFIG_JSON"))


def proxy_port(explicit: int | None = None) -> int:
    """The proxy's port: `explicit`, else env PROXY_PORT, else the port of the config's `listen_addr`
    (influx-proxy's default `:7076`)."""
    if explicit is not None:
        return explicit
    if os.environ.get(PROXY_PORT_ENV):
        return int(os.environ[PROXY_PORT_ENV])
    try:
        from chalicelib.proxy.config import parse_config

        path = os.environ.get("PROXY_CONFIG")
        text = Path(path).read_bytes() if path else os.environ.get("PROXY_CONFIG_JSON", "").encode()
        listen = parse_config(text).listen_addr
        return int(listen.rsplit(":", 1)[1]) if ":" in listen else DEFAULT_PROXY_PORT
    except Exception:  # an unreadable config: the proxy's routes say what is wrong with it
        return DEFAULT_PROXY_PORT
