"""The annotated CSV tickless writes, read back by influxdb-client's own parser (what every Python user
runs): tables, group keys, types and values survive, and the error table raises the client's error."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from influxdb_client.client.flux_csv_parser import FluxCsvParser, FluxQueryException, FluxSerializationMode
from urllib3.response import HTTPResponse

from chalicelib.flux.csv import Dialect, encode
from chalicelib.flux.engine import execute
from chalicelib.flux.source import Context
from tests.unit.test_flux_source import MemorySource

S = 1_000_000_000
CLIENT_DIALECT = Dialect(annotations=["datatype", "group", "default"])


def parse(text: str):
    response = HTTPResponse(body=io.BytesIO(text.encode()), preload_content=False)
    parser = FluxCsvParser(response=response, serialization_mode=FluxSerializationMode.tables)
    list(parser.generator())
    return parser.tables


@pytest.fixture
def source():
    return MemorySource(
        [
            ("cpu", {"host": "a"}, {"usage": 1.5, "n": 3, "ok": True, "s": "x,y"}, 10 * S),
            ("cpu", {"host": "b"}, {"usage": 43.0}, 15 * S),
        ]
    )


def run(source, query: str) -> str:
    return "".join(encode(execute(query, Context(source, source, 60 * S)), CLIENT_DIALECT))


def test_storage_tables_parse_with_types_and_group_keys(source):
    tables = parse(run(source, 'from(bucket: "first") |> range(start: 0)'))
    assert len(tables) == 5
    by_field = {(t.records[0].get_field(), t.records[0]["host"]): t for t in tables}
    usage = by_field[("usage", "a")]
    assert [c.label for c in usage.get_group_key()] == ["_start", "_stop", "_field", "_measurement", "host"]
    record = usage.records[0]
    assert record.get_value() == 1.5
    assert record.get_time() == datetime(1970, 1, 1, 0, 0, 10, tzinfo=UTC)
    assert record.get_start() == datetime(1970, 1, 1, tzinfo=UTC)
    assert by_field[("n", "a")].records[0].get_value() == 3
    assert by_field[("ok", "a")].records[0].get_value() is True
    assert by_field[("s", "a")].records[0].get_value() == "x,y"
    assert by_field[("usage", "b")].records[0].get_value() == 43.0


def test_several_results_and_schemas(source):
    q = (
        'data = from(bucket: "first") |> range(start: 0) |> filter(fn: (r) => r._field == "usage")\n'
        'data |> mean() |> yield(name: "mean")\n'
        'data |> count() |> yield(name: "count")'
    )
    tables = parse(run(source, q))
    assert [(t.records[0].values["result"], t.records[0].get_value()) for t in tables] == [
        ("mean", 1.5),
        ("mean", 43.0),
        ("count", 1),
        ("count", 1),
    ]


def test_error_table_raises_the_client_error(source):
    q = (
        'from(bucket: "first") |> range(start: 0) |> yield(name: "a")\n'
        + 'from(bucket: "first") |> yield(name: "b")'
    )
    with pytest.raises(FluxQueryException, match="cannot submit unbounded read"):
        parse(run(source, q))
