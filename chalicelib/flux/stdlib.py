"""The Flux functions tickless implements: the universe (table transformations, aggregates, selectors,
conversions) and the packages `strings`, `regexp`, `math`, `date`, `array`, `profiler`,
`influxdata/influxdb` and its `schema` and `v1`. Known Flux functions that are not implemented raise
`function X is not supported`."""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Callable, Iterable
from itertools import islice
from operator import le
from typing import Any

from chalicelib.flux import folds, reads
from chalicelib.flux.interpreter import Closure, Function, Interpreter, builtin
from chalicelib.flux.tables import (
    Stream,
    Table,
    column_type_of,
    from_records,
    key_sort_value,
    normalize_key,
    to_column_value,
)
from chalicelib.flux.values import (
    MAX_NS,
    MIN_NS,
    NS_PER_UNIT,
    Duration,
    FluxError,
    Time,
    add_duration,
    compile_regex,
    format_float,
    parse_time,
    to_string,
    type_name,
)
from chalicelib.kit.points import UInt

UNIVERSE: dict[str, Any] = {"true": True, "false": False}
PACKAGES: dict[str, dict[str, Any]] = {}


def register(table: dict[str, Any], *fns: Any) -> None:
    for fn in fns:
        table[fn.name.rsplit(".", 1)[-1]] = fn


def universe(name: str, params: str = "", required: str = "", pipe: str | None = "tables"):
    def wrap(impl):
        fn = builtin(name, params, required, pipe)(impl)
        UNIVERSE[name] = fn
        return fn

    return wrap


def package(path: str, name: str, params: str = "", required: str = "", pipe: str | None = None):
    def wrap(impl):
        fn = builtin(f"{path.rsplit('/', 1)[-1]}.{name}", params, required, pipe)(impl)
        PACKAGES.setdefault(path, {})[name] = fn
        return fn

    return wrap


# -- argument helpers --------------------------------------------------------------------------------


def stream_of(v: Any, fname: str) -> Stream:
    if not isinstance(v, Stream):
        raise FluxError(f"{fname}: expected a stream of tables, got {type_name(v)}")
    return v


def time_arg(interp: Interpreter, v: Any, name: str) -> int:
    if isinstance(v, Time):
        return v.ns
    if isinstance(v, Duration):
        return add_duration(interp.now(), v)
    if isinstance(v, int) and not isinstance(v, bool):
        return v * 1_000_000_000
    if isinstance(v, str):
        return parse_time(v)
    raise FluxError(f"{name}: expected a time or a duration, got {type_name(v)}")


def duration_arg(v: Any, name: str) -> Duration:
    if isinstance(v, Duration):
        return v
    if isinstance(v, str):
        from chalicelib.flux.tokens import parse_duration_text
        from chalicelib.flux.values import duration_of

        return duration_of(parse_duration_text(v))
    raise FluxError(f"{name}: expected a duration, got {type_name(v)}")


def str_list(v: Any, name: str) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise FluxError(f"{name} must be an array of strings")
    return v


def record_fn(interp: Interpreter, fn: Any, name: str = "fn") -> Callable[[dict], Any]:
    if not isinstance(fn, Function):
        raise FluxError(f"{name} must be a function")
    if isinstance(fn, Closure):
        params = [p for p, _ in fn.params]
        if len(params) != 1:
            # e.g. (r, index) or fill-like helpers: pass the record as the first parameter
            first = params[0] if params else "r"
            return lambda r: fn.call(interp, {first: r})
        param = params[0]
        return lambda r: fn.call(interp, {param: r})
    return lambda r: fn.call(interp, {"r": r})


def per_table(tables: Any, fname: str, fn: Callable[[Table], Table | None]) -> Stream:
    return stream_of(tables, fname).map_tables(fn)


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


def not_supported(name: str):
    def impl(interp, **kwargs):
        raise FluxError(f"function {name} is not supported")

    fn = builtin(name, "", "", None)(impl)
    fn.call = lambda interp, args, pipe=None: impl(interp)  # type: ignore[method-assign]
    return fn


for _name in (
    "integral",
    "holtWinters",
    "histogram",
    "histogramQuantile",
    "exponentialMovingAverage",
    "timedMovingAverage",
    "kaufmansAMA",
    "chandeMomentumOscillator",
    "relativeStrengthIndex",
    "pearsonr",
    "cov",
    "covariance",
    "stateCount",
    "stateDuration",
    "hourSelection",
    "lowestAverage",
    "highestAverage",
    "highestMax",
    "lowestMin",
    "highestCurrent",
    "lowestCurrent",
    "sample",
    "mode",
    "tripleEMA",
    "doubleEMA",
    "truncateTimeColumn",
    "keyValues",
    "sleep",
    "experimental",
    "display",
    "chandeMomentumOscillator",
):
    UNIVERSE[_name] = not_supported(_name)


# -- sources -----------------------------------------------------------------------------------------


@universe("from", "bucket bucketID host org orgID token", "", None)
def from_(interp: Interpreter, bucket=None, bucketID=None, host=None, org=None, orgID=None, token=None):
    if host is not None or token is not None:
        raise FluxError("from: reading from a remote host is not supported")
    if bucket is None and bucketID is None:
        raise FluxError("from: specify one of bucket or bucketID")
    source = interp.context.source
    if source is None:
        raise FluxError("from: no data source")
    return reads.FromStream(interp, source.bucket(bucket, bucketID))


@universe("buckets", "org orgID host token", "", None)
def buckets_(interp: Interpreter, org=None, orgID=None, host=None, token=None):
    def produce() -> list[Table]:
        docs = interp.context.source.buckets()
        cols = [
            ("name", "string"),
            ("id", "string"),
            ("organizationID", "string"),
            ("retentionPolicy", "string"),
            ("retentionPeriod", "int"),
        ]
        data: list[list] = [[] for _ in cols]
        for d in docs:
            rules = d.get("retentionRules") or []
            period = int(rules[0].get("everySeconds", 0)) * 1_000_000_000 if rules else 0
            for col, v in zip(data, (d["name"], d["id"], d["orgID"], None, period), strict=True):
                col.append(v)
        return [Table(cols, data, [], {})]

    return Stream(produce)


@package("array", "from", "rows", "rows")
def array_from(interp: Interpreter, rows):
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise FluxError("array.from: rows must be an array of records")
    return Stream(tables=from_records(rows, []))


# -- yield, range, filter ----------------------------------------------------------------------------


@universe("yield", "name")
def yield_(interp: Interpreter, tables, name="_result"):
    stream = stream_of(tables, "yield")
    if any(n == name for n, _ in interp.results):
        raise FluxError(f'found duplicate yield name "{name}"')
    interp.results.append((name, stream))
    out = Stream(stream.tables)
    out.yielded = True  # type: ignore[attr-defined]
    return out


@universe("range", "start stop timeColumn startColumn stopColumn", "start")
def range_(
    interp: Interpreter,
    tables,
    start,
    stop=None,
    timeColumn="_time",
    startColumn="_start",
    stopColumn="_stop",
):
    start_ns = time_arg(interp, start, "range start")
    stop_ns = time_arg(interp, stop, "range stop") if stop is not None else interp.now()
    start_ns = max(start_ns, MIN_NS)
    stop_ns = min(stop_ns, MAX_NS)
    if isinstance(tables, reads.FromStream) and tables.start is None and timeColumn == "_time":
        return tables.bounded(start_ns, stop_ns)

    def bound(t: Table) -> Table | None:
        times = t.col(timeColumn)
        keep = [i for i, v in enumerate(times) if v is not None and start_ns <= v < stop_ns]
        out = t.take(keep)
        out.set_key_constant(startColumn, "time", start_ns)
        out.set_key_constant(stopColumn, "time", stop_ns)
        return normalize_key(out) if out.n else None

    return Stream(lambda: regroup_same([bound(t) for t in stream_of(tables, "range").tables()]))


def regroup_same(tables: list[Table | None]) -> list[Table]:
    return [t for t in tables if t is not None]


@universe("filter", "fn onEmpty", "fn")
def filter_(interp: Interpreter, tables, fn, onEmpty="drop"):
    stream = stream_of(tables, "filter")
    if isinstance(stream, reads.FromStream) and isinstance(fn, Closure):
        pushed, rest = reads.split_pushable(interp, fn)
        if pushed:
            stream = stream.narrowed(pushed)
        if rest is None:
            return stream
        fn = rest
    if not isinstance(fn, Function):
        raise FluxError("filter: fn must be a function")
    param = fn.params[0][0] if isinstance(fn, Closure) and fn.params else "r"
    refs = reads.references(fn.body, param) if isinstance(fn, Closure) else None

    def apply(t: Table) -> Table | None:
        if refs is not None and refs <= set(t.key):
            keep_all = bool(fn.call(interp, {param: t.key_record()}))
            if keep_all:
                return t
            return t.empty_copy() if onEmpty == "keep" else None
        if refs is not None:
            cols = [(name, t.data[t.index(name)], t.type_of(name)) for name in refs if t.has(name)]
            keep = []
            for i in range(t.n):
                r = {}
                for name, values, kind in cols:
                    v = values[i]
                    r[name] = Time(v) if kind == "time" and v is not None else v
                if fn.call(interp, {param: r}):
                    keep.append(i)
        else:
            keep = [i for i in range(t.n) if fn.call(interp, {param: t.record(i)})]
        if not keep and onEmpty != "keep":
            return None
        return t if len(keep) == t.n else t.take(keep)

    return stream.map_tables(apply)


# -- row-wise transformations ------------------------------------------------------------------------


@universe("map", "fn mergeKey", "fn")
def map_(interp: Interpreter, tables, fn, mergeKey=False):
    call = record_fn(interp, fn)

    def produce() -> list[Table]:
        out: list[Table] = []
        for t in stream_of(tables, "map").tables():
            records = []
            for i in range(t.n):
                r = call(t.record(i))
                if not isinstance(r, dict):
                    raise FluxError(f"map: fn must return a record, got {type_name(r)}")
                records.append(r)
            if not records:
                continue
            key = [k for k in t.key if k in records[0]]
            out.extend(from_records(records, key))
        if len(out) > 1:
            return regroup(out, lambda t: t.key) if _duplicate_keys(out) else out
        return out

    return Stream(produce)


def _duplicate_keys(tables: list[Table]) -> bool:
    keys = [t.key_tuple() for t in tables]
    return len(set(keys)) != len(keys)


@universe("keep", "columns fn")
def keep_(interp: Interpreter, tables, columns=None, fn=None):
    pred = _column_predicate(interp, columns, fn, "keep")
    return per_table(tables, "keep", lambda t: _select_columns(t, [n for n in t.names() if pred(n)]))


@universe("drop", "columns fn")
def drop_(interp: Interpreter, tables, columns=None, fn=None):
    pred = _column_predicate(interp, columns, fn, "drop")
    return per_table(tables, "drop", lambda t: _select_columns(t, [n for n in t.names() if not pred(n)]))


def _column_predicate(interp: Interpreter, columns, fn, fname: str) -> Callable[[str], bool]:
    if columns is not None:
        wanted = set(str_list(columns, f"{fname}: columns"))
        return lambda n: n in wanted
    if fn is not None:
        param = fn.params[0][0] if isinstance(fn, Closure) and fn.params else "column"
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
        param = fn.params[0][0] if isinstance(fn, Closure) and fn.params else "column"
        mapping = lambda n: fn.call(interp, {param: n})  # noqa: E731
    else:
        raise FluxError("rename: specify columns or fn")

    def apply(t: Table) -> Table:
        names = {n: mapping(n) for n in t.names()}
        out = Table([(names[n], k) for n, k in t.columns], list(t.data), [names[k] for k in t.key], {})
        out.keyvals = {names[k]: v for k, v in t.keyvals.items()}
        return out

    return per_table(tables, "rename", apply)


@universe("duplicate", "column as", "column as")
def duplicate_(interp: Interpreter, tables, column, **kw):
    target = kw["as"]

    def apply(t: Table) -> Table:
        out = Table(list(t.columns), list(t.data), list(t.key), dict(t.keyvals))
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

    return per_table(tables, "duplicate", apply)


@universe("set", "key value", "key value")
def set_(interp: Interpreter, tables, key, value):
    def apply(t: Table) -> Table:
        out = Table(list(t.columns), list(t.data), list(t.key), dict(t.keyvals))
        out.set_constant(key, "string", value)
        if key in out.key:
            out.keyvals[key] = value
        return out

    return per_table(tables, "set", apply)


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


# -- aggregates and selectors ------------------------------------------------------------------------


def _values(t: Table, column: str) -> list:
    j = t.index(column)
    if j < 0:
        raise FluxError(f'column "{column}" does not exist')
    return [v for v in t.data[j] if v is not None]


def _numeric_column(t: Table, column: str, fname: str) -> str:
    kind = t.type_of(column)
    if kind is None:
        raise FluxError(f'{fname}: column "{column}" does not exist')
    if kind not in ("float", "int", "uint"):
        raise FluxError(f"{fname}: unsupported type {kind} of column {column}")
    return kind


def agg_mean(values: list, kind: str):
    return math.fsum(values) / len(values) if values else None


def agg_sum(values: list, kind: str):
    if not values:
        return None
    if kind == "float":
        return math.fsum(values)
    return UInt(sum(values)) if kind == "uint" else sum(values)


def agg_count(values: list, kind: str):
    return len(values)


def agg_spread(values: list, kind: str):
    if not values:
        return None
    r = max(values) - min(values)
    return UInt(r) if kind == "uint" else r


def agg_stddev(values: list, kind: str, mode: str = "sample"):
    if len(values) < 2 and mode == "sample":
        return None
    if not values:
        return None
    return statistics.stdev(map(float, values)) if mode == "sample" else statistics.pstdev(map(float, values))


def quantile_of(values: list, q: float, method: str = "estimate_tdigest"):
    if not values:
        return None
    s = sorted(values)
    n = len(s)
    if method == "exact_selector":
        i = max(0, math.ceil(q * n) - 1)
        return s[i]
    pos = q * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return float(s[lo]) + (float(s[hi]) - float(s[lo])) * (pos - lo)


AGG_TYPES = {"mean": "float", "count": "int", "stddev": "float", "median": "float", "quantile": "float"}
AGGREGATES: dict[str, Callable[[list, str], Any]] = {
    "mean": agg_mean,
    "sum": agg_sum,
    "count": agg_count,
    "spread": agg_spread,
    "stddev": agg_stddev,
    "median": lambda v, k: quantile_of(v, 0.5),
}


def aggregate_table(t: Table, column: str, name: str, fn: Callable[[list, str], Any]) -> Table:
    if name != "count":
        kind = _numeric_column(t, column, name)
    else:
        kind = t.type_of(column)
        if kind is None:
            raise FluxError(f'count: column "{column}" does not exist')
    value = fn(_values(t, column), kind)
    out_kind = AGG_TYPES.get(name, kind)
    columns = [(n, k) for n, k in t.columns if n in t.key and n != column] + [(column, out_kind)]
    data = [[t.keyvals.get(n)] for n, _ in columns[:-1]] + [[value]]
    return Table(
        columns, data, [k for k in t.key if k != column], {k: v for k, v in t.keyvals.items() if k != column}
    )


def _aggregate(name: str):
    fn = AGGREGATES[name]

    def impl(interp: Interpreter, tables, column="_value", **kw):
        if name == "stddev":
            mode = kw.get("mode", "sample")
            f = lambda v, k: agg_stddev(v, k, mode)  # noqa: E731
        else:
            f = fn
        if name in folds.FOLDS and column == "_value" and isinstance(tables, reads.FromStream):
            # folded block by block as the store streams the read: the tables are never held whole
            return tables.folded(
                folds.FOLDS[name],
                lambda t, fold: aggregate_table(t, column, name, lambda v, k: fold.result(k)),
                lambda ts: [aggregate_table(t, column, name, f) for t in ts],
            )
        return per_table(tables, name, lambda t: aggregate_table(t, column, name, f))

    params = "column mode" if name == "stddev" else "column method" if name == "median" else "column"
    return universe(name, params)(impl)


for _agg in AGGREGATES:
    _aggregate(_agg)


@universe("quantile", "column q method compression", "q")
def quantile_(interp: Interpreter, tables, q, column="_value", method="estimate_tdigest", compression=1000.0):
    if not isinstance(q, float | int) or isinstance(q, bool) or not 0 <= q <= 1:
        raise FluxError("quantile: q must be a float between 0 and 1")
    if method not in ("estimate_tdigest", "exact_mean", "exact_selector"):
        raise FluxError(f'quantile: unknown method "{method}"')
    if method == "exact_selector":

        def select(t: Table) -> Table | None:
            j = t.index(column)
            rows = sorted((i for i in range(t.n) if t.data[j][i] is not None), key=lambda i: t.data[j][i])
            if not rows:
                return None
            return t.take([rows[max(0, math.ceil(q * len(rows)) - 1)]])

        return per_table(tables, "quantile", select)
    return per_table(
        tables,
        "quantile",
        lambda t: aggregate_table(t, column, "quantile", lambda v, k: quantile_of(v, q, method)),
    )


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


# -- windows -----------------------------------------------------------------------------------------


def _bounds(t: Table, time_col: str) -> tuple[int, int] | None:
    """The time range a table's windows cover: its `_start`/`_stop` (the range bounds) when it has them,
    else the span of its times."""
    if "_start" in t.key and "_stop" in t.key and t.keyvals.get("_start") is not None:
        return t.keyvals["_start"], t.keyvals["_stop"]
    if t.has("_start") and t.has("_stop"):
        starts, stops = _present(t.col("_start")), _present(t.col("_stop"))
        if starts and stops:
            return min(starts), max(stops)
    times = _present(t.col(time_col)) if t.has(time_col) else []
    if not times:
        return None
    return min(times), max(times) + 1


def _present(values: list) -> list:
    """The values that are not null (the list itself when none is)."""
    return values if None not in values else [v for v in values if v is not None]


def windows(
    start: int, stop: int, every: Duration, period: Duration, offset: Duration
) -> list[tuple[int, int]]:
    """Window bounds [s, e) overlapping [start, stop), aligned to the epoch plus offset, clipped."""
    if every.is_zero or every.months < 0 or every.ns < 0:
        raise FluxError("window: every must be positive")
    out = []
    if every.months:
        if every.ns:
            raise FluxError("window: mixed month and nanosecond durations are not supported")
        from datetime import UTC, datetime

        t = datetime.fromtimestamp(start // 1_000_000_000, UTC)
        index = (t.year - 1970) * 12 + t.month - 1
        k = (index // every.months) * every.months - (period.months or every.months)
        while True:
            ws = add_duration(add_duration(0, Duration(k, 0)), offset)
            if ws >= stop:
                break
            we = add_duration(ws, period)
            if we > start:
                out.append((max(ws, start), min(we, stop)))
            k += every.months
        return out
    e = every.ns
    p = period.approx_ns()
    off = offset.approx_ns() % e
    k = (start - off - p) // e + 1
    while True:
        ws = k * e + off
        if ws >= stop:
            break
        we = ws + p
        if we > start:
            out.append((max(ws, start), min(we, stop)))
        k += 1
    return out


def _time_order(t: Table, time_col: str) -> tuple[list[int] | None, list[int]]:
    """The indexes of the rows with a time, in time order (stable), and their times; None for the
    indexes when that is every row as it stands (the common case: storage tables are in time order)."""
    times = t.col(time_col)
    idx: list[int] | None = None
    if None in times:
        idx = [i for i, v in enumerate(times) if v is not None]
    ordered = _in_order(times, idx)
    if all(map(le, ordered, islice(ordered, 1, None))):
        return idx, ordered
    idx = sorted(range(len(times)) if idx is None else idx, key=times.__getitem__)  # runs merge fast
    return idx, _in_order(times, idx)


def _rows(idx: list[int] | None, lo: int, hi: int) -> Iterable[int]:
    return range(lo, hi) if idx is None else idx[lo:hi]


def _in_order(column: list, idx: list[int] | None) -> list:
    return column if idx is None else list(map(column.__getitem__, idx))


@universe("window", "every period offset timeColumn startColumn stopColumn createEmpty location")
def window_(
    interp: Interpreter,
    tables,
    every=None,
    period=None,
    offset=None,
    timeColumn="_time",
    startColumn="_start",
    stopColumn="_stop",
    createEmpty=False,
    location=None,
):
    if every is None and period is None:
        raise FluxError("window: specify every or period")
    if isinstance(every, Duration) and every.ns >= MAX_NS:  # window(every: inf): undo windowing
        return Stream(lambda: _unwindow(stream_of(tables, "window").tables(), startColumn, stopColumn))
    every_d = duration_arg(every if every is not None else period, "window: every")
    period_d = duration_arg(period if period is not None else every_d, "window: period")
    offset_d = duration_arg(offset, "window: offset") if offset is not None else Duration()

    def produce() -> list[Table]:
        out: list[Table] = []
        for t in stream_of(tables, "window").tables():
            b = _bounds(t, timeColumn)
            if b is None:
                continue
            idx, times = _time_order(t, timeColumn)
            for ws, we in windows(b[0], b[1], every_d, period_d, offset_d):
                lo, hi = bisect.bisect_left(times, ws), bisect.bisect_left(times, we)
                if lo == hi and not createEmpty:
                    continue
                w = t.take(_rows(idx, lo, hi))
                w.set_key_constant(startColumn, "time", ws)
                w.set_key_constant(stopColumn, "time", we)
                out.append(normalize_key(w))
        return out

    return Stream(produce)


def _unwindow(tables: list[Table], start_col: str, stop_col: str) -> list[Table]:
    merged = regroup(tables, lambda t: [k for k in t.key if k not in (start_col, stop_col)])
    for t in merged:
        for name, pick in ((start_col, min), (stop_col, max)):
            if t.has(name):
                vals = [v for v in t.col(name) if v is not None]
                if vals:
                    t.data[t.index(name)] = [pick(vals)] * t.n
    return merged


FAST_AGGREGATES = {**AGGREGATES, "first": None, "last": None, "min": None, "max": None}


@universe("aggregateWindow", "every period offset fn column timeSrc timeDst createEmpty location", "every fn")
def aggregate_window(
    interp: Interpreter,
    tables,
    every,
    fn,
    period=None,
    offset=None,
    column="_value",
    timeSrc="_stop",
    timeDst="_time",
    createEmpty=True,
    location=None,
):
    every_d = duration_arg(every, "aggregateWindow: every")
    period_d = duration_arg(period, "aggregateWindow: period") if period is not None else every_d
    offset_d = duration_arg(offset, "aggregateWindow: offset") if offset is not None else Duration()
    fname = getattr(fn, "name", "")
    fast = fname in FAST_AGGREGATES and not isinstance(fn, Closure)

    def produce() -> list[Table]:
        return [
            r
            for r in (aggregate_one(t) for t in stream_of(tables, "aggregateWindow").tables())
            if r is not None
        ]

    def aggregate_one(t: Table) -> Table | None:
        b = _bounds(t, "_time")
        if b is None:
            return None
        if fast:
            return _fast_window(
                t, b, fname, column, timeSrc, timeDst, createEmpty, every_d, period_d, offset_d
            )
        return _generic_window(
            interp, t, b, fn, column, timeSrc, timeDst, createEmpty, every_d, period_d, offset_d
        )

    if (
        fast
        and fname in folds.FOLDS
        and column == "_value"
        and period_d == every_d
        and isinstance(tables, reads.FromStream)
    ):
        # folded window by window as the store streams the read (the windows tile the range in order)
        read = tables

        def bounds() -> list[tuple[int, int]]:
            assert read.start is not None and read.stop is not None
            return windows(read.start, read.stop, every_d, period_d, offset_d)

        def make() -> folds.WindowFold:
            return folds.WindowFold(folds.FOLDS[fname], bounds, bool(createEmpty), timeSrc == "_stop")

        def finish(t: Table, fold: folds.WindowFold) -> Table:
            kind = _window_kind(t, fname, column)
            rows_time, rows_value = fold.finish()
            return _window_table(t, column, AGG_TYPES.get(fname, kind), timeDst, rows_time, rows_value)

        def general(ts: list[Table]) -> list[Table]:
            return [r for r in map(aggregate_one, ts) if r is not None]

        return read.folded(make, finish, general)
    return Stream(produce)


def _window_columns(t: Table, column: str, value_kind: str, time_dst: str) -> list[tuple[str, str]]:
    columns = []
    for name, kind in t.columns:
        if name == column:
            columns.append((name, value_kind))
        elif name == time_dst:
            columns.append((name, "time"))
        elif name in t.key:
            columns.append((name, kind))
    if not any(n == time_dst for n, _ in columns):
        at = max((i + 1 for i, (n, _) in enumerate(columns) if n in ("_start", "_stop")), default=0)
        columns.insert(at, (time_dst, "time"))
    if not any(n == column for n, _ in columns):
        raise FluxError(f'aggregateWindow: column "{column}" does not exist')
    return columns


def _window_kind(t: Table, fname: str, column: str) -> str:
    kind = t.type_of(column)
    if kind is None:
        raise FluxError(f'column "{column}" does not exist')
    if fname not in ("count", "first", "last") and kind not in ("float", "int", "uint"):
        raise FluxError(f"{fname}: unsupported type {kind} of column {column}")
    return kind


def _window_table(
    t: Table, column: str, value_kind: str, time_dst: str, rows_time: list[int], rows_value: list
) -> Table:
    columns = _window_columns(t, column, value_kind, time_dst)
    n = len(rows_time)
    data = []
    for name, _ in columns:
        if name == time_dst:
            data.append(rows_time)
        elif name == column:
            data.append(rows_value)
        else:
            data.append([t.keyvals.get(name)] * n)
    return Table(columns, data, list(t.key), dict(t.keyvals))


def _fast_window(t, b, fname, column, time_src, time_dst, create_empty, every, period, offset) -> Table:
    kind = _window_kind(t, fname, column)
    value_kind = AGG_TYPES.get(fname, kind)
    _window_columns(t, column, value_kind, time_dst)  # its errors before the windows'
    idx, times = _time_order(t, "_time")
    col = _in_order(t.col(column), idx)
    nulls = None in col
    rows_time, rows_value = [], []
    agg = AGGREGATES.get(fname)
    lo = 0
    fsum = math.fsum
    for ws, we in windows(b[0], b[1], every, period, offset):
        lo = bisect.bisect_left(times, ws, lo)  # windows ascend: search from the last one on
        hi = bisect.bisect_left(times, we, lo)
        values = col[lo:hi] if not nulls else [v for v in col[lo:hi] if v is not None]
        if not values and not create_empty:
            continue
        if fname == "mean":  # the common case, inlined
            v = fsum(values) / len(values) if values else None
        elif agg is not None:
            v = agg(values, kind)
        elif not values:
            v = None
        elif fname == "first":
            v = values[0]
        elif fname == "last":
            v = values[-1]
        elif fname == "min":
            v = min(values)
        else:
            v = max(values)
        rows_time.append(we if time_src == "_stop" else ws)
        rows_value.append(v)
    return _window_table(t, column, value_kind, time_dst, rows_time, rows_value)


def _generic_window(interp, t, b, fn, column, time_src, time_dst, create_empty, every, period, offset):
    idx, times = _time_order(t, "_time")
    parts: list[Table] = []
    for ws, we in windows(b[0], b[1], every, period, offset):
        lo, hi = bisect.bisect_left(times, ws), bisect.bisect_left(times, we)
        if lo == hi and not create_empty:
            continue
        w = t.take(_rows(idx, lo, hi))
        w.set_key_constant("_start", "time", ws)
        w.set_key_constant("_stop", "time", we)
        args = {"column": column} if not isinstance(fn, Closure) or "column" in fn.param_names else {}
        result = interp.call_function(fn, args, Stream(tables=[w]))
        got = stream_of(result, "aggregateWindow fn").tables()
        if not got or all(g.n == 0 for g in got):
            if not create_empty:
                continue
            filler = _window_columns(t, column, t.type_of(column) or "float", time_dst)
            got = [Table(filler, [[w.keyvals.get(n)] for n, _ in filler], list(w.key), dict(w.keyvals))]
            got[0].data[[n for n, _ in filler].index(column)] = [None]
        for g in got:
            src = ws if time_src == "_start" else we
            g = Table(list(g.columns), [list(c) for c in g.data], list(g.key), dict(g.keyvals))
            g.set_constant(time_dst, "time", src)
            for name in ("_start", "_stop"):
                if g.has(name):
                    g.data[g.index(name)] = [t.keyvals.get(name, b[0] if name == "_start" else b[1])] * g.n
            parts.append(g)
    if not parts:
        return None
    merged = merge_tables([(p, None) for p in parts], list(t.key), dict(t.keyvals))
    return normalize_key(merged)


# -- pivot -------------------------------------------------------------------------------------------


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


# -- fill, derivative, difference, cumulativeSum, timeShift, elapsed ---------------------------------


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


def _unit_ns(unit: Any, name: str) -> int:
    d = duration_arg(unit, name)
    if d.approx_ns() <= 0:
        raise FluxError(f"{name} must be a positive duration")
    return d.approx_ns()


@universe("derivative", "unit nonNegative columns timeColumn initialZero")
def derivative_(
    interp: Interpreter,
    tables,
    unit=None,
    nonNegative=False,
    columns=None,
    timeColumn="_time",
    initialZero=False,
):
    unit_ns = _unit_ns(unit if unit is not None else Duration(0, NS_PER_UNIT["s"]), "derivative: unit")
    cols = str_list(columns or ["_value"], "derivative: columns")

    def apply(t: Table) -> Table:
        times = t.col(timeColumn)
        out = t.take(range(1, t.n)) if t.n else t.empty_copy()
        for c in cols:
            j = t.index(c)
            if j < 0:
                raise FluxError(f'derivative: column "{c}" does not exist')
            values = t.data[j]
            res = []
            prev_t = times[0] if t.n else None
            prev_v = values[0] if t.n else None
            for i in range(1, t.n):
                v = values[i]
                if v is None or prev_v is None or times[i] == prev_t:
                    res.append(None)
                else:
                    d = (float(v) - float(prev_v)) * unit_ns / (times[i] - prev_t)
                    res.append(None if nonNegative and d < 0 else d)
                if v is not None:
                    prev_v, prev_t = v, times[i]
            out.data[j] = res
            out.columns[j] = (c, "float")
        return out

    return per_table(tables, "derivative", apply)


@universe("difference", "nonNegative columns keepFirst initialZero")
def difference_(
    interp: Interpreter, tables, nonNegative=False, columns=None, keepFirst=False, initialZero=False
):
    cols = str_list(columns or ["_value"], "difference: columns")

    def apply(t: Table) -> Table:
        out = t.take(range(t.n if keepFirst else min(1, t.n), t.n) if not keepFirst else range(t.n))
        for c in cols:
            j = t.index(c)
            if j < 0:
                raise FluxError(f'difference: column "{c}" does not exist')
            kind = t.columns[j][1]
            values = t.data[j]
            res = [None] if keepFirst and t.n else []
            prev = values[0] if t.n else None
            for i in range(1, t.n):
                v = values[i]
                if v is None or prev is None:
                    res.append(None)
                else:
                    d = v - prev
                    if nonNegative and d < 0:
                        d = v if initialZero else None
                    res.append(d)
                if v is not None:
                    prev = v
            out.data[j] = res
            out.columns[j] = (c, "int" if kind == "uint" else kind)
        return out

    return per_table(tables, "difference", apply)


@universe("cumulativeSum", "columns")
def cumulative_sum(interp: Interpreter, tables, columns=None):
    cols = str_list(columns or ["_value"], "cumulativeSum: columns")

    def apply(t: Table) -> Table:
        out = t.with_data(list(t.data))
        for c in cols:
            j = t.index(c)
            if j < 0:
                raise FluxError(f'cumulativeSum: column "{c}" does not exist')
            total = 0
            res = []
            for v in t.data[j]:
                if v is not None:
                    total += v
                res.append(total if v is not None else None)
            out.data[j] = res
        return out

    return per_table(tables, "cumulativeSum", apply)


@universe("reduce", "fn identity", "fn identity")
def reduce_(interp: Interpreter, tables, fn, identity):
    if not isinstance(identity, dict) or not isinstance(fn, Function):
        raise FluxError("reduce: fn must be a function and identity a record")

    def apply(t: Table) -> Table:
        acc = dict(identity)
        for i in range(t.n):
            acc = interp.call_function(fn, {"r": t.record(i), "accumulator": acc})
            if not isinstance(acc, dict):
                raise FluxError(f"reduce: fn must return a record, got {type_name(acc)}")
        record = {**t.key_record(), **{k: v for k, v in acc.items() if k not in t.key}}
        (out,) = from_records([record], list(t.key))
        return out

    return per_table(tables, "reduce", apply)


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


@universe("tableFind", "fn", "fn")
def table_find(interp: Interpreter, tables, fn):
    pred = record_fn(interp, fn, "fn")
    for t in stream_of(tables, "tableFind").tables():
        if pred(t.key_record()):
            return Stream(tables=[t])
    raise FluxError("tableFind: no table found")


@universe("getColumn", "column", "column", pipe="table")
def get_column(interp: Interpreter, table, column):
    (t,) = stream_of(table, "getColumn").tables()[:1] or [None]
    if t is None or not t.has(column):
        raise FluxError(f'getColumn: cannot find column "{column}"')
    kind = t.type_of(column)
    return [Time(v) if kind == "time" and v is not None else v for v in t.col(column)]


@universe("getRecord", "idx", "idx", pipe="table")
def get_record(interp: Interpreter, table, idx):
    (t,) = stream_of(table, "getRecord").tables()[:1] or [None]
    if t is None or not 0 <= idx < t.n:
        raise FluxError(f"getRecord: index {idx} out of bounds")
    return t.record(idx)


@universe("increase", "columns")
def increase_(interp: Interpreter, tables, columns=None):
    cols = columns or ["_value"]
    diffs = difference_.call(interp, {"nonNegative": True, "initialZero": True, "columns": cols}, tables)
    return cumulative_sum.call(interp, {"columns": cols}, diffs)


@universe("movingAverage", "n column", "n")
def moving_average(interp: Interpreter, tables, n, column="_value"):
    if not isinstance(n, int) or n <= 0:
        raise FluxError("movingAverage: n must be a positive integer")

    def apply(t: Table) -> Table | None:
        j = t.index(column)
        if j < 0:
            raise FluxError(f'movingAverage: column "{column}" does not exist')
        values = t.data[j]
        if t.n < n:
            return None
        out = t.take(range(n - 1, t.n))
        res = []
        for i in range(n - 1, t.n):
            window = [v for v in values[i - n + 1 : i + 1] if v is not None]
            res.append(math.fsum(window) / len(window) if window else None)
        out.data[j] = res
        out.columns[j] = (column, "float")
        return out

    return per_table(tables, "movingAverage", apply)


@universe("contains", "value set", "set", None)
def contains_(interp: Interpreter, set, value=None):
    if not isinstance(set, list):
        raise FluxError("contains: set must be an array")
    return value is not None and value in set


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


@universe("elapsed", "unit timeColumn columnName")
def elapsed_(interp: Interpreter, tables, unit=None, timeColumn="_time", columnName="elapsed"):
    unit_ns = _unit_ns(unit if unit is not None else Duration(0, NS_PER_UNIT["s"]), "elapsed: unit")

    def apply(t: Table) -> Table:
        times = t.col(timeColumn)
        out = t.take(range(1, t.n))
        out.columns.append((columnName, "int"))
        out.data.append([(times[i] - times[i - 1]) // unit_ns for i in range(1, t.n)])
        return out

    return per_table(tables, "elapsed", apply)


# -- conversions -------------------------------------------------------------------------------------


def convert(v: Any, to: str) -> Any:
    if v is None:
        return None
    try:
        if to == "float":
            if isinstance(v, str):
                return float(v)
            if isinstance(v, Time):
                return float(v.ns)
            return float(v)
        if to in ("int", "uint"):
            if isinstance(v, Time):
                r = v.ns
            elif isinstance(v, Duration):
                r = v.approx_ns()
            elif isinstance(v, str):
                r = int(v)
            elif isinstance(v, float):
                if math.isnan(v) or math.isinf(v):
                    raise ValueError("cannot convert NaN or Inf to an integer")
                r = int(v)
            else:
                r = int(v)
            if to == "uint":
                if r < 0:
                    r &= (1 << 64) - 1
                return UInt(r)
            return r
        if to == "string":
            return to_string(v)
        if to == "bool":
            if isinstance(v, bool):
                return v
            if isinstance(v, str):
                if v in ("true", "false"):
                    return v == "true"
                raise ValueError(f"cannot convert string {v!r} to bool")
            if isinstance(v, int | float) and v in (0, 1):
                return bool(v)
            raise ValueError(f"cannot convert {v!r} to bool")
        if to == "time":
            if isinstance(v, Time):
                return v
            if isinstance(v, str):
                return Time(parse_time(v))
            if isinstance(v, int):
                return Time(int(v))
        if to == "duration":
            if isinstance(v, Duration):
                return v
            if isinstance(v, str):
                return duration_arg(v, "duration")
            if isinstance(v, int):
                return Duration(0, int(v))
    except (ValueError, OverflowError) as exc:
        raise FluxError(f"cannot convert {to_string(v)!r} to {to}: {exc}") from exc
    raise FluxError(f"cannot convert a value of type {type_name(v)} to {to}")


for _to in ("float", "int", "uint", "string", "bool", "time", "duration"):

    def _make(to: str):
        def impl(interp: Interpreter, v):
            return convert(v, to)

        UNIVERSE[to] = builtin(to, "v", "", None)(impl)

        if to == "duration":
            return

        def column_impl(interp: Interpreter, tables):
            def apply(t: Table) -> Table:
                j = t.index("_value")
                if j < 0:
                    raise FluxError('column "_value" does not exist')
                out = t.with_data(list(t.data))
                out.columns[j] = ("_value", to)
                src_kind = t.columns[j][1]
                vals = t.data[j]
                if src_kind == "time":
                    vals = [Time(v) if v is not None else None for v in vals]
                out.data[j] = [to_column_value(convert(v, to)) for v in vals]
                return out

            return per_table(tables, "to" + to.capitalize(), apply)

        name = {"uint": "toUInt"}.get(to, "to" + to.capitalize())
        UNIVERSE[name] = builtin(name, "", "", "tables")(column_impl)

    _make(_to)


# -- values and misc ---------------------------------------------------------------------------------


@universe("now", "", "", None)
def now_(interp: Interpreter):
    return Time(interp.now())


UNIVERSE["inf"] = Duration(0, MAX_NS)


@universe("length", "arr", "arr", None)
def length_(interp: Interpreter, arr):
    if not isinstance(arr, list):
        raise FluxError("length: arr must be an array")
    return len(arr)


@universe("findRecord", "fn idx", "fn idx")
def find_record(interp: Interpreter, tables, fn, idx):
    pred = record_fn(interp, fn, "fn")
    for t in stream_of(tables, "findRecord").tables():
        if pred(t.key_record()):
            if not 0 <= idx < t.n:
                return {}
            return t.record(idx)
    return {}


@universe("findColumn", "fn column", "fn column")
def find_column(interp: Interpreter, tables, fn, column):
    pred = record_fn(interp, fn, "fn")
    for t in stream_of(tables, "findColumn").tables():
        if pred(t.key_record()):
            if not t.has(column):
                return []
            kind = t.type_of(column)
            return [Time(v) if kind == "time" and v is not None else v for v in t.col(column)]
    return []


@universe("to", "bucket bucketID org orgID host token timeColumn measurementColumn tagColumns fieldFn")
def to_(
    interp: Interpreter,
    tables,
    bucket=None,
    bucketID=None,
    org=None,
    orgID=None,
    host=None,
    token=None,
    timeColumn="_time",
    measurementColumn="_measurement",
    tagColumns=None,
    fieldFn=None,
):
    from chalicelib.lineprotocol.serializer import format_point

    if host is not None or token is not None:
        raise FluxError("to: writing to a remote host is not supported")
    source = interp.context.source
    target = source.bucket(bucket, bucketID, write=True)
    field_of = record_fn(interp, fieldFn, "fieldFn") if fieldFn is not None else None
    stream = stream_of(tables, "to")

    def produce() -> list[Table]:
        got = stream.tables()
        lines = []
        for t in got:
            tags = tagColumns
            if tags is None:
                tags = [
                    k
                    for k in t.key
                    if t.type_of(k) == "string" and k not in ("_start", "_stop", "_field", "_measurement")
                ]
            for i in range(t.n):
                r = t.record(i)
                if field_of is not None:
                    fields = field_of(r)
                else:
                    if r.get("_field") is None:
                        raise FluxError('to: table has no "_field" column')
                    fields = {r["_field"]: r.get("_value")}
                fields = {k: v for k, v in fields.items() if v is not None}
                if not fields or r.get(timeColumn) is None:
                    continue
                point_tags = {k: r[k] for k in sorted(tags) if r.get(k) not in (None, "")}
                lines.append(
                    format_point(str(r.get(measurementColumn)), point_tags, fields, r[timeColumn].ns)
                )
        if lines:
            source.write(target, "\n".join(lines) + "\n")
        return got

    return Stream(produce)


# -- strings, regexp, math, date, profiler -----------------------------------------------------------


def _strings(name: str, params: str, fn: Callable[..., Any]) -> None:
    def impl(interp: Interpreter, **kw):
        for k, v in kw.items():
            if k in ("v", "t", "u", "substr", "prefix", "suffix", "cutset") and not isinstance(v, str):
                raise FluxError(f"strings.{name}: {k} must be a string, got {type_name(v)}")
        return fn(**kw)

    PACKAGES.setdefault("strings", {})[name] = builtin(f"strings.{name}", params, params, None)(impl)


_strings("toUpper", "v", lambda v: v.upper())
_strings("toLower", "v", lambda v: v.lower())
_strings("title", "v", lambda v: v.title())
_strings("trimSpace", "v", lambda v: v.strip())
_strings("trim", "v cutset", lambda v, cutset: v.strip(cutset))
_strings("trimLeft", "v cutset", lambda v, cutset: v.lstrip(cutset))
_strings("trimRight", "v cutset", lambda v, cutset: v.rstrip(cutset))
_strings("trimPrefix", "v prefix", lambda v, prefix: v.removeprefix(prefix))
_strings("trimSuffix", "v suffix", lambda v, suffix: v.removesuffix(suffix))
_strings("hasPrefix", "v prefix", lambda v, prefix: v.startswith(prefix))
_strings("hasSuffix", "v suffix", lambda v, suffix: v.endswith(suffix))
_strings("containsStr", "v substr", lambda v, substr: substr in v)
_strings("countStr", "v substr", lambda v, substr: v.count(substr))
_strings("index", "v substr", lambda v, substr: v.find(substr))
_strings("lastIndex", "v substr", lambda v, substr: v.rfind(substr))
_strings("strlen", "v", lambda v: len(v))
_strings("repeat", "v i", lambda v, i: v * i)
_strings("replaceAll", "v t u", lambda v, t, u: v.replace(t, u))
_strings("replace", "v t u i", lambda v, t, u, i: v.replace(t, u, i))
_strings("split", "v t", lambda v, t: v.split(t) if t else list(v))
_strings("joinStr", "arr v", lambda arr, v: v.join(arr))
_strings("substring", "v start end", lambda v, start, end: v[max(0, start) : max(0, end)])
_strings("equalFold", "v t", lambda v, t: v.casefold() == t.casefold())
_strings("isDigit", "v", lambda v: v.isdigit())
_strings("isLetter", "v", lambda v: v.isalpha())


@package("regexp", "compile", "v", "v")
def regexp_compile(interp, v):
    return compile_regex(v)


@package("regexp", "matchRegexpString", "r v", "r v")
def regexp_match(interp, r, v):
    return r.search(v) is not None


@package("regexp", "replaceAllString", "r v t", "r v t")
def regexp_replace(interp, r, v, t):
    import re

    return r.sub(re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", t), v)


@package("regexp", "findString", "r v", "r v")
def regexp_find(interp, r, v):
    m = r.search(v)
    return m.group(0) if m else ""


@package("regexp", "quoteMeta", "v", "v")
def regexp_quote(interp, v):
    import re

    return re.escape(v)


def _math(name: str, fn: Callable[..., Any], params: str = "x") -> None:
    def impl(interp, **kw):
        return fn(*(float(kw[p]) for p in params.split()))

    PACKAGES.setdefault("math", {})[name] = builtin(f"math.{name}", params, params, None)(impl)


for _n, _f in (
    ("abs", abs),
    ("floor", math.floor),
    ("ceil", math.ceil),
    ("sqrt", math.sqrt),
    ("log", math.log),
    ("log10", math.log10),
    ("exp", math.exp),
    ("trunc", math.trunc),
):
    _math(_n, (lambda f: lambda x: float(f(x)))(_f))
_math("round", lambda x: float(math.floor(x + 0.5)) if x >= 0 else -float(math.floor(-x + 0.5)))
_math("pow", lambda x, y: x**y, "x y")
_math("mod", math.fmod, "x y")
_math("mMax", max, "x y")
_math("mMin", min, "x y")
PACKAGES["math"].update({"pi": math.pi, "e": math.e, "maxFloat": 1.7976931348623157e308, "NaN": math.nan})
PACKAGES["math"]["isNaN"] = builtin("math.isNaN", "f", "f", None)(lambda interp, f: math.isnan(f))


def _date_part(name: str, fn: Callable[[Any], int]) -> None:
    def impl(interp, t):
        from datetime import UTC, datetime

        ns = time_arg(interp, t, f"date.{name}")
        return fn(datetime.fromtimestamp(ns // 1_000_000_000, UTC))

    PACKAGES.setdefault("date", {})[name] = builtin(f"date.{name}", "t location", "t", None)(impl)


_date_part("year", lambda d: d.year)
_date_part("month", lambda d: d.month)
_date_part("monthDay", lambda d: d.day)
_date_part("yearDay", lambda d: d.timetuple().tm_yday)
_date_part("weekDay", lambda d: (d.weekday() + 1) % 7)
_date_part("hour", lambda d: d.hour)
_date_part("minute", lambda d: d.minute)
_date_part("second", lambda d: d.second)


@package("date", "truncate", "t unit location", "t unit")
def date_truncate(interp, t, unit, location=None):
    ns = time_arg(interp, t, "date.truncate")
    return Time(_aligned_start(ns, duration_arg(unit, "date.truncate: unit")))


def _aligned_start(ns: int, unit: Duration) -> int:
    if unit.months:
        from datetime import UTC, datetime

        d = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
        index = (d.year - 1970) * 12 + d.month - 1
        return add_duration(0, Duration(index // unit.months * unit.months, 0))
    return ns // unit.ns * unit.ns


@package("date", "add", "d to location", "d to")
def date_add(interp, d, to, location=None):
    return Time(add_duration(time_arg(interp, to, "date.add"), duration_arg(d, "date.add: d")))


@package("date", "sub", "d from location", "d from")
def date_sub(interp, d, location=None, **kw):
    return Time(add_duration(time_arg(interp, kw["from"], "date.sub"), duration_arg(d, "date.sub: d"), -1))


PACKAGES["profiler"] = {"enabledProfilers": []}
PACKAGES["runtime"] = {"version": builtin("runtime.version", "", "", None)(lambda interp: "v0.194.5")}
PACKAGES["array"]["from"] = array_from


@package("influxdata/influxdb", "buckets", "org orgID host token")
def influxdb_buckets(interp, **kw):
    return buckets_.call(interp, kw)


PACKAGES["influxdata/influxdb"]["from"] = UNIVERSE["from"]
PACKAGES["influxdata/influxdb"]["to"] = UNIVERSE["to"]


# -- schema and v1 -----------------------------------------------------------------------------------


def _schema_read(interp: Interpreter, bucket: str, start: Any, stop: Any, predicate: Any) -> reads.FromStream:
    source = interp.context.source
    stream = reads.FromStream(interp, source.bucket(bucket, None))
    start_ns = time_arg(interp, start if start is not None else Duration(0, -30 * NS_PER_UNIT["d"]), "start")
    stop_ns = time_arg(interp, stop, "stop") if stop is not None else interp.now()
    stream = stream.bounded(start_ns, stop_ns)
    if predicate is not None:
        stream = filter_.call(interp, {"fn": predicate}, stream)
    return stream


def _value_table(values: list[str]) -> list[Table]:
    return [Table([("_value", "string")], [values], [], {})]


def _schema_series(
    interp, bucket, start, stop, predicate, need: str
) -> tuple[list[str], dict[str, set[str]]]:
    """The group key columns (less `_start`, `_stop`) of the storage tables the read selects, and the
    values of each. Answered from the series index when the predicate reads only measurement, fields
    and tags (see `FromStream.listing`), else from the points."""
    stream = _schema_read(interp, bucket, start, stop, predicate)
    if isinstance(stream, reads.FromStream):
        rows = stream.listing(need)
    else:
        rows = (
            (
                t.keyvals["_measurement"],
                {k: t.keyvals[k] for k in t.key if k not in reads.STORAGE_KEY},
                [t.keyvals["_field"]],
            )
            for t in stream.tables()
            if t.n
        )
    keys: set[str] = set()
    values: dict[str, set[str]] = {}
    for measurement, tags, fields in rows:
        keys.update(("_field", "_measurement"))
        values.setdefault("_measurement", set()).add(measurement)
        values.setdefault("_field", set()).update(fields)
        for k, v in tags.items():
            keys.add(k)
            values.setdefault(k, set()).add(v)
    return sorted(keys), values


def _tag_values(interp, bucket, tag, predicate=None, start=None, stop=None):
    def produce():
        need = "fields" if tag == "_field" else "series"
        _, values = _schema_series(interp, bucket, start, stop, predicate, need)
        return _value_table(sorted(values.get(tag, ())))

    return Stream(produce)


def _tag_keys(interp, bucket, predicate=None, start=None, stop=None):
    def produce():
        keys, _ = _schema_series(interp, bucket, start, stop, predicate, "series")
        head = [k for k in ("_field", "_measurement") if k in keys]
        return _value_table(["_start", "_stop", *head, *[k for k in keys if k not in head]])

    return Stream(produce)


def _measurement_predicate(interp: Interpreter, measurement: str) -> Closure:
    from chalicelib.flux.parser import Parser

    fn = interp.eval(Parser("(r) => r._measurement == m").expression(), _scope_with(interp, m=measurement))
    return fn


def _scope_with(interp: Interpreter, **vars: Any):
    from chalicelib.flux.interpreter import Scope

    return Scope(interp.universe, dict(vars))


def _schema_functions(path: str) -> None:
    members = PACKAGES.setdefault(path, {})
    pkg = path.rsplit("/", 1)[-1]

    def fn(name: str, params: str, required: str, impl) -> None:
        members[name] = builtin(f"{pkg}.{name}", params, required, None)(impl)

    fn(
        "tagValues",
        "bucket tag predicate start stop",
        "bucket tag",
        lambda interp, bucket, tag, predicate=None, start=None, stop=None: _tag_values(
            interp, bucket, tag, predicate, start, stop
        ),
    )
    fn(
        "tagKeys",
        "bucket predicate start stop",
        "bucket",
        lambda interp, bucket, predicate=None, start=None, stop=None: _tag_keys(
            interp, bucket, predicate, start, stop
        ),
    )
    fn(
        "fieldKeys",
        "bucket predicate start stop",
        "bucket",
        lambda interp, bucket, predicate=None, start=None, stop=None: _tag_values(
            interp, bucket, "_field", predicate, start, stop
        ),
    )
    fn(
        "measurements",
        "bucket start stop",
        "bucket",
        lambda interp, bucket, start=None, stop=None: _tag_values(
            interp, bucket, "_measurement", None, start, stop
        ),
    )
    fn(
        "measurementTagValues",
        "bucket measurement tag start stop",
        "bucket measurement tag",
        lambda interp, bucket, measurement, tag, start=None, stop=None: _tag_values(
            interp, bucket, tag, _measurement_predicate(interp, measurement), start, stop
        ),
    )
    fn(
        "measurementTagKeys",
        "bucket measurement start stop",
        "bucket measurement",
        lambda interp, bucket, measurement, start=None, stop=None: _tag_keys(
            interp, bucket, _measurement_predicate(interp, measurement), start, stop
        ),
    )
    fn(
        "measurementFieldKeys",
        "bucket measurement start stop",
        "bucket measurement",
        lambda interp, bucket, measurement, start=None, stop=None: _tag_values(
            interp, bucket, "_field", _measurement_predicate(interp, measurement), start, stop
        ),
    )
    members["fieldsAsCols"] = builtin(f"{pkg}.fieldsAsCols", "", "", "tables")(
        lambda interp, tables: pivot_.call(
            interp, {"rowKey": ["_time"], "columnKey": ["_field"], "valueColumn": "_value"}, tables
        )
    )


_schema_functions("influxdata/influxdb/schema")
_schema_functions("influxdata/influxdb/v1")


# the names Flux's suggestions endpoint lists, with parameter types for the UI
def suggestions() -> list[dict[str, Any]]:
    out = []
    for name, fn in sorted(UNIVERSE.items()):
        if not isinstance(fn, Function) or getattr(fn, "impl", None) is None or name.endswith("_"):
            continue
        if fn.impl.__name__ == "impl" and "not_supported" in getattr(fn.impl, "__qualname__", ""):
            continue
        params = {p: _param_type(p) for p in fn.params}
        if fn.pipe:
            params[fn.pipe] = "stream"
        out.append({"name": name, "params": dict(sorted(params.items()))})
    return out


_PARAM_TYPES = {
    "columns": "array",
    "fn": "function",
    "every": "duration",
    "period": "duration",
    "offset": "duration",
    "n": "int",
    "desc": "bool",
    "createEmpty": "bool",
    "column": "string",
    "bucket": "string",
    "bucketID": "string",
    "org": "string",
    "orgID": "string",
    "host": "string",
    "token": "string",
    "name": "string",
    "q": "float",
    "unit": "duration",
    "nonNegative": "bool",
    "value": "invalid",
    "timeColumn": "string",
    "startColumn": "string",
    "stopColumn": "string",
    "mode": "string",
}


def _param_type(p: str) -> str:
    return _PARAM_TYPES.get(p, "invalid")


__all__ = ["PACKAGES", "UNIVERSE", "format_float", "suggestions"]
