"""Flux over HTTP: `/api/v2/query` (annotated CSV), `/api/v2/query/analyze`, `/api/v2/query/ast` and
`/api/v2/query/suggestions`."""

from __future__ import annotations

import time
from typing import Any

from chalice import Response

from chalicelib import compose
from chalicelib.api.influxdb.auth import authenticate
from chalicelib.api.influxdb.blueprint import influxdb
from chalicelib.api.influxdb.budgets import bounded_body, query_budget
from chalicelib.api.influxdb.errors import VERSION_HEADERS, render_v2
from chalicelib.api.kit import ANY_CONTENT_TYPE, body, json_object, json_response, renders_errors
from chalicelib.flux import ast as flux_ast
from chalicelib.flux import csv as flux_csv
from chalicelib.flux import stdlib
from chalicelib.flux.budget import running
from chalicelib.flux.engine import execute
from chalicelib.flux.org_buckets import OrgBuckets
from chalicelib.flux.parser import parse
from chalicelib.flux.source import Context
from chalicelib.flux.values import RUNTIME_ERRORS, parse_time
from chalicelib.kit.errors import INVALID, NOT_FOUND, TicklessError
from chalicelib.kit.syntax import ParseError, Position
from chalicelib.tenancy.service import Principal

CSV_TYPE = "text/csv; charset=utf-8"
# `Prefer` values influxd honours on /api/v2/query (RFC 7240 preferences, compared whole).
NO_CONTENT = "return-no-content"
NO_CONTENT_WITH_ERROR = "return-no-content-with-error"


# -- request decoding --------------------------------------------------------------------------------


def _dialect(raw: Any) -> flux_csv.Dialect:
    if raw is None:
        return flux_csv.Dialect()
    if not isinstance(raw, dict):
        raise TicklessError(INVALID, "failed to decode request body: dialect must be an object")
    annotations = raw.get("annotations") or []
    for a in annotations:
        if a not in flux_csv.ANNOTATIONS:
            raise TicklessError(INVALID, f"unknown annotation {a!r}: must be one of group, datatype, default")
    delimiter = raw.get("delimiter") or ","
    if len(delimiter) != 1 or delimiter in ("\r", "\n", '"'):
        raise TicklessError(INVALID, "invalid dialect delimiter: must be one character")
    fmt = raw.get("dateTimeFormat") or "RFC3339"
    if fmt not in ("RFC3339", "RFC3339Nano"):
        raise TicklessError(
            INVALID, f"invalid dialect dateTimeFormat {fmt!r}: must be RFC3339 or RFC3339Nano"
        )
    header = raw.get("header")
    return flux_csv.Dialect(header=True if header is None else bool(header), delimiter=delimiter,
                            annotations=list(annotations))  # fmt: skip


def _org(principal: Principal) -> dict:
    query = influxdb.current_request.query_params or {}
    ref = {k: query[k] for k in ("org", "orgID") if query.get(k)}
    if not ref:
        if not principal.org_id:
            raise TicklessError(INVALID, "Please provide either orgID or org")
        ref = {"orgID": principal.org_id}
    try:
        return compose.tenancy().org_of(ref)
    except TicklessError as exc:
        if exc.code == NOT_FOUND:
            raise TicklessError(INVALID, "failed to decode request body: organization not found") from exc
        raise


def _query_text(doc: dict, *, typed: bool = True) -> str:
    """The Flux text of a query, analyze or AST request body; `typed` bodies may name their language
    (`type`), which must be flux."""
    kind = doc.get("type") or "flux"
    if typed and kind != "flux":
        raise TicklessError(INVALID, f'unsupported query type "{kind}"; only "flux" is supported')
    query = doc.get("query")
    if not isinstance(query, str):
        raise TicklessError(INVALID, "failed to decode request body: query must be a string")
    return query


def decode_query(raw: bytes, content_type: str) -> dict:
    """The query request: `query`, `dialect`, `now` (ns or None), `extern` (File or None), `params`."""
    if content_type.startswith("application/vnd.flux"):
        return {"query": raw.decode("utf-8", "replace"), "dialect": flux_csv.Dialect(), "now": None,
                "extern": None, "params": None}  # fmt: skip
    doc = json_object(raw)
    query = _query_text(doc)
    now = None
    if doc.get("now"):
        try:
            now = parse_time(str(doc["now"]))
        except TicklessError as exc:
            raise TicklessError(
                INVALID, f"failed to decode request body: invalid now: {exc.message}"
            ) from exc
    extern = None
    if raw_extern := doc.get("extern"):
        # A File; influxdb-client leaves out its `type` (as influxd, which decodes it as a File anyway).
        if not isinstance(raw_extern, dict) or raw_extern.get("type") not in (None, "File"):
            raise TicklessError(INVALID, "failed to decode request body: extern must be a File")
        try:
            extern = flux_ast.from_json({**raw_extern, "type": "File"})
        except RUNTIME_ERRORS as exc:  # a malformed node (e.g. a list where a node belongs)
            raise TicklessError(INVALID, f"failed to decode request body: invalid extern: {exc}") from exc
    params = doc.get("params")
    if params is not None and not isinstance(params, dict):
        raise TicklessError(INVALID, "failed to decode request body: params must be an object")
    return {"query": query, "dialect": _dialect(doc.get("dialect")), "now": now, "extern": extern,
            "params": params}  # fmt: skip


# -- routes ------------------------------------------------------------------------------------------


@influxdb.route("/api/v2/query", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def post_query() -> Response:
    request = influxdb.current_request
    principal = authenticate(request)
    content_type = (request.headers.get("content-type") or "application/json").lower()
    req = decode_query(body(request), content_type)
    if not req["query"].strip():
        raise TicklessError(INVALID, "query cannot be empty")
    org = _org(principal)
    buckets = OrgBuckets(compose.tenancy(), compose.writer(), principal, org)
    now = req["now"] if req["now"] is not None else time.time_ns()
    budget = query_budget(request)
    context = Context(buckets, compose.store(), now, org, budget=budget)
    try:
        results = execute(req["query"], context, req["extern"], req["params"])
    except RUNTIME_ERRORS as exc:
        raise TicklessError(INVALID, f"runtime error: {exc}") from exc
    prefer = (request.headers.get("prefer") or "").strip().lower()
    if prefer in (NO_CONTENT, NO_CONTENT_WITH_ERROR):
        return _no_content(results, req["dialect"], with_error=prefer == NO_CONTENT_WITH_ERROR)
    text = bounded_body(flux_csv.encode(results, req["dialect"]), budget)
    return Response(body=text, status_code=200, headers={"Content-Type": CSV_TYPE, **VERSION_HEADERS})


def _no_content(results: list, dialect: flux_csv.Dialect, with_error: bool) -> Response:
    """`Prefer: return-no-content`: every result runs (so `to()` writes), the answer is 204. With
    `return-no-content-with-error` it is 200 `text/csv`, empty, or the error table of a query that failed
    while running, as influxd answers. Errors before running (syntax, unknown bucket, permissions) are
    error statuses either way."""
    try:
        for _, stream in results:
            stream.tables()
    except TicklessError as exc:
        error = exc
    except RUNTIME_ERRORS as exc:
        error = TicklessError(INVALID, f"runtime error: {exc}")
    else:
        if not with_error:
            return Response(body="", status_code=204, headers=VERSION_HEADERS)
        return Response(body="", status_code=200, headers={"Content-Type": CSV_TYPE, **VERSION_HEADERS})
    if not with_error or error.code != INVALID:
        raise error
    body = flux_csv.ResultEncoder(dialect).encode_error(error.message)
    return Response(body=body, status_code=200, headers={"Content-Type": CSV_TYPE, **VERSION_HEADERS})


@influxdb.route("/api/v2/query/analyze", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def analyze_query() -> Response:
    request = influxdb.current_request
    authenticate(request)
    query = _query_text(json_object(body(request)))
    errors = []
    try:
        with running(query_budget(request)):
            parse(query)
    except ParseError as exc:
        where = exc.position or Position(0, 0)
        errors.append(
            {"line": where.line, "column": where.column, "character": where.offset, "message": exc.reason}
        )
    return json_response({"errors": errors}, headers=VERSION_HEADERS)


@influxdb.route("/api/v2/query/ast", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def query_ast() -> Response:
    request = influxdb.current_request
    authenticate(request)
    query = _query_text(json_object(body(request)), typed=False)
    budget = query_budget(request)
    with running(budget):
        file = parse(query)
    tree = flux_ast.to_json(file, flux_ast.Locator(query))
    budget.check()
    return json_response(
        {"ast": {"type": "Package", "package": "main", "files": [tree]}}, headers=VERSION_HEADERS
    )


@influxdb.route("/api/v2/query/suggestions", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def query_suggestions() -> Response:
    authenticate(influxdb.current_request)
    return json_response({"funcs": stdlib.suggestions()}, headers=VERSION_HEADERS)


@influxdb.route("/api/v2/query/suggestions/{name}", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def query_suggestion(name: str) -> Response:
    authenticate(influxdb.current_request)
    for func in stdlib.suggestions():
        if func["name"] == name:
            return json_response(func, headers=VERSION_HEADERS)
    # influxd answers an unknown name with a 500; a missing thing is a 404 here (never a 500)
    raise TicklessError(NOT_FOUND, f"function {name} not found")
