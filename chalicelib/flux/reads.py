"""`from()` as a lazy stream that `range()` and `filter()` narrow before anything is read.

`range` bounds the scan; every conjunct of a `filter` predicate that reads only `_measurement`, `_field`
and tags is evaluated once per (series, field) of the index, so the scan asks the store for only the
matching series keys and fields. Such a conjunct is then true of every row read and is not evaluated
again. Storage tables: one per series and field, group key `_start,_stop,_field,_measurement` + tags,
columns `_start,_stop,_time,_value,_field,_measurement`, then the tags sorted, in series key order.

`first()`/`last()` right after the read scan oldest/newest blocks first and stop per series (`edge`);
`count`/`sum`/`mean`/`min`/`max` (and `aggregateWindow` with them) fold each table block by block as the
store streams it, without holding its points (`folded`, with `folds`);
the schema functions list series and fields from the index where it answers as the points would
(`listing`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import compress
from typing import Any

from chalicelib.flux import ast
from chalicelib.flux.budget import TABLE_BYTES, budget
from chalicelib.flux.interpreter import REQUIRED, Closure, Interpreter
from chalicelib.flux.tables import FIELD_COLUMN_TYPES, Stream, Table
from chalicelib.flux.values import FluxError
from chalicelib.kit.budget import CELL_BYTES

NOT_PUSHABLE = {"_time", "_value", "_start", "_stop"}
STORAGE_KEY = {"_start", "_stop", "_field", "_measurement"}
# A storage table's row: its six columns and a tag or two, charged as the read gathers it.
STORAGE_ROW_BYTES = 8 * CELL_BYTES


class FromStream(Stream):
    def __init__(
        self,
        interp: Interpreter,
        bucket: dict,
        start: int | None = None,
        stop: int | None = None,
        predicates: tuple[Callable[[dict], Any], ...] = (),
    ) -> None:
        super().__init__(self._read, charged=True)  # charged block by block as it is read
        self.interp = interp
        self.bucket = bucket
        self.start = start
        self.stop = stop
        self.predicates = predicates

    def bounded(self, start: int, stop: int) -> FromStream:
        return FromStream(self.interp, self.bucket, start, stop, self.predicates)

    def narrowed(self, predicates: list[Callable[[dict], Any]]) -> FromStream:
        return FromStream(
            self.interp, self.bucket, self.start, self.stop, self.predicates + tuple(predicates)
        )

    def selected(self, measurement: str, entries: list, field_types: dict[str, str]) -> dict[str, list[str]]:
        """series key -> the fields of it the predicates select. A predicate that does not read `_field`
        is evaluated once per series, one that reads only `_field` once per field."""
        fields = sorted(field_types)
        per_series = [p for p in self.predicates if "_field" not in _refs(p)]
        per_field = [p for p in self.predicates if _refs(p) == {"_field"}]
        per_both = [p for p in self.predicates if "_field" in _refs(p) and _refs(p) != {"_field"}]
        fields = [f for f in fields if all(p({"_field": f, "_measurement": measurement}) for p in per_field)]
        wanted: dict[str, list[str]] = {}
        if not fields:
            return wanted
        for entry in entries:
            tags = dict(entry.tags)
            record = {**tags, "_measurement": measurement}
            if not all(p(record) for p in per_series):
                continue
            chosen = [f for f in fields if all(p({**record, "_field": f}) for p in per_both)]
            if chosen:
                wanted[entry.key] = chosen
        return wanted

    def _read(self) -> list[Table]:
        self._check_bounded()
        tables: list[Table] = []
        for measurement, entries, _, wanted in self._plans():
            tables.extend(self._tables_of(measurement, entries, wanted))
        return tables

    def edge(self, name: str) -> Stream:
        """`first()` (`last()`) of every storage table, read oldest (newest) block first: a series stops
        being read once each of its wanted fields has a value, and the scan stops when none is left."""

        def produce() -> list[Table]:
            if self._tables is not None:  # read whole already (the stream is used elsewhere too)
                return [t.take([0 if name == "first" else t.n - 1]) for t in self._tables if t.n]
            self._check_bounded()
            tables: list[Table] = []
            for measurement, entries, _, wanted in self._plans():
                tables.extend(self._tables_of(measurement, entries, wanted, edge=name))
            return tables

        return Stream(produce)

    def listing(self, need: str) -> Iterator[tuple[str, dict[str, str], list[str]]]:
        """(measurement, tags, fields) of the series and fields the read selects, for the schema
        functions. From the series index where it answers as the points would, save for time: the index
        lists every series present in the bucket, whatever the range. From the points otherwise: when
        a predicate reads `_field` and the answer depends on which series carry which fields (the index
        keeps fields per measurement). `need`: "series" (measurements, tag keys and values) or
        "fields" (field keys)."""
        self._check_bounded()
        for measurement, entries, field_types, wanted in self._plans():
            if self._index_answers(need, field_types):
                tags_of = {e.key: e.tags for e in entries}
                for key, fields in wanted.items():
                    yield measurement, dict(tags_of[key]), fields
                continue
            for t in self._tables_of(measurement, entries, wanted):
                tags = {k: t.keyvals[k] for k in t.key if k not in STORAGE_KEY}
                yield measurement, tags, [t.keyvals["_field"]]
            budget().check()

    def _index_answers(self, need: str, field_types: dict[str, str]) -> bool:
        if len(field_types) <= 1:  # every series of the measurement carries its one field
            return True
        refs: set[str] = set().union(*(_refs(p) for p in self.predicates))
        if need == "fields":  # only measurement and field predicates: the fields of the measurement
            return refs <= {"_measurement", "_field"}
        return "_field" not in refs  # no field predicates: every series of the measurement

    def _check_bounded(self) -> None:
        if self.start is None or self.stop is None:
            raise FluxError(
                f'cannot submit unbounded read to "{self.bucket["name"]}"; '
                "try bounding 'from' with a call to 'range'"
            )

    def _plans(self) -> Iterator[tuple[str, list, dict[str, str], dict[str, list[str]]]]:
        """(measurement, index entries, field types, wanted fields by series key) of each measurement
        of which the predicates select something, in name order."""
        assert self.start is not None and self.stop is not None
        if self.stop <= self.start:
            return
        series = self.interp.context.series
        ns = self.bucket["id"]
        for measurement in sorted(series.measurements(ns)):
            # a measurement-only predicate rules a measurement out before its series are listed
            probe = {"_measurement": measurement}
            if not all(_maybe(p, probe) for p in self.predicates):
                continue
            field_types = series.field_types(ns, measurement)
            # a pushed-down `r.tag == "v"`: the index may read only those series (selected checks them)
            entries = series.series(ns, measurement, _series_hint(self.predicates))
            wanted = self.selected(measurement, entries, field_types)
            if wanted:
                yield measurement, entries, field_types, wanted

    def _tables_of(
        self, measurement: str, entries: list, wanted: dict[str, list[str]], edge: str | None = None
    ) -> list[Table]:
        """The storage tables of one measurement; with `edge` ("first"/"last"), only that row of each."""
        if edge is None:
            acc = self._accumulate(measurement, wanted)
        else:
            acc = self._edges(measurement, wanted, edge == "last")
        tags_of = {e.key: dict(e.tags) for e in entries}
        tables: list[Table] = []
        for key, f in sorted(acc):
            times, values, kind = acc[(key, f)]
            if times:
                tables.append(self._storage_table(measurement, tags_of.get(key, {}), f, times, values, kind))
        return tables

    def _storage_table(
        self, measurement: str, tags: dict[str, str], f: str, times: list, values: list, kind: str
    ) -> Table:
        assert self.start is not None and self.stop is not None
        start, stop = self.start, self.stop
        tag_names = sorted(tags)
        n = len(times)
        columns = [
            ("_start", "time"),
            ("_stop", "time"),
            ("_time", "time"),
            ("_value", FIELD_COLUMN_TYPES.get(kind, "string")),
            ("_field", "string"),
            ("_measurement", "string"),
        ] + [(t, "string") for t in tag_names]
        data = [[start] * n, [stop] * n, times, values, [f] * n, [measurement] * n]
        data += [[tags[t]] * n for t in tag_names]
        keyvals = {"_start": start, "_stop": stop, "_field": f, "_measurement": measurement}
        keyvals.update(tags)
        key_names = ["_start", "_stop", "_field", "_measurement", *tag_names]
        return Table(columns, data, key_names, keyvals)

    def folded(
        self,
        make: Callable[[], Any],
        finish: Callable[[Table, Any], Table | None],
        general: Callable[[list[Table]], list[Table]],
    ) -> Stream:
        """An aggregate of every storage table folded as the store streams its blocks, never holding a
        table's points: `make()` gives a table's fold (`add(times, values, column type)` with the
        non-null values of a block in time order, `n` the values added so far), `finish(table, fold)` the
        result, `table` being the storage table without rows. Tables without a value are left out, as
        the read leaves them out. `general` answers from the tables when they were read whole already."""

        def produce() -> list[Table]:
            if self._tables is not None:  # read whole already (the stream is used elsewhere too)
                return general(self._tables)
            self._check_bounded()
            out: list[Table] = []
            for measurement, entries, _, wanted in self._plans():
                folds = self._fold(measurement, wanted, make)
                tags_of = {e.key: dict(e.tags) for e in entries}
                for key, f in sorted(folds):
                    fold, kind = folds[(key, f)]
                    if not fold.n:
                        continue
                    template = self._storage_table(measurement, tags_of.get(key, {}), f, [], [], kind)
                    result = finish(template, fold)
                    if result is not None:
                        budget().charge(TABLE_BYTES)  # its rows: one, or the window fold's (charged)
                        out.append(result)
            return out

        return Stream(produce, charged=True)

    def _present_values(
        self, measurement: str, wanted: dict[str, list[str]]
    ) -> Iterator[tuple[str, str, str, list, list]]:
        """(series key, field, field type, times, values) of each block's non-null values in range,
        block by block, for the wanted fields of each wanted series."""
        assert self.start is not None and self.stop is not None
        all_fields = set().union(*wanted.values())
        scan = self.interp.context.series.scan(
            self.bucket["id"], measurement, self.start, self.stop - 1, set(wanted), all_fields
        )
        for block in scan:
            budget().check()
            for key, cols in block.items():
                for f in wanted.get(key, ()):
                    column = cols.fields.get(f)
                    if column is None:
                        continue
                    values, times = column.values, cols.times
                    if None in values:
                        present = [v is not None for v in values]
                        times = list(compress(times, present))
                        values = list(compress(values, present))
                    yield key, f, column.type, times, values

    def _fold(
        self, measurement: str, wanted: dict[str, list[str]], make: Callable[[], Any]
    ) -> dict[tuple[str, str], list]:
        """(series key, field) -> [fold, field type] of the values in range, block by block."""
        folds: dict[tuple[str, str], list] = {}
        for key, f, kind, times, values in self._present_values(measurement, wanted):
            found = folds.get((key, f))
            if found is None:
                found = folds[(key, f)] = [make(), kind]
            found[1] = kind
            if values:
                found[0].add(times, values, FIELD_COLUMN_TYPES.get(kind, "string"))
        return folds

    def _accumulate(self, measurement: str, wanted: dict[str, list[str]]) -> dict[tuple[str, str], tuple]:
        """(series key, field) -> (times, values, field type) of every non-null value in range."""
        acc: dict[tuple[str, str], tuple[list, list, str]] = {}
        charge = budget().charge
        for key, f, kind, times, values in self._present_values(measurement, wanted):
            charge(len(times) * STORAGE_ROW_BYTES)  # before the table holds them
            found = acc.get((key, f))
            if found is None:
                found = acc[(key, f)] = ([], [], kind)
            elif found[2] != kind:
                found = acc[(key, f)] = (found[0], found[1], kind)
            found[0].extend(times)
            found[1].extend(values)
        return acc

    def _edges(
        self, measurement: str, wanted: dict[str, list[str]], last: bool
    ) -> dict[tuple[str, str], tuple]:
        """(series key, field) -> ([time], [value], field type) of the first (last) non-null value in
        range. Blocks come oldest (newest) first, each complete for the series it holds, so the first
        block with a value of a series' field has its answer; the store reads `remaining` afresh for
        every block, so a series whose fields are all answered is not read again."""
        assert self.start is not None and self.stop is not None
        missing = {key: set(fields) for key, fields in wanted.items()}
        remaining = set(wanted)
        acc: dict[tuple[str, str], tuple[list, list, str]] = {}
        scan = self.interp.context.series.scan(
            self.bucket["id"],
            measurement,
            self.start,
            self.stop - 1,
            remaining,
            set().union(*wanted.values()),
            descending=last,
        )
        try:
            for block in scan:
                budget().check()
                for key, cols in block.items():
                    fields = missing.get(key)
                    if not fields:
                        continue
                    for f in list(fields):
                        column = cols.fields.get(f)
                        if column is None:
                            continue
                        values = column.values
                        order = range(len(values) - 1, -1, -1) if last else range(len(values))
                        i = next((i for i in order if values[i] is not None), None)
                        if i is not None:
                            acc[(key, f)] = ([cols.times[i]], [values[i]], column.type)
                            fields.discard(f)
                    if not fields:
                        remaining.discard(key)
                if not remaining:
                    break
        finally:
            close = getattr(scan, "close", None)
            if close is not None:
                close()
        return acc


def _refs(predicate: Callable[[dict], Any]) -> set[str]:
    refs = getattr(predicate, "refs", None)
    return refs if refs is not None else {"_field", "_measurement", "*"}


def _maybe(predicate: Callable[[dict], Any], probe: dict) -> bool:
    """Whether a predicate can hold for a measurement; True when it reads more than `_measurement`."""
    refs = getattr(predicate, "refs", None)
    if refs is None or not refs <= {"_measurement"}:
        return True
    return bool(predicate(probe))


# -- predicate analysis ------------------------------------------------------------------------------


def references(body: ast.Node, param: str) -> set[str] | None:
    """Columns a function body reads from its record parameter; None if it uses the record whole."""
    refs: set[str] = set()
    members = set()
    for node in ast.walk(body):
        obj = getattr(node, "object", None)
        if isinstance(node, ast.MemberExpression) and isinstance(obj, ast.Identifier) and obj.name == param:
            members.add(id(obj))
            prop = node.property
            refs.add(prop.name if isinstance(prop, ast.Identifier) else prop.value)
    for node in ast.walk(body):
        if isinstance(node, ast.Identifier) and node.name == param and id(node) not in members:
            return None
        if isinstance(node, ast.FunctionExpression):
            return None  # a nested function may shadow the parameter: don't guess
    return refs


def conjuncts(body: ast.Node) -> list[ast.Node]:
    if isinstance(body, ast.LogicalExpression) and body.operator == "and":
        return conjuncts(body.left) + conjuncts(body.right)
    if isinstance(body, ast.ParenExpression):
        return conjuncts(body.expression)
    return [body]


def join_and(nodes: list[ast.Node]) -> ast.Node:
    out = nodes[0]
    for n in nodes[1:]:
        out = ast.LogicalExpression("and", out, n)
    return out


def split_pushable(interp: Interpreter, fn: Closure) -> tuple[list[Callable[[dict], Any]], Closure | None]:
    """Predicates over series (from the conjuncts that read only measurement, field and tags) and the
    rest of the filter (None when nothing is left)."""
    if len(fn.params) != 1 or isinstance(fn.body, ast.Block):
        return [], fn
    param = fn.params[0][0]
    pushed: list[Callable[[dict], Any]] = []
    rest: list[ast.Node] = []
    for c in conjuncts(fn.body):
        refs = references(c, param)
        if refs is not None and refs and not refs & NOT_PUSHABLE:
            pushed.append(_predicate(interp, Closure([(param, REQUIRED)], c, fn.scope), param, refs))
        else:
            rest.append(c)
    if not rest:
        return pushed, None
    return pushed, Closure([(param, REQUIRED)], join_and(rest), fn.scope)


def _predicate(interp: Interpreter, fn: Closure, param: str, refs: set[str]) -> Callable[[dict], Any]:
    def predicate(record: dict) -> bool:
        return bool(fn.call(interp, {param: record}))

    predicate.refs = refs  # type: ignore[attr-defined]
    predicate.tag_equals = _tag_equals(fn.body, param)  # type: ignore[attr-defined]
    return predicate


def _tag_equals(node: ast.Node, param: str) -> tuple[str, frozenset[str]] | None:
    """(tag, values) when the conjunct is `r.tag == "v"` (either side) or an `or` of such over one tag:
    a series it holds for has one of these values, so the index may read only theirs. No hint for `""`
    (no series has a posting of an empty value) nor `_`-prefixed columns (`_measurement`, `_field`)."""
    while isinstance(node, ast.ParenExpression):
        node = node.expression
    if isinstance(node, ast.LogicalExpression) and node.operator == "or":
        left, right = _tag_equals(node.left, param), _tag_equals(node.right, param)
        if left is None or right is None or left[0] != right[0]:
            return None
        return left[0], left[1] | right[1]
    if not (isinstance(node, ast.BinaryExpression) and node.operator == "=="):
        return None
    for member, value in ((node.left, node.right), (node.right, node.left)):
        if (
            isinstance(member, ast.MemberExpression)
            and isinstance(member.object, ast.Identifier)
            and member.object.name == param
            and isinstance(value, ast.StringLiteral)
            and value.value
        ):
            prop = member.property
            tag = prop.name if isinstance(prop, ast.Identifier) else getattr(prop, "value", None)
            if isinstance(tag, str) and not tag.startswith("_"):  # `_measurement`, `_field`: not tags
                return tag, frozenset((value.value,))
    return None


def _series_hint(predicates: tuple[Callable[[dict], Any], ...]) -> tuple[str, frozenset[str]] | None:
    return next((p.tag_equals for p in predicates if getattr(p, "tag_equals", None) is not None), None)
