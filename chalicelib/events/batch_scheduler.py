"""Kapacitor's batch tasks on an EventBridge schedule of one minute (its finest rate): each invocation
runs every running batch task's query times due up to now (chalicelib/tick/batch.py). A query node that
ticks more often than once a minute keeps its period: all of the minute's times run, each with its own
time range, so results are Kapacitor's, delivered up to a minute late."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import compose
from chalicelib.events.observability import observed

logger = Logger(child=True)


_MARGIN_MS = 20_000  # left to the invocation when it stops starting tasks


@observed("run_batch_tasks")
def run_batch_tasks(now: int | None = None, context: Any = None) -> int:
    """Every running batch task's due times up to `now` (ns; the clock when None), as long as the
    invocation has time left. Returns how many tasks ran at least one query."""
    now = time.time_ns() if now is None else now

    def keep_going() -> bool:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        return remaining is None or remaining() > _MARGIN_MS

    ran = compose.batch_tasks().run_due(now, keep_going)
    logger.info("batch tasks ran", extra={"tasks": ran})
    return ran
