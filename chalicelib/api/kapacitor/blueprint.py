"""The Kapacitor surface's one blueprint. Kapacitor serves its API under /kapacitor/v1 and, identically,
/kapacitor/v1preview: `route` mounts a view under both, answering errors as Kapacitor does
(`{"error": message}`, with its version header)."""

from __future__ import annotations

from collections.abc import Callable

from chalice import Blueprint

from chalicelib.api.kit import ANY_CONTENT_TYPE, error_only, renders_errors

VERSION = "1.7.6"
VERSION_HEADERS = {"X-Kapacitor-Version": VERSION}
PREFIXES = ("/kapacitor/v1", "/kapacitor/v1preview")

kapacitor = Blueprint(__name__)
render = error_only(VERSION_HEADERS)


def route(path: str, methods: list[str], name: str) -> Callable[[Callable], Callable]:
    """Mount a view at `path` under every prefix; `name` names the routes (one per prefix)."""

    def mount(view: Callable) -> Callable:
        handler = renders_errors(render)(view)
        for prefix in PREFIXES:
            route_name = f"kapacitor_{name}{prefix.rsplit('/', 1)[-1]}"
            kapacitor.route(
                f"{prefix}{path}", methods=methods, content_types=ANY_CONTENT_TYPE, name=route_name
            )(handler)
        return view

    return mount
