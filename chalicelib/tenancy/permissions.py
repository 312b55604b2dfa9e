"""The InfluxDB 2.x permission model: permissions, how they match, and the standard sets influxd makes.

A permission is an action (`read` or `write`) on a resource: a type plus optionally an org ID and/or a
resource ID. A held permission allows a requested one (InfluxDB's `Permission.Matches`) when:

- the actions are equal: `write` does NOT imply `read` (all-access and operator tokens carry both);
- the types are equal;
- and the held resource is type-wide (no id, no orgID) -> anything of that type;
  or it has an orgID and no id -> a request that names the same orgID;
  or it has an id -> a request that names the same id, and the same orgID when both name one
  (influxd compares only the id there; tickless does not let an org's permission reach another org).

So a request made with only an ID (influxd's `AuthorizeReadResource`, used for "read org X" = `orgs`
with id X, and for users) is NOT satisfied by an org-wide permission; a request with only an orgID
(creating or listing in an org) is NOT satisfied by an id-specific permission.

Names (`name`, `org`) are never compared: influxd does not store them, it looks them up for responses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.kit.errors import FORBIDDEN, INVALID, TicklessError
from chalicelib.tenancy.secrets import parse_id

READ = "read"
WRITE = "write"
ACTIONS = (READ, WRITE)

# The OpenAPI `Resource.type` enum, in the spec's order (it also lists three Cloud-only types).
RESOURCE_TYPES: tuple[str, ...] = (
    "authorizations",
    "buckets",
    "dashboards",
    "orgs",
    "tasks",
    "telegrafs",
    "users",
    "variables",
    "secrets",
    "labels",
    "views",
    "documents",
    "notificationRules",
    "notificationEndpoints",
    "checks",
    "dbrp",
    "annotations",
    "sources",
    "scrapers",
    "notebooks",
    "remotes",
    "replications",
    "instance",
    "flows",
    "functions",
    "subscriptions",
)
CLOUD_ONLY_RESOURCE_TYPES: tuple[str, ...] = ("flows", "functions", "subscriptions")

# influxd 2.7's `AllResourceTypes`, in its order: what it validates against, what GET /api/v2/resources
# lists, and the order of the permissions in operator and all-access tokens.
OSS_RESOURCE_TYPES: tuple[str, ...] = (
    "authorizations",
    "buckets",
    "dashboards",
    "orgs",
    "sources",
    "tasks",
    "telegrafs",
    "users",
    "variables",
    "scrapers",
    "secrets",
    "labels",
    "views",
    "documents",
    "notificationRules",
    "notificationEndpoints",
    "checks",
    "dbrp",
    "notebooks",
    "annotations",
    "remotes",
    "replications",
    "instance",
)
_VALID_TYPES = frozenset(OSS_RESOURCE_TYPES)

# `instance` is only granted to the onboarded user's session, never put in tokens by influxd.
_TOKEN_TYPES: tuple[str, ...] = tuple(t for t in OSS_RESOURCE_TYPES if t != "instance")

# Messages as influxd renders them (`Error.Error()` joins a message and its cause with ": ").
INVALID_TYPE_MESSAGE = "invalid resource type for permission: unknown resource type for permission"
INVALID_ACTION_MESSAGE = "invalid action type for permission: unknown action for permission"
NO_PERMISSIONS_MESSAGE = "authorization must include permissions"
_ID_LENGTH_MESSAGE = "invalid json structure: id must have a length of 16 bytes"
_INVALID_ID_MESSAGE = "invalid json structure: invalid ID"
_BAD_JSON_MESSAGE = "invalid json structure: permissions must be a list of objects"


@dataclass(frozen=True)
class Permission:
    action: str
    type: str
    id: str | None = None
    org_id: str | None = None
    name: str | None = None  # resource name, shown in responses only
    org: str | None = None  # org name, shown in responses only

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Permission:
        """Parse and validate one element of a request's `permissions` list."""
        perm = _decode(d)
        perm.validate()
        return perm

    def validate(self) -> None:
        """influxd's `Permission.Valid`: resource type first, then action (IDs are checked on decode)."""
        if self.type not in _VALID_TYPES:
            raise TicklessError(INVALID, INVALID_TYPE_MESSAGE)
        if self.action not in ACTIONS:
            raise TicklessError(INVALID, INVALID_ACTION_MESSAGE)

    def to_json(self) -> dict[str, Any]:
        """`{"action": ..., "resource": {"type", "id", "orgID", "name", "org"}}`, absent keys omitted."""
        resource: dict[str, Any] = {"type": self.type}
        for key, value in (("id", self.id), ("orgID", self.org_id), ("name", self.name), ("org", self.org)):
            if value is not None:
                resource[key] = value
        return {"action": self.action, "resource": resource}

    def bare(self) -> Permission:
        """The permission without names: what influxd stores and compares."""
        return replace(self, name=None, org=None) if self.name is not None or self.org is not None else self

    def matches(self, requested: Permission) -> bool:
        """Whether holding this permission allows `requested` (InfluxDB's `Permission.Matches`)."""
        if self.action != requested.action or self.type != requested.type:
            return False
        if self.id is None and self.org_id is None:
            return True
        if self.id is None:
            return requested.org_id is not None and requested.org_id == self.org_id
        if self.org_id is not None and requested.org_id is not None and requested.org_id != self.org_id:
            # influxd lets the id alone decide here (and logs "old match used"); an org's token could
            # then name another org's resource with its own orgID and reach it. Not here.
            return False
        return requested.id is not None and requested.id == self.id

    def __str__(self) -> str:
        """influxd's `Permission.String`: `read:orgs/<orgID>/buckets/<id>`, `write:buckets`, ..."""
        if self.org_id is not None and self.id is not None:
            path = f"orgs/{self.org_id}/{self.type}/{self.id}"
        elif self.org_id is not None:
            path = f"orgs/{self.org_id}/{self.type}"
        elif self.id is not None:
            path = f"{self.type}/{self.id}"
        else:
            path = self.type
        return f"{self.action}:{path}"


def _decode_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TicklessError(INVALID, _INVALID_ID_MESSAGE)
    if len(value) != 16:
        raise TicklessError(INVALID, _ID_LENGTH_MESSAGE)
    parsed = parse_id(value)
    if parsed is None:
        raise TicklessError(INVALID, _INVALID_ID_MESSAGE)
    return parsed


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _decode(d: Any) -> Permission:
    """JSON -> Permission without the semantic checks (influxd's decode step: only IDs can fail)."""
    if not isinstance(d, Mapping):
        raise TicklessError(INVALID, _BAD_JSON_MESSAGE)
    resource = d.get("resource")
    if resource is None:
        resource = {}
    if not isinstance(resource, Mapping):
        raise TicklessError(INVALID, _BAD_JSON_MESSAGE)
    name, org = resource.get("name"), resource.get("org")
    return Permission(
        action=_text(d.get("action")),
        type=_text(resource.get("type")),
        id=_decode_id(resource.get("id")),
        org_id=_decode_id(resource.get("orgID")),
        name=name if isinstance(name, str) and name else None,
        org=org if isinstance(org, str) and org else None,
    )


def parse_permissions(items: Any) -> list[Permission]:
    """Parse a request's `permissions` list with influxd's order of errors: malformed IDs anywhere
    first (JSON decode), then an empty list, then each permission's type and action."""
    if items is None:
        items = []
    if not isinstance(items, list):
        raise TicklessError(INVALID, _BAD_JSON_MESSAGE)
    perms = [_decode(item) for item in items]
    if not perms:
        raise TicklessError(INVALID, NO_PERMISSIONS_MESSAGE)
    for perm in perms:
        perm.validate()
    return perms


def allows(
    permissions: Iterable[Permission],
    action: str,
    type: str,
    *,
    id: str | None = None,
    org_id: str | None = None,
) -> bool:
    """Whether any of `permissions` allows `action` on the resource (`type`, `id`, `org_id`).

    Pass what influxd's authorizer would: both `id` and `org_id` to read/write an existing resource
    of an org (then an org-wide permission suffices), only `org_id` to create in / list an org, only
    `id` for orgs ("read org X": `allows(ps, "read", "orgs", id=X)`) and users, neither for global
    checks.
    """
    requested = Permission(action, type, id, org_id)
    return any(p.matches(requested) for p in permissions)


def ensure_subset(requested: Iterable[Permission], held: Iterable[Permission]) -> None:
    """Refuse (403) to create an authorization with a permission its creator does not hold.

    Message as influxd's `VerifyPermissions`: `permission <p> is not allowed: <p> is unauthorized`.
    """
    held = list(held)
    for perm in requested:
        if not any(h.matches(perm) for h in held):
            raise TicklessError(FORBIDDEN, f"permission {perm} is not allowed: {perm} is unauthorized")


# --- the permission sets influxd creates ----------------------------------------------------------


def operator_permissions() -> list[Permission]:
    """The onboarding ("operator") token: read and write on every type, type-wide (no org, no id)."""
    return [Permission(a, t) for t in _TOKEN_TYPES for a in ACTIONS]


def all_access_permissions(org_id: str, user_id: str) -> list[Permission]:
    """An all-access token (`influx auth create --all-access`, the UI's "All Access API Token").

    Read and write on every type within the org, except: `orgs` is READ-only and only on that org
    (`id`), and `users` is read and write only on that user (`id`). No `instance`.
    """
    perms: list[Permission] = []
    for t in _TOKEN_TYPES:
        if t == "orgs":
            perms.append(Permission(READ, t, id=org_id))
        elif t == "users":
            perms.extend(Permission(a, t, id=user_id) for a in ACTIONS)
        else:
            perms.extend(Permission(a, t, org_id=org_id) for a in ACTIONS)
    return perms


def owner_permissions(org_id: str) -> list[Permission]:
    """What an org owner's session gets (influxd `OwnerPermissions`): read and write on every type in
    the org, with `orgs` as read and write of the org itself."""
    return [
        Permission(a, t, id=org_id) if t == "orgs" else Permission(a, t, org_id=org_id)
        for t in _TOKEN_TYPES
        for a in ACTIONS
    ]


def member_permissions(org_id: str) -> list[Permission]:
    """What an org member's session gets (influxd `MemberPermissions`): read on every type in the org,
    with `orgs` as read of the org itself."""
    return [
        Permission(READ, t, id=org_id) if t == "orgs" else Permission(READ, t, org_id=org_id)
        for t in _TOKEN_TYPES
    ]


def me_permissions(user_id: str) -> list[Permission]:
    """Every user may read and write themself (influxd `MePermissions`, added to session permissions)."""
    return [Permission(a, "users", id=user_id) for a in ACTIONS]
