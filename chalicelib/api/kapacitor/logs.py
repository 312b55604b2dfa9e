"""`GET /kapacitor/v1preview/logs`: the caller's organization's Kapacitor log entries that match the
query's `key=value` parameters, one a line, JSON when the request asks for it (`Accept` or
`Content-Type: application/json`), logfmt otherwise. Kapacitor serves it on its preview prefix only.

Kapacitor keeps the answer open and streams; an API Gateway answer is whole and ends within 29 s, so this
one holds what the organization's log ring has (a recent window, or after `since`), waiting at most
`wait` seconds (default 10, at most 20) for a first match (chalicelib/kapacitor/logs.py). The
`X-Tickless-Logs-Since` header is the `since` that goes on where the answer stopped reading."""

from __future__ import annotations

from chalice import Response

from chalicelib import compose
from chalicelib.api.kapacitor.auth import task_manager
from chalicelib.api.kapacitor.blueprint import VERSION_HEADERS, kapacitor, render
from chalicelib.api.kit import ANY_CONTENT_TYPE, renders_errors
from chalicelib.kapacitor.logs import JSON_TYPE, LOGFMT_TYPE, parse_query
from chalicelib.kit.time import format_rfc3339nano

PATH = "/kapacitor/v1preview/logs"
NEXT_SINCE_HEADER = "X-Tickless-Logs-Since"


@kapacitor.route(PATH, methods=["GET"], content_types=ANY_CONTENT_TYPE, name="kapacitor_logsv1preview")
@renders_errors(render)
def get_logs() -> Response:
    request = kapacitor.current_request
    org = task_manager(request, "read").org_id or ""
    query_params = request.query_params or {}
    params = {key: query_params.getlist(key) for key in query_params}  # type: ignore[attr-defined]
    headers = request.headers
    query = parse_query(params, headers.get("accept") or "", headers.get("content-type") or "")
    answer = compose.kapacitor_logs().tail(org, query)
    return Response(
        body=answer.body(query.as_json),
        status_code=200,
        headers={
            **VERSION_HEADERS,
            "Content-Type": JSON_TYPE if query.as_json else LOGFMT_TYPE,
            NEXT_SINCE_HEADER: format_rfc3339nano(answer.next_since),
        },
    )
