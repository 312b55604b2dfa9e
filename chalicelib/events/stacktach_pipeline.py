"""StackTach's pipeline worker on a one-minute schedule: each invocation fires and expires the streams
due by then (chalicelib/stacktach/pipeline.py), leaving what it has no time for to the next. Two
overlapping invocations cannot both run one stream: each claims a stream by an optimistic write."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import compose
from chalicelib.events.observability import observed

logger = Logger()
MARGIN_MS = 20_000  # left to the invocation when it stops taking streams (a pipeline may publish)


@observed("run_stacktach_pipelines")
def run_stacktach_pipelines(context: Any = None) -> dict[str, Any]:
    def has_time() -> bool:
        return context is None or context.get_remaining_time_in_millis() > MARGIN_MS

    result = compose.stacktach_pipeline_worker().run(has_time)
    for failure in result.failures:
        logger.warning("stream left for the next run", extra={"reason": failure})
    return result.as_dict()
