"""Freshness benchmark: how long after its 204 a point can be read back, on the local stack (`make run`).

Starts the local stack in a subprocess (app, event pump and moto in one process, as `make run` does),
creates a database, then `--points` times: writes one point, and from the moment the 204 arrives
queries for it every `--interval` seconds until it comes back. Prints the median, p90 and max of
that write->readable latency. Points are written `--gap` seconds apart so each finds the pump idle,
as a developer trying the quick start does.

Run from the repository root: `.venv/bin/python -m scripts.bench.bench_freshness [--points 30]`.
"""

from __future__ import annotations

import argparse
import statistics
import time

import requests

from scripts.bench.bench_e2e import StackProcesses
from scripts.oracle.influxd import onboard_tickless


def readable_after(session: requests.Session, url: str, value: int, interval: float, timeout: float) -> float:
    """Write one point; seconds from its 204 until a query returns it."""
    response = session.post(f"{url}/write", params={"db": "fresh"}, data=f"probe v={value}i")
    assert response.status_code == 204, response.text
    acknowledged = time.perf_counter()
    query = {"db": "fresh", "q": f"SELECT v FROM probe WHERE v = {value}"}
    while True:
        answer = session.get(f"{url}/query", params=query).json()
        if answer["results"][0].get("series"):
            return time.perf_counter() - acknowledged
        if time.perf_counter() - acknowledged > timeout:
            raise TimeoutError(f"point {value} not readable after {timeout} s")
        time.sleep(interval)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=30)
    parser.add_argument("--gap", type=float, default=1.5, help="seconds between writes")
    parser.add_argument("--interval", type=float, default=0.005, help="seconds between read attempts")
    parser.add_argument("--url", help="a running stack (e.g. http://127.0.0.1:8086) instead of starting one")
    parser.add_argument("--token", help="its operator token (default: onboard it, so it must be fresh)")
    args = parser.parse_args()

    stack = None if args.url else StackProcesses()
    url = args.url or stack.url
    try:
        session = requests.Session()
        token = args.token or onboard_tickless(url).headers["Authorization"].split()[-1]
        session.headers["Authorization"] = f"Token {token}"
        assert session.post(f"{url}/query", params={"q": "CREATE DATABASE fresh"}).status_code == 200
        readable_after(session, url, 0, args.interval, 30)  # warm up: caches, first index puts
        latencies = []
        for value in range(1, args.points + 1):
            time.sleep(args.gap)
            latencies.append(readable_after(session, url, value, args.interval, 30))
        latencies.sort()
        p90 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.9))]
        print(f"write -> readable over {len(latencies)} points, {args.gap} s apart:")
        print(
            f"median {statistics.median(latencies) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, "
            f"min {latencies[0] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        )
    finally:
        if stack is not None:
            stack.stop()


if __name__ == "__main__":
    main()
