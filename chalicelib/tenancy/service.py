"""Generic resource operations (CRUD, labels, members, owners, permission checks, listing, removal
cascades) for every kind in the registry, driven by what each kind declares, plus the tenancy rules
on top: onboarding, sessions, credentials."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from chalicelib.kit.errors import CONFLICT, INVALID, NOT_FOUND, TicklessError
from chalicelib.tenancy import registry, secrets
from chalicelib.tenancy.kinds import (
    LABEL,
    LABEL_MAPPING,
    MEMBER,
    MEMBERSHIP,
    ORGS,
    OWNER,
    READ,
    WRITE,
    Doc,
    Kind,
    Reference,
)
from chalicelib.tenancy.permissions import (
    Permission,
    all_access_permissions,
    me_permissions,
    member_permissions,
    operator_permissions,
    owner_permissions,
)
from chalicelib.tenancy.principal import Principal, unauthorized

SESSION_SECONDS = 60 * 60


class ResourceRepository(Protocol):
    def get(self, kind: str, id: str) -> Doc | None: ...
    def list(self, kind: str, org_id: str | None = None) -> list[Doc]: ...
    def find(self, kind: str, scope: str, name: str) -> str | None: ...
    def save(
        self, kind: str, doc: Doc, *, new: bool, unique=None, old_unique=None, conflict: str = ""
    ) -> None: ...
    def delete(self, kind: str, id: str, unique=None, org_id: str | None = None) -> None: ...
    def relate(self, relation: str, source: str, target: str) -> None: ...
    def unrelate(self, relation: str, source: str, target: str) -> None: ...
    def related(self, relation: str, source: str) -> list[str]: ...
    def referring(self, relation: str, target: str) -> list[str]: ...
    def claim_flag(self, name: str) -> bool: ...
    def has_flag(self, name: str) -> bool: ...


class SessionRepository(Protocol):
    def create(self, key: str, user_id: str, lifetime_seconds: int) -> None: ...
    def user(self, key: str) -> str | None: ...
    def delete(self, key: str) -> None: ...


class Tenancy:
    def __init__(
        self,
        resources: ResourceRepository,
        sessions: SessionRepository,
        on_namespace_removed: Callable[[str], None] = lambda namespace: None,
        kinds: tuple[Kind, ...] = registry.KINDS,
    ) -> None:
        self.resources = resources
        self.sessions = sessions
        # Called with the ID of every removed document of a `namespace` kind (a bucket, directly or
        # with its org), to drop the points stored under it.
        self.on_namespace_removed = on_namespace_removed
        self.kinds = kinds

    # -- permission checks -------------------------------------------------------------------------

    def _check(self, principal: Principal, action: str, kind: Kind, doc: Doc) -> None:
        if not (kind.self_readable and action == READ and principal.user_id == doc["id"]):
            principal.require(action, kind.resource_type, id=doc["id"], org_id=doc.get("orgID"))
        self._check_guards(principal, action, kind, doc)

    def _check_guards(self, principal: Principal, action: str, kind: Kind, doc: Doc) -> None:
        """The same right on what the document's guarding references name (influxd: reading an
        authorization needs reading its user; changing a DBRP mapping, writing its bucket)."""
        for ref in kind.references:
            if ref.guards and doc.get(ref.field):
                target = self._kind(ref.kind)
                named = {"id": doc[ref.field], "orgID": doc.get("orgID") if target.org_owned else None}
                self._check(principal, action, target, named)

    def _readable(self, principal: Principal, kind: Kind, doc: Doc, *, guards_only: bool = False) -> bool:
        try:
            (self._check_guards if guards_only else self._check)(principal, READ, kind, doc)
        except TicklessError:
            return False
        return True

    def _kind(self, name: str) -> Kind:
        return next(kind for kind in self.kinds if kind.name == name)

    def _referenced(
        self, ref: Reference, value: Any, principal: Principal, org_id: str | None, words: str = ""
    ) -> Doc:
        """The document a request's reference names, for a referring document in org `org_id` (None:
        not owned by an org). Checked in influxd's order: the ID's form (400), then for a document of
        an org its existence (`ref.missing`) and the caller's rights on it (401), for a global one
        (a user) the rights first, as they are per ID; then the org (`ref.missing`: another org's
        document is not found here)."""
        target = self._kind(ref.kind)
        id = secrets.decode_id(value, words)
        missing = TicklessError(ref.missing_code, ref.missing or f"{target.what} not found")
        doc = self.find(target, id) if target.org_owned else None
        if target.org_owned and doc is None:
            raise missing
        for action in ref.rights:
            self._check(principal, action, target, doc or {"id": id})
        doc = doc or self.find(target, id)
        if doc is None or (org_id is not None and target.org_owned and doc["orgID"] != org_id):
            raise missing
        return doc

    @staticmethod
    def _org_of_document(kind: Kind, doc: Doc) -> str | None:
        """The org a document lives in: its `orgID`, or itself for an org."""
        return doc["id"] if kind.name == ORGS else doc.get("orgID")

    # -- documents, unchecked (for the tenancy rules and the kinds' hooks) --------------------------

    def find(self, kind: Kind, id: str) -> Doc | None:
        return self.resources.get(kind.name, id) if secrets.is_valid_id(id) else None

    def fetch(self, kind: Kind, id: str) -> Doc:
        doc = self.find(kind, id)
        if doc is None:
            raise TicklessError(NOT_FOUND, f"{kind.what} not found")
        return doc

    def _requested(self, kind: Kind, id: str) -> Doc:
        """The document a request names by ID: influxd's 400 for a malformed ID, 404 when missing."""
        return self.fetch(kind, secrets.decode_id(id))

    def stored(self, kind: Kind, org_id: str | None = None) -> list[Doc]:
        """The stored documents of a kind, or of a kind in one org."""
        return self.resources.list(kind.name, org_id)

    def documents(self, kind: Kind, org_id: str | None = None) -> list[Doc]:
        """The documents of a kind (in one org) as it lists them: its `collect` hook, or the stored."""
        return kind.collect(self, org_id) if kind.collect is not None else self.stored(kind, org_id)

    def put(self, kind: Kind, doc: Doc) -> None:
        """Store a changed document as it is (no checks, no hooks); its unique value is unchanged."""
        self._save(kind, doc, new=False, old=doc)

    def _save(self, kind: Kind, doc: Doc, *, new: bool, old: Doc | None = None) -> None:
        unique = kind.unique_key(doc)
        old_unique = kind.unique_key(old) if old is not None else None
        field = kind.unique_field
        conflict = f"{kind.what} with {field} {doc.get(field, '')} already exists"
        self.resources.save(kind.name, doc, new=new, unique=unique, old_unique=old_unique, conflict=conflict)

    def remove(self, kind: Kind, doc: Doc) -> None:
        """Remove a document (no checks) with what belongs to it and its relations."""
        for child in self.kinds:
            field = child.parents.get(kind.name)
            if field is None:
                continue
            # Children of an org are listed by their org; others live in their parent's org.
            org_id = doc["id"] if field == "orgID" else doc.get("orgID")
            for item in self.stored(child, org_id):
                if item.get(field) == doc["id"]:
                    self.remove(child, item)
        for relation in kind.relations:
            for other in self.resources.related(relation, doc["id"]):
                self.resources.unrelate(relation, doc["id"], other)
        self.resources.delete(kind.name, doc["id"], kind.unique_key(doc), doc.get("orgID"))
        if kind.namespace:
            self.on_namespace_removed(doc["id"])

    # -- generic CRUD ------------------------------------------------------------------------------

    def get(self, kind: Kind, id: str, principal: Principal) -> Doc:
        doc = self._requested(kind, id)
        self._check(principal, READ, kind, doc)
        return doc

    def list(self, kind: Kind, principal: Principal, query: Mapping[str, str]) -> list[Doc]:
        query = {
            k: secrets.decode_id(v, kind.id_context.get(k, "")) if k in kind.id_params and v else v
            for k, v in query.items()
        }
        if kind.org_owned:
            query = self._org_query(kind, query)
        org_id = query.get("orgID") if kind.org_owned else None
        if kind.listed_per_org:
            principal.require(READ, kind.resource_type, org_id=org_id)
        docs = filtered(self.documents(kind, org_id), kind, query)
        if query.get("userID") and kind.members:
            member_of = set(self.resources.referring(MEMBER, query["userID"]))
            member_of |= set(self.resources.referring(OWNER, query["userID"]))
            docs = [d for d in docs if d["id"] in member_of]
        # Per org (dbrps): the org was checked once, each document still needs its guards.
        return [d for d in docs if self._readable(principal, kind, d, guards_only=kind.listed_per_org)]

    def list_page(self, kind: Kind, principal: Principal, query: Mapping[str, str]) -> tuple[list[Doc], Any]:
        """A list of a kind with its own `listing`: the page the caller may read, and the filter its
        answer is shaped from. An `org` name is resolved here: 404 when unknown, or when the caller
        may not read the kind there (the answer's links would show the org's ID)."""
        listing = kind.listing
        if listing is None:
            raise ValueError(f"{kind.name} has no listing")
        org_id = None
        if query.get("org") and not query.get("orgID"):
            org_id = self.find_org(query["org"])["id"]
            if not principal.can(READ, kind.resource_type, org_id=org_id):
                raise TicklessError(NOT_FOUND, f'organization name "{query["org"]}" not found')
        wanted = listing.parse(query, org_id, principal.user_id)
        readable = [d for d in self.documents(kind) if self._readable(principal, kind, d)]
        return listing.select(readable, wanted), wanted

    def _org_query(self, kind: Kind, query: Mapping[str, str]) -> dict[str, str]:
        """The query with its `org` (name) resolved to `orgID`."""
        if kind.listed_per_org:
            if not (query.get("orgID") or query.get("org")):
                raise TicklessError(INVALID, "either org or orgID must be provided")
            query = {**query, "orgID": self.org_of(query, kind.id_context.get("orgID", ""))["id"]}
        elif query.get("org") and "orgID" not in query:
            query = {**query, "orgID": self.find_org(query["org"])["id"]}
        return {k: v for k, v in query.items() if k != "org"}

    def create(self, kind: Kind, body: Doc, principal: Principal, context: Doc | None = None) -> Doc:
        """A new document from a request body; `context` carries what the caller already knows (the
        org, a system bucket's flag, a chosen token) to the kind's `prepare` and `create`."""
        if kind.decode is not None:
            kind.decode(body)
        elif not isinstance(body, dict):
            raise TicklessError(INVALID, "request body must be a JSON object")
        context = dict(context or {})
        if kind.org_owned and "orgID" not in context:
            context["orgID"] = self.org_of(body, kind.id_context.get("orgID", ""))["id"]
        # influxd's order: the right to create in the org, then what the body refers to, then the rest.
        principal.require(WRITE, kind.resource_type, org_id=context.get("orgID"))
        for ref in kind.references:
            if body.get(ref.field) is not None:
                words = kind.id_context.get(ref.field, "")
                self._referenced(ref, body[ref.field], principal, context.get("orgID"), words)
        if kind.prepare is not None:
            context = kind.prepare(self, body, principal, context)
        doc = {"id": secrets.new_id(), **kind.create(body, context)}
        self._save(kind, doc, new=True)
        if kind.after_save is not None:
            kind.after_save(self, doc, None, principal)
        return doc

    def update(self, kind: Kind, id: str, patch: Doc, principal: Principal) -> Doc:
        if not kind.decodes_patch and not isinstance(patch, dict):
            raise TicklessError(INVALID, "request body must be a JSON object")
        current = self._requested(kind, id)
        self._check(principal, WRITE, kind, current)
        updated = kind.update(current, patch)
        for ref in kind.references:
            if updated.get(ref.field) is not None and updated.get(ref.field) != current.get(ref.field):
                self._referenced(ref, updated[ref.field], principal, current.get("orgID"))
        self._save(kind, updated, new=False, old=current)
        if kind.after_save is not None:
            kind.after_save(self, updated, current, principal)
        return updated

    def delete(self, kind: Kind, id: str, principal: Principal) -> None:
        doc = self._requested(kind, id)
        self._check(principal, WRITE, kind, doc)
        if kind.check_delete is not None:
            kind.check_delete(doc)
        self.remove(kind, doc)

    # -- labels, members, owners -------------------------------------------------------------------

    def labels(self, kind: Kind, id: str, principal: Principal) -> list[Doc]:
        return self.labels_of(self.get(kind, id, principal)["id"], principal)

    def labels_of(self, id: str, principal: Principal) -> list[Doc]:
        """The labels of a document (by its ID, already checked) the caller may read."""
        labels = self._kind(LABEL_MAPPING.kind)
        found = (self.find(labels, label_id) for label_id in self.resources.related(LABEL, id))
        return [label for label in found if label is not None and self._readable(principal, labels, label)]

    def add_label(self, kind: Kind, id: str, label_id: str | None, principal: Principal) -> Doc:
        doc = self._requested(kind, id)
        self._check(principal, WRITE, kind, doc)
        if not label_id:
            raise TicklessError(INVALID, "labelID is required")
        label = self._referenced(LABEL_MAPPING, label_id, principal, self._org_of_document(kind, doc))
        if label["id"] in self.resources.related(LABEL, doc["id"]):
            raise TicklessError(CONFLICT, "label mapping already exists")
        self.resources.relate(LABEL, doc["id"], label["id"])
        return label

    def remove_label(self, kind: Kind, id: str, label_id: str, principal: Principal) -> None:
        doc = self._requested(kind, id)
        self._check(principal, WRITE, kind, doc)
        id, label_id = doc["id"], secrets.decode_id(label_id)
        if label_id not in self.resources.related(LABEL, id):
            raise TicklessError(NOT_FOUND, "label mapping not found")
        self.resources.unrelate(LABEL, id, label_id)

    def members(self, kind: Kind, id: str, role: str, principal: Principal) -> list[Doc]:
        doc = self.get(kind, id, principal)
        users = (
            self.resources.get(registry.USERS.name, user_id)
            for user_id in self.resources.related(role, doc["id"])
        )
        return [{**user, "role": role} for user in users if user is not None]

    def add_member(self, kind: Kind, id: str, user_id: str | None, role: str, principal: Principal) -> Doc:
        doc = self._requested(kind, id)
        self._check(principal, WRITE, kind, doc)
        if not user_id:
            raise TicklessError(INVALID, "user id missing or invalid")
        user = self._referenced(MEMBERSHIP, user_id, principal, self._org_of_document(kind, doc))
        self.resources.relate(role, doc["id"], user["id"])
        return {**user, "role": role}

    def remove_member(self, kind: Kind, id: str, user_id: str, role: str, principal: Principal) -> None:
        doc = self._requested(kind, id)
        self._check(principal, WRITE, kind, doc)
        self.resources.unrelate(role, doc["id"], secrets.decode_id(user_id))

    # -- lookups -----------------------------------------------------------------------------------

    def find_org(self, name_or_id: str) -> Doc:
        org_id = self.resources.find(registry.ORGS.name, "", name_or_id) or name_or_id
        doc = self.resources.get(registry.ORGS.name, org_id) if secrets.is_valid_id(org_id) else None
        if doc is None:
            raise TicklessError(NOT_FOUND, f'organization name "{name_or_id}" not found')
        return doc

    def org_of(self, body: Mapping[str, Any], words: str = "") -> Doc:
        """The organization a request names by `orgID` (400 when malformed, `words` prefixing the
        message as in `secrets.decode_id`) or `org`."""
        if body.get("orgID"):
            org = self.resources.get(registry.ORGS.name, secrets.decode_id(body["orgID"], words))
            if org is None:
                raise TicklessError(NOT_FOUND, "organization not found")
            return org
        if body.get("org"):
            return self.find_org(str(body["org"]))
        raise TicklessError(INVALID, "orgID or org is required")

    def find_bucket(self, org_id: str, name_or_id: str) -> Doc | None:
        bucket_id = self.resources.find(registry.BUCKETS.name, org_id, name_or_id)
        doc = (
            self.resources.get(registry.BUCKETS.name, bucket_id or name_or_id)
            if (bucket_id or secrets.is_valid_id(name_or_id))
            else None
        )
        return doc if doc is not None and doc["orgID"] == org_id else None

    def writable_bucket(self, principal: Principal, ref: Mapping[str, Any]) -> Doc:
        """The bucket a v2 write or delete names (`org` or `orgID`, then `bucket`, a name or an ID, or
        `bucketID`), which `principal` must be allowed to write."""
        if not ref.get("org") and not ref.get("orgID"):
            raise TicklessError(INVALID, "Please provide either orgID or org")
        org_id = self.org_of(ref)["id"]
        # `bucketID` (an ID, 400 when malformed) wins over `bucket` (a name or an ID), as in influxd.
        bucket = secrets.decode_id(ref["bucketID"]) if ref.get("bucketID") else str(ref.get("bucket") or "")
        if not bucket:
            raise TicklessError(INVALID, "Please provide bucket")
        doc = self.find_bucket(org_id, bucket)
        if doc is None:
            raise TicklessError(NOT_FOUND, f'bucket "{bucket}" not found')
        principal.require_write(doc["id"], doc["orgID"])
        return doc

    def resource_org(self, resource_type: str, id: str) -> str | None:
        """The org of the stored document a permission on (`resource_type`, `id`) names; None when
        no org-owned kind of that type stores one."""
        for kind in self.kinds:
            if kind.org_owned and kind.resource_type == resource_type:
                doc = self.find(kind, id)
                if doc is not None:
                    return doc["orgID"]
        return None

    # -- users and passwords -----------------------------------------------------------------------

    def set_legacy_password(self, auth_id: str, password: str, principal: Principal) -> None:
        kind = registry.LEGACY_AUTHORIZATIONS
        auth = self.get(kind, auth_id, principal)
        self._check(principal, WRITE, kind, auth)
        if not isinstance(password, str) or not password:
            raise TicklessError(INVALID, "password is required")
        auth["password"] = secrets.hash_password(password)
        self.put(kind, auth)

    def set_password(self, user_id: str, password: str, principal: Principal | None) -> None:
        user = self._requested(registry.USERS, user_id)
        if principal is not None and principal.user_id != user["id"]:
            self._check(principal, WRITE, registry.USERS, user)
        if not isinstance(password, str):
            raise TicklessError(INVALID, "password must be a string")
        secrets.check_password_policy(password)
        user["password"] = secrets.hash_password(password)
        self.put(registry.USERS, user)

    # -- credentials -------------------------------------------------------------------------------

    def authorization_for_token(self, token: str) -> Doc | None:
        auth_id = self.resources.find(registry.AUTHORIZATIONS.name, "", token)
        return self.resources.get(registry.AUTHORIZATIONS.name, auth_id) if auth_id else None

    def principal_for_token(self, token: str) -> Principal:
        auth = self.authorization_for_token(token)
        if auth is None:
            raise unauthorized()
        return self._principal(auth)

    def _principal(self, auth: Doc) -> Principal:
        if auth.get("status") != "active":
            raise unauthorized("authorization is inactive")
        user_id = auth.get("userID") or None
        if user_id:
            user = self.resources.get(registry.USERS.name, user_id)
            if user is None or user.get("status") != "active":
                raise unauthorized("user is inactive")
        return Principal(
            [Permission.from_json(p) for p in auth["permissions"]],
            user_id=user_id,
            org_id=auth.get("orgID"),
            authorization_id=auth["id"],
        )

    def principal_for_password(self, username: str, password: str) -> Principal:
        """v1 credentials: a legacy authorization's name and password, or any name and a v2 token."""
        legacy_id = self.resources.find(registry.LEGACY_AUTHORIZATIONS.name, "", username)
        legacy = self.resources.get(registry.LEGACY_AUTHORIZATIONS.name, legacy_id) if legacy_id else None
        if legacy is not None and legacy.get("password"):
            if not secrets.verify_password(password, legacy["password"]):
                raise unauthorized()
            return self._principal(legacy)
        return self.principal_for_token(password)

    def signin(self, username: str, password: str) -> str:
        user_id = self._verified_user(username, password)
        key = secrets.new_token()
        self.sessions.create(key, user_id, SESSION_SECONDS)
        return key

    def principal_for_signin(self, username: str, password: str) -> Principal:
        """A user's own credentials (e.g. to change their password), with their sessions' rights."""
        user_id = self._verified_user(username, password)
        return self._user_principal(user_id)

    def _verified_user(self, username: str, password: str) -> str:
        user_id = self.resources.find(registry.USERS.name, "", username)
        user = self.resources.get(registry.USERS.name, user_id) if user_id else None
        if (
            user is None
            or not user.get("password")
            or not secrets.verify_password(password, user["password"])
        ):
            raise unauthorized()
        if user.get("status") != "active":
            raise unauthorized("user is inactive")
        return user["id"]

    def principal_for_session(self, key: str) -> Principal:
        user_id = self.sessions.user(key)
        user = self.resources.get(registry.USERS.name, user_id) if user_id else None
        if user is None or user.get("status") != "active":
            raise unauthorized()
        principal = self._user_principal(user["id"])
        principal.session = key
        return principal

    def _user_principal(self, user_id: str) -> Principal:
        """A signed-in user may do what their org memberships and active authorizations allow, as an
        influxd session does."""
        permissions: list[Permission] = me_permissions(user_id)
        owned = self.resources.referring(OWNER, user_id)
        member_of = self.resources.referring(MEMBER, user_id)
        orgs = [o for o in owned + member_of if self.resources.get(registry.ORGS.name, o) is not None]
        for org in owned:
            if org in orgs:
                permissions.extend(owner_permissions(org))
        for org in member_of:
            if org in orgs:
                permissions.extend(member_permissions(org))
        org_id = orgs[0] if orgs else None
        for auth in self.resources.list(registry.AUTHORIZATIONS.name):
            if auth.get("userID") == user_id and auth.get("status") == "active":
                permissions.extend(Permission.from_json(p) for p in auth["permissions"])
                org_id = org_id or auth.get("orgID")
        return Principal(permissions, user_id=user_id, org_id=org_id)

    def signout(self, key: str) -> None:
        self.sessions.delete(key)

    # -- onboarding --------------------------------------------------------------------------------

    def setup_allowed(self) -> bool:
        return not self.resources.has_flag("setup")

    def setup(self, body: Doc) -> Doc:
        username, password, retention, token = _onboarding_fields(body)
        if not self.setup_allowed() or not self.resources.claim_flag("setup"):
            raise TicklessError(CONFLICT, "onboarding has already been completed")
        return self._onboard(username, password, body["org"], body["bucket"], retention, token, operator=True)

    def setup_user(self, body: Doc, principal: Principal) -> Doc:
        """Onboard another user with an org, a bucket and an all-access token."""
        username, password, retention, token = _onboarding_fields(body)
        principal.require("write", "users")
        principal.require("write", "orgs")
        return self._onboard(
            username, password, body["org"], body["bucket"], retention, token, operator=False
        )

    def _onboard(
        self,
        username: str,
        password: str | None,
        org_name: str,
        bucket_name: str,
        retention: int,
        token: str,
        *,
        operator: bool,
    ) -> Doc:
        platform = Principal(operator_permissions())
        user = self.create(registry.USERS, {"name": username}, platform)
        if password:
            self.set_password(user["id"], password, None)
        owner = Principal(operator_permissions(), user_id=user["id"])
        org = self.create(registry.ORGS, {"name": org_name}, owner)
        rules = [{"type": "expire", "everySeconds": retention}] if retention else []
        bucket = self.create(
            registry.BUCKETS, {"name": bucket_name, "retentionRules": rules}, owner, {"orgID": org["id"]}
        )
        granted = operator_permissions() if operator else all_access_permissions(org["id"], user["id"])
        body = {
            "orgID": org["id"],
            "userID": user["id"],
            "description": f"{username}'s Token",
            "permissions": [p.to_json() for p in granted],
        }
        auth = self.create(registry.AUTHORIZATIONS, body, owner, {"token": token})
        return {"user": user, "org": org, "bucket": bucket, "auth": auth}


def _onboarding_fields(body: Doc) -> tuple[str, str | None, int, str]:
    """Validate an onboarding request before anything is created."""
    if not isinstance(body, dict):
        raise TicklessError(INVALID, "request body must be a JSON object")
    username = body.get("username")
    if not isinstance(username, str) or not username:
        raise TicklessError(INVALID, "username is required")
    for key in ("org", "bucket"):
        if not isinstance(body.get(key), str) or not body[key]:
            raise TicklessError(INVALID, f"{key} is required")
    password = body.get("password")
    if password is not None and not isinstance(password, str):
        raise TicklessError(INVALID, "password must be a string")
    if password:
        secrets.check_password_policy(password)
    registry.check_bucket_name(body["bucket"])
    token = body.get("token") or secrets.new_token()
    if not isinstance(token, str):
        raise TicklessError(INVALID, "token must be a string")
    return username, password or None, _onboarding_retention(body), token


def _onboarding_retention(body: Doc) -> int:
    seconds = body.get("retentionPeriodSeconds")
    if seconds is None and body.get("retentionPeriodHrs") is not None:
        seconds = int(body["retentionPeriodHrs"]) * 3600
    if seconds is None:
        return 0
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise TicklessError(INVALID, "retentionPeriodSeconds must be a non-negative integer")
    if 0 < seconds < 3600:
        raise TicklessError(INVALID, "expiration seconds must be greater than or equal to one hour")
    return seconds


def filtered(docs: list[Doc], kind: Kind, query: Mapping[str, str]) -> list[Doc]:
    """The documents matching every filter parameter of the kind present in the query."""
    for param, attribute in kind.filters.items():
        wanted = query.get(param)
        if wanted is not None:
            docs = [d for d in docs if _matches(d.get(attribute), wanted)]
    return docs


def _matches(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return str(value).lower() == wanted.lower()
    return value == wanted
