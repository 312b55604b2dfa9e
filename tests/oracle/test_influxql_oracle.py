"""The correctness oracle: each corpus query must answer the same on tickless as on a real influxd 1.x.

Both servers hold the same points (tests/oracle/data.py); each query (tests/oracle/queries.py) is sent to
both with `epoch=ns`, and the HTTP status and parsed JSON bodies must match: statement ids, series names,
tags, columns and values, errors word for word. Floats may differ by 1e-9 relative (Go's JSON writes a
float with an integral value without a fraction, so a number compares by value whichever way it was
written); integers, strings, booleans and nulls must be identical. The divergences not fixed yet are
listed in tests/oracle/known_gaps.py as strict xfails: each must keep failing until fixed, then leave
the list (see docs/ORACLE.md)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from tests.oracle.known_gaps import KNOWN_GAPS
from tests.oracle.queries import CORPUS, Query

REL_TOL = 1e-9


def _numbers_equal(expected: int | float, actual: int | float) -> bool:
    if isinstance(expected, int) and isinstance(actual, int):
        return expected == actual
    return math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=0.0)


def first_difference(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Where `actual` first departs from `expected`, or None when they agree."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        if type(expected) is not type(actual) or expected != actual:
            return f"{path}: expected {expected!r}, got {actual!r}"
        return None
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        if not _numbers_equal(expected, actual):
            return f"{path}: expected {expected!r}, got {actual!r}"
        return None
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            missing, extra = sorted(expected.keys() - actual.keys()), sorted(actual.keys() - expected.keys())
            return f"{path}: keys differ (missing {missing}, unexpected {extra})"
        for key in expected:
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for index, (left, right) in enumerate(zip(expected, actual, strict=False)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        if len(expected) != len(actual):
            return f"{path}: expected {len(expected)} items, got {len(actual)}"
        return None
    if type(expected) is not type(actual) or expected != actual:
        return f"{path}: expected {expected!r}, got {actual!r}"
    return None


def _show(body: Any, limit: int = 3000) -> str:
    text = json.dumps(body, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _cases() -> list[Any]:
    cases = []
    for i, query in enumerate(CORPUS):
        gap = KNOWN_GAPS.get(i)
        marks = [pytest.mark.xfail(strict=True, reason=f"known gap: {gap}")] if gap else []
        cases.append(pytest.param(query, id=f"{i:03d} {query.slug}", marks=marks))
    return cases


@pytest.mark.parametrize("query", _cases())
def test_same_answer_as_influxd(oracle: Any, query: Query) -> None:
    expected_status, expected = oracle.influxd.query(query.q, db=query.db)
    actual_status, actual = oracle.tickless.query(query.q, db=query.db)
    difference = first_difference(
        {"status": expected_status, "body": expected}, {"status": actual_status, "body": actual}
    )
    if difference:
        pytest.fail(
            f"tickless differs from {oracle.influxd_version}\n"
            f"query (db={query.db}): {query.q}\n"
            f"first difference: {difference}\n"
            f"influxd  [{expected_status}]: {_show(expected)}\n"
            f"tickless [{actual_status}]: {_show(actual)}",
            pytrace=False,
        )


def test_first_difference_tolerates_float_noise_only() -> None:
    assert first_difference({"v": [1, 2.0, "a"]}, {"v": [1.0, 2.0 * (1 + 1e-12), "a"]}) is None
    assert first_difference([1.0], [1.0 + 1e-6]) is not None
    assert first_difference([True], [1]) is not None
    assert first_difference([None], [0]) is not None
    assert first_difference({"a": 1}, {"a": 1, "b": 2}) is not None
    assert first_difference([1, 2], [1]) is not None
