"""Argument helpers shared by the standard library: streams, times, durations, names and functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.flux.interpreter import Closure, Function, Interpreter
from chalicelib.flux.tables import Stream, Table
from chalicelib.flux.tokens import parse_duration_text
from chalicelib.flux.values import Duration, FluxError, Time, add_duration, duration_of, parse_time, type_name


def stream_of(v: Any, fname: str) -> Stream:
    if not isinstance(v, Stream):
        raise FluxError(f"{fname}: expected a stream of tables, got {type_name(v)}")
    return v


def per_table(tables: Any, fname: str, fn: Callable[[Table], Table | None]) -> Stream:
    return stream_of(tables, fname).map_tables(fn)


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
        return duration_of(parse_duration_text(v))
    raise FluxError(f"{name}: expected a duration, got {type_name(v)}")


def str_list(v: Any, name: str) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise FluxError(f"{name} must be an array of strings")
    return v


def param_name(fn: Any, default: str) -> str:
    """The name of a function's first parameter (`default` for a builtin, or a function without one)."""
    return fn.params[0][0] if isinstance(fn, Closure) and fn.params else default


def record_fn(interp: Interpreter, fn: Any, name: str = "fn") -> Callable[[dict], Any]:
    """`fn` as a function of a record, passed as its first parameter (e.g. `r` of `(r, index)`)."""
    if not isinstance(fn, Function):
        raise FluxError(f"{name} must be a function")
    param = param_name(fn, "r")
    return lambda r: fn.call(interp, {param: r})
