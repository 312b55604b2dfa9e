"""The running query's `Budget` (time and estimated memory, `kit.budget`) as every part of the Flux
runtime reaches it: set while a program runs and while its results are computed (lazily, after
`engine.execute` has returned), an unlimited one otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from chalicelib.kit.budget import CELL_BYTES, Budget

# What one table costs beyond its values: the Table, its column lists, its group key (measured:
# about 1 KB for a storage table of eight columns).
TABLE_BYTES = 1024
# The cells of a row `aggregateWindow` or `window` makes: its time and value, the window bounds and
# the group key columns, estimated.
WINDOW_ROW_CELLS = 8

_UNLIMITED = Budget.unlimited()
_ACTIVE: ContextVar[Budget] = ContextVar("flux_budget", default=_UNLIMITED)


def budget() -> Budget:
    return _ACTIVE.get()


@contextmanager
def running(b: Budget | None) -> Iterator[None]:
    """Make `b` the budget of what runs inside (nothing changes for None)."""
    if b is None:
        yield
        return
    token = _ACTIVE.set(b)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def table_bytes(rows: int, columns: int) -> int:
    return TABLE_BYTES + rows * columns * CELL_BYTES


def window_rows_bytes(rows: int) -> int:
    return rows * WINDOW_ROW_CELLS * CELL_BYTES
