"""`pivot()`: the values of a column spread into columns named by other columns' values, row by row key."""

from __future__ import annotations

from typing import Any

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import str_list, stream_of
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.tables import Stream, Table
from chalicelib.flux.values import FluxError, to_string


@universe("pivot", "rowKey columnKey valueColumn", "rowKey columnKey valueColumn")
def pivot_(interp: Interpreter, tables, rowKey, columnKey, valueColumn):
    row_key = str_list(rowKey, "pivot: rowKey")
    col_key = str_list(columnKey, "pivot: columnKey")

    def produce() -> list[Table]:
        groups: dict[tuple, list[Table]] = {}
        for t in stream_of(tables, "pivot").tables():
            for n in [*row_key, *col_key, valueColumn]:
                if not t.has(n):
                    raise FluxError(f'pivot: missing column "{n}"')
            key = [n for n in t.names() if n in t.key and n not in col_key]
            groups.setdefault(tuple((k, t.keyvals.get(k)) for k in key), []).append(t)
        out = []
        for members in groups.values():
            first = members[0]
            # group key (less the column key) and row key columns, in the input's column order
            keep = [(n, k) for n, k in first.columns if (n in first.key and n not in col_key) or n in row_key]
            rows: dict[tuple, dict[str, Any]] = {}
            new_cols: dict[str, str] = {}
            for t in members:
                vkind = t.type_of(valueColumn)
                rk = [t.col(n) for n in row_key]
                ck = [t.col(n) for n in col_key]
                vc = t.col(valueColumn)
                for i in range(t.n):
                    row = rows.setdefault(tuple(c[i] for c in rk), {})
                    name = "_".join(to_string(c[i]) for c in ck)
                    if new_cols.setdefault(name, vkind) != vkind:
                        raise FluxError(
                            f'pivot: column "{name}" has values of types {new_cols[name]} and {vkind}'
                        )
                    row[name] = vc[i]
            order = sorted(rows, key=lambda k: tuple((v is not None, v if v is not None else 0) for v in k))
            columns = keep + list(new_cols.items())
            data = []
            for n, _ in keep:
                if n in first.key:
                    data.append([first.keyvals.get(n)] * len(order))
                else:
                    j = row_key.index(n)
                    data.append([k[j] for k in order])
            for n in new_cols:
                data.append([rows[k].get(n) for k in order])
            key = [n for n, _ in keep if n in first.key]
            out.append(Table(columns, data, key, {n: first.keyvals.get(n) for n in key}))
        return out

    return Stream(produce)
