"""SELECT execution: raw queries, aggregates/selectors per GROUP BY time window with fill, and
transformations, over measurements read block by block from the store (or over a subquery's rows).

Memory: a raw query holds its output rows; an aggregate query holds one reducer per (group, window,
call), never the points it reads (except the reducers that need every value, e.g. median). Both are
charged to the query's budget as they grow, which with influxd's max-select-point, max-select-series
and max-select-buckets (`Context.budget.limits`) bounds what one statement can hold."""

from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter
from typing import Any

from chalicelib.influxql import ast, conditions
from chalicelib.influxql.engine import functions as fn
from chalicelib.influxql.engine import plan as planner
from chalicelib.influxql.engine.context import (
    Context,
    Series,
    StatementError,
    measurement_matches,
    page,
    policy,
)
from chalicelib.influxql.engine.evaluate import evaluate
from chalicelib.influxql.engine.windows import Windows
from chalicelib.influxql.generator import generate
from chalicelib.kit.budget import Budget
from chalicelib.kit.time import MAX_TIME, MIN_TIME
from chalicelib.series.columns import SeriesColumns
from chalicelib.series.ports import TagEquals

# Estimated costs charged to the query's budget (CPython, measured roughly): a series listed from the
# index, a reducer of a window, a value of an output row (with its share of the row's tuple and list).
SERIES_BYTES = 512
WINDOW_BYTES = 256
VALUE_BYTES = 64
Scan = Callable[[int, int, set[str], set[str], bool], Iterator[dict[str, SeriesColumns]]]


@dataclass
class Data:
    """One measurement to read: its schema and a way to scan its points."""

    name: str
    field_types: dict[str, str]
    tags_of: dict[str, dict[str, str]]  # series key -> tags
    scan: Scan
    # the store's blocks: each series' times ascending and unique (a subquery's rows need not be)
    ordered: bool = True
    # the measurement's tag keys when tags_of holds only some of its series (read by a tag hint)
    known_tag_keys: list[str] | None = None

    @property
    def tag_keys(self) -> set[str]:
        """The tag keys of the measurement's series (those of tags_of, unless they are only some)."""
        if self.known_tag_keys is not None:
            return set(self.known_tag_keys)
        return {k for tags in self.tags_of.values() for k in tags}


def select(statement: ast.SelectStatement, context: Context) -> list[Series]:
    """Run a SELECT; result times in ns."""
    interval, offset = group_by_interval(statement)
    aggregate = planner.validate(statement, interval)
    tmin, tmax, condition = conditions.time_range(
        statement.condition, context.now, location=statement.location
    )
    if interval:
        if tmax == MAX_TIME:
            tmax = context.now
        if offset == -1:
            offset = context.now % interval
    windows = Windows(interval, offset, statement.location)
    if aggregate:
        _check_buckets(windows, tmin, tmax, context.budget.limits.max_select_buckets)
    sources = list(_sources(statement, context, condition))
    # `SELECT *` over several measurements: every series gets the union of their columns (as influxd)
    schema: tuple[dict[str, str], list[str]] | None = None
    if len(sources) > 1:
        union_fields: dict[str, str] = {}
        union_tags: set[str] = set()
        for data, _ in sources:
            for name, kind in data.field_types.items():
                held = union_fields.get(name)
                if held is None or _TYPE_RANK.get(kind, 99) < _TYPE_RANK.get(held, 99):
                    union_fields[name] = kind
            union_tags.update(data.tag_keys)
        schema = union_fields, sorted(union_tags)
    read_min, read_max, keep = _look_back(statement, windows, tmin, tmax)
    keyed: list[tuple[tuple[str, str], tuple[str, tuple[str, ...]], Series]] = []
    for data, low in sources:
        keyed.extend(
            _select_data(
                statement,
                context,
                data,
                aggregate,
                windows,
                max(read_min, low),
                read_min,
                read_max,
                condition,
                schema,
                keep,
            )
        )
    # influxd picks the SLIMIT/SOFFSET series in its tag-set order (a missing tag sorts first), then
    # answers them by measurement name and tag values; ORDER BY time DESC reverses both orders
    descending = not statement.time_ascending()
    if statement.slimit or statement.soffset:
        keyed.sort(key=lambda item: item[0], reverse=descending)
        keyed = page(keyed, statement.slimit, statement.soffset)
    keyed.sort(key=lambda item: item[1], reverse=descending)
    return [series for _, _, series in keyed]


# influxd's data types in their order: over several measurements a field gets the lowest of its types
_TYPE_RANK = {"float": 1, "integer": 2, "string": 3, "boolean": 4, "unsigned": 9}


def _tags_id(tags: dict[str, str]) -> str:
    """influxd's ordering key of a tag set: the keys with a value, then their values, NUL-separated."""
    keys = sorted(k for k, v in tags.items() if v)
    return "".join(k + "\0" for k in keys) + "".join(tags[k] + "\0" for k in keys)


# transformations of GROUP BY time() windows that influxd gives the window before the range as well
LOOK_BACK = {
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "moving_average",
    "elapsed",
}


def _look_back(
    statement: ast.SelectStatement, windows: Windows, tmin: int, tmax: int
) -> tuple[int, int, tuple[int, int] | None]:
    """(read from, read to, the query's own range when they differ) of a GROUP BY time() statement.

    influxd 1.6 reads one interval more for a derivative, difference, elapsed or moving average of
    windows (even `moving_average(.., n)` gets one only), so the first window in range has a previous
    one: before the start (time - interval, not aligned: it may be a partial window), or after the
    end for ORDER BY time DESC. Only those calls see the extra points (each call has its own
    iterator in influxd: `mean(x)` beside `derivative(mean(x))` keeps its partial first window), the
    windows are filled over the whole read, and the ones outside the query's range are dropped.
    Without a lower bound (ascending) there is nothing to extend."""
    no_change = tmin, tmax, None
    calls = (n for selected in statement.fields for n in ast.walk(selected.expr) if isinstance(n, ast.Call))
    if not windows.interval or not any(
        c.name in LOOK_BACK and c.args and isinstance(c.args[0], ast.Call) for c in calls
    ):
        return no_change
    if statement.time_ascending():
        if tmin == MIN_TIME:
            return no_change
        return tmin - windows.interval, tmax, (tmin, tmax)
    return tmin, tmax + windows.interval, (tmin, tmax)


def _slot_bounds(slots: list[planner.Slot], bounds: tuple[int, int] | None) -> list | None:
    """Per slot, the time range its reducers may see (None: all that is read); see `_look_back`."""
    if bounds is None:
        return None
    return [None if slot.transform in LOOK_BACK else bounds for slot in slots]


def _check_buckets(windows: Windows, tmin: int, tmax: int, limit: int) -> None:
    """influxd's max-select-buckets, checked before reading as influxd does: the GROUP BY time()
    windows between a lower time bound (none: no check) and the upper one."""
    if not limit or not windows.interval or tmin == MIN_TIME:
        return
    count = (windows.start(tmax - 1) - windows.start(tmin)) // windows.interval + 1  # influxd's count
    if count > limit:
        raise StatementError(f"max-select-buckets limit exceeded: ({count}/{limit})")


def group_by_interval(statement: ast.SelectStatement) -> tuple[int, int]:
    try:
        return statement.group_by_interval()
    except ValueError as exc:
        raise StatementError(str(exc)) from exc


# -- sources ---------------------------------------------------------------------------------------


def _sources(
    statement: ast.SelectStatement, context: Context, condition: ast.Expr | None
) -> Iterator[tuple[Data, int]]:
    for source in statement.sources:
        if isinstance(source, ast.SubQuery):
            inner = _with_outer_dimensions(source.statement, statement)
            yield from ((data, MIN_TIME) for data in _subquery(inner, context))
            continue
        assert isinstance(source, ast.Measurement)
        rp = policy(context, source.database, source.retention_policy)
        if source.regex is not None:
            names = sorted(
                n for n in context.series.measurements(rp.namespace) if measurement_matches(source, n)
            )
        else:
            names = [source.name]
        cutoff = rp.cutoff(context.now)
        for name in names:
            field_types = context.series.field_types(rp.namespace, name)
            if not field_types:  # no such measurement: an empty result, as influxd gives
                continue
            known_tag_keys, hint = _tag_hint(context, rp.namespace, name, condition, field_types)
            entries = context.series.series(rp.namespace, name, hint)
            tags_of = {e.key: dict(e.tags) for e in entries}
            context.budget.charge(len(tags_of) * SERIES_BYTES)

            def scan(lo, hi, keys, fields, descending, _ns=rp.namespace, _name=name):
                return context.read(
                    context.series.scan(_ns, _name, lo, hi, keys, fields, descending=descending)
                )

            data = Data(name, field_types, tags_of, scan, known_tag_keys=known_tag_keys)
            yield data, MIN_TIME if cutoff is None else cutoff


def _tag_hint(
    context: Context,
    namespace: str,
    measurement: str,
    condition: ast.Expr | None,
    field_types: dict[str, str],
) -> tuple[list[str] | None, TagEquals | None]:
    """(the measurement's tag keys, a hint for the index) when the condition pins a tag to a few values
    and the index tells the tag keys without reading every series; else (None, None).

    The tag keys are what the whole measurement has (wildcards, GROUP BY * and the tag/field split read
    them), not only the hinted series'. The hinted term must decide series the way _select_data does:
    a `::tag` ref always reads the tag; an unhinted one only when it names a tag key and no field (a
    field or an unknown name is decided per row, where the hint would not hold)."""
    pinned = conditions.tag_equals(condition)
    if pinned is None:
        return None, None
    ref, values = pinned
    if ref.type not in ("", "tag"):
        return None, None
    tag_keys = context.series.tag_keys(namespace, measurement)
    if tag_keys is None:
        return None, None
    if ref.type == "" and (ref.val not in tag_keys or ref.val in field_types):
        return None, None
    return tag_keys, (ref.val, values)


def _with_outer_dimensions(inner: ast.SelectStatement, outer: ast.SelectStatement) -> ast.SelectStatement:
    """influxd groups a subquery by the outer query's GROUP BY tags as well."""
    known = {generate(d.expr) for d in inner.dimensions}
    extra = [
        d
        for d in outer.dimensions
        if isinstance(d.expr, ast.VarRef | ast.Wildcard | ast.RegexLiteral) and generate(d.expr) not in known
    ]
    if not extra:
        return inner
    return dataclasses.replace(inner, dimensions=[*inner.dimensions, *extra])


def _subquery(statement: ast.SelectStatement, context: Context) -> list[Data]:
    """The inner statement's series, as measurements of one block each (columns become fields)."""
    inner = select(statement, context)
    by_name: dict[str, list[Series]] = {}
    for series in inner:
        by_name.setdefault(series["name"], []).append(series)
    out = []
    for name, group in by_name.items():
        field_types: dict[str, str] = {}
        tags_of: dict[str, dict[str, str]] = {}
        block: dict[str, SeriesColumns] = {}
        for i, series in enumerate(group):
            tags = series.get("tags", {})
            key = f"{i:08d}"
            tags_of[key] = tags
            columns = series["columns"][1:]
            cols = SeriesColumns([row[0] for row in series.get("values", [])], {})
            for j, column in enumerate(columns):
                values = [row[j + 1] for row in series.get("values", [])]
                kind = next((_kind(v) for v in values if v is not None), None)
                if kind is None:
                    continue
                field_types.setdefault(column, kind)
                from chalicelib.series.columns import Column

                cols.fields[column] = Column(kind, values)
            block[key] = cols
        blocks = [block]

        def scan(lo, hi, keys, fields, descending, _blocks=blocks):
            for blk in _blocks:
                out_block = {}
                for key, cols in blk.items():
                    if keys is not None and key not in keys:
                        continue
                    idx = [i for i, t in enumerate(cols.times) if lo <= t <= hi]
                    from chalicelib.series.columns import Column

                    out_block[key] = SeriesColumns(
                        [cols.times[i] for i in idx],
                        {n: Column(c.type, [c.values[i] for i in idx]) for n, c in cols.fields.items()},
                    )
                yield out_block

        out.append(Data(name, field_types, tags_of, scan, ordered=False))
    return out


def _kind(value: Any) -> str:
    if type(value) is bool:
        return "boolean"
    if type(value) is int:
        return "integer"
    if type(value) is float:
        return "float"
    return "string"


# -- one measurement --------------------------------------------------------------------------------


@dataclass
class _Group:
    rows: list = field(default_factory=list)  # raw: (time, key, values)
    windows: dict[int, dict[int, fn.Reducer]] = field(default_factory=dict)  # window -> slot -> reducer
    transforms: dict[int, fn.Transform] = field(default_factory=dict)  # raw transforms per slot
    outputs: dict[int, list] = field(default_factory=dict)  # raw transform outputs per slot


def _select_data(
    statement: ast.SelectStatement,
    context: Context,
    data: Data,
    aggregate: bool,
    windows: Windows,
    low: int,
    tmin: int,
    tmax: int,
    condition: ast.Expr | None,
    schema: tuple[dict[str, str], list[str]] | None = None,
    keep: tuple[int, int] | None = None,
) -> list[tuple[tuple[str, str], tuple[str, tuple[str, ...]], Series]]:
    field_types = data.field_types
    if schema is not None:  # a field of another type than the union's is not read here (influxd)
        field_types = {
            name: kind
            for name, kind in field_types.items()
            if kind == schema[0].get(name) or (kind == "integer" and schema[0].get(name) == "float")
        }
    tag_keys = sorted(data.tag_keys)
    group_keys = _group_keys(statement, tag_keys)
    plan = planner.plan(
        statement, aggregate, windows.interval, field_types, tag_keys, schema=schema, grouped=group_keys
    )

    def is_field_ref(ref: ast.VarRef) -> bool:
        if ref.type == "tag":
            return False
        return ref.type == "field" or ref.val in field_types or ref.val not in tag_keys

    if not aggregate and not any(
        isinstance(n, ast.VarRef) and is_field_ref(n) for c in plan.columns for n in ast.walk(c.expr)
    ):
        if any(isinstance(f.expr, ast.Wildcard | ast.RegexLiteral) for f in statement.fields):
            return []  # a wildcard that matched no field (`*::tag`): an empty result, as influxd gives
        raise StatementError("statement must have at least one field in select clause")

    def is_tag(name: str) -> bool:
        return name in tag_keys and name not in field_types

    tag_condition, field_condition = (
        conditions.split_condition(condition, is_tag) if condition is not None else (None, None)
    )
    wanted = {
        key
        for key, tags in data.tags_of.items()
        if tag_condition is None or conditions.eval_condition(tag_condition, tags)
    }
    if not wanted:
        return []
    context.select_series(len(wanted))
    budget = context.budget
    if aggregate:
        selected = {s.field for s in plan.slots}
    else:
        selected = {
            n.val
            for c in plan.columns
            for n in ast.walk(c.expr)
            if isinstance(n, ast.VarRef) and is_field_ref(n)
        }
    selected &= set(field_types)
    needed = set(selected)
    if plan.aux:
        needed |= {n.val for c in plan.columns for n in ast.walk(c.expr) if isinstance(n, ast.VarRef)} & set(
            field_types
        )
        needed |= {t for s in plan.slots for t in s.tags} & set(field_types)
    if field_condition is not None:
        needed |= {r.val for r in ast.walk(field_condition) if isinstance(r, ast.VarRef)} & set(field_types)
    if not selected:
        return []
    descending = not statement.time_ascending()
    groups: dict[tuple[str, ...], _Group] = {}

    def consume(group: tuple[str, ...], points: list) -> None:
        state = groups.setdefault(group, _Group())
        if aggregate:
            before = len(state.windows)
            _feed(plan, state, points, windows, descending, keep)
            budget.charge((len(state.windows) - before) * WINDOW_BYTES * len(plan.slots))
        else:
            budget.charge(len(points) * VALUE_BYTES * (len(plan.columns) + 1))
            state.rows.extend(
                (time, key, [_raw_value(c.expr, tags, fields, is_field_ref) for c in plan.columns])
                for time, key, tags, fields in points
            )

    if aggregate and data.ordered and _columnar(plan, field_condition):
        for group_of, cols in _columnar_blocks(plan, data, group_keys, windows, low, tmax, wanted, needed):
            state = groups.setdefault(group_of, _Group())
            before = len(state.windows)
            _feed_columns(plan, state, cols, windows, keep)
            budget.charge((len(state.windows) - before) * WINDOW_BYTES * len(plan.slots))
        wanted = set()  # read already
    for block in data.scan(low, tmax, wanted, needed, descending) if wanted else ():
        block_points: dict[tuple[str, ...], list] = {}
        for key, cols in block.items():
            tags = data.tags_of.get(key, {})
            group = tuple(tags.get(k, "") for k in group_keys)
            block_points.setdefault(group, []).extend(
                _points(key, cols, tags, selected, field_condition, field_types)
            )
        for group, points in block_points.items():
            points.sort(key=lambda p: (p[0], p[1]), reverse=descending)
            consume(group, points)
    series = []
    for group in groups:
        state = groups[group]
        if aggregate:
            rows = _aggregate_rows(
                plan, state, statement, windows, tmin, tmax, descending, context.budget, field_types
            )
            if keep is not None:  # windows read before (after) the range only for `_look_back`
                first, last = windows.start(keep[0]), windows.start(keep[1])
                rows = [row for row in rows if first <= row[0] <= last]
        else:
            rows = [[time, *values] for time, _, values in state.rows]
        rows = page(rows, statement.limit, statement.offset)
        if not rows:
            continue
        item: Series = {"name": data.name}
        if group_keys:
            item["tags"] = dict(zip(group_keys, group, strict=True))
        item["columns"] = [plan.time_name, *(c.name for c in plan.columns)]
        item["values"] = rows
        tags_id = _tags_id(dict(zip(group_keys, group, strict=True)))
        series.append(((data.name, tags_id), (data.name, group), item))
    return series


def _columnar(plan: planner.Plan, field_condition: ast.Expr | None) -> bool:
    """Whether every call reduces plain field values per window, so a series' columns can be fed
    a window's run at a time instead of point by point (no transform of raw points, no auxiliary
    fields or tags, no condition on fields)."""
    return not plan.aux and field_condition is None and all(slot.name for slot in plan.slots)


def _columnar_blocks(
    plan: planner.Plan,
    data: Data,
    group_keys: list[str],
    windows: Windows,
    low: int,
    tmax: int,
    wanted: set[str],
    needed: set[str],
) -> Iterator[tuple[tuple[str, ...], SeriesColumns]]:
    """(group, columns) of each wanted series, block by block. When every call is `last` (`first`)
    without GROUP BY time, blocks are read newest (oldest) first and a series stops being read once
    each called field has a value: no older (newer) block can change its answer."""
    names = {slot.name for slot in plan.slots}
    early = not windows.interval and names in ({"last"}, {"first"})
    remaining = set(wanted)  # the store reads the keys afresh for every block
    fields = {slot.field for slot in plan.slots}
    for block in data.scan(low, tmax, remaining, needed, early and names == {"last"}):
        for key, cols in block.items():
            tags = data.tags_of.get(key, {})
            yield tuple(tags.get(k, "") for k in group_keys), cols
            if early and all(_has_value(cols, name) for name in fields):
                remaining.discard(key)
        if early and not remaining:
            return


def _has_value(cols: SeriesColumns, name: str) -> bool:
    column = cols.fields.get(name)
    return column is not None and any(v is not None for v in column.values)


def _feed_columns(
    plan: planner.Plan,
    state: _Group,
    cols: SeriesColumns,
    windows: Windows,
    bounds: tuple[int, int] | None = None,
) -> None:
    """Feed one series' columns of a block to its group's reducers, one window's run at a time."""
    limits = _slot_bounds(plan.slots, bounds)
    for index, slot in enumerate(plan.slots):
        column = cols.fields.get(slot.field)
        if column is None:
            continue
        times, values = cols.times, column.values
        if limits is not None and (limit := limits[index]) is not None:
            lo, hi = bisect_left(times, limit[0]), bisect_right(times, limit[1])
            times, values = times[lo:hi], values[lo:hi]
        if None in values:
            present = [v is not None for v in values]
            times, values = list(compress(times, present)), list(compress(values, present))
        by_window = state.windows
        for window, lo, hi in windows.runs(times):
            reducers = by_window.get(window)
            if reducers is None:
                reducers = by_window[window] = {}
            reducer = reducers.get(index)
            if reducer is None:
                reducer = reducers[index] = slot.reducer(None)
            reducer.add_many(times[lo:hi], values[lo:hi])


def _group_keys(statement: ast.SelectStatement, tag_keys: list[str]) -> list[str]:
    keys: list[str] = []
    for dimension in statement.dimensions:
        expr = dimension.expr
        if isinstance(expr, ast.Wildcard):
            keys.extend(tag_keys)
        elif isinstance(expr, ast.VarRef):
            keys.append(expr.val)
        elif isinstance(expr, ast.RegexLiteral):
            keys.extend(k for k in tag_keys if expr.compiled.search(k))
    return sorted(set(keys))


def _points(key, cols, tags, selected, field_condition, field_types):
    """(time, key, tags, fields) for each point of a series carrying a selected field."""
    columns = [(name, col.values) for name, col in cols.fields.items()]
    for i, time in enumerate(cols.times):
        fields = {name: values[i] for name, values in columns if values[i] is not None}
        if not any(name in fields for name in selected):
            continue
        if field_condition is not None and not conditions.eval_condition(
            field_condition, tags, fields, field_keys=field_types
        ):
            continue
        yield time, key, tags, fields


def cast(value: Any, kind: str) -> Any:
    """A field value read through `::integer` / `::float` / `::string` / `::boolean`: integers may be
    read as floats, any other mismatch gives null (as influxd)."""
    if value is None or kind not in ("integer", "float", "string", "boolean"):
        return value
    if kind == "float":
        if type(value) is int:
            return float(value)
        return value if type(value) is float else None
    expected = {"integer": int, "string": str, "boolean": bool}[kind]
    return value if type(value) is expected else None


def _raw_value(expr: ast.Expr, tags, fields, is_field_ref) -> Any:
    def lookup(node: ast.Expr) -> Any:
        if isinstance(node, ast.VarRef):
            if is_field_ref(node):
                return cast(fields.get(node.val), node.type)
            return tags.get(node.val)
        return None

    if isinstance(expr, ast.VarRef):
        return lookup(expr)

    return evaluate(expr, lookup)


# -- aggregation -----------------------------------------------------------------------------------


def _feed(
    plan: planner.Plan,
    state: _Group,
    points: list,
    windows: Windows,
    descending: bool,
    bounds: tuple[int, int] | None = None,
) -> None:
    slots = plan.slots
    limits = _slot_bounds(slots, bounds)
    for time, _key, tags, fields in points:
        window = windows.start(time)
        for index, slot in enumerate(slots):
            value = fields.get(slot.field)
            if value is None:
                continue
            if (
                limits is not None
                and (limit := limits[index]) is not None
                and not limit[0] <= time <= limit[1]
            ):
                continue
            if not slot.name:  # a transformation of raw points
                transform = state.transforms.get(index)
                if transform is None:
                    transform = state.transforms[index] = fn.Transform(
                        slot.transform, slot.unit, slot.window, not descending, slot.technical
                    )
                out = state.outputs.setdefault(index, [])
                out.extend((t, v, None) for t, v in transform.push(time, value))
                continue
            reducers = state.windows.get(window)
            if reducers is None:
                reducers = state.windows[window] = {}
            reducer = reducers.get(index)
            if reducer is None:
                reducer = reducers[index] = slot.reducer(None)
            aux = None
            if plan.aux:
                aux = (tuple(tags.get(t, fields.get(t)) for t in slot.tags), tags, fields)
            reducer.add(time, value, aux)


def _aggregate_rows(
    plan: planner.Plan,
    state: _Group,
    statement: ast.SelectStatement,
    windows: Windows,
    tmin: int,
    tmax: int,
    descending: bool,
    budget: Budget,
    field_types: dict[str, str] | None = None,
) -> list[list]:
    interval = windows.interval
    slots = plan.slots
    single_selector = (
        not interval and len(slots) == 1 and slots[0].name in fn.SELECTORS and not slots[0].transform
    )
    present = sorted(state.windows)
    if interval and present and statement.fill != "none":
        first = windows.start(tmin) if tmin != MIN_TIME else present[0]
        last = windows.start(tmax)
        count = (last - windows.start(first)) // interval + 1
        limit = budget.limits.max_select_buckets
        # without a lower time bound influxd checks nothing (`_check_buckets`); filled from the first
        # point on, the windows are counted here
        if limit and tmin == MIN_TIME and count > limit:
            raise StatementError(f"max-select-buckets limit exceeded: ({count}/{limit})")
        budget.ensure(count * len(slots) * VALUE_BYTES)
        order = windows.range(first, last)
    else:
        order = present
    if descending:
        order = list(reversed(order))
    no_interval_time = 0 if tmin == MIN_TIME else tmin
    per_slot: list[list] = []
    for index, slot in enumerate(slots):
        if not slot.name:
            per_slot.append(state.outputs.get(index, []))
            continue
        fill = statement.fill if interval and not slot.keeps_point_time else "none"
        fill_value = statement.fill_value
        # count() fills with 0, but a field the measurement lacks (`count(*)` over several of them)
        # has no iterator in influxd, so its windows stay null
        if fill == "null" and slot.name == "count" and (field_types is None or slot.field in field_types):
            fill, fill_value = "number", 0
        sequence: list[tuple[int, list | None]] = []
        streamed = None
        if slot.name == "integral" and interval and not descending:
            streamed = _integral_by_window(state, index, windows, slot.unit or 1_000_000_000)
        for window in order:
            if streamed is not None:
                total = streamed.get(window)
                sequence.append((window, None if total is None else [(None, total, None)]))
                continue
            reducer = state.windows.get(window, {}).get(index)
            sequence.append((window, reducer.result() if reducer is not None else None))
        points = _fill(sequence, fill, fill_value)
        keep_time = slot.keeps_point_time or single_selector
        timed = []
        # influxd stamps integral() without GROUP BY time with the epoch, not the query's start
        unbounded_time = 0 if slot.name == "integral" else no_interval_time
        for window, (t, v, aux) in points:
            if t is None or not keep_time:
                t = window if interval else unbounded_time
            timed.append((t, v, aux))
        if slot.transform:
            transform = fn.Transform(slot.transform, slot.unit, slot.window, not descending, slot.technical)
            timed = [(t2, v2, None) for t, v, _ in timed for t2, v2 in transform.push(t, v)]
        per_slot.append(timed)
        budget.charge(len(timed) * VALUE_BYTES)
    return _zip(plan, per_slot, descending)


def _integral_by_window(state: _Group, index: int, windows: Windows, unit: int) -> dict[int, float]:
    """integral() with GROUP BY time as influxd streams it: the area up to a window's end is
    interpolated linearly towards the next point, and the rest of that segment counts in the window
    of that next point."""
    points: list[tuple[int, float]] = []
    for window in sorted(state.windows):
        reducer = state.windows[window].get(index)
        if isinstance(reducer, fn.Integral):
            points.extend(reducer.points)
    points.sort(key=lambda p: p[0])
    out: dict[int, float] = {}
    if not points:
        return out
    prev_t, prev_v = points[0]
    start = windows.start(prev_t)
    end = start + windows.interval
    total = 0.0
    for t, v in points[1:]:
        if t == prev_t:
            prev_v = v
            continue
        if t >= end:
            if prev_t != end:
                value = prev_v + (v - prev_v) * (end - prev_t) / (t - prev_t)
                total += 0.5 * (value + prev_v) * (end - prev_t) / unit
                prev_t, prev_v = end, value
            out[start] = total
            start = windows.start(t)
            end = start + windows.interval
            total = 0.0
        total += 0.5 * (v + prev_v) * (t - prev_t) / unit
        prev_t, prev_v = t, v
    out[start] = total
    return out


def _fill(sequence: list[tuple[int, list | None]], fill: str, value: Any) -> list[tuple[int, tuple]]:
    out: list[tuple[int, tuple]] = []
    previous: Any = None
    for i, (window, points) in enumerate(sequence):
        if points is not None:
            if len(points) == 1:
                out.append((window, points[0]))
            else:
                out.extend((window, p) for p in points)
            if points and points[-1][1] is not None:
                previous = points[-1][1]
            continue
        if fill == "none":
            continue
        if fill == "null":
            out.append((window, (None, None, None)))
        elif fill == "number":
            out.append((window, (None, value, None)))
        elif fill == "previous":
            out.append((window, (None, previous, None)))
        elif fill == "linear":
            out.append((window, (None, _linear(sequence, i), None)))
    return out


def _linear(sequence: list[tuple[int, list | None]], i: int) -> Any:
    before = next(((w, p[-1][1]) for w, p in reversed(sequence[:i]) if p and p[-1][1] is not None), None)
    after = next(((w, p[0][1]) for w, p in sequence[i + 1 :] if p and p[0][1] is not None), None)
    if before is None or after is None:
        return None
    (x0, y0), (x1, y1) = before, after
    if type(y0) not in (int, float) or type(y1) not in (int, float):
        return None
    x = sequence[i][0]
    m = float(y1 - y0) / float(x1 - x0)
    result = m * float(x - x0) + float(y0)
    return int(result) if type(y0) is int and type(y1) is int else result


def _zip(plan: planner.Plan, per_slot: list[list], descending: bool) -> list[list]:
    """Rows by time: the k-th point of every slot at a time forms that time's k-th row."""
    if len(per_slot) == 1 and all(plan.slot_of.get(id(c.expr)) == 0 for c in plan.columns):
        # one call, shown as it is: its points are the rows (a stable sort keeps ties in order)
        width = len(plan.columns)
        ordered = sorted(per_slot[0], key=itemgetter(0), reverse=descending)
        return [[time, *([value] * width)] for time, value, _ in ordered]
    by_time: dict[int, list[list]] = {}
    for index, points in enumerate(per_slot):
        for point in points:
            slots_at = by_time.get(point[0])
            if slots_at is None:
                slots_at = by_time[point[0]] = [[] for _ in per_slot]
            slots_at[index].append(point)
    rows = []
    for time in sorted(by_time, reverse=descending):
        slots_at = by_time[time]
        for k in range(max(len(s) for s in slots_at)):
            chosen = [s[k] if k < len(s) else None for s in slots_at]
            aux = next((p[2] for p in chosen if p is not None and p[2] is not None), None)

            def lookup(expr: ast.Expr, chosen=chosen, aux=aux) -> Any:
                if isinstance(expr, ast.Call):
                    point = chosen[plan.slot_of[id(expr)]]
                    return None if point is None else point[1]
                if isinstance(expr, ast.VarRef) and aux is not None:
                    _, tags, fields = aux
                    if expr.type != "tag" and expr.val in fields:
                        return fields[expr.val]
                    return tags.get(expr.val)
                return None

            rows.append([time, *(evaluate(c.expr, lookup) for c in plan.columns)])
    return rows
