"""The Flux that Grafana's InfluxDB data source (Flux mode: its health check and "Sample query" helpers)
and the InfluxDB UI (query builder, schema explorer, new data explorer) send, over HTTP, answered with the
annotated CSV influxd 2.x writes (columns, group keys, types). See docs/FLUX.md, "What the query builders
emit", for where each query comes from."""

# ruff: noqa: E501 -- Flux queries read best on one line
from __future__ import annotations

import json
import time

import pytest

from tests.api.test_flux_api import ANNOTATED, csv_text, flux, lines, module_client, new_bucket  # noqa: F401
from tests.api.test_write_api import write_v2

S = 1_000_000_000
HOUR = 3600 * S
# the bounds the InfluxDB UI's schema queries pass ("hard-coded dates required by the backend for caching")
UI_START = "1677-09-21T00:12:43.145224194Z"
UI_STOP = "2262-04-11T23:47:16.854775806Z"
VALUES = "#datatype,string,long,string"
NO_KEY = "#group,false,false,false"


@pytest.fixture(scope="module")
def now_s() -> int:
    """The points are an hour old, inside every builder's default range (-30d, -1d, ...)."""
    return time.time_ns() // S * S


@pytest.fixture(scope="module")
def telegraf(module_client, pump, onboarding, now_s) -> tuple[str, str]:  # noqa: F811
    """A bucket of its own (name, id) with a one-hour retention period."""
    name, bucket_id = new_bucket(module_client, onboarding)
    response = module_client.http.patch(
        f"/api/v2/buckets/{bucket_id}",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"retentionRules": [{"type": "expire", "everySeconds": 7200}]}),
    )
    assert response.status_code == 200, response.body
    t0 = now_s - HOUR
    two_hours = 2 * HOUR
    if t0 // two_hours != (t0 + 30 * S) // two_hours:  # the points must not straddle an epoch-aligned 2h
        t0 = t0 // two_hours * two_hours - 60 * S  # window (the tests aggregate over those): all before
    body = "\n".join(
        [
            f"cpu,host=a,region=eu usage=1,n=3i {t0}",
            f"cpu,host=a,region=eu usage=2 {t0 + 10 * S}",
            f"cpu,host=a,region=eu usage=3 {t0 + 20 * S}",
            f"cpu,host=a,region=eu usage=10 {t0 + 30 * S}",
            f"cpu,host=B usage=43 {t0 + 15 * S}",
            f"mem,host=a free=7i {t0 + 15 * S}",
        ]
    )
    written = write_v2(module_client, body, org="acme", bucket=name)
    assert written.status_code == 204, written.body
    count = f'from(bucket: "{name}") |> range(start: -1d) |> count() |> group() |> sum()'
    for _ in range(5):  # the write path is asynchronous (Kinesis): wait until all seven values are read
        pump.drain()
        if csv_text(flux(module_client, count, dialect={"annotations": []})).endswith(",7\r\n\r\n"):
            break
        time.sleep(1)
    else:
        pytest.fail("the points written never became readable: " + csv_text(flux(module_client, count)))
    yield name, bucket_id
    module_client.http.delete(f"/api/v2/buckets/{bucket_id}")


def values_csv(*values: str) -> str:
    """The one table of `_value` strings the schema functions answer, annotated."""
    return lines(
        VALUES, NO_KEY, "#default,_result,,", ",result,table,_value", *(f",,0,{v}" for v in values), ""
    )


# -- Grafana ----------------------------------------------------------------------------------------------


def test_grafana_health_check_lists_buckets(client, telegraf):
    # pkg/tsdb/influxdb/healthcheck.go: `buckets()`, the number of rows is the number of buckets found
    text = csv_text(flux(client, "buckets()"))
    assert text.startswith(
        lines(
            "#datatype,string,long,string,string,string,string,long",
            "#group,false,false,false,false,false,false,false",
            "#default,_result,,,,,,",
            ",result,table,name,id,organizationID,retentionPolicy,retentionPeriod",
        )
    )
    assert f",{telegraf[0]},{telegraf[1]}," in text


@pytest.mark.parametrize(
    "query, expected",
    [
        ('v1.measurements(bucket: "{b}")', ["cpu", "mem"]),
        ('v1.tagKeys(bucket: "{b}")', ["_start", "_stop", "_field", "_measurement", "host", "region"]),
        (
            'v1.tagValues(\n    bucket: "{b}",\n    tag: "host",\n    predicate: (r) => true,\n    start: -1d\n)',
            ["B", "a"],
        ),
        ('v1.fieldKeys(bucket: "{b}")', ["free", "n", "usage"]),
        (
            'v1.measurementTagKeys(bucket: "{b}", measurement: "mem")',
            ["_start", "_stop", "_field", "_measurement", "host"],
        ),
        ('v1.measurementTagValues(bucket: "{b}", measurement: "cpu", tag: "region")', ["eu"]),
        ('v1.measurementFieldKeys(bucket: "{b}", measurement: "cpu")', ["n", "usage"]),
    ],
)
def test_grafana_schema_exploration_samples(client, telegraf, query, expected):
    # FluxQueryEditor.tsx's "Schema Exploration" samples, `v.bucket` interpolated by Grafana's backend
    q = 'import "influxdata/influxdb/v1"\n' + query.format(b=telegraf[0])
    assert csv_text(flux(client, q)) == values_csv(*expected)


def test_grafana_fields_sample_lists_every_key(client, telegraf, now_s):
    q = f'''from(bucket: "{telegraf[0]}")
  |> range(start: -2h, stop:{now_s // S})
  |> keys()
  |> keep(columns: ["_value"])
  |> group()
  |> distinct()'''
    assert csv_text(flux(client, q)) == values_csv(
        "_start", "_stop", "_field", "_measurement", "host", "region"
    )


def test_grafana_grouped_and_filtered_samples(client, telegraf, now_s):
    window = f"range(start: {now_s // S - 7200}, stop: {now_s // S})"
    grouped = f'''// v.windowPeriod is a variable referring to the current optimized window period (currently: $interval)
from(bucket: "{telegraf[0]}")
  |> {window}
  |> filter(fn: (r) => r["_measurement"] == "cpu" or r["_measurement"] =~ /^.*?regex.*$/)
  |> filter(fn: (r) => r["_field"] == "usage" or r["_field"] =~ /^.*?regex.*$/)
  |> aggregateWindow(every: 2h, fn: max)
  |> yield(name: "some-name")'''
    text = csv_text(flux(client, grouped, dialect={"annotations": ["default"], "header": True}))
    rows = [row.split(",") for row in text.splitlines() if row.startswith(",,")]
    # windows aligned on the epoch: the range straddles two, the older empty
    assert [(r[2], r[6], r[-1]) for r in rows if r[6]] == [("0", "43", "B"), ("1", "10", "eu")]
    assert text.startswith("#default,some-name,")
    by_value = f'''from(bucket: "{telegraf[0]}")
  |> {window}
  |> filter(fn: (r) => r["_value"] >= 2 and r["_value"] <= 7)
  |> keep(columns: ["_value", "_field"])'''
    assert csv_text(flux(client, by_value, dialect={"annotations": []})) == lines(
        ",result,table,_value,_field",
        ",_result,0,3,n",
        "",
        ",result,table,_value,_field",
        ",_result,1,2,usage",
        ",_result,1,3,usage",
        "",
        ",result,table,_value,_field",
        ",_result,2,7,free",
        "",
    )


def test_common_variable_queries(client, telegraf):
    # docs.influxdata.com/influxdb/v2/visualize-data/variables/common-variables/ (Grafana variables too)
    buckets = 'buckets()\n    |> rename(columns: {"name": "_value"})\n    |> keep(columns: ["_value"])'
    assert f",,0,{telegraf[0]}\r\n" in csv_text(flux(client, buckets))
    fields = f"""import "influxdata/influxdb/schema"

schema.measurementTagValues(
    bucket: "{telegraf[0]}",
    measurement: "cpu",
    tag: "_field",
)"""
    assert csv_text(flux(client, fields)) == values_csv("n", "usage")
    hosts = f'import "influxdata/influxdb/schema"\n\nschema.tagValues(bucket: "{telegraf[0]}", tag: "host")'
    assert csv_text(flux(client, hosts)) == values_csv("B", "a")


# -- the InfluxDB UI ------------------------------------------------------------------------------------


def test_ui_measurements(client, telegraf):
    # src/dataExplorer/context/measurements.tsx (newQueryBuilder)
    q = f'''import "regexp"
import "influxdata/influxdb/schema"

        schema.measurements(
          bucket: "{telegraf[0]}",
          start: {UI_START},
          stop: {UI_STOP},
        )
          |> sort()
          |> limit(n: 200)'''
    assert csv_text(flux(client, q)) == values_csv("cpu", "mem")


def test_ui_fields_of_a_measurement(client, telegraf):
    # src/dataExplorer/context/fields.tsx
    q = f'''import "regexp"
import "influxdata/influxdb/schema"
        schema.tagValues(
          bucket: "{telegraf[0]}",
          tag: "_field",
          predicate: (r) => (r["_measurement"] == "cpu"),
          start: {UI_START},
          stop: {UI_STOP},
        )
          |> limit(n: 200)
          |> sort()'''
    assert csv_text(flux(client, q)) == values_csv("n", "usage")


def test_ui_tag_keys_and_values_sorted_case_insensitively(client, telegraf):
    # src/dataExplorer/context/tags.tsx: keys (with a search term) and values, lowercased for sorting
    keys = f'''import "regexp"
import "influxdata/influxdb/schema"
import "strings"
        schema.measurementTagKeys(
          bucket: "{telegraf[0]}",
          measurement: "cpu",
          start: {UI_START},
          stop: {UI_STOP},
        )
        |> filter(fn: (r) => r._value != "_measurement" and r._value != "_field")
        |> filter(fn: (r) => r._value != "_start" and r._value != "_stop")
        |> filter(fn: (r) => r._value =~ regexp.compile(v: "(?i:" + regexp.quoteMeta(v: "O") + ")"))
        |> map(fn: (r) => ({{r with lowercase: strings.toLower(v: r._value)}}))
        |> sort(columns: ["lowercase"])
        |> limit(n: 200)'''
    assert csv_text(flux(client, keys)) == lines(
        "#datatype,string,long,string,string",
        "#group,false,false,false,false",
        "#default,_result,,,",
        ",result,table,_value,lowercase",
        ",,0,host,host",
        ",,0,region,region",
        "",
    )
    tag_values = f'''import "strings"
import "influxdata/influxdb/schema"
        schema.measurementTagValues(
          bucket: "{telegraf[0]}",
          measurement: "cpu",
          tag: "host",
          start: {UI_START},
          stop: {UI_STOP},
        )
        |> map(fn: (r) => ({{r with lowercase: strings.toLower(v: r._value)}}))
        |> sort(columns: ["lowercase"])
        |> limit(n: 200)'''
    text = csv_text(flux(client, tag_values, dialect={"annotations": []}))
    assert text == lines(",result,table,_value,lowercase", ",_result,0,a,a", ",_result,0,B,b", "")


def test_ui_group_keys_union_fields_and_tag_keys(client, telegraf):
    # src/dataExplorer/context/groupKeys.tsx
    q = f'''import "regexp"
import "influxdata/influxdb/schema"
import "strings"
      fields = schema.measurementFieldKeys(
        bucket: "{telegraf[0]}",
        measurement: "cpu",
        start: {UI_START},
        stop: {UI_STOP},
      )

      tagKeys = schema.measurementTagKeys(
        bucket: "{telegraf[0]}",
        measurement: "cpu",
        start: {UI_START},
        stop: {UI_STOP},
      )
      |> filter(fn: (r) => r._value != "_measurement")
      |> filter(fn: (r) => r._value != "_start" and r._value != "_stop")

      union(tables: [fields, tagKeys])
      |> group()
      |> map(fn: (r) => ({{r with lowercase: strings.toLower(v: r._value)}}))
      |> sort(columns: ["lowercase"])
      |> limit(n: 200)'''
    text = csv_text(flux(client, q, dialect={"annotations": []}))
    assert [row.split(",")[3] for row in text.splitlines()[1:] if row] == [
        "_field",
        "host",
        "n",
        "region",
        "usage",
    ]


def test_ui_query_builder_find_keys_and_values(client, telegraf):
    # src/timeMachine/apis/queryBuilder.ts (newQueryBuilder): a tag selection and a search term
    keys = f'''import "regexp"
import "influxdata/influxdb/schema"

schema.tagKeys(
  bucket: "{telegraf[0]}",
  predicate: (r) => (r["_measurement"] == "cpu"),
  start: {UI_START},
  stop: {UI_STOP},
)
  |> filter(fn: (r) => r._value =~ regexp.compile(v: "(?i:" + regexp.quoteMeta(v: "_") + ")"))
  |> filter(fn: (r) => r._value != "_measurement")
  |> filter(fn: (r) => r._value != "_time" and r._value != "_start" and r._value !=  "_stop" and r._value != "_value")
  |> sort()
  |> limit(n: 200)'''
    assert csv_text(flux(client, keys)) == values_csv("_field")
    found = f'''import "regexp"
import "influxdata/influxdb/schema"

schema.tagValues(
  bucket: "{telegraf[0]}",
  tag: "_field",
  predicate: (r) => (r["_measurement"] == "cpu") and (r["host"] == "B"),
  start: {UI_START},
  stop: {UI_STOP},
)
  |> filter(fn: (r) => r._value != "_time" and r._value != "_start" and r._value !=  "_stop" and r._value != "_value")
  |> sort()
  |> limit(n: 200)'''
    assert csv_text(flux(client, found)) == values_csv("usage")


def test_ui_key_and_value_lists_without_the_schema_functions(client, telegraf, now_s):
    # src/flows/pipes/QueryBuilder/context.tsx and queryBuilder.ts without `newQueryBuilder`: keys()
    # kept as `_value` are one table (Flux's keep regroups), so `distinct()` lists each key once
    window = f"start: {now_s // S - 7200}, stop: {now_s // S}"
    keys = f'''from(bucket: "{telegraf[0]}")
              |> range({window})
              |> filter(fn: (r) => (r["_measurement"] == "cpu"))
              |> keys()
              |> keep(columns: ["_value"])
              |> distinct()
  |> filter(fn: (r) => r._value =~ /(?i:e)/)
  |> filter(fn: (r) => r._value != "_measurement")
              |> filter(fn: (r) => r._value != "_time" and r._value != "_start" and r._value !=  "_stop" and r._value != "_value")
              |> sort()
              |> limit(n: 200)'''
    assert csv_text(flux(client, keys)) == values_csv("_field", "region")
    values = f'''from(bucket: "{telegraf[0]}")
              |> range({window})
              |> filter(fn: (r) => (r["_measurement"] == "cpu"))
              |> keep(columns: ["host"])
              |> group()
              |> distinct(column: "host")
              |> limit(n: 200)
              |> sort()'''
    assert csv_text(flux(client, values)) == values_csv("B", "a")


def test_ui_query_builder_aggregate_and_functions_without_window(client, telegraf, now_s):
    # src/timeMachine/utils/queryBuilder.ts + constants/queryBuilder.ts: `v` is the extern option the UI
    # sends (timeRangeStart/Stop, windowPeriod), each selected function its own yield
    start, stop = now_s - 2 * HOUR, now_s
    option = f"option v = {{timeRangeStart: {start // S}, timeRangeStop: {stop // S}, windowPeriod: 2h}}\n"
    head = f'''from(bucket: "{telegraf[0]}")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r["_measurement"] == "cpu")
  |> filter(fn: (r) => r["_field"] == "usage")
  |> filter(fn: (r) => r["host"] == "a")'''
    mean = (
        head
        + '\n  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)\n  |> yield(name: "mean")'
    )
    skew = head + '\n  |> skew()\n  |> yield(name: "skew")'
    derivative = (
        head + '\n  |> derivative(unit: 1s, nonNegative: true)\n  |> yield(name: "nonnegative derivative")'
    )
    text = csv_text(flux(client, option + "\n\n".join([mean, skew, derivative])))
    blocks = text.split("\r\n\r\n")
    assert blocks[0].splitlines()[0] == (
        "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string,string"
    )
    assert blocks[0].splitlines()[4].split(",")[6:] == ["4", "usage", "cpu", "a", "eu"]
    assert blocks[1].splitlines()[:2] == [
        "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,string,string,string,string,double",
        "#group,false,false,true,true,true,true,true,true,false",
    ]
    assert blocks[1].splitlines()[4].split(",")[-1] == "1.0182337649086284"
    assert [row.split(",")[6] for row in blocks[2].splitlines()[4:]] == ["0.1", "0.1", "0.7"]


# -- v1.databases ---------------------------------------------------------------------------------------


def test_v1_databases_lists_virtual_and_explicit_mappings(client, onboarding, telegraf):
    name, bucket_id = telegraf
    org_id = onboarding["org"]["id"]
    q = f'import "influxdata/influxdb/v1"\nv1.databases() |> filter(fn: (r) => r.bucketId == "{bucket_id}")'
    header = lines(
        "#datatype,string,long,string,string,string,long,boolean,string",
        "#group,false,false,true,false,false,false,false,false",
        "#default,_result,,,,,,,",
        ",result,table,organizationID,databaseName,retentionPolicy,retentionPeriod,default,bucketId",
    )
    # a bucket without a mapping has its virtual one: its name as the database, `autogen` its default
    assert csv_text(flux(client, q)) == header + lines(
        f",,0,{org_id},{name},autogen,7200000000000,true,{bucket_id}", ""
    )
    made = client.http.post(
        "/api/v2/dbrps",
        headers={"Content-Type": "application/json"},
        body=json.dumps(
            {
                "orgID": org_id,
                "bucketID": bucket_id,
                "database": "builders",
                "retention_policy": "two_hours",
                "default": True,
            }
        ),
    )
    assert made.status_code == 201, made.body
    try:
        assert csv_text(flux(client, q)) == header + lines(
            f",,0,{org_id},builders,two_hours,7200000000000,true,{bucket_id}", ""
        )
    finally:
        client.http.delete(f"/api/v2/dbrps/{made.json_body['id']}?orgID={org_id}")


def test_v1_databases_of_another_organization_is_refused(client):
    response = flux(client, 'import "influxdata/influxdb/v1"\nv1.databases(org: "elsewhere")')
    assert response.status_code == 400
    assert "buckets cannot list from a separate organization" in response.json_body["message"]


def test_v1_databases_without_any_mapping_is_not_found(client):
    org = client.http.post(
        "/api/v2/orgs",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"name": f"no-buckets-{time.time_ns()}"}),
    )
    assert org.status_code == 201, org.body
    try:
        response = client.http.post(
            f"/api/v2/query?orgID={org.json_body['id']}",
            headers={"Content-Type": "application/vnd.flux"},
            body='import "influxdata/influxdb/v1"\nv1.databases()',
        )
        assert response.status_code == 404, response.body
        assert response.json_body == {"code": "not found", "message": "no 1.x databases found"}
    finally:
        client.http.delete(f"/api/v2/orgs/{org.json_body['id']}")
