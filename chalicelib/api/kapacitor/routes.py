"""Kapacitor HTTP endpoints, served under /kapacitor/v1 and, identically, /kapacitor/v1preview."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import compose
from chalicelib.api.kit import ANY_CONTENT_TYPE, body, error_only, renders_errors
from chalicelib.ingest.records import Destination
from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.kit.time import V1_PRECISIONS

VERSION = "1.7.6"
VERSION_HEADERS = {"X-Kapacitor-Version": VERSION}
PREFIXES = ("/kapacitor/v1", "/kapacitor/v1preview")

kapacitor = Blueprint(__name__)


render = error_only(VERSION_HEADERS)


def write() -> Response:
    """Points written to Kapacitor feed its stream tasks; Kapacitor does not store them, so they go on
    the stream without a storage namespace."""
    request = kapacitor.current_request
    query = request.query_params or {}
    database = query.get("db")
    if not database:
        raise TicklessError(INVALID, "missing required parameter db")
    precision = V1_PRECISIONS.get(query.get("precision") or "ns")
    if precision is None:
        raise TicklessError(INVALID, f'invalid precision "{query.get("precision")}"')
    destination = Destination(None, database, query.get("rp") or "autogen")
    compose.writer().write(destination, body(request), precision)
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


def _mount(prefix: str) -> None:
    handler = renders_errors(render)(write)
    name = "kapacitor_write" + prefix.rsplit("/", 1)[-1]
    kapacitor.route(f"{prefix}/write", methods=["POST"], content_types=ANY_CONTENT_TYPE, name=name)(handler)


for _prefix in PREFIXES:
    _mount(_prefix)
