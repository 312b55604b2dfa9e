"""`v1.databases()`: the org's DBRP mappings as influxd 2.x's localDatabases source lists them."""

# ruff: noqa: E501 -- Flux queries read best on one line
from __future__ import annotations

import pytest

from chalicelib.flux.csv import Dialect, encode
from chalicelib.flux.engine import execute
from chalicelib.flux.source import Context
from chalicelib.flux.values import FluxError
from chalicelib.kit.errors import TicklessError
from tests.unit.test_flux_source import BUCKET, MemorySource

ORG = {"id": BUCKET["orgID"], "name": "acme"}
WEEK = {
    **BUCKET,
    "id": "0000000000000b02",
    "name": "telegraf/week",
    "retentionRules": [{"everySeconds": 604800}],
}


class DbrpSource(MemorySource):
    def __init__(self, mappings: list[dict]) -> None:
        super().__init__([], buckets=(BUCKET, WEEK))
        self.mappings = mappings

    def dbrps(self) -> list[dict]:
        return self.mappings


def mapping(bucket: dict, database: str, rp: str, default: bool) -> dict:
    return {
        "orgID": bucket["orgID"],
        "bucketID": bucket["id"],
        "database": database,
        "retention_policy": rp,
        "default": default,
        "bucket": bucket,
    }


def run(source, query: str) -> str:
    results = execute(query, Context(source, source, 0, ORG))
    return "".join(encode(results, Dialect(annotations=["datatype", "group", "default"])))


def test_databases_lists_every_mapping_in_one_table_keyed_by_organization():
    source = DbrpSource([mapping(BUCKET, "first", "autogen", True), mapping(WEEK, "telegraf", "week", False)])
    assert run(source, 'import "influxdata/influxdb/v1"\nv1.databases()') == "\r\n".join(
        [
            "#datatype,string,long,string,string,string,long,boolean,string",
            "#group,false,false,true,false,false,false,false,false",
            "#default,_result,,,,,,,",
            ",result,table,organizationID,databaseName,retentionPolicy,retentionPeriod,default,bucketId",
            f",,0,{ORG['id']},first,autogen,0,true,{BUCKET['id']}",
            f",,0,{ORG['id']},telegraf,week,604800000000000,false,{WEEK['id']}",
            "",
            "",
        ]
    )


def test_databases_as_influxql_show_databases_is_written_in_flux():
    source = DbrpSource([mapping(BUCKET, "first", "autogen", True), mapping(WEEK, "telegraf", "week", False)])
    q = 'import v1 "influxdata/influxdb/v1"\nv1.databases() |> rename(columns: {databaseName: "name"}) |> keep(columns: ["name"])'
    assert run(source, q).splitlines()[-4:-1] == [",result,table,name", ",,0,first", ",,0,telegraf"]


def test_no_databases_is_not_found():
    with pytest.raises(TicklessError) as raised:
        run(DbrpSource([]), 'import "influxdata/influxdb/v1"\nv1.databases()')
    assert (raised.value.code, raised.value.message) == ("not found", "no 1.x databases found")


@pytest.mark.parametrize(
    "args, message",
    [
        ('org: "other"', "buckets cannot list from a separate organization"),
        ('orgID: "0000000000000bad"', "buckets cannot list from a separate organization"),
        ('host: "http://elsewhere:8086"', "host is not supported"),
    ],
)
def test_another_organization_or_host_is_refused(args, message):
    source = DbrpSource([mapping(BUCKET, "first", "autogen", True)])
    with pytest.raises(FluxError, match=message):
        run(source, f'import "influxdata/influxdb/v1"\nv1.databases({args})')


def test_own_organization_by_name_or_id_is_accepted():
    source = DbrpSource([mapping(BUCKET, "first", "autogen", True)])
    for args in ('org: "acme"', f'orgID: "{ORG["id"]}"'):
        assert ",,0," in run(source, f'import "influxdata/influxdb/v1"\nv1.databases({args})')
