"""CloudWatch metrics in the embedded metric format (EMF), built with Powertools.

Metrics are gathered per scope (one HTTP request, one handler invocation) and written when it ends, one
EMF document per dimension set. Powertools' `Metrics` keeps one metric set per process, which the local
stack's threads (requests and shards at once) would mix up; each scope has its own `EphemeralMetrics`
per dimension set instead. A metric recorded outside any scope is written at once.

Where documents go is configuration, read when they are written:

* `POWERTOOLS_METRICS_DISABLED=true` (or `POWERTOOLS_DEV=true`): nowhere.
* `TICKLESS_METRICS_OUTPUT=stdout` (the default): one JSON line each on stdout, which Lambda hands to
  CloudWatch Logs, which turns them into metrics. No Lambda context is needed.
* `TICKLESS_METRICS_OUTPUT=log`: each document is logged at debug level (key `emf`); the local stack's
  stage sets this, so metrics show with `LOG_LEVEL=DEBUG` and stay out of the way otherwise.

The namespace is `POWERTOOLS_METRICS_NAMESPACE` (default `tickless`); every document has the `service`
dimension (`POWERTOOLS_SERVICE_NAME`, default `tickless`).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from chalicelib.observability.logs import logger

OUTPUT_ENV = "TICKLESS_METRICS_OUTPUT"
NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"
SERVICE_ENV = "POWERTOOLS_SERVICE_NAME"
DEFAULT_NAMESPACE = "tickless"
DEFAULT_SERVICE = "tickless"

__all__ = ["MetricUnit", "Metrics", "emit", "metric", "scope"]

Dimensions = tuple[tuple[str, str], ...]


class Metrics:
    """The metrics of one scope, by dimension set."""

    def __init__(self, **properties: str) -> None:
        # Properties (a request id) go into every document, so a metric leads back to its log line.
        self._properties = properties
        self._groups: dict[Dimensions, EphemeralMetrics] = {}
        self._lock = threading.Lock()  # a handler may record from worker threads sharing its context

    def add(self, name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
        key = tuple(sorted(dimensions.items()))
        with self._lock:
            group = self._groups.get(key)
            if group is None:
                group = EphemeralMetrics(
                    namespace=os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE,
                    service=os.environ.get(SERVICE_ENV) or DEFAULT_SERVICE,
                )
                for dimension, label in dimensions.items():  # (add_dimensions would add another set)
                    group.add_dimension(name=dimension, value=label)
                for prop, text in self._properties.items():
                    group.add_metadata(key=prop, value=text)
                self._groups[key] = group
            group.add_metric(name=name, unit=unit, value=value)

    def documents(self) -> list[dict[str, Any]]:
        with self._lock:
            groups = [group for group in self._groups.values() if group.metric_set]
            return [dict(group.serialize_metric_set()) for group in groups]

    def flush(self) -> None:
        """Write the scope's documents and forget them. Never raises: a metric must not fail a request."""
        try:
            documents = self.documents()
            with self._lock:
                self._groups.clear()
            for document in documents:
                emit(document)
        except Exception:
            logger.warning("metrics not written", exc_info=True)


def emit(document: dict[str, Any]) -> None:
    """Write one EMF document where the environment says."""
    if is_metrics_disabled():
        return
    if (os.environ.get(OUTPUT_ENV) or "stdout").strip().lower() == "log":
        logger.debug("metrics", extra={"emf": document})
        return
    # one write per line, so lines from concurrent scopes never interleave
    sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")
    sys.stdout.flush()


_current: ContextVar[Metrics | None] = ContextVar("tickless_metrics", default=None)


@contextmanager
def scope(**properties: str) -> Iterator[Metrics]:
    """A request's or an invocation's metrics: what is recorded in the block is written at its end,
    each document carrying `properties`."""
    metrics = Metrics(**{name: value for name, value in properties.items() if value})
    token = _current.set(metrics)
    try:
        yield metrics
    finally:
        _current.reset(token)
        metrics.flush()


def metric(name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
    """Record a metric in the current scope, or write it at once when there is none (a worker thread).
    Never raises: a metric must not fail what it measures."""
    try:
        current = _current.get()
        if current is not None:
            current.add(name, unit, value, **dimensions)
            return
        single = Metrics()
        single.add(name, unit, value, **dimensions)
        single.flush()
    except Exception:
        logger.warning("metric not recorded", extra={"metric": name}, exc_info=True)
