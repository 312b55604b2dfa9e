"""Columns: `keep`, `drop`, `rename`, `duplicate`, `set`, `fill`, `timeShift`, `columns`, `keys`."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import duration_arg, param_name, per_table, str_list, stream_of
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.stdlib.universe.grouping import merge_tables
from chalicelib.flux.tables import Stream, Table, column_type_of, to_column_value
from chalicelib.flux.values import FluxError, add_duration, type_name


def schema_mutation(tables, fname: str, fn: Callable[[Table], Table]) -> Stream:
    """`fn` applied to every table, as Flux's schema mutations (`keep`, `drop`, `rename`, `duplicate`)
    are: each output table is appended to the table of its new group key, so tables the mutation leaves
    with equal keys become one (`keys() |> keep(columns: ["_value"])` is a single table, which the
    builders' key lists rely on), in the order their keys first appear."""
    source = stream_of(tables, fname)

    def produce() -> list[Table]:
        groups: dict[tuple, list[Table]] = {}
        for t in source.tables():
            out = fn(t)
            groups.setdefault(out.key_tuple(), []).append(out)
        return [
            parts[0]
            if len(parts) == 1
            else merge_tables([(p, None) for p in parts], parts[0].key, parts[0].keyvals)
            for parts in groups.values()
        ]

    return Stream(produce)


@universe("keep", "columns fn")
def keep_(interp: Interpreter, tables, columns=None, fn=None):
    pred = _column_predicate(interp, columns, fn, "keep")
    return schema_mutation(tables, "keep", lambda t: _select_columns(t, [n for n in t.names() if pred(n)]))


@universe("drop", "columns fn")
def drop_(interp: Interpreter, tables, columns=None, fn=None):
    pred = _column_predicate(interp, columns, fn, "drop")
    return schema_mutation(
        tables, "drop", lambda t: _select_columns(t, [n for n in t.names() if not pred(n)])
    )


def _column_predicate(interp: Interpreter, columns, fn, fname: str) -> Callable[[str], bool]:
    if columns is not None:
        wanted = set(str_list(columns, f"{fname}: columns"))
        return lambda n: n in wanted
    if fn is not None:
        param = param_name(fn, "column")
        return lambda n: bool(fn.call(interp, {param: n}))
    raise FluxError(f"{fname}: specify columns or fn")


def _select_columns(t: Table, names: list[str]) -> Table:
    idx = [t.index(n) for n in names]
    out = Table([t.columns[i] for i in idx], [t.data[i] for i in idx], [k for k in t.key if k in names], {})
    out.keyvals = {k: t.keyvals.get(k) for k in out.key}
    return out


@universe("rename", "columns fn")
def rename_(interp: Interpreter, tables, columns=None, fn=None):
    if columns is not None:
        if not isinstance(columns, dict):
            raise FluxError("rename: columns must be a record")
        mapping = lambda n: columns.get(n, n)  # noqa: E731
    elif fn is not None:
        param = param_name(fn, "column")
        mapping = lambda n: fn.call(interp, {param: n})  # noqa: E731
    else:
        raise FluxError("rename: specify columns or fn")

    def apply(t: Table) -> Table:
        names = {n: mapping(n) for n in t.names()}
        out = Table([(names[n], k) for n, k in t.columns], list(t.data), [names[k] for k in t.key], {})
        out.keyvals = {names[k]: v for k, v in t.keyvals.items()}
        return out

    return schema_mutation(tables, "rename", apply)


@universe("duplicate", "column as", "column as")
def duplicate_(interp: Interpreter, tables, column, **kw):
    target = kw["as"]

    def apply(t: Table) -> Table:
        out = t.with_data(list(t.data))
        j = t.index(column)
        if j < 0:
            raise FluxError(f'duplicate: column "{column}" does not exist')
        k = out.index(target)
        if k >= 0:
            out.columns[k] = (target, t.columns[j][1])
            out.data[k] = list(t.data[j])
            if target in out.key:
                out.keyvals[target] = t.keyvals.get(column, t.data[j][0] if t.n else None)
        else:
            out.columns.append((target, t.columns[j][1]))
            out.data.append(list(t.data[j]))
        return out

    return schema_mutation(tables, "duplicate", apply)


@universe("set", "key value", "key value")
def set_(interp: Interpreter, tables, key, value):
    def apply(t: Table) -> Table:
        out = t.with_data(list(t.data))
        out.set_constant(key, "string", value)
        if key in out.key:
            out.keyvals[key] = value
        return out

    return per_table(tables, "set", apply)


@universe("fill", "column value usePrevious")
def fill_(interp: Interpreter, tables, column="_value", value=None, usePrevious=False):
    if value is None and not usePrevious:
        raise FluxError("fill: specify value or usePrevious")

    def apply(t: Table) -> Table:
        j = t.index(column)
        if j < 0:
            raise FluxError(f'fill: column "{column}" does not exist')
        kind = t.columns[j][1]
        if value is not None and column_type_of(value) != kind:
            raise FluxError(f"fill: value type {type_name(value)} does not match column type {kind}")
        out = t.with_data(list(t.data))
        col = list(t.data[j])
        prev = None
        for i, v in enumerate(col):
            if v is None:
                col[i] = prev if usePrevious else to_column_value(value)
            else:
                prev = v
        out.data[j] = col
        return out

    return per_table(tables, "fill", apply)


@universe("timeShift", "duration columns", "duration")
def time_shift(interp: Interpreter, tables, duration, columns=None):
    d = duration_arg(duration, "timeShift: duration")
    cols = str_list(columns or ["_start", "_stop", "_time"], "timeShift: columns")

    def apply(t: Table) -> Table:
        out = t.with_data(list(t.data))
        for c in cols:
            j = t.index(c)
            if j < 0:
                continue
            out.data[j] = [add_duration(v, d) if v is not None else None for v in t.data[j]]
            if c in out.keyvals and out.keyvals[c] is not None:
                out.keyvals[c] = add_duration(out.keyvals[c], d)
        return out

    return per_table(tables, "timeShift", apply)


def _label_table(t: Table, labels: list[str], column: str) -> Table:
    key = [k for k in t.key if k != column]
    columns = [(k, t.type_of(k) or "string") for k in key] + [(column, "string")]
    data = [[t.keyvals.get(k)] * len(labels) for k in key] + [list(labels)]
    return Table(columns, data, key, {k: t.keyvals.get(k) for k in key})


@universe("columns", "column")
def columns_(interp: Interpreter, tables, column="_value"):
    return per_table(tables, "columns", lambda t: _label_table(t, t.names(), column))


@universe("keys", "column")
def keys_(interp: Interpreter, tables, column="_value"):
    return per_table(tables, "keys", lambda t: _label_table(t, list(t.key), column))
