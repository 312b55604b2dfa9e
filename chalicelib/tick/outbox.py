"""What a task's feed leaves to send, as plain messages: each alert event with the topics it goes to and
the handlers the script gave its node, httpPost's requests, the points influxDBOut writes, and its log
lines as Kapacitor's log records (chalicelib/kit/logrecords.py), at most `MAX_LOG_LINES` a run: the
outbox is saved with the task's state, which a chatty `|log()` must not outgrow."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chalicelib.kit.logrecords import record
from chalicelib.tick.exec.outputs import LogLine, Outputs
from chalicelib.tick.handlers import handler_configs
from chalicelib.tick.pipeline import Pipeline

EVENT, POINTS, REQUEST = "event", "points", "request"
WRITE = "write"  # influxDBOut's points for another InfluxDB (made by effects, sent by the alert worker)
LOG = "log"  # log lines (made here, kept by effects' log sink)
MAX_LOG_LINES = 100
_GROUPS = ("tag", "field")  # a log node's `tag_<k>` and `field_<k>` values, grouped as Kapacitor's


def outbox_of(pipeline: Pipeline, outputs: Outputs) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if outputs.alerts:
        configs = handler_configs(pipeline)
        for alert in outputs.alerts:
            if not alert.topics:
                continue  # counted by the node, sent nowhere (no handler, no topic)
            handlers = [{"kind": c.kind, "options": c.options} for c in configs.get(alert.node, [])]
            messages.append(
                {
                    "type": EVENT,
                    "node": alert.node,
                    "topics": list(alert.topics),
                    "event": alert.event.to_state(),
                    "handlers": handlers,
                }
            )
    for post in outputs.posts:
        messages.append(
            {
                "type": REQUEST,
                "node": post.node,
                "url": post.url,
                "endpoint": post.endpoint,
                "headers": post.headers,
                "body": post.body,
                "timeout": post.timeout,
            }
        )
    if outputs.points:
        messages.append({"type": POINTS, "points": [asdict(p) for p in outputs.points]})
    if outputs.logs:
        messages.append(_log_message(pipeline, outputs.logs))
    return messages


def _log_message(pipeline: Pipeline | None, lines: list[LogLine]) -> dict[str, Any]:
    """The first `MAX_LOG_LINES` lines as records with their node (none for the task's own lines), and
    how many more there were."""
    types = {node.name: node.type for node in pipeline.nodes} if pipeline is not None else {}
    records = []
    for line in lines[:MAX_LOG_LINES]:
        node_type = types.get(line.node)
        context = [("node", line.node)] if node_type is not None or pipeline is None else []
        values = _grouped(line.values) if node_type == "log" else list(line.values.items())
        records.append(record(line.level, line.message, context + values))
    return {"type": LOG, "records": records, "dropped": max(0, len(lines) - MAX_LOG_LINES)}


def _grouped(values: dict[str, Any]) -> list[tuple[str, Any]]:
    """A log node's values with its `tag_<k>` and `field_<k>` keys as the `tag` and `field` groups
    Kapacitor's JSON nests (logfmt spreads them back), each where its first member was."""
    out: list[tuple[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        group, _, member = key.partition("_")
        if group in _GROUPS and member:
            if group not in groups:
                groups[group] = {}
                out.append((group, groups[group]))
            groups[group][member] = value
        else:
            out.append((key, value))
    return out
