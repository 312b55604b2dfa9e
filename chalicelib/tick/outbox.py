"""What a task's feed leaves to send, as plain messages: each alert event with the topics it goes to and
the handlers the script gave its node, httpPost's requests, and the points influxDBOut writes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chalicelib.tick.exec.outputs import Outputs
from chalicelib.tick.handlers import handler_configs
from chalicelib.tick.pipeline import Pipeline

EVENT, POINTS, REQUEST = "event", "points", "request"
WRITE = "write"  # influxDBOut's points for another InfluxDB (made by effects, sent by the alert worker)


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
    return messages
