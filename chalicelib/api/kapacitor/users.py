"""`/kapacitor/v1/users`: Kapacitor's users (chalicelib/kapacitor/users.py) of the caller's organization.
Who may manage them: `auth.user_manager`."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib import compose
from chalicelib.api.kapacitor.auth import user_manager
from chalicelib.api.kapacitor.blueprint import VERSION_HEADERS, kapacitor, list_query, route
from chalicelib.api.kit import body, json_response
from chalicelib.kit.errors import invalid

USERS = "/users"
USER = USERS + "/{name}"


def _org(action: str) -> str:
    return user_manager(kapacitor.current_request, action).org_id or ""


def _answer(payload: Any) -> Response:
    return json_response(payload, headers=VERSION_HEADERS)


@route(USERS, methods=["GET"], name="list_users")
def list_users() -> Response:
    org = _org("read")
    # `/users/` is Kapacitor's user route with no name (routing here drops the slash; the raw path keeps it)
    if ((kapacitor.current_request.context or {}).get("path") or "").endswith(USERS + "/"):
        raise invalid("must specify username on path")
    return _answer({"users": compose.kapacitor_users().list(org, list_query())})


@route(USERS, methods=["POST"], name="create_user")
def create_user() -> Response:
    org = _org("write")
    return _answer(compose.kapacitor_users().create(org, body(kapacitor.current_request)).to_json())


@route(USER, methods=["GET"], name="get_user")
def get_user(name: str) -> Response:
    org = _org("read")
    return _answer(compose.kapacitor_users().get(org, name).to_json())


@route(USER, methods=["PATCH"], name="update_user")
def update_user(name: str) -> Response:
    org = _org("write")
    return _answer(compose.kapacitor_users().update(org, name, body(kapacitor.current_request)).to_json())


@route(USER, methods=["DELETE"], name="delete_user")
def delete_user(name: str) -> Response:
    compose.kapacitor_users().delete(_org("write"), name)
    return Response(body="", status_code=204, headers=VERSION_HEADERS)
