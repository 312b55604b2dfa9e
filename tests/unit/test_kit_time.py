"""Time helpers every surface shares: RFC 3339 text as Go writes it, precision and epoch names."""

from __future__ import annotations

import pytest

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
