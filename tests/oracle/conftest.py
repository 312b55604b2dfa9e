"""Session fixtures of the oracle suite: one private influxd and one local stack, loaded once.

The suite skips (with the reason in the report) when `influxd` is not on PATH; `.ci/run` installs it
from Debian (`apt-get install influxdb`). Set INFLUXD=/path/to/influxd to use another binary."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.oracle.influxd import Influxd, Server, drain, influxd_binary, influxd_version, onboard_tickless
from tests.e2e.conftest import Stack, running_stack
from tests.oracle import data

REPO_ROOT = Path(__file__).resolve().parents[2]
SKIP_REASON = (
    "oracle suite needs a real InfluxDB 1.x `influxd` on PATH (Debian/Ubuntu: `apt-get install influxdb`, "
    "as .ci/run does; or set INFLUXD=/path/to/influxd)"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "oracle: compares tickless with a real influxd 1.x (tests/oracle)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.oracle)


@dataclass
class Oracle:
    influxd: Server
    tickless: Server
    influxd_version: str


@pytest.fixture(scope="session")
def influxd_server() -> Iterator[tuple[Server, str]]:
    binary = influxd_binary()
    if binary is None:
        pytest.skip(SKIP_REASON)
    server = Influxd(binary)
    try:
        client = server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield client, influxd_version(binary)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def oracle_stack() -> Iterator[Stack]:
    """A local stack of the oracle's own (onboarding happens once per stack, so not the e2e one)."""
    quiet = {"POWERTOOLS_LOG_LEVEL": "WARNING", "LOG_LEVEL": "WARNING"}
    with running_stack("tickless-oracle-", quiet) as info:
        yield info


@pytest.fixture(scope="session")
def oracle(influxd_server: tuple[Server, str], oracle_stack: Stack) -> Oracle:
    """Both servers, each holding database `oracle` with the same points (written once per session)."""
    influxd, version = influxd_server
    tickless = onboard_tickless(oracle_stack.url, bucket=data.DATABASE)
    for server in (influxd, tickless):
        status, body = server.query(f"CREATE DATABASE {data.DATABASE}")
        assert status == 200 and "error" not in body["results"][0], (server.url, status, body)
    for batch in data.generate():
        influxd.write(data.DATABASE, batch)
        tickless.write(data.DATABASE, batch)
    for server in (influxd, tickless):
        status, body = server.query(f"CREATE DATABASE {data.TYPES_DATABASE}")
        assert status == 200 and "error" not in body["results"][0], (server.url, status, body)
        for batch in data.types_batches():
            server.write(data.TYPES_DATABASE, batch)
    drain(oracle_stack.url, timeout=120)
    return Oracle(influxd, tickless, version)
