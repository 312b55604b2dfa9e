"""Items grouped into parts under a size budget, in order: what goes into one Kinesis record, one SQS
message, one request."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def parts_by_size(items: Iterable[T], size: Callable[[T], int], limit: int) -> Iterator[list[T]]:
    """Consecutive parts whose items' sizes add up to at most `limit`; an item larger than `limit` makes
    a part of its own. No empty part."""
    part: list[T] = []
    total = 0
    for item in items:
        weight = size(item)
        if part and total + weight > limit:
            yield part
            part, total = [], 0
        part.append(item)
        total += weight
    if part:
        yield part
