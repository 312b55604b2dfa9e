"""The InfluxDB 2.x permission model: JSON shape and validation, matching, standard sets, subset checks."""

from __future__ import annotations

import pytest

from chalicelib.kit.errors import FORBIDDEN, INVALID, TicklessError
from chalicelib.tenancy.permissions import (
    CLOUD_ONLY_RESOURCE_TYPES,
    OSS_RESOURCE_TYPES,
    RESOURCE_TYPES,
    Permission,
    all_access_permissions,
    allows,
    ensure_subset,
    me_permissions,
    member_permissions,
    operator_permissions,
    owner_permissions,
    parse_permissions,
)

ORG = "0000000000000001"
OTHER_ORG = "0000000000000002"
BUCKET = "00000000000000b1"
OTHER_BUCKET = "00000000000000b2"
USER = "00000000000000a1"
OTHER_USER = "00000000000000a2"


def test_resource_type_lists():
    assert len(RESOURCE_TYPES) == len(set(RESOURCE_TYPES)) == 26
    assert set(OSS_RESOURCE_TYPES) | set(CLOUD_ONLY_RESOURCE_TYPES) == set(RESOURCE_TYPES)
    assert len(OSS_RESOURCE_TYPES) == 23
    assert OSS_RESOURCE_TYPES[-1] == "instance"


# --- JSON -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        {"action": "read", "resource": {"type": "buckets"}},
        {"action": "write", "resource": {"type": "buckets", "orgID": ORG}},
        {"action": "write", "resource": {"type": "buckets", "id": BUCKET}},
        {"action": "read", "resource": {"type": "buckets", "id": BUCKET, "orgID": ORG}},
        {"action": "read", "resource": {"type": "orgs", "id": ORG, "name": "acme"}},
        {
            "action": "read",
            "resource": {"type": "buckets", "id": BUCKET, "orgID": ORG, "name": "b", "org": "o"},
        },
        {"action": "write", "resource": {"type": "notificationEndpoints", "orgID": ORG, "org": "acme"}},
    ],
)
def test_json_round_trip(doc):
    perm = Permission.from_json(doc)
    assert perm.to_json() == doc
    assert Permission.from_json(perm.to_json()) == perm


def test_to_json_key_order_and_omission():
    perm = Permission("read", "buckets", id=BUCKET, org_id=ORG, name="b", org="o")
    assert list(perm.to_json()["resource"]) == ["type", "id", "orgID", "name", "org"]
    assert Permission("write", "dbrp").to_json() == {"action": "write", "resource": {"type": "dbrp"}}


def test_from_json_fields():
    perm = Permission.from_json(
        {"action": "write", "resource": {"type": "buckets", "id": BUCKET.upper(), "orgID": ORG, "name": "b"}}
    )
    assert perm == Permission("write", "buckets", id=BUCKET, org_id=ORG, name="b")
    assert perm.bare() == Permission("write", "buckets", id=BUCKET, org_id=ORG)
    # null and empty names are absent
    assert Permission.from_json(
        {"action": "read", "resource": {"type": "orgs", "id": None, "name": "", "org": None}}
    ) == Permission("read", "orgs")


TYPE_MSG = "invalid resource type for permission: unknown resource type for permission"
ACTION_MSG = "invalid action type for permission: unknown action for permission"
LENGTH_MSG = "invalid json structure: id must have a length of 16 bytes"
ID_MSG = "invalid json structure: invalid ID"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"action": "read", "resource": {"type": "bucket"}}, TYPE_MSG),
        ({"action": "read", "resource": {"type": "Buckets"}}, TYPE_MSG),
        ({"action": "read", "resource": {"type": "flows"}}, TYPE_MSG),  # Cloud only
        ({"action": "read", "resource": {"type": "any"}}, TYPE_MSG),
        ({"action": "read", "resource": {}}, TYPE_MSG),
        ({"action": "read"}, TYPE_MSG),
        ({"action": "read", "resource": {"type": 3}}, TYPE_MSG),
        ({"action": "delete", "resource": {"type": "buckets"}}, ACTION_MSG),
        ({"action": "READ", "resource": {"type": "buckets"}}, ACTION_MSG),
        ({"resource": {"type": "buckets"}}, ACTION_MSG),
        ({"action": "nope", "resource": {"type": "nope"}}, TYPE_MSG),  # type is checked first
        ({"action": "read", "resource": {"type": "buckets", "id": "abc"}}, LENGTH_MSG),
        ({"action": "read", "resource": {"type": "buckets", "orgID": ORG + "0"}}, LENGTH_MSG),
        ({"action": "read", "resource": {"type": "buckets", "id": "000000000000000g"}}, ID_MSG),
        ({"action": "read", "resource": {"type": "buckets", "orgID": "0" * 16}}, ID_MSG),
        ({"action": "read", "resource": {"type": "buckets", "id": 12}}, ID_MSG),
        ({"action": "nope", "resource": {"type": "nope", "id": "x"}}, LENGTH_MSG),  # decode comes first
    ],
)
def test_from_json_errors(doc, message):
    with pytest.raises(TicklessError) as err:
        Permission.from_json(doc)
    assert err.value.code == INVALID
    assert err.value.status == 400
    assert err.value.message == message


@pytest.mark.parametrize("doc", ["read", None, [], {"action": "read", "resource": "buckets"}])
def test_from_json_rejects_non_objects(doc):
    with pytest.raises(TicklessError) as err:
        Permission.from_json(doc)
    assert err.value.code == INVALID


def test_parse_permissions():
    docs = [p.to_json() for p in all_access_permissions(ORG, USER)]
    assert parse_permissions(docs) == all_access_permissions(ORG, USER)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "authorization must include permissions"),
        (None, "authorization must include permissions"),
        (
            [
                {"action": "read", "resource": {"type": "nope"}},
                {"action": "read", "resource": {"type": "x", "id": "1"}},
            ],
            LENGTH_MSG,  # a bad ID anywhere fails JSON decoding before any validation
        ),
        (
            [
                {"action": "read", "resource": {"type": "buckets"}},
                {"action": "x", "resource": {"type": "buckets"}},
            ],
            ACTION_MSG,
        ),
    ],
)
def test_parse_permissions_errors(items, message):
    with pytest.raises(TicklessError) as err:
        parse_permissions(items)
    assert err.value.message == message


@pytest.mark.parametrize(
    ("perm", "text"),
    [
        (Permission("read", "buckets"), "read:buckets"),
        (Permission("write", "buckets", org_id=ORG), f"write:orgs/{ORG}/buckets"),
        (Permission("read", "buckets", id=BUCKET), f"read:buckets/{BUCKET}"),
        (Permission("read", "buckets", id=BUCKET, org_id=ORG), f"read:orgs/{ORG}/buckets/{BUCKET}"),
    ],
)
def test_str(perm, text):
    assert str(perm) == text


# --- matching -------------------------------------------------------------------------------------

TYPE_WIDE = Permission("read", "buckets")
ORG_WIDE = Permission("read", "buckets", org_id=ORG)
ONE = Permission("read", "buckets", id=BUCKET)
ONE_IN_ORG = Permission("read", "buckets", id=BUCKET, org_id=ORG)
WRITE_ORG_WIDE = Permission("write", "buckets", org_id=ORG)
READ_ORG = Permission("read", "orgs", id=ORG)


@pytest.mark.parametrize(
    ("held", "action", "type_", "rid", "oid", "expected"),
    [
        # type-wide: any resource of the type, whatever is asked
        (TYPE_WIDE, "read", "buckets", BUCKET, ORG, True),
        (TYPE_WIDE, "read", "buckets", None, ORG, True),
        (TYPE_WIDE, "read", "buckets", BUCKET, None, True),
        (TYPE_WIDE, "read", "buckets", None, None, True),
        (TYPE_WIDE, "read", "dashboards", None, None, False),  # other type
        (TYPE_WIDE, "write", "buckets", None, None, False),  # read does not give write
        # org-wide: requests naming the same org
        (ORG_WIDE, "read", "buckets", BUCKET, ORG, True),
        (ORG_WIDE, "read", "buckets", None, ORG, True),
        (ORG_WIDE, "read", "buckets", BUCKET, OTHER_ORG, False),  # wrong org
        (ORG_WIDE, "read", "buckets", BUCKET, None, False),  # id-only request needs an id permission
        (ORG_WIDE, "read", "buckets", None, None, False),  # global request
        (ORG_WIDE, "write", "buckets", BUCKET, ORG, False),
        # write does NOT imply read in InfluxDB 2
        (WRITE_ORG_WIDE, "read", "buckets", BUCKET, ORG, False),
        (WRITE_ORG_WIDE, "write", "buckets", BUCKET, ORG, True),
        # id-specific: requests naming that id
        (ONE, "read", "buckets", BUCKET, ORG, True),
        (ONE, "read", "buckets", BUCKET, None, True),
        (ONE, "read", "buckets", OTHER_BUCKET, ORG, False),
        (ONE, "read", "buckets", None, ORG, False),  # cannot list/create in the org with it
        (ONE, "write", "buckets", BUCKET, ORG, False),
        (ONE_IN_ORG, "read", "buckets", BUCKET, ORG, True),
        # influxd compares only the id here; an org's permission naming another org's resource
        # must not reach it
        (ONE_IN_ORG, "read", "buckets", BUCKET, OTHER_ORG, False),
        (ONE_IN_ORG, "read", "buckets", None, ORG, False),
        # reading an org is checked as orgs/<id>
        (READ_ORG, "read", "orgs", ORG, None, True),
        (READ_ORG, "read", "orgs", OTHER_ORG, None, False),
        (READ_ORG, "write", "orgs", ORG, None, False),
        (Permission("read", "orgs", org_id=ORG), "read", "orgs", ORG, None, False),
        (Permission("read", "orgs"), "read", "orgs", ORG, None, True),
    ],
)
def test_allows_matrix(held, action, type_, rid, oid, expected):
    assert allows([held], action, type_, id=rid, org_id=oid) is expected
    assert held.matches(Permission(action, type_, rid, oid)) is expected


def test_allows_ignores_names_and_needs_one_match():
    held = [
        Permission("read", "buckets", id=BUCKET, name="b", org="o"),
        Permission("write", "tasks", org_id=ORG),
    ]
    assert allows(held, "read", "buckets", id=BUCKET)
    assert allows(held, "write", "tasks", org_id=ORG)
    assert not allows(held, "read", "tasks", org_id=ORG)
    assert not allows([], "read", "buckets")
    assert allows(iter(held), "read", "buckets", id=BUCKET)  # any iterable


# --- standard sets --------------------------------------------------------------------------------

TOKEN_TYPES = [t for t in OSS_RESOURCE_TYPES if t != "instance"]


def test_operator_permissions():
    perms = operator_permissions()
    assert perms == [Permission(a, t) for t in TOKEN_TYPES for a in ("read", "write")]
    assert len(perms) == 44
    assert perms[:4] == [
        Permission("read", "authorizations"),
        Permission("write", "authorizations"),
        Permission("read", "buckets"),
        Permission("write", "buckets"),
    ]
    for t in TOKEN_TYPES:
        assert allows(perms, "write", t, id=BUCKET, org_id=OTHER_ORG)
        assert allows(perms, "read", t)
    assert not allows(perms, "read", "instance")


def test_all_access_permissions():
    perms = all_access_permissions(ORG, USER)
    assert len(perms) == 2 * len(TOKEN_TYPES) - 1  # no write on the org
    assert Permission("read", "orgs", id=ORG) in perms
    assert Permission("write", "orgs", id=ORG) not in perms
    assert Permission("read", "users", id=USER) in perms
    assert Permission("write", "users", id=USER) in perms
    for p in perms:
        if p.type in ("orgs", "users"):
            assert p.org_id is None
        else:
            assert (p.org_id, p.id) == (ORG, None)
    assert [p.type for p in perms[:4]] == ["authorizations", "authorizations", "buckets", "buckets"]
    assert {p.type for p in perms} == set(TOKEN_TYPES)
    # what it allows
    assert allows(perms, "write", "buckets", id=BUCKET, org_id=ORG)
    assert allows(perms, "write", "buckets", org_id=ORG)
    assert not allows(perms, "write", "buckets", org_id=OTHER_ORG)
    assert not allows(perms, "read", "buckets")
    assert allows(perms, "read", "orgs", id=ORG)
    assert not allows(perms, "write", "orgs", id=ORG)
    assert not allows(perms, "read", "orgs", id=OTHER_ORG)
    assert allows(perms, "write", "users", id=USER)
    assert not allows(perms, "read", "users", id=OTHER_USER)


def test_owner_member_me_permissions():
    owner = owner_permissions(ORG)
    member = member_permissions(ORG)
    assert len(owner) == 2 * len(TOKEN_TYPES)
    assert len(member) == len(TOKEN_TYPES)
    assert all(p.action == "read" for p in member)
    assert Permission("read", "orgs", id=ORG) in member
    assert Permission("write", "orgs", id=ORG) in owner
    assert Permission("read", "buckets", org_id=ORG) in member
    assert allows(member, "read", "dashboards", id=BUCKET, org_id=ORG)
    assert not allows(member, "write", "dashboards", id=BUCKET, org_id=ORG)
    assert not allows(member, "read", "dashboards", id=BUCKET, org_id=OTHER_ORG)
    assert allows(owner, "write", "dashboards", org_id=ORG)
    ensure_subset(member, owner)
    assert me_permissions(USER) == [
        Permission("read", "users", id=USER),
        Permission("write", "users", id=USER),
    ]


# --- subset checks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "held"),
    [
        ([], []),
        (all_access_permissions(ORG, USER), operator_permissions()),
        ([Permission("read", "buckets", id=BUCKET, org_id=ORG)], all_access_permissions(ORG, USER)),
        ([Permission("write", "buckets", org_id=ORG)], all_access_permissions(ORG, USER)),
        ([Permission("read", "buckets", id=BUCKET)], [Permission("read", "buckets", id=BUCKET)]),
        ([Permission("read", "buckets", id=BUCKET, name="b")], [Permission("read", "buckets")]),
        (member_permissions(ORG), owner_permissions(ORG)),
    ],
)
def test_ensure_subset_ok(requested, held):
    ensure_subset(requested, held)


@pytest.mark.parametrize(
    ("requested", "held", "bad"),
    [
        ([Permission("read", "buckets")], all_access_permissions(ORG, USER), "read:buckets"),
        (
            [Permission("write", "buckets", org_id=OTHER_ORG)],
            all_access_permissions(ORG, USER),
            f"write:orgs/{OTHER_ORG}/buckets",
        ),
        ([Permission("write", "orgs", id=ORG)], all_access_permissions(ORG, USER), f"write:orgs/{ORG}"),
        (operator_permissions(), all_access_permissions(ORG, USER), "read:authorizations"),
        (
            [Permission("read", "buckets", org_id=ORG)],
            [Permission("read", "buckets", id=BUCKET)],
            f"read:orgs/{ORG}/buckets",
        ),
        (
            [Permission("read", "buckets", org_id=ORG)],
            [Permission("write", "buckets", org_id=ORG)],
            f"read:orgs/{ORG}/buckets",
        ),
        (
            [Permission("read", "buckets", org_id=ORG), Permission("read", "tasks", id=BUCKET, org_id=ORG)],
            [Permission("read", "buckets", org_id=ORG)],
            f"read:orgs/{ORG}/tasks/{BUCKET}",
        ),
        ([Permission("read", "instance")], operator_permissions(), "read:instance"),
        # members read the org's users (orgs/<org>/users); all-access only holds users/<its user>
        (member_permissions(ORG), all_access_permissions(ORG, USER), f"read:orgs/{ORG}/users"),
    ],
)
def test_ensure_subset_refuses(requested, held, bad):
    with pytest.raises(TicklessError) as err:
        ensure_subset(requested, held)
    assert err.value.code == FORBIDDEN
    assert err.value.status == 403
    assert err.value.message == f"permission {bad} is not allowed: {bad} is unauthorized"
