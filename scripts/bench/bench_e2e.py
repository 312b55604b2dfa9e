"""End-to-end benchmark: points/s through the local stack (`make run`), over real HTTP.

Starts the local stack in a subprocess, creates a database, posts a Telegraf-like payload in batches
from several threads, and reports the rate at which writes are acknowledged (points durably on
Kinesis) and the rate until the consumer has stored everything (the pump drained).

Run from the repository root: `.venv/bin/python -m scripts.bench.bench_e2e [--lines N]`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from scripts.bench.bench_parse import build_payload
from scripts.localstack.motoserver import free_port


class StackProcesses:
    """The local stack in subprocesses: the app (HTTP, event pump) and, with `separate_aws`, moto in
    a process of its own, as DynamoDB and Kinesis are separate services on AWS; otherwise moto shares
    the app's interpreter (and its GIL), as in `make run`."""

    def __init__(self, separate_aws: bool = False, env: dict[str, str] | None = None) -> None:
        self.processes: list[subprocess.Popen] = []
        env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING", **(env or {})}
        options = ["--log-level", "WARNING"]
        try:
            if separate_aws:
                moto_port = free_port()
                self._spawn([*options, "--aws-only", "--moto-port", str(moto_port)], env)
                endpoint = f"http://127.0.0.1:{moto_port}"
                self._wait_for(f"{endpoint}/moto-api/", "moto")
                options += ["--aws-endpoint", endpoint]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000, help="lines per HTTP write")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--separate-aws", action="store_true", help="run moto in its own process")
    args = parser.parse_args()

    lines = build_payload(args.lines).splitlines(keepends=True)
    batches = [b"".join(lines[i : i + args.batch]) for i in range(0, len(lines), args.batch)]
    stack = StackProcesses(separate_aws=args.separate_aws)
    url = stack.url
    try:
        session = requests.Session()
        assert session.post(f"{url}/query", params={"q": "CREATE DATABASE bench"}).status_code == 200

        def write(body: bytes) -> None:
            response = requests.post(f"{url}/write", params={"db": "bench"}, data=body)
            assert response.status_code == 204, response.text

        start = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(write, batches))
        acknowledged = time.perf_counter() - start
        drained = session.post(f"{url}/_localstack/drain", params={"timeout": "600"})
        assert drained.status_code == 204, drained.text
        stored = time.perf_counter() - start
        check = session.get(
            f"{url}/query", params={"db": "bench", "q": "SELECT usage_idle FROM cpu LIMIT 1"}
        ).json()
        assert check["results"][0].get("series"), check
        shape = f"{len(batches)} writes of {args.batch} lines, {args.threads} threads"
        print(f"points: {len(lines):,} in {shape}")
        print(f"acknowledged (on Kinesis): {len(lines) / acknowledged:,.0f} points/s ({acknowledged:.2f} s)")
        print(f"stored (consumer caught up): {len(lines) / stored:,.0f} points/s ({stored:.2f} s)")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
