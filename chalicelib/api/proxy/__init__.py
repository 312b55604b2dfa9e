"""The InfluxDB proxy surface (influx-proxy 2.4.7's API): importing this package registers its routes."""

from chalicelib.api.proxy import routes
from chalicelib.api.proxy.blueprint import proxy

__all__ = ["proxy", "routes"]
