"""Selectors: `first`, `last`, `min`, `max`, `distinct`, `unique`, `top`, `bottom`."""

from __future__ import annotations

from chalicelib.flux import folds, reads
from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import per_table, str_list
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.tables import Table
from chalicelib.flux.values import FluxError


def _select_row(t: Table, column: str, name: str) -> int | None:
    j = t.index(column)
    if j < 0:
        raise FluxError(f'{name}: column "{column}" does not exist')
    col = t.data[j]
    best = None
    for i, v in enumerate(col):
        if v is None:
            continue
        if name == "first":
            return i
        better = (name == "min" and v < col[best]) if best is not None else True
        better = better or (name == "max" and v > col[best]) or name == "last"
        if better:
            best = i
    return best


SELECTORS = ("first", "last", "min", "max")


def _selected_row(t: Table, fold: folds.Extreme) -> Table:
    """The one row `min()`/`max()` select of a storage table (`t` without rows) from its fold."""
    picked = {"_time": fold.time, "_value": fold.best}
    return t.with_data([[picked[n] if n in picked else t.keyvals.get(n)] for n in t.names()])


def _selector(name: str):
    def impl(interp: Interpreter, tables, column="_value"):
        if name in ("first", "last") and column == "_value" and isinstance(tables, reads.FromStream):
            return tables.edge(name)  # read only until each series has its answer

        def apply(t: Table) -> Table:
            i = _select_row(t, column, name)
            return t.take([] if i is None else [i])

        if name in folds.FOLDS and column == "_value" and isinstance(tables, reads.FromStream):
            return tables.folded(folds.FOLDS[name], _selected_row, lambda ts: [apply(t) for t in ts])
        return per_table(tables, name, apply)

    return universe(name, "column")(impl)


for _sel in SELECTORS:
    _selector(_sel)


@universe("distinct", "column")
def distinct_(interp: Interpreter, tables, column="_value"):
    def apply(t: Table) -> Table:
        kind = t.type_of(column)
        if kind is None:
            raise FluxError(f'distinct: column "{column}" does not exist')
        if column in t.key:
            values = [t.keyvals.get(column)]
        else:
            seen: dict = {}
            for v in t.data[t.index(column)]:
                seen.setdefault((type(v), v), v)
            values = list(seen.values())
        columns = [(n, k) for n, k in t.columns if n in t.key and n != column] + [("_value", kind)]
        data = [[t.keyvals.get(n)] * len(values) for n, _ in columns[:-1]] + [values]
        key = [k for k in t.key if k != column]
        return Table(columns, data, key, {k: t.keyvals.get(k) for k in key})

    return per_table(tables, "distinct", apply)


@universe("unique", "column")
def unique_(interp: Interpreter, tables, column="_value"):
    def apply(t: Table) -> Table:
        seen = set()
        keep = []
        for i, v in enumerate(t.col(column)):
            if (type(v), v) not in seen:
                seen.add((type(v), v))
                keep.append(i)
        return t.take(keep)

    return per_table(tables, "unique", apply)


def _top(tables, n, columns, desc: bool, name: str):
    cols = str_list(columns, f"{name}: columns")

    def apply(t: Table) -> Table:
        idx = [t.index(c) for c in cols]
        rows = [i for i in range(t.n) if all(t.data[j][i] is not None for j in idx)]
        rows.sort(key=lambda i: tuple(t.data[j][i] for j in idx), reverse=desc)
        return t.take(rows[:n])

    return per_table(tables, name, apply)


@universe("top", "n columns", "n")
def top_(interp: Interpreter, tables, n, columns=None):
    return _top(tables, n, columns or ["_value"], True, "top")


@universe("bottom", "n columns", "n")
def bottom_(interp: Interpreter, tables, n, columns=None):
    return _top(tables, n, columns or ["_value"], False, "bottom")
