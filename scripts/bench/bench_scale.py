"""Scale benchmark: does a small query still cost what it touches once the store holds a lot?

Starts a private influxd (scripts/oracle/influxd.py) and the local stack (moto in a process of its
own, as bench_query runs it), writes one small series (`probe,host=p0`, `--probe-points` points 10 s
apart) to both, then times on both, before and after loading `--points` points in `--series` other
series (measurement `load`, `host=hNNNNNN`, 10 s apart, gzipped writes):

* a raw read of the small series, a mean GROUP BY time(5m) of it, SHOW TAG VALUES with a WHERE on it;
* the same raw read and SHOW TAG VALUES on one series of the loaded measurement (these resolve the
  series from that measurement's index partition, so they grow with its cardinality);
* a compaction pass (`compact_segments`, blocks taken however recently written), then a second pass
  with nothing left to merge: the idle cost of the schedule;
* then the CPU the stack's processes use while idle, over `--idle-seconds`, from /proc.

Nothing is dropped between the phases: the figures after the load are those of a store that holds it.
The metadata cache is off (TICKLESS_METADATA_TTL=0), so each run reads its token, bucket and index.
`--moto-engine` runs moto's own DynamoDB code instead of scripts/localstack/dynamodb_engine.py.

Run from the repository root:
`.venv/bin/python -m scripts.bench.bench_scale [--points 1000000 --series 100000]`.
Needs `influxd` on PATH (Debian/Ubuntu: `apt-get install influxdb`).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import requests

from scripts.bench.bench_e2e import StackProcesses, process_cpu
from scripts.bench.bench_query import error_of, load, rfc3339, rows
from scripts.oracle.influxd import Influxd, Server, drain, influxd_binary, influxd_version, onboard_tickless

DATABASE = "scale"
NS = 1_000_000_000
START = 1_609_459_200 * NS  # 2021-01-01T00:00:00Z
STEP = 10 * NS


def probe_lines(points: int) -> str:
    return "".join(f"probe,host=p0 v={i % 97}.5 {START + i * STEP}\n" for i in range(points))


def load_bodies(points: int, series: int, batch: int) -> list[str]:
    """Every series at each timestamp in turn, `batch` lines per write."""
    out, lines = [], []
    for step in range(max(points // series, 1)):
        ts = START + step * STEP
        for index in range(series):
            lines.append(f"load,host=h{index:06d} v={(index * 7 + step) % 1000}.25 {ts}")
            if len(lines) == batch:
                out.append("\n".join(lines) + "\n")
                lines = []
    if lines:
        out.append("\n".join(lines) + "\n")
    return out


def queries(probe_points: int, series: int) -> list[tuple[str, str]]:
    window = f"time >= '{rfc3339(START)}' AND time < '{rfc3339(START + probe_points * STEP)}'"
    one = f"h{series // 2:06d}"
    return [
        ("small series: raw read", f"SELECT v FROM probe WHERE host = 'p0' AND {window}"),
        (
            "small series: mean GROUP BY time(5m)",
            f"SELECT mean(v) FROM probe WHERE host = 'p0' AND {window} GROUP BY time(5m)",
        ),
        (
            "small series: SHOW TAG VALUES WHERE",
            "SHOW TAG VALUES FROM probe WITH KEY = host WHERE host = 'p0'",
        ),
        ("one loaded series: raw read", f"SELECT v FROM load WHERE host = '{one}' AND {window}"),
        (
            "one loaded series: SHOW TAG VALUES WHERE",
            f"SHOW TAG VALUES FROM load WITH KEY = host WHERE host = '{one}'",
        ),
    ]


def timed(server: Server, q: str, repeat: int) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        status, body = server.query(q, db=DATABASE, timeout=1800)
        elapsed = time.perf_counter() - start
        error = error_of(status, body)
        if error:  # e.g. query-timeout: shown as inf
            print(f"error: {q}: {error}", file=sys.stderr)
            return float("inf"), 0
        best, count = min(best, elapsed), rows(body)
    return best, count


def compaction(url: str) -> tuple[float, Any]:
    start = time.perf_counter()
    response = requests.post(f"{url}/_localstack/schedules/compact_segments", timeout=3600)
    assert response.status_code == 200, response.text
    return time.perf_counter() - start, response.json()["result"]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes (all their threads)."""
    return sum(process_cpu(pid) for pid in pids)


def idle_cpu(pids: list[int], seconds: float) -> float:
    """CPU used per wall second (1.0 = one core busy)."""
    before, start = cpu_seconds(pids), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pids) - before) / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--probe-points", type=int, default=360, help="points of the small series")
    parser.add_argument("--batch", type=int, default=10_000, help="lines per HTTP write")
    parser.add_argument("--threads", type=int, default=4, help="concurrent writes")
    parser.add_argument("--repeat", type=int, default=3, help="runs per query; the best counts")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--settle-seconds", type=float, default=5.0, help="wait before measuring idle CPU")
    parser.add_argument("--moto-engine", action="store_true", help="moto's own DynamoDB code (the baseline)")
    args = parser.parse_args()

    binary = influxd_binary()
    if binary is None:
        sys.exit("influxd is not on PATH (Debian/Ubuntu: apt-get install influxdb)")
    bodies = load_bodies(args.points, args.series, args.batch)
    points = sum(body.count("\n") for body in bodies)
    engine = "moto's own" if args.moto_engine else "dynamodb_engine"
    print(
        f"{points:,} points in {args.series:,} series, probe {args.probe_points} points; DynamoDB: {engine}"
    )
    print(f"influxd: {influxd_version(binary)}")

    # metadata cache off: a repeated query would find the series index cached (2 s) and hide its cost
    env = {"TICKLESS_COMPACTION_QUIET_SECONDS": "0", "TICKLESS_METADATA_TTL": "0"}
    if args.moto_engine:
        env["TICKLESS_DYNAMODB_ENGINE"] = "moto"
    stack = StackProcesses(separate_aws=True, env=env)
    url = stack.url
    pids = [p.pid for p in stack.processes]
    try:
        with Influxd(binary) as influxd:
            tickless = onboard_tickless(url, bucket=DATABASE)
            for server in (influxd, tickless):
                status, body = server.query(f"CREATE DATABASE {DATABASE}")
                assert status == 200, body
                server.write(DATABASE, probe_lines(args.probe_points))
            drain(url, timeout=600)
            listed = queries(args.probe_points, args.series)
            # the loaded series do not exist yet: those rows show what an empty lookup costs
            before = {"influxd": [timed(influxd, q, args.repeat) for _, q in listed]}
            before["tickless"] = [timed(tickless, q, args.repeat) for _, q in listed]
            pass_before = compaction(url)
            idle_pass_before = compaction(url)

            influxd_load = load(influxd, bodies, args.threads, DATABASE)
            start = time.perf_counter()
            acknowledged = load(tickless, bodies, args.threads, DATABASE)
            drain(url, timeout=7200)
            stored = time.perf_counter() - start
            print(f"load influxd: {influxd_load:.1f} s ({points / influxd_load:,.0f} points/s)")
            print(
                f"load tickless: acknowledged in {acknowledged:.1f} s, stored in {stored:.1f} s "
                f"({points / stored:,.0f} points/s)"
            )
            after = {"influxd": [timed(influxd, q, args.repeat) for _, q in listed]}
            after["tickless"] = [timed(tickless, q, args.repeat) for _, q in listed]
            pass_after = compaction(url)
            idle_pass_after = compaction(url)
            after_compaction = [timed(tickless, q, args.repeat) for _, q in listed]
            time.sleep(args.settle_seconds)
            idle = idle_cpu(pids, args.idle_seconds)
    finally:
        stack.stop()

    print()
    print(
        "| query | rows | influxd before (s) | tickless before (s) | influxd after (s) | tickless after (s) "
        "| tickless after compaction (s) |"
    )
    print("|---|---|---|---|---|---|---|")
    for i, (label, _) in enumerate(listed):
        print(
            f"| {label} | {after['tickless'][i][1]:,} | {before['influxd'][i][0]:.4f} "
            f"| {before['tickless'][i][0]:.4f} | {after['influxd'][i][0]:.4f} "
            f"| {after['tickless'][i][0]:.4f} "
            f"| {after_compaction[i][0]:.4f} |"
        )
    print(
        f"| compaction pass (segments merged) | | n/a | {pass_before[0]:.3f} ({pass_before[1]}) | n/a "
        f"| {pass_after[0]:.3f} ({pass_after[1]}) | |"
    )
    print(
        f"| compaction pass, nothing to merge | | n/a | {idle_pass_before[0]:.3f} | n/a "
        f"| {idle_pass_after[0]:.3f} | |"
    )
    print(
        f"\nidle CPU of the stack's processes after the load: {idle * 100:.1f}% of a core "
        f"over {args.idle_seconds:.0f} s"
    )


if __name__ == "__main__":
    main()
