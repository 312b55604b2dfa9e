"""InfluxDB HTTP endpoints: v1 compatibility (/write, /query, /ping) and the v2 API."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from chalice import Blueprint, Response

from chalicelib import compose
from chalicelib.api.influxdb.auth import authenticate
from chalicelib.api.influxdb.errors import VERSION, VERSION_HEADERS, render_v1, render_v2
from chalicelib.api.kit import ANY_CONTENT_TYPE, body, json_response, params, renders_errors
from chalicelib.influxql.conditions import ConditionError, parse_time
from chalicelib.influxql.engine import run as v1query
from chalicelib.ingest.records import Destination
from chalicelib.kit.errors import FORBIDDEN, INVALID, NOT_FOUND, UNPROCESSABLE, TicklessError
from chalicelib.series.predicate import parse_predicate
from chalicelib.tenancy.dbrp import RetentionPolicy, virtual_mapping
from chalicelib.tenancy.service import Principal

influxdb = Blueprint(__name__)
_STARTED = datetime.now(UTC)

V1_PRECISIONS = {"n": "ns", "ns": "ns", "u": "us", "us": "us", "ms": "ms", "s": "s", "m": "m", "h": "h"}
V2_PRECISIONS = ("ns", "us", "ms", "s")


@influxdb.route("/ping", methods=["GET", "HEAD"], content_types=ANY_CONTENT_TYPE)
def ping() -> Response:
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


@influxdb.route("/health", methods=["GET"], content_types=ANY_CONTENT_TYPE)
def health() -> Response:
    return json_response(
        {
            "name": "influxdb",
            "message": "ready for queries and writes",
            "status": "pass",
            "checks": [],
            "version": VERSION,
            "commit": "tickless",
        },
        headers=VERSION_HEADERS,
    )


@influxdb.route("/ready", methods=["GET"], content_types=ANY_CONTENT_TYPE)
def ready() -> Response:
    up = datetime.now(UTC) - _STARTED
    started = _STARTED.isoformat().replace("+00:00", "Z")
    return json_response(
        {"status": "ready", "started": started, "up": f"{up.total_seconds():.0f}s"}, headers=VERSION_HEADERS
    )


def _destination(rp: RetentionPolicy) -> Destination:
    return Destination(rp.namespace, rp.database, rp.name)


def _require_write(principal: Principal, bucket_id: str, org_id: str) -> None:
    if not principal.can("write", "buckets", id=bucket_id, org_id=org_id):
        raise TicklessError(FORBIDDEN, "insufficient permissions for write")


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
    _require_write(principal, rp.namespace, rp.org_id)
    result = compose.writer().write(_destination(rp), body(request), precision)
    if result.conflict:
        # InfluxDB 1.x reports type conflicts as a 400 partial write; the other points are stored.
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
    principal = authenticate(request)
    bucket = _bucket_of(query)
    _require_write(principal, bucket["id"], bucket["orgID"])
    mapping = virtual_mapping(bucket)
    destination = Destination(bucket["id"], mapping["database"], mapping["retention_policy"])
    result = compose.writer().write(destination, body(request), precision)
    if result.conflict:
        raise TicklessError(UNPROCESSABLE, f"failure writing points to database: {result.partial_message}")
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


def _bucket_of(query: dict[str, str]) -> dict:
    """The bucket a v2 write or delete names: `org`/`orgID`, then `bucket` (name or ID) or `bucketID`."""
    if not query.get("org") and not query.get("orgID"):
        raise TicklessError(INVALID, "Please provide either orgID or org")
    org = compose.tenancy().org_of(query)
    name = query.get("bucket") or query.get("bucketID")
    if not name:
        raise TicklessError(INVALID, "Please provide bucket")
    bucket = compose.tenancy().find_bucket(org["id"], name)
    if bucket is None:
        raise TicklessError(NOT_FOUND, f'bucket "{name}" not found')
    return bucket


@influxdb.route("/api/v2/delete", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def delete_v2() -> Response:
    """Delete points of a bucket in [start, stop] matching a predicate (InfluxDB 2's /api/v2/delete)."""
    request = influxdb.current_request
    principal = authenticate(request)
    bucket = _bucket_of(request.query_params or {})
    _require_write(principal, bucket["id"], bucket["orgID"])
    try:
        payload = json.loads(body(request) or b"{}")
    except ValueError as exc:
        raise TicklessError(INVALID, f"invalid request; error parsing request json: {exc}") from exc
    if not isinstance(payload, dict):
        raise TicklessError(INVALID, "invalid request; error parsing request json: expected an object")
    start, stop = (_rfc3339(payload.get(key), key) for key in ("start", "stop"))
    if start > stop:
        raise TicklessError(
            INVALID, "invalid request; error parsing request json: start must not be after stop"
        )
    predicate_text = payload.get("predicate") or ""
    if not isinstance(predicate_text, str):
        raise TicklessError(
            INVALID, "invalid request; error parsing request json: predicate must be a string"
        )
    predicate = parse_predicate(predicate_text)
    store = compose.store()
    for measurement in store.index.measurements(bucket["id"]):
        if not predicate.measurement_matches(measurement):
            continue
        keys = None
        if predicate.has_tag_conditions:
            entries = store.index.series(bucket["id"], measurement)
            keys = {e.key for e in entries if predicate.tags_match(dict(e.tags))}
            if not keys:
                continue
        store.delete(bucket["id"], measurement, start, stop, keys)
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


def _rfc3339(value: object, field: str) -> int:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse_time(value)
    except (ValueError, ConditionError) as exc:
        raise TicklessError(
            INVALID,
            f"invalid request; error parsing request json: invalid RFC3339Nano for field {field}, please "
            "format your time with RFC3339Nano format, example: 2009-01-02T23:00:00Z",
        ) from exc


@influxdb.route("/query", methods=["GET", "POST"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v1)
def query_v1() -> Response:
    import json

    request = influxdb.current_request
    args = params(request)
    q = args.get("q", "")
    if not q.strip():
        raise TicklessError(INVALID, 'missing required parameter "q"')
    bound = None
    if args.get("params"):
        try:
            bound = json.loads(args["params"])
        except ValueError as exc:
            raise TicklessError(INVALID, f"error parsing query parameters: {exc}") from exc
        if not isinstance(bound, dict):
            raise TicklessError(INVALID, "error parsing query parameters: expected a JSON object")
    accept = (request.headers.get("accept") or "").lower()
    as_csv = "application/csv" in accept or "text/csv" in accept
    epoch = args.get("epoch") or None
    payload = v1query.execute(
        authenticate(request, v1=True),
        q,
        database=args.get("db", ""),
        retention_policy=args.get("rp", ""),
        epoch=epoch or ("ns" if as_csv else None),
        now=time.time_ns(),
        params=bound,
    )
    chunked = args.get("chunked") == "true"
    try:
        chunk_size = int(args.get("chunk_size") or 0)
    except ValueError:
        chunk_size = 0
    parts = list(v1query.chunks(payload, chunk_size)) if chunked else [payload]
    if as_csv:
        body_text = "".join(v1query.to_csv(part) for part in parts)
        content_type = "application/csv"
    else:
        pretty = args.get("pretty") == "true"
        body_text = "\n".join(v1query.to_json(part, pretty=pretty) for part in parts)
        if chunked:
            body_text += "\n"
        content_type = "application/json"
    return Response(
        body=body_text,
        status_code=200,
        headers={"Content-Type": content_type, **VERSION_HEADERS},
    )
