"""The proxy suite's fixtures: two circles of two private influxd 1.x on loopback ports, and a local
stack configured with them as influx-proxy would be (a config file named by PROXY_CONFIG), serving the
proxy at the root of its own port. Skips (with the reason) where `influxd` is not installed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from scripts.oracle.influxd import Influxd, influxd_binary
from tests.e2e.conftest import Stack, _free_port, running_stack
from tests.oracle.conftest import SKIP_REASON


@dataclass
class ProxyStack:
    stack: Stack
    url: str  # the proxy's own port: influx-proxy's routes at its root
    backends: list[list[Influxd]]  # by circle
    config: dict
    stack_env: dict[str, str]  # what the stack was started with (PROXY_CONFIG: the file it reads)

    def maintain(self) -> None:
        """One pass of the backend checks and backlog rewrites, as the schedule would run it."""
        response = requests.post(f"{self.stack.url}/_localstack/schedules/maintain_proxy", timeout=120)
        assert response.status_code in (200, 204), response.text

    def drain(self) -> None:
        self.stack.drain()


@pytest.fixture(scope="session")
def proxy_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyStack]:
    binary = influxd_binary()
    if binary is None:
        pytest.skip(SKIP_REASON)
    circles = [[Influxd(binary), Influxd(binary)], [Influxd(binary), Influxd(binary)]]
    try:
        for circle in circles:
            for server in circle:
                server.start()
        config = {
            "circles": [
                {
                    "name": f"circle-{c + 1}",
                    "backends": [
                        {
                            "name": f"influxdb-{c + 1}-{b + 1}",
                            "url": server.url,
                            "username": "",
                            "password": "",
                        }
                        for b, server in enumerate(circle)
                    ],
                }
                for c, circle in enumerate(circles)
            ],
            "db_list": [],
            "hash_key": "idx",
            "flush_size": 10000,
            "check_interval": 1,
            "rewrite_interval": 1,
            "write_timeout": 5,
        }
        path = Path(tmp_path_factory.mktemp("proxy")) / "proxy.json"
        path.write_text(json.dumps(config))
        port = _free_port()
        env = {
            "PROXY_CONFIG": str(path),
            "PROXY_PORT": str(port),
            "TICKLESS_PROXY_WINDOW_SECONDS": "0",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "LOG_LEVEL": "WARNING",
        }
        with running_stack(os.environ.get("TICKLESS_PREFIX", "tickless-proxy-") + "p-", env) as stack:
            yield ProxyStack(stack, f"http://127.0.0.1:{port}", circles, config, env)
    finally:
        for circle in circles:
            for server in circle:
                server.stop()
