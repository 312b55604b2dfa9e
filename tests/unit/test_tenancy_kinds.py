"""The kinds' declarations and the generic service that follows them, on an in-memory repository:
how one document and a list are shown, what a removal takes with it, and the DBRP kind's rules
(virtual mappings, one default mapping per database)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chalicelib.kit.errors import CONFLICT, TicklessError
from chalicelib.tenancy import registry
from chalicelib.tenancy.permissions import Permission, operator_permissions
from chalicelib.tenancy.principal import Principal
from chalicelib.tenancy.service import Tenancy

OPERATOR = Principal(operator_permissions())


class MemoryResources:
    """The `ResourceRepository` contract in memory (no transactions, no claims checked twice)."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, dict[str, Any]]] = {}
        self.claims: dict[tuple[str, str, str], str] = {}
        self.relations: set[tuple[str, str, str]] = set()

    def get(self, kind: str, id: str) -> dict[str, Any] | None:
        doc = self.docs.get(kind, {}).get(id)
        return dict(doc) if doc is not None else None

    def list(self, kind: str, org_id: str | None = None) -> list[dict[str, Any]]:
        docs = sorted(self.docs.get(kind, {}).values(), key=lambda d: d["id"])
        return [dict(d) for d in docs if org_id is None or d.get("orgID") == org_id]

    def find(self, kind: str, scope: str, name: str) -> str | None:
        return self.claims.get((kind, scope, name))

    def save(self, kind, doc, *, new, unique=None, old_unique=None, conflict="") -> None:
        if unique != old_unique:
            if unique is not None:
                if (kind, *unique) in self.claims:
                    raise TicklessError(CONFLICT, conflict)
                self.claims[(kind, *unique)] = doc["id"]
            if old_unique is not None:
                self.claims.pop((kind, *old_unique), None)
        self.docs.setdefault(kind, {})[doc["id"]] = dict(doc)

    def delete(self, kind, id, unique=None, org_id=None) -> None:
        self.docs.get(kind, {}).pop(id, None)
        if unique is not None:
            self.claims.pop((kind, *unique), None)

    def relate(self, relation: str, source: str, target: str) -> None:
        self.relations.add((relation, source, target))

    def unrelate(self, relation: str, source: str, target: str) -> None:
        self.relations.discard((relation, source, target))

    def related(self, relation: str, source: str) -> list[str]:
        return sorted(t for r, s, t in self.relations if (r, s) == (relation, source))

    def referring(self, relation: str, target: str) -> list[str]:
        return sorted(s for r, s, t in self.relations if (r, t) == (relation, target))

    def claim_flag(self, name: str) -> bool:
        return True

    def has_flag(self, name: str) -> bool:
        return False


@pytest.fixture
def removed() -> list[str]:
    return []


@pytest.fixture
def tenancy(removed) -> Tenancy:
    return Tenancy(MemoryResources(), None, on_namespace_removed=removed.append)  # type: ignore[arg-type]


@pytest.fixture
def org(tenancy) -> dict:
    return tenancy.create(registry.ORGS, {"name": "acme"}, OPERATOR)


def bucket(tenancy: Tenancy, org: dict, name: str) -> dict:
    return tenancy.create(registry.BUCKETS, {"name": name}, OPERATOR, {"orgID": org["id"]})


def mapping(tenancy: Tenancy, bucket: dict, database: str, rp: str, default: bool = False) -> dict:
    body = {"bucketID": bucket["id"], "database": database, "retention_policy": rp, "default": default}
    return tenancy.create(registry.DBRPS, body, OPERATOR, {"orgID": bucket["orgID"]})


def test_how_one_document_is_shown():
    label = {"id": "1" * 16, "orgID": "2" * 16, "name": "l", "properties": {}}
    assert registry.LABELS.render_one(label) == {
        "label": {"id": "1" * 16, "orgID": "2" * 16, "name": "l", "properties": {}},
        "links": {"self": f"/api/v2/labels/{'1' * 16}"},
    }
    dbrp = {"id": "1" * 16, "database": "db"}
    assert registry.DBRPS.render(dbrp) == dbrp  # no links
    assert registry.DBRPS.render_one(dbrp) == {"content": dbrp}
    assert registry.DBRPS.render_one(dbrp, created=True) == dbrp
    user = {"id": "1" * 16, "name": "u", "password": "secret"}
    assert "password" not in registry.USERS.render_one(user)


def test_what_kinds_declare_for_the_generic_service():
    assert registry.LEGACY_AUTHORIZATIONS.resource_type == "authorizations"
    assert registry.DBRPS.parents == {"orgs": "orgID", "buckets": "bucketID"}
    assert registry.USERS.parents == {} and registry.USERS.relations == ()
    assert registry.BUCKETS.relations == ("label", "member", "owner")


def test_an_org_gets_system_buckets_and_goes_with_everything_it_owns(tenancy, org, removed):
    system = {b["name"] for b in tenancy.stored(registry.BUCKETS, org["id"])}
    assert system == {"_tasks", "_monitoring"}
    mine = bucket(tenancy, org, "mine")
    mapping(tenancy, mine, "db", "rp")
    label = tenancy.create(registry.LABELS, {"name": "l"}, OPERATOR, {"orgID": org["id"]})
    tenancy.add_label(registry.BUCKETS, mine["id"], label["id"], OPERATOR)
    with pytest.raises(TicklessError, match="system buckets cannot be deleted"):
        tenancy.delete(registry.BUCKETS, tenancy.find_bucket(org["id"], "_tasks")["id"], OPERATOR)
    tenancy.delete(registry.ORGS, org["id"], OPERATOR)
    for kind in registry.KINDS:
        assert tenancy.stored(kind, org["id"]) == []
    assert mine["id"] in removed and len(removed) == 3  # every bucket's points are purged
    assert tenancy.resources.relations == set()


def test_a_bucket_goes_with_its_mappings(tenancy, org, removed):
    kept, dropped = bucket(tenancy, org, "kept"), bucket(tenancy, org, "dropped")
    mapping(tenancy, kept, "db", "a")
    mapping(tenancy, dropped, "db", "b")
    tenancy.delete(registry.BUCKETS, dropped["id"], OPERATOR)
    assert [m["retention_policy"] for m in tenancy.stored(registry.DBRPS, org["id"])] == ["a"]
    assert removed == [dropped["id"]]


def test_mappings_are_explicit_then_virtual_and_a_database_has_one_default(tenancy, org):
    plain = bucket(tenancy, org, "plain")  # virtual plain/autogen, the default of "plain"
    bucket(tenancy, org, "plain/week")  # virtual plain/week
    other = bucket(tenancy, org, "other")
    explicit = mapping(tenancy, other, "plain", "main", default=True)
    listed = {(m["database"], m["retention_policy"]): m for m in tenancy.documents(registry.DBRPS, org["id"])}
    assert set(listed) == {("plain", "autogen"), ("plain", "week"), ("plain", "main")}
    assert listed[("plain", "autogen")]["virtual"] and listed[("plain", "autogen")]["bucketID"] == plain["id"]
    assert [rp for (_, rp), m in listed.items() if m["default"]] == ["main"]  # explicit outranks virtual
    second = mapping(tenancy, plain, "plain", "other")
    assert explicit["default"] and not second["default"]
    tenancy.update(registry.DBRPS, second["id"], {"default": True}, OPERATOR)
    assert not tenancy.fetch(registry.DBRPS, explicit["id"])["default"]


def test_dbrp_lists_need_an_org_and_read_permission_on_dbrps_there(tenancy, org):
    with pytest.raises(TicklessError, match="either org or orgID must be provided"):
        tenancy.list(registry.DBRPS, OPERATOR, {})
    reader = Principal([Permission("read", "buckets", org_id=org["id"])])
    with pytest.raises(TicklessError, match=f"read:orgs/{org['id']}/dbrp is unauthorized"):
        tenancy.list(registry.DBRPS, reader, {"org": "acme"})
    bucket(tenancy, org, "db")
    assert [m["database"] for m in tenancy.list(registry.DBRPS, OPERATOR, {"org": "acme"})] == ["db"]


# -- references: what a request names must be the caller's to name ------------------------------------


def all_access(tenancy: Tenancy, name: str) -> tuple[dict, dict, Principal]:
    """An org with its own user, and that user's all-access principal (what /api/v2/setup/user makes)."""
    from chalicelib.tenancy.permissions import all_access_permissions

    user = tenancy.create(registry.USERS, {"name": f"{name}-user"}, OPERATOR)
    org = tenancy.create(registry.ORGS, {"name": name}, OPERATOR)
    return (
        org,
        user,
        Principal(all_access_permissions(org["id"], user["id"]), user_id=user["id"], org_id=org["id"]),
    )


@contextmanager
def refused(code: str, message: str) -> Iterator[None]:
    """The block raises a TicklessError with exactly this code and message."""
    with pytest.raises(TicklessError) as raised:
        yield
    assert (raised.value.code, raised.value.message) == (code, message)


def test_a_label_of_another_org_cannot_be_mapped(tenancy):
    """Case: POST /api/v2/buckets/{id}/labels with another org's labelID answered 201 with the label."""
    org_a, _, _ = all_access(tenancy, "a")
    org_b, _, b = all_access(tenancy, "b")
    theirs = tenancy.create(registry.LABELS, {"name": "secret"}, OPERATOR, {"orgID": org_a["id"]})
    mine = bucket(tenancy, org_b, "mine")
    with refused("unauthorized", f"read:orgs/{org_a['id']}/labels/{theirs['id']} is unauthorized"):
        tenancy.add_label(registry.BUCKETS, mine["id"], theirs["id"], b)
    with refused("not found", "label not found"):  # even for whoever may read both: not in that org
        tenancy.add_label(registry.BUCKETS, mine["id"], theirs["id"], OPERATOR)
    with refused("not found", "label not found"):
        tenancy.add_label(registry.ORGS, org_b["id"], theirs["id"], OPERATOR)
    assert tenancy.resources.relations & {("label", mine["id"], theirs["id"])} == set()
    own = tenancy.create(registry.LABELS, {"name": "own"}, b, {"orgID": org_b["id"]})
    assert tenancy.add_label(registry.BUCKETS, mine["id"], own["id"], b)["id"] == own["id"]


def test_an_authorization_names_a_user_its_creator_may_write(tenancy):
    """Case: POST /api/v2/authorizations for another org's user answered 201 with the user's name."""
    _, user_a, _ = all_access(tenancy, "a")
    org_b, user_b, b = all_access(tenancy, "b")
    body = {
        "orgID": org_b["id"],
        "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": org_b["id"]}}],
    }
    with refused("unauthorized", f"write:users/{user_a['id']} is unauthorized"):
        tenancy.create(registry.AUTHORIZATIONS, {**body, "userID": user_a["id"]}, b)
    with refused("unauthorized", f"write:users/{user_a['id']} is unauthorized"):
        tenancy.create(registry.LEGACY_AUTHORIZATIONS, {**body, "userID": user_a["id"], "token": "v1"}, b)
    with refused("invalid", "unable to create token"):  # influxd: nobody by that ID
        tenancy.create(registry.AUTHORIZATIONS, {**body, "userID": "0" * 15 + "1"}, OPERATOR)
    assert tenancy.create(registry.AUTHORIZATIONS, body, b)["user"] == user_b["name"]


def test_members_and_owners_are_users_the_caller_may_read(tenancy):
    _, user_a, _ = all_access(tenancy, "a")
    org_b, user_b, b = all_access(tenancy, "b")
    mine = bucket(tenancy, org_b, "mine")
    with refused("unauthorized", f"read:users/{user_a['id']} is unauthorized"):
        tenancy.add_member(registry.BUCKETS, mine["id"], user_a["id"], "owner", b)
    with refused("not found", "user not found"):
        tenancy.add_member(registry.BUCKETS, mine["id"], "0" * 15 + "1", "member", OPERATOR)
    assert (
        tenancy.add_member(registry.BUCKETS, mine["id"], user_b["id"], "owner", b)["name"] == user_b["name"]
    )


def test_a_dbrp_mapping_names_a_bucket_of_its_org_the_caller_may_write(tenancy):
    org_a, _, _ = all_access(tenancy, "a")
    org_b, _, b = all_access(tenancy, "b")
    theirs = bucket(tenancy, org_a, "theirs")
    body = {"bucketID": theirs["id"], "database": "db", "retention_policy": "rp"}
    with refused("unauthorized", f"write:orgs/{org_a['id']}/buckets/{theirs['id']} is unauthorized"):
        tenancy.create(registry.DBRPS, body, b, {"orgID": org_b["id"]})
    with refused("not found", "bucket not found"):
        tenancy.create(registry.DBRPS, body, OPERATOR, {"orgID": org_b["id"]})
    with refused("invalid", 'invalid bucket ID "theirs": id must have a length of 16 bytes'):
        tenancy.create(registry.DBRPS, {**body, "bucketID": "theirs"}, OPERATOR, {"orgID": org_b["id"]})
    assert tenancy.stored(registry.DBRPS) == []


def test_an_authorization_is_read_and_changed_with_its_user(tenancy):
    """influxd: an org's all-access token does not reach the org's other users' tokens."""
    org, _, a = all_access(tenancy, "a")
    other = tenancy.create(registry.USERS, {"name": "other"}, OPERATOR)
    permissions = [{"action": "read", "resource": {"type": "buckets", "orgID": org["id"]}}]
    theirs = tenancy.create(
        registry.AUTHORIZATIONS,
        {"orgID": org["id"], "userID": other["id"], "permissions": permissions},
        OPERATOR,
    )
    mine = tenancy.create(registry.AUTHORIZATIONS, {"orgID": org["id"], "permissions": permissions}, a)
    with refused("unauthorized", f"read:users/{other['id']} is unauthorized"):
        tenancy.get(registry.AUTHORIZATIONS, theirs["id"], a)
    with refused("unauthorized", f"write:users/{other['id']} is unauthorized"):
        tenancy.update(registry.AUTHORIZATIONS, theirs["id"], {"status": "inactive"}, a)
    listed = {d["id"] for d in tenancy.list(registry.AUTHORIZATIONS, a, {"orgID": org["id"]})}
    assert mine["id"] in listed and theirs["id"] not in listed


def test_permissions_stay_in_the_authorizations_org(tenancy):
    org_a, _, _ = all_access(tenancy, "a")
    org_b, _, b = all_access(tenancy, "b")
    theirs = bucket(tenancy, org_a, "theirs")
    named = {"type": "buckets", "id": theirs["id"], "orgID": org_b["id"]}  # their bucket, our org
    with refused(
        "invalid",
        f"permission read:orgs/{org_b['id']}/buckets/{theirs['id']} is not for org id {org_b['id']}",
    ):
        tenancy.create(
            registry.AUTHORIZATIONS,
            {"orgID": org_b["id"], "permissions": [{"action": "read", "resource": named}]},
            b,
        )
    other_org = {"type": "buckets", "orgID": org_a["id"]}  # influxd's Authorization.Valid
    with refused("invalid", f"permission read:orgs/{org_a['id']}/buckets is not for org id {org_b['id']}"):
        tenancy.create(
            registry.AUTHORIZATIONS,
            {"orgID": org_b["id"], "permissions": [{"action": "read", "resource": other_org}]},
            OPERATOR,
        )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("zz", "id must have a length of 16 bytes"),
        ("0123456789abcdef0", "id must have a length of 16 bytes"),
        ("zzzzzzzzzzzzzzzz", "invalid ID"),
        ("0000000000000000", "invalid ID"),
    ],
)
def test_malformed_ids_are_invalid_with_influxds_messages(tenancy, org, value, message):
    for call in (
        lambda: tenancy.get(registry.BUCKETS, value, OPERATOR),
        lambda: tenancy.delete(registry.LABELS, value, OPERATOR),
        lambda: tenancy.update(registry.USERS, value, {}, OPERATOR),
        lambda: tenancy.list(registry.BUCKETS, OPERATOR, {"orgID": value}),
        lambda: tenancy.list(registry.USERS, OPERATOR, {"id": value}),
        lambda: tenancy.remove_label(registry.ORGS, org["id"], value, OPERATOR),
        lambda: tenancy.writable_bucket(OPERATOR, {"orgID": org["id"], "bucketID": value}),
    ):
        with refused("invalid", message):
            call()
    with refused("invalid", f"invalid org ID {json.dumps(value)}: {message}"):  # influxd's dbrp wording
        tenancy.list(registry.DBRPS, OPERATOR, {"orgID": value})
