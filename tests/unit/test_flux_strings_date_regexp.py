"""The pure packages the query builders emit (`strings`, `date`, `regexp`): each function evaluated by the
engine, its value as Flux (Go's `strings`, `time` and `regexp`) gives it."""

# ruff: noqa: E501 -- Flux queries read best on one line
from __future__ import annotations

import math

import pytest

from chalicelib.flux.engine import execute
from chalicelib.flux.source import Context
from chalicelib.flux.values import FluxError, Time, parse_time
from tests.unit.test_flux_source import MemorySource

NOW = parse_time("2020-02-11T12:21:03.29353494Z")


def value(expr: str, imports: str = 'import "strings"\nimport "date"\nimport "regexp"') -> object:
    """The value of a Flux expression, read back from a one-row table's column `v`."""
    source = MemorySource([])
    ((_, stream),) = execute(
        f'{imports}\nimport "array"\narray.from(rows: [{{v: {expr}}}])', Context(source, source, NOW)
    )
    (table,) = stream.tables()
    return table.record(0)["v"]


@pytest.mark.parametrize(
    "expr, expected",
    [
        ('strings.toUpper(v: "straße")', "STRAßE"),  # Go maps rune to rune: ß stays
        ('strings.toLower(v: "ÀB")', "àb"),
        ('strings.toTitle(v: "ǆx")', "ǅX"),
        ('strings.title(v: "hELLO wORLD_x-y")', "HELLO WORLD_x-Y"),  # the rest untouched, `_` inside words
        ('strings.trimSpace(v: "  a b \\n")', "a b"),
        ('strings.trim(v: "..a..", cutset: ".")', "a"),
        ('strings.trim(v: " a ", cutset: "")', " a "),  # an empty cutset trims nothing
        ('strings.trimLeft(v: "..a..", cutset: ".")', "a.."),
        ('strings.trimRight(v: "..a..", cutset: ".")', "..a"),
        ('strings.trimPrefix(v: "cpu_usage", prefix: "cpu_")', "usage"),
        ('strings.trimSuffix(v: "cpu_usage", suffix: "_usage")', "cpu"),
        ('strings.hasPrefix(v: "cpu", prefix: "cp")', True),
        ('strings.hasSuffix(v: "cpu", suffix: "x")', False),
        ('strings.containsStr(v: "cpu-total", substr: "total")', True),
        ('strings.containsAny(v: "abc", chars: "xc")', True),
        ('strings.containsAny(v: "abc", chars: "")', False),
        ('strings.countStr(v: "aaaa", substr: "aa")', 2),
        ('strings.compare(v: "a", t: "b")', -1),
        ('strings.compare(v: "b", t: "b")', 0),
        ('strings.index(v: "héllo", substr: "l")', 3),  # bytes, as Go
        ('strings.lastIndex(v: "héllo", substr: "l")', 4),
        ('strings.index(v: "abc", substr: "x")', -1),
        ('strings.indexAny(v: "héllo", chars: "ol")', 3),
        ('strings.lastIndexAny(v: "abcb", chars: "b")', 3),
        ('strings.strlen(v: "héllo")', 5),  # runes
        ('strings.substring(v: "héllo", start: 1, end: 3)', "él"),
        ('strings.substring(v: "abc", start: -2, end: 99)', "abc"),
        ('strings.substring(v: "abc", start: 2, end: 1)', ""),
        ('strings.repeat(v: "ab", i: 3)', "ababab"),
        ('strings.replace(v: "aaaa", t: "a", u: "b", i: 2)', "bbaa"),
        ('strings.replace(v: "aaaa", t: "a", u: "b", i: -1)', "bbbb"),
        ('strings.replaceAll(v: "a.b.c", t: ".", u: "/")', "a/b/c"),
        ('strings.joinStr(arr: strings.split(v: "a,b,", t: ","), v: "|")', "a|b|"),
        ('strings.joinStr(arr: strings.split(v: "abc", t: ""), v: "|")', "a|b|c"),
        ('strings.joinStr(arr: strings.splitN(v: "a,b,c", t: ",", i: 2), v: "|")', "a|b,c"),
        ('strings.length(arr: strings.splitN(v: "a,b,c", t: ",", i: 0))', 0),
        ('strings.joinStr(arr: strings.splitAfter(v: "a,b", t: ","), v: "|")', "a,|b"),
        ('strings.joinStr(arr: strings.splitAfterN(v: "a,b,c", t: ",", i: 2), v: "|")', "a,|b,c"),
        ('strings.equalFold(v: "Go", t: "GO")', True),
        ('strings.isDigit(v: "7")', True),
        ('strings.isLetter(v: "7")', False),
        ('strings.isLower(v: "a")', True),
        ('strings.isUpper(v: "a")', False),
    ],
)
def test_strings(expr, expected):
    expr = expr.replace("strings.length(", "length(")
    assert value(expr) == expected


@pytest.mark.parametrize(
    "expr, message",
    [
        ('strings.isDigit(v: "12")', "argument length is not equal to 1"),
        ("strings.toUpper(v: 1)", 'expected argument "v" to be of type string, got type int'),
        ('strings.repeat(v: "a", i: -1)', "negative repeat count"),
        ('strings.replace(v: "a", t: "a", u: "b", i: "x")', 'expected argument "i" to be of type int'),
    ],
)
def test_strings_errors(expr, message):
    with pytest.raises(FluxError, match=message):
        value(expr)


T = "2020-02-11T12:21:03.293534940Z"


@pytest.mark.parametrize(
    "fn, expected",
    [
        ("year", 2020),
        ("month", 2),
        ("quarter", 1),
        ("week", 7),
        ("monthDay", 11),
        ("yearDay", 42),
        ("weekDay", 2),
        ("hour", 12),
        ("minute", 21),
        ("second", 3),
        ("millisecond", 293),
        ("microsecond", 293534),
        ("nanosecond", 293534940),
    ],
)
def test_date_parts_of_a_time(fn, expected):
    assert value(f"date.{fn}(t: {T})") == expected


@pytest.mark.parametrize(
    "expr, expected",
    [
        # the Flux docs' examples, `now` being 2020-02-11T12:21:03.293534940Z
        ("date.second(t: -50s)", 13),
        ("date.minute(t: -45m)", 36),
        ("date.hour(t: -8h)", 4),
        ("date.monthDay(t: -8d)", 3),
        ("date.month(t: -3mo)", 11),
        ("date.year(t: -14y)", 2006),
        ("date.quarter(t: -7mo)", 3),
        ("date.millisecond(t: -150ms)", 143),
        ("date.weekDay(t: -84h)", 6),
        ("date.Sunday + date.Saturday + date.January + date.December", 19),
    ],
)
def test_date_parts_of_a_duration_relative_to_now(expr, expected):
    assert value(expr) == expected


@pytest.mark.parametrize(
    "unit, expected",
    [
        ("1s", "2019-06-03T13:59:01Z"),
        ("1m", "2019-06-03T13:59:00Z"),
        ("1h", "2019-06-03T13:00:00Z"),
        ("1d", "2019-06-03T00:00:00Z"),
        ("1w", "2019-05-30T00:00:00Z"),  # windows aligned on the epoch: a Thursday
        ("1mo", "2019-06-01T00:00:00Z"),
        ("3mo", "2019-04-01T00:00:00Z"),
        ("1y", "2019-01-01T00:00:00Z"),
    ],
)
def test_date_truncate(unit, expected):
    assert value(f"date.truncate(t: 2019-06-03T13:59:01.5Z, unit: {unit})") == Time(parse_time(expected))


def test_date_truncate_relative_add_sub_scale_time():
    assert value("date.truncate(t: -1h, unit: 1h)") == Time(parse_time("2020-02-11T11:00:00Z"))
    assert value("date.add(d: 6h, to: 2019-09-16T12:00:00Z)") == Time(parse_time("2019-09-16T18:00:00Z"))
    assert value("date.sub(from: 2019-09-16T12:00:00Z, d: 6h)") == Time(parse_time("2019-09-16T06:00:00Z"))
    assert value("date.add(d: date.scale(d: 1mo1h, n: 5), to: 2022-01-01T00:00:00Z)") == Time(
        parse_time("2022-06-01T05:00:00Z")
    )
    assert value("date.time(t: -1h)") == Time(NOW - 3600 * 10**9)


@pytest.mark.parametrize(
    "expr, expected",
    [
        (
            'regexp.matchRegexpString(r: regexp.compile(v: "(?i:" + regexp.quoteMeta(v: "C.U") + ")"), v: "xc.u")',
            True,
        ),
        (
            'regexp.matchRegexpString(r: regexp.compile(v: "(?i:" + regexp.quoteMeta(v: "C.U") + ")"), v: "cpu")',
            False,
        ),
        ('regexp.findString(r: /l+/, v: "hello")', "ll"),
        ('regexp.findString(r: /z/, v: "hello")', ""),
        ('regexp.replaceAllString(r: /a(x*)b/, v: "-ab-axxb-", t: "[$1]")', "-[]-[xx]-"),
        ("regexp.getString(r: /a+b/)", "a+b"),
        ('regexp.quoteMeta(v: "a.b-c [x] #1 $^")', "a\\.b-c \\[x\\] #1 \\$\\^"),  # Go's set only
        ('strings.joinStr(arr: regexp.splitRegexp(r: /a+/, v: "xaybaaz", i: -1), v: "|")', "x|yb|z"),
        ('strings.joinStr(arr: regexp.splitRegexp(r: /a+/, v: "xaybaaz", i: 2), v: "|")', "x|ybaaz"),
        ('strings.joinStr(arr: regexp.splitRegexp(r: /,/, v: "a,b,", i: -1), v: "|")', "a|b|"),
    ],
)
def test_regexp(expr, expected):
    assert value(expr) == expected


def test_regexp_find_string_index_counts_bytes():
    source = MemorySource([])
    q = 'import "regexp"\nimport "array"\nr = regexp.findStringIndex(r: /l+/, v: "héllo")\narray.from(rows: [{a: r[0], b: r[1]}])'
    ((_, stream),) = execute(q, Context(source, source, NOW))
    assert stream.tables()[0].record(0) == {"a": 3, "b": 5}


def test_skew_as_flux_computes_it():
    source = MemorySource([("m", {}, {"f": v}, i) for i, v in enumerate([1.0, 2.0, 3.0, 10.0])])
    q = 'from(bucket: "first") |> range(start: 0, stop: 10) |> skew()'
    ((_, stream),) = execute(q, Context(source, source, NOW))
    (table,) = stream.tables()
    assert table.names() == ["_start", "_stop", "_field", "_measurement", "_value"]
    assert table.type_of("_value") == "float"
    assert table.record(0)["_value"] == pytest.approx(1.0182337649, rel=1e-9)
    one = MemorySource([("m", {}, {"f": 1.0}, 0)])
    ((_, stream),) = execute(q, Context(one, one, NOW))
    assert math.isnan(stream.tables()[0].record(0)["_value"])


def test_sample_data_is_known_but_not_supported():
    with pytest.raises(FluxError, match=r"function sample\.data is not supported"):
        value('sample.data(set: "airSensor")', 'import "influxdata/influxdb/sample"')
