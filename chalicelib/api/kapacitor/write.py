"""`/kapacitor/v1/write`: points for Kapacitor's stream tasks. Kapacitor does not store them, so they go on
the stream without a storage namespace. Writers need credentials (`auth.py`)."""

from __future__ import annotations

from chalice import Response

from chalicelib import compose
from chalicelib.api.kapacitor.auth import writer
from chalicelib.api.kapacitor.blueprint import VERSION_HEADERS, kapacitor, route
from chalicelib.api.kit import body
from chalicelib.api.observability import points_written
from chalicelib.ingest.records import Destination
from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.kit.time import V1_PRECISIONS
from chalicelib.tenancy.dbrp import DEFAULT_RP


@route("/write", methods=["POST"], name="write")
def write() -> Response:
    request = kapacitor.current_request
    principal = writer(request)
    query = request.query_params or {}
    database = query.get("db")
    if not database:
        raise TicklessError(INVALID, "missing required parameter db")
    precision = V1_PRECISIONS.get(query.get("precision") or "ns")
    if precision is None:
        raise TicklessError(INVALID, f'invalid precision "{query.get("precision")}"')
    destination = Destination(None, database, query.get("rp") or DEFAULT_RP, principal.org_id)
    result = compose.writer().write(destination, body(request), precision)
    points_written(result.written, result.conflicts + result.expired)
    return Response(body="", status_code=204, headers=VERSION_HEADERS)
