"""`/kapacitor/v1/config`: Kapacitor's config overrides (chalicelib/overrides), per organization.

Kapacitor tells a section (`/config/smtp`) from its unnamed element (`/config/smtp/`) by the trailing
slash, which API Gateway's resource matching drops: the service reads the path as sent, from the request
context."""

from __future__ import annotations

from chalice import Response

from chalicelib import compose
from chalicelib.api.kapacitor.auth import task_manager
from chalicelib.api.kapacitor.blueprint import PREFIXES, VERSION_HEADERS, kapacitor, route
from chalicelib.api.kit import body, json_response
from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.kit.gojson import first_value, go_json_error

CONFIG = "/config"


def _rest() -> str:
    """What follows `/kapacitor/v1/config` in the path as sent (a deployed stage's prefix included)."""
    request = kapacitor.current_request
    path = (request.context or {}).get("path") or ""
    for prefix in sorted(PREFIXES, key=len, reverse=True):
        _, found, rest = path.partition(prefix + CONFIG)
        if found and (rest == "" or rest.startswith("/")):
            return rest
    # no raw path (never on API Gateway): rebuild it from the matched parameters
    params = request.uri_params or {}
    parts = [params[name] for name in ("section", "element") if name in params]
    return "".join("/" + part for part in parts)


def _org(action: str) -> str:
    return task_manager(kapacitor.current_request, action).org_id or ""


@route(CONFIG, methods=["GET"], name="config")
@route(CONFIG + "/{section}", methods=["GET"], name="config_section")
@route(CONFIG + "/{section}/{element}", methods=["GET"], name="config_element")
def get_config(section: str = "", element: str = "") -> Response:
    org = _org("read")
    return json_response(compose.config_overrides().get(org, _rest()), headers=VERSION_HEADERS)


@route(CONFIG + "/{section}", methods=["POST"], name="update_config_section")
@route(CONFIG + "/{section}/{element}", methods=["POST"], name="update_config_element")
def update_config(section: str = "", element: str = "") -> Response:
    org = _org("write")
    raw = body(kapacitor.current_request)
    problem = go_json_error(raw, stream=True)
    if problem is not None:
        raise TicklessError(INVALID, f"failed to decode JSON:{problem}")
    compose.config_overrides().update(org, _rest(), first_value(raw))
    return Response(body="", status_code=204, headers=VERSION_HEADERS)
