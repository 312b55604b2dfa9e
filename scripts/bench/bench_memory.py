"""Memory benchmark: a query's peak memory follows what it reads, not how much the bucket holds.

One process runs the app in-process (chalice.test.Client, as tests/api/conftest.py does) against a
moto server started as a *separate process* (so moto's DynamoDB and Kinesis memory is not counted).
It onboards a bucket, then writes to it in growing steps: `--points` points in `--series` series
`bench,cpu=cpuK,host=hNNN v=<float>`, 10 s apart, doubling `--steps` times (100k, 200k, 400k, 800k by
default). Each step appends later points, so the first hours of data never change. Writes go through
`/api/v2/write` and Kinesis; this process then reads the stream and hands the records to the real
`consume_points` handler (no pump thread, so nothing else allocates while a query runs).

After each step it runs a fixed set of InfluxQL (`/query`) and Flux (`/api/v2/query`) queries whose
time windows lie in the first 2 hours, so what they read does not change as the bucket grows, plus
queries that read the whole bucket. Each query runs once untraced (warm-up), then `--repeat` times
under tracemalloc (started fresh for each run, so only the run's own allocations count: request
handling, DynamoDB reads and decoding, evaluation, response body); the smallest peak is reported,
in MB. The per-container metadata read cache is off (`TICKLESS_METADATA_TTL=0`) unless
`--metadata-cache`: every measured run then reads its token, bucket and series index itself, as a
cold container would, instead of hitting whatever the warm-up left behind. The table gives what
each query reads, rows returned, peak MB at each bucket size and the ratio of the last peak to the
first.

Run from the repository root: `.venv/bin/python -m scripts.bench.bench_memory [--points 100000]`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from scripts.bench.bench_consumer import start_moto
from scripts.bench.bench_query import rfc3339, series_tags
from scripts.localstack.lambda_events import LambdaContext, kinesis_event, kinesis_record_from
from scripts.localstack.motoserver import configure_environment
from scripts.localstack.provision import provision

NS = 1_000_000_000
START = 1_609_459_200 * NS  # 2021-01-01T00:00:00Z
STEP = 10 * NS
HOUR = 3600 * NS
BUCKET = "bench"
ORG = "bench-org"
MB = 1024 * 1024


@dataclass(frozen=True)
class Query:
    label: str
    language: str  # "influxql" or "flux"
    text: str
    reads: str  # what it reads, as shown in the table


def queries(series: int) -> list[Query]:
    window = f"{series * 2 * HOUR // STEP:,} points"  # 2 h of every series
    one_hour = f"time >= '{rfc3339(START)}' AND time < '{rfc3339(START + HOUR)}'"
    two_hours = f"time >= '{rfc3339(START)}' AND time < '{rfc3339(START + 2 * HOUR)}'"
    source = f'from(bucket: "{BUCKET}")'
    r1 = f"range(start: {rfc3339(START)}, stop: {rfc3339(START + HOUR)})"
    r2 = f"range(start: {rfc3339(START)}, stop: {rfc3339(START + 2 * HOUR)})"
    field = 'r._measurement == "bench" and r._field == "v"'
    one = f"{HOUR // STEP:,} points"
    index = "series index"
    everything = "every point"
    return [
        Query(
            "raw range, 1 h of one series",
            "influxql",
            f"SELECT v FROM bench WHERE host = 'h000' AND cpu = 'cpu0' AND {one_hour}",
            one,
        ),
        Query(
            "mean GROUP BY time(1m), host, 2 h",
            "influxql",
            f"SELECT mean(v) FROM bench WHERE {two_hours} GROUP BY time(1m), host",
            window,
        ),
        Query(
            "last GROUP BY *, 2 h",
            "influxql",
            f"SELECT last(v) FROM bench WHERE {two_hours} GROUP BY *",
            window,
        ),
        Query("SHOW TAG VALUES WITH KEY = host", "influxql", "SHOW TAG VALUES WITH KEY = host", index),
        Query("count(v), no time range", "influxql", "SELECT count(v) FROM bench", everything),
        Query(
            "raw range, 1 h of one series",
            "flux",
            f'{source} |> {r1} |> filter(fn: (r) => {field} and r.host == "h000" and r.cpu == "cpu0")',
            one,
        ),
        Query(
            "aggregateWindow(1m, mean) by host, 2 h",
            "flux",
            f'{source} |> {r2} |> filter(fn: (r) => {field}) |> group(columns: ["host"])'
            " |> aggregateWindow(every: 1m, fn: mean, createEmpty: false)",
            window,
        ),
        Query(
            "last() per series, 2 h",
            "flux",
            f"{source} |> {r2} |> filter(fn: (r) => {field}) |> last()",
            window,
        ),
        Query(
            "schema.tagValues(host), 2 h",
            "flux",
            'import "influxdata/influxdb/schema"\n'
            f'schema.tagValues(bucket: "{BUCKET}", tag: "host", '
            f"start: {rfc3339(START)}, stop: {rfc3339(START + 2 * HOUR)})",
            index,  # answered from the series index since the schema functions push down
        ),
        Query(
            "count() per series, range from the first point",
            "flux",
            f"{source} |> range(start: {rfc3339(START)}) |> filter(fn: (r) => {field}) |> count()",
            everything,
        ),
    ]


def lines(first: int, last: int, tags: list[str]) -> list[str]:
    """Line protocol for time steps [first, last) of every series, in time order."""
    out = []
    for step in range(first, last):
        ts = START + step * STEP
        for index, tag in enumerate(tags):
            value = ((step * 7919 + index * 104729) % 100_000) / 1000
            out.append(f"bench,{tag} v={value} {ts}")
    return out


class Stack:
    """The app in-process (chalice.test.Client) and a synchronous Kinesis -> consume_points loop."""

    def __init__(self, endpoint_url: str) -> None:
        import boto3
        from chalice.test import Client

        import app as app_module  # only now: resource names and endpoints come from the environment
        from chalicelib.declarations import kinesis_consumer, physical_name

        self.client = Client(app_module.app, stage_name="local")
        self.kinesis = boto3.client("kinesis", endpoint_url=endpoint_url)
        consumer = kinesis_consumer("consume_points")
        self.stream = physical_name(consumer.stream)
        self.batch_size = consumer.batch_size
        self.stream_arn = self.kinesis.describe_stream_summary(StreamName=self.stream)[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        self.after: dict[str, str] = {}  # shard -> last sequence number handed to the consumer
        response = self.client.http.post(
            "/api/v2/setup",
            body=json.dumps(
                {"username": "bench", "password": "bench-password", "org": ORG, "bucket": BUCKET}
            ),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 201, response.body
        self.headers = {"Authorization": f"Token {response.json_body['auth']['token']}"}

    def write(self, body: str) -> None:
        response = self.client.http.post(
            "/api/v2/write?" + urlencode({"org": ORG, "bucket": BUCKET, "precision": "ns"}),
            body=body.encode(),
            headers={**self.headers, "Content-Type": "text/plain; charset=utf-8"},
        )
        assert response.status_code == 204, response.body

    def consume(self) -> int:
        """Hand every record not yet consumed to `consume_points`, as Lambda would; records consumed."""
        from chalicelib.events import points_consumer

        total = 0
        for shard in self.kinesis.list_shards(StreamName=self.stream)["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id in self.after:
                position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER"}
                position["StartingSequenceNumber"] = self.after[shard_id]
            else:
                position = {"ShardIteratorType": "TRIM_HORIZON"}
            iterator = self.kinesis.get_shard_iterator(StreamName=self.stream, ShardId=shard_id, **position)[
                "ShardIterator"
            ]
            while iterator:
                page = self.kinesis.get_records(ShardIterator=iterator, Limit=self.batch_size)
                records = page["Records"]
                if not records:
                    break
                event = kinesis_event(
                    kinesis_record_from(r, shard_id=shard_id, stream_arn=self.stream_arn) for r in records
                )
                result = points_consumer.consume_points(
                    event, LambdaContext("bench-consume_points", memory_limit_in_mb=1024)
                )
                assert not result["batchItemFailures"], result
                self.after[shard_id] = records[-1]["SequenceNumber"]
                total += len(records)
                iterator = page.get("NextShardIterator")
        return total

    def request(self, query: Query) -> Callable[[], Any]:
        """A call that runs `query` and returns the raw response (parsed later, outside the trace)."""
        if query.language == "influxql":
            path = "/query?" + urlencode({"db": BUCKET, "q": query.text, "epoch": "ns"})
            return lambda: self.client.http.get(path, headers=self.headers)
        path = "/api/v2/query?" + urlencode({"org": ORG})
        body = json.dumps({"query": query.text, "type": "flux"})
        headers = {**self.headers, "Content-Type": "application/json"}
        return lambda: self.client.http.post(path, body=body, headers=headers)


def rows(query: Query, response: Any) -> int:
    """Rows of the answer: values over all series (InfluxQL), CSV data records (Flux)."""
    if query.language == "influxql":
        doc = json.loads(response.body)
        for result in doc.get("results", []):
            if "error" in result:
                raise RuntimeError(f"{query.label}: {result['error']}")
        return sum(len(s.get("values", [])) for r in doc.get("results", []) for s in r.get("series", []))
    text = response.body.decode() if isinstance(response.body, bytes) else response.body
    if ",error,reference" in text:
        raise RuntimeError(f"{query.label}: {text[:300]}")
    return sum(1 for line in text.splitlines() if line.startswith(",_result,"))


def traced(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """Run `call` under a fresh tracemalloc: (peak MB of its own allocations, seconds, its result)."""
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = call()
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / MB, elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=100_000, help="bucket size after the first step")
    parser.add_argument("--steps", type=int, default=4, help="bucket sizes, doubling from --points")
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--batch", type=int, default=10_000, help="lines per HTTP write")
    parser.add_argument(
        "--repeat", type=int, default=2, help="traced runs per query; the smallest peak counts"
    )
    parser.add_argument(
        "--metadata-cache",
        action="store_true",
        help="keep the metadata read cache on (default: TICKLESS_METADATA_TTL=0, every run reads it all)",
    )
    args = parser.parse_args()
    if args.points // args.series < 2 * HOUR // STEP:
        parser.error(f"--points must be at least {args.series * 2 * HOUR // STEP} (2 h of every series)")

    began = time.perf_counter()
    sizes = [args.points * 2**i for i in range(args.steps)]
    tags = series_tags(args.series)
    plan = queries(args.series)
    print(
        f"bucket sizes {', '.join(f'{s:,}' for s in sizes)} points in {args.series} series (10 s apart); "
        f"moto in a separate process; {args.repeat} traced runs per query after one warm-up"
    )

    process, url = start_moto()
    try:
        configure_environment(url)
        if not args.metadata_cache:
            os.environ["TICKLESS_METADATA_TTL"] = "0"  # read before the app is imported (Stack)
        provision(url)
        stack = Stack(url)
        peaks: dict[int, list[float]] = {i: [] for i in range(len(plan))}
        counts: dict[int, list[int]] = {i: [] for i in range(len(plan))}
        written = 0
        for size in sizes:
            load_start = time.perf_counter()
            first, last = written // args.series, size // args.series
            body = lines(first, last, tags)
            for offset in range(0, len(body), args.batch):
                stack.write("\n".join(body[offset : offset + args.batch]) + "\n")
            del body
            records = stack.consume()
            written = last * args.series
            hours = last * STEP / HOUR
            print(
                f"\n{written:,} points ({hours:.1f} h per series): written and consumed "
                f"({records} records) in {time.perf_counter() - load_start:.1f} s"
            )
            for i, query in enumerate(plan):
                call = stack.request(query)
                warm = call()
                assert warm.status_code == 200, warm.body
                best, seconds = float("inf"), 0.0
                response = warm
                for _ in range(args.repeat):
                    peak, elapsed, response = traced(call)
                    if peak < best:
                        best, seconds = peak, elapsed
                count = rows(query, response)
                peaks[i].append(best)
                counts[i].append(count)
                line = f"{query.language:8} {query.label:48} rows {count:>7,}"
                print(f"  {line}  peak {best:8.2f} MB  {seconds:6.2f} s")

        print()
        header = " | ".join(f"peak MB @ {s // 1000:,}k" for s in sizes)
        print(f"| language | query | reads | rows | {header} | growth (last/first) |")
        print("|---|---|---|---|" + "---|" * len(sizes) + "---|")
        for i, query in enumerate(plan):
            distinct = sorted(set(counts[i]))
            shown = f"{counts[i][0]:,}" if len(distinct) == 1 else " / ".join(f"{c:,}" for c in counts[i])
            figures = " | ".join(f"{p:.2f}" for p in peaks[i])
            ratio = peaks[i][-1] / peaks[i][0] if peaks[i][0] else float("nan")
            print(
                f"| {query.language} | {query.label} | {query.reads} | {shown} | {figures} | {ratio:.2f}x |"
            )
        print(f"\nwhole run: {time.perf_counter() - began:.0f} s")
    finally:
        process.kill()
        process.wait()


if __name__ == "__main__":
    main()
