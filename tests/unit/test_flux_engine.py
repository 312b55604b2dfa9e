"""The Flux evaluator and its functions against an in-memory source, checked against hand-computed
tables (as CSV text without annotations, which shows columns, order and values exactly)."""

# ruff: noqa: E501 -- Flux queries read best on one line
from __future__ import annotations

import pytest

from chalicelib.flux import ast
from chalicelib.flux.csv import Dialect, encode
from chalicelib.flux.engine import execute
from chalicelib.flux.source import Context
from chalicelib.flux.stdlib.universe import window_aggregates, windows
from chalicelib.flux.tables import Table
from chalicelib.flux.values import Duration
from chalicelib.kit.errors import TicklessError
from tests.unit.test_flux_source import MemorySource

S = 1_000_000_000
POINTS = [
    ("cpu", {"host": "a"}, {"usage": 1.0, "n": 3}, 10 * S),
    ("cpu", {"host": "a"}, {"usage": 2.5, "n": 5}, 20 * S),
    ("cpu", {"host": "a"}, {"usage": 0.5, "n": 4}, 30 * S),
    ("cpu", {"host": "b"}, {"usage": 43.0}, 15 * S),
    ("mem", {"host": "a", "region": "eu"}, {"free": 7}, 15 * S),
]
START = "1970-01-01T00:00:00Z"
STOP = "1970-01-01T00:01:00Z"
CPU_A = (
    f'from(bucket: "first") |> range(start: {START}, stop: {STOP})'
    ' |> filter(fn: (r) => r._measurement == "cpu" and r.host == "a" and r._field == "usage")'
)


@pytest.fixture
def source():
    return MemorySource(POINTS)


def run(source, query: str, annotations=(), now=60 * S, **kw) -> str:
    results = execute(query, Context(source, source, now), **kw)
    return "".join(encode(results, Dialect(annotations=list(annotations))))


def rows(*lines: str) -> str:
    return "".join(line + "\r\n" for line in lines) + "\r\n"


T0, T1 = "1970-01-01T00:00:00Z", "1970-01-01T00:01:00Z"


def t(seconds: int) -> str:
    return f"1970-01-01T00:00:{seconds:02d}Z" if seconds < 60 else "1970-01-01T00:01:00Z"


# -- reads and pushdown ------------------------------------------------------------------------------


def test_storage_tables_one_per_series_and_field(source):
    out = run(source, f'from(bucket: "first") |> range(start: {START}, stop: {STOP})', ["group"])
    assert out == rows(
        "#group,false,false,true,true,false,false,true,true,true",
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host",
        f",_result,0,{T0},{T1},{t(10)},3,n,cpu,a",
        f",_result,0,{T0},{T1},{t(20)},5,n,cpu,a",
        f",_result,0,{T0},{T1},{t(30)},4,n,cpu,a",
        "",
        "#group,false,false,true,true,false,false,true,true,true",
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host",
        f",_result,1,{T0},{T1},{t(10)},1,usage,cpu,a",
        f",_result,1,{T0},{T1},{t(20)},2.5,usage,cpu,a",
        f",_result,1,{T0},{T1},{t(30)},0.5,usage,cpu,a",
        f",_result,2,{T0},{T1},{t(15)},43,usage,cpu,b",
        "",
        "#group,false,false,true,true,false,false,true,true,true,true",
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host,region",
        f",_result,3,{T0},{T1},{t(15)},7,free,mem,a,eu",
    )


def test_range_and_filter_are_pushed_into_the_scan(source):
    run(source, CPU_A)
    assert source.scans == [("cpu", 0, 60 * S - 1, ["cpu,host=a"], ["usage"])]


def test_filter_on_values_is_applied_to_rows(source):
    out = run(source, CPU_A.replace('r._field == "usage"', 'r._field == "usage" and r._value > 0.9'))
    assert out == rows(
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host",
        f",_result,0,{T0},{T1},{t(10)},1,usage,cpu,a",
        f",_result,0,{T0},{T1},{t(20)},2.5,usage,cpu,a",
    )
    assert source.scans[0][3:] == (["cpu,host=a"], ["usage"])


def test_regex_and_or_predicates_select_series(source):
    q = (
        f'from(bucket: "first") |> range(start: {START}, stop: {STOP})'
        ' |> filter(fn: (r) => r.host =~ /^b$/ or r._measurement == "mem")'
    )
    out = run(source, q)
    assert ",usage,cpu,b" in out and ",free,mem,a,eu" in out and ",cpu,a" not in out
    assert [s[0] for s in source.scans] == ["cpu", "mem"]


def test_relative_range_uses_now_and_stop_is_exclusive(source):
    out = run(
        source,
        'from(bucket: "first") |> range(start: -50s, stop: -30s) |> filter(fn: (r) => r._field == "n")',
    )
    assert out == rows(
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host",
        f",_result,0,{t(10)},{t(30)},{t(10)},3,n,cpu,a",
        f",_result,0,{t(10)},{t(30)},{t(20)},5,n,cpu,a",
    )


def test_option_now_and_request_now(source):
    q = 'option now = () => 1970-01-01T00:00:25Z\nfrom(bucket: "first") |> range(start: -15s) |> filter(fn: (r) => r._field == "n")'
    out = run(source, q)
    assert out.count("\r\n,_result,") == 2 and f",{t(10)},{t(25)},{t(20)},5," in out


def test_unbounded_read_is_an_error(source):
    with pytest.raises(TicklessError, match="cannot submit unbounded read"):
        run(source, 'from(bucket: "first")')


def test_unknown_bucket(source):
    with pytest.raises(TicklessError, match='could not find bucket "nope"'):
        run(source, 'from(bucket: "nope") |> range(start: 0)')


# -- aggregates, selectors, windows ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "value"),
    [
        ("mean()", "1.3333333333333333"),
        ("sum()", "4"),
        ("count()", "3"),
        ("median()", "1"),
        ("spread()", "2"),
        ("stddev()", "1.0408329997330663"),
        ("quantile(q: 0.75)", "1.75"),
    ],
)
def test_aggregates(source, call, value):
    assert run(source, CPU_A + " |> " + call) == rows(
        ",result,table,_start,_stop,_field,_measurement,host,_value",
        f",_result,0,{T0},{T1},usage,cpu,a,{value}",
    )


@pytest.mark.parametrize(
    ("call", "time", "value"),
    [("first()", 10, "1"), ("last()", 30, "0.5"), ("min()", 30, "0.5"), ("max()", 20, "2.5")],
)
def test_selectors_keep_the_row(source, call, time, value):
    assert run(source, CPU_A + " |> " + call) == rows(
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host",
        f",_result,0,{T0},{T1},{t(time)},{value},usage,cpu,a",
    )


def test_aggregate_window_mean_with_empty_windows(source):
    assert run(source, CPU_A + " |> aggregateWindow(every: 20s, fn: mean)", ["datatype", "group"]) == rows(
        "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string",
        "#group,false,false,true,true,false,false,true,true,true",
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host",
        f",_result,0,{T0},{T1},{t(20)},1,usage,cpu,a",
        f",_result,0,{T0},{T1},{t(40)},1.5,usage,cpu,a",
        f",_result,0,{T0},{T1},{t(60)},,usage,cpu,a",
    )


def test_aggregate_window_count_sum_without_empty(source):
    out = run(source, CPU_A + " |> aggregateWindow(every: 20s, fn: count)")
    assert [line.split(",")[5:7] for line in out.splitlines()[1:4]] == [
        [t(20), "1"],
        [t(40), "2"],
        [t(60), "0"],
    ]
    out = run(source, CPU_A + " |> aggregateWindow(every: 20s, fn: sum, createEmpty: false)")
    assert [line.split(",")[5:7] for line in out.splitlines()[1:3]] == [[t(20), "1"], [t(40), "3"]]


def test_aggregate_window_with_custom_function_and_offset(source):
    q = (
        CPU_A
        + " |> aggregateWindow(every: 20s, offset: 5s, fn: (column, tables=<-) => tables |> max(column: column))"
    )
    out = run(source, q)
    # windows [0,5) [5,25) [25,45) [45,60): the times are the window stops
    assert [line.split(",")[5:7] for line in out.splitlines()[1:] if line] == [
        [t(5), ""],
        [t(25), "2.5"],
        [t(45), "0.5"],
        [t(60), ""],
    ]


def test_window_then_aggregate(source):
    out = run(source, CPU_A + " |> window(every: 15s) |> count()")
    assert out == rows(
        ",result,table,_start,_stop,_field,_measurement,host,_value",
        f",_result,0,{T0},{t(15)},usage,cpu,a,1",
        f",_result,1,{t(15)},{t(30)},usage,cpu,a,1",
        f",_result,2,{t(30)},{t(45)},usage,cpu,a,1",
    )


def test_group_and_aggregate_across_series(source):
    q = (
        f'from(bucket: "first") |> range(start: {START}, stop: {STOP})'
        ' |> filter(fn: (r) => r._field == "usage") |> group(columns: ["_field"]) |> sum()'
    )
    assert run(source, q, ["group"]) == rows(
        "#group,false,false,true,false", ",result,table,_field,_value", ",_result,0,usage,47"
    )


def test_group_by_tag_orders_tables_by_key(source):
    q = (
        f'from(bucket: "first") |> range(start: {START}, stop: {STOP})'
        ' |> filter(fn: (r) => r._field == "usage") |> group(columns: ["host"]) |> count()'
        ' |> keep(columns: ["host", "_value"])'
    )
    assert run(source, q) == rows(",result,table,host,_value", ",_result,0,a,3", ",_result,1,b,1")


def test_group_merging_different_types_is_a_schema_collision(source):
    q = f'from(bucket: "first") |> range(start: {START}, stop: {STOP}) |> group(columns: ["host"])'
    with pytest.raises(TicklessError, match="schema collision"):
        run(source, q)


def test_distinct_unique_top_bottom(source):
    base = f'from(bucket: "first") |> range(start: {START}, stop: {STOP}) |> filter(fn: (r) => r._field == "usage") |> group()'
    assert run(source, base + ' |> distinct(column: "host")') == rows(
        ",result,table,_value", ",_result,0,a", ",_result,0,b"
    )
    out = run(source, base + ' |> top(n: 2) |> keep(columns: ["_value"])')
    assert out == rows(",result,table,_value", ",_result,0,43", ",_result,0,2.5")
    out = run(source, base + ' |> bottom(n: 1) |> keep(columns: ["_value"])')
    assert out == rows(",result,table,_value", ",_result,0,0.5")


# -- shaping -----------------------------------------------------------------------------------------


def test_keep_drop_rename_duplicate_set(source):
    out = run(
        source,
        CPU_A
        + ' |> keep(columns: ["_time", "_value", "host"]) |> rename(columns: {_value: "v"})'
        + ' |> duplicate(column: "v", as: "w") |> set(key: "k", value: "x") |> drop(fn: (column) => column == "w")'
        + " |> limit(n: 1)",
        ["group"],
    )
    assert out == rows(
        "#group,false,false,false,false,true,false",
        ",result,table,_time,v,host,k",
        f",_result,0,{t(10)},1,a,x",
    )


def test_pivot_fields_into_columns(source):
    q = (
        f'from(bucket: "first") |> range(start: {START}, stop: {STOP}) |> filter(fn: (r) => r.host == "a" and r._measurement == "cpu")'
        ' |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'
    )
    assert run(source, q, ["datatype"]) == rows(
        "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,string,string,long,double",
        ",result,table,_start,_stop,_time,_measurement,host,n,usage",
        f",_result,0,{T0},{T1},{t(10)},cpu,a,3,1",
        f",_result,0,{T0},{T1},{t(20)},cpu,a,5,2.5",
        f",_result,0,{T0},{T1},{t(30)},cpu,a,4,0.5",
    )


def test_sort_limit_tail(source):
    assert ",2.5," in run(source, CPU_A + ' |> sort(columns: ["_value"], desc: true) |> limit(n: 1)')
    assert run(source, CPU_A + ' |> sort() |> tail(n: 1, offset: 1) |> keep(columns: ["_value"])') == rows(
        ",result,table,_value", ",_result,0,1"
    )


def test_map_arithmetic_conditionals_and_strings(source):
    q = (
        'import "strings"\n'
        + CPU_A
        + ' |> map(fn: (r) => ({_time: r._time, pct: r._value * 100.0, level: if r._value > 1.0 then "high" else "low",'
        + ' who: strings.toUpper(v: r.host) + "-${r._field}"}))'
    )
    assert run(source, q, ["datatype"]) == rows(
        "#datatype,string,long,dateTime:RFC3339,double,string,string",
        ",result,table,_time,pct,level,who",
        f",_result,0,{t(10)},100,low,A-usage",
        f",_result,0,{t(20)},250,high,A-usage",
        f",_result,0,{t(30)},50,low,A-usage",
    )


def test_map_with_keeps_columns_and_key(source):
    out = run(source, CPU_A + " |> map(fn: (r) => ({r with _value: r._value * 2.0})) |> first()", ["group"])
    assert out == rows(
        "#group,false,false,true,true,false,false,true,true,true",
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host",
        f",_result,0,{T0},{T1},{t(10)},2,usage,cpu,a",
    )


def test_derivative_difference_cumulative_sum_elapsed(source):
    def values(call: str) -> list[str]:
        out = run(source, CPU_A + " |> " + call + ' |> keep(columns: ["_time", "_value", "elapsed"])')
        return [line.split(",", 3)[3] for line in out.splitlines()[1:] if line]

    assert values("derivative(unit: 10s)") == [f"{t(20)},1.5", f"{t(30)},-2"]
    assert values("derivative(unit: 10s, nonNegative: true)") == [f"{t(20)},1.5", f"{t(30)},"]
    assert values("difference()") == [f"{t(20)},1.5", f"{t(30)},-2"]
    assert values("cumulativeSum()") == [f"{t(10)},1", f"{t(20)},3.5", f"{t(30)},4"]
    assert values("elapsed()") == [f"{t(20)},2.5,10", f"{t(30)},0.5,10"]


def test_fill_and_time_shift(source):
    out = run(
        source,
        CPU_A
        + ' |> aggregateWindow(every: 20s, fn: mean) |> fill(usePrevious: true) |> keep(columns: ["_value"])',
    )
    assert out == rows(",result,table,_value", ",_result,0,1", ",_result,0,1.5", ",_result,0,1.5")
    out = run(
        source,
        CPU_A + ' |> aggregateWindow(every: 20s, fn: mean) |> fill(value: 0.0) |> keep(columns: ["_value"])',
    )
    assert out.endswith(",_result,0,0\r\n\r\n")
    out = run(source, CPU_A + " |> timeShift(duration: 1m) |> first()")
    assert ",1970-01-01T00:01:00Z,1970-01-01T00:02:00Z,1970-01-01T00:01:10Z,1," in out


def test_conversions(source):
    out = run(source, CPU_A + ' |> toInt() |> keep(columns: ["_value"])', ["datatype"])
    assert out == rows(
        "#datatype,string,long,long", ",result,table,_value", ",_result,0,1", ",_result,0,2", ",_result,0,0"
    )
    out = run(source, CPU_A + ' |> toString() |> first() |> keep(columns: ["_value"])', ["datatype"])
    assert out == rows("#datatype,string,long,string", ",result,table,_value", ",_result,0,1")
    q = 'import "array"\narray.from(rows: [{a: int(v: "7"), b: float(v: 2), c: string(v: 1.5), d: bool(v: "true"), e: uint(v: 3)}])'
    assert run(source, q, ["datatype"]) == rows(
        "#datatype,string,long,long,double,string,boolean,unsignedLong",
        ",result,table,a,b,c,d,e",
        ",_result,0,7,2,1.5,true,3",
    )


@pytest.mark.parametrize(
    ("fn", "values"),
    [
        ("mean", ["4", "1"]),
        ("first", ["3", "1"]),
        ("last", ["5", "1"]),
        ("max", ["5", "1"]),
        ("count", ["2", "1"]),
    ],
)
def test_aggregate_window_over_rows_out_of_time_order(source, fn, values):
    q = (
        'import "array"\narray.from(rows: [{_time: 1970-01-01T00:00:30Z, _value: 1.0}, '
        "{_time: 1970-01-01T00:00:10Z, _value: 3.0}, {_time: 1970-01-01T00:00:15Z, _value: 5.0}]) "
        f"|> aggregateWindow(every: 20s, fn: {fn})"
    )
    out = run(source, q)
    assert [line.split(",")[-1] for line in out.splitlines()[1:] if line] == values
    # no range: windows cover the span of the times, the last one clipped after the newest
    assert [line.split(",")[3] for line in out.splitlines()[1:] if line] == [
        t(20),
        t(30)[:-1] + ".000000001Z",
    ]


def test_built_in_window_aggregates_skip_null_values_and_rows_without_time():
    table = Table(
        [("_time", "time"), ("_value", "float")],
        [[30 * S, 10 * S, None, 12 * S, 15 * S], [1.0, 3.0, 9.0, None, 5.0]],
    )
    assert windows.time_order(table, "_time") == ([1, 3, 4, 0], [10 * S, 12 * S, 15 * S, 30 * S])
    every = Duration(0, 20 * S)
    got = {
        fn: window_aggregates._fast_window(
            table, (0, 40 * S), fn, "_value", "_stop", "_time", True, every, every, Duration()
        )
        for fn in ("mean", "first", "last", "count", "min")
    }
    assert got["mean"].col("_time") == [20 * S, 40 * S]
    assert {fn: t.col("_value") for fn, t in got.items()} == {
        "mean": [4.0, 1.0],
        "first": [3.0, 1.0],
        "last": [5.0, 1.0],
        "count": [2, 1],
        "min": [3.0, 1.0],
    }


def test_window_keeps_rows_out_of_time_order_in_time_order(source):
    q = (
        'import "array"\narray.from(rows: [{_time: 1970-01-01T00:00:30Z, _value: 1}, '
        "{_time: 1970-01-01T00:00:15Z, _value: 5}, {_time: 1970-01-01T00:00:10Z, _value: 3}]) "
        '|> window(every: 20s) |> keep(columns: ["_time", "_value"])'
    )
    # keep() leaves both windows with an empty group key: as Flux's schema mutations, one table
    assert run(source, q) == rows(
        ",result,table,_time,_value",
        f",_result,0,{t(10)},3",
        f",_result,0,{t(15)},5",
        f",_result,0,{t(30)},1",
    )


# -- results, variables, options, params -------------------------------------------------------------


def test_several_yields(source):
    q = f'data = {CPU_A}\ndata |> first() |> yield(name: "first")\ndata |> last() |> yield(name: "last")'
    out = run(source, q, ["default"])
    assert out.startswith("#default,first,") and "#default,last," in out
    assert out.count("\r\n\r\n") == 2


def test_duplicate_implicit_results_are_an_error(source):
    with pytest.raises(TicklessError, match="duplicate yield"):
        run(source, f"{CPU_A}\n{CPU_A}")


def test_params_and_extern_options(source):
    q = "from(bucket: params.b) |> range(start: params.start) |> filter(fn: (r) => r._field == field) |> count()"
    extern = ast.from_json(
        {
            "type": "File",
            "body": [
                {
                    "type": "OptionStatement",
                    "assignment": {
                        "type": "VariableAssignment",
                        "id": {"type": "Identifier", "name": "field"},
                        "init": {"type": "StringLiteral", "value": "n"},
                    },
                }
            ],
        }
    )
    out = run(source, q, params={"b": "first", "start": "1970-01-01T00:00:00Z"}, extern=extern)
    assert out.splitlines()[1].split(",")[-1] == "3"


def test_functions_blocks_and_closures(source):
    q = (
        "scale = (x, by=2) => x * by\n"
        "top1 = (tables=<-) => {\n  s = tables |> sort(desc: true)\n  return s |> limit(n: 1)\n}\n"
        'import "array"\n'
    )
    q = (
        'import "array"\n'
        + q.replace('import "array"\n', "")
        + "array.from(rows: [{v: scale(x: 3)}, {v: scale(x: 1, by: 10)}]) |> top1(tables: array.from(rows: [{_value: 1}, {_value: 5}]))"
    )
    assert run(source, q) == rows(",result,table,_value", ",_result,0,5")


def test_buckets_and_schema_functions(source):
    out = run(source, "buckets()", ["datatype"])
    assert out == rows(
        "#datatype,string,long,string,string,string,string,long",
        ",result,table,name,id,organizationID,retentionPolicy,retentionPeriod",
        ",_result,0,first,0000000000000b01,00000000000000a1,,0",
    )
    schema = 'import "influxdata/influxdb/schema"\n'
    values = lambda q: [line.split(",")[3] for line in run(source, schema + q).splitlines()[1:] if line]  # noqa: E731
    assert values('schema.measurements(bucket: "first", start: 0)') == ["cpu", "mem"]
    assert values('schema.tagValues(bucket: "first", tag: "host", start: 0)') == ["a", "b"]
    assert values('schema.fieldKeys(bucket: "first", start: 0)') == ["free", "n", "usage"]
    assert values(
        'schema.measurementTagValues(bucket: "first", measurement: "mem", tag: "region", start: 0)'
    ) == ["eu"]
    assert values('schema.tagKeys(bucket: "first", start: 0)') == [
        "_start", "_stop", "_field", "_measurement", "host", "region",
    ]  # fmt: skip
    assert values('schema.measurementFieldKeys(bucket: "first", measurement: "cpu", start: 0)') == [
        "n",
        "usage",
    ]
    v1 = 'import "influxdata/influxdb/v1"\n'
    assert [
        line.split(",")[3]
        for line in run(source, v1 + 'v1.measurements(bucket: "first", start: 0)').splitlines()[1:]
        if line
    ] == ["cpu", "mem"]
    # answered from the series index, which is not bounded by time: a range without points still lists
    # the series present in the bucket; a predicate on values reads the points, so it is exact
    empty_range = "start: 2000-01-01T00:00:00Z, stop: 2000-01-02T00:00:00Z"
    assert values(f'schema.measurements(bucket: "first", {empty_range})') == ["cpu", "mem"]
    assert (
        values(
            f'schema.tagValues(bucket: "first", tag: "host", {empty_range}, predicate: (r) => r._value > 0)'
        )
        == []
    )
    assert values(
        'schema.tagValues(bucket: "first", tag: "host", start: 0, predicate: (r) => r._value > 40)'
    ) == ["b"]


def test_to_writes_line_protocol(source):
    run(source, CPU_A + ' |> first() |> to(bucket: "first")')
    assert source.written == [("first", "cpu,host=a usage=1.0 10000000000\n")]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("holtWinters(n: 1)", "function holtWinters is not supported"),
        ("nope(x: 1)", "undefined identifier nope"),
        ('import "foo/bar"', 'unknown import path: "foo/bar"'),
        (CPU_A + " |> limit()", "missing required argument n"),
        (CPU_A + " |> limit(n: 1, bogus: 2)", "does not take argument 'bogus'"),
        ('"a" + 1', "operator \\+ is not defined"),
    ],
)
def test_errors_are_invalid_not_internal(source, query, message):
    with pytest.raises(TicklessError, match=message) as info:
        run(source, query)
    assert info.value.code == "invalid"


def test_values_and_operators(source):
    q = (
        'import "array"\nimport "strings"\nimport "regexp"\n'
        "array.from(rows: [{a: 7 / 2, b: -7 % 3, c: 2.0 ^ 3.0, d: 1h + 30m == 90m, e: exists r.x, "
        'f: "x" =~ /X/ or regexp.matchRegexpString(r: /^a/, v: "abc"), g: strings.replaceAll(v: "a.b", t: ".", u: "_"), '
        "h: length(arr: [1, 2, 3]), i: 2020-01-01T00:00:00Z + 1mo}])"
    ).replace("exists r.x", "exists {x: 1}.x")
    assert run(source, q) == rows(
        ",result,table,a,b,c,d,e,f,g,h,i", ",_result,0,3,-1,8,true,true,true,a_b,3,2020-02-01T00:00:00Z"
    )


def test_ui_extern_v_record_and_contains(source):
    # the InfluxDB UI and Grafana pass dashboard variables as `option v = {...}` in extern
    extern = ast.from_json(
        {
            "type": "File",
            "package": None,
            "imports": None,
            "body": [
                {
                    "type": "OptionStatement",
                    "assignment": {
                        "type": "VariableAssignment",
                        "id": {"type": "Identifier", "name": "v"},
                        "init": {
                            "type": "ObjectExpression",
                            "properties": [
                                {
                                    "type": "Property",
                                    "key": {"type": "Identifier", "name": "timeRangeStart"},
                                    "value": {
                                        "type": "UnaryExpression",
                                        "operator": "-",
                                        "argument": {
                                            "type": "DurationLiteral",
                                            "values": [{"magnitude": 1, "unit": "m"}],
                                        },
                                    },
                                },
                                {
                                    "type": "Property",
                                    "key": {"type": "Identifier", "name": "timeRangeStop"},
                                    "value": {
                                        "type": "CallExpression",
                                        "callee": {"type": "Identifier", "name": "now"},
                                    },
                                },
                                {
                                    "type": "Property",
                                    "key": {"type": "Identifier", "name": "windowPeriod"},
                                    "value": {
                                        "type": "DurationLiteral",
                                        "values": [{"magnitude": 30000, "unit": "ms"}],
                                    },
                                },
                            ],
                        },
                    },
                },
            ],
        }
    )
    q = (
        'from(bucket: "first") |> range(start: v.timeRangeStart, stop: v.timeRangeStop)'
        ' |> filter(fn: (r) => r._measurement == "cpu" and contains(value: r.host, set: ["a", "c"]) and r._field == "usage")'
        ' |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false) |> yield(name: "mean")'
    )
    assert run(source, q, extern=extern) == rows(
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host",
        f",mean,0,{T0},{T1},{t(30)},1.75,usage,cpu,a",
        f",mean,0,{T0},{T1},{t(60)},0.5,usage,cpu,a",
    )
    assert source.scans == [("cpu", 0, 60 * S - 1, ["cpu,host=a"], ["usage"])]


def test_increase_and_moving_average(source):
    def values(call: str) -> list[str]:
        out = run(source, CPU_A + " |> " + call + ' |> keep(columns: ["_value"])')
        return [line.split(",")[3] for line in out.splitlines()[1:] if line]

    assert values("increase()") == ["1.5", "2"]
    assert values("movingAverage(n: 2)") == ["1.75", "1.5"]


def test_reduce_columns_keys(source):
    q = (
        CPU_A
        + " |> reduce(fn: (r, accumulator) => ({sum: r._value + accumulator.sum, n: accumulator.n + 1}), identity: {sum: 0.0, n: 0})"
    )
    assert run(source, q) == rows(
        ",result,table,_start,_stop,_field,_measurement,host,sum,n",
        f",_result,0,{T0},{T1},usage,cpu,a,4,3",
    )
    assert run(source, CPU_A + ' |> keys() |> keep(columns: ["_value"])') == rows(
        ",result,table,_value",
        ",_result,0,_start",
        ",_result,0,_stop",
        ",_result,0,_field",
        ",_result,0,_measurement",
        ",_result,0,host",
    )
    out = run(source, CPU_A + ' |> columns() |> keep(columns: ["_value"])')
    assert [line.split(",")[3] for line in out.splitlines()[1:] if line] == [
        "_start", "_stop", "_time", "_value", "_field", "_measurement", "host",
    ]  # fmt: skip


def test_join_inner_on_time(source):
    q = (
        f'base = from(bucket: "first") |> range(start: {START}, stop: {STOP}) |> filter(fn: (r) => r.host == "a" and r._measurement == "cpu")\n'
        'n = base |> filter(fn: (r) => r._field == "n")\n'
        'u = base |> filter(fn: (r) => r._field == "usage")\n'
        'join(tables: {n: n, u: u}, on: ["_time", "host"]) |> map(fn: (r) => ({_time: r._time, ratio: float(v: r._value_n) / r._value_u}))'
    )
    assert run(source, q) == rows(
        ",result,table,_time,ratio",
        f",_result,0,{t(10)},3",
        f",_result,0,{t(20)},2",
        f",_result,0,{t(30)},8",
    )


def test_table_find_get_column_get_record(source):
    q = (
        CPU_A.replace('and r._field == "usage"', "")
        + ' |> tableFind(fn: (key) => key._field == "n") |> getColumn(column: "_value")'
    )
    q = f'values = {q}\nimport "array"\n'.replace('import "array"\n', "")
    q = 'import "array"\n' + q + "array.from(rows: [{total: values[0] + values[1] + values[2]}])"
    assert run(source, q) == rows(",result,table,total", ",_result,0,12")
    q = (
        'import "array"\nr = '
        + CPU_A
        + " |> tableFind(fn: (key) => true) |> getRecord(idx: 1)\narray.from(rows: [{v: r._value, h: r.host}])"
    )
    assert run(source, q) == rows(",result,table,v,h", ",_result,0,2.5,a")
