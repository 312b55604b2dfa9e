"""The InfluxDB surface: the v2 API and the 1.x compatibility endpoints, one route module per concern, all
on the one `influxdb` blueprint (importing this package registers every route on it)."""

from chalicelib.api.influxdb import delete, flux, meta, query, system, tenancy, write
from chalicelib.api.influxdb.blueprint import influxdb

__all__ = ["delete", "flux", "influxdb", "meta", "query", "system", "tenancy", "write"]
