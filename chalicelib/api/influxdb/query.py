"""`/query`: InfluxQL as InfluxDB 1.x serves it (JSON or CSV, chunked, bound parameters)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from chalice import Response

from chalicelib import compose
from chalicelib.api.influxdb.auth import authenticate
from chalicelib.api.influxdb.blueprint import influxdb
from chalicelib.api.influxdb.budgets import bounded_body, query_budget
from chalicelib.api.influxdb.errors import VERSION_HEADERS, render_v1
from chalicelib.api.kit import ANY_CONTENT_TYPE, params, renders_errors
from chalicelib.influxql.engine import run as influxql
from chalicelib.kit.errors import INVALID, TicklessError


@influxdb.route("/query", methods=["GET", "POST"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v1)
def query_v1() -> Response:
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
    budget = query_budget(request)
    payload = influxql.execute(
        compose.influxql(),
        authenticate(request, v1=True),
        q,
        database=args.get("db", ""),
        retention_policy=args.get("rp", ""),
        epoch=epoch or ("ns" if as_csv else None),
        now=time.time_ns(),
        params=bound,
        budget=budget,
    )
    chunked = args.get("chunked") == "true"
    try:
        chunk_size = int(args.get("chunk_size") or 0)
    except ValueError:
        chunk_size = 0
    parts = influxql.chunks(payload, chunk_size) if chunked else iter([payload])
    if as_csv:
        body_text = bounded_body(map(influxql.to_csv, parts), budget)
        content_type = "application/csv"
    else:
        pretty = args.get("pretty") == "true"
        body_text = bounded_body(_json_lines(parts, pretty, chunked), budget)
        content_type = "application/json"
    return Response(
        body=body_text, status_code=200, headers={"Content-Type": content_type, **VERSION_HEADERS}
    )


def _json_lines(parts: Iterator[dict], pretty: bool, chunked: bool) -> Iterator[str]:
    """The JSON of each part, a newline between them (and after the last when chunked)."""
    for n, part in enumerate(parts):
        if n:
            yield "\n"
        yield influxql.to_json(part, pretty=pretty)
    if chunked:
        yield "\n"
