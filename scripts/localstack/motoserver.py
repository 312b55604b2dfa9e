"""A moto server standing in for every AWS endpoint, and the environment that points the app at it."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import urllib.request
from pathlib import Path

from moto.core.config import default_user_config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from . import dynamodb_engine
from .persistence import DEFAULT_COMPACT_BYTES, Persistence

DEFAULT_REGION = "us-east-1"
# Account moto reports for every resource; ARNs we build by hand (queues, roles) use it too.
ACCOUNT_ID = "123456789012"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the caller binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def configure_environment(
    endpoint_url: str, *, prefix: str | None = None, region: str = DEFAULT_REGION
) -> dict[str, str]:
    """Point boto3/botocore/pynamodb at `endpoint_url` for this process (and its children).

    Must run before the app is imported: resource names are resolved at import time."""
    values = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
    if prefix is not None:
        values["TICKLESS_PREFIX"] = prefix
    # A developer's profile must not leak real credentials or another region into the local stack.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(values)
    return values


class MotoServer:
    """moto's server on `host:port` (a free port when `port` is None or 0), with Step Functions
    executing state machines for real (moto's ASL interpreter calls back to localhost:$MOTO_PORT).

    `data_dir`: keep moto's state there (persistence.py): restored at start, every mutation journaled
    and fsync'd before it is answered, snapshotted at stop. None: in memory only."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        *,
        verbose: bool = False,
        data_dir: str | Path | None = None,
        compact_bytes: int = DEFAULT_COMPACT_BYTES,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.verbose = verbose
        self.data_dir = data_dir
        self.compact_bytes = compact_bytes
        self.persistence: Persistence | None = None
        if not verbose:  # one access-log line per AWS call drowns everything else
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MotoServer:
        # Before any replay or request: DynamoDB queries then cost what they touch (dynamodb_engine.py);
        # TICKLESS_DYNAMODB_ENGINE=moto keeps moto's own (benchmarks compare the two).
        if os.environ.get(dynamodb_engine.ENGINE_ENV) != "moto":
            dynamodb_engine.install()
        os.environ["MOTO_PORT"] = str(self.port)
        # Set before any replay: moto picks the Step Functions backend by this setting.
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        app = DomainDispatcherApplication(create_backend_app)
        if self.data_dir is not None:
            self.persistence = Persistence(self.data_dir, compact_bytes=self.compact_bytes)
            try:
                self.persistence.recover(app)
            except BaseException:
                self.persistence.close(snapshot_now=False)
                self.persistence = None
                raise
            app = self.persistence.wrap(app)
        try:
            self._server = make_server(self.host, self.port, app, True, request_handler=MotoRequestHandler)
        except BaseException:
            self.stop()  # releases the data directory's lock
            raise
        self.port = self._server.server_address[1]
        os.environ["MOTO_PORT"] = str(self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()
        if self.persistence is not None:
            self.persistence.start_compactor()
        self.configure({"stepfunctions": {"execute_state_machine": True}})
        return self

    def configure(self, config: dict) -> None:
        """POST to moto's `/moto-api/config` (e.g. `{"stepfunctions": {...}}`)."""
        request = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/config",
            data=json.dumps(config).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def reset(self) -> None:
        """Forget every resource (moto's `/moto-api/reset`)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.persistence is not None:
            self.persistence.close()
            self.persistence = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
