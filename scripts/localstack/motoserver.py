"""A moto server standing in for every AWS endpoint, and the environment that points the app at it."""

from __future__ import annotations

import json
import logging
import os
import socket
import urllib.request

from moto.server import ThreadedMotoServer

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
    """`ThreadedMotoServer` on `host:port` (a free port when `port` is None or 0), with Step Functions
    executing state machines for real (moto's ASL interpreter calls back to localhost:$MOTO_PORT)."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, *, verbose: bool = False) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._server = ThreadedMotoServer(ip_address=host, port=self.port, verbose=verbose)
        if not verbose:  # one access-log line per AWS call drowns everything else
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._started = False

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MotoServer:
        self._server.start()
        self._started = True
        self.port = self._server.get_host_and_port()[1]
        os.environ["MOTO_PORT"] = str(self.port)
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
        if self._started:
            self._started = False
            self._server.stop()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
