"""What one query over HTTP may use: a `Budget` from the deployment's limits (`compose.query_limits`)
and the time its Lambda invocation has left, and an answer no larger than Lambda can return: API
Gateway's Lambda integration carries the whole body in one JSON document of at most 6 MiB, so an
answer is built in pieces and refused once it outgrows `query-max-response-bytes`."""

from __future__ import annotations

import json
from collections.abc import Iterable

from chalice.app import Request

from chalicelib import compose
from chalicelib.kit.budget import Budget
from chalicelib.kit.errors import INVALID, TicklessError


def query_budget(request: Request) -> Budget:
    """The budget of the query `request` asks for. Its time ends at `query-timeout`, or a second before
    the invocation's (the local stack's server reports no time left once the client has gone)."""
    lambda_context = getattr(request, "lambda_context", None)
    remaining_ms = getattr(lambda_context, "get_remaining_time_in_millis", None)
    remaining = (lambda: remaining_ms() / 1000) if callable(remaining_ms) else None
    return Budget(compose.query_limits(), remaining)


class ResponseTooLarge(TicklessError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            INVALID,
            f"query-max-response-bytes limit exceeded: the answer is larger than {limit} bytes; "
            "ask for less (a narrower time range, an aggregate, a LIMIT)",
        )


def bounded_body(chunks: Iterable[str], budget: Budget) -> str:
    """The answer made of `chunks`, read one at a time: refused (ResponseTooLarge) as soon as it grows
    past the limit, counted as Lambda returns it (JSON-escaped). Whatever computes a chunk (a Flux
    result computes as it is encoded) checks the query's time itself."""
    limit = budget.limits.max_response_bytes
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        if limit:
            size += len(json.dumps(chunk)) - 2
            if size > limit:
                raise ResponseTooLarge(limit)
        parts.append(chunk)
    return "".join(parts)
