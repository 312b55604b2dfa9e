"""Sending what a task's feed produced: alert events and httpPost's requests onto the alert queue
(chalicelib/events/alert_delivery.py takes events to their topics and handlers, and sends requests),
influxDBOut's points through the write path into the task's organization's databases, as any write
goes, or, for a `.cluster()` naming another InfluxDB, onto the alert queue too, whose worker writes them
there with retries (the cluster's URL and credentials are read when it sends: never queued), and log
lines to the organization's log sink, last and all at once (a sink never raises: a log line it could not
keep must not send the events again)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from chalicelib.ingest.writer import PointWriter
from chalicelib.kit.batching import parts_by_size
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.logrecords import KAPACITOR, LogSink, NoLogs, record, with_context
from chalicelib.kit.time import NS_PER_UNIT, V1_PRECISIONS
from chalicelib.lineprotocol.serializer import format_point
from chalicelib.tenancy.dbrp import Catalog
from chalicelib.tenancy.permissions import Permission
from chalicelib.tenancy.principal import Principal
from chalicelib.tick.outbox import EVENT, LOG, MAX_LOG_LINES, POINTS, REQUEST, WRITE

MAX_WRITE_MESSAGE_BYTES = 200_000


class AlertQueue(Protocol):
    def send(self, messages: list[dict[str, Any]]) -> None: ...


class TaskEffects:
    def __init__(
        self,
        queue: AlertQueue,
        writer: PointWriter,
        catalog: Catalog,
        log: Callable[[str, str, dict[str, Any]], None] = lambda level, message, extra: None,
        clusters: Callable[[str], list[dict[str, Any]]] = lambda org_id: [],
        logs: LogSink | None = None,
    ) -> None:
        self.queue = queue
        self.writer = writer
        self.catalog = catalog
        self.log = log
        self.clusters = clusters  # an org's `influxdb` config elements
        self.logs = logs or NoLogs()  # the organization's log entries (GET /kapacitor/v1preview/logs)

    def send(self, org_id: str, task_id: str, outbox: list[dict[str, Any]]) -> None:
        events = [{**m, "org": org_id, "task": task_id} for m in outbox if m["type"] in (EVENT, REQUEST)]
        if events:
            self.queue.send(events)
        for message in outbox:
            if message["type"] == POINTS:
                self._write(org_id, task_id, message["points"])
        self._log_lines(org_id, task_id, [m for m in outbox if m["type"] == LOG])

    def _log_lines(self, org_id: str, task_id: str, messages: list[dict[str, Any]]) -> None:
        """The runs' log lines as Kapacitor's task lines (`service=kapacitor task=<id>`), with one more
        saying how many a run had beyond what it keeps."""
        context = [("service", KAPACITOR), ("task", task_id)]
        records = [with_context(r, context) for m in messages for r in m["records"]]
        dropped = sum(int(m.get("dropped") or 0) for m in messages)
        if dropped:
            keys = [*context, ("dropped", dropped), ("limit", MAX_LOG_LINES)]
            records.append(record("error", "log lines dropped: over the limit of one run", keys))
        if records:
            self.logs.append(org_id, records)

    def _write(self, org_id: str, task_id: str, points: list[dict[str, Any]]) -> None:
        """influxDBOut's points, per database and retention policy; one the org lacks is logged and its
        points dropped, as Kapacitor logs a failed write."""
        principal = Principal([Permission("write", "buckets", org_id=org_id)], org_id=org_id)
        by_target: dict[tuple[str, str, str, str], list[str]] = {}
        for p in points:
            precision = V1_PRECISIONS.get(p.get("precision") or "ns", "ns")  # `.precision('s')`
            line = format_point(
                p["measurement"], sorted(p["tags"].items()), p["fields"], p["time"] // NS_PER_UNIT[precision]
            )
            target = (p.get("cluster") or "", p["database"], p["retention_policy"], precision)
            by_target.setdefault(target, []).append(line)
        remote: list[dict[str, Any]] = []
        clusters: list[dict[str, Any]] | None = None
        for (cluster, database, rp, precision), lines in by_target.items():
            if cluster:
                clusters = self.clusters(org_id) if clusters is None else clusters
                if not _is_own_store(clusters, cluster):
                    target = {"cluster": cluster, "database": database, "retention_policy": rp}
                    remote += [
                        {
                            "type": WRITE,
                            "org": org_id,
                            "task": task_id,
                            **target,
                            "precision": precision,
                            "lines": chunk,
                        }
                        for chunk in _chunks(lines)
                    ]
                    continue
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
        if remote:
            self.queue.send(remote)


def _is_own_store(clusters: list[dict[str, Any]], cluster: str) -> bool:
    """Whether `.cluster(name)` names the built-in `influxdb` element (no URLs: the series store)."""
    found = next((c for c in clusters if c.get("name") == cluster), None)
    return found is not None and not found.get("urls")


def _chunks(lines: list[str], limit: int = MAX_WRITE_MESSAGE_BYTES) -> list[str]:
    """The lines joined into bodies of at most `limit` bytes (one longer line alone): an SQS message
    holds 256 KB."""
    return ["\n".join(part) for part in parts_by_size(lines, lambda line: len(line.encode()) + 1, limit)]
