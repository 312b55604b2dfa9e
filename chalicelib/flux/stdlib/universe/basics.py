"""Plain values and functions of the universe: `true`, `false`, `inf`, `now()`, `length()`, `contains()`."""

from __future__ import annotations

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.library import UNIVERSE, universe
from chalicelib.flux.values import MAX_NS, Duration, FluxError, Time

UNIVERSE.update({"true": True, "false": False, "inf": Duration(0, MAX_NS)})


@universe("now", "", "", None)
def now_(interp: Interpreter):
    return Time(interp.now())


@universe("length", "arr", "arr", None)
def length_(interp: Interpreter, arr):
    if not isinstance(arr, list):
        raise FluxError("length: arr must be an array")
    return len(arr)


@universe("contains", "value set", "set", None)
def contains_(interp: Interpreter, set, value=None):
    if not isinstance(set, list):
        raise FluxError("contains: set must be an array")
    return value is not None and value in set
