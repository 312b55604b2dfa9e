"""The `notifications` stream's consumer: OpenStack notifications (one per record, or a JSON list of
them) into StackTach's events and streams (chalicelib/stacktach/service.py). Ingest is idempotent: a
redelivered record's events are duplicates, which change nothing. A record that is not JSON, or a
notification StackDistiller refuses, is logged and skipped; a batch that fails as a whole is retried."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import compose
from chalicelib.events.observability import observed

logger = Logger()


@observed("consume_notifications")
def consume_notifications(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = event.get("Records", [])
    notifications: list[Any] = []
    for item in raw:
        try:
            decoded = json.loads(base64.b64decode(item["kinesis"]["data"]))
        except ValueError as exc:
            logger.warning("skipping a record that is not JSON", extra={"reason": str(exc)})
            continue
        notifications += decoded if isinstance(decoded, list) else [decoded]
    if not notifications:
        return {"batchItemFailures": []}
    try:
        result = compose.stacktach().ingest(notifications)
    except Exception:
        logger.exception("notifications failed; the batch is retried", extra={"records": len(raw)})
        return {"batchItemFailures": [{"itemIdentifier": raw[0]["kinesis"]["sequenceNumber"]}]}
    for reason in result.refused:
        logger.warning("notification refused", extra={"reason": reason})
    return {"batchItemFailures": []}
