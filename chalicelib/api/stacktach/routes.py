"""StackTach.v3's API (seed 004) over chalicelib/stacktach/service.py. Who may call: an operator's
InfluxDB token (read or write on `notificationRules` across the instance: StackTach's data is the whole
cloud's, so no organization's token reaches it)."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib import compose
from chalicelib.api.influxdb.auth import authenticate, presents_credentials
from chalicelib.api.kit import body, json_response
from chalicelib.api.stacktach.blueprint import route, stacktach
from chalicelib.kit.errors import FORBIDDEN, INVALID, UNAUTHORIZED, TicklessError
from chalicelib.kit.gojson import first_value, go_json_error

PERMISSION = "notificationRules"


def _allowed(action: str) -> None:
    request = stacktach.current_request
    if not presents_credentials(request, v1=False):
        raise TicklessError(UNAUTHORIZED, "a token is required (Authorization: Token ...)")
    principal = authenticate(request, v1=False)
    if not principal.can(action, PERMISSION):
        raise TicklessError(
            FORBIDDEN, f"{action} on StackTach needs an operator's {action} {PERMISSION} permission"
        )


def _params() -> dict[str, Any]:
    return dict(stacktach.current_request.query_params or {})


@route("/v1/streams", methods=["GET"], name="streams")
def streams() -> Response:
    _allowed("read")
    return json_response(compose.stacktach().streams(_params()))


@route("/v1/streams/count", methods=["GET"], name="streams_count")
def streams_count() -> Response:
    _allowed("read")
    return json_response(compose.stacktach().streams(_params(), counting=True))


@route("/v1/streams/{stream_id}", methods=["GET", "DELETE", "PUT", "POST"], name="stream")
def stream(stream_id: str) -> Response:
    request = stacktach.current_request
    method = request.method
    if method == "POST":  # as StackTach's docs send a PUT: `X-HTTP-Method-Override: PUT`
        method = (request.headers.get("x-http-method-override") or "").upper()
        if method != "PUT":
            raise TicklessError(INVALID, "POST /v1/streams/<id> needs X-HTTP-Method-Override: PUT")
    if method == "GET":
        _allowed("read")
        return json_response(compose.stacktach().stream(stream_id, _params()))
    _allowed("write")
    if method == "DELETE":
        compose.stacktach().delete_stream(stream_id)
    else:
        compose.stacktach().reset_stream(stream_id)
    return Response(body="", status_code=204)


@route("/v1/events", methods=["GET"], name="events")
def events() -> Response:
    _allowed("read")
    return json_response(compose.stacktach().events(_params()))


@route("/v1/events/count", methods=["GET"], name="events_count")
def events_count() -> Response:
    _allowed("read")
    return json_response(compose.stacktach().events(_params(), counting=True))


@route("/v1/events/{message_id}", methods=["GET"], name="event")
def event(message_id: str) -> Response:
    _allowed("read")
    return json_response(compose.stacktach().event(message_id))


@route("/v1/notifications", methods=["POST"], name="notifications")
def notifications() -> Response:
    """tickless's convenience: notifications posted here are ingested at once (a JSON notification or a
    list); the answer counts them; any it refused make it a 400 naming them (the others are stored)."""
    _allowed("write")
    raw = body(stacktach.current_request)
    problem = go_json_error(raw, stream=False)
    if problem is not None:
        raise TicklessError(INVALID, f"the body is not JSON: {problem}")
    doc = first_value(raw)
    result = compose.stacktach().ingest(doc if isinstance(doc, list) else [doc])
    answer = {"stored": result.stored, "duplicates": result.duplicates, "dropped": result.dropped}
    if result.refused:
        raise TicklessError(
            INVALID, f"{len(result.refused)} notification(s) refused: {'; '.join(result.refused)}"
        )
    return json_response(answer)
