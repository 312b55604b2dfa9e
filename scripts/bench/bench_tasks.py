"""Kapacitor stream task benchmark: point-evaluations per core-second, the way the task Lambda runs them.

The task is
    stream|from().measurement('cpu').where(lambda: "host" != 'x')
        |window().period(10s).every(10s)|mean('usage')|alert().crit(lambda: "mean" > 90)
(`--group-by` adds `.groupBy('host')` to from(): a group, a window and an alert state per host).
Telegraf-like writes of `--record-points` cpu points (`--hosts` hosts, one point per host every 10 s)
are encoded into Kinesis records as the write path does, decoded as `consume_tasks` does, and handed in
invocations of `--batch` records to `StreamTasks.consume` with the real DynamoDB stores (task state and
definitions) on a moto server in another process, so its CPU is not counted: each invocation loads the
task's state, feeds the points and saves the state in one conditional TransactWriteItems. For
comparison, the same points through the runtime alone (no DynamoDB): one runtime kept in memory, and one
rebuilt from and saved to its JSON state per invocation.

DynamoDB's cost is counted on every pynamodb call: items and bytes written per TransactWriteItems (an
item's size: its attribute names and values), write units (1 KB of item per write; a transaction
bills twice that) and read units (4 KB of item per strongly consistent read) per 1000 points.

Target (the issue): 200,000 point-evaluations per core-second, a point-evaluation being one point of
the task's stream fed through its pipeline. Reported, not enforced.

Run from the repository root: `.venv/bin/python -m scripts.bench.bench_tasks [--points N] [--profile]`.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import math
import pstats
import random
import time
from collections import Counter
from typing import Any

from chalicelib.declarations import kinesis_consumer
from scripts.bench.bench_consumer import start_moto
from scripts.localstack.motoserver import configure_environment
from scripts.localstack.provision import provision

TARGET = 200_000  # point-evaluations per core-second
SCRIPT = (
    "stream\n"
    "    |from()\n"
    "        .measurement('cpu')\n"
    "{group_by}"
    "        .where(lambda: \"host\" != 'x')\n"
    "    |window()\n"
    "        .period(10s)\n"
    "        .every(10s)\n"
    "    |mean('usage')\n"
    "    |alert()\n"
    '        .crit(lambda: "mean" > 90)\n'
)
ORG = "00000000000000be"
TASK_ID = "bench_cpu"


def build_lines(n_points: int, hosts: int, seed: int = 7) -> bytes:
    """cpu points of `hosts` hosts, one each every 10 s: usage and three other fields. One interval in
    ten of every minute of intervals runs hot (usage above 90 everywhere), so the alert changes level."""
    rng = random.Random(seed)
    regions = ("us-west", "us-east", "eu-central")
    t = 1_700_000_000_000_000_000
    out: list[str] = []
    interval = 0
    while len(out) < n_points:
        hot = interval % 60 >= 54
        for h in range(hosts):
            usage = rng.uniform(91, 99) if hot else rng.uniform(0, 80)
            out.append(
                f"cpu,host=host{h:05d}.example.com,region={regions[h % 3]},cpu=cpu-total "
                f"usage={usage:.3f},usage_user={usage * 0.7:.3f},usage_system={usage * 0.3:.3f},"
                f"usage_idle={100 - usage:.3f} {t}"
            )
            if len(out) == n_points:
                break
        t += 10_000_000_000
        interval += 1
    return ("\n".join(out) + "\n").encode()


class DynamoCounter:
    """Counts pynamodb's DynamoDB calls: per operation, items and bytes written, write and read units."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.transact_items = 0
        self.bytes_written = 0
        self.write_units = 0  # 1 KB of item per write, as a standard write bills
        self.transact_write_units = 0  # what DynamoDB bills a transaction's writes: twice that
        self.read_units = 0.0
        self.sizes: dict[tuple[str, str], int] = {}  # item key -> size, for deletes

    def install(self) -> None:
        from pynamodb.connection.base import Connection

        original = Connection._make_api_call
        counter = self

        def counted(connection: Any, operation: str, kwargs: dict) -> dict:
            result = original(connection, operation, kwargs)
            counter.record(operation, kwargs, result)
            return result

        Connection._make_api_call = counted

    def record(self, operation: str, kwargs: dict, result: dict) -> None:
        self.calls[operation] += 1
        if operation == "TransactWriteItems":
            for entry in kwargs["TransactItems"]:
                self.transact_items += 1
                if "Put" in entry:
                    item = entry["Put"]["Item"]
                    size = item_size(item)
                    self.sizes[_key(item)] = size
                elif "Delete" in entry:
                    size = self.sizes.pop(_key(entry["Delete"]["Key"]), 1024)
                elif "Update" in entry:
                    size = item_size(entry["Update"]["Key"])
                else:  # ConditionCheck: billed as a read-sized write unit
                    size = 1
                units = max(1, math.ceil(size / 1024))
                self.bytes_written += size
                self.write_units += units
                self.transact_write_units += 2 * units
        elif operation in ("PutItem", "DeleteItem", "UpdateItem"):
            key = kwargs.get("Item") or kwargs.get("Key") or {}
            size = item_size(key)
            self.bytes_written += size
            self.write_units += max(1, math.ceil(size / 1024))
        elif operation == "GetItem":
            item = result.get("Item")
            self.read_units += max(1, math.ceil(item_size(item) / 4096)) if item else 1
        elif operation == "Query":
            size = sum(item_size(i) for i in result.get("Items", []))
            self.read_units += max(1, math.ceil(size / 4096))

    def reset(self) -> None:
        self.__init__()


def _key(item: dict) -> tuple[str, str]:
    return (str(item.get("pk")), str(item.get("sk")))


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item: each attribute's name plus its value (strings and binary their
    bytes, numbers about a byte per two digits plus one)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    (kind, data), *_ = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "B":
        return len(data) if isinstance(data, bytes | bytearray) else len(base64.b64decode(data))
    if kind == "N":
        return (len(data.lstrip("-").replace(".", "")) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: v}) for v in data)
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in data.items())
    return 0


class CountingEffects:
    """tick.execution.Effects: counts the messages the task would send (alert events)."""

    def __init__(self) -> None:
        self.messages = 0

    def send(self, org_id: str, task_id: str, outbox: list[dict[str, Any]]) -> None:
        self.messages += len(outbox)


def task_doc(script: str) -> dict[str, Any]:
    return {
        "id": TASK_ID,
        "type": "stream",
        "dbrps": [{"db": "telegraf", "rp": "autogen"}],
        "script": script,
        "vars": {},
        "status": "enabled",
    }


def invocations(args: argparse.Namespace) -> tuple[list[list[Any]], int, float]:
    """The benchmark's points as Lambda invocations of decoded Kinesis records; their count of points;
    the CPU seconds decoding them took (what `consume_tasks` pays before the tasks run)."""
    from chalicelib import lineprotocol
    from chalicelib.ingest import records
    from chalicelib.ingest.records import Destination
    from chalicelib.kit import collector
    from chalicelib.tick.execution import Record

    points = lineprotocol.parse(build_lines(args.points, args.hosts))
    destination = Destination(ORG, "telegraf", "autogen", org=ORG)
    encoded = [
        data
        for start in range(0, len(points), args.record_points)
        for _, data in records.encode(destination, points[start : start + args.record_points])
    ]
    cpu0 = time.process_time()
    with collector.paused():
        decoded = [
            Record("shardId-000000000000", str(10**20 + i), records.decode(data))
            for i, data in enumerate(encoded)
        ]
    decode_cpu = time.process_time() - cpu0
    batches = [decoded[i : i + args.batch] for i in range(0, len(decoded), args.batch)]
    return batches, len(points), decode_cpu


def run_runtime_alone(pipeline: Any, batches: list[list[Any]], *, round_trip: bool) -> tuple[float, float]:
    """CPU and wall seconds of the runtime fed every invocation's points: one runtime kept in memory, or
    (`round_trip`) rebuilt from its JSON state and saved again per invocation as StreamTasks does."""
    import json

    from chalicelib.kit import collector
    from chalicelib.tick.exec.alert_machine import AlertStateMachine
    from chalicelib.tick.exec.base import RuntimeConfig
    from chalicelib.tick.exec.runtime import TaskRuntime
    from chalicelib.tick.execution import _points

    config = RuntimeConfig(task=TASK_ID, alerts=AlertStateMachine)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    runtime = TaskRuntime.build(pipeline, None, config)
    state = None
    for batch in batches:
        with collector.paused():  # as consume_tasks runs the tasks
            if round_trip:
                runtime = TaskRuntime.build(pipeline, state, config)
            runtime.feed_points(_points(batch))
            if round_trip:
                state = json.loads(json.dumps(runtime.to_state()))
    return time.process_time() - cpu0, time.perf_counter() - wall0


def profile_runtime(pipeline: Any, batches: list[list[Any]], top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    run_runtime_alone(pipeline, batches, round_trip=False)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def profile_consume(tasks: Any, batches: list[list[Any]], top: int) -> str:
    """cProfile of `StreamTasks.consume` over every invocation: what the task Lambda bills."""
    from chalicelib.kit import collector

    profiler = cProfile.Profile()
    profiler.enable()
    for batch in batches:
        with collector.paused():
            tasks.consume(batch)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--hosts", type=int, default=1000, help="hosts writing a point every 10 s")
    parser.add_argument("--record-points", type=int, default=1000, help="points per write (Kinesis record)")
    parser.add_argument(
        "--batch",
        type=int,
        default=kinesis_consumer("consume_tasks").batch_size,
        help="records per task Lambda invocation (default: the consumer's deployed batch size)",
    )
    parser.add_argument("--group-by", action="store_true", help="group by host (a window per host)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the runtime alone and StreamTasks.consume, top costs"
    )
    args = parser.parse_args()

    process, url = start_moto()
    try:
        configure_environment(url)
        from chalicelib.declarations import RESOURCES, TASK_STATE

        provision(url, tables=(RESOURCES, TASK_STATE), streams=(), queues=(), state_machines=(), buckets=())
        from chalicelib.adapters.definitions import DynamoDefinitions
        from chalicelib.adapters.taskstate import DynamoTaskStates
        from chalicelib.kit import collector
        from chalicelib.tick.execution import StreamTasks
        from chalicelib.tick.outbox import outbox_of
        from chalicelib.tick.tasks import TASKS, compile_task

        group_by = "        .groupBy('host')\n" if args.group_by else ""
        task = task_doc(SCRIPT.format(group_by=group_by))
        pipeline = compile_task(task).pipeline
        batches, n_points, decode_cpu = invocations(args)

        alone_cpu, _ = run_runtime_alone(pipeline, batches, round_trip=False)
        trip_cpu, _ = run_runtime_alone(pipeline, batches, round_trip=True)

        definitions = DynamoDefinitions()
        definitions.create(TASKS, ORG, task)
        states = DynamoTaskStates()
        effects = CountingEffects()
        tasks = StreamTasks(definitions, states, effects, outbox_of)
        counter = DynamoCounter()
        counter.install()
        tasks.consume(batches[0])  # warm the clients (botocore's models), as a warm Lambda is
        states.delete(ORG, TASK_ID)
        counter.reset()
        effects.messages = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for batch in batches:
            with collector.paused():  # as consume_tasks runs it
                tasks.consume(batch)
        dynamo_cpu, dynamo_wall = time.process_time() - cpu0, time.perf_counter() - wall0
        stored = states.load(ORG, TASK_ID)
        state_bytes = counter.bytes_written / max(1, counter.calls["TransactWriteItems"])

        rate = n_points / dynamo_cpu
        per_k = 1000 / n_points
        print(
            f"task: {'groupBy(host), ' if args.group_by else ''}{n_points:,} points, {args.hosts:,} hosts, "
            f"records of {args.record_points:,} points, "
            f"{len(batches)} invocations of {args.batch} records"
        )
        print()
        print("| run | point-evaluations per core-second | CPU s per million points |")
        print("|---|---|---|")
        for name, cpu in (
            ("runtime alone, one runtime in memory", alone_cpu),
            ("runtime alone, JSON state round trip per invocation", trip_cpu),
            ("StreamTasks.consume, state on DynamoDB (moto)", dynamo_cpu),
            ("(decoding the records, consume_tasks: not in the above)", decode_cpu),
        ):
            print(f"| {name} | {n_points / cpu:,.0f} | {cpu * 1e6 / n_points:.2f} |")
        print()
        print(f"wall with moto: {n_points / dynamo_wall:,.0f} points/s ({dynamo_wall:.2f} s)")
        triggered = (
            sum(
                node.get("stats", {}).get("alerts_triggered", 0)
                for node in (stored.state.get("stats") or {}).values()
            )
            if stored is not None
            else 0
        )
        calls = ", ".join(f"{n / len(batches):g} {op}" for op, n in sorted(counter.calls.items()))
        print(
            f"DynamoDB per invocation: {calls}; {counter.transact_items / len(batches):g} items per "
            f"transaction, {state_bytes:,.0f} bytes of state item per save; alerts triggered: {triggered} "
            f"(no handler: counted by the node, {effects.messages} messages sent)"
        )
        print(
            f"DynamoDB per 1000 points: {counter.write_units * per_k:.2f} write units "
            f"({counter.transact_write_units * per_k:.2f} as a transaction bills them), "
            f"{counter.read_units * per_k:.2f} read units, {counter.bytes_written * per_k:,.0f} bytes written"
        )
        if stored is not None:
            import json
            import zlib

            raw = json.dumps(stored.state, separators=(",", ":")).encode()
            print(f"saved state: {len(raw):,} bytes of JSON, {len(zlib.compress(raw, 6)):,} compressed")
        verdict = "met" if rate >= TARGET else "NOT met"
        print(f"target {TARGET:,} point-evaluations per core-second, persisted state: {rate:,.0f}, {verdict}")
        if args.profile:
            print()
            print(profile_runtime(pipeline, batches, 25))
            states.delete(ORG, TASK_ID)
            print(profile_consume(tasks, batches, 25))
    finally:
        process.kill()


if __name__ == "__main__":
    main()
