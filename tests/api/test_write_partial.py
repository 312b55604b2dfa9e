"""Partial writes as InfluxDB answers them: points older than the retention policy keeps are dropped and
reported (v1 400, v2 422, SELECT INTO a statement error), the rest of the batch is stored."""

from __future__ import annotations

import itertools
import time

from tests.api.conftest import query, series_values
from tests.api.test_write_api import write_v1, write_v2

_names = itertools.count()
BEYOND = "partial write: points beyond retention policy dropped=1"


def short_database(client) -> str:
    """A database whose default retention policy keeps one hour."""
    name = f"short{next(_names)}"
    assert query(client, f"CREATE DATABASE {name} WITH DURATION 1h") == {"results": [{"statement_id": 0}]}
    return name


def test_points_beyond_retention_v1_are_a_400_partial_write_and_the_rest_is_stored(client, pump):
    database = short_database(client)
    recent = time.time_ns() - 60_000_000_000
    response = write_v1(client, f"r v=1 1000000000\nr v=2 {recent}", db=database)
    assert response.status_code == 400
    assert response.json_body == {"error": BEYOND}
    pump.drain()
    assert series_values(client, "SELECT v FROM r", database) == [[recent, 2.0]]


def test_points_beyond_retention_v2_are_a_422_partial_write_and_the_rest_is_stored(client, pump):
    database = short_database(client)
    recent = time.time_ns() - 60_000_000_000
    response = write_v2(client, f"r v=1 1000000000\nr v=2 {recent}", org="acme", bucket=f"{database}/autogen")
    assert response.status_code == 422
    assert response.json_body == {
        "code": "unprocessable entity",
        "message": f"failure writing points to database: {BEYOND}",
    }
    pump.drain()
    assert series_values(client, "SELECT v FROM r", database) == [[recent, 2.0]]


def test_a_type_conflict_is_reported_before_points_beyond_retention(client, pump):
    """As influxd 1.6.7: a batch with both reports the conflict and the points it dropped for it."""
    database = short_database(client)
    recent = time.time_ns() - 60_000_000_000
    assert write_v1(client, f"r v=1 {recent}", db=database).status_code == 204
    response = write_v1(client, f"r v=1 1000000000\nr v=1i {recent + 1}\nr v=3 {recent + 2}", db=database)
    assert response.status_code == 400
    assert response.json_body == {
        "error": 'partial write: field type conflict: input field "v" on measurement "r" is type integer, '
        "already exists as type float dropped=1"
    }
    pump.drain()
    assert series_values(client, "SELECT v FROM r", database) == [[recent, 1.0], [recent + 2, 3.0]]


def test_select_into_a_shorter_retention_reports_the_points_it_dropped(client, pump, database):
    target = short_database(client)
    recent = time.time_ns() - 60_000_000_000
    assert write_v1(client, f"old v=1 1000000000\nold v=2 {recent}", db=database).status_code == 204
    pump.drain()
    result = query(client, f"SELECT v INTO {target}.autogen.copied FROM old", db=database)
    assert result == {"results": [{"statement_id": 0, "error": BEYOND}]}
    pump.drain()
    assert series_values(client, "SELECT v FROM copied", target) == [[recent, 2.0]]


def test_select_into_a_type_conflict_is_one_partial_write_message(client, pump, database):
    """influxd words it once: `partial write: field type conflict: ... dropped=1`."""
    assert write_v1(client, "src v=1i 1\ndst v=1 1", db=database).status_code == 204
    pump.drain()
    result = query(client, "SELECT v INTO dst FROM src", db=database)
    assert result == {
        "results": [
            {
                "statement_id": 0,
                "error": 'partial write: field type conflict: input field "v" on measurement "dst" is type '
                "integer, already exists as type float dropped=1",
            }
        ]
    }


def test_flux_to_a_shorter_retention_reports_the_points_it_dropped(client, pump, database):
    import json

    target = short_database(client)
    recent = time.time_ns() - 60_000_000_000
    assert write_v1(client, f"old v=1 1000000000\nold v=2 {recent}", db=database).status_code == 204
    pump.drain()
    flux = f'from(bucket: "{database}/autogen") |> range(start: 0) |> to(bucket: "{target}/autogen")'
    response = client.http.post(
        "/api/v2/query?org=acme",
        body=json.dumps({"query": flux, "type": "flux"}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.body
    assert response.json_body["message"] == f"failure writing points to database: {BEYOND}"
    pump.drain()
    assert series_values(client, "SELECT v FROM old", target) == [[recent, 2.0]]
