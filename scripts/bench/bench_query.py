"""Query benchmark: the same InfluxQL on tickless (local stack) and on a real influxd 1.x, in one run.

Starts a private influxd (scripts/oracle/influxd.py) and the local stack, writes the same points to
both (`--series` series of one float field `v`, 10 s apart, gzipped batches), then runs each query
`--repeat` times on both and prints the best wall time of each, the tickless/influxd ratio, and whether
both gave the same answer (compared as in tests/oracle), side by side for tickless's two states: the
segments as the consumer wrote them, and the same data once `compact_segments` merged them. Loading
times are printed too (with the ratio of the rates): writing to the local stack runs at tens of
thousands of points per second, so scale down with `--points` for a quick run.

Run from the repository root: `.venv/bin/python -m scripts.bench.bench_query [--points 1000000 --series 100]`.
Needs `influxd` on PATH (Debian/Ubuntu: `apt-get install influxdb`).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from scripts.bench.bench_e2e import StackProcesses
from scripts.oracle.influxd import Influxd, Server, drain, influxd_binary, influxd_version, onboard_tickless

DATABASE = "bench"
ORG = "oracle-org"  # onboard_tickless's organization
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
        ("last(*) GROUP BY *", "SELECT last(*) FROM bench GROUP BY *"),
        ("count(*) FROM /.*/", "SELECT count(*) FROM /.*/"),
        ("SHOW TAG VALUES", "SHOW TAG VALUES WITH KEY = host"),
    ]


def flux_queries(points: int, series: int) -> list[tuple[str, str, int]]:
    """Flux doing the work of the InfluxQL queries: (label, Flux, index of the InfluxQL query whose
    influxd answer it must equal). influxd 1.6.7 has no Flux, so its InfluxQL time is the yardstick."""
    end = START + (points // series) * STEP
    whole = f"range(start: {rfc3339(START)}, stop: {rfc3339(end)})"
    one_hour = f"range(start: {rfc3339(START)}, stop: {rfc3339(START + 3600 * NS)})"
    source = 'from(bucket: "bench")'
    field = 'r._measurement == "bench" and r._field == "v"'
    return [
        (
            "Flux raw range read",
            f'{source} |> {one_hour} |> filter(fn: (r) => {field} and r.host == "h000" and r.cpu == "cpu0")',
            0,
        ),
        (
            "Flux aggregateWindow(1m, mean) by host",
            f"{source} |> {whole} |> filter(fn: (r) => {field}) "
            '|> group(columns: ["host"]) |> aggregateWindow(every: 1m, fn: mean, timeSrc: "_start")',
            1,
        ),
        ("Flux last per series", f"{source} |> range(start: 0) |> filter(fn: (r) => {field}) |> last()", 2),
        (
            "Flux schema.tagValues",
            'import "influxdata/influxdb/schema"\n'
            f'schema.tagValues(bucket: "bench", tag: "host", start: {rfc3339(START)})',
            5,
        ),
    ]


def flux(url: str, token: str, q: str) -> tuple[int, str]:
    response = requests.post(
        f"{url}/api/v2/query",
        params={"org": ORG},
        json={"query": q, "dialect": {"annotations": ["datatype", "group", "default"]}},
        headers={"Authorization": f"Token {token}", "Accept": "application/csv"},
        timeout=1800,
    )
    return response.status_code, response.text


def flux_rows(text: str, tag_keys: list[str]) -> list[tuple]:
    """(tags, time, value) of each row of annotated CSV, with the tags InfluxQL grouped by."""
    rows = []
    header: list[str] | None = None
    for record in csv.reader(io.StringIO(text)):
        if not any(record):  # a blank line ends a table
            header = None
            continue
        if record[0].startswith("#"):
            continue
        if header is None:
            header = record
            continue
        row = dict(zip(header, record, strict=False))
        tags = ",".join(f"{k}={row[k]}" for k in tag_keys if k in row)
        value = row.get("_value") or None
        if "_time" in row:
            rows.append((tags, _ns(row["_time"]), None if value is None else float(value)))
        else:
            rows.append((tags, None, value))
    return sorted(rows, key=repr)


def influxql_rows(body: Any) -> tuple[list[tuple], list[str]]:
    """The same (tags, time, value) rows from an InfluxQL answer (SHOW TAG VALUES: the values), and
    the tag keys its series are grouped by."""
    rows = []
    tag_keys: set[str] = set()
    for result in body.get("results", []):
        for series in result.get("series", []):
            tags = series.get("tags", {})
            tag_keys.update(tags)
            label = ",".join(f"{k}={v}" for k, v in sorted(tags.items()))
            for values in series.get("values", []):
                if series["columns"] == ["key", "value"]:
                    rows.append(("", None, values[1]))
                else:
                    rows.append((label, values[0], None if values[1] is None else float(values[1])))
    return sorted(rows, key=repr), sorted(tag_keys)


def _ns(text: str) -> int:
    """RFC3339 with up to nanosecond digits, in UTC as Flux writes it."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    moment = datetime.datetime.fromisoformat(whole).replace(tzinfo=datetime.UTC)
    return int(moment.timestamp()) * NS + int(fraction.ljust(9, "0") or 0)


def same_rows(ours: list[tuple], theirs: list[tuple]) -> str:
    if len(ours) != len(theirs):
        return f"no: {len(ours)} rows, influxd {len(theirs)}"
    for mine, base in zip(ours, theirs, strict=True):
        close = (
            isinstance(mine[2], float)
            and isinstance(base[2], float)
            and math.isclose(mine[2], base[2], rel_tol=1e-9)
        )
        if mine[:2] != base[:2] or (mine[2] != base[2] and not close):
            return f"no: {mine} vs {base}"
    return "yes"


def load(server: Server, bodies: list[str], threads: int, database: str = DATABASE) -> float:
    """Seconds to write every body (gzipped) from `threads` threads."""
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda body: server.write(database, body, compress=True), bodies))
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


Measured = tuple[str, int, float, str]  # label, rows, seconds (inf on error), same answer


def measure(
    tickless: Server, token: str, points: int, args: argparse.Namespace, baseline: list
) -> list[Measured]:
    """Time every query on tickless and compare its answer with influxd's (`baseline`)."""
    from tests.oracle.test_influxql_oracle import first_difference

    measured: list[Measured] = []
    for (label, q), (_, base_status, base_body) in zip(queries(points, args.series), baseline, strict=True):
        ours, our_status, our_body = timed(tickless, q, args.repeat)
        error = error_of(our_status, our_body)
        if error:
            ours, same = float("inf"), f"no: tickless error `{error}`"
        else:
            diff = first_difference([base_status, base_body], [our_status, our_body])
            same = "yes" if diff is None else f"no: {diff[:60]}"
        measured.append((label, rows(base_body), ours, same))
    for label, q, index in flux_queries(points, args.series):
        _, _, base_body = baseline[index]
        best, status, text = float("inf"), 0, ""
        for _ in range(args.repeat):
            start = time.perf_counter()
            status, text = flux(tickless.url, token, q)
            best = min(best, time.perf_counter() - start)
        if status != 200:
            best, same = float("inf"), f"no: HTTP {status} `{text[:80]}`"
        else:
            expected, tag_keys = influxql_rows(base_body)
            same = same_rows(flux_rows(text, tag_keys), expected)
        measured.append((label, rows(base_body), best, same))
    return measured


def table(baseline: list, written: list[Measured], compacted: list[Measured]) -> None:
    """One row per query: influxd's time, then tickless on the data as written and once compacted."""
    flux_base = [index for _, _, index in flux_queries(1, 1)]
    bases = [b[0] for b in baseline] + [baseline[i][0] for i in flux_base]

    def ratio(ours: float, base: float) -> str:
        return "n/a" if ours == float("inf") else f"{ours / base:,.1f}x"

    print("| query | rows | influxd (s) | as written (s) | ratio | compacted (s) | ratio | same answer |")
    print("|---|---|---|---|---|---|---|---|")
    for base, before, after in zip(bases, written, compacted, strict=True):
        label, count, ours, same = before
        _, _, theirs, same_after = after
        agree = same if same == same_after else f"{same} / compacted: {same_after}"
        yardstick = f"{base:.4f}" + (" (InfluxQL)" if label.startswith("Flux") else "")
        print(
            f"| {label} | {count:,} | {yardstick} | {ours:.4f} | {ratio(ours, base)} "
            f"| {theirs:.4f} | {ratio(theirs, base)} | {agree} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--batch", type=int, default=10_000, help="lines per HTTP write")
    parser.add_argument("--threads", type=int, default=4, help="concurrent writes")
    parser.add_argument("--repeat", type=int, default=3, help="runs per query; the best counts")
    parser.add_argument(
        "--shared-aws",
        action="store_true",
        help="run moto inside the app's process, as `make run` does (default: its own process, as "
        "DynamoDB and Kinesis are separate services on AWS)",
    )
    args = parser.parse_args()

    binary = influxd_binary()
    if binary is None:
        sys.exit("influxd is not on PATH (Debian/Ubuntu: apt-get install influxdb)")

    bodies = batches(args.points, args.series, args.batch)
    points = sum(body.count("\n") for body in bodies)
    print(
        f"{points:,} points in {args.series} series ({points // args.series:,} per series, 10 s apart), "
        f"{len(bodies)} gzipped writes of up to {args.batch:,} lines, {args.threads} threads"
    )
    print(f"influxd: {influxd_version(binary)}")

    # every block is compacted when asked, however recently written (the schedule waits for quiet)
    stack = StackProcesses(separate_aws=not args.shared_aws, env={"TICKLESS_COMPACTION_QUIET_SECONDS": "0"})
    url = stack.url
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
                f"({points / stored:,.0f} points/s, {influxd_load / stored:.2f}x influxd's rate)"
            )

            baseline = [timed(influxd, q, args.repeat) for _, q in queries(points, args.series)]
            token = tickless.headers["Authorization"].removeprefix("Token ")
            written = measure(tickless, token, points, args, baseline)  # segments as the consumer wrote them
            start = time.perf_counter()
            response = requests.post(f"{url}/_localstack/schedules/compact_segments", timeout=3600)
            assert response.status_code == 200, response.text
            merged = response.json()["result"]
            print(f"\ncompact_segments: {merged:,} segments merged in {time.perf_counter() - start:.1f} s\n")
            compacted = measure(tickless, token, points, args, baseline)
            table(baseline, written, compacted)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
