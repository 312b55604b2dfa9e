"""The Kinesis envelope of points: round trips, size bounds, ordering and corrupt records."""

import json
import random
import zlib

import pytest

from chalicelib.ingest import records
from chalicelib.ingest.records import Destination, RecordError
from chalicelib.kit.points import Point, UInt

DEST = Destination("0123456789abcdef", "mydb", "autogen")


def point(measurement: str, host: str, time: int, **fields) -> Point:
    return Point(f"{measurement},host={host}", measurement, (("host", host),), fields, time)


def test_round_trip_keeps_types_and_order():
    points = [
        point("cpu", "a", 2, value=1.5, n=3, u=UInt(2**64 - 1), ok=True, s="x y"),
        point("cpu", "a", 1, value=-0.0),
        point("cpu", "b", 1, value=2.0),
        point("mem", "a", 1, used=10),
    ]
    encoded = records.encode(DEST, points)
    assert len(encoded) == 2  # one record per measurement
    keys = [key for key, _ in encoded]
    assert keys == [records.partition_key(DEST, "cpu"), records.partition_key(DEST, "mem")]
    cpu = records.decode(encoded[0][1])
    assert cpu.destination == DEST
    a, b = cpu.series
    assert (a.key, a.measurement, a.tags) == ("cpu,host=a", "cpu", (("host", "a"),))
    assert a.rows == [
        (2, {"value": 1.5, "n": 3, "u": UInt(2**64 - 1), "ok": True, "s": "x y"}),
        (1, {"value": -0.0}),
    ]
    assert type(a.rows[0][1]["u"]) is UInt and type(a.rows[0][1]["n"]) is int
    assert type(a.rows[0][1]["value"]) is float and type(b.rows[0][1]["value"]) is float
    assert str(a.rows[1][1]["value"]) == "-0.0"


def test_large_batches_split_under_the_kinesis_record_limit():
    rng = random.Random(7)
    points = [
        point("cpu", f"h{i % 500}", i, value=rng.random(), text="".join(rng.choices("abcdef", k=40)))
        for i in range(60_000)
    ]
    encoded = records.encode(DEST, points)
    assert len(encoded) > 1
    assert all(len(data) <= records.MAX_RECORD_BYTES for _, data in encoded)
    decoded = [s for _, data in encoded for s in records.decode(data).series]
    assert sum(len(s.rows) for s in decoded) == len(points)


def test_partition_key_is_bounded():
    key = records.partition_key(DEST, "m" * 400)
    assert len(key) <= 256


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not zlib", "undecodable"),
        (zlib.compress(b"{not json"), "undecodable"),
        (zlib.compress(json.dumps({"v": 99}).encode()), "unknown points record version: 99"),
        (zlib.compress(json.dumps({"v": 1, "ns": "x"}).encode()), "malformed"),
        (
            zlib.compress(json.dumps({"v": 1, "ns": "x", "db": "d", "rp": "r", "s": [[1]]}).encode()),
            "malformed",
        ),
    ],
)
def test_corrupt_records_raise_record_error(data, message):
    with pytest.raises(RecordError, match=message):
        records.decode(data)
