"""The points consumer as Lambda runs it: redelivered batches store nothing twice, poison records are
dead-lettered with their reason and do not block the records behind them."""

from __future__ import annotations

import base64

import boto3

from chalicelib.declarations import physical_name
from scripts.localstack.lambda_events import LambdaContext
from tests.api.conftest import series_values, stream_records
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
