"""Who is calling: InfluxDB's credentials read off a request.

v2 routes take `Authorization: Token <t>` (or `Bearer <t>`) or the sign-in session cookie; v1 routes
(`/write`, `/query`, and Kapacitor's) also take Basic credentials and `u`/`p` parameters, from the query
string or from a urlencoded POST body (where `/query` reads `q` and `db` too), and the password is a
legacy (v1) authorization's password or a v2 token."""

from __future__ import annotations

import base64
import binascii
from http.cookies import SimpleCookie

from chalice.app import Request

from chalicelib import compose
from chalicelib.api.kit import params
from chalicelib.tenancy.service import Principal, unauthorized

SESSION_COOKIE = "influxdb-oss-session"


def basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise unauthorized("invalid basic authorization header") from exc
    return user, password


def session_key(request: Request) -> str | None:
    cookie = SimpleCookie()
    try:
        cookie.load(request.headers.get("cookie") or "")
    except Exception:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def presents_credentials(request: Request, *, v1: bool = False) -> bool:
    """Whether the request carries any credentials `authenticate` would look at."""
    if (request.headers.get("authorization") or "").strip() or session_key(request):
        return True
    return v1 and bool(params(request).get("p"))


def authenticate(request: Request, *, v1: bool = False) -> Principal:
    tenancy = compose.tenancy()
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return tenancy.principal_for_token(value.strip())
    if v1:
        basic = basic_credentials(request)
        if basic is not None:
            return tenancy.principal_for_password(*basic)
        fields = params(request)
        if fields.get("p"):
            return tenancy.principal_for_password(fields.get("u", ""), fields["p"])
    key = session_key(request)
    if key:
        return tenancy.principal_for_session(key)
    raise unauthorized()
