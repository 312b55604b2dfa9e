"""The `alerts` queue's worker: alert events fanned out to their handlers, and each handler's request
sent (chalicelib/alert/dispatch.py). One message per invocation: a message that fails is delayed with a
growing backoff and retried by SQS, and kept in `alerts-dlq` after its last attempt."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import compose
from chalicelib.events.observability import observed

logger = Logger()


@observed("deliver_alerts")
def deliver_alerts(event: dict[str, Any], context: Any) -> None:
    for record in event.get("Records", []):
        try:
            message = json.loads(record["body"])
        except ValueError:
            logger.error("dropping an alert message that is not JSON", extra={"id": record.get("messageId")})
            continue
        try:
            compose.dispatcher().handle(message)
        except Exception:
            attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
            logger.exception("alert delivery failed; retried later", extra={"attempt": attempt})
            compose.alert_queue().back_off(record["receiptHandle"], attempt)
            raise
