"""Consecutive rows: `derivative`, `difference`, `increase`, `cumulativeSum`, `movingAverage`, `elapsed`."""

from __future__ import annotations

import math
from typing import Any

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import duration_arg, per_table, str_list
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.tables import Table
from chalicelib.flux.values import NS_PER_UNIT, Duration, FluxError


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
