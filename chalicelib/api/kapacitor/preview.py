"""`/kapacitor/v1preview/...`: as Kapacitor's router rewrites a preview path it has no route for to the
same path under /kapacitor/v1, one catch-all route takes every such request and runs the /kapacitor/v1
view that matches (404 and 405 in Kapacitor's format otherwise). The view sees the preview prefix in the
request's resource path, so its links keep the prefix the caller used. Routes that exist only under the
preview prefix (logs) are routes of their own and never reach here."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.api.kapacitor.blueprint import PREFIXES, kapacitor, render
from chalicelib.api.kapacitor.misc import ROUTES_SEGMENT, routes_listing
from chalicelib.api.kit import ANY_CONTENT_TYPE, renders_errors
from chalicelib.kit.errors import METHOD_NOT_ALLOWED, NOT_FOUND, TicklessError

BASE, PREVIEW = PREFIXES
CATCH_ALL = f"{PREVIEW}/{{proxy+}}"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def match(routes: Any, path: str) -> tuple[str, dict[str, str]] | None:
    """The route template of the app matching `path` (static segments preferred), and its parameters."""
    parts = [p for p in path.split("/") if p]
    best: tuple[int, str, dict[str, str]] | None = None
    for template in list(routes):
        if not template.startswith(BASE + "/") or "{proxy+}" in template:
            continue
        pattern = [p for p in template.split("/") if p]
        if len(pattern) != len(parts):
            continue
        params: dict[str, str] = {}
        static = 0
        for want, got in zip(pattern, parts, strict=True):
            if want.startswith("{") and want.endswith("}"):
                params[want[1:-1]] = got
            elif want == got:
                static += 1
            else:
                break
        else:
            if best is None or static > best[0]:
                best = (static, template, params)
    return (best[1], best[2]) if best is not None else None


@kapacitor.route(CATCH_ALL, methods=METHODS, content_types=ANY_CONTENT_TYPE, name="kapacitor_preview")
@renders_errors(render)
def preview() -> Response:
    request = kapacitor.current_request
    routes = kapacitor.current_app.routes
    rest = (request.uri_params or {}).get("proxy", "")
    if rest == ROUTES_SEGMENT and request.method == "GET":
        return routes_listing(request, routes)
    found = match(routes, f"{BASE}/{rest}")
    if found is None:
        raise TicklessError(NOT_FOUND, "Not Found")  # Kapacitor's 404 (api/edge.py answers it alike)
    template, params = found
    entry = routes[template].get(request.method)
    if entry is None:
        allowed = ", ".join(sorted(routes[template]))
        response = render(TicklessError(METHOD_NOT_ALLOWED, f"allow: {allowed}"))
        response.headers["Allow"] = allowed
        return response
    # what the view reads of its route: the resource (with the caller's prefix) and the parameters
    context = request.context if isinstance(request.context, dict) else {}
    context["resourcePath"] = PREVIEW + template[len(BASE) :]
    request.uri_params = params
    return entry.view_function(**{name: params[name] for name in entry.view_args})
