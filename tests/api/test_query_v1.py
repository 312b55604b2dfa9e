"""The v1 /query read path: databases, measurements, raw SELECT with time and tag conditions, in
InfluxDB 1.x's JSON shape."""

from __future__ import annotations

import pytest

from tests.api.conftest import query
from tests.api.test_write_api import write_v1

LINES = """\
cpu,host=a,region=us usage=1.5,idle=90i 1000000000
cpu,host=b,region=eu usage=2.5,idle=80i 2000000000
cpu,host=a,region=us usage=3.5 3000000000
cpu,host=c usage=4.5,idle=70i 4000000000
mem,host=a used=10i 1000000000
"""


@pytest.fixture
def loaded(client, pump, database):
    assert write_v1(client, LINES, db=database).status_code == 204
    pump.drain()
    return database


def first_series(result: dict) -> list[dict]:
    return result["results"][0].get("series", [])


def test_show_databases_and_create_is_idempotent(client, loaded):
    assert query(client, f"CREATE DATABASE {loaded}") == {"results": [{"statement_id": 0}]}
    series = first_series(query(client, "SHOW DATABASES"))
    assert series[0]["name"] == "databases" and series[0]["columns"] == ["name"]
    assert [loaded] in series[0]["values"]


def test_show_measurements(client, loaded):
    assert first_series(query(client, "SHOW MEASUREMENTS", db=loaded)) == [
        {"name": "measurements", "columns": ["name"], "values": [["cpu"], ["mem"]]}
    ]
    assert first_series(query(client, "SHOW MEASUREMENTS WITH MEASUREMENT =~ /^m/", db=loaded))[0][
        "values"
    ] == [["mem"]]
    assert first_series(query(client, "SHOW MEASUREMENTS WHERE region = 'eu'", db=loaded))[0]["values"] == [
        ["cpu"]
    ]
    assert first_series(query(client, "SHOW MEASUREMENTS LIMIT 1 OFFSET 1", db=loaded))[0]["values"] == [
        ["mem"]
    ]


@pytest.mark.parametrize(
    "q, columns, values",
    [
        (
            "SELECT * FROM cpu",
            ["time", "host", "idle", "region", "usage"],
            [
                ["1970-01-01T00:00:01Z", "a", 90, "us", 1.5],
                ["1970-01-01T00:00:02Z", "b", 80, "eu", 2.5],
                ["1970-01-01T00:00:03Z", "a", None, "us", 3.5],
                ["1970-01-01T00:00:04Z", "c", 70, None, 4.5],
            ],
        ),
        (
            "SELECT usage, host FROM cpu WHERE host = 'a'",
            ["time", "usage", "host"],
            [["1970-01-01T00:00:01Z", 1.5, "a"], ["1970-01-01T00:00:03Z", 3.5, "a"]],
        ),
        (
            "SELECT idle FROM cpu WHERE time >= '1970-01-01T00:00:02Z' AND time < 4s",
            ["time", "idle"],
            [["1970-01-01T00:00:02Z", 80]],
        ),
        (
            "SELECT usage AS u FROM cpu WHERE region =~ /u/ AND usage > 2 ORDER BY time DESC LIMIT 1",
            ["time", "u"],
            [["1970-01-01T00:00:03Z", 3.5]],
        ),
        (
            "SELECT usage FROM cpu WHERE region = '' ",
            ["time", "usage"],
            [["1970-01-01T00:00:04Z", 4.5]],
        ),
        (
            "SELECT usage FROM cpu WHERE host = 'a' OR host = 'c' LIMIT 2 OFFSET 1",
            ["time", "usage"],
            [["1970-01-01T00:00:03Z", 3.5], ["1970-01-01T00:00:04Z", 4.5]],
        ),
    ],
)
def test_raw_select(client, loaded, q, columns, values):
    assert first_series(query(client, q, db=loaded)) == [
        {"name": "cpu", "columns": columns, "values": values}
    ]


def test_group_by_tag_gives_one_series_per_tag_value(client, loaded):
    series = first_series(
        query(client, "SELECT usage FROM cpu WHERE time < 3s GROUP BY host", db=loaded, epoch="s")
    )
    assert series == [
        {"name": "cpu", "tags": {"host": "a"}, "columns": ["time", "usage"], "values": [[1, 1.5]]},
        {"name": "cpu", "tags": {"host": "b"}, "columns": ["time", "usage"], "values": [[2, 2.5]]},
    ]


def test_several_measurements_and_qualified_names(client, loaded):
    series = first_series(
        query(client, f'SELECT * FROM "{loaded}"."autogen"./.*/ WHERE time <= 1s', epoch="s")
    )
    assert [s["name"] for s in series] == ["cpu", "mem"]
    assert series[1] == {"name": "mem", "columns": ["time", "host", "used"], "values": [[1, "a", 10]]}


@pytest.mark.parametrize(
    "epoch, first", [("ns", 1_000_000_000), ("u", 1_000_000), ("ms", 1000), ("s", 1), ("h", 0)]
)
def test_epoch(client, loaded, epoch, first):
    series = first_series(query(client, "SELECT usage FROM cpu LIMIT 1", db=loaded, epoch=epoch))
    assert series[0]["values"][0][0] == first


def test_empty_and_missing(client, loaded):
    assert query(client, "SELECT * FROM nothing_here", db=loaded) == {"results": [{"statement_id": 0}]}
    assert query(client, "SELECT * FROM cpu", db="nope") == {
        "results": [{"statement_id": 0, "error": 'database not found: "nope"'}]
    }
    assert query(client, "SELECT host FROM cpu", db=loaded)["results"][0]["error"] == (
        "statement must have at least one field in select clause"
    )


def test_retention_hides_expired_points(client, pump):
    from chalicelib import maintenance

    assert query(client, "CREATE DATABASE short WITH DURATION 1h NAME brief") == {
        "results": [{"statement_id": 0}]
    }
    old, recent = 1_000_000_000, None
    import time

    recent = time.time_ns() - 60_000_000_000
    assert write_v1(client, f"r v=1 {old}\nr v=2 {recent}", db="short").status_code == 204
    pump.drain()
    assert [v[1] for v in first_series(query(client, "SELECT v FROM r", db="short"))[0]["values"]] == [2]
    assert maintenance.enforce_retention() >= 1
    assert [v[1] for v in first_series(query(client, "SELECT v FROM r", db="short"))[0]["values"]] == [2]


def test_delete_by_time_and_tag_predicate(client, loaded):
    assert query(client, "DELETE FROM cpu WHERE host = 'a' AND time < 2s", db=loaded) == {
        "results": [{"statement_id": 0}]
    }
    values = first_series(query(client, "SELECT usage FROM cpu", db=loaded, epoch="s"))[0]["values"]
    assert values == [[2, 2.5], [3, 3.5], [4, 4.5]]
    error = query(client, "DELETE FROM cpu WHERE usage > 1", db=loaded)["results"][0]["error"]
    assert error == "fields not supported in WHERE clause during deletion"


def test_drop_series_measurement_and_database(client, loaded):
    assert query(client, "DROP SERIES FROM cpu WHERE region = 'us'", db=loaded) == {
        "results": [{"statement_id": 0}]
    }
    values = first_series(query(client, "SELECT usage, host FROM cpu", db=loaded, epoch="s"))[0]["values"]
    assert values == [[2, 2.5, "b"], [4, 4.5, "c"]]
    assert query(client, "DROP SERIES FROM cpu WHERE time > 1s", db=loaded)["results"][0]["error"] == (
        "DROP SERIES doesn't support time in WHERE clause"
    )
    query(client, "DROP MEASUREMENT mem", db=loaded)
    assert first_series(query(client, "SHOW MEASUREMENTS", db=loaded))[0]["values"] == [["cpu"]]
    assert query(client, "SELECT * FROM mem", db=loaded) == {"results": [{"statement_id": 0}]}
    query(client, f"DROP DATABASE {loaded}")
    assert [loaded] not in first_series(query(client, "SHOW DATABASES"))[0].get("values", [])
    assert (
        query(client, "SELECT * FROM cpu", db=loaded)["results"][0]["error"]
        == f'database not found: "{loaded}"'
    )
