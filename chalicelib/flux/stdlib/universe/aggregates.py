"""Aggregates: `mean`, `sum`, `count`, `spread`, `stddev`, `skew`, `median`, `quantile`."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

from chalicelib.flux import folds, reads
from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import per_table
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.tables import Table
from chalicelib.flux.values import FluxError
from chalicelib.kit.points import UInt


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


def agg_skew(values: list, kind: str):
    """Flux's skew: its one-pass moments, in its order (so the float result is the same); NaN under two
    values, null without any."""
    if not values:
        return None
    n = m1 = m2 = m3 = 0.0
    for v in values:
        n0 = n
        n += 1
        delta = float(v) - m1
        delta_n = delta / n
        t = delta * delta_n * n0
        m3 += t * delta_n * (n - 2) - 3 * delta_n * m2
        m2 += t
        m1 += delta_n
    if n < 2 or m2 == 0:
        return math.nan  # Go's 0/0 (every value equal) is NaN too
    return math.sqrt(n) * m3 / m2**1.5


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


AGG_TYPES = {
    "mean": "float",
    "count": "int",
    "stddev": "float",
    "skew": "float",
    "median": "float",
    "quantile": "float",
}
AGGREGATES: dict[str, Callable[[list, str], Any]] = {
    "mean": agg_mean,
    "sum": agg_sum,
    "count": agg_count,
    "spread": agg_spread,
    "stddev": agg_stddev,
    "skew": agg_skew,
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
