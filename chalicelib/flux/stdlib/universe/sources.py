"""Reads and results: `from`, `buckets`, `range` and `filter` (narrowing the read), `yield`."""

from __future__ import annotations

from chalicelib.flux import reads
from chalicelib.flux.interpreter import Closure, Function, Interpreter
from chalicelib.flux.stdlib.args import param_name, stream_of, time_arg
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.tables import Stream, Table, normalize_key
from chalicelib.flux.values import MAX_NS, MIN_NS, FluxError, Time


@universe("from", "bucket bucketID host org orgID token", "", None)
def from_(interp: Interpreter, bucket=None, bucketID=None, host=None, org=None, orgID=None, token=None):
    if host is not None or token is not None:
        raise FluxError("from: reading from a remote host is not supported")
    if bucket is None and bucketID is None:
        raise FluxError("from: specify one of bucket or bucketID")
    buckets = interp.context.buckets
    if buckets is None or interp.context.series is None:
        raise FluxError("from: no data source")
    return reads.FromStream(interp, buckets.bucket(bucket, bucketID))


@universe("buckets", "org orgID host token", "", None)
def buckets_(interp: Interpreter, org=None, orgID=None, host=None, token=None):
    def produce() -> list[Table]:
        docs = interp.context.buckets.buckets()
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

    return Stream(lambda: stream_of(tables, "range").map_tables(bound).tables())


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
    param = param_name(fn, "r")
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
