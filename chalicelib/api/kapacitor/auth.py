"""Who may call Kapacitor: Kapacitor with authentication enabled takes Basic credentials, `u`/`p` and
a bearer token. Credentials that name a Kapacitor user (`/kapacitor/v1/users`, chalicelib/kapacitor)
with its password act as that user, in its organization, with what its permissions give on the route
called (Kapacitor's rules, chalicelib/kapacitor/access.py). Any other credentials are InfluxDB's (v1 and
v2: a token, a legacy authorization's password, a session), read as InfluxDB's v1 routes read them, and
answered in Kapacitor's words.

Points written to Kapacitor feed stream tasks without being stored in any bucket, so no bucket permission
maps onto them: an InfluxDB caller must be allowed to write every bucket of its organization (an
all-access or operator token; see docs/DECISIONS.md)."""

from __future__ import annotations

from urllib.parse import unquote

from chalice.app import Request

from chalicelib import compose
from chalicelib.api.influxdb.auth import authenticate, basic_credentials, presents_credentials
from chalicelib.api.kapacitor.blueprint import PREFIXES
from chalicelib.api.kit import params
from chalicelib.kapacitor.access import authorize
from chalicelib.kit.errors import FORBIDDEN, UNAUTHORIZED, TicklessError
from chalicelib.tenancy.principal import Principal

KAPACITOR_USER = "kapacitor_user"  # Principal.extra: the Kapacitor user the principal acts as


def writer(request: Request) -> Principal:
    """The caller, if it may write points to Kapacitor: 401 without valid credentials, 403 without the
    right to write the organization's buckets (or, for a Kapacitor user, without `write_points`)."""
    user = _kapacitor_user(request)
    if user is not None:
        return user
    principal = _caller(request)
    if not principal.can("write", "buckets", org_id=principal.org_id):
        raise TicklessError(FORBIDDEN, "insufficient permissions for write")
    return principal


def task_manager(request: Request, action: str) -> Principal:
    """The caller, if it may `action` (read or write) its organization's tasks: Kapacitor's tasks and
    templates are the organization's tasks here (docs/DECISIONS.md). A Kapacitor user needs what
    Kapacitor asks for the route instead (`api`, or `config_api` under /config)."""
    user = _kapacitor_user(request)
    if user is not None:
        return user
    principal = _caller(request)
    if principal.org_id is None or not principal.can(action, "tasks", org_id=principal.org_id):
        raise TicklessError(FORBIDDEN, f"insufficient permissions to {action} tasks")
    return principal


def user_manager(request: Request, action: str) -> Principal:
    """The caller, if it may `action` (read or write) its organization's Kapacitor users: a Kapacitor
    user by its grants (`api`, as Kapacitor asks), an InfluxDB caller with `read` on the org's tasks to
    read, and to change them `write` on its tasks and its buckets, everything a Kapacitor admin of the
    org can reach, so no one grants more than they hold (an all-access or operator token bootstraps)."""
    user = _kapacitor_user(request)
    if user is not None:
        return user
    principal = _caller(request)
    org = principal.org_id
    allowed = org is not None and principal.can(action, "tasks", org_id=org)
    if allowed and action != "read":
        allowed = principal.can("write", "buckets", org_id=org)
    if not allowed:
        raise TicklessError(FORBIDDEN, f"insufficient permissions to {action} users")
    return principal


def _kapacitor_user(request: Request) -> Principal | None:
    """The Kapacitor user whose name and password the request carries, if it may call this route (403
    in Kapacitor's words if not); None when the credentials name no Kapacitor user or do not match its
    password, which leaves them to InfluxDB."""
    credentials = _user_credentials(request)
    if credentials is None:
        return None
    user = compose.kapacitor_users().authenticate(*credentials)
    if user is None:
        return None
    route, called = _paths(request)
    authorize(user, request.method, route, called)
    return Principal(permissions=[], org_id=user.org_id, extra={KAPACITOR_USER: user.name})


def _user_credentials(request: Request) -> tuple[str, str] | None:
    """A user name and password, from Basic credentials or else `u` and `p` (both needed, as Kapacitor
    reads them)."""
    try:
        basic = basic_credentials(request)
    except TicklessError:
        return None  # not Basic credentials at all: InfluxDB's reading answers for them
    if basic is None:
        fields = params(request)
        basic = (fields.get("u", ""), fields.get("p", ""))
    return basic if basic[0] and basic[1] else None


def _paths(request: Request) -> tuple[str, str]:
    """The route's path under Kapacitor's prefix (`/tasks/{task_id}`, what decides) and the path as
    called under it (`/tasks/cpu`, what Kapacitor's 403 shows)."""
    context = request.context or {}
    route = _trim_prefix(context.get("resourcePath") or "")
    raw = context.get("path")
    if raw:
        return route, _trim_prefix(unquote(raw))
    called = route
    for name, value in (request.uri_params or {}).items():
        called = called.replace("{" + name + "}", value)
    return route, called


def _trim_prefix(path: str) -> str:
    """`path` after Kapacitor's prefix (and whatever precedes it, a deployed stage's name), or all of
    it on a route outside the prefix, as Kapacitor trims its base path."""
    for prefix in sorted(PREFIXES, key=len, reverse=True):
        _, found, rest = path.partition(prefix)
        if found and (rest == "" or rest.startswith("/")):
            return rest
    return path


def _caller(request: Request) -> Principal:
    """Whoever the request's InfluxDB credentials name, in Kapacitor's words when they name nobody."""
    if not presents_credentials(request, v1=True):
        raise TicklessError(UNAUTHORIZED, "unable to parse authentication credentials")
    try:
        return authenticate(request, v1=True)
    except TicklessError as exc:
        if exc.code == UNAUTHORIZED:
            raise TicklessError(UNAUTHORIZED, "authorization failed") from exc
        raise
