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
                f'uptime={up}i,uptime_format="{up // 86400} days, {up % 86400 // 3600:2d}:{up % 3600 // 60:02d}"'
            )
            out.append(f"system,{base} {fields} {t}")
            if h % 5 == 0:
                out.append(f'app\\ events,{base},kind=deploy\\,canary ok=t,msg="rolled \\"v2\\" out" {t}')
    return ("\n".join(out[:n_lines]) + "\n").encode()
