"""The /write scan of influx-proxy 2.4.7, quirks included (each quirk test names it)."""

from __future__ import annotations

import pytest

from chalicelib.proxy.lines import RoutedLine, line_to_nano, route_lines, scan_body, scan_key, scan_space

NOW = 1_700_000_000_123_456_789


def one(line: bytes, precision: str = "ns") -> list[RoutedLine]:
    return route_lines(line, "db", precision, NOW)


def test_plain_line_kept_with_newline() -> None:
    assert one(b"cpu,host=a value=1 1000") == [("cpu", b"cpu,host=a value=1 1000\n")]


def test_body_split_empty_lines_and_crlf() -> None:
    body = b"cpu v=1 1\r\n\n\nmem v=2 2\n"
    assert route_lines(body, "db", "ns", NOW) == [("cpu", b"cpu v=1 1\n"), ("mem", b"mem v=2 2\n")]


def test_missing_timestamp_gets_proxy_time_in_ns_whatever_the_precision() -> None:
    assert one(b"cpu v=1", "s") == [("cpu", b"cpu v=1 %d\n" % NOW)]
    assert one(b"cpu v=1   ", "ms") == [("cpu", b"cpu v=1 %d\n" % NOW)]


@pytest.mark.parametrize(
    ("precision", "out"),
    [
        ("", b"m v=1 12"),
        ("ns", b"m v=1 12"),
        ("n", b"m v=1 12"),
        ("u", b"m v=1 12000"),
        ("ms", b"m v=1 12000000"),
        ("s", b"m v=1 12000000000"),
        ("m", b"m v=1 720000000000"),
        ("h", b"m v=1 43200000000000"),
        ("us", b"m v=1 12"),  # GetPrecisionMultiplier knows no "us": x1
    ],
)
def test_precision_to_nanoseconds(precision: str, out: bytes) -> None:
    assert one(b"m v=1 12", precision) == [("m", out + b"\n")]


def test_rescaled_timestamp_separator_becomes_space_and_wraps_int64() -> None:
    assert line_to_nano(b"m v=1\t2", "h", NOW) == b"m v=1 7200000000000"
    assert line_to_nano(b"m v=1 9223372036854775807", "h", NOW) == b"m v=1 -3600000000000"


def test_negative_timestamp_is_not_seen_and_the_line_is_dropped() -> None:
    scanned = scan_body(b"m v=1 -5", "db", "ns", NOW)
    assert scanned.lines == []
    assert scanned.dropped[0].reason == f"invalid format, drop data: db ns m v=1 -5 {NOW}"


@pytest.mark.parametrize(
    ("line", "measurement"),
    [
        (rb"my\ cpu,host=a v=1 1", "my cpu"),
        (rb"a\,b v=1 1", "a,b"),
        (rb"a\\b v=1 1", "a\\b"),
        (rb"a\=b v=1 1", "a=b"),  # any escaped byte loses its backslash
        ("température v=1 1".encode(), "température"),
        (b",t=a v=1 1", ""),
        (b"m  v=1   1", "m"),  # runs of blanks count once
        (b'm s="a b c" 1', "m"),  # blanks inside a string do not count
        (b'm s="say \\"hi\\"" 1', "m"),
        (b"# note", "#"),  # not parsed: a one-word comment is forwarded (the backend ignores it)
    ],
)
def test_measurement_and_kept(line: bytes, measurement: str) -> None:
    routed = one(line)
    assert [r.measurement for r in routed] == [measurement]
    assert routed[0].line.startswith(line)


@pytest.mark.parametrize(
    "line",
    [
        b"cpu",  # measurement only: one run after it
        b" cpu v=1 1",  # leading blank: empty measurement then three runs
        b"cpu v=1 t=2 1",
        rb"\ \ a v=1 1",  # quirk: slicing at the unescaped length lands on an escaped blank
        rb"m,t=a\  v=1 1",  # quirk: a blank right after an escaped one does not start a run
        b'm s="a\\\\b" 1',  # quirk: FindEndWithQuote rejects escapes other than \"
        b'm,t=a"b v=1 1',  # quirk: a quote in a tag opens an unterminated string
        b'm s="open 1',
    ],
)
def test_dropped(line: bytes) -> None:
    scanned = scan_body(line, "db", "ns", NOW)
    assert scanned.lines == []
    assert scanned.dropped[0].line == line
    assert scanned.dropped[0].reason.startswith("invalid format, drop data: db ns ")


def test_no_separator_is_scan_key_eof() -> None:
    scanned = scan_body(b"cpu\x00123", "db", "ns", NOW)  # NUL counts as the timestamp's separator
    assert scanned.lines == [] and scanned.dropped[0].reason == "scan key error: EOF"


def test_invalid_utf8_measurement_survives_as_surrogates() -> None:
    [routed] = one(b"\xffcpu v=1 1")
    assert routed.measurement.encode("utf-8", "surrogateescape") == b"\xffcpu"


def test_scanners_directly() -> None:
    assert scan_key(b"cpu,host=a v=1 1") == b"cpu"
    assert scan_key(b"nosep") is None
    assert scan_space(b",t=a v=1 1") == 2
    assert scan_space(b' s="x\\"y z" 1') == 2
    assert scan_space(b"\t \tv=1 1") == 2
