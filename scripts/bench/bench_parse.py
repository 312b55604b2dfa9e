"""Line protocol benchmark: tickless `parse` against the PyPI parsers, and `format_points` against
the PyPI serializer, on one 100k-line Telegraf-like payload.

Run from the repository root: `.venv/bin/python -m scripts.bench.bench_parse [--lines N] [--repeat R]`.
"""

from __future__ import annotations

import argparse
import gc
import random
import time

CPU_FIELDS = (
    "usage_guest",
    "usage_guest_nice",
    "usage_idle",
    "usage_iowait",
    "usage_irq",
    "usage_nice",
    "usage_softirq",
    "usage_steal",
    "usage_system",
    "usage_user",
)
MEM_INT_FIELDS = ("active", "available", "buffered", "cached", "free", "inactive", "slab", "total", "used")
MEM_FLOAT_FIELDS = ("available_percent", "used_percent")
DISK_INT_FIELDS = ("free", "inodes_free", "inodes_total", "inodes_used", "total", "used")
NET_FIELDS = ("bytes_recv", "bytes_sent", "drop_in", "drop_out", "err_in", "err_out", "packets_recv")


def _f(rng: random.Random) -> str:
    return repr(round(rng.uniform(0, 100), rng.choice((2, 6, 12))))


def build_payload(n_lines: int, seed: int = 42) -> bytes:
    """A Telegraf-like batch: cpu/mem/disk/net/system for 25 hosts, one interval every 10s, with
    3-6 tags, 5-15 fields (floats, ints, unsigned, strings, booleans), ns timestamps and a few
    escaped names."""
    rng = random.Random(seed)
    hosts = [f"server{i:02d}.prod.example.com" for i in range(25)]
    regions = ("us-west", "us-east", "eu-central")
    t = 1_700_000_000_000_000_000
    out: list[str] = []
    while len(out) < n_lines:
        t += 10_000_000_000
        for h, host in enumerate(hosts):
            region = regions[h % 3]
            base = f"host={host},region={region}"
            for cpu in ("cpu-total", "cpu0", "cpu1", "cpu2", "cpu3"):
                fields = ",".join(f"{k}={_f(rng)}" for k in CPU_FIELDS)
                out.append(f"cpu,cpu={cpu},dc=dc{h % 4},{base} {fields} {t}")
            fields = ",".join(
                [f"{k}={rng.randrange(1 << 20, 1 << 34)}i" for k in MEM_INT_FIELDS]
                + [f"{k}={_f(rng)}" for k in MEM_FLOAT_FIELDS]
            )
            out.append(f"mem,{base} {fields} {t}")
            disks = [("sda1", "/"), ("sdb1", "/var/lib/data")]
            if h % 5 == 0:
                disks.append(("sdc1", "/mnt/my\\ backups"))
            for dev, path in disks:
                fields = ",".join(
                    [f"{k}={rng.randrange(1 << 10, 1 << 40)}i" for k in DISK_INT_FIELDS]
                    + [f"used_percent={_f(rng)}", f"read_only={rng.choice(('true', 'false'))}"]
                )
                out.append(f"disk,device={dev},fstype=ext4,{base},mode=rw,path={path} {fields} {t}")
            for iface in ("eth0", "eth1"):
                fields = ",".join(f"{k}={rng.randrange(0, 1 << 50)}u" for k in NET_FIELDS)
                out.append(f"net,{base},interface={iface} {fields} {t}")
            up = rng.randrange(1, 10_000_000)
            fields = (
                f"load1={_f(rng)},load15={_f(rng)},load5={_f(rng)},n_cpus=4i,n_users={rng.randrange(9)}i,"
                f'uptime={up}i,uptime_format="{up // 86400} days, '
                f'{up % 86400 // 3600:2d}:{up % 3600 // 60:02d}"'
            )
            out.append(f"system,{base} {fields} {t}")
            if h % 5 == 0:
                out.append(f'app\\ events,{base},kind=deploy\\,canary ok=t,msg="rolled \\"v2\\" out" {t}')
    return ("\n".join(out[:n_lines]) + "\n").encode()


VALIDATES = {
    "tickless parse": (
        "whole batch, InfluxDB rules and messages: escapes, number/bool/string syntax, int64/uint64 "
        "and float ranges, NaN/Inf, duplicate and empty tags, reserved keys, max key length, "
        "timestamp syntax and range, UTF-8; canonical sorted series key; precision; comments, CRLF, "
        "multi-line strings"
    ),
    "line-protocol-parser (C)": (
        "one line at a time (the caller splits lines): syntax, number/bool syntax, int64/uint64 and "
        "float ranges, NaN/Inf, duplicate and empty tags, timestamp syntax; not: reserved keys, key "
        "length, series key, precision, UTF-8 naming; unsigned comes back as a plain int, a repeated "
        "field keeps the first value"
    ),
    "influx-line-protocol": (
        "a serializer only (Metric/MetricCollection), no parser: no validation at all; floats with "
        "%g (6 significant digits, lossy), no unsigned type, tags unsorted, booleans as t/f"
    ),
    "tickless format_points": (
        "exact round trip (float repr), int/uint ranges, NaN/Inf rejected, canonical escaping"
    ),
}


def _best(fn, repeat: int, pause_gc: bool = False) -> tuple[float, object]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        if pause_gc:
            gc.disable()
        try:
            t0 = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - t0)
        finally:
            gc.enable()
    return best, result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    from influx_line_protocol import Metric, MetricCollection
    from line_protocol_parser import parse_line

    from chalicelib.kit.points import UInt
    from chalicelib.lineprotocol import format_points, parse

    payload = build_payload(args.lines)
    n = args.lines
    print(f"payload: {n:,} lines, {len(payload) / 1e6:.1f} MB, Telegraf-like (cpu/mem/disk/net/system)")

    # A fresh process: the first batch also learns the shapes (compiles their patterns).
    t0 = time.perf_counter()
    points = parse(payload)
    first = time.perf_counter() - t0
    assert len(points) == n

    def c_parser():
        return [parse_line(line) for line in payload.split(b"\n") if line]

    rows = []
    t, _ = _best(lambda: parse(payload), args.repeat)
    rows.append(("parse", "tickless parse", n / t, n / first))
    t_c, parsed = _best(c_parser, args.repeat)
    t_c_nogc, _ = _best(c_parser, args.repeat, pause_gc=True)
    assert len(parsed) == n
    rows.append(("parse", "line-protocol-parser (C)", n / t_c, n / t_c_nogc))

    t_f, text = _best(lambda: format_points(points), args.repeat)
    assert parse(text) == points

    def influx_metrics():
        coll = MetricCollection()
        for p in points:
            m = Metric(p.measurement)
            for k, v in p.tags:
                m.add_tag(k, v)
            for k, v in p.fields.items():
                # no unsigned type: an UInt would be quoted as a string (and crash its escaping)
                m.add_value(k, int(v) if type(v) is UInt else v)
            m.with_timestamp(p.time)
            coll.append(m)
        return str(coll)

    t_i, _ = _best(influx_metrics, args.repeat)
    rows.append(("serialize", "tickless format_points", n / t_f, None))
    rows.append(("serialize", "influx-line-protocol", n / t_i, None))

    print()
    print(f"{'task':<10} {'implementation':<26} {'lines/s':>12} {'note':>34}")
    print("-" * 86)
    for task, name, rate, extra in rows:
        note = ""
        if name == "tickless parse":
            note = f"first batch, cold: {extra:,.0f}/s"
        elif name == "line-protocol-parser (C)":
            note = f"GC paused as tickless does: {extra:,.0f}/s"
        print(f"{task:<10} {name:<26} {rate:>12,.0f} {note:>34}")
    print()
    fastest_c = max(r[2] for r in rows if r[1] == "line-protocol-parser (C)")
    print(f"tickless parse / C extension: {rows[0][2] / fastest_c:.2f}x")
    print(f"tickless format_points / influx-line-protocol: {rows[2][2] / rows[3][2]:.2f}x")
    print(
        "(tickless parse pauses the cyclic GC during a batch; best of "
        f"{args.repeat} runs, shapes learned once per process)"
    )
    print()
    print("What each one validates:")
    for name, what in VALIDATES.items():
        print(f"  {name}: {what}")


if __name__ == "__main__":
    main()
