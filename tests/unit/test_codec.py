"""The segment codec: exact round trips, partial decoding, the header index and corrupt data."""

from __future__ import annotations

import contextlib
import math
import random
import struct
import zlib

import pytest

from chalicelib.kit.points import UInt
from chalicelib.series import codec, columns
from chalicelib.series.codec import SeriesSummary
from chalicelib.series.columns import Column, SeriesColumns

I64_MIN, I64_MAX, U64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


def exact(cols: SeriesColumns) -> tuple:
    """A comparable form that tells 1 from 1.0 from True from UInt(1), and 0.0 from -0.0."""

    def value(v):
        if type(v) is float:
            return ("float", struct.pack("<d", v))
        return (type(v).__name__, v)

    return (
        list(cols.times),
        {name: (c.type, [value(v) for v in c.values]) for name, c in cols.fields.items()},
    )


def round_trip(series: dict[str, SeriesColumns]) -> dict[str, SeriesColumns]:
    decoded = codec.decode_segment(codec.encode_segment(series))
    assert list(decoded) == [key for key, cols in series.items() if cols.times]
    for key, cols in decoded.items():
        assert exact(cols) == exact(series[key]), key
    return decoded


def one(type_name: str, values: list, times: list[int] | None = None) -> dict[str, SeriesColumns]:
    times = times if times is not None else list(range(len(values)))
    return {"m,t=1": SeriesColumns(times, {"f": Column(type_name, values)})}


# -- round trips -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "values"),
    [
        pytest.param("float", [0.0, -0.0, 1.5, -2.25, 1e308, -1e-308, 5e-324], id="float-bits"),
        pytest.param("float", [math.inf, -math.inf, 1.0], id="float-inf"),
        pytest.param("float", [0.1, 0.2, 0.30000000000000004, 1 / 3], id="float-not-decimal"),
        pytest.param("float", [12.34, 12.35, 12.3, 99.99, -0.01], id="float-2-decimals"),
        pytest.param("float", [1.0, 2.0, 3.0, 1e15, -7.0], id="float-whole"),
        pytest.param("float", [1.0, 2.0, -0.0, 3.0], id="float-negative-zero-after-decimals"),
        pytest.param("float", [1e18, -1e18, 1.5], id="float-scaled-overflow"),
        pytest.param("float", [12.5] * 20 + [math.pi], id="float-sample-misleads"),
        pytest.param("integer", [0, 1, -1, I64_MIN, I64_MAX, 0], id="integer-extremes"),
        pytest.param("integer", [I64_MIN, I64_MAX], id="integer-delta-overflow"),
        pytest.param("integer", [5, 5, 5, 6, 4, 1000, -70000, 2**40], id="integer-widths"),
        pytest.param("unsigned", [UInt(0), UInt(U64_MAX), UInt(1), UInt(2**63)], id="unsigned-extremes"),
        pytest.param("unsigned", [UInt(U64_MAX), UInt(U64_MAX - 1)], id="unsigned-large-first"),
        pytest.param("unsigned", [UInt(7)] * 10 + [UInt(8)], id="unsigned-repeated"),
        pytest.param("boolean", [True, False, False, True], id="boolean"),
        pytest.param(
            "string", ["", "a", "", "héllo wörld", "日本語", "🙂 emoji", "line\nbreak", '"q"'], id="string"
        ),
        pytest.param("string", ["\ud800 lone surrogate", "\x00nul"], id="string-odd"),
        pytest.param("string", ["x" * 70_000], id="string-long"),
    ],
)
def test_round_trip_values(type_name, values):
    round_trip(one(type_name, values))


@pytest.mark.parametrize(
    "times",
    [
        pytest.param([0], id="zero"),
        pytest.param([-(10**18), -1, 0, 1, 10**18], id="around-1970"),
        pytest.param([I64_MIN, I64_MAX], id="int64-extremes"),
        pytest.param([I64_MIN, 0, I64_MAX], id="huge-gaps"),
        pytest.param([1_700_000_000_000_000_000 + i * 10_000_000_000 for i in range(1000)], id="regular"),
        pytest.param([1, 2, 300, 70_000, 5_000_000_000, 5_000_000_001], id="widths"),
    ],
)
def test_round_trip_times(times):
    round_trip(one("integer", list(range(len(times))), times))


@pytest.mark.parametrize(
    "values",
    [
        [None, 1, None],
        [1, None, None, None],
        [None, None, None, 4],
        [None] * 50 + [7] + [None] * 50,
    ],
)
@pytest.mark.parametrize("type_name", ["float", "integer", "unsigned", "boolean", "string"])
def test_round_trip_null_gaps(type_name, values):
    convert = {"float": float, "integer": int, "unsigned": UInt, "boolean": bool, "string": str}[type_name]
    typed = [None if v is None else convert(v) for v in values]
    series = {
        "m": SeriesColumns(
            list(range(len(values))),
            {"dense": Column("integer", [0] * len(values)), "gappy": Column(type_name, typed)},
        )
    }
    round_trip(series)


def test_round_trip_many_series_and_fields():
    series = {
        "cpu,host=a": SeriesColumns(
            [1, 2], {"usage": Column("float", [1.5, 2.5]), "n": Column("integer", [1, 2])}
        ),
        "cpu,host=b\\ c": SeriesColumns([-5], {"usage": Column("float", [0.0])}),
        "mém,hôst=ü": SeriesColumns([7], {"fïeld wïth spaces": Column("string", ["v"])}),
        "empty": SeriesColumns(),
    }
    round_trip(series)


def test_round_trip_empty_segment():
    data = codec.encode_segment({})
    assert codec.decode_segment(data) == {}
    assert codec.segment_index(data) == []


def test_large_series_get_their_own_blocks_and_small_ones_share():
    rng = random.Random(3)
    series = {f"s{i:03d}": _random_series(rng, rng.randint(1, 3)) for i in range(300)}
    series["big"] = _random_series(rng, 20_000)
    data = codec.encode_segment(series)
    header = codec._read_header(data)
    assert 1 < len(header.blocks) < 40
    round_trip(series)


def test_first_byte_is_the_version():
    assert codec.encode_segment(one("integer", [1]))[0] == codec.VERSION == 1


def test_encoding_is_deterministic():
    series = {"a": _random_series(random.Random(1), 100), "b": _random_series(random.Random(2), 5)}
    assert codec.encode_segment(series) == codec.encode_segment(series)


def test_compression_of_regular_data():
    times = [1_700_000_000_000_000_000 + i * 10_000_000_000 for i in range(10_000)]
    rng = random.Random(5)
    usage, level = [], 50.0
    for _ in times:
        level = min(100.0, max(0.0, level + rng.gauss(0, 0.5)))
        usage.append(round(level, 2))
    series = {
        "cpu": SeriesColumns(
            times, {"usage": Column("float", usage), "total": Column("integer", [8] * len(times))}
        )
    }
    data = codec.encode_segment(series)
    assert len(data) / len(times) < 3  # 2 values and a timestamp in under 3 bytes
    round_trip(series)


# -- partial decoding and the index -------------------------------------------------------------------


def _three() -> dict[str, SeriesColumns]:
    return {
        "cpu,host=a": SeriesColumns(
            [10, 20], {"v": Column("float", [1.0, 2.0]), "s": Column("string", ["x", None])}
        ),
        "cpu,host=b": SeriesColumns([-30, 5, 40], {"v": Column("float", [3.0, 4.0, 5.0])}),
        "cpu,host=c": SeriesColumns([7], {"s": Column("string", ["y"])}),
    }


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (None, ["cpu,host=a", "cpu,host=b", "cpu,host=c"]),
        ({"cpu,host=b"}, ["cpu,host=b"]),
        (["cpu,host=c", "cpu,host=a"], ["cpu,host=a", "cpu,host=c"]),
        ({"cpu,host=zzz"}, []),
        (set(), []),
    ],
)
def test_decode_selected_series(keys, expected):
    series = _three()
    decoded = codec.decode_segment(codec.encode_segment(series), keys)
    assert list(decoded) == expected
    for key in expected:
        assert exact(decoded[key]) == exact(series[key])


def test_decode_selected_series_skips_other_blocks():
    rng = random.Random(9)
    series = {f"big{i}": _random_series(rng, 20_000) for i in range(3)}
    data = bytearray(codec.encode_segment(series))
    header = codec._read_header(bytes(data))
    start, length, _ = header.blocks[2]
    data[start : start + length] = bytes(length)  # wreck the last series' block
    decoded = codec.decode_segment(bytes(data), {"big0"})
    assert exact(decoded["big0"]) == exact(series["big0"])
    with pytest.raises(ValueError, match="corrupt"):
        codec.decode_segment(bytes(data), {"big2"})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            ["v"],
            {
                "cpu,host=a": [(10, {"v": 1.0}), (20, {"v": 2.0})],
                "cpu,host=b": [(-30, {"v": 3.0}), (5, {"v": 4.0}), (40, {"v": 5.0})],
            },
        ),
        (["s"], {"cpu,host=a": [(10, {"s": "x"})], "cpu,host=c": [(7, {"s": "y"})]}),
        (["nope"], {}),
    ],
)
def test_decode_selected_fields(fields, expected):
    decoded = codec.decode_segment(codec.encode_segment(_three()), None, fields)
    assert {key: list(columns.rows(cols)) for key, cols in decoded.items()} == expected


def test_segment_index():
    data = codec.encode_segment(_three())
    assert codec.segment_index(data) == [
        SeriesSummary("cpu,host=a", 10, 20, 2),
        SeriesSummary("cpu,host=b", -30, 40, 3),
        SeriesSummary("cpu,host=c", 7, 7, 1),
    ]


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("series", "message"),
    [
        ({"k": SeriesColumns([2, 1], {"f": Column("float", [1.0, 2.0])})}, "ascending"),
        ({"k": SeriesColumns([1, 1], {"f": Column("float", [1.0, 2.0])})}, "ascending"),
        ({"k": SeriesColumns([1, 2], {"f": Column("float", [1.0])})}, "values"),
        ({"k": SeriesColumns([1], {"f": Column("decimal", [1])})}, "type"),
        ({"k": SeriesColumns([1], {"f": Column("integer", [2**63])})}, "k"),
        ({"k": SeriesColumns([1], {"f": Column("unsigned", [UInt(2**64)])})}, "k"),
        ({"k": SeriesColumns([1], {"f": Column("unsigned", [-1])})}, "-1 is out of range"),
        ({"k": SeriesColumns([1, 2], {"f": Column("unsigned", [UInt(1), UInt(2**64)])})}, "out of range"),
        ({"k": SeriesColumns([1, 2], {"f": Column("integer", [1, 2**63])})}, "out of range"),
        ({"k": SeriesColumns([1, 2], {"f": Column("integer", [1, -(2**63) - 1])})}, "out of range"),
        ({"k": SeriesColumns([1, 2**63], {"f": Column("integer", [1, 2])})}, "out of range"),
        ({"k": SeriesColumns([1], {"f": Column("string", [5])})}, "string"),
        ({"k": SeriesColumns([2**63], {"f": Column("integer", [1])})}, "k"),
    ],
)
def test_encode_rejects_bad_columns(series, message):
    with pytest.raises(ValueError, match=message):
        codec.encode_segment(series)


def _corruptions() -> list:
    good = codec.encode_segment(_three())
    header_length = struct.unpack_from("<I", good, 1)[0]
    cases = [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x01", id="version-only"),
        pytest.param(bytes([2]) + good[1:], id="unknown-version"),
        pytest.param(bytes([0]) + good[1:], id="version-zero"),
        pytest.param(good[:-1], id="truncated"),
        pytest.param(good + b"\x00", id="trailing-byte"),
        pytest.param(good[:3], id="truncated-length"),
        pytest.param(good[:1] + struct.pack("<I", 10**9) + good[5:], id="huge-header-length"),
        pytest.param(good[:5] + bytes(header_length) + good[5 + header_length :], id="zeroed-header"),
        pytest.param(good[: 5 + header_length] + bytes(len(good) - 5 - header_length), id="zeroed-block"),
        pytest.param(b"not a segment at all", id="text"),
    ]
    # A header that inflates but describes nonsense.
    header = bytearray(zlib.decompress(good[5 : 5 + header_length]))
    bad_block = header.copy()
    bad_block[-4 * 3 : -4 * 2] = struct.pack("<I", 99)  # last series: block number 99
    cases.append(pytest.param(_with_header(good, header_length, bad_block), id="bad-block-number"))
    bad_count = header.copy()
    bad_count[-4 * 4 : -4 * 3] = struct.pack("<I", 2)  # last series: 2 points instead of 1
    cases.append(pytest.param(_with_header(good, header_length, bad_count), id="bad-count"))
    bad_length = header.copy()
    bad_length[-4:] = struct.pack("<I", 10**6)
    cases.append(pytest.param(_with_header(good, header_length, bad_length), id="bad-series-length"))
    cases.append(pytest.param(_with_header(good, header_length, header + b"x"), id="header-trailing"))
    return cases


def _with_header(good: bytes, header_length: int, header: bytes) -> bytes:
    packed = zlib.compress(bytes(header))
    return good[:1] + struct.pack("<I", len(packed)) + packed + good[5 + header_length :]


@pytest.mark.parametrize("data", _corruptions())
def test_corrupt_data_raises_value_error(data):
    with pytest.raises(ValueError, match="segment") as caught:
        codec.decode_segment(data)
    assert isinstance(caught.value, codec.CorruptSegment)


@pytest.mark.parametrize("data", _corruptions()[:9])
def test_corrupt_header_raises_value_error_in_index(data):
    with pytest.raises(ValueError, match="segment"):
        codec.segment_index(data)


def test_unknown_version_message():
    data = bytes([7]) + codec.encode_segment(_three())[1:]
    with pytest.raises(ValueError, match="unknown segment version 7"):
        codec.decode_segment(data)


def test_random_bit_flips_never_escape_as_other_errors():
    rng = random.Random(11)
    good = codec.encode_segment({"a": _random_series(rng, 200), "b": _random_series(rng, 3)})
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        with contextlib.suppress(ValueError):  # anything else fails the test
            codec.decode_segment(bytes(data))


def _corrupt_block_payload(mutate) -> bytes:
    """A segment whose single block inflates fine but holds a mutated series payload."""
    good = codec.encode_segment({"k": SeriesColumns([1, 2], {"f": Column("integer", [1, 2])})})
    header_length = struct.unpack_from("<I", good, 1)[0]
    raw = bytearray(zlib.decompress(good[5 + header_length :]))
    raw = mutate(raw)
    block = zlib.compress(bytes(raw))
    header = bytearray(zlib.decompress(good[5 : 5 + header_length]))
    struct.pack_into("<II", header, 4, len(block), len(raw))
    struct.pack_into("<I", header, len(header) - 4, len(raw))
    return _with_header(good[: 5 + header_length], header_length, header) + block


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda raw: raw[:-1], id="short-payload"),
        pytest.param(lambda raw: raw + b"\x00", id="long-payload"),
        pytest.param(lambda raw: raw[:4] + b"\x09" + raw[5:], id="unknown-time-encoding"),
        pytest.param(lambda raw: raw[:4] + b"\x01\x03" + raw[6:], id="bad-width"),
    ],
)
def test_corrupt_series_payload(mutate):
    with pytest.raises(codec.CorruptSegment):
        codec.decode_segment(_corrupt_block_payload(mutate))


def test_corrupt_series_payload_helper_is_sound():
    data = _corrupt_block_payload(lambda raw: raw)
    assert list(columns.rows(codec.decode_segment(data)["k"])) == [(1, {"f": 1}), (2, {"f": 2})]


# -- property-style: random data round trips ----------------------------------------------------------

_GENERATORS = {
    "float": lambda rng: rng.choice(
        [
            rng.uniform(-1e6, 1e6),
            round(rng.uniform(-100, 100), rng.randint(0, 4)),
            -0.0,
            0.0,
            float(rng.randint(-9, 9)),
        ]
    ),
    "integer": lambda rng: rng.choice(
        [rng.randint(I64_MIN, I64_MAX), rng.randint(-5, 5), rng.randint(0, 2**20)]
    ),
    "unsigned": lambda rng: UInt(rng.choice([rng.randint(0, U64_MAX), rng.randint(0, 9)])),
    "boolean": lambda rng: rng.random() < 0.5,
    "string": lambda rng: "".join(rng.choice("ab é日🙂\n\"'\\,= ") for _ in range(rng.randint(0, 12))),
}


def _random_series(rng: random.Random, n: int) -> SeriesColumns:
    start = rng.choice([0, -(10**18), 1_700_000_000_000_000_000, rng.randint(-(2**62), 2**62)])
    step = rng.choice([1, 1_000_000_000, 10_000_000_000, None])
    times, t = [], start
    for _ in range(n):
        times.append(t)
        t += step if step is not None else rng.randint(1, 10**12)
    fields = {}
    for i in range(rng.randint(1, 6)):
        type_name = rng.choice(list(_GENERATORS))
        density = rng.choice([1.0, 1.0, 0.5, 0.05])
        values = [_GENERATORS[type_name](rng) if rng.random() < density else None for _ in range(n)]
        if all(v is None for v in values):
            values[rng.randrange(n)] = _GENERATORS[type_name](rng)
        fields[f"f{i}_{type_name}"] = Column(type_name, values)
    return SeriesColumns(times, fields)


def test_random_round_trips():
    rng = random.Random(20240601)
    for _ in range(150):
        series = {
            f"m,k={i}": _random_series(rng, rng.choice([1, 2, 17, 300])) for i in range(rng.randint(1, 8))
        }
        data = codec.encode_segment(series)
        round_trip(series)
        assert codec.segment_index(data) == [
            SeriesSummary(key, cols.times[0], cols.times[-1], len(cols.times)) for key, cols in series.items()
        ]
        wanted = set(rng.sample(sorted(series), rng.randint(0, len(series))))
        partial = codec.decode_segment(data, wanted)
        assert set(partial) == wanted
        for key in wanted:
            assert exact(partial[key]) == exact(series[key])


def test_store_pipeline_on_random_writes():
    """from_rows -> encode -> decode -> merge -> slice agrees with replaying the rows."""
    rng = random.Random(99)
    for _ in range(50):
        writes = []
        for _ in range(rng.randint(1, 4)):
            rows = []
            for _ in range(rng.randint(1, 20)):
                fields = {name: rng.randint(-3, 3) for name in rng.sample(["a", "b", "c"], rng.randint(1, 3))}
                rows.append((rng.randint(-50, 50), fields))
            writes.append(rows)
        decoded = [
            codec.decode_segment(codec.encode_segment({"s": columns.from_rows(rows)}))["s"] for rows in writes
        ]
        start, stop = sorted(rng.sample(range(-60, 60), 2))
        merged = columns.slice_time(columns.merge(decoded), start, stop)
        expected: dict[int, dict] = {}
        for rows in writes:
            for time, fields in rows:
                expected.setdefault(time, {}).update(fields)
        assert list(columns.rows(merged)) == sorted((t, f) for t, f in expected.items() if start <= t < stop)
