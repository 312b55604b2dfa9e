"""The `influxdata/influxdb/sample` package, known but not supported: its data sets are CSV files Flux
downloads from GitHub, and a query here reads nothing but the org's buckets. The InfluxDB UI emits it
only for its built-in sample buckets; any call answers `function sample.X is not supported`."""

from __future__ import annotations

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.library import package
from chalicelib.flux.values import FluxError


def _not_supported(name: str, params: str) -> None:
    def impl(interp: Interpreter, **kwargs: object) -> None:
        raise FluxError(f"function sample.{name} is not supported")

    package("influxdata/influxdb/sample", name, params)(impl)


_not_supported("data", "set")
_not_supported("list", "")
_not_supported("alignToNow", "tables")
