"""influx-proxy's migrations on tickless, against real influxd backends: each job is a Step Functions
execution whose steps (plan, one per measurement, finish) reach the workers through task tokens. A wiped
backend is recovered from the other circle (its database created first), a backend added to a circle
gets its measurements by rebalance and `clear` removes what no longer belongs, and resync copies what
one circle lacks."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import requests

from chalicelib.proxy.config import parse_config
from chalicelib.proxy.ring import backend_for
from scripts.oracle.influxd import Influxd, influxd_binary
from tests.proxy.conftest import ProxyStack

SECOND = 1_000_000_000
_ids = itertools.count()


def _db(proxy: ProxyStack) -> str:
    name = f"mdb{next(_ids)}"
    assert requests.post(f"{proxy.url}/query", params={"q": f"CREATE DATABASE {name}"}, timeout=30).ok
    return name


def _measurements(url: str, db: str) -> set[str]:
    body = requests.get(f"{url}/query", params={"q": "SHOW MEASUREMENTS", "db": db}, timeout=30).json()
    series = body["results"][0].get("series") or []
    return {row[0] for s in series for row in s["values"]}


def _count(url: str, db: str, measurement: str) -> int:
    body = requests.get(
        f"{url}/query", params={"q": f'SELECT count(v) FROM "{measurement}"', "db": db}, timeout=30
    ).json()
    series = body["results"][0].get("series") or []
    return series[0]["values"][0][1] if series else 0


def _write(proxy: ProxyStack, db: str, measurements: list[str]) -> None:
    lines = "\n".join(f"{m},host=a v={i}i {(i + 1) * SECOND}" for m in measurements for i in range(3))
    assert requests.post(f"{proxy.url}/write", params={"db": db}, data=lines, timeout=30).status_code == 204
    proxy.drain()


def _wait_done(proxy: ProxyStack, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = requests.get(f"{proxy.url}/migrate/state", timeout=10).json()
        if not state["is_resyncing"] and not any(c["is_migrating"] for c in state["circles"]):
            return
        time.sleep(0.5)
    raise AssertionError(f"the migration did not finish: {state}")


def _config_file(proxy: ProxyStack) -> Path:
    return Path(proxy.stack_env["PROXY_CONFIG"])


def test_recovery_rebuilds_a_wiped_backend_from_the_other_circle(proxy_stack: ProxyStack) -> None:
    db = _db(proxy_stack)
    names = [f"r{i}" for i in range(10)]
    _write(proxy_stack, db, names)
    victim = proxy_stack.backends[1][0]
    requests.post(f"{victim.url}/query", params={"q": f"DROP DATABASE {db}"}, timeout=30)
    assert _measurements(victim.url, db) == set()

    answer = requests.post(
        f"{proxy_stack.url}/recovery",
        params={
            "from_circle_id": "0",
            "to_circle_id": "1",
            "backend_urls": victim.url,
            "db": db,
            "cpus": "2",
        },
        timeout=30,
    )
    assert (answer.status_code, answer.text) == (202, "accepted\n")
    _wait_done(proxy_stack)
    config = parse_config(json.dumps(proxy_stack.config))
    expected = {m for m in names if backend_for(config, 1, db, m).url == victim.url}
    assert expected and _measurements(victim.url, db) == expected
    assert all(_count(victim.url, db, m) == 3 for m in expected)
    stats = requests.get(
        f"{proxy_stack.url}/migrate/stats", params={"circle_id": "0", "type": "recovery"}, timeout=10
    ).json()
    assert sum(s["migrate_count"] for s in stats.values()) == len(expected)
    assert all(s["measurement_done"] == s["measurement_total"] for s in stats.values())


def test_rebalance_after_adding_a_backend_then_clear(proxy_stack: ProxyStack) -> None:
    db = _db(proxy_stack)
    names = [f"b{i}" for i in range(16)]
    _write(proxy_stack, db, names)
    added = Influxd(influxd_binary())
    added.start()
    path = _config_file(proxy_stack)
    original = path.read_text()
    try:
        grown = json.loads(original)
        grown["circles"][0]["backends"].append({"name": "influxdb-1-3", "url": added.url})
        path.write_text(json.dumps(grown))
        config = parse_config(json.dumps(grown))
        moving = [m for m in names if backend_for(config, 0, db, m).url == added.url]
        assert moving, "the new backend should take some measurements"

        answer = requests.post(
            f"{proxy_stack.url}/rebalance", params={"circle_id": "0", "operation": "add"}, timeout=30
        )
        assert (answer.status_code, answer.text) == (202, "accepted\n")
        _wait_done(proxy_stack)
        assert _measurements(added.url, db) == set(moving)
        assert all(_count(added.url, db, m) == 3 for m in moving)

        assert (
            requests.post(f"{proxy_stack.url}/clear", params={"circle_id": "0"}, timeout=30).status_code
            == 202
        )
        _wait_done(proxy_stack)
        for backend in config.circles[0].backends:
            home = {m for m in names if backend_for(config, 0, db, m).url == backend.url}
            assert _measurements(backend.url, db) == home, backend.url
    finally:
        path.write_text(original)
        added.stop()


def test_resync_copies_what_a_circle_lacks(proxy_stack: ProxyStack) -> None:
    db = _db(proxy_stack)
    config = parse_config(json.dumps(proxy_stack.config))
    lonely = "onlyhere"
    home0 = backend_for(config, 0, db, lonely).url
    assert requests.post(f"{home0}/write", params={"db": db}, data=f"{lonely} v=1i {SECOND}", timeout=10).ok
    home1 = backend_for(config, 1, db, lonely).url
    assert _count(home1, db, lonely) == 0

    answer = requests.post(f"{proxy_stack.url}/resync", params={"db": db}, timeout=30)
    assert answer.status_code == 202
    _wait_done(proxy_stack)
    assert _count(home1, db, lonely) == 1


def test_migration_requests_are_checked_as_influx_proxy_checks_them(proxy_stack: ProxyStack) -> None:
    cases = [
        ("/rebalance", {"circle_id": "9", "operation": "add"}, 400, "invalid circle_id\n"),
        ("/rebalance", {"circle_id": "0", "operation": "move"}, 400, "invalid operation\n"),
        (
            "/recovery",
            {"from_circle_id": "0", "to_circle_id": "0"},
            400,
            "from_circle_id and to_circle_id cannot be same\n",
        ),
        ("/resync", {"days": "x"}, 400, "invalid days, hours, minutes or seconds\n"),
        ("/clear", {"circle_id": "0", "cpus": "0"}, 400, "invalid cpus\n"),
        (
            "/clear",
            {"circle_id": "0", "ha_addrs": "a:1"},
            400,
            "ha_addrs should contain two addrs at least\n",
        ),
    ]
    for path, params, status, text in cases:
        answer = requests.post(f"{proxy_stack.url}{path}", params=params, timeout=10)
        assert (answer.status_code, answer.text) == (status, text), path
    stats = requests.get(
        f"{proxy_stack.url}/migrate/stats", params={"circle_id": "0", "type": "nope"}, timeout=10
    )
    assert (stats.status_code, stats.text) == (400, "invalid stats type\n")
    state = requests.post(f"{proxy_stack.url}/migrate/state", timeout=10)
    assert (state.status_code, state.text) == (400, "missing query parameter\n")
