"""What a Kapacitor user may call, as Kapacitor's httpd handler decides it before any route runs.

The HTTP method sets the privilege needed (HEAD and OPTIONS none, GET read, POST/PATCH/PUT write,
DELETE delete) on the resource `/api<path under /kapacitor/v1>`. Kapacitor turns the grants into
privileges: `api` gives everything under `/api` except `/api/write` and `/api/config`, `config_api`
gives `/api/config` and `/api/ping`, `write_points` gives `/api/write` and `/api/ping`; the most
specific resource a user has decides. An admin may do anything."""

from __future__ import annotations

import posixpath

from chalicelib.kapacitor.users import API, CONFIG_API, WRITE_POINTS, User
from chalicelib.kit.errors import FORBIDDEN, TicklessError
from chalicelib.kit.gotemplate import go_quote

NONE = "none"
BASE_PATH = "/kapacitor/v1"  # Kapacitor rewrites v1preview to v1 before it authorizes
_PRIVILEGES = {
    "HEAD": NONE,
    "OPTIONS": NONE,
    "GET": "read",
    "POST": "write",
    "PATCH": "write",
    "PUT": "write",
    "DELETE": "delete",
}
_ROOT = "/api"


def privilege(method: str) -> str:
    return _PRIVILEGES.get(method.upper(), "all")


def authorize(user: User, method: str, route: str, called: str | None = None) -> None:
    """Refuse (403, Kapacitor's words) a call of `method` on `route` (its path under /kapacitor/v1,
    e.g. `/tasks/{task_id}`) that `user`'s grants do not cover; `called` is the path as called, which
    the message shows."""
    needed = privilege(method)
    if needed == NONE or user.admin or granted(user.grants, route):
        return
    endpoint = go_quote(BASE_PATH + (route if called is None else called))
    raise TicklessError(
        FORBIDDEN, f'user {user.name} does not have "{needed}" privilege for API endpoint {endpoint}'
    )


def granted(grants: frozenset[str], path: str) -> bool:
    """Whether grants reach `path`: the first path element after cleaning (as Go's path.Clean, so
    `/tasks/../write` is `/write`) picks the resource Kapacitor would find."""
    resource = posixpath.normpath(_ROOT + "/" + path.lstrip("/"))
    if resource != _ROOT and not resource.startswith(_ROOT + "/"):
        return False  # climbed out of /api: no grant reaches it
    first = resource[len(_ROOT) + 1 :].split("/", 1)[0]
    if first == "write":
        return WRITE_POINTS in grants
    if first == "config":
        return CONFIG_API in grants
    if first == "ping":
        return bool(grants)
    return API in grants
