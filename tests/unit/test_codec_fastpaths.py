"""Round trips through the decoder's fast paths: sequences with one repeated difference (regular
timestamps, constant or steadily changing values) decode without per-value work, and must decode to
exactly what was encoded, whatever the sign or size of the difference."""

from __future__ import annotations

import pytest

from chalicelib.kit.points import UInt
from chalicelib.series import codec, columns

NS = 1_000_000_000
START = 1_609_459_200 * NS
INT64_MAX = (1 << 63) - 1


def round_trip(rows: list[tuple[int, dict]]) -> columns.SeriesColumns:
    cols = columns.from_rows(rows)
    decoded = codec.decode_segment(codec.encode_segment({"m,t=a": cols}))["m,t=a"]
    assert decoded == cols
    return decoded


@pytest.mark.parametrize(
    "values",
    [
        [5] * 10,  # zero difference
        list(range(100, 0, -7)),  # negative difference
        [INT64_MAX - 3 * i for i in range(4)],  # near the top of int64
        [-(1 << 63) + 1000 * i for i in range(5)],  # from the bottom of int64
        [0, 1],  # two values: one difference
        [42],  # one value: no difference
        [1, 2, 4, 8, 16],  # irregular: the general path
    ],
)
def test_integer_sequences(values):
    rows = [(START + i * 10 * NS, {"i": v}) for i, v in enumerate(values)]
    assert round_trip(rows).fields["i"].values == values


def test_regular_and_irregular_timestamps():
    regular = [(START + i * 10 * NS, {"v": float(i)}) for i in range(500)]
    assert round_trip(regular).times == [START + i * 10 * NS for i in range(500)]
    irregular = [(START + i * i, {"v": 1.5}) for i in range(1, 50)]
    assert round_trip(irregular).times == [START + i * i for i in range(1, 50)]


def test_floats_and_unsigned_with_constant_differences():
    rows = [(START + i, {"f": 0.25 * i, "c": 2.5, "u": UInt(10 + i)}) for i in range(40)]
    decoded = round_trip(rows)
    assert decoded.fields["f"].values == [0.25 * i for i in range(40)]
    assert decoded.fields["c"].values == [2.5] * 40
    assert all(type(v) is UInt for v in decoded.fields["u"].values)


def test_a_truncated_sequence_is_corrupt_not_short():
    cols = columns.from_rows([(START + i * NS, {"v": i}) for i in range(20)])
    payload = bytes(codec._encode_series(cols))
    with pytest.raises((codec.CorruptSegment, ValueError)):
        codec._decode_series(memoryview(payload[:-3]), None)
