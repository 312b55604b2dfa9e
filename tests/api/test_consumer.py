"""The points consumer as Lambda runs it: redelivered batches store nothing twice, poison records are
dead-lettered with their reason (in S3 when too large for an item) and do not block the records behind
them, records larger than Kinesis takes travel by claim check, and nothing is checkpointed that was
neither stored nor dead-lettered."""

from __future__ import annotations

import base64
import json
import random
import string
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from chalicelib.declarations import BLOBS, CLAIM_CHECKS, DEAD_LETTER_BLOBS, POINTS, Bucket, physical_name
from scripts.localstack.lambda_events import LambdaContext, kinesis_record
from tests.api.conftest import query, series_values, stream_records
from tests.api.test_write_api import write_v1


def test_redelivered_batches_store_points_once(client, pump, database, app_module):
    from chalicelib.adapters.series import ChunkItem

    assert (
        write_v1(client, "re,host=a v=1 1\nre,host=a v=2 2\nre,host=b v=3 3", db=database).status_code == 204
    )
    pump.drain()
    before = series_values(client, "SELECT * FROM re", database)
    ours = [
        r
        for r in stream_records(pump.endpoint_url)
        if r["kinesis"]["partitionKey"].split("|")[1:3] == [database, "autogen"]
    ]
    assert ours
    items_before = sorted(i.sk for i in ChunkItem.scan() if i.pk.endswith("|re"))
    for _ in range(2):  # Lambda redelivers the same batch: same sequence numbers, same items
        response = app_module.consume_points(
            {"Records": ours}, LambdaContext("tickless-local-consume_points")
        )
        assert response == {"batchItemFailures": []}
    assert sorted(i.sk for i in ChunkItem.scan() if i.pk.endswith("|re")) == items_before
    assert (
        series_values(client, "SELECT * FROM re", database)
        == before
        == [[1, "a", 1], [2, "a", 2], [3, "b", 3]]
    )


def test_poison_record_is_dead_lettered_and_the_shard_moves_on(client, pump, database):
    from chalicelib.adapters.deadletters import DeadLetterItem

    kinesis = boto3.client("kinesis", endpoint_url=pump.endpoint_url)
    key = f"x|{database}|autogen|poison"
    put = kinesis.put_record(
        StreamName=physical_name("points"), PartitionKey=key, Data=b"definitely not a record"
    )
    assert write_v1(client, "poison v=1 1", db=database).status_code == 204  # same shard, behind it
    pump.drain()
    letters = {item.sk: item for item in DeadLetterItem.query("points")}
    letter = letters[f"{put['ShardId']}:{put['SequenceNumber']}"]
    assert letter.reason.startswith("undecodable points record")
    assert letter.data == b"definitely not a record"
    assert series_values(client, "SELECT v FROM poison", database) == [[1, 1]]


def test_records_survive_a_round_trip_through_kinesis(client, pump, database):
    assert write_v1(client, 'rt,t=a s="x",b=true,i=-1i,u=1u 5', db=database).status_code == 204
    pump.drain()
    data = [
        base64.b64decode(r["kinesis"]["data"])
        for r in stream_records(pump.endpoint_url)
        if r["kinesis"]["partitionKey"].endswith(f"|{database}|autogen|rt")
    ]
    assert len(data) == 1
    assert series_values(client, "SELECT * FROM rt", database) == [[5, True, -1, "x", "a", 1]]


def _event_record(data: bytes, sequence: str, shard: str = "shardId-000000000000") -> dict:
    return kinesis_record(
        data=data,
        partition_key="x|concurrency|autogen|m",
        sequence_number=sequence,
        shard_id=shard,
        stream_arn=f"arn:aws:kinesis:us-east-1:123456789012:stream/{physical_name('points')}",
    )


def test_concurrent_invocations_report_exactly_their_own_failures(app_module):
    """Two shards' invocations at once (the local stack runs them as threads): each partial batch
    response names its own failed record and no other, so no failure is checkpointed and lost."""
    from chalicelib.ingest import records
    from chalicelib.kit.points import Point

    destination = records.Destination("concurrency-ns", "concurrency", "autogen")
    [(_, good)] = records.encode(destination, [Point("m", "m", (), {"v": 1.0}, 1)])
    # A record whose dead letter is refused too (its id is too long for a DynamoDB key) must fail.
    unwritable = "shardId-" + "9" * 1100

    def batch(run: int, shard: int) -> tuple[dict, str]:
        base = f"{run:06d}{shard}"
        failing = _event_record(b"poison", base + "2", unwritable)
        event = {
            "Records": [
                _event_record(good, base + "0"),
                _event_record(b"poison, dead-lettered", base + "1"),
                failing,
                _event_record(good, base + "3"),
            ]
        }
        return event, failing["kinesis"]["sequenceNumber"]

    barrier = threading.Barrier(2)

    def invoke(event: dict) -> dict:
        barrier.wait()
        return app_module.consume_points(event, LambdaContext("tickless-local-consume_points"))

    wrong = []
    with ThreadPoolExecutor(2) as pool:
        for run in range(100):
            batches = [batch(run, shard) for shard in (1, 2)]
            reports = list(pool.map(invoke, [event for event, _ in batches]))
            for report, (_, failing) in zip(reports, batches, strict=True):
                if report != {"batchItemFailures": [{"itemIdentifier": failing}]}:
                    wrong.append((run, failing, report))
    assert not wrong, f"{len(wrong)} of 200 reports were wrong, e.g. {wrong[:3]}"


# -- records larger than Kinesis takes ------------------------------------------------------------------


def _incompressible(chars: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choices(string.ascii_letters + string.digits, k=chars))


def _ours(endpoint_url: str, database: str, measurement: str) -> list[dict]:
    return [
        r
        for r in stream_records(endpoint_url)
        if r["kinesis"]["partitionKey"].endswith(f"|{database}|autogen|{measurement}")
    ]


def _s3(pump):
    return boto3.client("s3", endpoint_url=pump.endpoint_url)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({f"s{i}": _incompressible(600_000, i) for i in range(3)}, id="several-large-fields"),
        # (moto records new field types slowly: 500 fields keep the test short)
        pytest.param({f"f{i:03d}": _incompressible(3000, i) for i in range(500)}, id="many-fields"),
    ],
)
def test_a_point_larger_than_a_kinesis_record_travels_by_claim_check(client, pump, database, fields):
    """Acknowledged once its data is in S3 and a pointer on the stream; the consumer stores the point."""
    from chalicelib.adapters.claimchecks import MARKER
    from chalicelib.ingest import records

    line = "big,t=a " + ",".join(f'{name}="{value}"' for name, value in fields.items()) + " 7"
    assert write_v1(client, line, db=database).status_code == 204

    [record] = _ours(pump.endpoint_url, database, "big")
    data = base64.b64decode(record["kinesis"]["data"])
    assert data.startswith(MARKER) and len(data) < 1024
    pointer = json.loads(data[len(MARKER) :])
    assert pointer["key"].startswith(CLAIM_CHECKS.prefix) and pointer["size"] > 1024 * 1024
    blob = _s3(pump).get_object(Bucket=BLOBS.physical_name, Key=pointer["key"])["Body"].read()
    [series] = records.decode(blob).series
    assert series.rows == [(7, fields)]

    pump.drain()
    result = query(client, "SELECT * FROM big", db=database, epoch="ns")["results"][0]
    assert result["series"][0]["columns"] == ["time", *sorted(fields), "t"]
    assert result["series"][0]["values"] == [[7, *(fields[k] for k in sorted(fields)), "a"]]


def test_a_write_whose_blob_cannot_be_stored_is_not_acknowledged(pump):
    """The pointer goes on the stream only once the blob is durable: no blob, no pointer, no 2xx."""
    from chalicelib.adapters.blobs import S3Blobs
    from chalicelib.adapters.claimchecks import ClaimChecks
    from chalicelib.adapters.kinesis import KinesisPublisher

    publisher = KinesisPublisher(
        POINTS.physical_name, ClaimChecks(S3Blobs(Bucket("no-such-bucket")), CLAIM_CHECKS)
    )
    key = "x|unstored|autogen|m"
    with pytest.raises(Exception, match="NoSuchBucket"):
        publisher.publish([(key, b"x" * (1024 * 1024))])
    assert not [r for r in stream_records(pump.endpoint_url) if r["kinesis"]["partitionKey"] == key]


# -- poison records that cannot be stored -----------------------------------------------------------------


def _put_poison(pump, database: str, data: bytes) -> str:
    """Puts `data` on the points stream, in the shard of the database's `poison` measurement; returns the
    record's event id."""
    kinesis = boto3.client("kinesis", endpoint_url=pump.endpoint_url)
    key = f"x|{database}|autogen|poison"
    put = kinesis.put_record(StreamName=physical_name("points"), PartitionKey=key, Data=data)
    return f"{put['ShardId']}:{put['SequenceNumber']}"


def test_a_poison_record_over_400_kb_is_dead_lettered_in_s3_with_its_reason(client, pump, database):
    from chalicelib import compose
    from chalicelib.adapters.deadletters import DeadLetterItem

    poison = random.Random(5).randbytes(900_000)
    record_id = _put_poison(pump, database, poison)
    assert write_v1(client, "poison v=1 1", db=database).status_code == 204  # same shard, behind it
    pump.drain()

    letter = DeadLetterItem.get("points", record_id)
    assert letter.reason.startswith("undecodable points record")
    assert (letter.data, letter.blob, letter.size) == (
        None,
        f"{DEAD_LETTER_BLOBS.prefix}points/{record_id}",
        900_000,
    )
    assert _s3(pump).get_object(Bucket=BLOBS.physical_name, Key=letter.blob)["Body"].read() == poison
    [listed] = [d for d in compose.dead_letters().list("points") if d["id"] == record_id]
    assert listed["data"] == poison and listed["reason"] == letter.reason
    assert series_values(client, "SELECT v FROM poison", database) == [[1, 1]]


def test_a_claim_checked_poison_record_is_dead_lettered_with_its_data(client, pump, database):
    """The dead letter keeps the data itself, not the claim check, which expires with the stream."""
    from chalicelib import compose
    from chalicelib.adapters.claimchecks import MARKER
    from chalicelib.adapters.deadletters import DeadLetterItem

    poison = random.Random(6).randbytes(1_500_000)
    pointer = compose.claim_checks().check(poison)
    assert pointer.startswith(MARKER)
    record_id = _put_poison(pump, database, pointer)
    pump.drain()

    letter = DeadLetterItem.get("points", record_id)
    assert letter.reason.startswith("undecodable points record")
    assert letter.blob.startswith(DEAD_LETTER_BLOBS.prefix) and letter.size == len(poison)
    assert _s3(pump).get_object(Bucket=BLOBS.physical_name, Key=letter.blob)["Body"].read() == poison


def test_a_pointer_whose_blob_is_gone_is_dead_lettered(client, pump, database):
    from chalicelib.adapters.claimchecks import MARKER
    from chalicelib.adapters.deadletters import DeadLetterItem

    key = f"{CLAIM_CHECKS.prefix}{'0' * 64}"
    pointer = MARKER + json.dumps({"key": key, "size": 2_000_000, "sha256": "0" * 64}).encode()
    record_id = _put_poison(pump, database, pointer)
    assert write_v1(client, "poison v=2 2", db=database).status_code == 204
    pump.drain()

    letter = DeadLetterItem.get("points", record_id)
    assert letter.reason == f"claim check {key} has no blob"
    assert letter.data == pointer
    assert series_values(client, "SELECT v FROM poison", database) == [[2, 2]]


def test_a_record_whose_dead_letter_cannot_be_kept_fails_the_batch(app_module):
    """Never checkpointed without a trace: Lambda retries it, then reports it to the on-failure queue."""
    from chalicelib.adapters.deadletters import DeadLetterItem
    from chalicelib.ingest import records
    from chalicelib.kit.points import Point

    [(_, good)] = records.encode(
        records.Destination("unkept-ns", "unkept", "autogen"), [Point("m", "m", (), {"v": 1.0}, 1)]
    )
    unwritable = "shardId-" + "9" * 1100  # too long for a DynamoDB key or an S3 key
    event = {
        "Records": [
            _event_record(good, "71"),
            _event_record(random.Random(7).randbytes(500_000), "72", unwritable),
            _event_record(good, "73"),
        ]
    }
    report = app_module.consume_points(event, LambdaContext("tickless-local-consume_points"))
    assert report == {"batchItemFailures": [{"itemIdentifier": "72"}]}
    assert not [item for item in DeadLetterItem.query("points") if item.sk.startswith(unwritable)]


# -- an invocation's records stored together ----------------------------------------------------------------


def _points_records(namespace: str, measurements: int, per: int = 3, start: int = 1) -> list[bytes]:
    """A record per measurement, as a write makes them."""
    from chalicelib.ingest import records
    from chalicelib.kit.points import Point

    destination = records.Destination(namespace, namespace, "autogen")
    return [
        data
        for m in range(measurements)
        for _, data in records.encode(
            destination,
            [
                Point(f"m{m},h=a", f"m{m}", (("h", "a"),), {"v": float(t)}, t)
                for t in range(start, start + per)
            ],
        )
    ]


def _stored(namespace: str, measurement: str) -> list[tuple[int, float]]:
    from chalicelib import compose

    return [
        (t, v)
        for block in compose.store().scan(namespace, measurement)
        for cols in block.values()
        for t, v in zip(cols.times, cols.fields["v"].values, strict=True)
    ]


class _Calls:
    """Counts a repository method's calls, and fails the calls `fail` says to (by call number)."""

    def __init__(self, monkeypatch, target, name: str, fail=lambda number, args: None) -> None:
        self.count = 0
        original = getattr(target, name)

        def wrapper(*args, **kwargs):
            self.count += 1
            failure = fail(self.count, args)
            if failure is not None:
                raise failure
            return original(*args, **kwargs)

        monkeypatch.setattr(target, name, wrapper)


def _consume(app_module, event_records: list[dict]) -> dict:
    return app_module.consume_points(
        {"Records": event_records}, LambdaContext("tickless-local-consume_points")
    )


def test_many_records_of_an_invocation_are_stored_together_once_each(app_module, monkeypatch):
    from chalicelib import compose

    store = compose.store()
    namespaces = ["together-ns1", "together-ns2"]
    data = [d for ns in namespaces for d in _points_records(ns, 5)]
    puts = _Calls(monkeypatch, store.segments, "put")
    looks = _Calls(monkeypatch, store.tombstones, "since")
    marks = _Calls(monkeypatch, store.compaction, "mark")
    event = [_event_record(d, f"81{i:03d}") for i, d in enumerate(data)]
    assert _consume(app_module, event) == {"batchItemFailures": []}
    # One put and one mark for the ten records; tombstones read before and after, once per namespace.
    assert (puts.count, marks.count, looks.count) == (1, 1, 2 * len(namespaces))
    for ns in namespaces:
        assert [e.key for m in range(5) for e in store.series(ns, f"m{m}")] == [f"m{m},h=a" for m in range(5)]
        for m in range(5):
            assert _stored(ns, f"m{m}") == [(1, 1.0), (2, 2.0), (3, 3.0)]


def test_a_redelivered_batch_of_many_records_stores_nothing_twice(app_module):
    from chalicelib.adapters.series import ChunkItem

    event = [_event_record(d, f"82{i:03d}") for i, d in enumerate(_points_records("redelivered-ns", 4))]
    assert _consume(app_module, event) == {"batchItemFailures": []}
    items = sorted((i.pk, i.sk) for i in ChunkItem.scan() if i.pk.startswith("redelivered-ns|"))
    assert len(items) == 4
    assert _consume(app_module, event) == {"batchItemFailures": []}
    assert sorted((i.pk, i.sk) for i in ChunkItem.scan() if i.pk.startswith("redelivered-ns|")) == items
    assert [_stored("redelivered-ns", f"m{m}") for m in range(4)] == [[(1, 1.0), (2, 2.0), (3, 3.0)]] * 4


def test_poison_records_among_good_ones_are_dead_lettered_alone(app_module, monkeypatch):
    """Undecodable, or decodable but unstorable (a ValueError from the store): each is dead-lettered
    with its reason, and the good records of the same group are stored."""
    from chalicelib import compose
    from chalicelib.adapters.deadletters import DeadLetterItem

    store = compose.store()
    ns = "poisoned-ns"

    def refuse_m1(number, args):
        if any(s.partition.endswith("|m1") for s in args[0]):
            return ValueError("m1 cannot be stored")
        return None

    _Calls(monkeypatch, store.segments, "put", refuse_m1)
    good = _points_records(ns, 3)
    event = [
        _event_record(good[0], "83001"),
        _event_record(b"not a points record", "83002"),
        _event_record(good[1], "83003"),  # m1: the store refuses it
        _event_record(good[2], "83004"),
    ]
    assert _consume(app_module, event) == {"batchItemFailures": []}
    letters = {item.sk: item for item in DeadLetterItem.query("points")}
    assert letters["shardId-000000000000:83002"].reason.startswith("undecodable points record")
    assert letters["shardId-000000000000:83003"].reason == "m1 cannot be stored"
    assert letters["shardId-000000000000:83003"].data == good[1]
    assert "shardId-000000000000:83001" not in letters and "shardId-000000000000:83004" not in letters
    assert [_stored(ns, f"m{m}") for m in range(3)] == [
        [(1, 1.0), (2, 2.0), (3, 3.0)],
        [],
        [(1, 1.0), (2, 2.0), (3, 3.0)],
    ]


def test_a_passing_failure_mid_batch_fails_the_group_not_stored_and_nothing_before_it(
    app_module, monkeypatch
):
    """Groups of two records (a small group size): the second group's put fails once (throttling). The
    report names exactly its records, so Lambda retries from its first; the retry stores them."""
    from chalicelib import compose
    from chalicelib.events import points_consumer

    store = compose.store()
    ns = "passing-ns"
    data = _points_records(ns, 6)
    monkeypatch.setattr(points_consumer, "_GROUP_BYTES", len(data[0]) + len(data[1]))
    _Calls(monkeypatch, store.segments, "put", lambda n, args: RuntimeError("throttled") if n == 2 else None)
    event = [_event_record(d, f"84{i:03d}") for i, d in enumerate(data)]
    report = _consume(app_module, event)
    assert report == {"batchItemFailures": [{"itemIdentifier": "84002"}, {"itemIdentifier": "84003"}]}
    full = [(1, 1.0), (2, 2.0), (3, 3.0)]
    assert [_stored(ns, f"m{m}") for m in range(6)] == [full, full, [], [], full, full]
    # Lambda retries from the first failed record: everything from it on, stored once each.
    assert _consume(app_module, event[2:]) == {"batchItemFailures": []}
    assert [_stored(ns, f"m{m}") for m in range(6)] == [full] * 6


def test_a_delete_between_two_records_of_a_group_removes_only_the_older_ones_points(app_module):
    """Each record of a group keeps the tombstone rule of its own arrival: the delete wins over the
    record that reached the stream before it began, not over the one that reached it after."""
    import time

    from chalicelib import compose

    ns = "between-ns"
    [older] = _points_records(ns, 1, per=1, start=1)
    [newer] = _points_records(ns, 1, per=1, start=2)
    now = time.time()
    compose.store().delete(ns, "m0")
    event = [
        kinesis_record(
            data=d,
            partition_key="x|between|autogen|m0",
            sequence_number=sequence,
            shard_id="shardId-000000000000",
            stream_arn=f"arn:aws:kinesis:us-east-1:123456789012:stream/{physical_name('points')}",
            arrival=arrival,
        )
        for d, sequence, arrival in [(older, "85001", now - 5), (newer, "85002", now + 5)]
    ]
    assert _consume(app_module, event) == {"batchItemFailures": []}
    assert _stored(ns, "m0") == [(2, 2.0)]
