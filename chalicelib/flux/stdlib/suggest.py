"""The universe's functions as Flux's suggestions endpoint lists them, with parameter types for the UI."""

from __future__ import annotations

from typing import Any

from chalicelib.flux.interpreter import Function
from chalicelib.flux.stdlib.library import UNIVERSE


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
