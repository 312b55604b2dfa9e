"""Kapacitor's users in the domain: bodies decoded as Kapacitor's Go decoder reads them, its checks and
words (services/auth/service.go), the permissions it shows back, and which routes each grant reaches
(services/httpd/handler.go with auth/auth.go)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.kapacitor.access import authorize, granted, privilege
from chalicelib.kapacitor.users import KapacitorUsers, User, valid_name
from chalicelib.kit.errors import TicklessError


class MemoryUsers:
    """UserStore in a dict: one namespace of names, each user with its organization."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, dict[str, Any]]] = {}

    def get(self, name: str) -> dict[str, Any] | None:
        item = self.items.get(name)
        return dict(item[1]) if item else None

    def create(self, org_id: str, doc: dict[str, Any]) -> bool:
        if doc["name"] in self.items:
            return False
        self.items[doc["name"]] = (org_id, dict(doc))
        return True

    def replace(self, org_id: str, doc: dict[str, Any]) -> bool:
        if self.items.get(doc["name"], ("",))[0] != org_id:
            return False
        self.items[doc["name"]] = (org_id, dict(doc))
        return True

    def delete(self, org_id: str, name: str) -> None:
        if self.items.get(name, ("",))[0] == org_id:
            del self.items[name]

    def list(self, org_id: str) -> list[dict[str, Any]]:
        return [dict(doc) for name, (org, doc) in sorted(self.items.items()) if org == org_id]


def _cheap_hash(password: str) -> str:
    return "test$" + password[::-1]


def _cheap_verify(password: str, stored: str) -> bool:
    return stored == _cheap_hash(password)


@pytest.fixture
def users() -> KapacitorUsers:
    return KapacitorUsers(MemoryUsers(), _cheap_hash, _cheap_verify)


def _body(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _error(call, *args) -> TicklessError:
    with pytest.raises(TicklessError) as caught:
        call(*args)
    return caught.value


# -- create ------------------------------------------------------------------------------------------


def test_a_created_user_is_shown_as_kapacitor_shows_it(users):
    user = users.create("org", _body({"name": "stan", "password": "pass", "permissions": ["config_api"]}))
    assert user.to_json() == {
        "link": {"rel": "self", "href": "/kapacitor/v1/users/stan"},
        "name": "stan",
        "type": "normal",
        "permissions": ["config_api"],
    }
    assert list(user.to_json()) == ["link", "name", "type", "permissions"]
    assert users.get("org", "stan") == user


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (["api", "config_api", "write_points"], ["all"]),
        (["all"], ["all"]),
        (["write_points", "api"], ["api", "write_points"]),
        (["none"], []),
        ([None], []),  # Go leaves a null element at its zero value, `none`
        ([], []),
        (None, []),
    ],
)
def test_permissions_come_back_as_kapacitor_lists_them(users, given, shown):
    user = users.create("org", _body({"name": "u", "password": "p", "permissions": given}))
    assert user.permissions() == shown


def test_an_admin_keeps_the_permissions_it_was_created_with(users):
    admin = users.create(
        "org", _body({"name": "root", "password": "p", "type": "admin", "permissions": ["api"]})
    )
    assert (admin.type, admin.admin, admin.permissions()) == ("admin", True, ["api"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "invalid JSON"),
        (b"{", "invalid JSON"),
        (b"[]", "invalid JSON"),
        (b'"stan"', "invalid JSON"),
        (_body({"name": 5, "password": "p"}), "invalid JSON"),
        (_body({"name": "s", "password": "p", "type": "root"}), "invalid JSON"),
        (_body({"name": "s", "password": "p", "permissions": ["read"]}), "invalid JSON"),
        (_body({"name": "s", "password": "p", "permissions": "api"}), "invalid JSON"),
        (_body({"name": "s", "password": "p", "permissions": [["api"]]}), "invalid JSON"),
        (b"null", "username is required"),
        (_body({"password": "p"}), "username is required"),
        (_body({"name": "", "password": "p"}), "username is required"),
        (
            _body({"name": "bad name!", "password": "p"}),
            "username must contain only letters, numbers, '-', '.', '@' and '_'. \"bad name!\"",
        ),
        (_body({"name": "stan"}), "password is required"),
        (_body({"name": "stan", "password": ""}), "password is required"),
        (
            _body({"name": "stan", "password": "x" * 73}),
            "failed to create user: hashing password: bcrypt: password length exceeds 72 bytes",
        ),
        (_body({"name": "a" * 1025, "password": "p"}), "username must be at most 1024 bytes"),
    ],
)
def test_bad_bodies_get_kapacitors_words(users, body, message):
    error = _error(users.create, "org", body)
    assert (error.status, error.message) == (400, message)


def test_the_body_is_read_as_gos_decoder_reads_it(users):
    # field names match whatever their case, the first value is read and the rest left, null sets nothing
    raw = b'{"NAME": "stan", "Password": "pass", "type": null, "other": 1} trailing'
    user = users.create("org", raw)
    assert (user.name, user.type) == ("stan", "normal")
    assert users.authenticate("stan", "pass") == user


def test_lone_surrogates_are_replaced_as_go_replaces_them(users):
    raw = b'{"name": "x\\ud800", "password": "p"}'
    assert _error(users.create, "org", raw).message == (
        "username must contain only letters, numbers, '-', '.', '@' and '_'. \"x\ufffd\""
    )
    user = users.create("org", b'{"name": "x", "password": "\\ud800"}')
    assert users.authenticate("x", "\ufffd") == user


def test_names_may_hold_letters_of_any_script(users):
    assert valid_name("jürgen.o@x_y-1") and valid_name("日本")
    assert not valid_name("a b") and not valid_name("a/b") and not valid_name("") and not valid_name("_sub:x")


def test_a_name_is_taken_across_organizations(users):
    users.create("org", _body({"name": "stan", "password": "p"}))
    for org in ("org", "other"):
        error = _error(users.create, org, _body({"name": "stan", "password": "q"}))
        assert (error.status, error.message) == (
            409,
            "failed to create user: creating user: user already exists",
        )
    assert users.authenticate("stan", "p") is not None  # the first one is untouched


# -- read, update, delete ----------------------------------------------------------------------------


def test_another_organizations_user_does_not_exist_for_you(users):
    users.create("a", _body({"name": "stan", "password": "p"}))
    error = _error(users.get, "b", "stan")
    assert (error.status, error.message) == (404, "no user exists")
    error = _error(users.update, "b", "stan", _body({"password": "q"}))
    assert (error.status, error.message) == (404, "failed to create user: updating user: no user exists")
    users.delete("b", "stan")
    assert users.get("a", "stan").name == "stan"
    assert users.list("b", {}) == []


def test_update_changes_only_what_is_given(users):
    users.create("org", _body({"name": "bob", "password": "old", "permissions": ["write_points"]}))
    user = users.update("org", "bob", _body({"password": "new"}))
    assert user.permissions() == ["write_points"] and user.type == "normal"
    assert users.authenticate("bob", "new") and not users.authenticate("bob", "old")

    user = users.update("org", "bob", _body({"permissions": None, "password": "", "type": ""}))
    assert user.permissions() == ["write_points"] and users.authenticate("bob", "new")

    assert users.update("org", "bob", _body({"permissions": []})).permissions() == []
    assert users.update("org", "bob", _body({"permissions": ["all"]})).permissions() == ["all"]


def test_becoming_an_admin_drops_the_permissions(users):
    users.create("org", _body({"name": "bob", "password": "p", "permissions": ["api"]}))
    admin = users.update("org", "bob", _body({"type": "admin", "permissions": ["all"]}))
    assert (admin.type, admin.permissions()) == ("admin", [])
    normal = users.update("org", "bob", _body({"type": "normal"}))
    assert (normal.type, normal.permissions()) == ("normal", [])


def test_update_checks_the_body_before_the_user(users):
    assert _error(users.update, "org", "nobody", b"{").message == "invalid JSON"
    assert _error(users.update, "org", "nobody", _body({"type": "x"})).message == "invalid JSON"
    users.create("org", _body({"name": "bob", "password": "p"}))
    error = _error(users.update, "org", "bob", _body({"password": "é" * 37}))
    assert error.message.endswith("password length exceeds 72 bytes")


def test_deleting_nothing_is_fine(users):
    users.delete("org", "nobody")
    users.delete("org", "x" * 2000)
    users.create("org", _body({"name": "bob", "password": "p"}))
    users.delete("org", "bob")
    assert _error(users.get, "org", "bob").status == 404


# -- list --------------------------------------------------------------------------------------------


def _names(users: KapacitorUsers, **query: Any) -> list[str]:
    return [u["name"] for u in users.list("org", query)]


def test_list_pages_filters_and_picks_fields(users):
    for name in ("carol", "alice", "bob", "alfred"):
        users.create("org", _body({"name": name, "password": "p", "permissions": ["api"]}))
    users.create("other", _body({"name": "amy", "password": "p"}))
    assert _names(users) == ["alfred", "alice", "bob", "carol"]
    assert _names(users, pattern="al*") == ["alfred", "alice"]
    assert _names(users, pattern="[^a]*") == ["bob", "carol"]
    assert _names(users, offset="1", limit="2") == ["alice", "bob"]
    [first] = users.list("org", {"fields": ["type"], "limit": "1"})
    assert first == {
        "link": {"rel": "self", "href": "/kapacitor/v1/users/alfred"},
        "name": "alfred",
        "type": "normal",
    }
    assert users.list("org", {})[0]["permissions"] == ["api"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"fields": ["password"]}, 'unsupported field "password"'),
        ({"pattern": "[a"}, 'invalid pattern "[a": syntax error in pattern'),
        (
            {"offset": "x"},
            'invalid offset parameter "x" must be an integer: strconv.ParseInt: parsing "x": invalid syntax',
        ),
        (
            {"limit": "1.5"},
            'invalid limit parameter "1.5" must be an integer: '
            'strconv.ParseInt: parsing "1.5": invalid syntax',
        ),
    ],
)
def test_bad_list_parameters(users, query, message):
    users.create("org", _body({"name": "bob", "password": "p"}))
    error = _error(users.list, "org", query)
    assert (error.status, error.message) == (400, message)
    assert _error(users.list, "an org without users", query).message == message


# -- passwords ---------------------------------------------------------------------------------------


def test_passwords_are_kept_only_as_a_salted_hash():
    store = MemoryUsers()
    users = KapacitorUsers(store)  # the real hashing: tenancy's scrypt
    users.create("org", _body({"name": "stan", "password": "hunter2"}))
    users.create("org", _body({"name": "jan", "password": "hunter2"}))
    stored = json.dumps(store.items)
    assert "hunter2" not in stored
    assert (
        store.get("stan")["hash"].startswith("scrypt$")
        and store.get("stan")["hash"] != store.get("jan")["hash"]
    )
    assert users.authenticate("stan", "hunter2").name == "stan"
    assert users.authenticate("stan", "hunter3") is None
    assert users.authenticate("nobody", "hunter2") is None
    assert users.authenticate("stan", "") is None
    assert "hash" not in json.dumps(users.get("org", "stan").to_json())
    assert "hunter2" not in repr(users.get("org", "stan"))


# -- what each grant reaches -------------------------------------------------------------------------

ROUTES = ["/tasks", "/tasks/{task_id}", "/users/{name}", "/alerts/topics", "/debug/vars", ""]


@pytest.mark.parametrize(
    ("grants", "path", "allowed"),
    [
        *[(frozenset({"api"}), route, True) for route in ROUTES],
        (frozenset({"api"}), "/write", False),
        (frozenset({"api"}), "/config/{section}", False),
        (frozenset({"api"}), "/ping", True),
        (frozenset({"config_api"}), "/config", True),
        (frozenset({"config_api"}), "/config/{section}/{element}", True),
        (frozenset({"config_api"}), "/ping", True),
        (frozenset({"config_api"}), "/tasks", False),
        (frozenset({"config_api"}), "/write", False),
        (frozenset({"write_points"}), "/write", True),
        (frozenset({"write_points"}), "/ping", True),
        (frozenset({"write_points"}), "/tasks", False),
        (frozenset({"write_points"}), "/users/{name}", False),
        (frozenset({"api", "write_points"}), "/write", True),
        (frozenset({"api", "config_api"}), "/config", True),
        (frozenset(), "/ping", False),
        (frozenset(), "/tasks", False),
        (frozenset({"api"}), "/tasks/../write", False),  # cleaned as Go's path.Clean
        (frozenset({"api"}), "/../../tasks", False),  # out of /api: nothing reaches it
        (frozenset({"api"}), "/writer", True),  # a path element, not a prefix
    ],
)
def test_what_each_grant_reaches(grants, path, allowed):
    assert granted(grants, path) is allowed


def test_a_refusal_in_kapacitors_words():
    bob = User("bob", "org", grants=frozenset({"write_points"}))
    error = _error(authorize, bob, "DELETE", "/users/{name}", "/users/root")
    assert (error.status, error.message) == (
        403,
        'user bob does not have "delete" privilege for API endpoint "/kapacitor/v1/users/root"',
    )
    assert _error(authorize, bob, "GET", "/tasks").message.startswith(
        'user bob does not have "read" privilege'
    )
    authorize(bob, "POST", "/write")
    authorize(bob, "HEAD", "/tasks")  # HEAD and OPTIONS need no privilege
    authorize(User("root", "org", admin=True), "DELETE", "/config/smtp")


def test_privilege_by_method():
    assert [privilege(m) for m in ("HEAD", "OPTIONS", "GET", "POST", "PATCH", "PUT", "DELETE")] == [
        "none",
        "none",
        "read",
        "write",
        "write",
        "write",
        "delete",
    ]
