"""InfluxDB 1.x users (`CREATE USER`, `GRANT`, `SHOW USERS`, ...) over the legacy (v1) authorizations
of the caller's org, as InfluxDB 2.x keeps v1 credentials: a user is a legacy authorization whose
`token` is the user name, with a password hash.

What a 1.x user holds becomes permissions of that authorization, so the v1 API enforces them with
no other model: a privilege on a database is `read` and/or `write` on each bucket the database maps
to (`READ`, `WRITE`, `ALL PRIVILEGES` = both), and an admin holds the org's all-access permissions.
Privileges are read back from the permissions, so a database's privilege exists while a permission
names one of its buckets (influxd also keeps a `NO PRIVILEGES` entry after a REVOKE; tickless has
nothing to keep it in). Errors are worded as influxd 1.6.7 words them.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.kit.errors import CONFLICT, INVALID, NOT_FOUND, TicklessError
from chalicelib.tenancy import registry, secrets
from chalicelib.tenancy.kinds import Doc
from chalicelib.tenancy.permissions import (
    READ,
    WRITE,
    Permission,
    all_access_permissions,
    allows,
    ensure_subset,
)
from chalicelib.tenancy.principal import Principal
from chalicelib.tenancy.service import Tenancy

# the privileges of GRANT and REVOKE (`read`, `write`, `all`) as the bucket actions they stand for
PRIVILEGE_ACTIONS: dict[str, frozenset[str]] = {
    "read": frozenset({READ}),
    "write": frozenset({WRITE}),
    "all": frozenset({READ, WRITE}),
}
# how SHOW GRANTS names what a user holds on a database
_NAMES = {frozenset({READ}): "READ", frozenset({WRITE}): "WRITE", frozenset({READ, WRITE}): "ALL PRIVILEGES"}


@dataclass(frozen=True)
class V1User:
    name: str
    admin: bool


class Users:
    """The 1.x users of the caller's org; listing needs `read:authorizations`, changes `write`."""

    kind = registry.LEGACY_AUTHORIZATIONS

    def __init__(self, tenancy: Tenancy) -> None:
        self.tenancy = tenancy

    @staticmethod
    def _org(principal: Principal, action: str) -> str:
        if not principal.org_id:
            raise TicklessError(INVALID, "the credentials are not scoped to an organization")
        principal.require(action, "authorizations", org_id=principal.org_id)
        return principal.org_id

    def _docs(self, org_id: str) -> list[Doc]:
        """The org's users in the order they were created, as influxd lists them."""
        return sorted(
            self.tenancy.documents(self.kind, org_id), key=lambda d: (d.get("createdAt", ""), d["id"])
        )

    def _user(self, org_id: str, name: str) -> Doc:
        found = next((d for d in self._docs(org_id) if d["token"] == name), None)
        if found is None:
            raise TicklessError(NOT_FOUND, "user not found")
        return found

    def _buckets_of(self, org_id: str, database: str) -> list[str]:
        buckets = {
            m["bucketID"] for m in self.tenancy.documents(registry.DBRPS, org_id) if m["database"] == database
        }
        if not buckets:
            raise TicklessError(NOT_FOUND, f"database not found: {database}")
        return sorted(buckets)

    def _save(self, principal: Principal, doc: Doc, permissions: list[Permission]) -> None:
        """A user's new permissions: none its changer does not hold (no escalation through GRANT)."""
        ensure_subset(permissions, principal.permissions)
        self.tenancy.put(self.kind, {**doc, "permissions": [p.to_json() for p in permissions]})

    @staticmethod
    def _permissions(doc: Doc) -> list[Permission]:
        return [Permission.from_json(p) for p in doc.get("permissions", [])]

    @staticmethod
    def _is_admin(doc: Doc) -> bool:
        """An admin may manage the org's users: what the statements here require."""
        perms = [Permission.from_json(p) for p in doc.get("permissions", [])]
        return allows(perms, WRITE, "authorizations", org_id=doc["orgID"])

    # -- statements ----------------------------------------------------------------------------------

    def list(self, principal: Principal) -> list[V1User]:
        org_id = self._org(principal, READ)
        return [V1User(d["token"], self._is_admin(d)) for d in self._docs(org_id)]

    def create(self, principal: Principal, name: str, password: str, admin: bool) -> None:
        """CREATE USER: the same user again (same password and admin flag) is a no-op, as in influxd."""
        org_id = self._org(principal, WRITE)
        if not name:
            raise TicklessError(INVALID, "username required")
        existing = next((d for d in self._docs(org_id) if d["token"] == name), None)
        if existing is not None:
            same = secrets.verify_password(
                password, existing.get("password") or ""
            ) and admin == self._is_admin(existing)
            if not same:
                raise TicklessError(CONFLICT, "user already exists")
            return
        if self.tenancy.resources.find(self.kind.name, "", name):  # a user of another org
            raise TicklessError(CONFLICT, "user already exists")
        # the legacy kind wants a permission (as /private/legacy/authorizations does): reading the
        # org, replaced below by what the 1.x user holds (nothing, or an admin's)
        placeholder = Permission(READ, "orgs", id=org_id).to_json()
        body = {"orgID": org_id, "token": name, "permissions": [placeholder]}
        doc = self.tenancy.create(self.kind, body, principal, {"orgID": org_id, "token": name})
        permissions = all_access_permissions(org_id, doc["userID"]) if admin else []
        ensure_subset(permissions, principal.permissions)
        doc["password"] = secrets.hash_password(password)
        doc["permissions"] = [p.to_json() for p in permissions]
        self.tenancy.put(self.kind, doc)

    def drop(self, principal: Principal, name: str) -> None:
        org_id = self._org(principal, WRITE)
        self.tenancy.remove(self.kind, self._user(org_id, name))

    def set_password(self, principal: Principal, name: str, password: str) -> None:
        org_id = self._org(principal, WRITE)
        doc = self._user(org_id, name)
        self.tenancy.put(self.kind, {**doc, "password": secrets.hash_password(password)})

    def set_admin(self, principal: Principal, name: str, admin: bool) -> None:
        """GRANT ALL PRIVILEGES TO u / REVOKE ALL PRIVILEGES FROM u; database privileges stay."""
        org_id = self._org(principal, WRITE)
        doc = self._user(org_id, name)
        everything = {_key(p) for p in all_access_permissions(org_id, doc["userID"])}
        kept = [p for p in self._permissions(doc) if _key(p) not in everything]
        if admin:
            kept = all_access_permissions(org_id, doc["userID"]) + kept
        self._save(principal, doc, kept)

    def grant(self, principal: Principal, name: str, privilege: str, database: str) -> None:
        """GRANT p ON db TO u: the database's privilege becomes p (influxd replaces, never adds)."""
        self._change(principal, name, database, lambda _held: PRIVILEGE_ACTIONS[privilege])

    def revoke(self, principal: Principal, name: str, privilege: str, database: str) -> None:
        """REVOKE p ON db FROM u takes p's actions away from the database's privilege."""
        self._change(principal, name, database, lambda held: held - PRIVILEGE_ACTIONS[privilege])

    def _change(self, principal: Principal, name: str, database: str, new_actions) -> None:
        org_id = self._org(principal, WRITE)
        doc = self._user(org_id, name)  # influxd looks the user up first, then the database
        buckets = self._buckets_of(org_id, database)
        current = self._permissions(doc)
        on_db = [p for p in current if p.type == "buckets" and p.id in buckets]
        held = frozenset(p.action for p in on_db)
        others = [p for p in current if p not in on_db]
        actions = new_actions(held)
        granted = [
            Permission(a, "buckets", id=b, org_id=org_id)
            for b in buckets
            for a in (READ, WRITE)
            if a in actions
        ]
        self._save(principal, doc, others + granted)

    def grants(self, principal: Principal, name: str) -> list[tuple[str, str]]:
        """SHOW GRANTS FOR u: (database, privilege), by database (influxd: in its map's random order)."""
        org_id = self._org(principal, READ)
        doc = self._user(org_id, name)
        databases: dict[str, set[str]] = {}
        for mapping in self.tenancy.documents(registry.DBRPS, org_id):
            databases.setdefault(mapping["bucketID"], set()).add(mapping["database"])
        held: dict[str, set[str]] = {}
        for permission in self._permissions(doc):
            if permission.type != "buckets" or permission.id is None:
                continue
            for database in databases.get(permission.id, ()):
                held.setdefault(database, set()).add(permission.action)
        return [(db, _NAMES[frozenset(actions)]) for db, actions in sorted(held.items())]


def _key(permission: Permission) -> tuple[str, str, str | None, str | None]:
    return permission.action, permission.type, permission.id, permission.org_id
