"""The InfluxDB proxy surface's blueprint: influx-proxy's routes, mounted under `/proxy` in the all-in-one
app and at the root of a dedicated proxy deployment (app.py; the local stack also serves the `/proxy`
routes at the root of their own port, as influx-proxy listens), errors as influx-proxy writes them:
`{"error": message}` and a newline, with its version header."""

from __future__ import annotations

from collections.abc import Callable

from chalice import Blueprint, Response

from chalicelib.api.kit import ANY_CONTENT_TYPE, renders_errors
from chalicelib.kit.errors import TicklessError

VERSION = "2.4.7"
PREFIX = "/proxy"
VERSION_HEADERS = {"X-Influxdb-Version": VERSION}

proxy = Blueprint(__name__)


def render(error: TicklessError) -> Response:
    return json_answer({"error": error.message}, error.status)


def json_answer(payload: object, status: int = 200, *, pretty: bool = False) -> Response:
    from chalicelib.proxy.results import go_json

    return Response(
        body=go_json(payload, pretty=pretty),
        status_code=status,
        headers={**VERSION_HEADERS, "Content-Type": "application/json"},
    )


def text_answer(text: str, status: int = 200) -> Response:
    """influx-proxy's plain answers (encrypt, decrypt, replica's refusal): the text and a newline, as
    Go's sniffed `text/plain`. That is a binary media type of the app (line protocol arrives as it), which
    API Gateway only returns to a client that accepts it (curl, requests, browsers send `*/*`); any other
    gets the same answer as JSON: `{"error": text}` for a refusal, the text as a JSON string otherwise."""
    accept = (proxy.current_request.headers.get("accept") or "").lower()
    if "*/*" in accept or "text/plain" in accept or "text/*" in accept:
        headers = {**VERSION_HEADERS, "Content-Type": "text/plain; charset=utf-8"}
        return Response(body=(text + "\n").encode(), status_code=status, headers=headers)
    return json_answer({"error": text} if status >= 400 else text, status)


def route(path: str, methods: list[str], name: str) -> Callable[[Callable], Callable]:
    def mount(view: Callable) -> Callable:
        proxy.route(path, methods=methods, content_types=ANY_CONTENT_TYPE, name=f"proxy_{name}")(
            renders_errors(render)(view)
        )
        return view

    return mount
