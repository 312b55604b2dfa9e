"""The InfluxDB surface's one blueprint: every route module of chalicelib.api.influxdb registers on it,
and app.py mounts it once."""

from __future__ import annotations

from chalice import Blueprint

influxdb = Blueprint(__name__)
