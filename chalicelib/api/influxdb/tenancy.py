"""InfluxDB v2 tenancy endpoints. Every resource kind of the registry gets the same routes from one
generic mechanism: list, create, get, patch, delete, and labels, members and owners where the kind
has them; each route calls one generic `Tenancy` operation and shows the result as the kind declares
(`render_one`, `list_key`, `paged`). Onboarding, sign-in and passwords are the only hand-written
routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib import compose
from chalicelib.api import paging
from chalicelib.api.influxdb.auth import SESSION_COOKIE, authenticate, basic_credentials, session_key
from chalicelib.api.influxdb.blueprint import influxdb
from chalicelib.api.influxdb.errors import VERSION_HEADERS, render_v2
from chalicelib.api.kit import ANY_CONTENT_TYPE, body, json_body, json_response, renders_errors
from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.scheduler import definitions
from chalicelib.tenancy import registry
from chalicelib.tenancy.kinds import MEMBER, OWNER, Doc, Kind
from chalicelib.tenancy.principal import Principal, unauthorized
from chalicelib.tenancy.service import SESSION_SECONDS

_JSON = ["application/json", "*/*"]


def _request():
    return influxdb.current_request


def _body() -> Any:
    return json_body(body(_request()))


def _principal() -> Principal:
    return authenticate(_request())


def _ok(payload: Any, status: int = 200) -> Response:
    return json_response(payload, status, VERSION_HEADERS)


def _no_content() -> Response:
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


# -- generic resource routes ------------------------------------------------------------------------


def _list_response(kind: Kind, docs: list[Doc], path: str) -> Doc:
    """A list as influxd answers it: a page with paging links (orgs, users, buckets), or every
    document with a `self` link (dbrps, shown without links, have none)."""
    docs = sorted(docs, key=lambda d: d["id"])
    if not kind.paged:
        everything = [kind.render(d) for d in docs]
        return (
            {kind.list_key: everything}
            if kind.links is None
            else {"links": {"self": path}, kind.list_key: everything}
        )
    query = _request().query_params or {}
    page = paging.parse_page(query)
    shown = [kind.render(d) for d in paging.paginate(docs, page)]
    filters = {k: v for k, v in query.items() if k not in paging.PAGING_PARAMS}
    return {"links": paging.links(path, filters, page, len(shown)), kind.list_key: shown}


def _shown_labels(kind: Kind, principal: Principal) -> Callable[[str], list[Doc]]:
    """The labels of a document by ID as a kind that `present`s them shows them (none otherwise)."""
    if kind.present is None or not kind.labels:
        return lambda _id: []
    tenancy = compose.tenancy()
    return lambda id: [registry.LABELS.show(label) for label in tenancy.labels_of(id, principal)]


def _mount(kind: Kind, path: str, prefix: str) -> None:
    item = f"{path}/{{{kind.id_param}}}"

    def shown(doc: Doc, principal: Principal, *, created: bool = False) -> Doc:
        return kind.render_one(doc, created=created, labels=_shown_labels(kind, principal)(doc["id"]))

    @renders_errors(render_v2)
    def collection() -> Response:
        principal = _principal()
        tenancy = compose.tenancy()
        if _request().method == "POST":
            return _ok(shown(tenancy.create(kind, _body(), principal), principal, created=True), 201)
        query = _request().query_params or {}
        if kind.listing is not None:
            page, wanted = tenancy.list_page(kind, principal, query)
            return _ok(kind.listing.answer(page, wanted, _shown_labels(kind, principal)))
        return _ok(_list_response(kind, tenancy.list(kind, principal, query), path))

    @renders_errors(render_v2)
    def one(**params: str) -> Response:
        principal = _principal()
        tenancy = compose.tenancy()
        id = params[kind.id_param]
        method = _request().method
        if method == "GET":
            return _ok(shown(tenancy.get(kind, id, principal), principal))
        if method == "PATCH":
            return _ok(shown(tenancy.update(kind, id, _body(), principal), principal))
        tenancy.delete(kind, id, principal)
        return _no_content()

    influxdb.route(path, methods=["GET", "POST"], content_types=_JSON, name=f"{prefix}_collection")(
        collection
    )
    influxdb.route(item, methods=["GET", "PATCH", "DELETE"], content_types=_JSON, name=f"{prefix}_one")(one)
    if kind.labels:
        _mount_labels(kind, item, prefix)
    if kind.members:
        for role, plural in ((MEMBER, "members"), (OWNER, "owners")):
            _mount_members(kind, item, prefix, role, plural)


def _mount_labels(kind: Kind, item: str, prefix: str) -> None:
    @renders_errors(render_v2)
    def labels(**params: str) -> Response:
        principal = _principal()
        id = params[kind.id_param]
        tenancy = compose.tenancy()
        if _request().method == "POST":
            body = _body()
            label = tenancy.add_label(
                kind, id, body.get("labelID") if isinstance(body, dict) else None, principal
            )
            return _ok(registry.LABELS.render_one(label), 201)
        found = [registry.LABELS.show(label) for label in tenancy.labels(kind, id, principal)]
        return _ok({"links": {"self": f"{kind.path}/{id}/labels"}, "labels": found})

    @renders_errors(render_v2)
    def unlabel(**params: str) -> Response:
        compose.tenancy().remove_label(kind, params[kind.id_param], params["labelID"], _principal())
        return _no_content()

    influxdb.route(f"{item}/labels", methods=["GET", "POST"], content_types=_JSON, name=f"{prefix}_labels")(
        labels
    )
    influxdb.route(
        f"{item}/labels/{{labelID}}", methods=["DELETE"], content_types=_JSON, name=f"{prefix}_unlabel"
    )(unlabel)


def _mount_members(kind: Kind, item: str, prefix: str, role: str, plural: str) -> None:
    @renders_errors(render_v2)
    def members(**params: str) -> Response:
        principal = _principal()
        id = params[kind.id_param]
        tenancy = compose.tenancy()
        if _request().method == "POST":
            body = _body()
            user_id = body.get("id") if isinstance(body, dict) else None
            return _ok(_member(tenancy.add_member(kind, id, user_id, role, principal)), 201)
        users = [_member(u) for u in tenancy.members(kind, id, role, principal)]
        return _ok({"links": {"self": f"{kind.path}/{id}/{plural}"}, "users": users})

    @renders_errors(render_v2)
    def remove(**params: str) -> Response:
        compose.tenancy().remove_member(kind, params[kind.id_param], params["userID"], role, _principal())
        return _no_content()

    influxdb.route(
        f"{item}/{plural}", methods=["GET", "POST"], content_types=_JSON, name=f"{prefix}_{plural}"
    )(members)
    influxdb.route(
        f"{item}/{plural}/{{userID}}",
        methods=["DELETE"],
        content_types=_JSON,
        name=f"{prefix}_{plural}_remove",
    )(remove)


def _member(user: Doc) -> Doc:
    shown = registry.USERS.render(user)
    shown["role"] = user["role"]
    return shown


def _password_from_body() -> str:
    body = _body()
    password = body.get("password") if isinstance(body, dict) else None
    if not isinstance(password, str):
        raise TicklessError(INVALID, "password is required")
    return password


def _mount_legacy_password(path: str, prefix: str) -> None:
    @renders_errors(render_v2)
    def set_password(authID: str) -> Response:  # Chalice passes URL parameters by name
        principal = _principal()
        compose.tenancy().set_legacy_password(authID, _password_from_body(), principal)
        return _no_content()

    influxdb.route(
        f"{path}/{{authID}}/password", methods=["POST"], content_types=_JSON, name=f"{prefix}_password"
    )(set_password)


def _paths(kind: Kind) -> list[tuple[str, str]]:
    """(collection URL, route name prefix) of a kind: its path, then its aliases."""
    return [(path, kind.name if n == 0 else f"{kind.name}_alias{n}") for n, path in enumerate(kind.paths)]


for _kind in definitions.KINDS:
    for _path, _prefix in _paths(_kind):
        _mount(_kind, _path, _prefix)
for _path, _prefix in _paths(registry.LEGACY_AUTHORIZATIONS):
    _mount_legacy_password(_path, _prefix)


# -- onboarding, sessions, the current user ---------------------------------------------------------


def _onboarding_response(result: Doc) -> Doc:
    return {
        "user": registry.USERS.render(result["user"]),
        "org": registry.ORGS.render(result["org"]),
        "bucket": registry.BUCKETS.render(result["bucket"]),
        "auth": registry.AUTHORIZATIONS.render(result["auth"]),
    }


@influxdb.route("/api/v2/setup", methods=["GET", "POST"], content_types=_JSON)
@renders_errors(render_v2)
def setup() -> Response:
    tenancy = compose.tenancy()
    if _request().method == "GET":
        return _ok({"allowed": tenancy.setup_allowed()})
    return _ok(_onboarding_response(tenancy.setup(_body())), 201)


@influxdb.route("/api/v2/setup/user", methods=["POST"], content_types=_JSON)
@renders_errors(render_v2)
def setup_user() -> Response:
    """Onboard another user with their own org and bucket (needs a token allowed to create them)."""
    return _ok(_onboarding_response(compose.tenancy().setup_user(_body(), _principal())), 201)


@influxdb.route("/api/v2/signin", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def signin() -> Response:
    credentials = basic_credentials(_request())
    if credentials is None:
        raise unauthorized()
    key = compose.tenancy().signin(*credentials)
    cookie = f"{SESSION_COOKIE}={key}; Path=/; Max-Age={SESSION_SECONDS}; HttpOnly; SameSite=Strict"
    return Response(body="", status_code=204, headers={**VERSION_HEADERS, "Set-Cookie": cookie})


@influxdb.route("/api/v2/signout", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def signout() -> Response:
    key = session_key(_request())
    if key is None:
        raise unauthorized()
    compose.tenancy().signout(key)
    expired = f"{SESSION_COOKIE}=; Path=/; Max-Age=0"
    return Response(body="", status_code=204, headers={**VERSION_HEADERS, "Set-Cookie": expired})


@influxdb.route("/api/v2/me", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def me() -> Response:
    principal = _principal()
    if not principal.user_id:
        raise unauthorized("the authorization has no user")
    return _ok(registry.USERS.render(compose.tenancy().fetch(registry.USERS, principal.user_id)))


@influxdb.route("/api/v2/me/password", methods=["PUT"], content_types=_JSON)
@renders_errors(render_v2)
def me_password() -> Response:
    request = _request()
    credentials = basic_credentials(request)
    tenancy = compose.tenancy()
    # InfluxDB asks for the old password as Basic credentials; a session or token also works.
    principal = tenancy.principal_for_signin(*credentials) if credentials is not None else _principal()
    if not principal.user_id:
        raise unauthorized("the authorization has no user")
    tenancy.set_password(principal.user_id, _password_from_body(), principal)
    return _no_content()


@influxdb.route("/api/v2/users/{userID}/password", methods=["POST", "PUT"], content_types=_JSON)
@renders_errors(render_v2)
def user_password(userID: str) -> Response:
    compose.tenancy().set_password(userID, _password_from_body(), _principal())
    return _no_content()
