"""The InfluxQL function nodes (`|mean('x')`, `|top(3, 'x')`, ...): one node type per function, all of
Go type InfluxQLNode, named by the function (`mean3`; both Holt-Winters variants are `holtWinters`)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.tick.pipeline import gotypes as go
from chalicelib.tick.pipeline.base import BATCH, STREAM, NodeType, flag, node_type

S, I64, F, D = go.STRING, go.INT, go.FLOAT, go.DURATION

# What the node emits: a fixed edge, or "same" as its parent provides (the stream transformations).
SAME = "same"


@dataclass(frozen=True, slots=True)
class InfluxQLFunction:
    method: str  # the chaining method (Go name lower-cased first)
    desc: str  # node name prefix and the `method` attribute
    params: tuple[str, ...]  # after the field name
    variadic: str | None
    provides: str


FUNCTIONS: dict[str, InfluxQLFunction] = {
    f.method[0].upper() + f.method[1:]: f
    for f in (
        InfluxQLFunction("count", "count", (), None, STREAM),
        InfluxQLFunction("distinct", "distinct", (), None, BATCH),
        InfluxQLFunction("mean", "mean", (), None, STREAM),
        InfluxQLFunction("median", "median", (), None, STREAM),
        InfluxQLFunction("mode", "mode", (), None, STREAM),
        InfluxQLFunction("spread", "spread", (), None, STREAM),
        InfluxQLFunction("sum", "sum", (), None, STREAM),
        InfluxQLFunction("first", "first", (), None, STREAM),
        InfluxQLFunction("last", "last", (), None, STREAM),
        InfluxQLFunction("min", "min", (), None, STREAM),
        InfluxQLFunction("max", "max", (), None, STREAM),
        InfluxQLFunction("percentile", "percentile", (F,), None, STREAM),
        InfluxQLFunction("top", "top", (), None, BATCH),
        InfluxQLFunction("bottom", "bottom", (), None, BATCH),
        InfluxQLFunction("stddev", "stddev", (), None, STREAM),
        InfluxQLFunction("elapsed", "elapsed", (D,), None, SAME),
        InfluxQLFunction("difference", "difference", (), None, SAME),
        InfluxQLFunction("movingAverage", "movingAverage", (I64,), None, SAME),
        InfluxQLFunction("holtWinters", "holtWinters", (I64, I64, D), None, BATCH),
        InfluxQLFunction("holtWintersWithFit", "holtWinters", (I64, I64, D), None, BATCH),
        InfluxQLFunction("cumulativeSum", "cumulativeSum", (), None, SAME),
    )
}
# top and bottom take the count first: Top(num int64, field string, fieldsAndTags ...string).
TOP_BOTTOM = frozenset({"Top", "Bottom"})


def _influxql_type(desc: str) -> NodeType:
    return node_type(
        "influxql",
        "InfluxQLNode",
        desc,
        fields={
            "Method": ("method", S, desc),
            "Field": ("field", S, ""),
            "As": ("as_", S, desc),
            "Reducer": ("reducer", go.NODE, None),
            "Args": ("args", go.LIST, []),
            "ReduceCreater": ("reduce_creater", "pipeline.ReduceCreater", None),
        },
        methods={"UsePointTimes": flag("point_times")},
    )


NODE_TYPES: dict[str, NodeType] = {f.desc: _influxql_type(f.desc) for f in FUNCTIONS.values()}
