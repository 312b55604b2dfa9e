"""The Flux universe (no import needed): importing it registers every module's functions."""

from chalicelib.flux.stdlib.universe import (
    aggregates,
    basics,
    columns,
    conversions,
    deltas,
    extract,
    grouping,
    join,
    pivot,
    rows,
    selectors,
    sources,
    to,
    unsupported,
    window_aggregates,
    windows,
)

__all__ = [
    "aggregates",
    "basics",
    "columns",
    "conversions",
    "deltas",
    "extract",
    "grouping",
    "join",
    "pivot",
    "rows",
    "selectors",
    "sources",
    "to",
    "unsupported",
    "window_aggregates",
    "windows",
]
