"""InfluxDB proxy write benchmark: the same points written straight to one influxd, and through
tickless's influx-proxy API to two circles of two influxd each.

1. Direct: a private influxd (scripts/oracle/influxd.py) takes N Telegraf-like points (a few
   measurements x hosts, 4 fields each, ns timestamps) in writes of B lines, posted one after the
   other over a keep-alive connection to `/write?db=bench`. Reported: points/s (wall clock) and the
   latency of each write request (mean, p50, p99).
2. Proxy: four more private influxd are configured as influx-proxy's two circles of two backends (a
   config file named by PROXY_CONFIG), and the local stack (`python -m scripts.localstack`, started as
   bench_e2e starts it, with PROXY_PORT) serves the proxy at the root of its own port. The database is
   created through the proxy (`CREATE DATABASE` goes to every backend), one write into another database
   warms the stack, then the same writes are posted to the proxy's `/write`. Its 204 comes once the
   lines are on the `proxy-writes` Kinesis stream: that gives the accepted points/s and the per-request
   latency. The stack's event pump is then drained (`POST /_localstack/drain`: the consumer has fanned
   every line out to its backend in each circle) and `SELECT count(*)` on every backend must add up to
   N per circle (polled until it does, or a timeout): the time until then gives the end-to-end rate.
   Both rates are compared with the direct one (the target: the proxy at 0.5x or more).

CPU seconds (Linux /proc, user + system) of the stack's process and of the influxd processes are
reported per million points, with the proxy consumer's own share (the event pump's thread counters).

Run from the repository root: `.venv/bin/python -m scripts.bench.bench_proxy [--points N] [--batch B]`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from scripts.bench.bench_e2e import StackProcesses, process_cpu
from scripts.localstack.motoserver import free_port
from scripts.oracle.influxd import Influxd, Server, influxd_binary, influxd_version

DB = "bench"
MEASUREMENTS: dict[str, tuple[str, str, str, str]] = {
    "cpu": ("usage_user", "usage_system", "usage_idle", "usage_iowait"),
    "mem": ("used", "free", "cached", "used_percent"),
    "disk": ("used", "free", "inodes_used", "used_percent"),
    "net": ("bytes_recv", "bytes_sent", "packets_recv", "packets_sent"),
    "system": ("load1", "load5", "load15", "n_users"),
}
HOSTS = 40
START_NS = 1_700_000_000_000_000_000
INTERVAL_NS = 10_000_000_000


def build_lines(points: int) -> list[bytes]:
    """`points` lines: every measurement for every host at one timestamp, then the next interval (each
    line a distinct point: series key + timestamp). Floats and integers, tags host/region/dc."""
    lines: list[bytes] = []
    step = 0
    while len(lines) < points:
        t = START_NS + step * INTERVAL_NS
        for h in range(HOSTS):
            region = ("us-west", "us-east", "eu-central")[h % 3]
            tags = f"host=server{h:03d}.example.com,region={region},dc=dc{h % 4}"
            for m, (measurement, fields) in enumerate(MEASUREMENTS.items()):
                seed = step * 7919 + h * 104729 + m
                values = (
                    f"{fields[0]}={seed % 10007 / 100.0}",
                    f"{fields[1]}={seed % 65521}i",
                    f"{fields[2]}={seed % 1000003}i",
                    f"{fields[3]}={seed % 9973 / 100.0}",
                )
                lines.append(f"{measurement},{tags} {','.join(values)} {t}\n".encode())
        step += 1
    return lines[:points]


@dataclass
class Run:
    """The writes of one target: request latencies (s) and the wall time of all of them."""

    latencies: list[float]
    wall: float

    def rate(self, points: int) -> float:
        return points / self.wall

    def latency(self) -> tuple[float, float, float]:
        """Mean, p50, p99 of the request latencies, in milliseconds."""
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        return statistics.fmean(ordered) * 1e3, statistics.median(ordered) * 1e3, p99 * 1e3


def post_all(session: requests.Session, url: str, batches: list[bytes]) -> Run:
    """POST every batch to `url`/write?db=bench, one after the other; each must answer 204."""
    latencies = []
    start = time.perf_counter()
    for body in batches:
        began = time.perf_counter()
        response = session.post(f"{url}/write", params={"db": DB}, data=body, timeout=300)
        latencies.append(time.perf_counter() - began)
        if response.status_code != 204:
            raise RuntimeError(f"write to {url}: {response.status_code} {response.text[:500]}")
    return Run(latencies, time.perf_counter() - start)


def direct(batches: list[bytes], binary: str) -> tuple[Run, float]:
    """The writes straight to one private influxd; returns them and influxd's CPU seconds for them."""
    influxd = Influxd(binary)
    try:
        server = influxd.start()
        assert influxd.process is not None
        server.query("CREATE DATABASE warmup")
        server.write("warmup", batches[0])  # warmed as the stack is (see through_proxy)
        server.query(f"CREATE DATABASE {DB}")
        cpu = process_cpu(influxd.process.pid)
        run = post_all(requests.Session(), influxd.url, batches)
        cpu = process_cpu(influxd.process.pid) - cpu
        counted = sum(stored_points(influxd).values())
        expected = sum(body.count(b"\n") for body in batches)
        if counted != expected:
            raise RuntimeError(f"influxd stored {counted} points of {expected}")
    finally:
        influxd.stop()
    return run, cpu


def stored_points(server: Influxd) -> dict[str, int]:
    """Points of each measurement in the benchmark's database on one influxd (count of its first field,
    which every point has)."""
    status, body = Server(server.url).query("SELECT count(*) FROM /.*/", db=DB, epoch=None)
    if status != 200:
        raise RuntimeError(f"count on {server.url}: {status} {body}")
    counts = {}
    for series in body["results"][0].get("series", []):
        columns = series["columns"]
        counts[series["name"]] = int(
            series["values"][0][columns.index(f"count_{MEASUREMENTS[series['name']][0]}")]
        )
    return counts


def proxy_config(circles: list[list[Influxd]]) -> dict[str, Any]:
    return {
        "circles": [
            {
                "name": f"circle-{c + 1}",
                "backends": [
                    {"name": f"influxdb-{c + 1}-{b + 1}", "url": server.url, "username": "", "password": ""}
                    for b, server in enumerate(circle)
                ],
            }
            for c, circle in enumerate(circles)
        ],
        "hash_key": "idx",
        "flush_size": 10000,
        "check_interval": 1,
        "rewrite_interval": 10,
    }


def wait_for(url: str, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{url}/ping", timeout=1).status_code == 204:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer /ping")
        time.sleep(0.3)


def until(check: Callable[[], bool], timeout: float) -> bool:
    """Poll `check` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


@dataclass
class ProxyResult:
    accepted: Run
    drained: float  # s from the first write until the pump's drain returned
    stored: float  # s from the first write until every backend's counts added up
    counts: dict[str, dict[str, int]]  # backend name -> measurement -> points
    stack_cpu: float
    consumer_cpu: float  # consume_proxy_writes invocations' thread CPU (in stack_cpu)
    backends_cpu: float
    handler: dict[str, float]  # the event pump's counters for consume_proxy_writes, during the run
    health: list[dict[str, Any]]  # the proxy's /health document, after the run


def through_proxy(batches: list[bytes], binary: str, points: int) -> ProxyResult:
    circles = [[Influxd(binary), Influxd(binary)], [Influxd(binary), Influxd(binary)]]
    workdir = Path(tempfile.mkdtemp(prefix="tickless-bench-proxy-"))
    stack: StackProcesses | None = None
    try:
        for circle in circles:
            for server in circle:
                server.start()
        config = proxy_config(circles)
        (workdir / "proxy.json").write_text(json.dumps(config))
        port = free_port()
        env = {
            "PROXY_CONFIG": str(workdir / "proxy.json"),
            "PROXY_PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
        stack = StackProcesses(env=env)
        proxy = f"http://127.0.0.1:{port}"
        wait_for(proxy, "the proxy")
        session = requests.Session()
        for db in ("warmup", DB):
            response = session.post(f"{proxy}/query", params={"q": f"CREATE DATABASE {db}"}, timeout=60)
            assert response.status_code == 200, response.text
        # warmed as influxd is: one write stored (clients created, modules imported, stream polled)
        warm = session.post(f"{proxy}/write", params={"db": "warmup"}, data=batches[0], timeout=300)
        assert warm.status_code == 204, warm.text
        drain(session, stack.url)

        named = {
            config["circles"][c]["backends"][b]["name"]: s
            for c, ci in enumerate(circles)
            for b, s in enumerate(ci)
        }
        pids = [s.process.pid for ci in circles for s in ci if s.process is not None]
        app_pid = stack.processes[-1].pid
        stack_before, backends_before = process_cpu(app_pid), sum(process_cpu(p) for p in pids)
        handler_before = handler_stats(session, stack.url)

        start = time.perf_counter()
        accepted = post_all(session, proxy, batches)
        drain(session, stack.url)
        drained = time.perf_counter() - start
        counts: dict[str, dict[str, int]] = {}

        def complete() -> bool:
            counts.update({name: stored_points(server) for name, server in named.items()})
            return all(
                sum(sum(counts[b["name"]].values()) for b in circle["backends"]) == points
                for circle in config["circles"]
            )

        if not until(complete, timeout=120):
            print(f"WARNING: the backends do not add up to {points:,} per circle after 120 s")
        stored = time.perf_counter() - start
        stack_cpu = process_cpu(app_pid) - stack_before
        backends_cpu = sum(process_cpu(p) for p in pids) - backends_before
        handler = {
            key: value - handler_before.get(key, 0)
            for key, value in handler_stats(session, stack.url).items()
            if isinstance(value, (int, float))
        }
        health = session.get(f"{proxy}/health", timeout=30).json()
        return ProxyResult(
            accepted,
            drained,
            stored,
            counts,
            stack_cpu,
            handler.get("cpu_seconds", 0.0),
            backends_cpu,
            handler,
            health,
        )
    finally:
        if stack is not None:
            stack.stop()
        for circle in circles:
            for server in circle:
                server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def drain(session: requests.Session, url: str) -> None:
    response = session.post(f"{url}/_localstack/drain", params={"timeout": "600"}, timeout=660)
    assert response.status_code == 204, response.text


def handler_stats(session: requests.Session, url: str) -> dict[str, Any]:
    stats = session.get(f"{url}/_localstack/stats", timeout=30).json()
    return stats["handlers"].get("consume_proxy_writes", {})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000, help="lines per HTTP write")
    args = parser.parse_args()
    binary = influxd_binary()
    if binary is None:
        raise SystemExit("influxd is not on PATH (or INFLUXD): nothing to compare with")

    lines = build_lines(args.points)
    batches = [b"".join(lines[i : i + args.batch]) for i in range(0, len(lines), args.batch)]
    points = len(lines)
    size = sum(map(len, batches))
    print(f"{influxd_version(binary)}; {points:,} points ({size / 1e6:.1f} MB) in {len(batches)} writes")
    print(
        f"of {args.batch:,} lines, {len(MEASUREMENTS)} measurements x {HOSTS} hosts, one client, sequential"
    )

    direct_run, direct_cpu = direct(batches, binary)
    result = through_proxy(batches, binary, points)

    direct_rate = direct_run.rate(points)
    accepted_rate = result.accepted.rate(points)
    stored_rate = points / result.stored
    per_million = 1e6 / points
    rows = [
        ("writes/s wall (points/s)", f"{direct_rate:,.0f}", f"{accepted_rate:,.0f}", f"{stored_rate:,.0f}"),
        (
            "ratio to direct influxd",
            "1.00",
            f"{accepted_rate / direct_rate:.2f}",
            f"{stored_rate / direct_rate:.2f}",
        ),
        ("wall time (s)", f"{direct_run.wall:.2f}", f"{result.accepted.wall:.2f}", f"{result.stored:.2f}"),
    ]
    d_lat, p_lat = direct_run.latency(), result.accepted.latency()
    for i, name in enumerate(("mean", "p50", "p99")):
        rows.append((f"write latency {name} (ms)", f"{d_lat[i]:.1f}", f"{p_lat[i]:.1f}", ""))
    rows.append(
        (
            "CPU s per 1M points",
            f"{direct_cpu * per_million:.1f} (influxd)",
            f"{result.stack_cpu * per_million:.1f} (stack)",
            f"{result.backends_cpu * per_million:.1f} (4 influxd)",
        )
    )
    header = ("", "direct influxd", "proxy: accepted (204)", "proxy: stored on backends")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    added = [p - d for p, d in zip(p_lat, d_lat, strict=True)]
    print(f"added latency per write: mean {added[0]:+.1f} ms, p50 {added[1]:+.1f} ms, p99 {added[2]:+.1f} ms")
    print(
        f"drain returned after {result.drained:.2f} s; the proxy consumer's CPU: "
        f"{result.consumer_cpu * per_million:.1f} s per 1M points, the pump's polling for it: "
        f"{result.handler.get('poll_cpu_seconds', 0.0) * per_million:.1f} (both in the stack's)"
    )
    print("stored per backend:", json.dumps({name: sum(c.values()) for name, c in result.counts.items()}))
    h = result.handler
    print(
        f"consume_proxy_writes during the run: {h.get('invocations', 0)} invocations, "
        f"{h.get('errors', 0)} errors, {h.get('retries', 0)} retries, {h.get('failures', 0)} records given up"
    )
    troubled = [
        (backend.get("name"), backend.get("active"), backend.get("backlog"))
        for circle in result.health
        for backend in circle.get("backends", [])
        if backend.get("backlog") or not backend.get("active")
    ]
    if troubled:
        print("backends inactive or with a backlog (name, active, backlog):", troubled)


if __name__ == "__main__":
    main()
