"""Kapacitor's smaller routes: `POST /sideload/reload`, `/debug/pprof/...` and `GET /:routes`.

- Sideload: tickless has no sideload sources (the sideload node is refused), so a reload reloads nothing
  and answers 204, as a Kapacitor whose tasks use none does.
- pprof: Go's runtime profiles do not exist in a Python Lambda; every pprof path answers 501 saying so,
  without credentials, as Kapacitor serves pprof without them.
- `:routes`: API Gateway cannot route a literal `:routes` segment, so the request arrives through the
  `/kapacitor/v1/{proxy+}` catch-all; the edge middleware (api/edge.py) hands it to `routes_listing`,
  which answers from the app's route table in Kapacitor's shape (`{pattern: [methods]}`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from chalice import Response
from chalice.app import Request

from chalicelib.api.kapacitor.auth import task_manager
from chalicelib.api.kapacitor.blueprint import PREFIXES, VERSION_HEADERS, kapacitor, render, route
from chalicelib.api.kit import renders_errors
from chalicelib.kit.errors import NOT_IMPLEMENTED, TicklessError

ROUTES_SEGMENT = ":routes"
_CATCH_ALLS = frozenset(f"{prefix}/{{proxy+}}" for prefix in PREFIXES)
_NO_PROFILING = (
    "profiling is not available: tickless runs on AWS Lambda, which has no Go runtime to profile "
    "(see its CloudWatch metrics and logs, docs/OBSERVABILITY.md)"
)


@route("/sideload/reload", methods=["POST"], name="sideload_reload")
def sideload_reload() -> Response:
    task_manager(kapacitor.current_request, "write")
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


@route("/debug/pprof", methods=["GET"], name="debug_pprof")
@route("/debug/pprof/{profile}", methods=["GET"], name="debug_pprof_profile")
def debug_pprof(profile: str = "") -> Response:
    raise TicklessError(NOT_IMPLEMENTED, _NO_PROFILING)


def is_routes_request(request: Request) -> bool:
    """`GET /kapacitor/v1/:routes` (either prefix), as it arrives through the prefix's catch-all."""
    if request.method != "GET" or request.path not in _CATCH_ALLS:
        return False
    return unquote((request.uri_params or {}).get("proxy", "")) == ROUTES_SEGMENT


@renders_errors(render)
def routes_listing(request: Request, routes: Mapping[str, Mapping[str, Any]]) -> Response:
    """Every Kapacitor route of the app as Kapacitor's router lists its patterns: a route with path
    parameters is the pattern of everything under its fixed part (`/kapacitor/v1/tasks/`); methods
    sorted (Kapacitor's order is random), the JSON indented as Kapacitor writes it."""
    task_manager(request, "read")
    base = PREFIXES[0] + "/"
    listing: dict[str, set[str]] = {f"{base}{ROUTES_SEGMENT}": {"GET"}}
    for path, methods in list(routes.items()):
        if not path.startswith(base) or not methods:
            continue
        fixed, brace, _ = path.partition("{")
        listing.setdefault(fixed if brace else path, set()).update(methods)
    # every route is served under the preview prefix too, which Kapacitor lists as its catch-all
    listing[PREFIXES[1] + "/"] = {m for methods in listing.values() for m in methods}
    body = {pattern: sorted(methods) for pattern, methods in listing.items()}
    text = json.dumps(body, indent=4, sort_keys=True, ensure_ascii=False)
    headers = {"Content-Type": "application/json; charset=utf-8", **VERSION_HEADERS}
    return Response(body=text, status_code=200, headers=headers)
