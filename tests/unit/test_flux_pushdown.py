"""What the Flux engine pushes into the store beyond from/range/filter: `first()`/`last()` read blocks
oldest/newest first and stop per series, `count`/`sum`/`mean`/`min`/`max` (and `aggregateWindow` with
them) fold each table block by block, and the schema functions answer from the series index. Each is
checked against the same query forced through the general path (a filter that reads `_value` or is
always true cannot be pushed down)."""

# ruff: noqa: E501 -- Flux queries read best on one line
from __future__ import annotations

import tracemalloc

import pytest

from chalicelib.flux.csv import Dialect, encode
from chalicelib.flux.engine import execute
from chalicelib.flux.source import Context
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
    results = execute(query, Context(source, source, 60 * S))
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


def test_a_selector_on_another_column_is_not_pushed_down(source):
    run(source, READ + ' |> last(column: "_time")')
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


# -- aggregates folded block by block ------------------------------------------------------------------

# blocks of 10 s; floats whose sum rounds differently block by block than whole (fsum is exact), ints,
# nulls (`n` missing from some points), a string field, windows with no point, equal minima
AGG_POINTS = [
    ("cpu", {"host": "a"}, {"usage": 0.1, "n": 3, "s": "x"}, 1 * S),
    ("cpu", {"host": "a"}, {"usage": 1e16, "n": -5}, 4 * S),
    ("cpu", {"host": "a"}, {"usage": 0.1}, 9 * S),
    ("cpu", {"host": "a"}, {"usage": -1e16, "n": 7, "s": "y"}, 11 * S),
    ("cpu", {"host": "a"}, {"usage": 0.7, "n": -5}, 12 * S),
    ("cpu", {"host": "a"}, {"usage": 0.30000000000000004}, 19 * S),
    ("cpu", {"host": "a"}, {"usage": -0.0, "n": 2**62}, 33 * S),
    ("cpu", {"host": "a"}, {"usage": 0.1, "n": 2**62}, 38 * S),
    ("cpu", {"host": "b"}, {"usage": 2.5}, 15 * S),
    ("cpu", {"host": "b"}, {"usage": 2.5}, 25 * S),
    ("cpu", {"host": "b"}, {"usage": 1e-300}, 44 * S),
    ("mem", {"host": "a", "region": "eu"}, {"free": 7}, 5 * S),
    ("mem", {"host": "a", "region": "eu"}, {"free": 7}, 35 * S),
    ("mem", {"host": "c", "region": "us"}, {"free": -8}, 45 * S),
]
AGG_READS = [
    READ + ' |> filter(fn: (r) => r._field != "s")',
    READ + ' |> filter(fn: (r) => r._field == "n" or r._measurement == "mem")',
    'from(bucket: "first") |> range(start: 3, stop: 34) |> filter(fn: (r) => r._field != "s")',
    'from(bucket: "first") |> range(start: 50, stop: 59)',  # nothing in range
]
AGGREGATES = ["count()", "sum()", "mean()", "min()", "max()", 'sum(column: "_value")']
WINDOWED = [
    f"aggregateWindow(every: {every}, fn: {fn}{extra})"
    for fn in ("count", "sum", "mean", "min", "max")
    for every, extra in [
        ("5s", ""),
        ("7s", ", createEmpty: false"),
        ("1m", ""),
        ("3s", ', timeSrc: "_start", timeDst: "t"'),
        ("10s", ", offset: 2s, createEmpty: false"),
    ]
]


def general(query: str) -> str:
    """The query with a filter that is not pushable before its last call: the call runs on whole tables."""
    head, call = query.rsplit(" |> ", 1)
    return f"{head} {GENERAL} |> {call}"


@pytest.mark.parametrize("call", AGGREGATES + WINDOWED)
@pytest.mark.parametrize("read", AGG_READS)
def test_aggregates_folded_block_by_block_equal_the_general_path(read, call, monkeypatch):
    query = f"{read} |> {call}"
    expected = run(MemorySource(AGG_POINTS, block=10 * S), general(query))
    source = MemorySource(AGG_POINTS, block=10 * S)

    def whole(*args, **kwargs):
        raise AssertionError("the read was materialised")

    monkeypatch.setattr("chalicelib.flux.reads.FromStream._accumulate", whole)
    assert run(source, query) == expected
    assert all(len(scan) == 5 for scan in source.scans)


def test_folded_sum_is_fsum_of_the_whole_column_not_of_the_blocks():
    out = run(
        MemorySource(AGG_POINTS, block=10 * S),
        READ + ' |> filter(fn: (r) => r._field == "usage" and r.host == "a") |> sum()',
    )
    assert values(out) == ["1.3"]  # fsum of the 8 values; fsum of the blocks' fsums would be 0.1


def test_aggregates_of_a_string_field_raise_as_the_general_path_does():
    read = READ + ' |> filter(fn: (r) => r._field == "s")'
    assert values(run(MemorySource(AGG_POINTS, block=10 * S), read + " |> count()")) == ["2"]
    out = run(MemorySource(AGG_POINTS, block=10 * S), read + " |> max()")
    assert ",1970-01-01T00:00:11Z,y,s,cpu,a" in out  # selectors need no numbers
    for call in ("sum()", "mean()", "aggregateWindow(every: 10s, fn: mean)"):
        with pytest.raises(Exception) as pushed:
            run(MemorySource(AGG_POINTS, block=10 * S), f"{read} |> {call}")
        with pytest.raises(Exception) as whole:
            run(MemorySource(AGG_POINTS, block=10 * S), general(f"{read} |> {call}"))
        assert str(pushed.value) == str(whole.value) and "unsupported type string" in str(pushed.value)


def test_aggregates_not_right_after_the_read_are_not_folded(monkeypatch):
    folded = []
    monkeypatch.setattr("chalicelib.flux.reads.FromStream._fold", lambda *a: folded.append(a) or {})
    for call in (
        "group() |> count()",
        "aggregateWindow(every: 10s, period: 20s, fn: sum)",
        'count(column: "_field")',
        "aggregateWindow(every: 10s, fn: (tables=<-, column) => tables |> count())",
    ):
        out = run(
            MemorySource(AGG_POINTS, block=10 * S),
            f'{READ} |> filter(fn: (r) => r._field == "usage") |> {call}',
        )
        assert ",_result," in out
    assert folded == []


def test_aggregate_of_a_stream_read_whole_already_uses_its_tables():
    source = MemorySource(AGG_POINTS, block=10 * S)
    q = f'data = {READ} |> filter(fn: (r) => r._field == "free")\ndata |> yield(name: "all")\ndata |> sum() |> yield(name: "sum")'
    out = run(source, q)
    assert len(source.scans) == 1 and out.count(",sum,") == 2


class LazySource(MemorySource):
    """One float series of `blocks` blocks of `size` points each, each block made only when the scan
    reaches it; when tracemalloc is on, notes how much memory the Flux code holds as the last block
    is handed over (allocations made in chalicelib/flux, whatever other threads do meanwhile)."""

    def __init__(self, blocks: int, size: int) -> None:
        super().__init__([("big", {"host": "a"}, {"v": 0.5}, 0)])
        self.blocks, self.size = blocks, size
        self.held_by_flux = 0

    def scan(self, namespace, measurement, tmin, tmax, series_keys=None, fields=None, descending=False):
        from chalicelib.series.columns import Column, SeriesColumns

        self.scans.append((measurement, tmin, tmax, sorted(series_keys or []), sorted(fields or [])))
        for b in range(self.blocks):
            if b == self.blocks - 1 and tracemalloc.is_tracing():
                flux = tracemalloc.Filter(True, "*chalicelib/flux/*")
                snapshot = tracemalloc.take_snapshot().filter_traces([flux])
                self.held_by_flux = sum(stat.size for stat in snapshot.statistics("filename"))
            times = list(range(b * self.size * S, (b + 1) * self.size * S, S))
            yield {"big,host=a": SeriesColumns(times, {"v": Column("float", [t / S * 0.25 for t in times])})}


@pytest.mark.parametrize("call", ["count()", "mean()", "max()", "aggregateWindow(every: 1h, fn: sum)"])
def test_folded_aggregate_memory_does_not_grow_with_the_points_read(call):
    # What the Flux code holds, not tracemalloc's peak: other tests' threads (moto, the event pump)
    # allocate in this process too, and the peak counts every thread.
    read = 'from(bucket: "first") |> range(start: 0, stop: 100000)'
    sources = {"small": LazySource(4, 2000), "large": LazySource(40, 2000), "whole": LazySource(40, 2000)}
    run(LazySource(1, 10), f"{read} |> {call}")  # the first query of a process loads the stdlib
    tracemalloc.start()
    try:
        run(sources["small"], f"{read} |> {call}")
        run(sources["large"], f"{read} |> {call}")  # 80k points
        run(sources["whole"], general(f"{read} |> {call}"))
    finally:
        tracemalloc.stop()
    small, large, whole = (sources[k].held_by_flux for k in ("small", "large", "whole"))
    assert large < small + 100_000 < whole / 4
