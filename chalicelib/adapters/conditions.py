"""Telling a failed DynamoDB condition (someone else got there first) from a real failure."""

from __future__ import annotations

CONDITION_FAILED = "ConditionalCheckFailedException"


def condition_failed(exc: Exception) -> bool:
    """Whether a pynamodb PutError/DeleteError/UpdateError failed only its condition expression."""
    return getattr(exc, "cause_response_code", None) == CONDITION_FAILED
