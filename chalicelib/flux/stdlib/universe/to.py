"""`to()`: a stream's rows written into a bucket as points (the stream passes through)."""

from __future__ import annotations

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import record_fn, stream_of
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.tables import Stream, Table
from chalicelib.flux.values import FluxError
from chalicelib.lineprotocol.serializer import format_point


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
    if host is not None or token is not None:
        raise FluxError("to: writing to a remote host is not supported")
    buckets = interp.context.buckets
    target = buckets.bucket(bucket, bucketID, write=True)
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
            buckets.write(target, "\n".join(lines) + "\n")
        return got

    return Stream(produce)
