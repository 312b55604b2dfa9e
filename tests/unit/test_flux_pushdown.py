"""What the Flux engine pushes into the store beyond from/range/filter: `first()`/`last()` read blocks
oldest/newest first and stop per series, and the schema functions answer from the series index. Each is
checked against the same query forced through the general path (a filter that reads `_value` or is
always true cannot be pushed down)."""

# ruff: noqa: E501 -- Flux queries read best on one line
from __future__ import annotations

import pytest

from chalicelib.flux.csv import Dialect, encode
from chalicelib.flux.interpreter import Context, execute
from tests.unit.test_flux_source import MemorySource

S = 1_000_000_000
# blocks of 10 s: cpu,host=a has `usage` in every block but `n` only in the oldest two, host=b one point
POINTS = [
    ("cpu", {"host": "a"}, {"usage": 1.0, "n": 3}, 10 * S),
    ("cpu", {"host": "a"}, {"usage": 2.5, "n": 5}, 12 * S),
    ("cpu", {"host": "a"}, {"usage": 0.5, "n": 4}, 21 * S),
    ("cpu", {"host": "a"}, {"usage": 9.0}, 22 * S),
    ("cpu", {"host": "a"}, {"usage": 7.0}, 31 * S),
    ("cpu", {"host": "b"}, {"usage": 43.0}, 15 * S),
    ("mem", {"host": "a", "region": "eu"}, {"free": 7}, 15 * S),
    ("mem", {"host": "c", "region": "us"}, {"free": 8}, 45 * S),
]
READ = 'from(bucket: "first") |> range(start: 0, stop: 60)'
GENERAL = "|> filter(fn: (r) => true)"  # not pushable: the selector then runs on whole tables


def values(out: str) -> list[str]:
    return [line.split(",")[-1] for line in out.splitlines() if line.startswith(",_result,")]


def run(source, query: str) -> str:
    results = execute(query, Context(source, 60 * S))
    return "".join(encode(results, Dialect(annotations=["datatype", "group"])))


@pytest.fixture
def source():
    return MemorySource(POINTS, block=10 * S)


@pytest.mark.parametrize("selector", ["first()", "last()", 'last(column: "_value")'])
@pytest.mark.parametrize(
    "read",
    [
        READ,
        READ + ' |> filter(fn: (r) => r._measurement == "cpu")',
        READ + ' |> filter(fn: (r) => r._field == "n")',
        READ + ' |> filter(fn: (r) => r.host == "a" or r.region == "us")',
        'from(bucket: "first") |> range(start: 12, stop: 31)',
        'from(bucket: "first") |> range(start: 40, stop: 41)',
    ],
)
def test_first_and_last_pushed_down_equal_the_general_path(source, read, selector):
    pushed = run(source, f"{read} |> {selector}")
    assert pushed == run(MemorySource(POINTS, block=10 * S), f"{read} {GENERAL} |> {selector}")
    assert all(len(scan) == 5 for scan in source.scans)  # the pushed read still went to the store


def test_last_reads_newest_blocks_first_and_stops_per_series(source):
    out = run(source, READ + ' |> filter(fn: (r) => r._measurement == "cpu") |> last()')
    assert ",1970-01-01T00:00:31Z,7,usage,cpu,a" in out.replace(
        "1970-01-01T00:00:00Z,1970-01-01T00:01:00Z", ""
    )
    assert ",1970-01-01T00:00:21Z,4,n,cpu,a" in out.replace("1970-01-01T00:00:00Z,1970-01-01T00:01:00Z", "")
    # block 30 answers `usage` of a; block 20 answers `n` of a; block 10 is read for b only
    assert source.blocks_read == [[["cpu,host=a"], ["cpu,host=a"], ["cpu,host=b"]]]


def test_first_reads_oldest_blocks_first_and_stops_when_every_series_is_answered(source):
    run(source, READ + ' |> filter(fn: (r) => r._measurement == "cpu" and r._field == "usage") |> first()')
    assert source.blocks_read == [[["cpu,host=a", "cpu,host=b"]]]
    # the index keeps fields per measurement: b, which has no `n`, is read to the end looking for one
    source.blocks_read.clear()
    run(source, READ + ' |> filter(fn: (r) => r._measurement == "cpu") |> first()')
    assert source.blocks_read == [[["cpu,host=a", "cpu,host=b"], [], []]]


def test_selector_on_a_stream_read_whole_already_takes_its_rows(source):
    q = (
        f'data = {READ} |> filter(fn: (r) => r._measurement == "mem")\n'
        'data |> yield(name: "all")\ndata |> first() |> yield(name: "first")\n'
        'data |> last() |> yield(name: "last")'
    )
    out = run(source, q)
    assert len(source.scans) == 1  # one whole read serves both selectors
    assert out.count(",first,") == 2 and out.count(",last,") == 2 and out.count(",all,") == 2


def test_other_selectors_and_columns_are_not_pushed_down(source):
    for selector in ("min()", "max()", 'last(column: "_time")'):
        source.blocks_read.clear()
        run(source, READ + f" |> {selector}")
        assert source.blocks_read[0] == [["cpu,host=a", "cpu,host=b"], ["cpu,host=a"], ["cpu,host=a"]]


# -- schema functions from the series index ------------------------------------------------------------

SCHEMA_CALLS = [
    ('schema.measurements(bucket: "first"{args})', None),
    ('schema.tagKeys(bucket: "first"{args})', "predicate"),
    ('schema.tagValues(bucket: "first", tag: "host"{args})', "predicate"),
    ('schema.tagValues(bucket: "first", tag: "region"{args})', "predicate"),
    ('schema.tagValues(bucket: "first", tag: "_measurement"{args})', "predicate"),
    ('schema.fieldKeys(bucket: "first"{args})', "predicate"),
    ('schema.measurementTagKeys(bucket: "first", measurement: "cpu"{args})', None),
    ('schema.measurementTagValues(bucket: "first", measurement: "mem", tag: "region"{args})', None),
    ('schema.measurementFieldKeys(bucket: "first", measurement: "cpu"{args})', None),
    ('v1.tagValues(bucket: "first", tag: "host"{args})', "predicate"),
    ('v1.measurementTagKeys(bucket: "first", measurement: "mem"{args})', None),
]
PREDICATES = [
    None,
    '(r) => r._measurement == "cpu"',
    '(r) => r.host == "a"',
    '(r) => r.region =~ /u/ or r.host == "b"',
    '(r) => r._field == "n"',
    '(r) => r._field != "n" and r._measurement == "cpu"',
    '(r) => r._field == "free" and r.host == "c"',
]


def schema_query(call: str, param: str | None, predicate: str | None, points: bool) -> str:
    args = ", start: 0, stop: 60"
    if param is not None:
        if predicate is None and points:
            predicate = "(r) => true"
        if predicate is not None:
            body = predicate.split("=> ", 1)[1]
            if points:
                body = f"({body}) and exists r._value"
            args += f", predicate: (r) => {body}"
    elif points:
        return ""  # no predicate parameter: compared through the `measurement` variants below
    imports = 'import "influxdata/influxdb/schema"\nimport "influxdata/influxdb/v1"\n'
    return imports + call.format(args=args)


@pytest.mark.parametrize(
    ("call", "param", "predicate"),
    [(c, p, pred) for c, p in SCHEMA_CALLS for pred in (PREDICATES if p else [None])],
)
def test_schema_from_the_index_equals_the_points_when_every_series_has_points_in_range(
    call, param, predicate
):
    index_source = MemorySource(POINTS, block=10 * S)
    got = run(index_source, schema_query(call, param, predicate, points=False))
    if param is not None:
        expected = run(MemorySource(POINTS), schema_query(call, param, predicate, points=True))
        assert got == expected
    else:
        # the measurement variants equal the general ones with a measurement predicate
        general = {
            "measurements": 'schema.tagValues(bucket: "first", tag: "_measurement", predicate: (r) => exists r._value{args})',
            "measurementTagKeys": 'schema.tagKeys(bucket: "first", predicate: (r) => r._measurement == "{m}" and exists r._value{args})',
            "measurementTagValues": 'schema.tagValues(bucket: "first", tag: "region", predicate: (r) => r._measurement == "{m}" and exists r._value{args})',
            "measurementFieldKeys": 'schema.fieldKeys(bucket: "first", predicate: (r) => r._measurement == "{m}" and exists r._value{args})',
        }
        name = call.split("(")[0].split(".")[1]
        m = "cpu" if '"cpu"' in call else "mem"
        q = 'import "influxdata/influxdb/schema"\n' + general[name].replace("{m}", m).format(
            args=", start: 0, stop: 60"
        )
        assert got == run(MemorySource(POINTS), q)
    if "FieldKeys" in call or "fieldKeys" in call:
        index_only = predicate is None or not any(tag in predicate for tag in ("host", "region"))
    else:
        index_only = predicate is None or "_field" not in predicate
    if index_only:
        assert index_source.scans == []  # answered from the index alone


def test_schema_reads_points_where_the_index_cannot_tell_which_series_carry_a_field():
    source = MemorySource(POINTS)
    q = 'import "influxdata/influxdb/schema"\nschema.tagValues(bucket: "first", tag: "host", start: 0, predicate: (r) => r._field == "n")'
    assert values(run(source, q)) == ["a"]  # b has no `n`
    assert [scan[0] for scan in source.scans] == ["cpu"]  # mem has one field: the index answers
    source.scans.clear()
    q = 'import "influxdata/influxdb/schema"\nschema.fieldKeys(bucket: "first", start: 0, predicate: (r) => r.host == "b")'
    assert values(run(source, q)) == ["usage"]
    assert [scan[0] for scan in source.scans] == ["cpu"]


def test_schema_index_answer_ignores_the_time_range():
    source = MemorySource(POINTS)
    q = 'import "influxdata/influxdb/schema"\nschema.tagValues(bucket: "first", tag: "host", start: 2000-01-01T00:00:00Z, stop: 2000-01-02T00:00:00Z)'
    assert values(run(source, q)) == ["a", "b", "c"]
    assert source.scans == []
    # an empty range (stop before start) still lists nothing
    q = 'import "influxdata/influxdb/schema"\nschema.measurements(bucket: "first", start: 50, stop: 10)'
    assert values(run(source, q)) == []
