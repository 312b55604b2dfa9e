"""The `notifications` stream's consumer: OpenStack notifications (one per record, or a JSON list of
them) into StackTach's events and streams (chalicelib/stacktach/service.py). Ingest is idempotent: a
redelivered record's events are duplicates, which change nothing. A record that is not JSON, or one
holding a notification StackDistiller refuses, goes to the dead-letter table with the reason (its other
notifications are stored: ingesting the dead letter again later stores only what was refused); a batch
that fails as a whole is retried."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import compose
from chalicelib.events.observability import dead_letter, observed

logger = Logger()
SOURCE = "notifications"


@observed("consume_notifications")
def consume_notifications(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = event.get("Records", [])
    service = compose.stacktach()
    try:
        for item in raw:
            data = base64.b64decode(item["kinesis"]["data"])
            try:
                decoded = json.loads(data)
            except ValueError as exc:
                _dead_letter(item, data, f"not JSON: {exc}")
                continue
            result = service.ingest(decoded if isinstance(decoded, list) else [decoded])
            if result.refused:
                _dead_letter(item, data, "; ".join(result.refused))
    except Exception:
        logger.exception("notifications failed; the batch is retried", extra={"records": len(raw)})
        return {"batchItemFailures": [{"itemIdentifier": raw[0]["kinesis"]["sequenceNumber"]}]}
    return {"batchItemFailures": []}


def _dead_letter(item: dict[str, Any], data: bytes, reason: str) -> None:
    logger.warning("dead-lettering a notifications record", extra={"reason": reason})
    compose.dead_letters().put(SOURCE, item.get("eventID") or item["kinesis"]["sequenceNumber"], reason, data)
    dead_letter(SOURCE)
