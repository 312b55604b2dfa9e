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
    # as influxd: `SELECT *` over several measurements lists the union of their columns
    assert series[1] == {
        "name": "mem",
        "columns": ["time", "host", "idle", "region", "usage", "used"],
        "values": [[1, "a", None, None, None, 10]],
    }


@pytest.mark.parametrize(
    "epoch, first", [("ns", 1_000_000_000), ("u", 1_000_000), ("ms", 1000), ("s", 1), ("h", 0)]
)
def test_epoch(client, loaded, epoch, first):
    series = first_series(query(client, "SELECT usage FROM cpu LIMIT 1", db=loaded, epoch=epoch))
    assert series[0]["values"][0][0] == first


def test_empty_and_missing(client, loaded):
    assert query(client, "SELECT * FROM nothing_here", db=loaded) == {"results": [{"statement_id": 0}]}
    assert query(client, "SELECT * FROM cpu", db="nope") == {
        "results": [{"statement_id": 0, "error": "database not found: nope"}]
    }
    assert query(client, "SELECT host FROM cpu", db=loaded)["results"][0]["error"] == (
        "statement must have at least one field in select clause"
    )


def test_retention_hides_expired_points(client, pump):
    """Points stored before the retention was shortened: hidden at once, then swept."""
    import time

    from chalicelib.events import maintenance

    assert query(client, "CREATE DATABASE short WITH NAME brief") == {"results": [{"statement_id": 0}]}
    old, recent = 1_000_000_000, time.time_ns() - 60_000_000_000
    assert write_v1(client, f"r v=1 {old}\nr v=2 {recent}", db="short").status_code == 204
    pump.drain()
    assert query(client, "ALTER RETENTION POLICY brief ON short DURATION 1h SHARD DURATION 1h") == {
        "results": [{"statement_id": 0}]
    }
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


def test_delete_and_drop_series_by_a_tag_key_no_series_has(client, loaded):
    """influxd 1.6.7 answers these without error and removes nothing: only fields are refused."""
    before = first_series(query(client, "SELECT usage FROM cpu", db=loaded))[0]["values"]
    for statement in ("DELETE FROM cpu WHERE nosuch = 'x'", "DROP SERIES FROM cpu WHERE nosuch = 'x'"):
        assert query(client, statement, db=loaded) == {"results": [{"statement_id": 0}]}
    assert first_series(query(client, "SELECT usage FROM cpu", db=loaded))[0]["values"] == before


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
        == f"database not found: {loaded}"
    )


# -- aggregates, selectors, transformations (hand-computed, InfluxDB 1.x semantics) -----------------

AGG_LINES = """\
agg,host=a v=1.0,n=1i 10000000000
agg,host=a v=3.0,n=3i 20000000000
agg,host=b v=5.0,n=5i 30000000000
agg,host=a v=7.0,n=7i 70000000000
agg,host=b v=2.0,n=2i 80000000000
str,host=a s="x",b=true 1000000000
"""
W = "WHERE time >= 0 AND time < 120s"


@pytest.fixture
def agg(client, pump, database):
    assert write_v1(client, AGG_LINES, db=database).status_code == 204
    pump.drain()
    return database


def values_s(client, q, db):
    result = query(client, q, db=db, epoch="s")["results"][0]
    assert "error" not in result, result
    return [s["values"] for s in result.get("series", [])]


AGGREGATE_CASES = [
    (f"SELECT count(v) FROM agg {W} GROUP BY time(60s)", [[[0, 3], [60, 2]]]),
    (f"SELECT mean(v), sum(n) FROM agg {W} GROUP BY time(60s)", [[[0, 3, 9], [60, 4.5, 9]]]),
    (f"SELECT max(v), min(v) FROM agg {W} GROUP BY time(60s)", [[[0, 5, 1], [60, 7, 2]]]),
    (f"SELECT first(v), last(v) FROM agg {W} GROUP BY time(60s)", [[[0, 1, 5], [60, 7, 2]]]),
    (f"SELECT spread(v), median(v) FROM agg {W} GROUP BY time(60s)", [[[0, 4, 3], [60, 5, 4.5]]]),
    (f"SELECT stddev(v) FROM agg {W} GROUP BY time(60s)", [[[0, 2], [60, 3.5355339059327378]]]),
    (f"SELECT mode(n) FROM agg {W} GROUP BY time(60s)", [[[0, 1], [60, 2]]]),
    (f"SELECT count(v) FROM agg {W} GROUP BY time(60s), host", [[[0, 2], [60, 1]], [[0, 1], [60, 1]]]),
    (
        "SELECT count(v) FROM agg WHERE time >= 0 AND time < 240s GROUP BY time(60s)",
        [[[0, 3], [60, 2], [120, 0], [180, 0]]],
    ),
    (
        "SELECT mean(v) FROM agg WHERE time >= 0 AND time < 240s GROUP BY time(60s)",
        [[[0, 3], [60, 4.5], [120, None], [180, None]]],
    ),
    (
        "SELECT mean(v) FROM agg WHERE time >= 0 AND time < 240s GROUP BY time(60s) fill(none)",
        [[[0, 3], [60, 4.5]]],
    ),
    (
        "SELECT mean(v) FROM agg WHERE time >= 0 AND time < 240s GROUP BY time(60s) fill(-1)",
        [[[0, 3], [60, 4.5], [120, -1], [180, -1]]],
    ),
    (
        "SELECT mean(v) FROM agg WHERE time >= 0 AND time < 240s GROUP BY time(60s) fill(previous)",
        [[[0, 3], [60, 4.5], [120, 4.5], [180, 4.5]]],
    ),
    (
        "SELECT mean(v) FROM agg WHERE time >= 0 AND time < 100s GROUP BY time(20s) fill(linear)",
        [[[0, 1], [20, 4], [40, 5.5], [60, 7], [80, 2]]],
    ),
    (f"SELECT count(v) FROM agg {W} GROUP BY time(60s, 15s)", [[[-45, 1], [15, 3], [75, 1]]]),
    (f"SELECT count(v) FROM agg {W} GROUP BY time(60s) ORDER BY time DESC", [[[60, 2], [0, 3]]]),
    (f"SELECT count(v) FROM agg {W} GROUP BY time(60s) LIMIT 1 OFFSET 1", [[[60, 2]]]),
    ("SELECT count(v), mean(v) FROM agg", [[[0, 5, 3.6]]]),
    ("SELECT count(v) FROM agg WHERE time >= 20s", [[[20, 4]]]),
    ("SELECT mean(n), sum(n) FROM agg", [[[0, 3.6, 18]]]),
    ("SELECT max(v) FROM agg", [[[70, 7]]]),
    ("SELECT max(v), host FROM agg", [[[70, 7, "a"]]]),
    ("SELECT max(v), min(v) FROM agg", [[[0, 7, 1]]]),
    ("SELECT count(v) FROM agg WHERE time > 500s", []),
    ("SELECT count(v) FROM agg WHERE v > 2", [[[0, 3]]]),
    ("SELECT top(v, 2) FROM agg", [[[30, 5], [70, 7]]]),
    ("SELECT top(v, host, 2) FROM agg", [[[30, 5, "b"], [70, 7, "a"]]]),
    ("SELECT bottom(v, 2) FROM agg", [[[10, 1], [80, 2]]]),
    ("SELECT percentile(v, 50) FROM agg", [[[20, 3]]]),
    # distinct values in the order they were first seen (influxd)
    ("SELECT distinct(n) FROM agg", [[[0, 1], [0, 3], [0, 5], [0, 7], [0, 2]]]),
    ("SELECT count(distinct(n)) FROM agg", [[[0, 5]]]),
    ("SELECT integral(v) FROM agg", [[[0, 345]]]),
    ("SELECT integral(v, 10s) FROM agg", [[[0, 34.5]]]),
    ("SELECT sample(v, 10) FROM agg", [[[10, 1], [20, 3], [30, 5], [70, 7], [80, 2]]]),
    ("SELECT mean(v) * 2 FROM agg", [[[0, 7.2]]]),
    ("SELECT mean(*) FROM agg", [[[0, 3.6, 3.6]]]),
    ("SELECT derivative(v) FROM agg", [[[20, 0.2], [30, 0.2], [70, 0.05], [80, -0.5]]]),
    ("SELECT derivative(v, 10s) FROM agg", [[[20, 2], [30, 2], [70, 0.5], [80, -5]]]),
    ("SELECT non_negative_derivative(v, 10s) FROM agg", [[[20, 2], [30, 2], [70, 0.5]]]),
    ("SELECT difference(n) FROM agg", [[[20, 2], [30, 2], [70, 2], [80, -5]]]),
    ("SELECT non_negative_difference(n) FROM agg", [[[20, 2], [30, 2], [70, 2]]]),
    ("SELECT cumulative_sum(n) FROM agg", [[[10, 1], [20, 4], [30, 9], [70, 16], [80, 18]]]),
    ("SELECT moving_average(v, 2) FROM agg", [[[20, 2], [30, 4], [70, 6], [80, 4.5]]]),
    ("SELECT elapsed(v, 1s) FROM agg", [[[20, 10], [30, 10], [70, 40], [80, 10]]]),
    (f"SELECT derivative(mean(v)) FROM agg {W} GROUP BY time(60s)", [[[60, 1.5]]]),
    (
        f"SELECT difference(sum(n)), cumulative_sum(sum(n)) FROM agg {W} GROUP BY time(60s)",
        [[[0, None, 9], [60, 0, 18]]],
    ),
    ("SELECT v * 2 + 1, abs(v - 4) FROM agg WHERE host = 'a'", [[[10, 3, 3], [20, 7, 1], [70, 15, 3]]]),
    ("SELECT n / 2, n % 2, floor(v / 2) FROM agg WHERE host = 'b'", [[[30, 2.5, 1, 2], [80, 1, 0, 1]]]),
    ("SELECT pow(v, 2), sqrt(n) FROM agg WHERE time = 30s", [[[30, 25, 2.23606797749979]]]),
    ("SELECT max FROM (SELECT max(v) FROM agg GROUP BY host)", [[[30, 5], [70, 7]]]),
    ("SELECT mean(max) FROM (SELECT max(v) FROM agg GROUP BY host)", [[[0, 6]]]),
]


@pytest.mark.parametrize("q, expected", AGGREGATE_CASES)
def test_aggregates_selectors_transforms(client, agg, q, expected):
    assert values_s(client, q, agg) == expected


def test_aggregate_shapes(client, agg):
    series = query(client, f"SELECT mean(v), max(v) AS top_v FROM agg {W} GROUP BY time(60s), host", db=agg)
    first = series["results"][0]["series"][0]
    assert first["name"] == "agg" and first["tags"] == {"host": "a"}
    assert first["columns"] == ["time", "mean", "top_v"]
    assert first["values"][0] == ["1970-01-01T00:00:00Z", 2, 3]
    top = query(client, "SELECT top(v, host, 1) FROM agg", db=agg)["results"][0]["series"][0]
    assert top["columns"] == ["time", "top", "host"]
    columns = query(client, "SELECT v, v, mean FROM agg LIMIT 1", db=agg)["results"][0]["series"][0][
        "columns"
    ]
    assert columns == ["time", "v", "v_1", "mean"]


@pytest.mark.parametrize(
    "q, error",
    [
        ("SELECT mean(s) FROM str", "unsupported mean iterator type: *query.stringInterruptIterator"),
        ("SELECT v, mean(v) FROM agg", "mixing aggregate and non-aggregate queries is not supported"),
        (
            "SELECT v FROM agg WHERE time > 0 GROUP BY time(1m)",
            "GROUP BY requires at least one aggregate function",
        ),
        (
            "SELECT max(v), min(v), host FROM agg",
            "mixing multiple selector functions with tags or fields is not supported",
        ),
        (
            "SELECT top(v, 1), max(v) FROM agg",
            "selector function top() cannot be combined with other functions",
        ),
        ("SELECT mean() FROM agg", "invalid number of arguments for mean, expected 1, got 0"),
        ("SELECT foo(v) FROM agg", "undefined function foo()"),
        (
            "SELECT derivative(v) FROM agg WHERE time > 0 GROUP BY time(1m)",
            "aggregate function required inside the call to derivative",
        ),
        ("SELECT derivative(mean(v)) FROM agg", "derivative aggregate requires a GROUP BY interval"),
        ("SELECT moving_average(v, 1) FROM agg", "moving_average window must be greater than 1, got 1"),
        ("SELECT percentile(v) FROM agg", "invalid number of arguments for percentile, expected 2, got 1"),
        ("SELECT v FROM agg fill(none)", "fill(none) must be used with a function"),
        (
            "SELECT distinct(v), max(v) FROM agg",
            "aggregate function distinct() cannot be combined with other functions or fields",
        ),
        ("SELECT time FROM agg", "at least 1 non-time field must be queried"),
        ("SELECT mean(max(v)) FROM agg", "expected field argument in mean()"),
    ],
)
def test_select_errors(client, agg, q, error):
    assert query(client, q, db=agg)["results"][0] == {"statement_id": 0, "error": error}


# -- SHOW -------------------------------------------------------------------------------------------


def test_show_series_tag_keys_tag_values_field_keys(client, loaded):
    assert first_series(query(client, "SHOW SERIES", db=loaded)) == [
        {
            "columns": ["key"],
            "values": [["cpu,host=a,region=us"], ["cpu,host=b,region=eu"], ["cpu,host=c"], ["mem,host=a"]],
        }
    ]
    assert first_series(query(client, "SHOW SERIES FROM cpu WHERE region = 'eu'", db=loaded))[0][
        "values"
    ] == [["cpu,host=b,region=eu"]]
    assert first_series(query(client, "SHOW SERIES LIMIT 1 OFFSET 3", db=loaded))[0]["values"] == [
        ["mem,host=a"]
    ]
    assert first_series(query(client, "SHOW TAG KEYS", db=loaded)) == [
        {"name": "cpu", "columns": ["tagKey"], "values": [["host"], ["region"]]},
        {"name": "mem", "columns": ["tagKey"], "values": [["host"]]},
    ]
    assert first_series(query(client, "SHOW TAG VALUES FROM cpu WITH KEY = host", db=loaded)) == [
        {"name": "cpu", "columns": ["key", "value"], "values": [["host", "a"], ["host", "b"], ["host", "c"]]}
    ]
    got = first_series(query(client, "SHOW TAG VALUES WITH KEY IN (region) WHERE host != 'a'", db=loaded))
    assert got == [{"name": "cpu", "columns": ["key", "value"], "values": [["region", "eu"]]}]
    got = first_series(query(client, "SHOW TAG VALUES FROM cpu WITH KEY =~ /o/", db=loaded))
    assert got[0]["values"] == [
        ["host", "a"],
        ["host", "b"],
        ["host", "c"],
        ["region", "eu"],
        ["region", "us"],
    ]
    assert first_series(query(client, "SHOW FIELD KEYS", db=loaded)) == [
        {
            "name": "cpu",
            "columns": ["fieldKey", "fieldType"],
            "values": [["idle", "integer"], ["usage", "float"]],
        },
        {"name": "mem", "columns": ["fieldKey", "fieldType"], "values": [["used", "integer"]]},
    ]
    assert first_series(query(client, f'SHOW FIELD KEYS ON "{loaded}" FROM mem', db="")) == [
        {"name": "mem", "columns": ["fieldKey", "fieldType"], "values": [["used", "integer"]]}
    ]


# -- output formats and parameters ------------------------------------------------------------------


def test_bound_parameters(client, loaded):
    import json

    got = query(
        client,
        "SELECT usage FROM cpu WHERE host = $h AND time < $t",
        db=loaded,
        epoch="s",
        params=json.dumps({"h": "a", "t": {"duration": "2s"}}),
    )
    assert got["results"][0]["series"][0]["values"] == [[1, 1.5]]


def test_chunked_json(client, loaded):
    from urllib.parse import urlencode

    q = "SELECT usage FROM cpu; SELECT used FROM mem"
    response = client.http.get(
        "/query?" + urlencode({"q": q, "db": loaded, "epoch": "s", "chunked": "true", "chunk_size": "3"})
    )
    import json

    chunks = [json.loads(line) for line in response.body.decode().splitlines()]
    assert chunks == [
        {
            "results": [
                {
                    "statement_id": 0,
                    "series": [
                        {
                            "name": "cpu",
                            "columns": ["time", "usage"],
                            "values": [[1, 1.5], [2, 2.5], [3, 3.5]],
                            "partial": True,
                        }
                    ],
                    "partial": True,
                }
            ]
        },
        {
            "results": [
                {
                    "statement_id": 0,
                    "series": [{"name": "cpu", "columns": ["time", "usage"], "values": [[4, 4.5]]}],
                }
            ]
        },
        {
            "results": [
                {
                    "statement_id": 1,
                    "series": [{"name": "mem", "columns": ["time", "used"], "values": [[1, 10]]}],
                }
            ]
        },
    ]


def test_csv(client, loaded):
    from urllib.parse import urlencode

    q = "SELECT usage, idle FROM cpu WHERE time <= 2s GROUP BY host; SELECT used FROM mem"
    response = client.http.get(
        "/query?" + urlencode({"q": q, "db": loaded}), headers={"Accept": "application/csv"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/csv"
    assert response.body.decode() == (
        "name,tags,time,usage,idle\n"
        "cpu,host=a,1000000000,1.5,90\n"
        "cpu,host=b,2000000000,2.5,80\n"
        "\n"
        "name,tags,time,used\n"
        "mem,,1000000000,10\n"
    )
    response = client.http.get(
        "/query?" + urlencode({"q": "SELECT usage FROM cpu WHERE time <= 1s", "db": loaded, "epoch": "s"}),
        headers={"Accept": "application/csv"},
    )
    assert response.body.decode() == "name,tags,time,usage\ncpu,,1,1.5\n"


def test_select_into(client, pump, agg):
    got = query(client, f"SELECT mean(v) AS v INTO agg_1m FROM agg {W} GROUP BY time(60s), host", db=agg)
    assert got["results"][0]["series"] == [
        {"name": "result", "columns": ["time", "written"], "values": [["1970-01-01T00:00:00Z", 4]]}
    ]
    pump.drain()
    assert values_s(client, "SELECT v FROM agg_1m GROUP BY host", agg) == [
        [[0, 2], [60, 7]],
        [[0, 5], [60, 2]],
    ]
