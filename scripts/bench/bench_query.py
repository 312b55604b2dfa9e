"""Query benchmark: the same InfluxQL on tickless (local stack) and on a real influxd 1.x, in one run.

Starts a private influxd (scripts/oracle/influxd.py) and the local stack, writes the same points to
both (`--series` series of one float field `v`, 10 s apart, gzipped batches), then runs each query
`--repeat` times on both and prints the best wall time of each, the tickless/influxd ratio, and whether
both gave the same answer (compared as in tests/oracle). Loading times are printed too: writing to the
local stack runs at a few thousand points per second, so scale down with `--points` for a quick run.

Run from the repository root: `.venv/bin/python -m scripts.bench.bench_query [--points 1000000 --series 100]`.
Needs `influxd` on PATH (Debian/Ubuntu: `apt-get install influxdb`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scripts.bench.bench_e2e import start_stack
from scripts.oracle.influxd import Influxd, Server, drain, influxd_binary, influxd_version, onboard_tickless

DATABASE = "bench"
NS = 1_000_000_000
START = 1_609_459_200 * NS  # 2021-01-01T00:00:00Z
STEP = 10 * NS


def series_tags(series: int) -> list[str]:
    """`host=hNNN,cpu=cpuK`: four cpus per host when `series` divides by 4, else one."""
    cpus = 4 if series % 4 == 0 else 1
    return [f"cpu=cpu{i % cpus},host=h{i // cpus:03d}" for i in range(series)]


def batches(points: int, series: int, batch: int) -> list[str]:
    """Line protocol in time order, every series at each timestamp; `batch` lines per body."""
    tags = series_tags(series)
    per_series = points // series
    lines: list[str] = []
    out: list[str] = []
    for step in range(per_series):
        ts = START + step * STEP
        for index, tag in enumerate(tags):
            value = ((step * 7919 + index * 104729) % 100_000) / 1000
            lines.append(f"bench,{tag} v={value} {ts}")
            if len(lines) == batch:
                out.append("\n".join(lines) + "\n")
                lines = []
    if lines:
        out.append("\n".join(lines) + "\n")
    return out


def rfc3339(ns: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ns // NS))


def queries(points: int, series: int) -> list[tuple[str, str]]:
    end = START + (points // series) * STEP
    whole = f"time >= '{rfc3339(START)}' AND time < '{rfc3339(end)}'"
    one_hour = f"time >= '{rfc3339(START)}' AND time < '{rfc3339(START + 3600 * NS)}'"
    return [
        (
            "raw range read (1 h of one series)",
            f"SELECT v FROM bench WHERE host = 'h000' AND cpu = 'cpu0' AND {one_hour}",
        ),
        ("mean GROUP BY time(1m), host", f"SELECT mean(v) FROM bench WHERE {whole} GROUP BY time(1m), host"),
        ("last per series", "SELECT last(v) FROM bench GROUP BY *"),
        ("SHOW TAG VALUES", "SHOW TAG VALUES WITH KEY = host"),
    ]


def load(server: Server, bodies: list[str], threads: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda body: server.write(DATABASE, body, compress=True), bodies))
    return time.perf_counter() - start


def timed(server: Server, q: str, repeat: int) -> tuple[float, int, Any]:
    best, status, body = float("inf"), 0, None
    for _ in range(repeat):
        start = time.perf_counter()
        status, body = server.query(q, db=DATABASE, timeout=1800)
        best = min(best, time.perf_counter() - start)
    return best, status, body


def error_of(status: int, body: Any) -> str | None:
    if status != 200:
        return str(body.get("error", body))[:80]
    for result in body.get("results", []):
        if "error" in result:
            return str(result["error"])[:80]
    return None


def rows(body: Any) -> int:
    return sum(len(s.get("values", [])) for r in body.get("results", []) for s in r.get("series", []))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--batch", type=int, default=10_000, help="lines per HTTP write")
    parser.add_argument("--threads", type=int, default=4, help="concurrent writes")
    parser.add_argument("--repeat", type=int, default=3, help="runs per query; the best counts")
    args = parser.parse_args()

    binary = influxd_binary()
    if binary is None:
        sys.exit("influxd is not on PATH (Debian/Ubuntu: apt-get install influxdb)")
    from tests.oracle.test_influxql_oracle import first_difference

    bodies = batches(args.points, args.series, args.batch)
    points = sum(body.count("\n") for body in bodies)
    print(
        f"{points:,} points in {args.series} series ({points // args.series:,} per series, 10 s apart), "
        f"{len(bodies)} gzipped writes of up to {args.batch:,} lines, {args.threads} threads"
    )
    print(f"influxd: {influxd_version(binary)}")

    process, url = start_stack()
    try:
        with Influxd(binary) as influxd:
            tickless = onboard_tickless(url, bucket=DATABASE)
            for server in (influxd, tickless):
                status, body = server.query(f"CREATE DATABASE {DATABASE}")
                assert status == 200, body
            influxd_load = load(influxd, bodies, args.threads)
            print(f"load influxd: {influxd_load:.1f} s ({points / influxd_load:,.0f} points/s)")
            start = time.perf_counter()
            acknowledged = load(tickless, bodies, args.threads)
            drain(url, timeout=3600)
            stored = time.perf_counter() - start
            print(
                f"load tickless: acknowledged in {acknowledged:.1f} s, stored (drained) in {stored:.1f} s "
                f"({points / stored:,.0f} points/s)"
            )

            print()
            print("| query | rows | influxd (s) | tickless (s) | tickless/influxd | same answer |")
            print("|---|---|---|---|---|---|")
            for label, q in queries(points, args.series):
                base, base_status, base_body = timed(influxd, q, args.repeat)
                ours, our_status, our_body = timed(tickless, q, args.repeat)
                error = error_of(our_status, our_body)
                if error:
                    ratio, same = "n/a", f"no: tickless error `{error}`"
                else:
                    ratio = f"{ours / base:,.1f}x"
                    diff = first_difference([base_status, base_body], [our_status, our_body])
                    same = "yes" if diff is None else f"no: {diff[:60]}"
                print(f"| {label} | {rows(base_body):,} | {base:.4f} | {ours:.4f} | {ratio} | {same} |")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except Exception:
            process.kill()


if __name__ == "__main__":
    main()
