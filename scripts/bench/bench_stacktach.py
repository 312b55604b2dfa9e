"""StackTach benchmark: notifications per core-second through distill and trigger matching, the way the
`notifications` consumer runs them.

Nova-like notifications (`--instances` instances, each a create.start, create.end, a few updates and an
exists, spread over the last hour so their day streams are open) go through:
1. the distiller and the default triggers alone (distill, match, distinguishing traits): the domain's
   cost per notification;
2. `StackTach.ingest` with the real DynamoDB store on a moto server in another process (so its CPU is not
   counted): dedup, stream lookup or creation, the conditional saves: what the Lambda bills.

Target (the issue): at least 2,000 notifications per core-second through distill and trigger matching.
Reported, not enforced. Run from the repository root:
`.venv/bin/python -m scripts.bench.bench_stacktach [--instances N] [--batch B]`.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from scripts.bench.bench_consumer import start_moto
from scripts.localstack.motoserver import configure_environment
from scripts.localstack.provision import provision

TARGET = 2_000  # notifications per core-second
KINDS = (
    "compute.instance.create.start",
    "compute.instance.create.end",
    "compute.instance.update",
    "compute.instance.update",
    "compute.instance.power_off.start",
    "compute.instance.power_off.end",
    "compute.instance.exists",
)


def notifications(instances: int) -> list[dict[str, Any]]:
    start = datetime.now(UTC) - timedelta(minutes=50)
    out = []
    for i in range(instances):
        instance = str(uuid.uuid4())
        for k, kind in enumerate(KINDS):
            at = start + timedelta(seconds=i % 600 + k)
            payload = {
                "instance_id": instance,
                "tenant_id": f"tenant-{i % 50}",
                "user_id": "u1",
                "instance_type": "m1.small",
                "memory_mb": 2048,
                "disk_gb": 20,
                "state": "active",
                "launched_at": str(start),
                "audit_period_beginning": str(start.replace(hour=0, minute=0, second=0, microsecond=0)),
                "audit_period_ending": str(start),
            }
            out.append(
                {
                    "message_id": str(uuid.uuid4()),
                    "event_type": kind,
                    "publisher_id": "compute.host-1",
                    "timestamp": at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "_context_request_id": f"req-{i}",
                    "payload": payload,
                }
            )
    return out


def domain_only(batch: list[dict[str, Any]]) -> float:
    from chalicelib.stacktach.distiller import Distiller
    from chalicelib.stacktach.triggers import default_triggers

    distiller, triggers = Distiller.default(), default_triggers()
    cpu0 = time.process_time()
    for notification in batch:
        event = distiller.to_event(notification)
        if event is None:
            continue
        for trigger in triggers:
            if trigger.match(event):
                trigger.distinguishing(event)
    return time.process_time() - cpu0


def with_store(batch: list[dict[str, Any]], per_invocation: int) -> tuple[float, float]:
    from chalicelib.adapters.stacktach import DynamoStackTach
    from chalicelib.stacktach.distiller import Distiller
    from chalicelib.stacktach.service import StackTach
    from chalicelib.stacktach.triggers import default_triggers

    service = StackTach(Distiller.default(), default_triggers(), DynamoStackTach())
    service.ingest(batch[:1])  # warm the clients, as a warm Lambda is
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for start in range(1, len(batch), per_invocation):
        service.ingest(batch[start : start + per_invocation])
    return time.process_time() - cpu0, time.perf_counter() - wall0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100, help="notifications per consumer invocation")
    args = parser.parse_args()
    batch = notifications(args.instances)
    n = len(batch)
    alone = domain_only(batch)
    process, url = start_moto()
    try:
        configure_environment(url)
        from chalicelib.declarations import STACKTACH

        provision(url, tables=(STACKTACH,), streams=(), queues=(), state_machines=(), buckets=())
        stored_cpu, stored_wall = with_store(batch, args.batch)
    finally:
        process.kill()
    print(f"{n:,} notifications ({args.instances} instances x {len(KINDS)}), invocations of {args.batch}")
    print()
    print("| run | notifications per core-second | CPU ms per notification |")
    print("|---|---|---|")
    for name, cpu, count in (
        ("distill + trigger matching (domain alone)", alone, n),
        ("StackTach.ingest, events and streams on DynamoDB (moto)", stored_cpu, n - 1),
    ):
        print(f"| {name} | {count / cpu:,.0f} | {cpu * 1000 / count:.3f} |")
    print()
    print(f"wall with moto: {(n - 1) / stored_wall:,.0f} notifications/s")
    verdict = "met" if n / alone >= TARGET else "NOT met"
    rate = n / alone
    print(f"target {TARGET:,} notifications per core-second (distill and matching): {rate:,.0f}, {verdict}")


if __name__ == "__main__":
    main()
