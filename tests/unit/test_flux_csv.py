"""The annotated CSV writer, byte for byte: annotations in the order asked, CRLF, shortest floats, RFC 3339
times with nanoseconds, a new schema block after a blank line, empty tables, and the error table."""

from __future__ import annotations

import pytest

from chalicelib.flux.csv import Dialect, encode
from chalicelib.flux.tables import Stream, Table
from chalicelib.flux.values import FluxError, format_float, format_time
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.points import UInt

ALL = ["datatype", "group", "default"]


def crlf(*rows: str) -> str:
    return "".join(r + "\r\n" for r in rows)


def table(value_type: str, values: list, host: str = "a") -> Table:
    n = len(values)
    return Table(
        [("_time", "time"), ("_value", value_type), ("host", "string")],
        [[i * 1_000_000_000 for i in range(n)], values, [host] * n],
        ["host"],
        {"host": host},
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (43.0, "43"),
        (1.5, "1.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (-2.5, "-2.5"),
        (-0.0, "-0"),
        (1e15 + 0.5, "1000000000000000.5"),
        (1e16, "10000000000000000"),
        (123456.0, "123456"),
        (-1.25e-5, "-0.0000125"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (float("nan"), "NaN"),
    ],
)
def test_floats_in_shortest_form_without_exponent(value, text):
    assert format_float(value) == text


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1_500_000_000, "1970-01-01T00:00:01.5Z"),
        (1_577_836_800_000_000_001, "2020-01-01T00:00:00.000000001Z"),
        (-1_000_000_000, "1969-12-31T23:59:59Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        (-86_400_000_000_001, "1969-12-30T23:59:59.999999999Z"),
        (4_102_444_799_120_000_000, "2099-12-31T23:59:59.12Z"),
    ],
)
def test_times_in_rfc3339_nano(ns, text):
    assert format_time(ns) == text


def test_all_annotations_and_types():
    t = Table(
        [("b", "bool"), ("i", "int"), ("u", "uint"), ("f", "float"), ("s", "string"), ("t", "time")],
        [[True], [-3], [UInt(2**64 - 1)], [2.0], ["x"], [0]],
        ["s"],
        {"s": "x"},
    )
    out = "".join(encode([("_result", Stream(tables=[t]))], Dialect(annotations=ALL)))
    assert out == crlf(
        "#datatype,string,long,boolean,long,unsignedLong,double,string,dateTime:RFC3339",
        "#group,false,false,false,false,false,false,true,false",
        "#default,_result,,,,,,,",
        ",result,table,b,i,u,f,s,t",
        ",,0,true,-3,18446744073709551615,2,x,1970-01-01T00:00:00Z",
        "",
    )


def test_annotations_in_the_order_asked_and_result_name_without_default():
    out = "".join(encode([("mine", Stream(tables=[table("float", [1.0])]))], Dialect(annotations=["group"])))
    assert out == crlf(
        "#group,false,false,false,false,true",
        ",result,table,_time,_value,host",
        ",mine,0,1970-01-01T00:00:00Z,1,a",
        "",
    )
    out = "".join(
        encode([("r", Stream(tables=[table("float", [1.0])]))], Dialect(annotations=["default", "group"]))
    )
    assert out.splitlines()[:2] == ["#default,r,,,,", "#group,false,false,false,false,true"]


def test_same_schema_shares_a_block_and_a_new_schema_starts_after_a_blank_line():
    tables = [table("float", [1.0]), table("float", [2.0], "b"), table("int", [3], "c")]
    out = "".join(encode([("_result", Stream(tables=tables))], Dialect(annotations=["datatype"])))
    assert out == crlf(
        "#datatype,string,long,dateTime:RFC3339,double,string",
        ",result,table,_time,_value,host",
        ",_result,0,1970-01-01T00:00:00Z,1,a",
        ",_result,1,1970-01-01T00:00:00Z,2,b",
        "",
        "#datatype,string,long,dateTime:RFC3339,long,string",
        ",result,table,_time,_value,host",
        ",_result,2,1970-01-01T00:00:00Z,3,c",
        "",
    )


def test_no_header_other_delimiter_and_quoting():
    t = Table([("s", "string")], [["a,b", 'say "hi"', " lead", "plain"]], [], {})
    out = "".join(encode([("_result", Stream(tables=[t]))], Dialect(header=False)))
    assert out == crlf(
        ',_result,0,"a,b"', ',_result,0,"say ""hi"""', ',_result,0," lead"', ",_result,0,plain", ""
    )
    out = "".join(encode([("_result", Stream(tables=[t]))], Dialect(delimiter=";")))
    assert out.splitlines()[1] == ";_result;0;a,b"


def test_empty_table_writes_key_defaults():
    t = Table([("_value", "float"), ("host", "string")], [[], []], ["host"], {"host": "a"})
    out = "".join(encode([("_result", Stream(tables=[t]))], Dialect(annotations=ALL)))
    assert out == crlf(
        "#datatype,string,long,double,string",
        "#group,false,false,false,true",
        "#default,_result,0,,a",
        ",result,table,_value,host",
        "",
    )


def test_several_results_each_end_with_a_blank_line_and_tables_restart_at_zero():
    out = "".join(
        encode(
            [("a", Stream(tables=[table("float", [1.0])])), ("b", Stream(tables=[table("float", [2.0])]))],
            Dialect(annotations=["default"]),
        )
    )
    assert out == crlf(
        "#default,a,,,,",
        ",result,table,_time,_value,host",
        ",,0,1970-01-01T00:00:00Z,1,a",
        "",
        "#default,b,,,,",
        ",result,table,_time,_value,host",
        ",,0,1970-01-01T00:00:00Z,2,a",
        "",
    )


def test_empty_result_is_a_blank_line():
    assert "".join(encode([("_result", Stream(tables=[]))], Dialect(annotations=ALL))) == "\r\n"


def test_error_after_output_is_an_error_table():
    def fail():
        raise FluxError("boom")

    results = [("a", Stream(tables=[table("float", [1.0])])), ("b", Stream(fail))]
    out = "".join(encode(results, Dialect(annotations=ALL)))
    assert out.endswith(
        crlf(
            "",
            "",
            "#datatype,string,string",
            "#group,true,true",
            "#default,,",
            ",error,reference",
            ",boom,",
        )
    )


def test_error_before_output_propagates():
    def fail():
        raise FluxError("boom")

    with pytest.raises(TicklessError, match="boom"):
        "".join(encode([("a", Stream(fail))], Dialect()))
