"""The Flux entry point: a query parsed and evaluated with the standard library, giving its results."""

from __future__ import annotations

from typing import Any

from chalicelib.flux import ast
from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.parser import parse
from chalicelib.flux.source import Context
from chalicelib.flux.stdlib import PACKAGES, UNIVERSE
from chalicelib.flux.tables import Stream
from chalicelib.flux.values import RUNTIME_ERRORS, FluxError


def execute(
    query: str,
    context: Context,
    extern: ast.File | None = None,
    params: dict[str, Any] | None = None,
) -> list[tuple[str, Stream]]:
    """Parse and evaluate a query; the named results, whose streams compute lazily."""
    file = parse(query)
    interp = Interpreter(context, UNIVERSE, PACKAGES)
    if params:
        interp.globals.vars["params"] = {k: params_value(v) for k, v in params.items()}
    try:
        if extern is not None:
            interp.run(extern)
        interp.run(file)
    except RecursionError as exc:
        raise FluxError("runtime error: maximum recursion depth exceeded") from exc
    except RUNTIME_ERRORS as exc:
        raise FluxError(f"runtime error: {exc}") from exc
    return interp.finish()


def params_value(v: Any) -> Any:
    """A JSON `params` value as a Flux value (strings stay strings, as InfluxDB passes them)."""
    if isinstance(v, dict):
        return {k: params_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [params_value(x) for x in v]
    return v
