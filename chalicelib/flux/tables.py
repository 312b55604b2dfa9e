"""The table model: a stream of tables, each with a group key, typed columns and column-major data.

Column types are Flux's basic types: `float`, `int`, `uint`, `string`, `bool`, `time`. Time columns hold
int nanoseconds (wrapped as `values.Time` only when a row becomes a record for a function).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.flux.budget import budget, table_bytes
from chalicelib.flux.values import FluxError, Time, type_name

COLUMN_TYPES = ("float", "int", "uint", "string", "bool", "time")

# Field types of the store -> Flux column types.
FIELD_COLUMN_TYPES = {
    "float": "float",
    "integer": "int",
    "unsigned": "uint",
    "boolean": "bool",
    "string": "string",
}


@dataclass
class Table:
    columns: list[tuple[str, str]]  # (name, type)
    data: list[list]  # one list per column
    key: list[str] = field(default_factory=list)  # group key column names (in column order)
    keyvals: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.data[0]) if self.data else 0

    def names(self) -> list[str]:
        return [c[0] for c in self.columns]

    def index(self, name: str) -> int:
        for i, (n, _) in enumerate(self.columns):
            if n == name:
                return i
        return -1

    def has(self, name: str) -> bool:
        return self.index(name) >= 0

    def col(self, name: str) -> list:
        i = self.index(name)
        if i < 0:
            raise FluxError(f'column "{name}" does not exist')
        return self.data[i]

    def type_of(self, name: str) -> str | None:
        i = self.index(name)
        return self.columns[i][1] if i >= 0 else None

    def key_tuple(self) -> tuple:
        return tuple((k, self.keyvals.get(k)) for k in sorted(self.key))

    def record(self, i: int) -> dict[str, Any]:
        out = {}
        for (name, kind), values in zip(self.columns, self.data, strict=True):
            v = values[i]
            out[name] = Time(v) if kind == "time" and v is not None else v
        return out

    def records(self) -> list[dict[str, Any]]:
        return [self.record(i) for i in range(self.n)]

    def key_record(self) -> dict[str, Any]:
        out = {}
        for name in self.key:
            v = self.keyvals.get(name)
            out[name] = Time(v) if self.type_of(name) == "time" and v is not None else v
        return out

    def take(self, indexes: Iterable[int]) -> Table:
        idx = list(indexes)
        return Table(
            list(self.columns), [[c[i] for i in idx] for c in self.data], list(self.key), dict(self.keyvals)
        )

    def with_data(self, data: list[list]) -> Table:
        return Table(list(self.columns), data, list(self.key), dict(self.keyvals))

    def set_constant(self, name: str, kind: str, value: Any) -> None:
        """Make `name` a column of `kind` holding `value` on every row (replacing one of that name)."""
        j = self.index(name)
        if j >= 0:
            self.columns[j] = (name, kind)
            self.data[j] = [value] * self.n
        else:
            self.columns.append((name, kind))
            self.data.append([value] * self.n)

    def set_key_constant(self, name: str, kind: str, value: Any) -> None:
        """`set_constant`, with the column in the group key (e.g. a window's _start and _stop)."""
        self.set_constant(name, kind, value)
        if name not in self.key:
            self.key.append(name)
        self.keyvals[name] = value

    def empty_copy(self) -> Table:
        return Table(list(self.columns), [[] for _ in self.columns], list(self.key), dict(self.keyvals))


def normalize_key(table: Table) -> Table:
    """Key columns listed in column order, dropping names that are not columns."""
    names = table.names()
    table.key = [n for n in names if n in set(table.key)]
    table.keyvals = {k: table.keyvals.get(k) for k in table.key}
    return table


def key_sort_value(key: tuple) -> tuple:
    """An orderable form of a group key tuple: nulls first, then by value (type-tagged)."""
    out = []
    for name, v in key:
        if v is None:
            out.append((name, 0, 0, ""))
        elif isinstance(v, bool):
            out.append((name, 1, int(v), ""))
        elif isinstance(v, int | float):
            out.append((name, 1, v, ""))
        else:
            out.append((name, 2, 0, str(v)))
    return tuple(out)


_COLUMN_TYPES = frozenset({"bool", "uint", "int", "float", "string", "time"})


def column_type_of(v: Any) -> str | None:
    """The column type a value is stored as (None for null); values that cannot be columns raise."""
    if v is None:
        return None
    kind = type_name(v)
    if kind not in _COLUMN_TYPES:
        raise FluxError(f"a {kind} value cannot be stored in a table column")
    return kind


def to_column_value(v: Any) -> Any:
    return v.ns if isinstance(v, Time) else v


class Stream:
    """A lazily computed, memoized list of tables. The tables it computes are charged to the running
    query's budget, unless `produce` charges them itself as it builds them (`charged`): the bulk
    producers (reads, windows) refuse to build what would not fit."""

    flux_type = "stream"  # its name in `values.type_name`

    def __init__(
        self,
        produce: Callable[[], list[Table]] | None = None,
        tables: list[Table] | None = None,
        *,
        charged: bool = False,
    ):
        self._produce = produce
        self._tables = tables
        self._charged = charged

    def tables(self) -> list[Table]:
        if self._tables is None:
            assert self._produce is not None
            tables = self._produce()
            if not self._charged:
                budget().charge(sum(table_bytes(t.n, len(t.columns)) for t in tables))
            self._tables = tables
        return self._tables

    def map_tables(self, fn: Callable[[Table], Table | None]) -> Stream:
        def produce() -> list[Table]:
            out = []
            for t in self.tables():
                r = fn(t)
                if r is not None:
                    out.append(r)
            return out

        return Stream(produce)


def from_records(records: list[dict[str, Any]], key: list[str]) -> list[Table]:
    """Tables from records, grouped by the values of `key` (first-appearance order), columns in the order
    they first appear."""
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault(tuple(to_column_value(r.get(k)) for k in key), []).append(r)
    out = []
    for kv, rows in groups.items():
        names: list[str] = []
        seen = set()
        for r in rows:
            for name in r:
                if name not in seen:
                    seen.add(name)
                    names.append(name)
        columns = []
        data = []
        for name in names:
            values = [to_column_value(r.get(name)) for r in rows]
            kinds = {column_type_of(r.get(name)) for r in rows} - {None}
            if len(kinds) > 1:
                raise FluxError(f'column "{name}" has values of several types: {", ".join(sorted(kinds))}')
            kind = kinds.pop() if kinds else None
            columns.append((name, kind or "string"))
            data.append(values)
        t = Table(columns, data, [k for k in key if k in seen], dict(zip(key, kv, strict=True)))
        out.append(normalize_key(t))
    return out
