"""End-to-end benchmark: points/s through the local stack (`make run`), over real HTTP.

Starts the local stack in a subprocess, creates a database, posts a Telegraf-like payload in batches
from several threads, and reports the rate at which writes are acknowledged (points durably on
Kinesis) and the rate until the consumer has stored everything (the pump drained), next to a private
influxd's rate for the same writes (when `influxd` is on PATH), and the CPU-seconds per million points
spent at the HTTP edge and in the consumer (the handlers' thread CPU, from the pump's counters): what
Lambda bills. `--separate-aws` keeps moto's CPU out of the edge's figure and reports it apart.

Run from the repository root: `.venv/bin/python -m scripts.bench.bench_e2e [--lines N]`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from scripts.bench.bench_parse import build_payload
from scripts.localstack.motoserver import free_port
from scripts.oracle.influxd import Influxd, influxd_binary, onboard_tickless


class StackProcesses:
    """The local stack in subprocesses: the app (HTTP, event pump) and, with `separate_aws`, moto in
    a process of its own, as DynamoDB and Kinesis are separate services on AWS; otherwise moto shares
    the app's interpreter (and its GIL), as in `make run`. The AWS state is journaled in a temporary
    data directory removed at stop, as `make run` journals it (`ephemeral`: in memory only)."""

    def __init__(
        self, separate_aws: bool = False, env: dict[str, str] | None = None, *, ephemeral: bool = False
    ) -> None:
        self.processes: list[subprocess.Popen] = []
        env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING", **(env or {})}
        env.pop("DATA_DIR", None)
        options = ["--log-level", "WARNING"]
        self.data_dir = None if ephemeral else tempfile.mkdtemp(prefix="tickless-bench-")
        aws_state = ["--ephemeral"] if self.data_dir is None else ["--data-dir", self.data_dir]
        try:
            if separate_aws:
                moto_port = free_port()
                self._spawn([*options, *aws_state, "--aws-only", "--moto-port", str(moto_port)], env)
                endpoint = f"http://127.0.0.1:{moto_port}"
                self._wait_for(f"{endpoint}/moto-api/", "moto")
                options += ["--aws-endpoint", endpoint]
            else:
                options += aws_state
            port = free_port()
            self._spawn([*options, "--port", str(port)], env)
            self.url = f"http://127.0.0.1:{port}"
            self._wait_for(f"{self.url}/ping", "local stack")
        except BaseException:
            self.stop()
            raise

    def _spawn(self, arguments: list[str], env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "scripts.localstack", *arguments]
        self.processes.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        )

    def _wait_for(self, url: str, what: str) -> None:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(url, timeout=1).status_code < 300:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.3)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.send_signal(signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000, help="lines per HTTP write")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--separate-aws", action="store_true", help="run moto in its own process")
    parser.add_argument("--ephemeral", action="store_true", help="no data directory (no journal, no fsync)")
    parser.add_argument("--no-influxd", action="store_true", help="do not compare with a private influxd")
    args = parser.parse_args()

    lines = build_payload(args.lines).splitlines(keepends=True)
    batches = [b"".join(lines[i : i + args.batch]) for i in range(0, len(lines), args.batch)]
    points = len(lines)
    shape = f"{len(batches)} writes of {args.batch} lines, {args.threads} threads"
    print(f"points: {points:,} in {shape}")
    influxd_rate = None if args.no_influxd else influxd_load(batches, args.threads)
    stack = StackProcesses(separate_aws=args.separate_aws, ephemeral=args.ephemeral)
    url = stack.url
    try:
        server = onboard_tickless(url, bucket="bench")
        session = server.session
        session.headers.update(server.headers)
        assert session.post(f"{url}/query", params={"q": "CREATE DATABASE bench"}).status_code == 200
        warm_up(session, url, batches[0])
        before = [process_cpu(p.pid) for p in stack.processes]
        consumer_before = consumer_cpu(session, url)

        def write(body: bytes) -> None:
            response = session.post(f"{url}/write", params={"db": "bench"}, data=body)
            assert response.status_code == 204, response.text

        start = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(write, batches))
        acknowledged = time.perf_counter() - start
        drained = session.post(f"{url}/_localstack/drain", params={"timeout": "600"})
        assert drained.status_code == 204, drained.text
        stored = time.perf_counter() - start
        cpu = [process_cpu(p.pid) - b for p, b in zip(stack.processes, before, strict=True)]
        consumer, polling = (a - b for a, b in zip(consumer_cpu(session, url), consumer_before, strict=True))
        check = session.get(
            f"{url}/query", params={"db": "bench", "q": "SELECT usage_idle FROM cpu LIMIT 1"}
        ).json()
        assert check["results"][0].get("series"), check
        rate = points / stored
        print(f"acknowledged (on Kinesis): {points / acknowledged:,.0f} points/s ({acknowledged:.2f} s)")
        print(f"stored (consumer caught up): {rate:,.0f} points/s ({stored:.2f} s)")
        if influxd_rate:
            print(
                f"influxd (same payload, same threads): {influxd_rate:,.0f} points/s; "
                f"tickless stored at {rate / influxd_rate:.2f}x its rate"
            )
        per_million = 1_000_000 / points
        app_cpu = cpu[-1]  # the app's process: HTTP edge, event pump (and moto unless --separate-aws)
        edge = app_cpu - consumer - polling
        print("CPU-seconds per million points (what Lambda bills is the first two):")
        if args.separate_aws:
            print(f"  HTTP edge (parse, encode, PutRecords): {edge * per_million:.1f}")
        else:
            print(f"  HTTP edge + moto (in one process here): {edge * per_million:.1f}")
        print(f"  consumer (decode, segments, DynamoDB writes): {consumer * per_million:.1f}")
        print(f"  event pump (GetRecords, events; Lambda's poller on AWS): {polling * per_million:.1f}")
        if args.separate_aws:
            print(f"  moto (Kinesis, DynamoDB; AWS's side): {cpu[0] * per_million:.1f}")
    finally:
        stack.stop()


def warm_up(session: requests.Session, url: str, body: bytes) -> None:
    """One write into another database, stored, before measuring: what is measured is a warm stack's
    steady state (as on Lambda after its first invocations), not its clients' creation and imports."""
    assert session.post(f"{url}/query", params={"q": "CREATE DATABASE warmup"}).status_code == 200
    assert session.post(f"{url}/write", params={"db": "warmup"}, data=body).status_code == 204
    assert session.post(f"{url}/_localstack/drain", params={"timeout": "600"}).status_code == 204


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def consumer_cpu(session: requests.Session, url: str) -> tuple[float, float]:
    """CPU seconds the event pump's `consume_points` invocations took (their threads'), and those its
    pollers took to fetch the records and build the events (Lambda's side on AWS)."""
    stats = session.get(f"{url}/_localstack/stats").json()["handlers"].get("consume_points", {})
    return float(stats.get("cpu_seconds", 0.0)), float(stats.get("poll_cpu_seconds", 0.0))


def influxd_load(batches: list[bytes], threads: int) -> float | None:
    """points/s of a private influxd 1.x taking the same writes, or None without influxd on PATH."""
    binary = influxd_binary()
    if binary is None:
        print("influxd: not on PATH, not compared")
        return None
    # influxd 1.x has no unsigned fields: the same values as integers (they all fit)
    batches = [re.sub(rb"=(\d+)u(?=[, ])", rb"=\1i", body) for body in batches]
    with Influxd(binary) as influxd:
        influxd.query("CREATE DATABASE warmup")
        influxd.write("warmup", batches[0])  # warmed as tickless is (see warm_up)
        influxd.query("CREATE DATABASE bench")
        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda body: influxd.write("bench", body), batches))
        elapsed = time.perf_counter() - start
    return sum(body.count(b"\n") for body in batches) / elapsed


if __name__ == "__main__":
    main()
