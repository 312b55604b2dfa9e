"""Segment codec benchmark on Telegraf-like columns: 100 series x 10k points (10 s interval) of cpu
(2-decimal percentages), mem (slowly changing integers and percentages), disk (near-constant integers)
and net (growing counters) series.

Prints encode and decode throughput (points/s; a point is one timestamp of one series with all its
fields), a one-series partial decode, bytes per point and per value, and the same for small segments
as the write path makes them (every series, a few points each).

Run from the repository root: `.venv/bin/python -m scripts.bench.bench_codec [--levels 1,6,9]`.
"""

from __future__ import annotations

import argparse
import gc
import random
import time

from chalicelib.kit.points import UInt
from chalicelib.series import codec, columns
from chalicelib.series.columns import Column, SeriesColumns

INTERVAL = 10_000_000_000
START = 1_700_000_000_000_000_000
CPU_FIELDS = ("usage_idle", "usage_iowait", "usage_irq", "usage_nice", "usage_softirq", "usage_steal")
CPU_FIELDS += ("usage_system", "usage_user", "usage_guest", "usage_guest_nice")
MEM_INT_FIELDS = ("active", "available", "buffered", "cached", "free", "inactive", "slab", "total", "used")
DISK_FIELDS = ("free", "inodes_free", "inodes_total", "inodes_used", "total", "used")
NET_FIELDS = ("bytes_recv", "bytes_sent", "drop_in", "drop_out", "err_in", "err_out", "packets_recv")


def _walk(rng: random.Random, n: int, start: float, step: float, low: float, high: float) -> list[float]:
    values, value = [], start
    for _ in range(n):
        value = min(high, max(low, value + rng.gauss(0, step)))
        values.append(float(round(value, 2)))
    return values


def _slow_ints(rng: random.Random, n: int, start: int, change: float, step: int) -> list[int]:
    values, value = [], start
    for _ in range(n):
        if rng.random() < change:
            value += rng.randint(-step, step)
        values.append(value)
    return values


def _counter(rng: random.Random, n: int, rate: int) -> list[int]:
    values, value = [], rng.randint(0, 10**9)
    for _ in range(n):
        value += rng.randint(0, rate)
        values.append(value)
    return values


def build_series(n_series: int, n_points: int, seed: int = 42) -> dict[str, SeriesColumns]:
    rng = random.Random(seed)
    times = [START + i * INTERVAL for i in range(n_points)]
    series: dict[str, SeriesColumns] = {}
    for s in range(n_series):
        host = f"host=server{s // 4:02d}.example.com"
        kind = s % 4
        fields: dict[str, Column] = {}
        if kind == 0:
            key = f"cpu,cpu=cpu-total,{host}"
            for name in CPU_FIELDS:
                fields[name] = Column("float", _walk(rng, n_points, rng.uniform(0, 20), 0.5, 0, 100))
        elif kind == 1:
            key = f"mem,{host}"
            for name in MEM_INT_FIELDS:
                fields[name] = Column(
                    "integer", _slow_ints(rng, n_points, rng.randint(2**30, 2**34), 0.3, 4096)
                )
            fields["used_percent"] = Column("float", _walk(rng, n_points, 40, 0.2, 0, 100))
            fields["available_percent"] = Column("float", _walk(rng, n_points, 60, 0.2, 0, 100))
        elif kind == 2:
            key = f"disk,device=sda1,fstype=ext4,{host},mode=rw,path=/"
            for name in DISK_FIELDS:
                values = _slow_ints(rng, n_points, rng.randint(2**20, 2**40), 0.05, 65536)
                fields[name] = Column("unsigned", [UInt(v) for v in values])
            fields["used_percent"] = Column("float", _walk(rng, n_points, 55, 0.01, 0, 100))
        else:
            key = f"net,{host},interface=eth0"
            for name in NET_FIELDS:
                fields[name] = Column("integer", _counter(rng, n_points, 10**5 if "bytes" in name else 3))
        series[key] = SeriesColumns(times, fields)
    return series


def _best(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def run(n_series: int, n_points: int, levels: list[int], repeat: int, batch: int) -> None:
    series = build_series(n_series, n_points)
    points = sum(len(c.times) for c in series.values())
    values = sum(len(col.values) for c in series.values() for col in c.fields.values())
    one_key = next(iter(series))
    print(f"{n_series} series x {n_points} points = {points} points, {values} values")
    small = [
        {
            key: columns.slice_time(cols, START + i * INTERVAL, START + (i + batch) * INTERVAL)
            for key, cols in series.items()
        }
        for i in range(0, min(n_points, 100 * batch), batch)
    ]
    small_points = sum(len(c.times) for seg in small for c in seg.values())
    for level in levels:
        codec.ZLIB_LEVEL = level
        data = codec.encode_segment(series)
        assert codec.decode_segment(data) == series
        encode = _best(repeat, lambda: codec.encode_segment(series))
        decode = _best(repeat, lambda: codec.decode_segment(data))  # noqa: B023
        partial = _best(repeat, lambda: codec.decode_segment(data, {one_key}))  # noqa: B023
        small_bytes = sum(len(codec.encode_segment(seg)) for seg in small)
        print(
            f"zlib level {level}: encode {points / encode:,.0f} points/s ({values / encode:,.0f} values/s), "
            f"decode {points / decode:,.0f} points/s ({values / decode:,.0f} values/s), "
            f"one series {partial * 1000:.2f} ms; {len(data) / points:.2f} bytes/point, "
            f"{len(data) / values:.3f} bytes/value ({len(data):,} bytes); "
            f"{batch}-point segments: {small_bytes / small_points:.2f} bytes/point"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--levels", default=str(codec.ZLIB_LEVEL), help="comma-separated zlib levels")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=6, help="points per series in the small segments")
    args = parser.parse_args()
    run(args.series, args.points, [int(x) for x in args.levels.split(",")], args.repeat, args.batch)


if __name__ == "__main__":
    main()
