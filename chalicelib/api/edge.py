"""What the app answers to a request no view takes: `404` for a path that is no route (it arrives through
a catch-all resource, `routing.py`) and `405` for a method a route does not have, each in the format of
the surface the path belongs to. Nothing of the request (headers, credentials) is echoed. One path that
no resource can name is served here: Kapacitor's `GET /kapacitor/v1/:routes` (api/kapacitor/misc.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import Request

from chalicelib.api.influxdb.errors import render_v1, render_v2
from chalicelib.api.kapacitor.blueprint import render as render_kapacitor
from chalicelib.api.kapacitor.misc import is_routes_request, routes_listing
from chalicelib.api.kit import Renderer
from chalicelib.api.proxy.blueprint import render as render_proxy
from chalicelib.api.stacktach.blueprint import render as render_stacktach
from chalicelib.kit.errors import METHOD_NOT_ALLOWED, NOT_FOUND, TicklessError

# The first path segment names the surface; anything else is InfluxDB 1.x's.
_SURFACES: dict[str, Renderer] = {
    "api": render_v2,  # the InfluxDB v2 API
    "private": render_v2,  # /private/legacy/authorizations: v2 routes too
    "legacy": render_v2,
    "kapacitor": render_kapacitor,
    "proxy": render_proxy,  # influx-proxy's API, mounted under /proxy
    "v1": render_stacktach,  # StackTach.v3's API
}
# What Kapacitor answers for a path it does not serve; InfluxDB words it as below.
_KAPACITOR_NOT_FOUND = "Not Found"


def renderer(resource: str, default_surface: str = "") -> Renderer:
    """The error renderer of the surface a resource path (route or catch-all) belongs to; a dedicated
    deployment of one surface (`default_surface`) answers every path in its format."""
    if default_surface:
        return _SURFACES[default_surface]
    first = resource.strip("/").split("/", 1)[0]
    return _SURFACES.get(first, render_v1)


def not_found(resource: str, default_surface: str = "") -> TicklessError:
    found = renderer(resource, default_surface)
    if found is render_kapacitor:
        return TicklessError(NOT_FOUND, _KAPACITOR_NOT_FOUND)
    if found is render_proxy:
        return TicklessError(NOT_FOUND, "404 page not found")  # Go's ServeMux
    return TicklessError(NOT_FOUND, "path not found")


def _method_not_allowed(resource: str, allowed: str, default_surface: str = "") -> TicklessError:
    if renderer(resource, default_surface) is render_proxy:
        return TicklessError(METHOD_NOT_ALLOWED, "method not allow")  # influx-proxy's words
    return TicklessError(METHOD_NOT_ALLOWED, f"allow: {allowed}")


def unmatched(
    routes: Mapping[str, Mapping[str, Any]], default_surface: str = ""
) -> Callable[[Request, Callable], Any]:
    """Chalice HTTP middleware over the app's route table: answers requests for a resource that is not
    a route, or with a method the route lacks, before Chalice does (its own answers are a 405 in its
    format for both, and it would add the unknown resource to its table)."""

    def middleware(request: Request | None, get_response: Callable) -> Any:
        if request is None:  # not an API Gateway request: Chalice answers it
            return get_response(request)
        resource = request.path or "/"
        methods = routes.get(resource)  # .get: the table is a defaultdict
        if not methods and not default_surface and is_routes_request(request):
            return routes_listing(request, routes)  # Kapacitor's `:routes`: no resource can name it
        if not methods:
            return renderer(resource, default_surface)(not_found(resource, default_surface))
        if request.method not in methods:
            allowed = ", ".join(sorted(methods))
            found = renderer(resource, default_surface)
            response = found(_method_not_allowed(resource, allowed, default_surface))
            response.headers["Allow"] = allowed
            return response
        return get_response(request)

    return middleware
