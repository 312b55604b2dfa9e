"""proxy/results: influx-proxy's merges of SHOW answers (sorted, unlike 2.4.7), /health, and JSON as
Go's encoding/json writes it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.proxy.influxql import Merge
from chalicelib.proxy.results import (
    BackendHealth,
    CircleHealth,
    DbLoad,
    error_json,
    go_json,
    health_json,
    merge_bodies,
)


def _answer(*series: dict[str, Any]) -> str:
    return json.dumps({"results": [{"statement_id": 0, "series": list(series)}]})


def _values(name: str, column: str, *values: str) -> dict[str, Any]:
    return {"name": name, "columns": [column], "values": [[v] for v in values]}


def test_measurements_are_deduplicated_and_sorted() -> None:
    bodies = [
        _answer(_values("measurements", "name", "mem", "cpu")),
        _answer(_values("measurements", "name", "disk", "cpu")),
        json.dumps({"results": [{"statement_id": 0}]}),
    ]
    merged = merge_bodies(Merge.VALUES, bodies)
    assert go_json(merged) == (
        '{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],'
        '"values":[["cpu"],["disk"],["mem"]]}]}]}\n'
    )


def test_series_and_databases_merge_by_value() -> None:
    bodies = [_answer(_values("", "key", "cpu,host=b", "cpu,host=a")), _answer(_values("", "key", "mem"))]
    assert merge_bodies(Merge.VALUES, bodies)["results"][0]["series"] == [
        {"columns": ["key"], "values": [["cpu,host=a"], ["cpu,host=b"], ["mem"]]}
    ]
    dbs = [
        _answer(_values("databases", "name", "_internal", "b")),
        _answer(_values("databases", "name", "a")),
    ]
    assert merge_bodies(Merge.VALUES, dbs)["results"][0]["series"][0]["values"] == [
        ["_internal"],
        ["a"],
        ["b"],
    ]


def test_nothing_to_merge_is_an_empty_result() -> None:
    empty = json.dumps({"results": [{"statement_id": 0}]})
    for kind in (Merge.VALUES, Merge.SERIES, Merge.RETENTION_POLICIES):
        assert go_json(merge_bodies(kind, [empty, empty])) == '{"results":[{"statement_id":0}]}\n'


def test_stats_keep_one_result_per_backend_even_empty() -> None:
    empty = json.dumps({"results": [{"statement_id": 0}]})
    assert merge_bodies(Merge.RESULTS, [empty, empty]) == {
        "results": [{"statement_id": 0}, {"statement_id": 0}]
    }


def test_an_error_shows_only_when_no_backend_has_rows() -> None:
    error = json.dumps({"results": [{"statement_id": 0, "error": "database not found: x"}]})
    assert merge_bodies(Merge.SERIES, [error, error]) == {
        "results": [{"statement_id": 0, "error": "database not found: x"}]
    }
    rows = _answer(_values("cpu", "tagKey", "host"))
    assert "error" not in merge_bodies(Merge.SERIES, [error, rows])["results"][0]


def test_keys_merge_by_measurement_sorted_with_rows_united() -> None:
    fields = {
        "name": "cpu",
        "columns": ["fieldKey", "fieldType"],
        "values": [["usage", "float"], ["idle", "float"]],
    }
    again = {
        "name": "cpu",
        "columns": ["fieldKey", "fieldType"],
        "values": [["idle", "float"], ["x", "integer"]],
    }
    disk = {"name": "disk", "columns": ["fieldKey", "fieldType"], "values": [["free", "integer"]]}
    merged = merge_bodies(Merge.SERIES, [_answer(disk), _answer(fields), _answer(again)])
    assert merged["results"][0]["series"] == [
        {
            "name": "cpu",
            "columns": ["fieldKey", "fieldType"],
            "values": [["idle", "float"], ["usage", "float"], ["x", "integer"]],
        },
        disk,
    ]


def test_tag_values_sort_by_key_then_value() -> None:
    tv = {
        "name": "cpu",
        "columns": ["key", "value"],
        "values": [["region", "us"], ["host", "b"], ["host", "a"]],
    }
    series = merge_bodies(Merge.SERIES, [_answer(tv)])["results"][0]["series"]
    assert series[0]["values"] == [["host", "a"], ["host", "b"], ["region", "us"]]


def test_retention_policies_keep_influxd_order_once_each() -> None:
    columns = ["name", "duration", "shardGroupDuration", "replicaN", "default"]
    one = {
        "columns": columns,
        "values": [["autogen", "0s", "168h0m0s", 1, True], ["week", "168h0m0s", "24h0m0s", 1, False]],
    }
    two = {
        "columns": columns,
        "values": [["autogen", "0s", "168h0m0s", 1, True], ["day", "24h0m0s", "1h0m0s", 1, False]],
    }
    merged = merge_bodies(Merge.RETENTION_POLICIES, [_answer(one), _answer(two)])
    assert go_json(merged) == (
        '{"results":[{"statement_id":0,"series":[{"columns":["name","duration","shardGroupDuration",'
        '"replicaN","default"],"values":[["autogen","0s","168h0m0s",1,true],["week","168h0m0s","24h0m0s",1,false],'
        '["day","24h0m0s","1h0m0s",1,false]]}]}]}\n'
    )


def test_stats_concatenate_each_backends_result() -> None:
    stats = {
        "name": "runtime",
        "tags": {"b": "2", "a": "1"},
        "columns": ["Alloc"],
        "values": [[12345678901234567890]],
    }
    first = _answer(stats)
    second = json.dumps({"results": [{"statement_id": 0, "error": "boom"}]})
    merged = merge_bodies(Merge.RESULTS, [first, second])
    assert go_json(merged) == (
        '{"results":[{"statement_id":0,"series":[{"name":"runtime","tags":{"a":"1","b":"2"},'
        '"columns":["Alloc"],"values":[[12345678901234567000]]}]},{"statement_id":0,"error":"boom"}]}\n'
    )


def test_a_body_that_is_not_json_is_a_query_error() -> None:
    with pytest.raises(TicklessError) as err:
        merge_bodies(Merge.VALUES, [b"<html>"])
    assert err.value.status == 400
    assert err.value.message.startswith("query error: ")


def test_bodies_may_be_decoded_already() -> None:
    merged = merge_bodies(
        Merge.VALUES, [{"results": [{"series": [_values("measurements", "name", "b", "a")]}]}]
    )
    assert merged["results"][0]["series"][0]["values"] == [["a"], ["b"]]


def test_error_json() -> None:
    assert error_json("query forbidden") == '{"error":"query forbidden"}\n'


def test_health_json_matches_the_2_4_document() -> None:
    circles = [
        CircleHealth(
            "circle-1",
            [
                BackendHealth(
                    "influxdb-1-1",
                    "http://127.0.0.1:8086",
                    active=True,
                    backlog=False,
                    rewrite=False,
                    load={"db2": DbLoad(1, 1, 0), "db1": DbLoad(2, 2, 0)},
                )
            ],
        )
    ]
    expected = """[
    {
        "backends": [
            {
                "active": true,
                "backlog": false,
                "load": {
                    "db1": {
                        "incorrect": 0,
                        "inplace": 2,
                        "measurements": 2
                    },
                    "db2": {
                        "incorrect": 0,
                        "inplace": 1,
                        "measurements": 1
                    }
                },
                "name": "influxdb-1-1",
                "rewrite": false,
                "url": "http://127.0.0.1:8086"
            }
        ],
        "circle": "circle-1"
    }
]
"""
    assert go_json(health_json(circles), pretty=True) == expected
    assert go_json(health_json([CircleHealth("c", [BackendHealth("b", "u", False, True, True)])])) == (
        '[{"backends":[{"active":false,"backlog":true,"load":{},"name":"b","rewrite":true,"url":"u"}],"circle":"c"}]\n'
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (-0.0, "-0"),
        (0.5, "0.5"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (1e-6, "0.000001"),
        (1.234e-100, "1.234e-100"),
        (7, "7"),
        (True, "true"),
        (None, "null"),
        ("<a&b>", '"\\u003ca\\u0026b\\u003e"'),
        ('\b\f\n\r\t\x01"\\', '"\\u0008\\u000c\\n\\r\\t\\u0001\\"\\\\"'),
        ("\u2028é\ud800", '"\\u2028é\ufffd"'),
        ([], "[]"),
        ({}, "{}"),
    ],
)
def test_go_json_scalars(value: Any, text: str) -> None:
    assert go_json(value, newline=False) == text


def test_go_json_pretty_is_marshal_indent_with_four_spaces() -> None:
    value = {"results": [{"statement_id": 0, "series": [{"values": [[1.0, "a"]], "tags": {}}]}]}
    assert go_json(value, pretty=True) == json.dumps(value, indent=4).replace("1.0", "1") + "\n"
