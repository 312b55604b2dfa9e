"""The series store on DynamoDB (moto): segments, newest-write-wins merging, reads, deletes, retention."""

from __future__ import annotations

import itertools
import random

import pytest

from chalicelib.ingest.records import Destination, PointBatch, SeriesRows
from chalicelib.kit.points import UInt
from chalicelib.kit.time import MAX_TIME, MIN_TIME
from chalicelib.series import keys

_namespaces = itertools.count()
HOUR = keys.BLOCK_NS


@pytest.fixture
def store(aws):
    from chalicelib.adapters.series import DynamoCompactionLog, DynamoIndex, DynamoSegments, DynamoTombstones
    from chalicelib.series.store import SeriesStore

    return SeriesStore(DynamoSegments(), DynamoIndex(), DynamoCompactionLog(), DynamoTombstones())


@pytest.fixture
def ns() -> str:
    return f"{next(_namespaces):016x}"


def batch(ns: str, *series: tuple[str, list[tuple[int, dict]]], measurement: str = "cpu") -> PointBatch:
    out = []
    for host, rows in series:
        out.append(SeriesRows(f"{measurement},host={host}", measurement, (("host", host),), rows))
    return PointBatch(Destination(ns, "db", "rp"), out)


def read(store, ns, measurement="cpu", **kwargs) -> dict[str, list[tuple[int, dict]]]:
    from chalicelib.series import columns

    found: dict[str, list] = {}
    for block in store.scan(ns, measurement, **kwargs):
        for key, cols in block.items():
            found.setdefault(key, []).extend(columns.rows(cols))
    return found


def test_newer_write_wins_per_field_across_segments(store, ns):
    store.ingest("100", batch(ns, ("a", [(1, {"v": 1.0, "w": 10}), (2, {"v": 2.0})])))
    store.ingest("200", batch(ns, ("a", [(1, {"v": 5.0})])))
    assert read(store, ns) == {"cpu,host=a": [(1, {"v": 5.0, "w": 10}), (2, {"v": 2.0})]}


def test_a_late_retry_of_an_older_record_does_not_overwrite_newer_points(store, ns):
    store.ingest("200", batch(ns, ("a", [(1, {"v": 5.0})])))
    store.ingest("100", batch(ns, ("a", [(1, {"v": 1.0})])))  # processed later, written earlier
    assert read(store, ns) == {"cpu,host=a": [(1, {"v": 5.0})]}


def test_redelivery_is_idempotent(store, ns):
    from chalicelib.adapters.series import ChunkItem

    record = batch(ns, ("a", [(t, {"v": float(t)}) for t in range(0, 3 * HOUR, HOUR // 2)]))
    store.ingest("300", record)
    items = list(ChunkItem.query(f"{ns}|cpu"))
    store.ingest("300", record)
    again = list(ChunkItem.query(f"{ns}|cpu"))
    assert [i.sk for i in items] == [i.sk for i in again]
    assert len(items) == 3  # one segment per hour block
    assert len(read(store, ns)["cpu,host=a"]) == 6


def test_time_range_series_and_field_selection(store, ns):
    store.ingest(
        "1",
        batch(
            ns,
            ("a", [(t, {"v": t, "s": "x"}) for t in range(0, 10 * HOUR, HOUR)]),
            ("b", [(t, {"v": -t}) for t in range(0, 10 * HOUR, HOUR)]),
        ),
    )
    got = read(store, ns, tmin=2 * HOUR, tmax=4 * HOUR, series_keys={"cpu,host=b"}, fields={"v"})
    assert got == {
        "cpu,host=b": [
            (2 * HOUR, {"v": -2 * HOUR}),
            (3 * HOUR, {"v": -3 * HOUR}),
            (4 * HOUR, {"v": -4 * HOUR}),
        ]
    }
    only_s = read(store, ns, fields={"s"}, tmax=HOUR)
    assert only_s == {"cpu,host=a": [(0, {"s": "x"}), (HOUR, {"s": "x"})]}
    blocks = list(store.scan(ns, "cpu", tmin=0, tmax=3 * HOUR, descending=True))
    assert [min(c.times[0] for c in b.values()) for b in blocks] == [3 * HOUR, 2 * HOUR, HOUR, 0]


def test_points_before_1970_and_every_type(store, ns):
    rows = [(-5 * HOUR, {"f": 1.5, "i": -3, "u": UInt(2**64 - 1), "b": False, "s": "ünï"}), (-1, {"f": -0.0})]
    store.ingest("1", batch(ns, ("a", rows)))
    got = read(store, ns)["cpu,host=a"]
    assert got == rows
    assert type(got[0][1]["u"]) is UInt


def test_index_lists_measurements_series_and_field_types(store, ns):
    store.ingest("1", batch(ns, ("a", [(1, {"v": 1.0})]), ("b", [(1, {"v": 1.0})])))
    store.ingest("2", batch(ns, ("a", [(1, {"x": 1})]), measurement="mem"))
    assert sorted(store.index.measurements(ns)) == ["cpu", "mem"]
    assert [e.key for e in store.index.series(ns, "cpu")] == ["cpu,host=a", "cpu,host=b"]
    assert store.index.series(ns, "cpu")[0].tags == (("host", "a"),)
    assert store.index.claim_fields(ns, "cpu", {"v": "float"}) == {"v": "float"}
    assert store.index.claim_fields(ns, "cpu", {"v": "integer", "w": "string"}) == {
        "v": "float",
        "w": "string",
    }
    assert store.index.field_types(ns, "cpu") == {"v": "float", "w": "string"}


def test_large_records_split_into_segments_under_the_item_limit(store, ns):
    from chalicelib.adapters.series import ChunkItem

    rng = random.Random(3)
    text = lambda: "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=200))  # noqa: E731
    rows = [(t * 1000, {"s": text(), "v": rng.random()}) for t in range(4000)]
    store.ingest("9", batch(ns, *[(f"h{i}", rows) for i in range(3)]))
    items = list(ChunkItem.query(f"{ns}|cpu"))
    assert len(items) > 1
    assert all(len(i.data) <= 350_000 for i in items)
    got = read(store, ns)
    assert {k: len(v) for k, v in got.items()} == {f"cpu,host=h{i}": 4000 for i in range(3)}


def test_delete_by_time_range_and_series(store, ns):
    store.ingest(
        "1",
        batch(
            ns,
            ("a", [(t, {"v": 1.0}) for t in range(0, 4 * HOUR, HOUR)]),
            ("b", [(t, {"v": 2.0}) for t in range(0, 4 * HOUR, HOUR)]),
        ),
    )
    removed = store.delete(ns, "cpu", tmin=HOUR, tmax=2 * HOUR, series_keys={"cpu,host=a"})
    assert removed == 2
    got = read(store, ns)
    assert [t for t, _ in got["cpu,host=a"]] == [0, 3 * HOUR]
    assert len(got["cpu,host=b"]) == 4
    store.delete(ns, "cpu", series_keys={"cpu,host=b"})  # whole range: the series leaves the index
    assert [e.key for e in store.index.series(ns, "cpu")] == ["cpu,host=a"]
    store.delete(ns, "cpu")
    assert read(store, ns) == {}
    assert store.index.measurements(ns) == []


def test_expire_removes_whole_blocks_before_the_cutoff(store, ns):
    store.ingest("1", batch(ns, ("a", [(t, {"v": 1.0}) for t in range(0, 5 * HOUR, HOUR)])))
    assert store.expire(ns, before=3 * HOUR + 5) == 3
    assert [t for t, _ in read(store, ns)["cpu,host=a"]] == [3 * HOUR, 4 * HOUR]


# -- compaction ------------------------------------------------------------------------------------


def segment_keys(ns: str, measurement: str = "cpu") -> list[str]:
    from chalicelib.adapters.series import ChunkItem

    return [item.sk for item in ChunkItem.query(f"{ns}|{measurement}")]


def marks(store, ns: str) -> list:
    return sorted((d.partition, d.block) for d in store.compaction.dirty() if d.partition.startswith(ns))


def test_compaction_merges_a_blocks_segments_into_one_and_reads_do_not_change(store, ns):
    rng = random.Random(5)
    for sequence in range(10, 30):  # twenty records, each a few points of each series, rewrites included
        rows = {
            h: [
                (rng.randrange(b * HOUR, (b + 1) * HOUR, 10**11), {"v": rng.random(), "n": sequence})
                for b in (0, 1)
            ]
            for h in "abc"
        }
        store.ingest(str(sequence), batch(ns, *rows.items()))
    before = read(store, ns)
    assert len(segment_keys(ns)) == 40  # two hour blocks per record
    assert marks(store, ns) == [(f"{ns}|cpu", 0), (f"{ns}|cpu", 1)]

    assert store.compact_dirty(quiet_seconds=0) >= 40  # other tests' blocks are marked too
    assert read(store, ns) == before
    assert [keys.is_compacted(k) for k in segment_keys(ns)] == [True, True]
    assert marks(store, ns) == []
    assert store.compact(f"{ns}|cpu", 0) == 0  # nothing new: left as it is


def test_writes_after_compaction_still_win_and_are_compacted_again(store, ns):
    store.ingest("100", batch(ns, ("a", [(1, {"v": 1.0, "w": 1}), (2, {"v": 2.0})])))
    store.ingest("101", batch(ns, ("a", [(1, {"v": 3.0})])))
    store.compact_dirty(quiet_seconds=0)
    store.ingest("102", batch(ns, ("a", [(2, {"v": 9.0})])))
    store.ingest("100", batch(ns, ("a", [(1, {"v": 1.0, "w": 1}), (2, {"v": 2.0})])))  # a late redelivery
    expected = {"cpu,host=a": [(1, {"v": 3.0, "w": 1}), (2, {"v": 9.0})]}
    assert read(store, ns) == expected
    assert store.compact(f"{ns}|cpu", 0) == 3
    assert read(store, ns) == expected
    assert len(segment_keys(ns)) == 1


def test_a_recently_written_block_waits_for_quiet(store, ns):
    store.ingest("1", batch(ns, ("a", [(1, {"v": 1.0})])))
    store.ingest("2", batch(ns, ("a", [(2, {"v": 1.0})])))
    store.compact_dirty(quiet_seconds=3600)
    assert len(segment_keys(ns)) == 2
    assert marks(store, ns) == [(f"{ns}|cpu", 0)]


def test_a_block_still_being_written_is_compacted_once_it_gathers_enough_segments(store, ns, monkeypatch):
    from chalicelib.series import store as store_module

    monkeypatch.setattr(store_module, "HOT_BLOCK_SEGMENTS", 4)
    for sequence in range(1, 4):
        store.ingest(str(sequence), batch(ns, ("a", [(sequence, {"v": float(sequence)})])))
    store.compact_dirty(quiet_seconds=3600)
    assert len(segment_keys(ns)) == 3  # three new segments: not yet
    store.ingest("4", batch(ns, ("a", [(4, {"v": 4.0})])))
    store.compact_dirty(quiet_seconds=3600)
    assert [keys.is_compacted(k) for k in segment_keys(ns)] == [True]
    assert marks(store, ns) == [(f"{ns}|cpu", 0)]  # still hot: compacted again when quiet
    assert read(store, ns) == {"cpu,host=a": [(t, {"v": float(t)}) for t in range(1, 5)]}


def test_a_mark_rewritten_during_compaction_stays(store, ns):
    from chalicelib.series.ports import DirtyBlock

    store.ingest("1", batch(ns, ("a", [(1, {"v": 1.0})])))
    (seen,) = [d for d in store.compaction.dirty() if d.partition.startswith(ns)]
    store.compaction.mark([(seen.partition, seen.block)], seen.written + 1)  # a write lands meanwhile
    assert store.compaction.clear(seen) is False
    assert store.compaction.clear(DirtyBlock(seen.partition, seen.block, seen.written + 1)) is True


def test_a_delete_racing_compaction_undoes_the_merge(store, ns):
    store.ingest("1", batch(ns, ("a", [(1, {"v": 1.0}), (2, {"v": 2.0})])))
    store.ingest("2", batch(ns, ("a", [(3, {"v": 3.0})])))
    segments = store.segments
    original_put = segments.put

    def put_then_delete(new):  # the delete lands after compaction read the segments
        original_put(new)
        segments.put = original_put
        store._delete_pass(f"{ns}|cpu", 2, 2, None)

    segments.put = put_then_delete
    assert store.compact(f"{ns}|cpu", 0) is None
    assert read(store, ns) == {"cpu,host=a": [(1, {"v": 1.0}), (3, {"v": 3.0})]}
    assert not any(keys.is_compacted(k) for k in segment_keys(ns))


def test_delete_also_removes_points_a_compaction_copied(store, ns):
    store.ingest("1", batch(ns, ("a", [(1, {"v": 1.0}), (2, {"v": 2.0})])))
    store.ingest("2", batch(ns, ("a", [(3, {"v": 3.0})])))
    original_pass = store._delete_pass
    calls = []

    def pass_then_compact(*args):  # a compaction copies the block between the delete's passes
        removed = original_pass(*args)
        if not calls:
            store.segments.put(_compacted_copy(store, ns))
        calls.append(removed)
        return removed

    store._delete_pass = pass_then_compact
    store.delete(ns, "cpu", 2, 2)
    assert read(store, ns) == {"cpu,host=a": [(1, {"v": 1.0}), (3, {"v": 3.0})]}
    assert calls[-1] == 0 and len(calls) >= 2


def _compacted_copy(store, ns):
    """A compacted segment holding the points as they were before the delete."""
    from chalicelib.series import codec
    from chalicelib.series.columns import from_rows
    from chalicelib.series.store import _segment

    rows = [(1, {"v": 1.0}), (2, {"v": 2.0}), (3, {"v": 3.0})]
    data = codec.encode_segment({"cpu,host=a": from_rows(rows)})
    return [_segment(f"{ns}|cpu", keys.compacted_sort_key(0, keys.sequence_key("2"), 0), data)]


def test_compacted_items_hold_ranges_of_series_and_a_read_of_one_skips_the_others(store, ns, monkeypatch):
    from chalicelib.series import store as store_module

    monkeypatch.setattr(store_module, "COMPACTED_BYTES", 2_000)  # a few series per item
    rng = random.Random(9)
    hosts = [f"h{i:02d}" for i in range(20)]
    for sequence in (1, 2):
        rows = {h: [(t * 10**9, {"v": rng.random()}) for t in range(sequence, 600, 2)] for h in hosts}
        store.ingest(str(sequence), batch(ns, *rows.items()))
    before = read(store, ns)
    store.compact(f"{ns}|cpu", 0)
    items = list(store.segments.query(f"{ns}|cpu", "0", "~", MIN_TIME, MAX_TIME))
    assert len(items) > 3
    ranges = [(s.first_series, s.last_series) for s in items]
    assert ranges == sorted(ranges) and all(a[1] < b[0] for a, b in itertools.pairwise(ranges))
    assert read(store, ns) == before

    fetched = []
    original = store.segments.query
    monkeypatch.setattr(
        store.segments, "query", lambda *a, **k: [fetched.append(s) or s for s in original(*a, **k)]
    )
    one = read(store, ns, series_keys={"cpu,host=h07"})
    assert one == {"cpu,host=h07": before["cpu,host=h07"]}
    assert len(fetched) == 1 and fetched[0].first_series <= "cpu,host=h07" <= fetched[0].last_series


def test_a_point_larger_than_an_item_survives_deletes_and_compaction_and_leaves_nothing_behind(store, ns):
    from chalicelib.adapters.series import ChunkItem

    rng = random.Random(5)
    big = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+/", k=900_000))
    long_key = "h" * 2_000  # a series key longer than a sort key may be, in k0/k1 of the items
    store.ingest("1", batch(ns, (long_key, [(1, {"s": big}), (2, {"s": "small"})]), ("b", [(1, {"s": "b"})])))
    store.ingest("2", batch(ns, (long_key, [(3, {"s": big + "!"})])))

    def items() -> list[str]:
        return [i.sk for i in ChunkItem.query(f"{ns}|cpu")]

    assert sum("+" in sk for sk in items()) >= 2  # each big point spread over a head and more
    assert read(store, ns, series_keys={f"cpu,host={long_key}"}) == {
        f"cpu,host={long_key}": [(1, {"s": big}), (2, {"s": "small"}), (3, {"s": big + "!"})]
    }
    assert store.delete(ns, "cpu", tmin=2, tmax=2) == 1  # rewrites a spread segment: new data, new items
    segments = [sk for sk in items() if "+" not in sk]
    assert store.compact(f"{ns}|cpu", 0) == len(segments) > 1
    assert all(keys.is_compacted(sk.split("+")[0]) for sk in items())
    got = read(store, ns)
    assert got[f"cpu,host={long_key}"] == [(1, {"s": big}), (3, {"s": big + "!"})]
    assert got["cpu,host=b"] == [(1, {"s": "b"})]
    assert [e.key for e in store.index.series(ns, "cpu")] == ["cpu,host=b", f"cpu,host={long_key}"]
    store.delete(ns, "cpu")
    assert items() == []


def test_a_point_larger_than_a_segment_is_split_by_field_and_read_back_whole(store, ns):
    from chalicelib.adapters.series import ChunkItem

    rng = random.Random(6)
    fields = {
        f"s{i}": "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=300_000)) for i in range(4)
    }
    store.ingest("1", batch(ns, ("a", [(1, {**fields, "v": 1.5})])))
    items = list(ChunkItem.query(f"{ns}|cpu"))
    assert len(items) > 2 and not any("+" in i.sk for i in items)  # parts of one record, each an item
    assert read(store, ns) == {"cpu,host=a": [(1, {**fields, "v": 1.5})]}
    assert read(store, ns, fields={"s3"}) == {"cpu,host=a": [(1, {"s3": fields["s3"]})]}
