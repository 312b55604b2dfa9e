"""`join()`: the inner join of two streams on columns."""

from __future__ import annotations

from chalicelib.flux.budget import budget
from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import str_list, stream_of
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.stdlib.universe.grouping import sorted_by_key
from chalicelib.flux.tables import Stream, Table, from_records, to_column_value
from chalicelib.flux.values import FluxError
from chalicelib.kit.budget import CELL_BYTES


@universe("join", "tables on method", "tables on", None)
def join_(interp: Interpreter, tables, on, method="inner"):
    """Inner join of two streams on `on`: columns of both not in `on` are suffixed `_<name>`; the group key
    is the union of both sides' keys (renamed alike)."""
    if method != "inner":
        raise FluxError(f'join: method "{method}" is not supported; only "inner" is')
    if not isinstance(tables, dict) or len(tables) != 2:
        raise FluxError("join: tables must be a record of two streams")
    on_cols = str_list(on, "join: on")
    (left_name, left), (right_name, right) = tables.items()
    left, right = stream_of(left, "join"), stream_of(right, "join")

    def produce() -> list[Table]:
        sides = [(left_name, left.tables()), (right_name, right.tables())]
        names = [{n for t in ts for n in t.names()} for _, ts in sides]
        shared = (names[0] & names[1]) - set(on_cols)

        def rename(col: str, side: str) -> str:
            return f"{col}_{side}" if col in shared else col

        keyed: list[dict[tuple, list[tuple[dict, set[str]]]]] = []
        for side, ts in sides:
            index: dict[tuple, list[tuple[dict, set[str]]]] = {}
            for t in ts:
                key = {rename(k, side) for k in t.key}
                for i in range(t.n):
                    r = t.record(i)
                    if any(c not in r for c in on_cols):
                        raise FluxError(f"join: a table of {side} lacks a column of {on_cols}")
                    index.setdefault(tuple(to_column_value(r[c]) for c in on_cols), []).append(
                        ({rename(k, side): v for k, v in r.items()}, key)
                    )
            keyed.append(index)
        # a join can make many more rows than it was given: refused before they are built (a record
        # costs about twice what its table row does)
        matches = sum(len(lefts) * len(keyed[1].get(values, ())) for values, lefts in keyed[0].items())
        budget().ensure(3 * matches * len(names[0] | names[1]) * CELL_BYTES)
        records, key_cols = [], []
        for values, lefts in keyed[0].items():
            for lrec, lkey in lefts:
                for rrec, rkey in keyed[1].get(values, ()):
                    records.append({**lrec, **rrec})
                    key_cols.extend(k for k in sorted(lkey | rkey) if k not in key_cols)
        if not records:
            return []
        return sorted_by_key(from_records(records, key_cols))

    return Stream(produce)
