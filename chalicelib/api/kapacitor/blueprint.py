"""The Kapacitor surface's one blueprint. Kapacitor serves its API under /kapacitor/v1 and, by rewriting
the path, identically under /kapacitor/v1preview: `route` mounts a view under /kapacitor/v1, answering
errors as Kapacitor does (`{"error": message}`, with its version header); the preview prefix reaches
it through one catch-all route (api/kapacitor/preview.py), so the API Gateway resources are not
doubled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint

from chalicelib.api.kit import ANY_CONTENT_TYPE, error_only, renders_errors

VERSION = "1.7.6"
VERSION_HEADERS = {"X-Kapacitor-Version": VERSION}
PREFIXES = ("/kapacitor/v1", "/kapacitor/v1preview")

kapacitor = Blueprint(__name__)
render = error_only(VERSION_HEADERS)


def route(path: str, methods: list[str], name: str) -> Callable[[Callable], Callable]:
    """Mount a view at `path` under /kapacitor/v1 (the preview prefix reaches it by rewrite)."""

    def mount(view: Callable) -> Callable:
        handler = renders_errors(render)(view)
        kapacitor.route(
            f"{PREFIXES[0]}{path}",
            methods=methods,
            content_types=ANY_CONTENT_TYPE,
            name=f"kapacitor_{name}v1",
        )(handler)
        return view

    return mount


def list_query() -> dict[str, Any]:
    """The request's query parameters as Kapacitor's list handlers read them: each the last value given,
    `fields` every value given (repeatable)."""
    query = kapacitor.current_request.query_params
    if not query:
        return {}
    values: dict[str, Any] = dict(query)
    values["fields"] = query.getlist("fields") if "fields" in query else []
    return values
