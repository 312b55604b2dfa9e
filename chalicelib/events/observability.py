"""Every event handler invocation, observed: `@observed("<handler>")` on an entry point of `events/` logs one
line when it ends and writes its metrics (docs/OBSERVABILITY.md), without changing what it does.

The line: `handler`, `request_id` (Lambda's), `duration_ms`, `outcome` (`ok`, `partial`, `failed`), and
for a Kinesis batch `records`, `failed_records` (its `batchItemFailures`), `dead_letters` and `lag_ms`: the
age of the batch's oldest record (now minus its `approximateArrivalTimestamp`), how far the consumer is
behind its stream. A handler that raises is logged at error level with its traceback, and re-raised.

Metrics, dimension `handler`: `Invocations`, `Duration`, `HandlerErrors`, and for a batch `Records`,
`RecordsFailed`, `ConsumerLag`; dimension `source` (`points`): `DeadLetters`, from `dead_letter`, which a
handler calls when it keeps a record it can never process."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from chalicelib.observability import MetricUnit, logger, metric, scope

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class _Invocation:
    dead_letters: int = 0


_invocation: ContextVar[_Invocation | None] = ContextVar("tickless_invocation", default=None)


def dead_letter(source: str) -> None:
    """A record of `source` was dead-lettered: counted in the invocation's line and metrics."""
    invocation = _invocation.get()
    if invocation is not None:
        invocation.dead_letters += 1
    metric("DeadLetters", MetricUnit.Count, 1, source=source)


def observed(handler: str) -> Callable[[F], F]:
    """Decorator for an event handler's entry point; `handler` names it in lines and metrics."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return _invoke(handler, function, args, kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _invoke(handler: str, function: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> Any:
    started = time.perf_counter()
    records = _kinesis_records(args, kwargs)
    fields: dict[str, Any] = {"handler": handler}
    context = _lambda_context(args, kwargs)
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        logger.thread_safe_append_keys(request_id=request_id)
    invocation = _Invocation()
    token = _invocation.set(invocation)
    try:
        with scope(request_id=request_id or ""):
            metric("Invocations", MetricUnit.Count, 1, handler=handler)
            if records is not None:
                fields["records"] = len(records)
                metric("Records", MetricUnit.Count, len(records), handler=handler)
                lag_ms = consumer_lag_ms(records)
                if lag_ms is not None:
                    fields["lag_ms"] = round(lag_ms, 1)
                    metric("ConsumerLag", MetricUnit.Milliseconds, lag_ms, handler=handler)
            try:
                result = function(*args, **kwargs)
            except Exception as exc:
                fields.update(_ended(handler, started, invocation, records), outcome="failed")
                metric("HandlerErrors", MetricUnit.Count, 1, handler=handler)
                logger.error(f"{handler} failed", extra=fields, exc_info=exc)
                raise
            fields.update(_ended(handler, started, invocation, records))
            failed = _failed_records(result)
            if records is not None:
                fields["failed_records"] = failed
                metric("RecordsFailed", MetricUnit.Count, failed, handler=handler)
            if isinstance(result, int | float) and not isinstance(result, bool):
                fields["result"] = result
            fields["outcome"] = "partial" if failed else "ok"
            (logger.warning if failed else logger.info)(f"{handler} done", extra=fields)
            return result
    finally:
        _invocation.reset(token)
        if request_id:
            logger.thread_safe_remove_keys(["request_id"])


def _ended(handler: str, started: float, invocation: _Invocation, records: Sequence | None) -> dict[str, Any]:
    duration_ms = (time.perf_counter() - started) * 1000
    metric("Duration", MetricUnit.Milliseconds, duration_ms, handler=handler)
    ended: dict[str, Any] = {"duration_ms": round(duration_ms, 3)}
    if records is not None:
        ended["dead_letters"] = invocation.dead_letters
    return ended


def consumer_lag_ms(records: Sequence[Mapping[str, Any]], now: float | None = None) -> float | None:
    """How old the batch's oldest record is, in ms: now minus its `approximateArrivalTimestamp` (epoch
    seconds, as Lambda hands Kinesis records over). None when no record says."""
    stamps = (
        r["kinesis"].get("approximateArrivalTimestamp") for r in records if isinstance(r["kinesis"], Mapping)
    )
    arrivals = [float(stamp) for stamp in stamps if stamp is not None]
    if not arrivals:
        return None
    now = time.time() if now is None else now
    return max(0.0, (now - min(arrivals)) * 1000)


def _kinesis_records(args: tuple, kwargs: dict[str, Any]) -> list[Mapping[str, Any]] | None:
    """The Kinesis records of an event handed to the handler, None for other events (schedules)."""
    event = kwargs.get("event", args[0] if args else None)
    if not isinstance(event, Mapping):
        return None
    records = event.get("Records")
    if not isinstance(records, list):
        return None
    kinesis = [r for r in records if isinstance(r, Mapping) and "kinesis" in r]
    return kinesis if kinesis or not records else None  # an empty batch is still a batch


def _lambda_context(args: tuple, kwargs: dict[str, Any]) -> Any:
    for value in (*args, *kwargs.values()):
        if hasattr(value, "aws_request_id"):
            return value
    return None


def _failed_records(result: Any) -> int:
    if isinstance(result, Mapping):
        failures = result.get("batchItemFailures")
        if isinstance(failures, list):
            return len(failures)
    return 0
