"""A dedicated InfluxDB proxy deployment (a stage with TICKLESS_SURFACE=proxy): the same app answers
influx-proxy's routes at its root, in influx-proxy's format, and serves no other surface."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import json
    from chalice.test import Client
    import app
    routes = sorted(app.app.routes)
    with Client(app.app) as client:
        ping = client.http.get("/ping")
        encrypted = client.http.get("/encrypt?msg=admin", headers={"Accept": "*/*"})
        refused = client.http.get("/write")
    print(json.dumps({
        "routes": routes,
        "ping": [ping.status_code, ping.headers.get("X-Influxdb-Version")],
        "encrypt": encrypted.body.decode(),
        "refused": [refused.status_code, json.loads(refused.body)],
    }))
    """
)


def test_a_dedicated_proxy_answers_at_its_root_and_nothing_else() -> None:
    config = {"circles": [{"name": "c", "backends": [{"name": "b", "url": "http://127.0.0.1:9"}]}]}
    env = {**os.environ, "TICKLESS_SURFACE": "proxy", "PROXY_CONFIG_JSON": json.dumps(config)}
    env.pop("PROXY_CONFIG", None)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    found = json.loads(out.strip().splitlines()[-1])
    assert "/ping" in found["routes"] and "/query" in found["routes"] and "/rebalance" in found["routes"]
    assert not any(r.startswith(("/api/", "/kapacitor/", "/proxy/")) for r in found["routes"])
    assert found["ping"] == [204, "2.4.7"]
    assert found["encrypt"] == "YgvEyuPZlDYAH8sGDkC!Ag\n"
    assert found["refused"] == [405, {"error": "method not allow"}]
