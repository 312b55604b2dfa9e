"""Grouping and ordering: `group`, `sort`, `limit`, `tail`, `union`, and the regrouping of rows."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import per_table, str_list, stream_of
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.tables import Stream, Table, key_sort_value
from chalicelib.flux.values import FluxError


def sorted_by_key(tables: list[Table]) -> list[Table]:
    return sorted(tables, key=lambda t: key_sort_value(t.key_tuple()))


def regroup(tables: list[Table], key_of: Callable[[Table], list[str]]) -> list[Table]:
    """Rows regrouped: each table's rows go to the group of their values of `key_of(table)`."""
    groups: dict[tuple, list[tuple[Table, list[int] | None]]] = {}
    order: list[tuple] = []
    for t in tables:
        key = key_of(t)
        key = [c for c in t.names() if c in set(key)]
        if set(key) <= set(t.key):
            gk = (tuple(key), tuple(t.keyvals.get(k) for k in key))
            if gk not in groups:
                groups[gk] = []
                order.append(gk)
            groups[gk].append((t, None))
            continue
        idx = [t.index(k) for k in key]
        parts: dict[tuple, list[int]] = {}
        for i in range(t.n):
            parts.setdefault(tuple(t.data[j][i] for j in idx), []).append(i)
        for kv, rows in parts.items():
            gk = (tuple(key), kv)
            if gk not in groups:
                groups[gk] = []
                order.append(gk)
            groups[gk].append((t, rows))
    out = []
    for gk in order:
        out.append(merge_tables(groups[gk], list(gk[0]), dict(zip(gk[0], gk[1], strict=True))))
    return sorted_by_key(out)


def merge_tables(parts: list[tuple[Table, list[int] | None]], key: list[str], keyvals: dict) -> Table:
    columns: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for t, _ in parts:
        for name, kind in t.columns:
            if name not in seen:
                seen[name] = len(columns)
                columns.append((name, kind))
            elif columns[seen[name]][1] != kind:
                other = columns[seen[name]][1]
                raise FluxError(
                    f'schema collision detected: column "{name}" is both of type {other} and {kind}'
                )
    data: list[list] = [[] for _ in columns]
    for t, rows in parts:
        n = t.n if rows is None else len(rows)
        for ci, (name, _) in enumerate(columns):
            j = t.index(name)
            if j < 0:
                data[ci].extend([None] * n)
            elif rows is None:
                data[ci].extend(t.data[j])
            else:
                col = t.data[j]
                data[ci].extend(col[i] for i in rows)
    return Table(columns, data, key, keyvals)


@universe("group", "columns mode")
def group_(interp: Interpreter, tables, columns=None, mode="by"):
    cols = set(str_list(columns or [], "group: columns"))
    if mode not in ("by", "except"):
        raise FluxError(f'group: unknown mode "{mode}"')

    def key_of(t: Table) -> list[str]:
        if mode == "by":
            return [n for n in t.names() if n in cols]
        return [n for n in t.names() if n not in cols]

    return Stream(lambda: regroup(stream_of(tables, "group").tables(), key_of))


@universe("sort", "columns desc")
def sort_(interp: Interpreter, tables, columns=None, desc=False):
    names = str_list(columns if columns is not None else ["_value"], "sort: columns")

    def apply(t: Table) -> Table:
        idx = [t.index(n) for n in names if t.has(n)]
        if not idx:
            return t

        def sort_key(i: int):
            return tuple(
                (t.data[j][i] is not None, t.data[j][i] if t.data[j][i] is not None else 0) for j in idx
            )

        order = sorted(range(t.n), key=sort_key, reverse=bool(desc))
        return t.take(order)

    return per_table(tables, "sort", apply)


@universe("limit", "n offset", "n")
def limit_(interp: Interpreter, tables, n, offset=0):
    return per_table(tables, "limit", lambda t: t.take(range(offset, min(t.n, offset + n))))


@universe("tail", "n offset", "n")
def tail_(interp: Interpreter, tables, n, offset=0):
    def apply(t: Table) -> Table:
        end = max(0, t.n - offset)
        return t.take(range(max(0, end - n), end))

    return per_table(tables, "tail", apply)


@universe("union", "tables", "tables", None)
def union_(interp: Interpreter, tables):
    streams = [stream_of(s, "union") for s in tables]
    return Stream(lambda: [t for s in streams for t in s.tables()])
