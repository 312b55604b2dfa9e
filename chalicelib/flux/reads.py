"""`from()` as a lazy stream that `range()` and `filter()` narrow before anything is read.

`range` bounds the scan; every conjunct of a `filter` predicate that reads only `_measurement`, `_field`
and tags is evaluated once per (series, field) of the index, so the scan asks the store for only the
matching series keys and fields. Such a conjunct is then true of every row read and is not evaluated
again. Storage tables: one per series and field, group key `_start,_stop,_field,_measurement` + tags,
columns `_start,_stop,_time,_value,_field,_measurement`, then the tags sorted, in series key order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.flux import ast
from chalicelib.flux.interpreter import REQUIRED, Closure, Interpreter
from chalicelib.flux.tables import FIELD_COLUMN_TYPES, Stream, Table
from chalicelib.flux.values import FluxError

NOT_PUSHABLE = {"_time", "_value", "_start", "_stop"}


class FromStream(Stream):
    def __init__(
        self,
        interp: Interpreter,
        bucket: dict,
        start: int | None = None,
        stop: int | None = None,
        predicates: tuple[Callable[[dict], Any], ...] = (),
    ) -> None:
        super().__init__(self._read)
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
        if self.start is None or self.stop is None:
            raise FluxError(
                f'cannot submit unbounded read to "{self.bucket["name"]}"; '
                "try bounding 'from' with a call to 'range'"
            )
        source = self.interp.context.source
        ns = self.bucket["id"]
        start, stop = self.start, self.stop
        tables: list[Table] = []
        if stop <= start:
            return tables
        for measurement in sorted(source.measurements(ns)):
            # a measurement-only predicate rules a measurement out before its series are listed
            probe = {"_measurement": measurement}
            if not all(_maybe(p, probe) for p in self.predicates):
                continue
            field_types = source.field_types(ns, measurement)
            entries = source.series(ns, measurement)
            wanted = self.selected(measurement, entries, field_types)
            if not wanted:
                continue
            tags_of = {e.key: dict(e.tags) for e in entries}
            all_fields = set().union(*wanted.values())
            acc: dict[tuple[str, str], tuple[list, list, list]] = {}
            for block in source.scan(ns, measurement, start, stop - 1, set(wanted), all_fields):
                for key, cols in block.items():
                    for f in wanted.get(key, ()):
                        column = cols.fields.get(f)
                        if column is None:
                            continue
                        times, values, kind = acc.setdefault((key, f), ([], [], [column.type]))
                        kind[0] = column.type
                        for t, v in zip(cols.times, column.values, strict=True):
                            if v is not None:
                                times.append(t)
                                values.append(v)
            for key, f in sorted(acc):
                times, values, kind = acc[(key, f)]
                if not times:
                    continue
                tags = tags_of.get(key, {})
                tag_names = sorted(tags)
                n = len(times)
                columns = [
                    ("_start", "time"),
                    ("_stop", "time"),
                    ("_time", "time"),
                    ("_value", FIELD_COLUMN_TYPES.get(kind[0], "string")),
                    ("_field", "string"),
                    ("_measurement", "string"),
                ] + [(t, "string") for t in tag_names]
                data = [[start] * n, [stop] * n, times, values, [f] * n, [measurement] * n]
                data += [[tags[t]] * n for t in tag_names]
                keyvals = {"_start": start, "_stop": stop, "_field": f, "_measurement": measurement}
                keyvals.update(tags)
                key_names = ["_start", "_stop", "_field", "_measurement", *tag_names]
                tables.append(Table(columns, data, key_names, keyvals))
        return tables


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
    return predicate
