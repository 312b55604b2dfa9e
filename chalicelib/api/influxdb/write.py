"""Line protocol in: `/write` (InfluxDB 1.x: database and retention policy) and `/api/v2/write` (a bucket).
A 204 means the points are on the stream."""

from __future__ import annotations

from chalice import Response

from chalicelib import compose
from chalicelib.api.influxdb.auth import authenticate
from chalicelib.api.influxdb.blueprint import influxdb
from chalicelib.api.influxdb.errors import VERSION_HEADERS, render_v1, render_v2
from chalicelib.api.kit import ANY_CONTENT_TYPE, body, renders_errors
from chalicelib.api.observability import points_written
from chalicelib.kit.errors import INVALID, UNPROCESSABLE, TicklessError
from chalicelib.kit.time import V1_PRECISIONS, V2_PRECISIONS
from chalicelib.tenancy.dbrp import bucket_policy


@influxdb.route("/write", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v1)
def write_v1() -> Response:
    request = influxdb.current_request
    query = request.query_params or {}
    precision = V1_PRECISIONS.get(query.get("precision") or "ns")
    if precision is None:
        raise TicklessError(INVALID, f'invalid precision "{query.get("precision")}"')
    principal = authenticate(request, v1=True)
    rp = compose.catalog().resolve(principal, query.get("db", ""), query.get("rp"))
    principal.require_write(rp.namespace, rp.org_id)
    result = compose.writer().write(rp.destination, body(request), precision, retention=rp.duration)
    points_written(result.written, result.conflicts + result.expired)
    if result.partial:
        # InfluxDB 1.x answers a 400 partial write (type conflicts, expired points); the rest is stored.
        raise TicklessError(INVALID, result.partial_message)
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


@influxdb.route("/api/v2/write", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def write_v2() -> Response:
    request = influxdb.current_request
    query = request.query_params or {}
    precision = query.get("precision") or "ns"
    if precision not in V2_PRECISIONS:
        raise TicklessError(INVALID, f'invalid precision "{precision}", must be one of ns, us, ms, s')
    bucket = compose.tenancy().writable_bucket(authenticate(request), query)
    rp = bucket_policy(bucket)
    result = compose.writer().write(rp.destination, body(request), precision, retention=rp.duration)
    points_written(result.written, result.conflicts + result.expired)
    if result.partial:
        raise TicklessError(UNPROCESSABLE, f"failure writing points to database: {result.partial_message}")
    return Response(body="", status_code=204, headers=VERSION_HEADERS)
