"""Line protocol parser and serializer (chalicelib.lineprotocol)."""

from __future__ import annotations

import math

import pytest

from chalicelib.kit.points import Point, UInt
from chalicelib.lineprotocol import (
    PRECISIONS,
    LineProtocolError,
    escape_key,
    escape_measurement,
    escape_string,
    format_point,
    format_points,
    parse,
    series_key,
)
from chalicelib.lineprotocol import parser as lp_parser

NOW = 1_700_000_000_123_456_789


def one(line: str | bytes, **kw) -> Point:
    points = parse(line, now=NOW, **kw)
    assert len(points) == 1
    return points[0]


def error(data: str | bytes, **kw) -> LineProtocolError:
    with pytest.raises(LineProtocolError) as info:
        parse(data, now=NOW, **kw)
    return info.value


# ------------------------------------------------------------------------------------------------
# Valid lines


VALID = [
    # (line, key, measurement, tags, fields, time)
    ("cpu value=1", "cpu", "cpu", (), {"value": 1.0}, NOW),
    ("cpu value=1 123", "cpu", "cpu", (), {"value": 1.0}, 123),
    ("cpu value=-1.5 -123", "cpu", "cpu", (), {"value": -1.5}, -123),
    ("cpu,host=a value=1i 5", "cpu,host=a", "cpu", (("host", "a"),), {"value": 1}, 5),
    (
        'cpu,region=us,host=a a=1,b=2i,c=3u,d=t,e="x" 7',
        "cpu,host=a,region=us",
        "cpu",
        (("host", "a"), ("region", "us")),
        {"a": 1.0, "b": 2, "c": UInt(3), "d": True, "e": "x"},
        7,
    ),
    # floats
    ("m v=.5", "m", "m", (), {"v": 0.5}, NOW),
    ("m v=-.5", "m", "m", (), {"v": -0.5}, NOW),
    ("m v=5.", "m", "m", (), {"v": 5.0}, NOW),
    ("m v=1e3", "m", "m", (), {"v": 1000.0}, NOW),
    ("m v=1E-3", "m", "m", (), {"v": 0.001}, NOW),
    ("m v=-1.5e+10", "m", "m", (), {"v": -1.5e10}, NOW),
    ("m v=1e308", "m", "m", (), {"v": 1e308}, NOW),
    ("m v=1e-400", "m", "m", (), {"v": 0.0}, NOW),
    ("m v=" + "9" * 250, "m", "m", (), {"v": float("9" * 250)}, NOW),
    ("m v=007", "m", "m", (), {"v": 7.0}, NOW),
    # ints and unsigned at the edges
    ("m v=9223372036854775807i", "m", "m", (), {"v": 9223372036854775807}, NOW),
    ("m v=-9223372036854775808i", "m", "m", (), {"v": -9223372036854775808}, NOW),
    ("m v=-0i", "m", "m", (), {"v": 0}, NOW),
    ("m v=18446744073709551615u", "m", "m", (), {"v": UInt(18446744073709551615)}, NOW),
    ("m v=0u", "m", "m", (), {"v": UInt(0)}, NOW),
    # booleans
    *[(f"m v={b}", "m", "m", (), {"v": True}, NOW) for b in ("t", "T", "true", "True", "TRUE")],
    *[(f"m v={b}", "m", "m", (), {"v": False}, NOW) for b in ("f", "F", "false", "False", "FALSE")],
    # strings
    ('m s=""', "m", "m", (), {"s": ""}, NOW),
    ('m s="a b,c=d"', "m", "m", (), {"s": "a b,c=d"}, NOW),
    (r'm s="say \"hi\""', "m", "m", (), {"s": 'say "hi"'}, NOW),
    (r'm s="back\\slash"', "m", "m", (), {"s": "back\\slash"}, NOW),
    (r'm s="lit\eral"', "m", "m", (), {"s": "lit\\eral"}, NOW),
    ('m s="ünï ✓"', "m", "m", (), {"s": "ünï ✓"}, NOW),
    # escapes in names
    (
        r"my\ cpu,the\ host=a\,b\=c v=1",
        r"my\ cpu,the\ host=a\,b\=c",
        "my cpu",
        (("the host", "a,b=c"),),
        {"v": 1.0},
        NOW,
    ),
    (r"cpu\,x v=1", r"cpu\,x", "cpu,x", (), {"v": 1.0}, NOW),
    (r"c\=pu v=1", r"c\=pu", r"c\=pu", (), {"v": 1.0}, NOW),  # `=` is not escaped in a measurement
    ("c=pu v=1", "c=pu", "c=pu", (), {"v": 1.0}, NOW),
    (r"cpu,path=C:\Windows v=1", r"cpu,path=C:\Windows", "cpu", (("path", r"C:\Windows"),), {"v": 1.0}, NOW),
    (r"cpu,path=C:\\Windows v=1", r"cpu,path=C:\Windows", "cpu", (("path", r"C:\Windows"),), {"v": 1.0}, NOW),
    (r"cpu,p=a\\ v=1", r"cpu,p=a\\", "cpu", (("p", "a\\"),), {"v": 1.0}, NOW),
    (r"cpu f\ k\,x\=y=1", "cpu", "cpu", (), {"f k,x=y": 1.0}, NOW),
    ('cpu,q="x" v=1', 'cpu,q="x"', "cpu", (("q", '"x"'),), {"v": 1.0}, NOW),
    ('cpu a"b=1', "cpu", "cpu", (), {'a"b': 1.0}, NOW),
    ("cpu,host=ünï v=1", "cpu,host=ünï", "cpu", (("host", "ünï"),), {"v": 1.0}, NOW),
    # whitespace
    ("  cpu v=1", "cpu", "cpu", (), {"v": 1.0}, NOW),
    ("\tcpu v=1 5", "cpu", "cpu", (), {"v": 1.0}, 5),
    ("cpu v=1 5   ", "cpu", "cpu", (), {"v": 1.0}, 5),
    ("cpu v=1   ", "cpu", "cpu", (), {"v": 1.0}, NOW),
    ("cpu v=1\t", "cpu", "cpu", (), {"v": 1.0}, NOW),
    ("cpu   v=1    5", "cpu", "cpu", (), {"v": 1.0}, 5),
    # repeated field: last wins
    ("cpu v=1,w=2,v=3i", "cpu", "cpu", (), {"v": 3, "w": 2.0}, NOW),
    # keys that are only reserved elsewhere
    (
        "cpu,_start=a _field=1,_measurement=2",
        "cpu,_start=a",
        "cpu",
        (("_start", "a"),),
        {"_field": 1.0, "_measurement": 2.0},
        NOW,
    ),
    ("time v=1", "time", "time", (), {"v": 1.0}, NOW),
    ("cpu,Time=x v=1", "cpu,Time=x", "cpu", (("Time", "x"),), {"v": 1.0}, NOW),
    # timestamps at InfluxDB's limits
    ("cpu v=1 9223372036854775806", "cpu", "cpu", (), {"v": 1.0}, 9223372036854775806),
    ("cpu v=1 -9223372036854775806", "cpu", "cpu", (), {"v": 1.0}, -9223372036854775806),
    ("cpu v=1 -0", "cpu", "cpu", (), {"v": 1.0}, 0),
]


@pytest.mark.parametrize(("line", "key", "measurement", "tags", "fields", "time"), VALID)
def test_valid_line(line, key, measurement, tags, fields, time):
    p = one(line)
    assert p == Point(key, measurement, tags, fields, time)
    assert list(p.fields) == list(fields)  # line order
    for k, v in fields.items():
        assert type(p.fields[k]) is type(v)
    assert p.key == series_key(p.measurement, p.tags)


def test_field_order_is_line_order():
    p = one("cpu z=1,a=2,m=3")
    assert list(p.fields) == ["z", "a", "m"]


# ------------------------------------------------------------------------------------------------
# Invalid lines: the exact reason


INT_MAX_PLUS = "9223372036854775808"
INT_MIN_MINUS = "-9223372036854775809"
UINT_MAX_PLUS = "18446744073709551616"


def int_range(d: str) -> str:
    return f'unable to parse integer {d}: strconv.ParseInt: parsing "{d}": value out of range'


def uint_range(d: str) -> str:
    return f'unable to parse unsigned {d}: strconv.ParseUint: parsing "{d}": value out of range'


INVALID = [
    # key
    ("cpu", "missing fields"),
    ("cpu,host=a", "missing fields"),
    ("cpu ", "missing fields"),
    ("cpu,host=a   ", "missing fields"),
    (",host=a v=1", "missing measurement"),
    (",v=1", "missing measurement"),
    ("cpu, v=1", "missing tag key"),
    ("cpu,=a v=1", "missing tag key"),
    ("cpu,host=a, v=1", "missing tag key"),
    ("cpu,host=a,,b=c v=1", "missing tag key"),
    ("cpu,host v=1", "missing tag value"),
    ("cpu,host", "missing tag value"),
    ("cpu,host= v=1", "missing tag value"),
    ("cpu,host=,b=c v=1", "missing tag value"),
    ("cpu,host=a=b v=1", "invalid tag format"),
    ("cpu,host==b v=1", "invalid tag format"),
    ("cpu,a=1,a=2 v=1", "duplicate tags"),
    ("cpu,b=1,a=2,b=3 v=1", "duplicate tags"),
    (r"cpu,a\ b=1,a\ b=2 v=1", "duplicate tags"),
    ("cpu,time=1 v=1", 'invalid tag key "time"'),
    ("cpu,_field=1 v=1", 'invalid tag key "_field"'),
    ("cpu,_measurement=1 v=1", 'invalid tag key "_measurement"'),
    # fields
    ("cpu value", "invalid field format"),
    ("cpu v=1,w", "invalid field format"),
    ("cpu v=1,", "invalid field format"),
    ("cpu v=1,,w=2", "invalid field format"),
    ("cpu v=1, w=2", "invalid field format"),
    ("cpu =1", "missing field key"),
    ("cpu v=1,=2", "missing field key"),
    ("cpu v=", "missing field value"),
    ("cpu v= 1", "missing field value"),
    ("cpu v=,w=1", "missing field value"),
    ("cpu time=1", 'invalid field key "time"'),
    ("cpu v=1,time=2i", 'invalid field key "time"'),
    # numbers
    ("cpu v=1.2.3", "invalid number"),
    ("cpu v=-", "invalid number"),
    ("cpu v=.", "invalid number"),
    ("cpu v=1x", "invalid number"),
    ("cpu v=NaN", "invalid number"),
    ("cpu v=nan", "invalid number"),
    ("cpu v=-Inf", "invalid number"),
    ("cpu v=1_000", "invalid number"),
    ("cpu v=1.5i", "invalid number"),
    ("cpu v=1e5i", "invalid number"),
    ("cpu v=1i5", "invalid number"),
    ("cpu v=1ii", "invalid number"),
    ("cpu v=-1u", "invalid number"),
    ("cpu v=1.5u", "invalid number"),
    ("cpu v=١٢", "invalid boolean"),  # non-ASCII digits are not digits here
    ("cpu v=1e", "invalid float"),
    ("cpu v=1e+", "invalid float"),
    ("cpu v=1e400", "invalid float"),
    ("cpu v=-1e400", "invalid float"),
    ("cpu v=" + "9" * 400, "invalid float"),
    (f"cpu v={INT_MAX_PLUS}i", int_range(INT_MAX_PLUS)),
    (f"cpu v={INT_MIN_MINUS}i", int_range(INT_MIN_MINUS)),
    (f"cpu v={UINT_MAX_PLUS}u", uint_range(UINT_MAX_PLUS)),
    ("cpu v=" + "1" * 5000 + "i", int_range("1" * 5000)),
    ("cpu v=" + "1" * 5000 + "u", uint_range("1" * 5000)),
    # booleans and other words
    ("cpu v=tru", "invalid boolean"),
    ("cpu v=yes", "invalid boolean"),
    ("cpu v=Inf", "invalid boolean"),
    ("cpu v=tRUE", "invalid boolean"),
    ("cpu v=+1", "invalid boolean"),
    ("cpu v==1", "invalid boolean"),
    # strings
    ('cpu v="abc', "unbalanced quotes"),
    ('cpu v="abc\\"', "unbalanced quotes"),
    ('cpu v="abc"x', "invalid field format"),
    ('cpu v="a" 12 "b"', "bad timestamp"),
    # timestamp
    ("cpu v=1 12a", "bad timestamp"),
    ("cpu v=1 1.5", "bad timestamp"),
    ("cpu v=1 +5", "bad timestamp"),
    ("cpu v=1 1 2", "bad timestamp"),
    ("cpu v=1 w=2", "bad timestamp"),
    ("cpu v=1 --5", "bad timestamp"),
    ("cpu v=1 9223372036854775807", "time outside range -9223372036854775806 - 9223372036854775806"),
    ("cpu v=1 -9223372036854775807", "time outside range -9223372036854775806 - 9223372036854775806"),
    ("cpu v=1 " + "9" * 100, "time outside range -9223372036854775806 - 9223372036854775806"),
]


@pytest.mark.parametrize(("line", "reason"), INVALID)
def test_invalid_line(line, reason):
    e = error(line)
    assert e.reason == reason
    assert e.lineno == 1
    assert e.line == line.strip()
    assert str(e) == f"unable to parse '{line.strip()}': {reason}"


def test_error_names_the_first_bad_line():
    data = "cpu v=1\n\n# comment\ncpu v=2\ncpu v=x\ncpu v=\n"
    e = error(data)
    assert (e.lineno, e.line, e.reason) == (5, "cpu v=x", "invalid boolean")
    assert str(e) == "unable to parse 'cpu v=x': invalid boolean"


def test_error_after_many_fast_lines():
    data = "\n".join(f"cpu,host=h{i % 3} a=1,b=2i {i}" for i in range(50)) + "\ncpu,host=h1 a=1,b=2.5i 1\n"
    e = error(data)
    assert (e.lineno, e.reason) == (51, "invalid number")


def test_error_is_an_exception_with_attributes():
    e = LineProtocolError(3, "x", "missing fields")
    assert isinstance(e, Exception)
    assert (e.lineno, e.line, e.reason) == (3, "x", "missing fields")
    assert str(e) == "unable to parse 'x': missing fields"


def test_time_out_of_range_after_precision():
    assert one("cpu v=1 2562047", precision="h").time == 2562047 * 3_600_000_000_000
    e = error("cpu v=1 2562048", precision="h")
    assert e.reason.startswith("time outside range")


def test_max_key_length():
    # InfluxDB checks the series key, then the key with each field (key + "#!~#" + field key)
    ok = "cpu,t=" + "x" * (65530 - 6)
    assert len(one(ok + " v=1").key) == 65530
    assert error(ok + "y v=1").reason == "max key length exceeded: 65536 > 65535"
    assert error("cpu,t=" + "x" * (65536 - 6) + " v=1").reason == "max key length exceeded: 65536 > 65535"
    # counted in UTF-8 bytes
    e = error("cpu,t=" + "é" * 40000 + " v=1")
    assert e.reason == f"max key length exceeded: {6 + 80000} > 65535"
    base = "cpu,t=" + "x" * 60000
    assert error(base + " " + "f" * 5532 + "=1").reason == "max key length exceeded: 65542 > 65535"
    assert one(base + " " + "f" * 5525 + "=1").fields
    assert error(base + " " + "f" * 5526 + "=1").reason == "max key length exceeded: 65536 > 65535"


def test_invalid_utf8():
    e = error(b"cpu v=1\ncpu,host=\xff v=1\ncpu v=\n")
    assert e.lineno == 2
    assert e.reason == "invalid UTF-8"
    assert e.line == "cpu,host=\ufffd v=1"
    # an earlier syntax error still wins
    e = error(b"cpu v=\ncpu,host=\xff v=1\n")
    assert (e.lineno, e.reason) == (1, "missing field value")
    # a truncated multi-byte character at the end
    e = error(b'cpu v=1\ncpu s="\xc3"')
    assert (e.lineno, e.reason) == (2, "invalid UTF-8")


# ------------------------------------------------------------------------------------------------
# Batches: blank lines, comments, line ends, multi-line strings


def test_blank_lines_comments_and_crlf():
    data = "\n\n   \n\t\n# a comment\n   # indented comment\r\ncpu v=1 1\r\n\r\ncpu v=2 2\r\n#last"
    points = parse(data, now=NOW)
    assert [(p.fields["v"], p.time) for p in points] == [(1.0, 1), (2.0, 2)]


def test_empty_batches():
    assert parse("") == []
    assert parse(b"") == []
    assert parse("\n\n# only comments\n") == []


def test_input_types():
    for data in ("cpu v=1 1", b"cpu v=1 1", bytearray(b"cpu v=1 1"), memoryview(b"cpu v=1 1")):
        assert parse(data) == [Point("cpu", "cpu", (), {"v": 1.0}, 1)]


def test_string_spanning_lines():
    data = 'cpu s="first\nsecond, with = and  spaces",n=1i 5\ncpu s="x" 6\n'
    points = parse(data, now=NOW)
    assert [p.fields for p in points] == [{"s": "first\nsecond, with = and  spaces", "n": 1}, {"s": "x"}]
    assert [p.time for p in points] == [5, 6]
    # an escaped quote does not close it
    points = parse('cpu s="a\\"\nb\\\\" 1\ncpu v=1 2', now=NOW)
    assert points[0].fields == {"s": 'a"\nb\\'}
    assert points[1].time == 2


def test_string_never_closed_names_its_first_line():
    e = error('cpu v=1\ncpu s="open\nmore\nlines\n')
    assert (e.lineno, e.line, e.reason) == (2, 'cpu s="open', "unbalanced quotes")


def test_error_after_a_multiline_string_keeps_the_joined_text():
    e = error('cpu s="a\nb" x\n')
    assert (e.lineno, e.reason) == (1, "bad timestamp")
    assert e.line == 'cpu s="a\nb" x'


# ------------------------------------------------------------------------------------------------
# Precision and missing timestamps


@pytest.mark.parametrize(
    ("precision", "mult"),
    [
        ("n", 1),
        ("ns", 1),
        ("u", 1000),
        ("us", 1000),
        ("ms", 10**6),
        ("s", 10**9),
        ("m", 60 * 10**9),
        ("h", 3600 * 10**9),
    ],
)
def test_precision(precision, mult):
    assert PRECISIONS[precision] == mult
    assert one("cpu v=1 7", precision=precision).time == 7 * mult
    assert one("cpu v=1 -7", precision=precision).time == -7 * mult
    assert one("cpu v=1", precision=precision).time == NOW - NOW % mult


def test_precisions_are_the_eight():
    assert set(PRECISIONS) == {"n", "ns", "u", "us", "ms", "s", "m", "h"}


@pytest.mark.parametrize("precision", ["", "x", "S", "µ", "sec", "rfc3339"])
def test_unknown_precision(precision):
    with pytest.raises(ValueError):
        parse("cpu v=1", precision=precision)


def test_default_now_is_the_clock(monkeypatch):
    monkeypatch.setattr(lp_parser._time, "time_ns", lambda: 1_234_567_891_234)
    assert parse("cpu v=1")[0].time == 1_234_567_891_234
    assert parse("cpu v=1", precision="s")[0].time == 1_234_000_000_000


def test_same_default_time_for_the_batch():
    points = parse("a v=1\nb v=2\nc v=3 9\n", precision="ms", now=NOW)
    assert [p.time for p in points] == [NOW - NOW % 10**6] * 2 + [9 * 10**6]


# ------------------------------------------------------------------------------------------------
# Series keys


def test_tag_order_gives_the_same_key():
    a = one("cpu,host=a,region=us\\ west,zone=1 v=1")
    b = one("cpu,zone=1,region=us\\ west,host=a v=1")
    assert a.key == b.key == "cpu,host=a,region=us\\ west,zone=1"
    assert a.tags == b.tags == (("host", "a"), ("region", "us west"), ("zone", "1"))


def test_equivalent_escapes_give_the_same_key():
    assert one(r"cpu,p=a\b v=1").key == one(r"cpu,p=a\\b v=1").key == r"cpu,p=a\b"


def test_series_are_shared_within_a_batch():
    points = parse("cpu,b=2,a=1 v=1 1\ncpu,b=2,a=1 v=2 2\ncpu,a=1,b=2 v=3 3\n")
    assert points[0].tags is points[1].tags
    assert {p.key for p in points} == {"cpu,a=1,b=2"}


# ------------------------------------------------------------------------------------------------
# The fast paths agree with the general parser


def _lines(n: int) -> str:
    out = []
    for i in range(n):
        out.append(
            f"cpu,host=h{i % 4},region=r{i % 3} idle={i}.5,user={i},n={i}i,u={i}u,ok={'tf'[i % 2]},"
            f'msg="m {i}, \\"q\\"" {1000 + i}'
        )
        out.append(f"mem used={i * 3}i,pct=0.{i} {1000 + i}")
    return "\n".join(out) + "\n"


def test_fast_path_matches_general_parser():
    data = _lines(60)
    fast = parse(data, now=NOW)
    # the general parser on its own, one line at a time
    slow = []
    for line in data.splitlines():
        it = iter(())
        slow.append(lp_parser._parse_slow(line, it, {}, {}, 1, NOW))
    assert fast == slow
    assert len(fast) == 120
    for a, b in zip(fast, slow, strict=True):
        assert [type(v) for v in a.fields.values()] == [type(v) for v in b.fields.values()]


def test_fast_path_still_validates():
    good = "\n".join(f'cpu,host=h a=1.5,b=2i,c="s",d=t {i}' for i in range(20))
    parse(good)  # teaches the shape
    for bad, reason in [
        ('cpu,host=h a=1.5,b=2.5i,c="s",d=t 1', "invalid number"),
        ('cpu,host=h a=1.5,b=2i,c="s,d=t 1', "unbalanced quotes"),
        ('cpu,host=h a=1.5,b=2i,c="s",d=yes 1', "invalid boolean"),
        ('cpu,host=h a=1.5,b=2i,c="s",d=t 1x', "bad timestamp"),
        ('cpu,host=h a=1.5,b=2i,c="s",time=t 1', 'invalid field key "time"'),
        ('cpu,host=h a=1e999,b=2i,c="s",d=t 1', "invalid float"),
        (f'cpu,host=h a=1.5,b={INT_MAX_PLUS}i,c="s",d=t 1', "unable to parse integer"),
        ('cpu,host=h a=1.5,b=2i,c="s",d=t 9223372036854775807', "time outside range"),
    ]:
        e = error(good + "\n" + bad)
        assert e.lineno == 21, bad
        assert e.reason.startswith(reason), bad
    # and still accepts the forms the shapes leave to the general parser
    tail = 'cpu,host=h a=.5,b=1234567890123456789i,c="s\\\\",d=TRUE 1'
    p = parse(good + "\n" + tail)[-1]
    assert p.fields == {"a": 0.5, "b": 1234567890123456789, "c": "s\\", "d": True}


def test_shape_keeps_reserved_time_field_out():
    data = "\n".join(f"cpu a=1,b=2 {i}" for i in range(10))
    parse(data)
    e = error(data + "\ncpu a=1,time=2 1")
    assert e.reason == 'invalid field key "time"'


# ------------------------------------------------------------------------------------------------
# Serializer


def test_escape_functions():
    assert escape_measurement("my cpu,x=y") == r"my\ cpu\,x=y"
    assert escape_key("a b,c=d") == r"a\ b\,c\=d"
    assert escape_string('say "hi" \\o/') == r"say \"hi\" \\o/"
    assert escape_key(r"C:\Windows") == r"C:\Windows"  # a backslash before a plain character stays
    assert escape_key("a\\") == "a\\\\"  # at the end it is doubled
    assert escape_key("a\\ b") == r"a\\\ b"
    assert escape_measurement("cpu") == "cpu"


def test_series_key():
    assert series_key("cpu", [("region", "us west"), ("host", "a")]) == r"cpu,host=a,region=us\ west"
    assert series_key("cpu", {"b": "2", "a": "1"}) == "cpu,a=1,b=2"
    assert series_key("cpu", ()) == "cpu"
    assert series_key("c pu", [("e", "")]) == r"c\ pu"  # empty tag values are left out


def test_format_point():
    line = format_point(
        "cpu", {"host": "a"}, {"f": 1.5, "i": -3, "u": UInt(7), "b": True, "s": 'q"\\', "g": 2.0}, 99
    )
    assert line == 'cpu,host=a f=1.5,i=-3i,u=7u,b=true,s="q\\"\\\\",g=2.0 99'
    assert format_point("cpu", (), {"v": False}) == "cpu v=false"
    assert format_point("cpu", (), [("v", 1e-07)]) == "cpu v=1e-07"


@pytest.mark.parametrize(
    ("measurement", "tags", "fields"),
    [
        ("", (), {"v": 1.0}),
        ("#cpu", (), {"v": 1.0}),
        ("cpu", (), {}),
        ("cpu", (), {"v": math.nan}),
        ("cpu", (), {"v": math.inf}),
        ("cpu", (), {"v": 1 << 63}),
        ("cpu", (), {"v": UInt(1 << 64)}),
        ("cpu", (), {"": 1.0}),
        ("c\npu", (), {"v": 1.0}),
    ],
)
def test_format_point_rejects(measurement, tags, fields):
    with pytest.raises(ValueError):
        format_point(measurement, tags, fields)


def test_format_point_rejects_unknown_types():
    with pytest.raises(TypeError):
        format_point("cpu", (), {"v": None})


def test_format_points():
    points = parse('cpu,b=2,a=1 v=1,s="x y" 1\nmem free=3i 2\n')
    text = format_points(points)
    assert text == 'cpu,a=1,b=2 v=1.0,s="x y" 1\nmem free=3i 2\n'
    assert parse(text) == points
    assert format_points([]) == ""


NASTY = [
    "plain",
    "with space",
    "com,ma",
    "eq=uals",
    'qu"ote',
    "back\\slash",
    "trailing\\",
    "\\leading",
    "double\\\\",
    "esc\\ aped",
    "esc\\,aped",
    "esc\\=aped",
    "ünïcödé ✓",
    "tab\there",
    "x=1,y=2 z",
    "\\",
    " lead",
]


@pytest.mark.parametrize("name", NASTY)
def test_round_trip_names(name):
    measurement = "m" + name
    tags = {"t" + name: "v" + name, "k": name}
    fields = {"f" + name: 1.5, name: name + '"\\', "x": UInt(5)}
    line = format_point(measurement, tags, fields, 42)
    p = one(line)
    assert p.measurement == measurement
    assert p.tags == tuple(sorted(tags.items()))
    assert p.fields == fields
    assert p.time == 42
    assert p.key == series_key(measurement, tags)
    assert format_points([p]) == line + "\n"


@pytest.mark.parametrize(
    "value",
    [
        0.0,
        -0.0,
        1.0,
        0.1,
        1 / 3,
        -2.5e-300,
        1e300,
        1.7976931348623157e308,
        5e-324,
        123456789.123456789,
        0,
        -1,
        9223372036854775807,
        -9223372036854775808,
        UInt(0),
        UInt(18446744073709551615),
        True,
        False,
        "",
        "multi\nline",
        'all " the \\ things , = ',
    ],
)
def test_round_trip_values(value):
    line = format_point("m", (), {"v": value})
    p = one(line)
    assert type(p.fields["v"]) is type(value)
    assert p.fields["v"] == value
    if isinstance(value, float):
        assert math.copysign(1, p.fields["v"]) == math.copysign(1, value)


def test_round_trip_many_points_through_the_fast_path():
    points = [
        Point(
            series_key("cpu", [("host", f"h{i % 5}")]),
            "cpu",
            (("host", f"h{i % 5}"),),
            {"a": i / 7, "b": i},
            i,
        )
        for i in range(200)
    ]
    assert parse(format_points(points)) == points
