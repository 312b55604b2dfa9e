"""The InfluxDB surface: the v2 API and the 1.x compatibility endpoints, one route module per concern,
all on the `influxdb` blueprint (importing this package registers them)."""

from chalicelib.api.influxdb import delete, meta, query, system, write
from chalicelib.api.influxdb.blueprint import influxdb
from chalicelib.api.influxdb.flux import flux_routes
from chalicelib.api.influxdb.tenancy import tenancy_routes

BLUEPRINTS = (influxdb, flux_routes, tenancy_routes)

__all__ = ["BLUEPRINTS", "delete", "meta", "query", "system", "write"]
