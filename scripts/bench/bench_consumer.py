"""Consumer benchmark: points stored per CPU-second by the real `consume_points` handler.

A moto server runs in a separate process (so its CPU is not counted); the benchmark encodes a
Telegraf-like payload into Kinesis records exactly as the write path does, hands them to the consumer
in Lambda-shaped batches and reports points/s of wall time and per CPU-second of this process.

Run from the repository root: `.venv/bin/python -m scripts.bench.bench_consumer [--lines N]`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import urllib.request

from scripts.bench.bench_parse import build_payload
from scripts.localstack.lambda_events import LambdaContext, kinesis_event, kinesis_record
from scripts.localstack.motoserver import configure_environment, free_port
from scripts.localstack.provision import provision


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            return process, url
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100, help="records per consumer invocation")
    parser.add_argument(
        "--write-lines",
        type=int,
        default=0,
        help="encode the payload in writes of this many lines, as the HTTP edge does (a record per "
        "measurement and write: the stack's small records); 0: all at once",
    )
    args = parser.parse_args()

    process, url = start_moto()
    try:
        configure_environment(url)
        provision(url)
        from chalicelib import lineprotocol
        from chalicelib.events import points_consumer
        from chalicelib.ingest import records
        from chalicelib.ingest.records import Destination

        points = lineprotocol.parse(build_payload(args.lines))
        destination = Destination("00000000000000be", "bench", "autogen")
        step = args.write_lines or len(points)
        encoded = [
            record
            for start in range(0, len(points), step)
            for record in records.encode(destination, points[start : start + step])
        ]
        events = []
        for start in range(0, len(encoded), args.batch):
            events.append(
                kinesis_event(
                    kinesis_record(
                        data=data,
                        partition_key=key,
                        sequence_number=str(10**20 + start + i),
                        shard_id="shardId-000000000000",
                        stream_arn="arn:aws:kinesis:us-east-1:123456789012:stream/bench",
                    )
                    for i, (key, data) in enumerate(encoded[start : start + args.batch])
                )
            )
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for event in events:
            result = points_consumer.consume_points(
                event, LambdaContext("bench-consume_points", memory_limit_in_mb=1024)
            )
            assert not result["batchItemFailures"], result
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        size = sum(len(d) for _, d in encoded)
        per_point = size / len(points)
        print(f"points: {len(points):,} in {len(encoded)} records ({per_point:.1f} bytes/point on Kinesis)")
        print(f"consumer: {len(points) / cpu:,.0f} points per CPU-second ({cpu:.2f} s CPU)")
        print(f"consumer: {len(points) / wall:,.0f} points/s wall, moto server included ({wall:.2f} s)")
    finally:
        process.kill()


if __name__ == "__main__":
    main()
