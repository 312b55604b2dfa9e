"""kit/batching: parts under a size budget keep every item once, in order; a part goes over the budget
only as a lone oversized item."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.kit.batching import parts_by_size


@given(st.lists(st.integers(0, 50)), st.integers(1, 60))
def test_parts_keep_order_and_respect_the_budget(sizes: list[int], limit: int) -> None:
    parts = list(parts_by_size(sizes, lambda n: n, limit))
    assert [n for part in parts for n in part] == sizes
    assert all(part for part in parts)
    assert all(sum(part) <= limit or len(part) == 1 for part in parts)
    # greedy: a part ends only because the next item would not fit
    assert all(sum(a) + b[0] > limit for a, b in pairwise(parts))
