"""Values out of tables: `tableFind()`, `getColumn()`, `getRecord()`, `findColumn()` and `findRecord()`."""

from __future__ import annotations

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import record_fn, stream_of
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.tables import Stream, Table
from chalicelib.flux.values import FluxError, Time


def _column_values(t: Table, column: str) -> list:
    """A column's values as Flux values (times as `Time`)."""
    kind = t.type_of(column)
    return [Time(v) if kind == "time" and v is not None else v for v in t.col(column)]


@universe("tableFind", "fn", "fn")
def table_find(interp: Interpreter, tables, fn):
    pred = record_fn(interp, fn, "fn")
    for t in stream_of(tables, "tableFind").tables():
        if pred(t.key_record()):
            return Stream(tables=[t])
    raise FluxError("tableFind: no table found")


@universe("getColumn", "column", "column", pipe="table")
def get_column(interp: Interpreter, table, column):
    (t,) = stream_of(table, "getColumn").tables()[:1] or [None]
    if t is None or not t.has(column):
        raise FluxError(f'getColumn: cannot find column "{column}"')
    return _column_values(t, column)


@universe("getRecord", "idx", "idx", pipe="table")
def get_record(interp: Interpreter, table, idx):
    (t,) = stream_of(table, "getRecord").tables()[:1] or [None]
    if t is None or not 0 <= idx < t.n:
        raise FluxError(f"getRecord: index {idx} out of bounds")
    return t.record(idx)


@universe("findRecord", "fn idx", "fn idx")
def find_record(interp: Interpreter, tables, fn, idx):
    pred = record_fn(interp, fn, "fn")
    for t in stream_of(tables, "findRecord").tables():
        if pred(t.key_record()):
            if not 0 <= idx < t.n:
                return {}
            return t.record(idx)
    return {}


@universe("findColumn", "fn column", "fn column")
def find_column(interp: Interpreter, tables, fn, column):
    pred = record_fn(interp, fn, "fn")
    for t in stream_of(tables, "findColumn").tables():
        if pred(t.key_record()):
            if not t.has(column):
                return []
            return _column_values(t, column)
    return []
