"""Type conversions: `float`, `int`, `uint`, `string`, `bool`, `time`, `duration`, `toFloat` ... `toTime`."""

from __future__ import annotations

import math
from typing import Any

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.args import duration_arg, per_table
from chalicelib.flux.stdlib.library import universe
from chalicelib.flux.tables import Table, to_column_value
from chalicelib.flux.values import Duration, FluxError, Time, parse_time, to_string, type_name
from chalicelib.kit.points import UInt


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


def _conversion(to: str) -> None:
    """`to(v:)`, and but for durations its column form `toX(tables:)` converting `_value`."""

    def impl(interp: Interpreter, v):
        return convert(v, to)

    universe(to, "v", "", None)(impl)
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

    universe({"uint": "toUInt"}.get(to, "to" + to.capitalize()))(column_impl)


for _to in ("float", "int", "uint", "string", "bool", "time", "duration"):
    _conversion(_to)
