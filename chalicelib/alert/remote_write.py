"""influxDBOut's points for another InfluxDB (`.cluster('name')`, an `influxdb` config element with
URLs): the /write request Kapacitor's InfluxDB client makes, sent by the alert queue's worker so a slow
or failing InfluxDB is retried and never blocks the task."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from chalicelib.alert.delivery import Delivery, DeliveryError

# canonical time units (kit.time.NS_PER_UNIT) to the precision names InfluxDB 1.x's /write takes
_PRECISIONS = {"ns": "n", "us": "u", "ms": "ms", "s": "s", "m": "m", "h": "h"}


def cluster_named(clusters: Any, name: str) -> Mapping[str, Any]:
    found = next((c for c in clusters or [] if c.get("name") == name), None)
    if found is None:
        raise DeliveryError(f"no such InfluxDB config {name}")
    if not found.get("urls"):
        raise DeliveryError(f"InfluxDB config {name} has no URL")
    return found


def influxdb_write(
    cluster: Mapping[str, Any], database: str, retention_policy: str, precision: str, lines: str
) -> Delivery:
    """POST <first url>/write with the cluster's credentials (a token, else user and password) and
    compression, answered 204 or 200 when taken."""
    query = {"db": database, "rp": retention_policy, "precision": _PRECISIONS.get(precision, "n")}
    query["consistency"] = ""
    url = f"{cluster['urls'][0].rstrip('/')}/write?{urlencode(sorted(query.items()))}"
    body = (lines + "\n").encode()
    headers = {"Content-Type": "application/octet-stream"}
    if cluster.get("compression", "gzip") == "gzip":
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    if cluster.get("token"):
        headers["Authorization"] = "Token " + cluster["token"]
    elif cluster.get("username"):
        pair = f"{cluster['username']}:{cluster.get('password') or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    params: dict[str, Any] = {"skip-ssl-verification": bool(cluster.get("insecure-skip-verify"))}
    if cluster.get("timeout"):
        params["timeout"] = cluster["timeout"] / 1e9
    return Delivery(
        "http", url, body, headers=headers, params=params, ok_statuses=(200, 204), kind="influxDBOut"
    )
