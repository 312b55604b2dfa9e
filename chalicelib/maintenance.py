"""Scheduled upkeep of the series store."""

from __future__ import annotations

import time

from aws_lambda_powertools import Logger

from chalicelib import services

logger = Logger(child=True)


def enforce_retention(now: int | None = None) -> int:
    """Remove the time blocks every bucket's retention has expired. Returns segments removed."""
    now = time.time_ns() if now is None else now
    removed = 0
    for namespace, duration in services.catalog().expiring():
        removed += services.store().expire(namespace, now - duration)
    logger.info("retention enforced", extra={"segments_removed": removed})
    return removed
