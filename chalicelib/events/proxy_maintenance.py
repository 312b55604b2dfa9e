"""The proxy's backend health checks and backlog rewrites, on a one-minute schedule that keeps their
configured seconds: one invocation pings every backend each `check_interval` seconds and rewrites
backlogs each `rewrite_interval` seconds for most of the minute (`TICKLESS_PROXY_WINDOW_SECONDS`, 55 by
default; 0 makes one pass), then the next invocation takes over. Two overlapping invocations do the same
work twice, which is harmless: pings only record health, and a backlog entry written twice stores the
same points."""

from __future__ import annotations

import os
import time
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import compose
from chalicelib.events.observability import observed

logger = Logger()
WINDOW_ENV = "TICKLESS_PROXY_WINDOW_SECONDS"
DEFAULT_WINDOW_SECONDS = 55.0
MARGIN_MS = 5_000  # left to the invocation when it stops


@observed("maintain_proxy")
def maintain_proxy(
    context: Any = None, clock: Any = time.monotonic, sleep: Any = time.sleep
) -> dict[str, int]:
    fanout = compose.proxy_fanout()
    if fanout is None:
        return {"checks": 0, "rewritten": 0}
    config = fanout.config
    window = float(os.environ.get(WINDOW_ENV) or DEFAULT_WINDOW_SECONDS)
    start = clock()
    check_every, rewrite_every = max(1, config.check_interval), max(1, config.rewrite_interval)

    def has_time() -> bool:
        return context is None or context.get_remaining_time_in_millis() > MARGIN_MS

    checks = rewritten = 0
    next_check = next_rewrite = start
    while True:
        now = clock()
        if now >= next_check:
            fanout.check()
            checks += 1
            next_check = now + check_every
        if now >= next_rewrite:
            rewritten += fanout.rewrite(has_time)
            next_rewrite = now + rewrite_every
        wake = min(next_check, next_rewrite)
        if wake - start >= window or not has_time():
            return {"checks": checks, "rewritten": rewritten}
        sleep(max(0.0, wake - clock()))
