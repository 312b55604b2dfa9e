"""`keep`, `drop`, `rename`, `duplicate` as Flux's schema mutations: tables left with equal group keys
become one (what the InfluxDB UI's `keys() |> keep(columns: ["_value"]) |> distinct()` relies on)."""

# ruff: noqa: E501 -- Flux queries read best on one line
from __future__ import annotations

import pytest

from chalicelib.flux.engine import execute
from chalicelib.flux.source import Context
from chalicelib.flux.values import FluxError
from tests.unit.test_flux_source import MemorySource

S = 1_000_000_000


@pytest.fixture
def source():
    return MemorySource(
        [
            ("cpu", {"host": "a"}, {"usage": 1.5, "n": 3}, 10 * S),
            ("cpu", {"host": "b", "region": "eu"}, {"usage": 43.0}, 15 * S),
            ("mem", {"host": "a"}, {"free": 7}, 15 * S),
        ]
    )


def tables(source, query: str):
    ((_, stream),) = execute(query, Context(source, source, 60 * S))
    return stream.tables()


def test_keys_kept_as_value_are_one_table(source):
    q = 'from(bucket: "first") |> range(start: 0) |> keys() |> keep(columns: ["_value"]) |> distinct()'
    (table,) = tables(source, q)
    assert table.key == []
    assert table.col("_value") == ["_start", "_stop", "_field", "_measurement", "host", "region"]


def test_tables_keeping_distinct_keys_stay_apart_in_input_order(source):
    q = 'from(bucket: "first") |> range(start: 0) |> drop(columns: ["_start", "_stop", "_time"])'
    out = tables(source, q)
    assert [(t.keyvals["_measurement"], t.keyvals["_field"], t.keyvals["host"]) for t in out] == [
        ("cpu", "n", "a"),
        ("cpu", "usage", "a"),
        ("cpu", "usage", "b"),
        ("mem", "free", "a"),
    ]


def test_rename_and_duplicate_merge_equal_keys(source):
    q = 'from(bucket: "first") |> range(start: 0) |> filter(fn: (r) => r._field == "usage") |> drop(columns: ["_start", "_stop", "_time", "host", "region"]) |> rename(columns: {_value: "v"})'
    (table,) = tables(source, q)
    assert table.names() == ["v", "_field", "_measurement"]
    assert table.col("v") == [1.5, 43.0]
    q = 'from(bucket: "first") |> range(start: 0) |> filter(fn: (r) => r._field == "usage") |> keep(columns: ["_value"]) |> duplicate(column: "_value", as: "copy")'
    (table,) = tables(source, q)
    assert table.col("copy") == [1.5, 43.0]


def test_merging_columns_of_different_types_is_a_schema_collision(source):
    q = 'from(bucket: "first") |> range(start: 0) |> keep(columns: ["_value"])'
    with pytest.raises(FluxError, match="schema collision"):
        tables(source, q)
