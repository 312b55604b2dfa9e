"""The `array` package: `array.from()`, a stream of one table from an array of records."""

from __future__ import annotations

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.library import package
from chalicelib.flux.tables import Stream, from_records
from chalicelib.flux.values import FluxError


@package("array", "from", "rows", "rows")
def array_from(interp: Interpreter, rows):
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise FluxError("array.from: rows must be an array of records")
    return Stream(tables=from_records(rows, []))
