"""Checks over the whole collection."""

from __future__ import annotations

from collections import Counter

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    # pytest-xdist schedules tests by node id: two tests sharing one would leave one silently unrun.
    shared = [nodeid for nodeid, count in Counter(item.nodeid for item in session.items).items() if count > 1]
    if shared:
        raise pytest.UsageError(f"tests share node ids, so some would not run in parallel: {shared[:5]}")
