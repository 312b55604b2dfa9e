"""The `proxy-writes` stream's consumer: what the proxy's /write accepted goes to its backends in every
circle, or to their backlogs (chalicelib/proxy/fanout.py). A batch that fails as a whole is retried by
Lambda; what went out already is written again, which influxd takes as the same points."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import compose
from chalicelib.events.observability import observed
from chalicelib.proxy import records

logger = Logger()


@observed("consume_proxy_writes")
def consume_proxy_writes(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = event.get("Records", [])
    batches = []
    for item in raw:
        try:
            batches.append(records.decode(base64.b64decode(item["kinesis"]["data"])))
        except ValueError as exc:
            logger.warning("skipping a record that is no proxy write", extra={"reason": str(exc)})
    if not batches:
        return {"batchItemFailures": []}
    fanout = compose.proxy_fanout()
    if fanout is None:  # configured away since these were accepted: keep them on the stream
        logger.error("proxy writes arrived but the proxy is not configured", extra={"records": len(raw)})
        return {"batchItemFailures": [{"itemIdentifier": raw[0]["kinesis"]["sequenceNumber"]}]}
    try:
        fanout.deliver(batches)
    except Exception:
        logger.exception("proxy writes failed; the batch is retried", extra={"records": len(raw)})
        return {"batchItemFailures": [{"itemIdentifier": raw[0]["kinesis"]["sequenceNumber"]}]}
    return {"batchItemFailures": []}
