"""End-to-end tests run against `python -m scripts.localstack` started as a subprocess, as `make run` would.

The app under test is `app:app` unless TICKLESS_APP (`module:attribute`) names another."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    url: str  # the app: InfluxDB API at /, Kapacitor at /kapacitor/v1/
    moto_url: str  # the AWS endpoint the stack uses
    prefix: str
    process: subprocess.Popen
    _output: list[str] = field(default_factory=list, repr=False)

    @property
    def kapacitor_url(self) -> str:
        return f"{self.url}/kapacitor/v1/"

    @property
    def output(self) -> str:
        """Everything the stack printed so far (logs included)."""
        return "".join(self._output)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until the stack's event pump has handled everything written so far."""
        request = urllib.request.Request(f"{self.url}/_localstack/drain?timeout={timeout}", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout + 10):
                return
        except urllib.error.HTTPError as exc:
            raise TimeoutError(exc.read().decode(errors="replace")) from exc

    def stats(self) -> dict[str, Any]:
        """The event pump's counters: {"handlers": {name: {...}}, "totals": {...}}."""
        with urllib.request.urlopen(f"{self.url}/_localstack/stats", timeout=10) as response:
            return json.load(response)

    def client(self, service: str) -> Any:
        """A boto3 client for the stack's moto server (e.g. to look at tables or queues directly)."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def _ping(url: str) -> int | None:
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def running_stack(
    prefix: str, extra_env: dict[str, str] | None = None, *, data_dir: str | Path | None = None
) -> Iterator[Stack]:
    """`python -m scripts.localstack` on free ports, as `make run` starts it; stopped on exit. Every
    suite that needs its own stack (e2e, conformance, oracle) starts it through here.

    The stack keeps its state in `data_dir`; by default a fresh temporary directory, removed on exit:
    tests never write into the checkout's `.tickless/` nor share state, and still run with the journal
    a developer's stack runs with."""
    own_dir = data_dir is None
    if own_dir:
        data_dir = tempfile.mkdtemp(prefix="tickless-data-")
    try:
        with _running_stack(prefix, extra_env, Path(data_dir)) as info:
            yield info
    finally:
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


_PORT_ATTEMPTS = 3


@contextmanager
def _running_stack(prefix: str, extra_env: dict[str, str] | None, data_dir: Path) -> Iterator[Stack]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TICKLESS_PREFIX": prefix, **(extra_env or {})}
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        # A port found free is free only until someone binds it: another worker's stack, or a client
        # socket, may take it before ours starts. Such a start is tried again on other ports.
        port, moto_port = _free_port(), _free_port()
        options = ["--moto-port", str(moto_port), "--data-dir", str(data_dir)]
        with ExitStack() as started:
            try:
                info = started.enter_context(
                    launched_stack(
                        options, port=port, env=env, prefix=prefix, moto_url=f"http://127.0.0.1:{moto_port}"
                    )
                )
            except pytest.fail.Exception as exc:
                if "Address already in use" not in str(exc) or attempt == _PORT_ATTEMPTS:
                    raise
                continue
            yield info
            return


@contextmanager
def launched_stack(
    options: list[str], *, port: int, env: dict[str, str], prefix: str, moto_url: str = ""
) -> Iterator[Stack]:
    """`python -m scripts.localstack --port <port> <options>`, waited for until it says it is ready and
    answers GET /ping; stopped with SIGINT on exit unless the test killed it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.localstack", "--port", str(port), *options],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    # Keep reading, so a chatty stack never blocks on a full pipe.
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    info = Stack(f"http://127.0.0.1:{port}", moto_url, prefix, process, output)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    status = None
    # Our process must say it is ready: another stack may answer on a port picked a moment ago.
    while "Local stack ready" not in info.output or (status := _ping(info.url)) != 204:
        if process.poll() is not None or time.monotonic() > deadline:
            _terminate(process)
            reader.join(5)
            reason = f"exited with {process.returncode}" if process.poll() is not None else "timed out"
            pytest.fail(
                f"local stack did not start ({reason}, last GET /ping status {status}); output:\n"
                + info.output,
                pytrace=False,
            )
        time.sleep(0.1)
    try:
        yield info
    finally:
        _terminate(process)
        reader.join(5)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with running_stack(os.environ.get("TICKLESS_PREFIX") or "tickless-local-") as info:
        yield info


# -- InfluxDB 2.x onboarding: once per stack, shared by every e2e module ----------------------------

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "correct-horse"
ORG_NAME = "e2e-org"
BUCKET_NAME = "e2e-bucket"


@dataclass(frozen=True)
class Onboarded:
    """What `POST /api/v2/setup` answered: the operator token and the first user, org and bucket."""

    url: str
    token: str
    org_id: str
    org_name: str
    user_id: str
    username: str
    bucket_id: str
    bucket_name: str
    auth_id: str
    password: str = ADMIN_PASSWORD

    @property
    def headers(self) -> dict[str, str]:
        """`Authorization: Token <operator token>`, for plain HTTP requests."""
        return {"Authorization": f"Token {self.token}"}


@pytest.fixture(scope="session")
def onboarded(stack: Stack):
    """Onboard the stack through the official `influxdb-client` SetupService, as `influx setup` would.

    InfluxDB allows onboarding once per instance, so every e2e module must use this fixture instead of
    calling setup itself."""
    from influxdb_client import InfluxDBClient, OnboardingRequest, SetupService

    with InfluxDBClient(url=stack.url) as client:
        setup = SetupService(client.api_client)
        assert setup.get_setup().allowed is True
        response = setup.post_setup(
            OnboardingRequest(
                username=ADMIN_USERNAME, password=ADMIN_PASSWORD, org=ORG_NAME, bucket=BUCKET_NAME
            )
        )
        assert setup.get_setup().allowed is False
    yield Onboarded(
        url=stack.url,
        token=response.auth.token,
        org_id=response.org.id,
        org_name=response.org.name,
        user_id=response.user.id,
        username=response.user.name,
        bucket_id=response.bucket.id,
        bucket_name=response.bucket.name,
        auth_id=response.auth.id,
    )


_counter = itertools.count(1)


@pytest.fixture
def unique():
    """`unique("bucket")` -> "bucket-7": names no other test of the session uses."""
    return lambda prefix: f"{prefix}-{next(_counter)}"
