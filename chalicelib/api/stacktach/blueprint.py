"""The StackTach surface's blueprint: StackTach.v3's `/v1` API (quincy), errors as its falcon app writes
them (`{"title": ..., "description": ...}`), never a 500 for bad input."""

from __future__ import annotations

from collections.abc import Callable

from chalice import Blueprint, Response

from chalicelib.api.kit import ANY_CONTENT_TYPE, json_response, renders_errors
from chalicelib.kit.errors import TicklessError

stacktach = Blueprint(__name__)

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
}


def render(error: TicklessError) -> Response:
    title = _TITLES.get(error.status, "Error")
    return json_response({"title": title, "description": error.message}, error.status)


def route(path: str, methods: list[str], name: str) -> Callable[[Callable], Callable]:
    def mount(view: Callable) -> Callable:
        stacktach.route(path, methods=methods, content_types=ANY_CONTENT_TYPE, name=f"stacktach_{name}")(
            renders_errors(render)(view)
        )
        return view

    return mount
