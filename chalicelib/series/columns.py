"""The column model of one series in the series store, and InfluxDB's merge rules over it.

A series' points within a time block are held column-wise: one ascending list of unique timestamps
and, per field, a typed column of values aligned with the times (None where a point lacks the field).

Merge rule (InfluxDB's): a point written again at the same series and timestamp merges its fields into
the existing point, the newer value winning per field; a field the newer point does not carry keeps its
older value.

The functions are pure: they never modify their arguments, but a result may share lists with an argument
(e.g. `merge` of one part returns that part), so treat columns as immutable once built.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from operator import is_not, lt, methodcaller

from chalicelib.kit.points import FieldValue, field_type


@dataclass(slots=True)
class Column:
    type: str  # one of points.FIELD_TYPES
    values: list  # FieldValue | None per time; len == len(times)


@dataclass(slots=True)
class SeriesColumns:
    times: list[int] = field(default_factory=list)  # nanoseconds, ascending, unique
    fields: dict[str, Column] = field(default_factory=dict)


_TYPE_NAMES: dict[type, str] = {}  # Python type -> field type name, filled by _column_type


def _column_type(name: str, values: Iterable) -> str:
    """The field type of a column's values (None ignored); ValueError if they mix types."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    names = set()
    for kind in kinds:
        type_name = _TYPE_NAMES.get(kind)
        if type_name is None:
            sample = next(v for v in values if type(v) is kind)
            type_name = field_type(sample)  # raises TypeError for a non-field value
            _TYPE_NAMES[kind] = type_name
        names.add(type_name)
    if len(names) != 1:
        if not names:
            raise ValueError(f"field {name!r} has no values")
        raise ValueError(f"field {name!r} has values of several types: {', '.join(sorted(names))}")
    return names.pop()


def _is_ascending_unique(times: Sequence[int]) -> bool:
    return all(map(lt, times, times[1:]))


def from_rows(rows: Iterable[tuple[int, Mapping[str, FieldValue]]]) -> SeriesColumns:
    """Columns from rows in arrival order. Rows may be unsorted and may repeat a time: a later row wins
    per field. ValueError if a field has values of two types; rows without fields are left out."""
    rows = rows if isinstance(rows, list) else list(rows)
    times = [row[0] for row in rows]
    if _is_ascending_unique(times):
        field_rows: list[Mapping[str, FieldValue]] = [row[1] for row in rows]
    else:
        # Check types on every row, overwritten values included: a mix is an error even if masked.
        samples: dict[str, dict[type, FieldValue]] = {}
        for _, fields in rows:
            for name, value in fields.items():
                samples.setdefault(name, {}).setdefault(type(value), value)
        for name, by_kind in samples.items():
            if len(by_kind) > 1:
                _column_type(name, list(by_kind.values()))
        merged: dict[int, dict[str, FieldValue]] = {}
        for time, fields in rows:
            point = merged.get(time)
            if point is None:
                merged[time] = dict(fields)
            else:
                point.update(fields)
        times = sorted(merged)
        field_rows = [merged[t] for t in times]
    n = len(times)
    columns = {}
    # Column by column, in C (map over the rows), fields in order of first appearance; a row without
    # the field gives None.
    for name in dict.fromkeys(chain.from_iterable(field_rows)):
        values = list(map(methodcaller("get", name), field_rows))
        if values.count(None) == n:
            continue
        columns[name] = Column(_column_type(name, values), values)
    return compact(SeriesColumns(times, columns))  # rows without fields are no points


def merge(parts: Sequence[SeriesColumns]) -> SeriesColumns:
    """Merge the columns of one series from several writes, ordered oldest write first: at a time present
    in several parts, the newer part's value wins per field.

    A field whose type differs between parts (only possible if concurrent writes raced past the type
    check) takes the type of the newest part holding it; older values of another type are dropped.
    """
    parts = [p for p in parts if p.times]
    if not parts:
        return SeriesColumns([], {})
    if len(parts) == 1:
        return parts[0]
    # Group parts whose time ranges overlap (transitively); groups are disjoint and concatenate.
    order = sorted(range(len(parts)), key=lambda i: parts[i].times[0])
    groups: list[list[int]] = []
    group_end = None
    for i in order:
        part = parts[i]
        if group_end is not None and part.times[0] <= group_end:
            groups[-1].append(i)
            group_end = max(group_end, part.times[-1])
        else:
            groups.append([i])
            group_end = part.times[-1]
    types = _merged_types(parts)
    pieces = [
        parts[g[0]] if len(g) == 1 else _merge_overlapping([parts[i] for i in sorted(g)], types)
        for g in groups
    ]
    return _concatenate(pieces, types)


def _merged_types(parts: Sequence[SeriesColumns]) -> dict[str, str]:
    types: dict[str, str] = {}
    for part in parts:  # oldest first, so the newest type is the one left
        for name, column in part.fields.items():
            types[name] = column.type
    return types


def _concatenate(pieces: Sequence[SeriesColumns], types: Mapping[str, str]) -> SeriesColumns:
    """Columns of pieces whose time ranges are disjoint and in ascending order."""
    if len(pieces) == 1 and all(c.type == types[n] for n, c in pieces[0].fields.items()):
        return pieces[0]
    times = list(chain.from_iterable(p.times for p in pieces))
    columns: dict[str, Column] = {}
    dropped = False
    for name, type_name in types.items():
        values: list = []
        for piece in pieces:
            column = piece.fields.get(name)
            if column is None or column.type != type_name:
                dropped = dropped or column is not None
                values.extend([None] * len(piece.times))
            else:
                values.extend(column.values)
        if values.count(None) != len(values):
            columns[name] = Column(type_name, values)
    result = SeriesColumns(times, columns)
    return compact(result) if dropped else result  # values of a superseded type went


def _merge_overlapping(parts: Sequence[SeriesColumns], types: Mapping[str, str]) -> SeriesColumns:
    """Field-level newest-wins merge of parts (oldest first) whose times interleave. The per-value work
    runs in C (map/compress) since a late point makes a whole block take this path."""
    times = sorted(set().union(*(p.times for p in parts)))
    n = len(times)
    position = dict(zip(times, range(n), strict=True))
    columns: dict[str, list] = {}
    dropped = False
    for part in parts:
        covers_all = len(part.times) == n  # a subset of the union as long as it is the union
        indexes = None if covers_all else list(map(position.__getitem__, part.times))
        for name, column in part.fields.items():
            if column.type != types[name]:
                dropped = True
                continue
            new = column.values
            dense = new.count(None) == 0
            values = columns.get(name)
            if covers_all and (dense or values is None):  # overwrites all older values, or has none
                columns[name] = list(new)
                continue
            if values is None:
                values = columns[name] = [None] * n
            targets: Iterable[int] = range(n) if indexes is None else indexes
            if not dense:
                present = list(map(is_not, new, repeat(None)))
                targets, new = compress(targets, present), compress(new, present)
            deque(map(values.__setitem__, targets, new), maxlen=0)
    result = SeriesColumns(times, {name: Column(types[name], values) for name, values in columns.items()})
    return compact(result) if dropped else result


def compact(cols: SeriesColumns) -> SeriesColumns:
    """The columns without all-null fields and without times where every field is null (no points)."""
    fields = {name: c for name, c in cols.fields.items() if c.values.count(None) != len(c.values)}
    if not fields:
        return SeriesColumns([], {})
    if len(fields) < len(cols.fields):
        cols = SeriesColumns(cols.times, fields)
    columns = list(fields.values())
    if any(c.values.count(None) == 0 for c in columns):
        return cols
    keep = [any(v is not None for v in row) for row in zip(*(c.values for c in columns), strict=True)]
    if all(keep):
        return cols
    times = [t for t, k in zip(cols.times, keep, strict=True) if k]
    return SeriesColumns(
        times,
        {
            name: Column(c.type, [v for v, k in zip(c.values, keep, strict=True) if k])
            for name, c in cols.fields.items()
        },
    )


def _cut(cols: SeriesColumns, lo: int, hi: int, keep_inside: bool) -> SeriesColumns:
    def take(seq: list) -> list:
        return seq[lo:hi] if keep_inside else seq[:lo] + seq[hi:]

    times = take(cols.times)
    if not times:
        return SeriesColumns([], {})
    columns = {}
    for name, column in cols.fields.items():
        values = take(column.values)
        if values.count(None) != len(values):
            columns[name] = Column(column.type, values)
    if not columns:
        return SeriesColumns([], {})
    return SeriesColumns(times, columns)


def slice_time(cols: SeriesColumns, start: int, stop: int) -> SeriesColumns:
    """The points with start <= time < stop."""
    times = cols.times
    lo = bisect_left(times, start)
    hi = bisect_left(times, stop, lo)
    if lo == 0 and hi == len(times):
        return cols
    return _cut(cols, lo, hi, keep_inside=True)


def remove(cols: SeriesColumns, start: int, stop: int) -> SeriesColumns:
    """The points without those with start <= time < stop."""
    times = cols.times
    lo = bisect_left(times, start)
    hi = bisect_left(times, stop, lo)
    if lo == hi:
        return cols
    return _cut(cols, lo, hi, keep_inside=False)


def select_fields(cols: SeriesColumns, names: Collection[str]) -> SeriesColumns:
    """Only the named fields, without the times where all of them are null."""
    if all(name in names for name in cols.fields):
        return cols
    kept = {name: column for name, column in cols.fields.items() if name in names}
    return compact(SeriesColumns(cols.times, kept))


def count(cols: SeriesColumns) -> int:
    """The number of points."""
    return len(cols.times)


def rows(cols: SeriesColumns) -> Iterator[tuple[int, dict[str, FieldValue]]]:
    """(time, {field: value}) per point in time order, null fields left out."""
    columns = [(name, column.values) for name, column in cols.fields.items()]
    for i, time in enumerate(cols.times):
        yield time, {name: values[i] for name, values in columns if values[i] is not None}
