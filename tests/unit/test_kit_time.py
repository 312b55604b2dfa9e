"""Time helpers every surface shares: RFC 3339 text as Go writes it, precision and epoch names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.kit.time import EPOCHS, MAX_TIME, MIN_TIME, NS_PER_UNIT, V1_PRECISIONS, format_rfc3339nano


@pytest.mark.parametrize(
    "ns, text",
    [
        (0, "1970-01-01T00:00:00Z"),
        (1, "1970-01-01T00:00:00.000000001Z"),
        (1_500_000_000, "1970-01-01T00:00:01.5Z"),
        (1_600_000_000_123_000_000, "2020-09-13T12:26:40.123Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        # influxd's bounds, as Go prints them
        (MIN_TIME, "1677-09-21T00:12:43.145224194Z"),
        (MAX_TIME, "2262-04-11T23:47:16.854775806Z"),
    ],
)
def test_format_rfc3339nano(ns, text):
    assert format_rfc3339nano(ns) == text
    assert format_rfc3339nano(ns) == text  # the second call answers from the date cache


def test_precision_and_epoch_names():
    assert set(V1_PRECISIONS) == {"n", "ns", "u", "us", "ms", "s", "m", "h"}
    assert EPOCHS["µ"] == EPOCHS["u"] == "us"
    assert NS_PER_UNIT[V1_PRECISIONS["h"]] == 3_600_000_000_000


@given(st.dates())
def test_the_civil_calendar_agrees_with_pythons_dates(when):
    from datetime import date

    from chalicelib.kit.time import civil_from_days, days_from_civil, days_in_month

    days = (when - date(1970, 1, 1)).days
    assert days_from_civil(when.year, when.month, when.day) == days
    assert civil_from_days(days) == (when.year, when.month, when.day)
    following = date(when.year + (when.month == 12), when.month % 12 + 1, 1) if when.year < 9999 else None
    if following is not None:  # (December 9999 has no following month here)
        assert days_in_month(when.year, when.month) == (following - date(when.year, when.month, 1)).days
