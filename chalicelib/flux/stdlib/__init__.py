"""The Flux standard library: importing it registers the universe and every package in `library`."""

from chalicelib.flux.stdlib import (
    array,
    date,
    influxdb,
    math,
    profiler,
    regexp,
    runtime,
    sample,
    schema,
    strings,
    universe,
    v1,
)
from chalicelib.flux.stdlib.library import PACKAGES, UNIVERSE
from chalicelib.flux.stdlib.suggest import suggestions

__all__ = [
    "PACKAGES",
    "UNIVERSE",
    "array",
    "date",
    "influxdb",
    "math",
    "profiler",
    "regexp",
    "runtime",
    "sample",
    "schema",
    "strings",
    "suggestions",
    "universe",
    "v1",
]
