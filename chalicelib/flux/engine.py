"""The Flux entry point: a query parsed and evaluated with the standard library, giving its results."""

from __future__ import annotations

from typing import Any

from chalicelib.flux import ast
from chalicelib.flux.budget import running
from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.parser import parse
from chalicelib.flux.source import Context
from chalicelib.flux.stdlib import PACKAGES, UNIVERSE
from chalicelib.flux.tables import Stream
from chalicelib.flux.values import RUNTIME_ERRORS, FluxError
from chalicelib.kit.budget import Budget


def execute(
    query: str,
    context: Context,
    extern: ast.File | None = None,
    params: dict[str, Any] | None = None,
) -> list[tuple[str, Stream]]:
    """Parse and evaluate a query; the named results, whose streams compute lazily, within the
    context's budget (as the program runs, and later as its results are computed)."""
    with running(context.budget):
        file = parse(query)
        if extern is not None:
            ast.check_depth(extern)
        interp = Interpreter(context, UNIVERSE, PACKAGES)
        if params:
            interp.globals.vars["params"] = {k: params_value(v) for k, v in params.items()}
        try:
            if extern is not None:
                interp.run(extern)
            interp.run(file)
        except RecursionError as exc:  # deep calls of functions calling functions
            raise FluxError("runtime error: maximum recursion depth exceeded") from exc
        except RUNTIME_ERRORS as exc:
            raise FluxError(f"runtime error: {exc}") from exc
        results = interp.finish()
    if context.budget is None:
        return results
    return [(name, _within(context.budget, stream)) for name, stream in results]


def _within(budget: Budget, stream: Stream) -> Stream:
    """`stream`, computed within `budget` whoever asks for its tables."""

    def produce() -> list:
        with running(budget):
            return stream.tables()

    return Stream(produce, charged=True)  # the stream charged them


def params_value(v: Any) -> Any:
    """A JSON `params` value as a Flux value (strings stay strings, as InfluxDB passes them)."""
    if isinstance(v, dict):
        return {k: params_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [params_value(x) for x in v]
    return v
