"""The `influxdata/influxdb` package: `from()`, `to()` and `buckets()` under the package's name."""

from __future__ import annotations

from chalicelib.flux.stdlib.library import members, package
from chalicelib.flux.stdlib.universe.sources import buckets_, from_
from chalicelib.flux.stdlib.universe.to import to_


@package("influxdata/influxdb", "buckets", "org orgID host token")
def influxdb_buckets(interp, **kw):
    return buckets_.call(interp, kw)


members("influxdata/influxdb").update({"from": from_, "to": to_})
