"""Nothing leaked: a delete wins over every record that reached the stream before it, whether the
consumer reads it late or Lambda redelivers it; records that arrive after the delete are stored."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from chalicelib.kit.time import MAX_TIME, MIN_TIME
from scripts.localstack.lambda_events import LambdaContext
from tests.api.conftest import query, series_values, stream_records
from tests.api.test_write_api import write_v1


def _records(pump, database: str, measurement: str) -> list[dict]:
    return [
        r
        for r in stream_records(pump.endpoint_url)
        if r["kinesis"]["partitionKey"].split("|")[1:] == [database, "autogen", measurement]
    ]


def _redeliver(app_module, records: list[dict]) -> None:
    response = app_module.consume_points({"Records": records}, LambdaContext("tickless-local-consume_points"))
    assert response == {"batchItemFailures": []}


def _delete(client, database: str, start: str, stop: str, predicate: str = ""):
    params = urlencode({"org": "acme", "bucket": f"{database}/autogen"})
    body = json.dumps({"start": start, "stop": stop, "predicate": predicate})
    response = client.http.post(
        f"/api/v2/delete?{params}", body=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 204, response.body


def test_redelivered_records_do_not_bring_deleted_points_back(client, pump, database, app_module):
    assert (
        write_v1(client, "gone,h=a v=1 1000000000\ngone,h=b v=2 2000000000", db=database).status_code == 204
    )
    pump.drain()
    old = _records(pump, database, "gone")
    assert old
    _delete(client, database, "1970-01-01T00:00:00Z", "1970-01-01T00:00:05Z")
    _redeliver(app_module, old)
    assert query(client, "SELECT * FROM gone", db=database)["results"] == [{"statement_id": 0}]
    assert write_v1(client, "gone,h=a v=3 1500000000", db=database).status_code == 204  # after the delete
    pump.drain()
    _redeliver(app_module, old)
    assert series_values(client, "SELECT v, h FROM gone", database) == [[1_500_000_000, 3, "a"]]


def test_a_delete_by_predicate_and_range_stays_deleted_on_redelivery(client, pump, database, app_module):
    lines = "part,h=a v=1 1000000000\npart,h=a v=2 3000000000\npart,h=b v=3 1000000000"
    assert write_v1(client, lines, db=database).status_code == 204
    pump.drain()
    old = _records(pump, database, "part")
    _delete(client, database, "1970-01-01T00:00:00Z", "1970-01-01T00:00:02Z", 'h="a"')
    _redeliver(app_module, old)
    assert series_values(client, "SELECT v, h FROM part", database) == [
        [1_000_000_000, 3, "b"],
        [3_000_000_000, 2, "a"],
    ]


def test_a_dropped_measurement_stays_dropped_on_redelivery(client, pump, database, app_module):
    assert write_v1(client, "dropped,h=a v=1 1", db=database).status_code == 204
    pump.drain()
    old = _records(pump, database, "dropped")
    assert query(client, "DROP MEASUREMENT dropped", db=database)["results"] == [{"statement_id": 0}]
    _redeliver(app_module, old)
    assert ["dropped"] not in [
        row
        for s in query(client, "SHOW MEASUREMENTS", db=database)["results"][0].get("series", [])
        for row in s["values"]
    ]
    assert query(client, "SELECT * FROM dropped", db=database)["results"] == [{"statement_id": 0}]


def test_a_delete_that_lands_between_the_check_and_the_put_is_applied_by_the_consumer(aws):
    """The consumer looked for tombstones, then a delete ran to its end, then the consumer put the
    record's points: it looks again after the put and removes them."""
    from chalicelib.adapters.series import DynamoCompactionLog, DynamoIndex, DynamoSegments, DynamoTombstones
    from chalicelib.ingest.records import Destination, PointBatch, SeriesRows
    from chalicelib.series.store import SeriesStore

    class DeleteAfterFirstLook(DynamoTombstones):
        def __init__(self) -> None:
            self.looks = 0

        def since(self, namespace, moment):
            answer = super().since(namespace, moment)
            self.looks += 1
            if self.looks == 1:
                store.delete(namespace, "raced", series_keys={"raced,h=a"})
            return answer

    store = SeriesStore(DynamoSegments(), DynamoIndex(), DynamoCompactionLog(), DeleteAfterFirstLook())
    namespace = "00000000000000ff"
    rows = [SeriesRows(f"raced,h={h}", "raced", (("h", h),), [(1, {"v": 1.0})]) for h in "ab"]
    store.ingest("7", PointBatch(Destination(namespace, "db", "rp"), rows), arrived=1.0)
    found = [key for block in store.scan(namespace, "raced") for key in block]
    assert found == ["raced,h=b"]
    assert [e.key for e in store.series(namespace, "raced")] == ["raced,h=b"]


def test_tombstones_expire_after_the_stream_retention(aws):
    from chalicelib.adapters.series import DynamoTombstones, TombstoneItem
    from chalicelib.declarations import POINTS, SERIES
    from chalicelib.series.ports import Tombstone

    namespace = "00000000000000fe"
    DynamoTombstones().record(namespace, [Tombstone("m", None, MIN_TIME, MAX_TIME, 1_700_000_000_123)])
    (item,) = TombstoneItem.query(f"{namespace}|t")
    assert SERIES.ttl_attribute == "expires"
    assert item.expires >= 1_700_000_000 + POINTS.retention_hours * 3600
    assert DynamoTombstones().since(namespace, 1_700_000_000_122) == [
        Tombstone("m", None, MIN_TIME, MAX_TIME, 1_700_000_000_123)
    ]
    assert DynamoTombstones().since(namespace, 1_700_000_000_123) == []
