"""Storage key ordering and InfluxDB 1.x output formatting."""

import pytest

from chalicelib.influxql.engine import output
from chalicelib.kit.time import MAX_TIME, MIN_TIME
from chalicelib.series import keys


def test_block_keys_sort_like_time_including_before_1970():
    times = [-(10**18), -1, 0, 1, keys.BLOCK_NS, 10**18, MIN_TIME, MAX_TIME]
    ordered = sorted(times)
    assert sorted(times, key=lambda t: keys.block_key(keys.block_of(t))) == ordered
    for t in times:
        assert keys.block_from_key(keys.block_key(keys.block_of(t))) == keys.block_of(t)


def test_sequence_keys_sort_numerically():
    seqs = ["9", "10", "49590338271490256608559692538361571095921575989136588898", "100"]
    assert sorted(seqs, key=keys.sequence_key) == sorted(seqs, key=int)


def test_sort_key_range_covers_blocks():
    first, last = keys.sort_key_range(0, keys.BLOCK_NS * 2)
    inside = keys.segment_sort_key(2, "123", 0)
    assert first <= keys.segment_sort_key(0, "1", 0) <= last
    assert first <= inside <= last
    assert not first <= keys.segment_sort_key(3, "1", 0) <= last


@pytest.mark.parametrize(
    "value, text",
    [
        (1.0, "1"),
        (0.5, "0.5"),
        (-2.25, "-2.25"),
        (1e16, "10000000000000000"),
        (1.5e-5, "0.000015"),
        (1e-7, "1e-07"),
        (1e21, "1e+21"),
        (123456789.123, "123456789.123"),
        (0.0, "0"),
    ],
)
def test_go_float(value, text):
    assert output.go_float(value) == text


def test_epoch_formatter():
    assert output.time_formatter("s")(1_500_000_000_000) == 1500
    assert output.time_formatter("ms")(1_500_000_000_001) == 1_500_000
    assert output.time_formatter("ns")(5) == 5
    assert output.time_formatter(None)(0) == "1970-01-01T00:00:00Z"


def test_to_json_uses_go_floats():
    payload = {"results": [{"statement_id": 0, "series": [{"values": [["t", 1.0, 2, None, True, "x"]]}]}]}
    assert output.to_json(payload) == (
        '{"results":[{"statement_id":0,"series":[{"values":[["t",1,2,null,true,"x"]]}]}]}'
    )
