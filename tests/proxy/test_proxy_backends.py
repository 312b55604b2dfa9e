"""tickless as influx-proxy, against real influxd 1.6.7 backends in two circles: each measurement lands
on exactly its backend in every circle, queries find it there, SHOW answers are merged and sorted, and a
backend that goes away gets its writes later from the durable backlog."""

from __future__ import annotations

import itertools
import time

import pytest
import requests

from chalicelib.proxy.config import parse_config
from chalicelib.proxy.ring import backend_for
from tests.proxy.conftest import ProxyStack

SECOND = 1_000_000_000
_ids = itertools.count()


def _db(proxy: ProxyStack) -> str:
    name = f"pdb{next(_ids)}"
    response = requests.post(f"{proxy.url}/query", params={"q": f"CREATE DATABASE {name}"}, timeout=30)
    assert response.status_code == 200, response.text
    return name


def _show(server_url: str, db: str, q: str) -> list:
    body = requests.get(f"{server_url}/query", params={"q": q, "db": db}, timeout=30).json()
    series = body["results"][0].get("series") or []
    return [row for s in series for row in s["values"]]


def _placed(proxy: ProxyStack, db: str, measurement: str) -> list[str]:
    config = parse_config(__import__("json").dumps(proxy.config))
    return [backend_for(config, c, db, measurement).url for c in range(len(config.circles))]


def test_writes_land_on_their_backend_in_every_circle_and_nowhere_else(proxy_stack: ProxyStack) -> None:
    db = _db(proxy_stack)
    for circle in proxy_stack.backends:  # CREATE DATABASE went to every backend
        for server in circle:
            assert [db] in _show(server.url, "", "SHOW DATABASES")
    measurements = [f"m{i}" for i in range(12)]
    body = "\n".join(f"{m},host=a value={i} {(i + 1) * SECOND}" for i, m in enumerate(measurements))
    body += "\nnotime,host=b value=1"  # stamped by the proxy: every circle stores the same point
    response = requests.post(f"{proxy_stack.url}/write", params={"db": db}, data=body, timeout=30)
    assert response.status_code == 204, response.text
    proxy_stack.drain()
    for measurement in [*measurements, "notime"]:
        homes = _placed(proxy_stack, db, measurement)
        for circle in proxy_stack.backends:
            for server in circle:
                found = [row[0] for row in _show(server.url, db, "SHOW MEASUREMENTS")]
                assert (measurement in found) == (server.url in homes), (measurement, server.url)
    stamps = [
        _show(url, db, 'SELECT value FROM "notime"')[0][0] for url in _placed(proxy_stack, db, "notime")
    ]
    assert len(set(stamps)) == 1  # the same time in both circles


def test_queries_go_to_the_measurement_and_show_is_merged_sorted(proxy_stack: ProxyStack) -> None:
    db = _db(proxy_stack)
    lines = "\n".join(f"cpu{i},host=h{i} usage={i}.5 {SECOND * (i + 1)}" for i in range(8))
    assert (
        requests.post(f"{proxy_stack.url}/write", params={"db": db}, data=lines, timeout=30).status_code
        == 204
    )
    proxy_stack.drain()
    answer = requests.get(
        f"{proxy_stack.url}/query", params={"db": db, "q": "SELECT usage FROM cpu3", "epoch": "s"}, timeout=30
    )
    assert answer.status_code == 200
    assert answer.json()["results"][0]["series"][0]["values"] == [[4, 3.5]]
    shown = requests.get(f"{proxy_stack.url}/query", params={"db": db, "q": "SHOW MEASUREMENTS"}, timeout=30)
    assert shown.json()["results"][0]["series"][0]["values"] == [[f"cpu{i}"] for i in range(8)]
    tags = requests.get(
        f"{proxy_stack.url}/query", params={"db": db, "q": "SHOW TAG KEYS"}, timeout=30
    ).json()
    assert [s["name"] for s in tags["results"][0]["series"]] == [f"cpu{i}" for i in range(8)]


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"q": "SELECT * FROM cpu"}, 400, "database not found"),
        ({"q": "", "db": "x"}, 400, "query not found"),
        ({"q": "CREATE USER bob WITH PASSWORD 'x'", "db": "x"}, 400, "query forbidden"),
        ({"q": "DROP SERIES FROM", "db": "x"}, 400, "query error: illegal InfluxQL"),
    ],
)
def test_refused_queries_answer_in_influx_proxys_words(proxy_stack, params, status, error) -> None:
    answer = requests.get(f"{proxy_stack.url}/query", params=params, timeout=30)
    assert (answer.status_code, answer.json()) == (status, {"error": error})
    assert answer.headers["X-Influxdb-Version"] == "2.4.7"


def test_encrypt_decrypt_replica_and_ping(proxy_stack: ProxyStack) -> None:
    assert requests.get(f"{proxy_stack.url}/encrypt", params={"msg": "admin"}, timeout=10).text == (
        "YgvEyuPZlDYAH8sGDkC!Ag\n"
    )
    decrypted = requests.get(
        f"{proxy_stack.url}/decrypt",
        params={"key": "consistentcipher", "msg": "YgvEyuPZlDYAH8sGDkC!Ag"},
        timeout=10,
    )
    assert decrypted.text == "admin\n"
    bad_key = requests.get(f"{proxy_stack.url}/decrypt", params={"key": "short", "msg": "x"}, timeout=10)
    assert (bad_key.status_code, bad_key.text) == (400, "invalid key\n")
    replica = requests.get(
        f"{proxy_stack.url}/replica", params={"db": "db1", "meas": "cpu1"}, timeout=10
    ).json()
    assert [r["url"] for r in replica] == _placed(proxy_stack, "db1", "cpu1")
    assert [r["circle"] for r in replica] == ["circle-1", "circle-2"]
    assert (
        requests.get(f"{proxy_stack.url}/replica", params={"db": "db1"}, timeout=10).text
        == "invalid db or meas\n"
    )
    assert requests.get(f"{proxy_stack.url}/ping", timeout=10).status_code == 204
    unknown = requests.get(f"{proxy_stack.url}/nope", timeout=10)
    assert (unknown.status_code, unknown.json()) == (404, {"error": "404 page not found"})
    # the same routes under /proxy on the app's own port
    assert requests.get(f"{proxy_stack.stack.url}/proxy/ping", timeout=10).status_code == 204


def test_a_backend_that_goes_away_gets_its_writes_from_the_backlog(proxy_stack: ProxyStack) -> None:
    db = _db(proxy_stack)
    measurement = "down"
    victim_url = _placed(proxy_stack, db, measurement)[0]
    victim = next(s for circle in proxy_stack.backends for s in circle if s.url == victim_url)
    victim.kill()
    try:
        lines = f"{measurement},host=a value=1 {SECOND}\n{measurement},host=a value=2 {2 * SECOND}"
        response = requests.post(f"{proxy_stack.url}/write", params={"db": db}, data=lines, timeout=30)
        assert response.status_code == 204  # durable: on the stream, then in the backlog
        proxy_stack.drain()
        health = requests.get(f"{proxy_stack.url}/health", timeout=30).json()
        state = next(b for c in health for b in c["backends"] if b["url"] == victim_url)
        assert (state["active"], state["backlog"]) == (False, True)
        # the other circle has the points already
        other = _placed(proxy_stack, db, measurement)[1]
        assert len(_show(other, db, f'SELECT value FROM "{measurement}"')) == 2
    finally:
        victim.revive()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        proxy_stack.maintain()
        if len(_show(victim_url, db, f'SELECT value FROM "{measurement}"')) == 2:
            break
        time.sleep(0.5)
    assert [row[1] for row in _show(victim_url, db, f'SELECT value FROM "{measurement}"')] == [1, 2]
    health = requests.get(f"{proxy_stack.url}/health", timeout=30).json()
    state = next(b for c in health for b in c["backends"] if b["url"] == victim_url)
    assert (state["active"], state["backlog"], state["rewrite"]) == (True, False, False)
    assert state["load"][db] == {"incorrect": 0, "inplace": 1, "measurements": 1}


def test_bad_writes_are_refused_clearly(proxy_stack: ProxyStack) -> None:
    no_db = requests.post(f"{proxy_stack.url}/write", data="m v=1", timeout=10)
    assert (no_db.status_code, no_db.json()) == (400, {"error": "database not found"})
    bad_gzip = requests.post(
        f"{proxy_stack.url}/write",
        params={"db": "x"},
        data=b"\x1f\x8bnot gzip",
        headers={"Content-Encoding": "gzip"},
        timeout=10,
    )
    assert (bad_gzip.status_code, bad_gzip.json()) == (400, {"error": "unable to decode gzip body"})
    wrong_method = requests.get(f"{proxy_stack.url}/write", timeout=10)
    assert (wrong_method.status_code, wrong_method.json()) == (405, {"error": "method not allow"})
    partial = requests.post(
        f"{proxy_stack.url}/write", params={"db": "x"}, data="ok v=1 1\nbroken", timeout=10
    )
    assert partial.status_code == 400 and partial.json()["error"].startswith("partial write:")
