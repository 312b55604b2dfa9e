"""Sending what a task's feed produced: alert events and httpPost's requests onto the alert queue
(chalicelib/events/alert_delivery.py takes events to their topics and handlers, and sends requests),
influxDBOut's points through the write path into the task's organization's databases, as any write
goes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from chalicelib.ingest.writer import PointWriter
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.time import NS_PER_UNIT, V1_PRECISIONS
from chalicelib.lineprotocol.serializer import format_point
from chalicelib.tenancy.dbrp import Catalog
from chalicelib.tenancy.permissions import Permission
from chalicelib.tenancy.principal import Principal
from chalicelib.tick.outbox import EVENT, POINTS, REQUEST


class AlertQueue(Protocol):
    def send(self, messages: list[dict[str, Any]]) -> None: ...


class TaskEffects:
    def __init__(
        self,
        queue: AlertQueue,
        writer: PointWriter,
        catalog: Catalog,
        log: Callable[[str, str, dict[str, Any]], None] = lambda level, message, extra: None,
    ) -> None:
        self.queue = queue
        self.writer = writer
        self.catalog = catalog
        self.log = log

    def send(self, org_id: str, task_id: str, outbox: list[dict[str, Any]]) -> None:
        events = [{**m, "org": org_id, "task": task_id} for m in outbox if m["type"] in (EVENT, REQUEST)]
        if events:
            self.queue.send(events)
        for message in outbox:
            if message["type"] == POINTS:
                self._write(org_id, task_id, message["points"])

    def _write(self, org_id: str, task_id: str, points: list[dict[str, Any]]) -> None:
        """influxDBOut's points, per database and retention policy; one the org lacks is logged and its
        points dropped, as Kapacitor logs a failed write."""
        principal = Principal([Permission("write", "buckets", org_id=org_id)], org_id=org_id)
        by_target: dict[tuple[str, str, str], list[str]] = {}
        for p in points:
            precision = V1_PRECISIONS.get(p.get("precision") or "ns", "ns")  # `.precision('s')`
            line = format_point(
                p["measurement"], sorted(p["tags"].items()), p["fields"], p["time"] // NS_PER_UNIT[precision]
            )
            by_target.setdefault((p["database"], p["retention_policy"], precision), []).append(line)
        for (database, rp, precision), lines in by_target.items():
            try:
                policy = self.catalog.resolve(principal, database, rp or None)
                self.writer.write(
                    policy.destination, "\n".join(lines).encode(), precision, retention=policy.duration
                )
            except TicklessError as exc:
                self.log(
                    "error",
                    "failed to write points",
                    {"task": task_id, "database": database, "retention_policy": rp, "error": exc.message},
                )
