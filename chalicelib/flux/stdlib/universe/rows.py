"""Functions of a table's records: `map()` and `reduce()`."""

from __future__ import annotations

from chalicelib.flux.interpreter import Function, Interpreter
from chalicelib.flux.stdlib.args import per_table, record_fn, stream_of
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.stdlib.universe.grouping import regroup
from chalicelib.flux.tables import Stream, Table, from_records
from chalicelib.flux.values import FluxError, type_name


@universe("map", "fn mergeKey", "fn")
def map_(interp: Interpreter, tables, fn, mergeKey=False):
    call = record_fn(interp, fn)

    def produce() -> list[Table]:
        out: list[Table] = []
        for t in stream_of(tables, "map").tables():
            records = []
            for i in range(t.n):
                r = call(t.record(i))
                if not isinstance(r, dict):
                    raise FluxError(f"map: fn must return a record, got {type_name(r)}")
                records.append(r)
            if not records:
                continue
            key = [k for k in t.key if k in records[0]]
            out.extend(from_records(records, key))
        if len(out) > 1:
            return regroup(out, lambda t: t.key) if _duplicate_keys(out) else out
        return out

    return Stream(produce)


def _duplicate_keys(tables: list[Table]) -> bool:
    keys = [t.key_tuple() for t in tables]
    return len(set(keys)) != len(keys)


@universe("reduce", "fn identity", "fn identity")
def reduce_(interp: Interpreter, tables, fn, identity):
    if not isinstance(identity, dict) or not isinstance(fn, Function):
        raise FluxError("reduce: fn must be a function and identity a record")

    def apply(t: Table) -> Table:
        acc = dict(identity)
        for i in range(t.n):
            acc = interp.call_function(fn, {"r": t.record(i), "accumulator": acc})
            if not isinstance(acc, dict):
                raise FluxError(f"reduce: fn must return a record, got {type_name(acc)}")
        record = {**t.key_record(), **{k: v for k, v in acc.items() if k not in t.key}}
        (out,) = from_records([record], list(t.key))
        return out

    return per_table(tables, "reduce", apply)
