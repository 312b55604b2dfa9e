"""Kapacitor's users (`/kapacitor/v1/users`, Kapacitor's services/auth): a name, a type (normal or
admin), permissions and a password kept only as a hash.

Kapacitor stores permissions as privileges on API resources; what it shows back is the set of the three
grants `api`, `config_api` and `write_points` (`all` when a user has the three, nothing for `none`),
so that set is the model here. Bodies are read as Kapacitor's json.Decoder reads them: the first value,
field names matched case-insensitively, and any value Go could not decode (an unknown type or
permission included) is `invalid JSON`. Names are unique across the instance, since Basic credentials
name no organization; a user acts in the organization that created it, and only that organization
sees it (another's user is "no user exists")."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.kit.errors import CONFLICT, TicklessError, invalid, not_found
from chalicelib.kit.gojson import first_value, go_json_error
from chalicelib.kit.gopath import go_match
from chalicelib.kit.gotemplate import go_quote
from chalicelib.tenancy import secrets

NORMAL = "normal"
ADMIN = "admin"
API = "api"
CONFIG_API = "config_api"
WRITE_POINTS = "write_points"
GRANTS = (API, CONFIG_API, WRITE_POINTS)  # the order Kapacitor lists them in
PERMISSIONS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    API: frozenset({API}),
    CONFIG_API: frozenset({CONFIG_API}),
    WRITE_POINTS: frozenset({WRITE_POINTS}),
    "all": frozenset(GRANTS),
}
FIELDS = ("link", "name", "type", "permissions")
BASE_PATH = "/kapacitor/v1/users"  # Kapacitor links users under v1 whichever prefix was called
# A name is a DynamoDB sort key (at most 1024 bytes); Kapacitor's bcrypt takes at most 72 bytes.
MAX_NAME_BYTES = 1024
MAX_PASSWORD_BYTES = 72
NO_USER = "no user exists"
EXISTS = "user already exists"

_CREATE_OPTIONS = ("name", "password", "type", "permissions")
_UPDATE_OPTIONS = ("password", "type", "permissions")
_NAME_RULE = "username must contain only letters, numbers, '-', '.', '@' and '_'."
_NAME_PUNCTUATION = frozenset("-._@")
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class User:
    name: str
    org_id: str
    admin: bool = False
    grants: frozenset[str] = frozenset()
    password_hash: str = field(default="", repr=False)

    @property
    def type(self) -> str:
        return ADMIN if self.admin else NORMAL

    def permissions(self) -> list[str]:
        if self.grants >= PERMISSIONS["all"]:
            return ["all"]
        return [grant for grant in GRANTS if grant in self.grants]

    def to_json(self, fields: tuple[str, ...] = FIELDS) -> dict[str, Any]:
        """The user as Kapacitor shows it (never its password or hash)."""
        shown = {
            "link": {"rel": "self", "href": f"{BASE_PATH}/{self.name}"},
            "name": self.name,
            "type": self.type,
            "permissions": self.permissions(),
        }
        return {key: shown[key] for key in FIELDS if key in fields}

    def to_doc(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "org": self.org_id,
            "admin": self.admin,
            "grants": sorted(self.grants),
            "hash": self.password_hash,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> User:
        grants = frozenset(g for g in doc.get("grants") or () if g in GRANTS)
        return cls(doc["name"], doc["org"], bool(doc.get("admin")), grants, doc.get("hash") or "")


class UserStore(Protocol):
    """Users by name, one namespace for the whole instance, each stored with its organization."""

    def get(self, name: str) -> dict[str, Any] | None: ...

    def create(self, org_id: str, doc: dict[str, Any]) -> bool:
        """Save a new user; False when the name is taken (in any organization)."""
        ...

    def replace(self, org_id: str, doc: dict[str, Any]) -> bool:
        """Replace a user of `org_id`; False when it no longer exists there."""
        ...

    def delete(self, org_id: str, name: str) -> None:
        """Delete a user of `org_id`; nothing when it has none by that name."""
        ...

    def list(self, org_id: str) -> list[dict[str, Any]]:
        """The users of `org_id`, by name."""
        ...


class KapacitorUsers:
    """The `/users` operations and password checks, in Kapacitor's order of checks and words."""

    def __init__(
        self,
        store: UserStore,
        hash_password: Callable[[str], str] = secrets.hash_password,
        verify_password: Callable[[str, str], bool] = secrets.verify_password,
    ) -> None:
        self.store = store
        self._hash = hash_password
        self._verify = verify_password

    def create(self, org_id: str, body: bytes) -> User:
        options = _options(body, _CREATE_OPTIONS)
        name = options.get("name", "")
        if not name:
            raise invalid("username is required")
        if not valid_name(name):
            raise invalid(f"{_NAME_RULE} {go_quote(name)}")
        if len(name.encode()) > MAX_NAME_BYTES:
            raise invalid(f"username must be at most {MAX_NAME_BYTES} bytes")
        password = options.get("password", "")
        if not password:
            raise invalid("password is required")
        user = User(
            name,
            org_id,
            admin=options.get("type") == ADMIN,
            grants=_grants(options.get("permissions")),
            password_hash=self._password_hash(password),
        )
        if not self.store.create(org_id, user.to_doc()):
            raise TicklessError(CONFLICT, f"failed to create user: creating user: {EXISTS}", status=409)
        return user

    def get(self, org_id: str, name: str) -> User:
        user = self._find(name)
        if user is None or user.org_id != org_id:
            raise not_found(NO_USER)
        return user

    def update(self, org_id: str, name: str, body: bytes) -> User:
        """PATCH: what is given changes (an empty password or type, or no permissions, keep theirs);
        becoming an admin drops the permissions, as Kapacitor does."""
        options = _options(body, _UPDATE_OPTIONS)
        grants = _grants(options["permissions"]) if "permissions" in options else None
        current = self._find(name)
        if current is None or current.org_id != org_id:  # Kapacitor's words, though a 404 and not its 500
            raise not_found(f"failed to create user: updating user: {NO_USER}")
        kind = options.get("type", "")
        admin = current.admin if not kind else kind == ADMIN
        if kind == ADMIN:
            grants = frozenset()
        password = options.get("password", "")
        user = User(
            current.name,
            org_id,
            admin=admin,
            grants=current.grants if grants is None else grants,
            password_hash=self._password_hash(password) if password else current.password_hash,
        )
        if not self.store.replace(org_id, user.to_doc()):
            raise not_found(f"failed to create user: updating user: {NO_USER}")
        return user

    def delete(self, org_id: str, name: str) -> None:
        """Deleting a user that does not exist (here: in the caller's organization) is no error."""
        if _storable(name):
            self.store.delete(org_id, name)

    def list(self, org_id: str, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        """`pattern` (Go's path.Match on the name), `fields`, `offset` and `limit` (default 100)."""
        asked = list(query.get("fields") or ())
        for name in asked:
            if name not in FIELDS:
                raise invalid(f"unsupported field {go_quote(name)}")
        fields = tuple({*asked, "name", "link"}) if asked else FIELDS
        pattern = query.get("pattern") or ""
        offset = _integer(query, "offset", 0)
        limit = _integer(query, "limit", 100)
        try:
            go_match(pattern, "")  # a malformed pattern is refused even when nothing is listed
        except ValueError as exc:
            raise invalid(f"invalid pattern {go_quote(pattern)}: {exc}") from None
        users = [User.from_doc(doc) for doc in self.store.list(org_id)]
        if pattern:
            users = [user for user in users if go_match(pattern, user.name)]
        page = users[offset : offset + limit] if limit >= 0 else users[offset:]
        # each listed user is a Go map, whose JSON has its keys sorted
        return [dict(sorted(user.to_json(fields).items())) for user in page]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user these credentials name, or None (no such user, or not its password)."""
        if not password:
            return None
        user = self._find(name)
        if user is None or not user.password_hash or not self._verify(password, user.password_hash):
            return None
        return user

    # -- backups (chalicelib/kapacitor/backup.py)

    def users(self, org_id: str) -> list[User]:
        """The organization's users with their password hashes, by name."""
        return [User.from_doc(doc) for doc in self.store.list(org_id)]

    def taken_elsewhere(self, org_id: str, users: list[User]) -> list[str]:
        """The names among `users` another organization has (names are unique across the instance, so a
        backup cannot bring those back)."""
        found = ((user.name, self._find(user.name)) for user in users)
        return [name for name, user in found if user is not None and user.org_id != org_id]

    def restore(self, org_id: str, users: list[User]) -> tuple[int, int]:
        """Make the organization's users exactly these (hashes as given): only what differs is written.
        Answers (changed, removed)."""
        current = {user.name: user for user in self.users(org_id)}
        changed = 0
        for user in users:
            user = User(user.name, org_id, user.admin, user.grants, user.password_hash)
            before = current.pop(user.name, None)
            if before == user:
                continue
            saved = (
                self.store.replace(org_id, user.to_doc())
                if before
                else self.store.create(org_id, user.to_doc())
            )
            if not saved:  # taken (or deleted) by someone else since the check
                raise TicklessError(CONFLICT, f"failed to restore user {user.name}: {EXISTS}", status=409)
            changed += 1
        for name in current:
            self.store.delete(org_id, name)
        return changed, len(current)

    def _find(self, name: str) -> User | None:
        doc = self.store.get(name) if _storable(name) else None
        return User.from_doc(doc) if doc else None

    def _password_hash(self, password: str) -> str:
        if len(password.encode()) > MAX_PASSWORD_BYTES:  # what Kapacitor's bcrypt refuses
            raise invalid("failed to create user: hashing password: bcrypt: password length exceeds 72 bytes")
        return self._hash(password)


def valid_name(name: str) -> bool:
    """Kapacitor's `^[-\\._\\p{L}0-9@]+$` (str.isalpha is exactly the Unicode letter categories)."""
    return bool(name) and all(c in _NAME_PUNCTUATION or "0" <= c <= "9" or c.isalpha() for c in name)


def _storable(name: str) -> bool:
    return bool(name) and len(name.encode("utf-8", "surrogatepass")) <= MAX_NAME_BYTES


def _options(body: bytes, names: tuple[str, ...]) -> dict[str, Any]:
    """The options a body sets, decoded as Go decodes it into Kapacitor's options struct: a null
    leaves a field unset, a value of the wrong kind (or an unknown type or permission) fails."""
    if go_json_error(body, stream=True) is not None:
        raise invalid("invalid JSON")
    value = first_value(body)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("invalid JSON")
    options: dict[str, Any] = {}
    for key, item in value.items():
        name = key if key in names else next((n for n in names if n.casefold() == key.casefold()), None)
        if name is not None and item is not None:
            options[name] = _decoded(name, item)
    return options


def _decoded(name: str, item: Any) -> Any:
    if name == "permissions":
        if not isinstance(item, list) or not all(p is None or _known(p) for p in item):
            raise invalid("invalid JSON")
        return item
    if not isinstance(item, str) or (name == "type" and item not in ("", NORMAL, ADMIN)):
        raise invalid("invalid JSON")
    return _LONE_SURROGATE.sub("\ufffd", item)  # as Go decodes a lone `\ud800` escape


def _known(permission: Any) -> bool:
    return isinstance(permission, str) and permission in PERMISSIONS


def _grants(permissions: list[str | None] | None) -> frozenset[str]:
    grants: frozenset[str] = frozenset()
    for permission in permissions or ():
        grants |= PERMISSIONS[permission or "none"]
    return grants


def _integer(query: Mapping[str, Any], name: str, default: int) -> int:
    text = query.get(name)
    if not text:
        return default
    if not _DECIMAL.fullmatch(text):
        raise invalid(
            f"invalid {name} parameter {go_quote(text)} must be an integer: "
            f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax"
        )
    value = int(text)
    if value < 0 and name == "offset":  # a slice from the end is not what a client pages with
        raise invalid(f"invalid offset parameter {go_quote(text)} must not be negative")
    return value
