"""Logs and metrics every entry point shares: the service's Powertools Logger, configured from the
environment (`logs.py`), and CloudWatch embedded-metric-format metrics gathered per request or invocation
(`metrics.py`). HTTP requests are observed by `api/observability.py`, event handlers by
`events/observability.py`; what the keys, metrics and options are: docs/OBSERVABILITY.md."""

from __future__ import annotations

from chalicelib.observability.logs import cause_chain, logger, redacting
from chalicelib.observability.metrics import Metrics, MetricUnit, metric, scope

__all__ = ["MetricUnit", "Metrics", "cause_chain", "logger", "metric", "redacting", "scope"]
