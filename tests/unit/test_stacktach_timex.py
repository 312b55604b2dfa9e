"""Timex expressions, checked against the cases timex's own tests pin down."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.stacktach import timex
from chalicelib.stacktach.timex import TimeRange, Timestamp

DT = datetime(2014, 8, 1, 2, 10, 23, 550)
OTHER = datetime(2014, 8, 7, 3, 20, 0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$x", DT),
        ("$x + 1d 2h", datetime(2014, 8, 2, 4, 10, 23, 550)),
        ("$x - 1d 2h", datetime(2014, 7, 31, 0, 10, 23, 550)),
        ("$x @ 7d 6h", datetime(2014, 8, 7, 6, 10, 23, 550)),
        ("$x + 1h 1h", datetime(2014, 8, 1, 4, 10, 23, 550)),
        ("($x + 1d) @ 0h 0m 0s 0us", datetime(2014, 8, 2)),
        ("$x + 5mo", datetime(2015, 1, 1, 2, 10, 23, 550)),
        ("$x - 8mo", datetime(2013, 12, 1, 2, 10, 23, 550)),
        ("$x + 1y 2sec 3min 1hr", datetime(2015, 8, 1, 3, 13, 25, 550)),
    ],
)
def test_timestamps(text: str, expected: datetime) -> None:
    result = timex.parse(text)(x=DT)
    assert isinstance(result, Timestamp)
    assert not result.is_range
    assert result.timestamp == result.begin == result.end == expected


def test_month_arithmetic_clamps_to_the_months_last_day() -> None:
    assert timex.parse("$x + 1mo")(x=datetime(2015, 1, 31)).timestamp == datetime(2015, 2, 28)
    assert timex.parse("$x - 1y")(x=datetime(2016, 2, 29)).timestamp == datetime(2015, 2, 28)


@pytest.mark.parametrize(
    ("text", "begin", "end"),
    [
        ("$x to $o", DT, OTHER),
        ("($x to $o) + 1d 2h", datetime(2014, 8, 2, 4, 10, 23, 550), datetime(2014, 8, 8, 5, 20)),
        ("($x to $o) - 1d 2h", datetime(2014, 7, 31, 0, 10, 23, 550), datetime(2014, 8, 6, 1, 20)),
        ("($x to $o) @ 6h", datetime(2014, 8, 1, 6, 10, 23, 550), datetime(2014, 8, 7, 6, 20)),
        ("$x to $o + 1d", DT, datetime(2014, 8, 8, 3, 20)),  # `to` binds loosest
        ("day($x)", datetime(2014, 8, 1), datetime(2014, 8, 2)),
        ("hour($x - 1h)", datetime(2014, 8, 1, 1), datetime(2014, 8, 1, 2)),
        ("month($x)", datetime(2014, 8, 1), datetime(2014, 9, 1)),
        ("year($x)", datetime(2014, 1, 1), datetime(2015, 1, 1)),
    ],
)
def test_ranges(text: str, begin: datetime, end: datetime) -> None:
    result = timex.parse(text)(x=DT, o=OTHER)
    assert result.is_range
    assert (result.begin, result.end) == (begin, end)


@pytest.mark.parametrize(
    ("text", "at", "begin", "end"),
    [
        ("day", DT, datetime(2014, 8, 1), datetime(2014, 8, 2)),
        # pinned ranges wrap so they still contain the timestamp
        ("day @ 6h", DT, datetime(2014, 7, 31, 6), datetime(2014, 8, 1, 6)),
        ("day + 6h", DT, datetime(2014, 7, 31, 6), datetime(2014, 8, 1, 6)),
        (
            "day - 6h",
            datetime(2014, 8, 1, 19, 45, 30, 225),
            datetime(2014, 8, 1, 18),
            datetime(2014, 8, 2, 18),
        ),
        # a bare number takes the unit one step finer than the range
        ("day @ 2", DT, datetime(2014, 8, 1, 2), datetime(2014, 8, 2, 2)),
        ("month", datetime(2014, 12, 31, 23), datetime(2014, 12, 1), datetime(2015, 1, 1)),
    ],
)
def test_pinned_ranges(text: str, at: datetime, begin: datetime, end: datetime) -> None:
    result = timex.parse(text)(timestamp=at)
    assert (result.begin, result.end) == (begin, end)
    assert at in result


def test_range_membership_is_half_open() -> None:
    day = timex.parse("day")(timestamp=DT)
    assert datetime(2014, 8, 1) in day
    assert datetime(2014, 8, 2) not in day
    assert DT in Timestamp(DT)


def test_timerange_is_a_value() -> None:
    a = timex.parse("day")(timestamp=DT)
    b = TimeRange(datetime(2014, 8, 1), datetime(2014, 8, 2))
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != TimeRange(datetime(2014, 8, 1), datetime(2014, 8, 3))


def test_timerange_json_as_stacktach_writes_it() -> None:
    rng = TimeRange(datetime(2015, 2, 27, tzinfo=UTC), datetime(2015, 2, 28, tzinfo=UTC))
    encoded = rng.to_json()
    assert encoded == {
        "__type__": "timex.TimeRange",
        "begin": "2015-02-27T00:00:00",
        "end": "2015-02-28T00:00:00",
    }
    assert TimeRange.from_json(encoded) == TimeRange(datetime(2015, 2, 27), datetime(2015, 2, 28))
    with pytest.raises(TicklessError):
        TimeRange.from_json({"__type__": "datetime", "datetime": "2015-02-27T00:00:00"})


def test_timestamp_defaults_to_now() -> None:
    before = datetime.now(UTC)
    assert timex.parse("$timestamp")().timestamp >= before


def test_undefined_variable() -> None:
    with pytest.raises(timex.UndefinedVariable) as err:
        timex.parse("$last + 1h")(first=DT)
    assert err.value.code == "invalid"
    assert "$last" in err.value.message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "$x to $o to $z",
        "$x + 2",  # bare numbers only on ranges
        "week",
        "$d",  # unit words are reserved
        "1h",
        "$x +",
        "day(day)",
        "$x % 1h",
        "($x",
        "$x 1h",
        "day to $x",
        "$x + 1day",
    ],
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(TicklessError) as err:
        timex.parse(text)
    assert err.value.code == "invalid"
    assert "time expression" in err.value.message


def test_replace_out_of_range_is_invalid() -> None:
    with pytest.raises(TicklessError):
        timex.parse("$x @ 25h")(x=DT)
