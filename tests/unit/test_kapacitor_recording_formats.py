"""Kapacitor's recording files (replay.go, edge/messages.go): .srpl (gzip of database, retention policy
and line protocol lines) and .brpl (a zip of JSON batch lines per query). Fixtures are built byte for
byte as Kapacitor's Go writes them (gzip.Writer, zip.Writer with data descriptors, encoding/json)."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.kapacitor.recording_formats import (
    decode_batches,
    decode_stream,
    encode_batches,
    encode_stream,
)
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.gotime import parse_rfc3339
from chalicelib.kit.points import UInt
from chalicelib.kit.time import MAX_TIME, MIN_TIME
from chalicelib.tick.exec.model import GO_ZERO_TIME, Batch, BatchPoint, Point

T0 = parse_rfc3339("2006-01-02T15:04:05Z")
S = 1_000_000_000

# --- Go's writers, by hand ---------------------------------------------------------------------------


def go_gzip(data: bytes) -> bytes:
    """compress/gzip.Writer at the default level: a 10-byte header (OS 255), raw deflate, CRC, size."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = deflate.compress(data) + deflate.flush()
    return (
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + body + struct.pack("<II", zlib.crc32(data), len(data))
    )


def go_zip(entries: list[tuple[str, bytes]]) -> bytes:
    """archive/zip.Writer.Create: deflated entries streamed with data descriptors (flag 0x8), no times,
    then the central directory and its end record."""
    out = bytearray()
    central = bytearray()
    for name, data in entries:
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = deflate.compress(data) + deflate.flush()
        crc, offset, raw_name = zlib.crc32(data), len(out), name.encode()
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x8, 8, 0, 0, 0, 0, 0, len(raw_name), 0) + raw_name
        out += packed + struct.pack("<IIII", 0x08074B50, crc, len(packed), len(data))
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0x8,
            8,
            0,
            0,
            crc,
            len(packed),
            len(data),
            len(raw_name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += raw_name
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0)
    return bytes(out)


def error_of(call, *args) -> str:
    with pytest.raises(TicklessError) as caught:
        call(*args)
    assert caught.value.status == 400
    return caught.value.message


def as_tuple(p: Point) -> tuple:
    return (p.name, p.time, typed(p.fields), p.tags, p.database, p.retention_policy)


def typed(fields: dict[str, Any]) -> dict[str, tuple[type, Any]]:
    return {k: (type(v), v) for k, v in fields.items()}


# --- .srpl -------------------------------------------------------------------------------------------

SRPL_TEXT = (
    b"telegraf\nautogen\n"
    b"cpu,cpu=cpu-total,host=server01 usage_idle=97.5,usage_user=1.25 1136214245000000000\n"
    b"telegraf\nautogen\n"
    b'mem,host=server01 available=8589934592i,msg="said \\"hi\\" \\\\o/",ok=true,total=42u'
    b" 1136214246000000000\n"
    b"db\nrp\n"
    b"m\\ space,tag\\=k=v\\,1 big=1000000000000000000000,f\\=x=-0.000001\n"
)
SRPL_POINTS = [
    Point(
        "cpu",
        T0,
        {"usage_idle": 97.5, "usage_user": 1.25},
        {"cpu": "cpu-total", "host": "server01"},
        "telegraf",
        "autogen",
    ),
    Point(
        "mem",
        T0 + S,
        {"available": 8589934592, "msg": 'said "hi" \\o/', "ok": True, "total": UInt(42)},
        {"host": "server01"},
        "telegraf",
        "autogen",
    ),
    Point("m space", GO_ZERO_TIME, {"big": 1e21, "f=x": -1e-6}, {"tag=k": "v,1"}, "db", "rp"),  # no timestamp
]


def test_decode_a_kapacitor_stream_file() -> None:
    assert [as_tuple(p) for p in decode_stream(go_gzip(SRPL_TEXT))] == [as_tuple(p) for p in SRPL_POINTS]


def test_encode_stream_writes_what_kapacitor_writes() -> None:
    shuffled = [
        p.copy(fields=dict(reversed(p.fields.items())), tags=dict(reversed(p.tags.items())))
        for p in SRPL_POINTS
    ]
    data = encode_stream(shuffled)
    assert data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # Go's gzip header
    assert gzip.decompress(data) == SRPL_TEXT
    assert data == go_gzip(SRPL_TEXT)  # same deflate level, so the same bytes


def test_encode_stream_leaves_out_empty_tags() -> None:
    data = encode_stream([Point("cpu", 5, {"v": 1}, {"a": "", "b": "x"}, "db", "rp")])
    assert gzip.decompress(data) == b"db\nrp\ncpu,b=x v=1i 5\n"


def test_empty_stream() -> None:
    assert decode_stream(encode_stream([])) == []
    assert gzip.decompress(encode_stream([])) == b""
    assert decode_stream(b"") == []  # no file at all: nothing recorded


def test_stream_string_with_newline_round_trips() -> None:
    # Kapacitor writes such a string as is; it is read back across the lines it spans
    points = [
        Point("a", 1, {"s": 'x\ny" 5\nz'}, {}, "db", "rp"),
        Point("b", 2, {"s": "\n"}, {}, "db\\", "rp"),
        Point("c", 3, {"v": 1.5}, {}, "", ""),
    ]
    assert [as_tuple(p) for p in decode_stream(encode_stream(points))] == [as_tuple(p) for p in points]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"db\n", "invalid replay file format, expected another line"),
        (b"db\nrp\n", "invalid replay file format, expected another line"),
        (b"db\nrp\ncpu v=1 1\ndb\n", "invalid replay file format, expected another line"),
        (b"db\nrp\ncpu\n", "unable to parse 'cpu': missing fields"),
        (b"db\nrp\ncpu v=1 1\ndb\nrp\ncpu v= 2\n", "unable to parse 'cpu v= 2': missing field value"),
        (b"db\nrp\n\n", "invalid replay file format, expected a point"),
    ],
)
def test_stream_format_errors(text: bytes, expected: str) -> None:
    assert error_of(decode_stream, go_gzip(text)) == expected


def test_stream_file_errors() -> None:
    assert error_of(decode_stream, b"not gzip at all") == "gzip: invalid header"
    whole = go_gzip(SRPL_TEXT)
    assert error_of(decode_stream, whole[:-12]) == "read replay file failed: unexpected EOF"
    broken = whole[:-8] + struct.pack("<II", 0, len(SRPL_TEXT))
    assert error_of(decode_stream, broken) == "read replay file failed: gzip: invalid checksum"


def test_stream_lines_may_end_with_carriage_returns() -> None:
    # bufio.ScanLines drops a carriage return before the newline
    points = decode_stream(go_gzip(b"db\r\nrp\r\ncpu v=1 1\r\n"))
    assert [as_tuple(p) for p in points] == [("cpu", 1, {"v": (float, 1.0)}, {}, "db", "rp")]


@pytest.mark.parametrize(
    "point",
    [
        Point("cpu", 1, {}, {}, "db", "rp"),
        Point("cpu", 1, {"v": float("nan")}, {}, "db", "rp"),
        Point("cpu", 1, {"v": 1 << 63}, {}, "db", "rp"),
        Point("#cpu", 1, {"v": 1}, {}, "db", "rp"),
        Point("", 1, {"v": 1}, {}, "db", "rp"),
        Point("cpu", 1, {"v": 1}, {}, "d\nb", "rp"),
        Point("c\npu", 1, {"v": 1}, {}, "db", "rp"),
        Point("cpu", 1, {"": 1}, {}, "db", "rp"),
        Point("cpu", 1, {"v": 1}, {"": "x"}, "db", "rp"),
        Point("cpu", 1, {"v": [1]}, {}, "db", "rp"),
    ],
)
def test_encode_stream_refuses_what_line_protocol_cannot_carry(point: Point) -> None:
    with pytest.raises(TicklessError):
        encode_stream([point])


_TEXT = st.characters(blacklist_categories=("Cs", "Cc"))
_NAME = st.text(_TEXT, min_size=1, max_size=8)
_KEY = _NAME.filter(lambda k: k not in ("time", "_field", "_measurement"))
_VALUE = st.one_of(
    st.integers(-(1 << 63), (1 << 63) - 1),
    st.integers(0, (1 << 64) - 1).map(UInt),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=10),
)
_POINT = st.builds(
    Point,
    _NAME.filter(lambda n: not n.startswith("#")),
    st.one_of(st.integers(MIN_TIME, MAX_TIME), st.just(GO_ZERO_TIME)),
    st.dictionaries(_KEY, _VALUE, min_size=1, max_size=4),
    st.dictionaries(_KEY, _NAME, max_size=3),
    st.text(_TEXT, max_size=6),
    st.text(_TEXT, max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_POINT, max_size=6))
def test_stream_round_trip(points: list[Point]) -> None:
    assert [as_tuple(p) for p in decode_stream(encode_stream(points))] == [as_tuple(p) for p in points]


# --- .brpl -------------------------------------------------------------------------------------------

BRPL_ENTRY_0 = (
    b'{"name":"cpu","tmax":"2006-01-02T15:04:05Z","group":"host=a","tags":{"host":"a"},'
    b'"points":[{"fields":{"n":3,"usage":97.5},"tags":{"host":"a"},"time":"2006-01-02T15:04:00Z"},'
    b'{"fields":{"n":4,"usage":1e-7},"tags":{"host":"a"},"time":"2006-01-02T15:04:05.5Z"}]}\n'
    b'{"name":"cpu","tmax":"2006-01-02T15:04:05Z","group":"host=b","tags":{"host":"b"}}\n'
)
BRPL_ENTRY_1 = (
    b'{"name":"mem","tmax":"2006-01-02T16:04:05+01:00","group":"mem","byname":true,'
    b'"points":[{"fields":{"s":"\\u003cok\\u003e","up":true},"tags":null,"time":"2006-01-02T15:04:05Z"}]}\n'
)


def test_decode_a_kapacitor_batch_file() -> None:
    files = decode_batches(go_zip([("0", BRPL_ENTRY_0), ("1", BRPL_ENTRY_1), ("2", b"")]))
    assert files == [
        [
            Batch(
                "cpu",
                T0,
                {"host": "a"},
                [
                    BatchPoint(T0 - 5 * S, {"n": 3.0, "usage": 97.5}, {"host": "a"}),
                    BatchPoint(T0 + S // 2, {"n": 4.0, "usage": 1e-7}, {"host": "a"}),
                ],
            )
            # the batch without points is skipped, as readBatchFromIO skips it
        ],
        [Batch("mem", T0, {}, [BatchPoint(T0, {"s": "<ok>", "up": True}, {})], by_name=True)],
        [],
    ]
    assert isinstance(files[0][0].points[0].fields["n"], float)  # every JSON number is a float64


def test_encode_batches_writes_what_kapacitor_writes() -> None:
    batches = [
        Batch(
            "cpu",
            T0,
            {"host": "a"},
            [
                BatchPoint(T0 - 5 * S, {"usage": 97.5, "n": 3}, {"host": "a"}),
                BatchPoint(T0 + S // 2, {"usage": 1e-7, "n": 4}, {"host": "a"}),
            ],
        ),
        Batch("cpu", T0, {"host": "b"}, []),
    ]
    mem = [Batch("mem", T0, {}, [BatchPoint(T0, {"up": True, "s": "<ok>"}, {})], by_name=True)]
    data = encode_batches([batches, mem, []])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert [i.filename for i in archive.infolist()] == ["0", "1", "2"]
        assert archive.read("0") == BRPL_ENTRY_0
        assert archive.read("1") == BRPL_ENTRY_1.replace(
            b"2006-01-02T16:04:05+01:00", b"2006-01-02T15:04:05Z"
        )
        assert archive.read("2") == b""
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
    assert encode_batches([]) and decode_batches(encode_batches([])) == []


def test_batch_omissions() -> None:
    data = encode_batches([[Batch("", GO_ZERO_TIME, {}, [BatchPoint(1, {"v": 1.5}, {"t": "x"})])]])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("0") == (
            b'{"tmax":"0001-01-01T00:00:00Z","points":[{"fields":{"v":1.5},"tags":{"t":"x"},'
            b'"time":"1970-01-01T00:00:00.000000001Z"}]}\n'
        )


def test_batch_entries_keep_the_archive_order() -> None:
    line = b'{"name":"%s","points":[{"fields":{"v":1},"time":"2006-01-02T15:04:05Z"}]}\n'
    files = decode_batches(go_zip([("1", line % b"one"), ("0", line % b"zero")]))
    assert [f[0].name for f in files] == ["one", "zero"]


def test_batch_decoding_is_as_lenient_as_kapacitor() -> None:
    text = (
        # a wrong type is dropped (Kapacitor ignores json.Unmarshal's error); keys ignore case
        b'{"NAME":"a","byname":1,"tags":{"h":"x","n":5},"points":[{"fields":{"v":1,"z":null,"l":[1]},'
        b'"time":"2006-01-02T15:04:05Z"}]}\n'
        # a bad time stops decoding there: the points after it are not read
        b'{"name":"b","tmax":"nope","points":[{"fields":{"v":1},"time":"2006-01-02T15:04:05Z"}]}\n'
        b'{"name":"c","points":[{"fields":{"v":1},"time":"2006-01-02T15:04:05Z"},{"fields":{"v":2},"time":7}]}\n'
        # not an object: nothing, skipped
        b'5 [1] null "x"\n'
        # a closing bracket ends the decoder's More()
        b"] garbage"
    )
    [batches] = decode_batches(go_zip([("0", text)]))
    assert batches == [
        Batch("a", GO_ZERO_TIME, {"h": "x", "n": ""}, [BatchPoint(T0, {"v": 1.0}, {"h": "x", "n": ""})]),
        Batch(
            "c", GO_ZERO_TIME, {}, [BatchPoint(T0, {"v": 1.0}, {}), BatchPoint(GO_ZERO_TIME, {"v": 2.0}, {})]
        ),
    ]


def test_batch_file_errors() -> None:
    assert error_of(decode_batches, b"not a zip") == "zip: not a valid zip file"
    assert error_of(decode_batches, b"") == "zip: not a valid zip file"
    bad = go_zip([("0", b'{"name":"a"}\n{bad')])
    assert error_of(decode_batches, bad) == "invalid character 'b' looking for beginning of object key string"
    assert error_of(decode_batches, go_zip([("0", b'{"name":"a"')])) == "unexpected EOF"
    assert (
        error_of(decode_batches, go_zip([("0", b"NaN")]))
        == "invalid character 'N' looking for beginning of value"
    )
    whole = go_zip([("0", BRPL_ENTRY_0)])
    corrupt = bytearray(whole)
    for crc_at in (whole.index(b"PK\x07\x08") + 4, whole.index(b"PK\x01\x02") + 16):
        corrupt[crc_at : crc_at + 4] = b"\1\2\3\4"  # the descriptor's and the directory's CRC
    corrupt = bytes(corrupt)
    assert error_of(decode_batches, corrupt) == "zip: checksum error"


def test_encode_batches_refuses_nan() -> None:
    with pytest.raises(TicklessError):
        encode_batches([[Batch("a", 1, {}, [BatchPoint(1, {"v": float("inf")}, {})])]])


_STRING = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
_FIELD = st.one_of(
    st.integers(-(1 << 63), (1 << 63) - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    _STRING,
)
_TIME = st.integers(MIN_TIME, MAX_TIME)
_TAGS = st.dictionaries(_STRING, _STRING, max_size=3)
_BATCH = st.builds(
    Batch,
    _STRING,
    _TIME,
    _TAGS,
    st.lists(
        st.builds(BatchPoint, _TIME, st.dictionaries(_STRING, _FIELD, max_size=3), _TAGS),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
)


def as_read(b: Batch) -> Batch:
    """What Kapacitor reads back: numbers as floats, a point without tags taking the batch's."""
    points = [
        BatchPoint(
            p.time,
            {
                k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                for k, v in p.fields.items()
            },
            dict(p.tags or b.tags),
        )
        for p in b.points
    ]
    return Batch(b.name, b.tmax, dict(b.tags), points, b.by_name)


def batch_key(b: Batch) -> tuple:
    return (b.name, b.tmax, b.tags, b.by_name, b.group, [(p.time, typed(p.fields), p.tags) for p in b.points])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_BATCH, max_size=3), max_size=3))
def test_batch_round_trip(queries: list[list[Batch]]) -> None:
    files = decode_batches(encode_batches(queries))
    assert [[batch_key(b) for b in f] for f in files] == [[batch_key(as_read(b)) for b in q] for q in queries]
