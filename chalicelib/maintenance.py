"""Scheduled upkeep of the series store."""

from __future__ import annotations

import time

from aws_lambda_powertools import Logger

from chalicelib import services

logger = Logger(child=True)


def enforce_retention(now: int | None = None) -> int:
    """Remove the time blocks every retention policy has expired. Returns segments removed."""
    now = time.time_ns() if now is None else now
    catalog = services.catalog()
    removed = 0
    for database in catalog.databases():
        for rp in catalog.retention_policies(database):
            cutoff = rp.cutoff(now)
            if cutoff is not None:
                removed += services.store().expire(rp.namespace, cutoff)
    logger.info("retention enforced", extra={"segments_removed": removed})
    return removed
