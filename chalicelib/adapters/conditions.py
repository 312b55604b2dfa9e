"""Telling a failed DynamoDB condition (someone else got there first) from a real failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

CONDITION_FAILED = "ConditionalCheckFailedException"


def condition_failed(exc: Exception) -> bool:
    """Whether a pynamodb PutError/DeleteError/UpdateError failed only its condition expression."""
    return getattr(exc, "cause_response_code", None) == CONDITION_FAILED


def saved_if(item: Any, condition: Any) -> bool:
    """Save a pynamodb item under `condition`: False when the condition fails (another writer got there
    first), any other failure raised."""
    try:
        item.save(condition=condition)
    except PutError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def transaction_condition_failed(exc: Exception) -> bool:
    """Whether a pynamodb TransactWriteError was cancelled by a failed condition of one of its items."""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)


def written_if(transaction: TransactWrite, fill: Callable[[TransactWrite], None]) -> bool:
    """Run the writes `fill` adds to the transaction: False when one of their conditions failed (another
    writer got there first), any other failure raised."""
    try:
        with transaction as tx:
            fill(tx)
    except TransactWriteError as exc:
        if transaction_condition_failed(exc):
            return False
        raise
    return True
