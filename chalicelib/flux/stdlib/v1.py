"""The `influxdata/influxdb/v1` package: the schema functions (see `schema`) under their v1 path."""

from __future__ import annotations

from chalicelib.flux.stdlib.schema import schema_functions

schema_functions("influxdata/influxdb/v1")
