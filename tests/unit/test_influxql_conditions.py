"""WHERE-clause analysis: time ranges, row evaluation, tag/field splitting."""

from __future__ import annotations

import pytest

from chalicelib.influxql import (
    MAX_TIME,
    MIN_TIME,
    ConditionError,
    eval_condition,
    parse_expr,
    parse_time,
    split_condition,
    tag_only,
    time_range,
)
from chalicelib.influxql.generator import generate

S = 1_000_000_000
NOW = parse_time("2000-01-01T00:00:00Z")
T0 = NOW
T1 = NOW + 3600 * S


@pytest.mark.parametrize(
    ("cond", "tmin", "tmax", "rest"),
    [
        ("host = 'server01'", MIN_TIME, MAX_TIME, "host = 'server01'"),
        ("time >= '2000-01-01T00:00:00Z' AND time < '2000-01-01T01:00:00Z'", T0, T1 - 1, None),
        ("time > '2000-01-01T00:00:00Z' AND time <= '2000-01-01T01:00:00Z'", T0 + 1, T1, None),
        (
            "host = 'server01' AND (region = 'uswest' AND time >= now() - 10m)",
            NOW - 600 * S,
            MAX_TIME,
            "host = 'server01' AND (region = 'uswest')",
        ),
        (
            "(host = 'server01' AND region = 'uswest') AND time >= now() - 10m",
            NOW - 600 * S,
            MAX_TIME,
            "(host = 'server01' AND region = 'uswest')",
        ),
        (
            "host = 'server01' AND (time >= '2000-01-01T00:00:00Z' AND time < '2000-01-01T01:00:00Z')",
            T0,
            T1 - 1,
            "host = 'server01'",
        ),
        ("'2000-01-01T00:00:00Z' <= time AND '2000-01-01T01:00:00Z' > time", T0, T1 - 1, None),
        ("'2000-01-01T00:00:00Z' < time AND '2000-01-01T01:00:00Z' >= time", T0 + 1, T1, None),
        ("time = '2000-01-01T00:00:00Z'", T0, T0, None),
        ("time >= 10s", 10 * S, MAX_TIME, None),
        ("time >= 10000000000", 10 * S, MAX_TIME, None),
        ("time >= 10000000000.0", 10 * S, MAX_TIME, None),
        ("time < 1600000000000000000", MIN_TIME, 1600000000000000000 - 1, None),
        ("time > now()", NOW + 1, MAX_TIME, None),
        ("time > now() - 1h", NOW - 3600 * S + 1, MAX_TIME, None),
        ("time >= now() - 10m + 1s", NOW - 599 * S, MAX_TIME, None),
        ("time <= now() + 1d", MIN_TIME, NOW + 86400 * S, None),
        ("time = now() - 1h", NOW - 3600 * S, NOW - 3600 * S, None),
        ("TIME > now() - 1h", NOW - 3600 * S + 1, MAX_TIME, None),
        ("time > 1600000000000ms AND time < 1600003600s", 1600000000 * S + 1, 1600003600 * S - 1, None),
        (
            "time >= '2020-01-01T00:00:00.123456789Z'",
            parse_time("2020-01-01T00:00:00Z") + 123456789,
            MAX_TIME,
            None,
        ),
        ("time >= '2020-01-01T02:00:00+02:00'", parse_time("2020-01-01T00:00:00Z"), MAX_TIME, None),
        ("time >= '2020-01-01T00:00:00-05:30'", parse_time("2020-01-01T05:30:00Z"), MAX_TIME, None),
        ("time >= '2020-01-01 00:00:00.5'", parse_time("2020-01-01T00:00:00Z") + S // 2, MAX_TIME, None),
        ("time >= '2020-01-01'", parse_time("2020-01-01T00:00:00Z"), MAX_TIME, None),
        ("time >= '2020-01-01' - 1h", parse_time("2019-12-31T23:00:00Z"), MAX_TIME, None),
        # Overlapping bounds narrow; an impossible range is returned as is (tmin > tmax).
        ("time > now() - 1h AND time > now() - 10m", NOW - 600 * S + 1, MAX_TIME, None),
        ("time > now() AND time < now() - 1h", NOW + 1, NOW - 3600 * S - 1, None),
        ("host = 'a' AND time > 5 AND value > 1", 6, MAX_TIME, "host = 'a' AND value > 1"),
        ("true AND time > 5", 6, MAX_TIME, None),
        ("(time > 5)", 6, MAX_TIME, None),
        ("host = 'a' OR host = 'b'", MIN_TIME, MAX_TIME, "host = 'a' OR host = 'b'"),
    ],
)
def test_time_range(cond: str, tmin: int, tmax: int, rest: str | None) -> None:
    lo, hi, remaining = time_range(parse_expr(cond), NOW)
    assert (lo, hi) == (tmin, tmax)
    assert (None if remaining is None else generate(remaining)) == rest


def test_time_range_without_condition() -> None:
    assert time_range(None, NOW) == (MIN_TIME, MAX_TIME, None)


def test_time_range_location() -> None:
    lo, _, _ = time_range(parse_expr("time >= '2020-07-01 00:00:00'"), NOW, location="Europe/Paris")
    assert lo == parse_time("2020-06-30T22:00:00Z")
    lo, _, _ = time_range(parse_expr("time >= '2020-07-01T00:00:00Z'"), NOW, location="Europe/Paris")
    assert lo == parse_time("2020-07-01T00:00:00Z")


@pytest.mark.parametrize(
    ("cond", "message"),
    [
        ("value", "invalid condition expression: value"),
        ("4", "invalid condition expression: 4"),
        ("time >= 'today'", "invalid operation: time and *influxql.StringLiteral are not compatible"),
        ("time > host", "invalid operation: time and *influxql.VarRef are not compatible"),
        ("time != '2000-01-01T00:00:00Z'", "invalid time comparison operator: !="),
        ("time <> 5", "invalid time comparison operator: !="),
        ("value AND host = 'server01'", "invalid condition expression: value"),
        ("host = 'server01' OR (value)", "invalid condition expression: value"),
        ("time > '2262-04-11 23:47:17'", "time 2262-04-11T23:47:17Z overflows time literal"),
        ("time > '1677-09-20 19:12:43'", "time 1677-09-20T19:12:43Z underflows time literal"),
        ("time > '2020-13-01T00:00:00Z'", "invalid time"),
    ],
)
def test_time_range_errors(cond: str, message: str) -> None:
    with pytest.raises(ConditionError) as info:
        time_range(parse_expr(cond), NOW)
    assert str(info.value) == message == info.value.message


@pytest.mark.parametrize(
    ("cond", "low", "high", "rest"),
    [
        # influxd 1.x intersects time ranges even under OR and drops the time comparisons
        ("time > now() - 1h OR host = 'a'", NOW - 3600 * 10**9 + 1, None, "host = 'a'"),
        (
            "host = 'server01' OR (time >= now() - 10m AND host = 'server02')",
            NOW - 600 * 10**9,
            None,
            "host = 'server01' OR (host = 'server02')",
        ),
    ],
)
def test_time_range_or_intersects(cond: str, low: int, high: int | None, rest: str) -> None:
    lo, hi, remaining = time_range(parse_expr(cond), NOW)
    assert lo == low
    assert hi == (MAX_TIME if high is None else high)
    assert generate(remaining) == rest


TAGS = {"host": "server01", "region": "us-west", "num": "5"}
FIELDS = {"value": 10, "ratio": 0.5, "ok": True, "label": "alpha"}


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ("host = 'server01'", True),
        ("host = 'server02'", False),
        ("host != 'server02'", True),
        ("host <> 'server01'", False),
        ("host =~ /^server/", True),
        ("host =~ /01$/ AND region !~ /east/", True),
        ("host !~ /server/", False),
        ("missing = ''", True),
        ("missing != 'x'", True),
        ("missing =~ /./", False),
        ("host = 'x' OR region = 'us-west'", True),
        ("(host = 'x' OR region = 'x') AND value > 1", False),
        ("value > 5", True),
        ("value >= 10 AND value <= 10", True),
        ("value < 10.5", True),
        ("value = 10.0", True),
        ("ratio > 0.25 AND ratio < 1", True),
        ("value * 2 > 15", True),
        ("value / 4 = 2.5", True),
        ("value % 3 = 1", True),
        ("value + ratio = 10.5", True),
        ("ok = true", True),
        ("ok != false", True),
        ("ok = 1", False),
        ("label = 'alpha'", True),
        ("label > 'aaa'", True),
        ("label =~ /^al/", True),
        ("value = 'alpha'", False),
        ("value != 'alpha'", False),
        ("num = 5", False),
        ("num = '5'", True),
        ("host::tag = 'server01'", True),
        ("value::field > 1", True),
        ("host::field = 'server01'", False),
        ("absent::field = 1", False),
        ("true", True),
        ("false OR true", True),
    ],
)
def test_eval_condition(cond: str, expected: bool) -> None:
    assert eval_condition(parse_expr(cond), TAGS, FIELDS) is expected


def test_eval_condition_edges() -> None:
    assert eval_condition(None, {}) is True
    # Tags only: a name that is not a tag reads as the empty string.
    assert eval_condition(parse_expr("value = ''"), TAGS) is True
    # Known field keys read as null when absent, and null matches nothing.
    cond = parse_expr("value != 5")
    assert eval_condition(cond, TAGS, {}, field_keys={"value"}) is False
    # A field shadows a tag of the same name unless the reference says ::tag.
    assert eval_condition(parse_expr("host = 'f'"), {"host": "t"}, {"host": "f"}) is True
    assert eval_condition(parse_expr("host::tag = 't'"), {"host": "t"}, {"host": "f"}) is True


def _is_tag(name: str) -> bool:
    return name in {"host", "region"}


@pytest.mark.parametrize(
    ("cond", "tag_part", "field_part"),
    [
        ("host = 'a'", "host = 'a'", None),
        ("value > 1", None, "value > 1"),
        ("host = 'a' AND value > 1", "host = 'a'", "value > 1"),
        (
            "host = 'a' AND value > 1 AND (region = 'x' OR region = 'y')",
            "host = 'a' AND (region = 'x' OR region = 'y')",
            "value > 1",
        ),
        ("(host = 'a' AND value > 1) AND region = 'b'", "host = 'a' AND region = 'b'", "value > 1"),
        ("host = 'a' OR value > 1", None, "host = 'a' OR value > 1"),
        ("x::tag = 'a' AND host::field = 'b'", "x::tag = 'a'", "host::field = 'b'"),
        ("host =~ /a/ AND value > 1 AND ratio < 2", "host =~ /a/", "value > 1 AND ratio < 2"),
    ],
)
def test_split_condition(cond: str, tag_part: str | None, field_part: str | None) -> None:
    tags, fields = split_condition(parse_expr(cond), _is_tag)
    assert (None if tags is None else generate(tags)) == tag_part
    assert (None if fields is None else generate(fields)) == field_part


def test_split_and_tag_only() -> None:
    assert split_condition(None, _is_tag) == (None, None)
    assert tag_only(parse_expr("host = 'a' OR region =~ /b/"), _is_tag)
    assert not tag_only(parse_expr("host = 'a' OR value = 1"), _is_tag)


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:01.5Z", 1_500_000_000),
        ("1969-12-31T23:59:59Z", -S),
        ("2020-01-01T00:00:00.000000001Z", 1577836800 * S + 1),
        ("2020-01-01 00:00:00", 1577836800 * S),
        ("2020-01-01", 1577836800 * S),
    ],
)
def test_parse_time(text: str, ns: int) -> None:
    assert parse_time(text) == ns


@pytest.mark.parametrize(
    "condition, hint",
    [
        ("host = 'a'", ("host", "", {"a"})),
        ("'a' = host", ("host", "", {"a"})),
        ("host::tag = 'a' AND usage > 1", ("host", "tag", {"a"})),
        ("usage > 1 AND (host = 'a' OR host = 'b')", ("host", "", {"a", "b"})),
        ("host = 'a' OR region = 'b'", None),  # two tags: no one tag is pinned
        ("host = 'a' OR usage > 1", None),
        ("host = ''", None),  # series without the tag match it
        ("host = 'a' OR host = ''", None),
        ("host != 'a'", None),
        ("host =~ /^a$/", None),
        ("host = 1", None),
        ("region = '' AND host = 'a'", ("host", "", {"a"})),
    ],
)
def test_tag_equals_hint(condition, hint):
    from chalicelib.influxql.conditions import tag_equals

    found = tag_equals(parse_expr(condition))
    assert (None if found is None else (found[0].val, found[0].type, set(found[1]))) == hint
