"""The oracle's data set: deterministic line protocol written identically to influxd and to tickless.

Everything lies between START and END (2021-01-01 00:00-04:00 UTC), far in the past, so `now()` only
matters to the few queries that use it on purpose. The generator is seeded: the same batches come out
on every run.

Measurements (the tags / fields, with what makes them interesting):

- `cpu` (host, region, cpu): 6 series, irregular 10-60 s intervals; `server03` has no `region` tag;
  `server02,cpu=cpu1` has a gap from 01:00 to 02:00; float `usage_user/usage_system/usage_idle`, integer
  `procs`, boolean `throttled` only on some points (sparse field).
- `mem` (host): integer `used/free`, float `used_percent`; `server03` has a gap 02:00-02:30.
- `disk` (host, path): large integers `used/total/inodes_free`.
- `events` (host, level): string `message` (quotes, commas, spaces, unicode), integer `code` (some
  negative), boolean `ok` (written in every accepted spelling), float `latency`; sparse, several events
  sharing a timestamp across series.
- `h2o_feet` (location, with a space in one value): a regular 6-minute float `water_level` and a
  string `level_description`.
- `weather` (city, one non-ASCII): float `temp` (negative values), integer `humidity`, boolean `rain`.

Duplicate timestamps: the last batch rewrites some `cpu` points with only `usage_user` (InfluxDB merges
the fields: the new `usage_user` wins, the other fields stay), some `mem` points identically, and one
`weather` point twice in the same batch with different values (the last one wins).
"""

from __future__ import annotations

import random

DATABASE = "oracle"
SEED = 20210101
NS = 1_000_000_000
START = 1_609_459_200 * NS  # 2021-01-01T00:00:00Z
HOUR = 3600 * NS
END = START + 4 * HOUR  # exclusive
BATCH_LINES = 2_000


def _tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _line(measurement: str, tags: dict[str, str], fields: dict[str, str], ts: int) -> str:
    tag_part = "".join(f",{key}={_tag(value)}" for key, value in sorted(tags.items()))
    field_part = ",".join(f"{key}={value}" for key, value in fields.items())
    return f"{measurement}{tag_part} {field_part} {ts}"


def _float(value: float) -> str:
    return repr(round(value, 3))


def _times(rng: random.Random, low_s: int, high_s: int, start: int = START, end: int = END) -> list[int]:
    """Irregular timestamps: steps of low_s..high_s seconds plus a random millisecond part."""
    out = []
    ts = start + rng.randrange(0, low_s) * NS
    while ts < end:
        out.append(ts)
        ts += rng.randrange(low_s, high_s + 1) * NS + rng.randrange(0, 1000) * 1_000_000
    return out


def generate() -> list[str]:
    """Line-protocol batches (newline-joined, nanosecond precision), to be written in order."""
    rng = random.Random(SEED)
    lines: list[str] = []
    late: list[str] = []  # duplicate timestamps, written last

    # cpu
    hosts = [("server01", "us-east"), ("server02", "us-west"), ("server03", None)]
    for host, region in hosts:
        for cpu in ("cpu0", "cpu1"):
            tags = {"host": host, "cpu": cpu}
            if region:
                tags["region"] = region
            for ts in _times(rng, 10, 60):
                if host == "server02" and cpu == "cpu1" and START + HOUR <= ts < START + 2 * HOUR:
                    continue
                user = rng.uniform(0, 70)
                system = rng.uniform(0, 30)
                fields = {
                    "usage_user": _float(user),
                    "usage_system": _float(system),
                    "usage_idle": _float(100 - round(user, 3) - round(system, 3)),
                    "procs": f"{rng.randrange(50, 400)}i",
                }
                if rng.random() < 0.3:
                    fields["throttled"] = "true" if rng.random() < 0.4 else "false"
                lines.append(_line("cpu", tags, fields, ts))
                if rng.random() < 0.05:
                    late.append(_line("cpu", tags, {"usage_user": _float(rng.uniform(70, 100))}, ts))

    # mem
    for host in ("server01", "server02", "server03"):
        for ts in _times(rng, 60, 240):
            if host == "server03" and START + 2 * HOUR <= ts < START + 2 * HOUR + HOUR // 2:
                continue
            total = 16 * 1024**3
            used = rng.randrange(2 * 1024**3, 15 * 1024**3)
            line = _line(
                "mem",
                {"host": host},
                {"used": f"{used}i", "free": f"{total - used}i", "used_percent": _float(100 * used / total)},
                ts,
            )
            lines.append(line)
            if rng.random() < 0.05:
                late.append(line)

    # disk
    for host in ("server01", "server02"):
        for path in ("/", "/data"):
            total = 1_000_204_886_016 if path == "/data" else 250_059_350_016
            used = total // 3
            for ts in _times(rng, 300, 600):
                used += rng.randrange(-50_000_000, 200_000_000)
                fields = {
                    "used": f"{used}i",
                    "total": f"{total}i",
                    "inodes_free": f"{rng.randrange(10**6, 10**8)}i",
                }
                lines.append(_line("disk", {"host": host, "path": path}, fields, ts))

    # events
    messages = ["started", "stopped", 'said "hi"', "a, b and c", "naïve café ✓", "back\\slash", ""]
    true_words, false_words = ["t", "T", "true", "True", "TRUE"], ["f", "F", "false", "False", "FALSE"]
    shared = [START + rng.randrange(0, 4 * 3600) * NS for _ in range(10)]
    for i in range(220):
        host = rng.choice(["server01", "server02", "server03"])
        level = rng.choice(["info", "info", "info", "warn", "error"])
        ts = shared[i % 10] if i < 30 else START + rng.randrange(0, 4 * 3600 * 1000) * 1_000_000
        ok = rng.random() < 0.7
        fields = {
            "message": _string(rng.choice(messages)),
            "code": f"{rng.choice([0, 0, 1, 2, 42, 500, -1, -17])}i",
            "ok": rng.choice(true_words if ok else false_words),
            "latency": _float(rng.expovariate(1 / 40)),
        }
        lines.append(_line("events", {"host": host, "level": level}, fields, ts))

    # h2o_feet: regular 6-minute series
    for location, base in (("coyote creek", 5.0), ("santa monica", 3.0)):
        level = base
        for step in range(40):
            level = max(0.0, level + rng.uniform(-0.6, 0.6))
            description = (
                "below 3 feet" if level < 3 else "between 3 and 6 feet" if level < 6 else "above 6 feet"
            )
            fields = {"water_level": _float(level), "level_description": _string(description)}
            lines.append(_line("h2o_feet", {"location": location}, fields, START + step * 360 * NS))

    # weather: every 10 minutes, negative temperatures
    for city, base in (("Oslo", -4.0), ("São Paulo", 24.0)):
        for step in range(24):
            ts = START + step * 600 * NS
            fields = {
                "temp": _float(base + rng.uniform(-6, 6)),
                "humidity": f"{rng.randrange(30, 100)}i",
                "rain": "true" if rng.random() < 0.3 else "false",
            }
            lines.append(_line("weather", {"city": city}, fields, ts))
    late.append(_line("weather", {"city": "Oslo"}, {"temp": "1.5"}, START + 600 * NS))
    late.append(_line("weather", {"city": "Oslo"}, {"temp": "-2.25", "rain": "true"}, START + 600 * NS))

    batches = ["\n".join(lines[i : i + BATCH_LINES]) + "\n" for i in range(0, len(lines), BATCH_LINES)]
    batches.append("\n".join(late) + "\n")
    return batches


def point_count() -> int:
    return sum(batch.count("\n") for batch in generate())


# A second database whose measurements give one field name several types (InfluxDB 1.x types fields
# per measurement): how a query over several of them types a field (`SELECT *`, `count(*)`, ...).
TYPES_DATABASE = "oracle_types"


def types_batches() -> list[str]:
    """One batch per measurement: influxd refuses a batch that types one field two ways."""
    return [
        f'ma,t=a f=1.5,g=1i,s="x" {START + NS}\nma,t=a2 f=2.5,g=3i,s="y" {START + 2 * NS}',
        f"mb,t=b f=2i,g=2.5,s=true {START + 2 * NS}\nmb,t=b f=4i,g=0.5,s=false {START + 3 * NS}",
        f'mc,t=c f="str",g=true {START + 3 * NS}',
        f"md,t=d g=7i,h=1.25 {START + 4 * NS}",
    ]
