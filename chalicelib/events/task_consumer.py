"""Kapacitor's stream tasks, on their own consumer of the `points` stream (chalicelib/tick/execution.py).
A batch that fails (a task's state kept changing, a table unreachable) reports its first record as
failed, so Lambda retries from there; the tasks skip what they already consumed (their saved sequence
numbers), so a retry never counts a point twice. Records the points consumer dead-letters are skipped
here with a log line."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import compose
from chalicelib.events.observability import observed
from chalicelib.ingest import records
from chalicelib.kit import collector
from chalicelib.tick.execution import Record

logger = Logger()


@observed("consume_tasks")
def consume_tasks(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = event.get("Records", [])
    decoded: list[Record] = []
    with collector.paused():
        for item in raw:
            record = _decode(item)
            if record is not None:
                decoded.append(record)
        if not decoded:
            return {"batchItemFailures": []}
        try:
            compose.stream_tasks().consume(decoded)
            compose.capture_recordings(decoded)  # the stream recordings under way
        except Exception:
            logger.exception("stream tasks failed; the batch is retried", extra={"records": len(raw)})
            return {"batchItemFailures": [{"itemIdentifier": raw[0]["kinesis"]["sequenceNumber"]}]}
    return {"batchItemFailures": []}


def _decode(item: dict[str, Any]) -> Record | None:
    kinesis = item["kinesis"]
    shard = item.get("eventID", "").split(":", 1)[0]
    try:
        data = compose.claim_checks().resolve(base64.b64decode(kinesis["data"]))
        return Record(shard, kinesis["sequenceNumber"], records.decode(data))
    except ValueError as exc:
        logger.warning("skipping a points record no task can read", extra={"reason": str(exc)})
        return None
