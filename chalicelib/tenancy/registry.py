"""The tenancy resource kinds: orgs, users, buckets, labels, authorizations, DBRP mappings and legacy
(v1) authorizations. Only what differs between them lives here: their schema and validation, how
they are shown, what they belong to, and the rules they add to the generic operations (hooks).
Task definitions are a kind too, declared with their domain (chalicelib.scheduler.definitions, which
adds them to these in its `KINDS`): tenancy cannot import the scheduler, which depends on Flux, which
depends on tenancy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.tenancy import secrets
from chalicelib.tenancy.kinds import OWNER, WRITE, Doc, Kind, Reference, merge, now_iso, status, text
from chalicelib.tenancy.permissions import Permission, ensure_subset, operator_permissions
from chalicelib.tenancy.principal import Principal

if TYPE_CHECKING:
    from chalicelib.tenancy.service import Tenancy

HOUR_SECONDS = 3600
DEFAULT_SHARD_GROUP_SECONDS = 7 * 24 * HOUR_SECONDS


def _stamped(doc: Doc) -> Doc:
    now = now_iso()
    return {**doc, "createdAt": now, "updatedAt": now}


# -- orgs -------------------------------------------------------------------------------------------


def _org_create(body: Doc, _context: Doc) -> Doc:
    name = text(body, "name")
    if not name:
        raise TicklessError(INVALID, "org name is empty")
    return _stamped({"name": name, "description": text(body, "description") or ""})


def _org_update(current: Doc, patch: Doc) -> Doc:
    if "name" in patch and not text(patch, "name"):
        raise TicklessError(INVALID, "org name is empty")
    return merge(current, patch, ("name", "description"))


def _org_links(doc: Doc) -> dict[str, str]:
    i, name = doc["id"], doc["name"]
    return {
        "self": f"/api/v2/orgs/{i}",
        "members": f"/api/v2/orgs/{i}/members",
        "owners": f"/api/v2/orgs/{i}/owners",
        "labels": f"/api/v2/orgs/{i}/labels",
        "secrets": f"/api/v2/orgs/{i}/secrets",
        "buckets": f"/api/v2/buckets?org={name}",
        "tasks": f"/api/v2/tasks?org={name}",
        "dashboards": f"/api/v2/dashboards?org={name}",
    }


SYSTEM_BUCKETS = (("_tasks", 3 * 24 * 3600), ("_monitoring", 7 * 24 * 3600))


def _org_saved(service: Tenancy, org: Doc, previous: Doc | None, principal: Principal) -> None:
    """A new org gets its system buckets, and its creator as an owner."""
    if previous is not None:
        return
    system = Principal(operator_permissions())
    for name, seconds in SYSTEM_BUCKETS:
        service.create(
            BUCKETS,
            {"name": name, "retentionRules": [{"type": "expire", "everySeconds": seconds}]},
            system,
            {"orgID": org["id"], "system": True},
        )
    if principal.user_id:
        service.add_member(ORGS, org["id"], principal.user_id, OWNER, principal)


ORGS = Kind(
    name="orgs",
    path="/api/v2/orgs",
    id_param="orgID",
    list_key="orgs",
    create=_org_create,
    update=_org_update,
    links=_org_links,
    unique="global",
    org_owned=False,
    labels=True,
    members=True,
    what="organization",
    filters={"org": "name", "orgID": "id"},
    after_save=_org_saved,
)


# -- users ------------------------------------------------------------------------------------------


def _user_create(body: Doc, _context: Doc) -> Doc:
    name = text(body, "name")
    if not name:
        raise TicklessError(INVALID, "user name is empty")
    return {"name": name, "status": status(body)}


def _user_update(current: Doc, patch: Doc) -> Doc:
    if "name" in patch and not text(patch, "name"):
        raise TicklessError(INVALID, "user name is empty")
    status(patch, None)
    updated = merge(current, patch, ("name", "status"))
    updated.pop("updatedAt", None)
    return updated


USERS = Kind(
    name="users",
    path="/api/v2/users",
    id_param="userID",
    list_key="users",
    create=_user_create,
    update=_user_update,
    links=lambda doc: {"self": f"/api/v2/users/{doc['id']}"},
    unique="global",
    org_owned=False,
    what="user",
    filters={"name": "name", "id": "id"},
    self_readable=True,
    hidden=("password",),
)


# -- buckets ----------------------------------------------------------------------------------------


def retention_rules(body: Doc) -> list[Doc]:
    rules = body.get("retentionRules")
    if rules is None:
        return []
    if not isinstance(rules, list):
        raise TicklessError(INVALID, "retentionRules must be a list")
    checked = []
    for rule in rules:
        if not isinstance(rule, dict):
            raise TicklessError(INVALID, "retention rule must be an object")
        every = rule.get("everySeconds")
        if isinstance(every, bool) or not isinstance(every, int) or every < 0:
            raise TicklessError(INVALID, "retention rule everySeconds must be a non-negative integer")
        if 0 < every < HOUR_SECONDS:
            raise TicklessError(INVALID, "expiration seconds must be greater than or equal to one hour")
        if rule.get("type", "expire") != "expire":
            raise TicklessError(INVALID, 'retention rule type must be "expire"')
        shard = rule.get("shardGroupDurationSeconds") or shard_group_seconds(every)
        checked.append({"type": "expire", "everySeconds": every, "shardGroupDurationSeconds": shard})
    return checked[:1]


def shard_group_seconds(every: int) -> int:
    """The default shard group duration of a retention period, as influxd's `shardGroupDuration`:
    under 2 days 1h, under 180 days 1 day, else (and for 0, infinite) 7 days."""
    if every == 0 or every >= 180 * 24 * HOUR_SECONDS:
        return DEFAULT_SHARD_GROUP_SECONDS
    if every >= 2 * 24 * HOUR_SECONDS:
        return 24 * HOUR_SECONDS
    return HOUR_SECONDS


def check_bucket_name(name: str | None, system: bool = False) -> str:
    if not name:
        raise TicklessError(INVALID, "bucket name is required")
    if name.startswith("_") and not system:
        raise TicklessError(
            INVALID, f'bucket name "{name}" is invalid. Buckets may not start with underscore'
        )
    if '"' in name or "'" in name:
        raise TicklessError(
            INVALID, f'bucket name "{name}" is invalid. Bucket names may not include quotation marks'
        )
    return name


def _bucket_create(body: Doc, context: Doc) -> Doc:
    system = bool(context.get("system"))
    name = check_bucket_name(text(body, "name"), system)
    return _stamped(
        {
            "orgID": context["orgID"],
            "type": "system" if system else "user",
            "name": name,
            "description": text(body, "description") or "",
            "retentionRules": retention_rules(body),
        }
    )


def _bucket_update(current: Doc, patch: Doc) -> Doc:
    if "name" in patch:
        if current.get("type") == "system":
            raise TicklessError(INVALID, "system buckets cannot be renamed")
        check_bucket_name(text(patch, "name"))
    updated = merge(current, patch, ("name", "description"))
    if "retentionRules" in patch:
        updated["retentionRules"] = retention_rules(patch)
    return updated


def _bucket_links(doc: Doc) -> dict[str, str]:
    i, org = doc["id"], doc["orgID"]
    return {
        "self": f"/api/v2/buckets/{i}",
        "org": f"/api/v2/orgs/{org}",
        "members": f"/api/v2/buckets/{i}/members",
        "owners": f"/api/v2/buckets/{i}/owners",
        "labels": f"/api/v2/buckets/{i}/labels",
        "write": f"/api/v2/write?org={org}&bucket={i}",
    }


def _bucket_check_delete(bucket: Doc) -> None:
    if bucket.get("type") == "system":
        raise TicklessError(INVALID, "system buckets cannot be deleted")


BUCKETS = Kind(
    name="buckets",
    path="/api/v2/buckets",
    id_param="bucketID",
    list_key="buckets",
    create=_bucket_create,
    update=_bucket_update,
    links=_bucket_links,
    unique="org",
    labels=True,
    members=True,
    what="bucket",
    filters={"name": "name", "id": "id", "orgID": "orgID"},
    namespace=True,
    check_delete=_bucket_check_delete,
)


def retention_seconds(bucket: Doc) -> int:
    rules = bucket.get("retentionRules") or []
    return int(rules[0]["everySeconds"]) if rules else 0


# -- labels -----------------------------------------------------------------------------------------


def _properties(body: Doc) -> dict[str, str]:
    props = body.get("properties") or {}
    if not isinstance(props, dict) or not all(isinstance(v, str) for v in props.values()):
        raise TicklessError(INVALID, "label properties must be an object of strings")
    return props


def _label_create(body: Doc, context: Doc) -> Doc:
    name = text(body, "name")
    if not name:
        raise TicklessError(INVALID, "label name is empty")
    return {"orgID": context["orgID"], "name": name, "properties": _properties(body)}


def _label_update(current: Doc, patch: Doc) -> Doc:
    updated = dict(current)
    if "name" in patch:
        if not text(patch, "name"):
            raise TicklessError(INVALID, "label name is empty")
        updated["name"] = patch["name"]
    if "properties" in patch:
        props = {**current.get("properties", {}), **_properties(patch)}
        updated["properties"] = {k: v for k, v in props.items() if v != ""}  # "" removes a property
    return updated


LABELS = Kind(
    name="labels",
    path="/api/v2/labels",
    id_param="labelID",
    list_key="labels",
    create=_label_create,
    update=_label_update,
    links=lambda doc: {"self": f"/api/v2/labels/{doc['id']}"},
    unique="org",
    what="label",
    filters={"orgID": "orgID", "name": "name"},
    paged=False,  # influxd answers every label (the spec has no paging parameters for them)
    wrap_one="label",
)


# -- authorizations ---------------------------------------------------------------------------------


def permissions_from(body: Doc) -> list[Permission]:
    raw = body.get("permissions")
    if not isinstance(raw, list) or not raw:
        raise TicklessError(INVALID, "authorization must have at least one permission")
    return [Permission.from_json(p) for p in raw]


def _auth_prepare(service: Tenancy, body: Doc, principal: Principal, context: Doc) -> Doc:
    """The org's and the user's names, a token (unless given), no permission the creator lacks, and
    none for another org: influxd's `Authorization.Valid` (a permission's `orgID` is the token's),
    and a permission naming a stored resource names one of the token's org."""
    org = service.fetch(ORGS, context["orgID"])
    user_id = body.get("userID") or principal.user_id or ""
    user = service.fetch(USERS, user_id) if user_id else {"name": ""}
    permissions = permissions_from(body)
    ensure_subset(permissions, principal.permissions)
    for permission in permissions:
        named = service.resource_org(permission.type, permission.id) if permission.id else None
        if {permission.org_id, named} - {None, org["id"]}:
            raise TicklessError(INVALID, f"permission {permission} is not for org id {org['id']}")
    return {
        **context,
        "org": org["name"],
        "userID": user_id,
        "user": user["name"],
        "token": context.get("token") or secrets.new_token(),
    }


def _auth_create(body: Doc, context: Doc) -> Doc:
    permissions = permissions_from(body)
    return _stamped(
        {
            "orgID": context["orgID"],
            "org": context.get("org", ""),
            "userID": context.get("userID", ""),
            "user": context.get("user", ""),
            "token": context["token"],
            "status": status(body),
            "description": text(body, "description") or "",
            "permissions": [p.to_json() for p in permissions],
        }
    )


def _auth_update(current: Doc, patch: Doc) -> Doc:
    status(patch, None)
    return merge(current, patch, ("status", "description"))


# An authorization is made for a user the caller may write (influxd: `write:users/<id>`, then
# `unable to create token` when there is none), and reading or changing it needs the same right on
# its user, so a token's user sees it and an org's other tokens do not reach their users' tokens.
_AUTH_USER = Reference("userID", "users", guards=True, missing="unable to create token", missing_code=INVALID)


def _auth_links(doc: Doc) -> dict[str, str]:
    links = {"self": f"/api/v2/authorizations/{doc['id']}"}
    if doc.get("userID"):
        links["user"] = f"/api/v2/users/{doc['userID']}"
    return links


AUTHORIZATIONS = Kind(
    name="authorizations",
    path="/api/v2/authorizations",
    id_param="authID",
    list_key="authorizations",
    create=_auth_create,
    update=_auth_update,
    links=_auth_links,
    unique="global",
    unique_field="token",
    what="authorization",
    filters={
        "id": "id",
        "userID": "userID",
        "user": "user",
        "orgID": "orgID",
        "org": "org",
        "token": "token",
    },
    references=(_AUTH_USER,),
    paged=False,  # influxd answers every authorization (the spec has no paging parameters for them)
    prepare=_auth_prepare,
)


def _legacy_create(body: Doc, context: Doc) -> Doc:
    doc = _auth_create(body, context)
    name = text(body, "token")
    if not name:
        raise TicklessError(INVALID, "token (the v1 user name) is required")
    doc["token"] = name
    return doc


LEGACY_AUTHORIZATIONS = Kind(
    name="legacyAuthorizations",
    path="/private/legacy/authorizations",
    aliases=("/legacy/authorizations",),  # influxd serves them at both paths
    id_param="authID",
    list_key="authorizations",
    create=_legacy_create,
    update=_auth_update,
    links=lambda doc: {
        "self": f"/private/legacy/authorizations/{doc['id']}",
        "user": f"/api/v2/users/{doc['userID']}",
    },
    unique="global",
    unique_field="token",
    what="authorization",
    permission_type=AUTHORIZATIONS.name,
    filters={**AUTHORIZATIONS.filters, "authID": "id"},  # the spec says `authID`, influxd reads `id`
    references=AUTHORIZATIONS.references,
    paged=False,
    hidden=("password",),
    prepare=_auth_prepare,
)


# -- DBRP mappings ----------------------------------------------------------------------------------

DEFAULT_RP = "autogen"


def virtual_mapping(bucket: Doc) -> Doc:
    """The mapping a bucket gets from its name alone: `db/rp`, or `db` for its `autogen` default."""
    database, _, rp = bucket["name"].partition("/")
    rp = rp or DEFAULT_RP
    return {
        "id": bucket["id"],
        "orgID": bucket["orgID"],
        "bucketID": bucket["id"],
        "database": database,
        "retention_policy": rp,
        "default": rp == DEFAULT_RP,
        "virtual": True,
    }


def _dbrp_create(body: Doc, context: Doc) -> Doc:
    database = text(body, "database", required=True, what="database")
    rp = text(body, "retention_policy", required=True, what="retention_policy")
    bucket_id = text(body, "bucketID", required=True, what="bucketID")
    if not database or not rp:
        raise TicklessError(INVALID, "database and retention_policy must not be empty")
    default = body.get("default", False)
    if not isinstance(default, bool):
        raise TicklessError(INVALID, "default must be a boolean")
    return {
        "orgID": context["orgID"],
        "bucketID": bucket_id,
        "database": database,
        "retention_policy": rp,
        "default": default,
        "virtual": False,
    }


def _dbrp_update(current: Doc, patch: Doc) -> Doc:
    updated = dict(current)
    if "retention_policy" in patch:
        rp = text(patch, "retention_policy")
        if not rp:
            raise TicklessError(INVALID, "retention_policy must not be empty")
        updated["retention_policy"] = rp
    if "default" in patch:
        if not isinstance(patch["default"], bool):
            raise TicklessError(INVALID, "default must be a boolean")
        updated["default"] = patch["default"]
    return updated


def _dbrp_saved(service: Tenancy, mapping: Doc, previous: Doc | None, _principal: Principal) -> None:
    """A database has one default mapping, as influxd keeps it: a new or updated default takes the
    flag from the others; the first mapping of a database is its default; unsetting the default
    passes it to the first other mapping (by ID), or leaves it where it is if there is none."""
    siblings = sorted(
        (
            m
            for m in service.stored(DBRPS, mapping["orgID"])
            if m["database"] == mapping["database"] and m["id"] != mapping["id"]
        ),
        key=lambda m: m["id"],
    )
    if mapping["default"]:
        for sibling in siblings:
            if sibling["default"]:
                service.put(DBRPS, {**sibling, "default": False})
    elif previous is None:
        if not siblings:
            mapping["default"] = True
            service.put(DBRPS, mapping)
    elif previous["default"]:
        if siblings:
            service.put(DBRPS, {**siblings[0], "default": True})
        else:
            mapping["default"] = True
            service.put(DBRPS, mapping)


def _dbrp_collect(service: Tenancy, org_id: str | None) -> list[Doc]:
    """The explicit mappings of existing buckets, then the virtual ones no explicit mapping shadows.
    A database has one default: an explicit default mapping outranks a virtual `autogen`."""
    buckets = {b["id"]: b for b in service.stored(BUCKETS, org_id)}
    explicit = service.stored(DBRPS, org_id)
    taken = {(m["orgID"], m["database"], m["retention_policy"]) for m in explicit}
    mapped = {m["bucketID"] for m in explicit}
    explicit = [m for m in explicit if m["bucketID"] in buckets]
    defaulted = {(m["orgID"], m["database"]) for m in explicit if m["default"]}
    virtual = [
        {**v, "default": v["default"] and (v["orgID"], v["database"]) not in defaulted}
        for b in buckets.values()
        if b.get("type") != "system" and b["id"] not in mapped
        for v in [virtual_mapping(b)]
        if (v["orgID"], v["database"], v["retention_policy"]) not in taken
    ]
    return explicit + virtual


DBRPS = Kind(
    name="dbrp",
    path="/api/v2/dbrps",
    id_param="dbrpID",
    list_key="content",
    create=_dbrp_create,
    update=_dbrp_update,
    links=None,
    what="dbrp",
    belongs_to={BUCKETS.name: "bucketID"},
    # A mapping names a bucket of its org the caller may write, and acting on it needs the same right
    # on the bucket (influxd's DBRP service checks the bucket, not the mapping).
    references=(
        Reference("bucketID", BUCKETS.name, rights=(WRITE,), guards=True, missing="bucket not found"),
    ),
    filters={
        "orgID": "orgID",
        "id": "id",
        "bucketID": "bucketID",
        "db": "database",
        "rp": "retention_policy",
        "default": "default",
    },
    listed_per_org=True,
    paged=False,
    id_context={"orgID": "invalid org ID", "bucketID": "invalid bucket ID", "id": "invalid DBRP ID"},
    wrap_one="content",
    wrap_created=False,
    after_save=_dbrp_saved,
    collect=_dbrp_collect,
)

KINDS = (ORGS, USERS, BUCKETS, LABELS, AUTHORIZATIONS, LEGACY_AUTHORIZATIONS, DBRPS)
