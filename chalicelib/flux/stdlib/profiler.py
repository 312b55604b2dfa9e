"""The `profiler` package: accepted (`option profiler.enabledProfilers`), with no profiles."""

from __future__ import annotations

from chalicelib.flux.stdlib.library import members

members("profiler")["enabledProfilers"] = []
