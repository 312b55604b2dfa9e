"""Scheduled upkeep of the series store."""

from __future__ import annotations

import os
import time
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import compose
from chalicelib.events.observability import observed

logger = Logger(child=True)


@observed("enforce_retention")
def enforce_retention(now: int | None = None) -> int:
    """Remove the time blocks every bucket's retention has expired. Returns segments removed."""
    now = time.time_ns() if now is None else now
    removed = compose.store().enforce_retention(compose.catalog().expiring(), now)
    logger.info("retention enforced", extra={"segments_removed": removed})
    return removed


# A block written to within this long is left alone: it is likely to be written again soon.
COMPACTION_QUIET_SECONDS = float(os.environ.get("TICKLESS_COMPACTION_QUIET_SECONDS", "300"))
_MARGIN_MS = 60_000  # stop taking new blocks this long before the Lambda's time is up


@observed("compact_segments")
def compact_segments(context: Any = None, quiet_seconds: float = COMPACTION_QUIET_SECONDS) -> int:
    """Merge the segments of every block that stopped receiving writes. Returns segments merged."""

    def keep_going() -> bool:
        return context is None or context.get_remaining_time_in_millis() > _MARGIN_MS

    merged = compose.store().compact_dirty(quiet_seconds, keep_going)
    logger.info("segments compacted", extra={"segments_merged": merged})
    return merged
