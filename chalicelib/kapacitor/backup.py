"""Kapacitor's storage API (`/kapacitor/v1/storage`) over tickless's stores: which stores an
organization's Kapacitor state lives in, their rebuild, and backups of one organization.

Kapacitor's backup is its BoltDB file, restored by copying it into place. Here that state is DynamoDB
items, so a backup is a JSON archive of the caller's organization (docs/KAPACITOR.md has the format):

    {"format": "tickless-kapacitor-backup", "version": 1, "created": "<RFC 3339>", "org": "<source>",
     "versions": {"<store>": <its items' version>, ...}, "stores": {"<store>": [<item>, ...], ...},
     "checksum": "sha256:<hex of the canonical JSON of everything else>"}

A restore checks the whole archive first, each item as the API checks a new one, and changes nothing
when anything is wrong; then it makes each store of the organization exactly the archive's (what
differs written, what the archive lacks deleted), so restoring twice leaves the same state."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.alert.events import Level
from chalicelib.alert.handler_specs import HandlerSpec
from chalicelib.alert.service import AlertService
from chalicelib.alert.topics import EventState, TopicState
from chalicelib.kapacitor.users import ADMIN, NORMAL, PERMISSIONS, KapacitorUsers, User, valid_name
from chalicelib.kit.errors import UNAVAILABLE, TicklessError, invalid, not_found
from chalicelib.kit.gojson import first_value, go_json_error, json_kind
from chalicelib.kit.gotemplate import go_quote
from chalicelib.overrides.service import ConfigService
from chalicelib.tenancy.secrets import is_password_hash
from chalicelib.tick.tasks import TaskDefinitions, now_text, restorable_task, restorable_template

Doc = dict[str, Any]
FORMAT = "tickless-kapacitor-backup"
FORMAT_VERSION = 1
# Each store's name (Kapacitor's where it has one) and the version of its items' shape in an archive.
STORES: dict[str, int] = {
    "handler-specs": 1,
    "overrides": 1,
    "tasks": 1,
    "templates": 1,
    "topics": 1,
    "users": 1,
}
STORES_PATH = "/kapacitor/v1/storage/stores"  # Kapacitor links under v1 whichever prefix was called
MAX_ARCHIVE_BYTES = 25_000_000  # inflated, as the API's body limit
MAX_PASSES = 5  # reads of the org before a backup gives up on a state that keeps changing
MAX_PROBLEMS = 10  # listed in a refusal; the rest are counted
MAX_ITEM_BYTES = 350_000  # one item of a store is one DynamoDB item (400 KB at most)
_GZIP_MAGIC = b"\x1f\x8b"
_BOLT_MAGIC = b"\xed\xda\x0c\xed"  # bbolt's meta page magic (little-endian 0xED0CDAED) at byte 16


def stores_json() -> Doc:
    """GET /storage/stores: Kapacitor's StorageList (`link`, `storage`), each store with its version."""
    return {
        "link": {"rel": "self", "href": STORES_PATH},
        "storage": [
            {"link": {"rel": "self", "href": f"{STORES_PATH}/{name}"}, "name": name, "version": version}
            for name, version in STORES.items()
        ],
    }


def check_action(raw: bytes) -> None:
    """The body of POST /storage/stores/<name>, decoded as Kapacitor decodes StorageActionOptions, in its
    words (its `unkown` included); only `rebuild` exists."""
    problem = go_json_error(raw, stream=True)
    if problem is not None:
        raise invalid(f"failed to unmarshal storage action {problem}")
    body = first_value(raw)
    if body is not None and not isinstance(body, dict):
        kind = json_kind(body)
        raise invalid(
            "failed to unmarshal storage action json: cannot unmarshal "
            f"{kind} into Go value of type client.StorageActionOptions"
        )
    body = body or {}
    key = "action" if "action" in body else next((k for k in body if k.lower() == "action"), None)
    action = body.get(key) if key is not None else None
    if action is None:
        raise invalid('unkown storage action "unknown StorageAction 0"')
    if not isinstance(action, str):
        raise invalid(
            f"failed to unmarshal storage action json: cannot unmarshal {json_kind(action)} into Go "
            "struct field StorageActionOptions.action of type client.StorageAction"
        )
    if action != "rebuild":
        raise invalid(f"failed to unmarshal storage action unknown StorageAction {action}")


# -- the archive ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """One organization's Kapacitor state, as the stores hold it."""

    tasks: list[Doc]
    templates: list[Doc]
    topics: list[TopicState]
    handlers: list[HandlerSpec]
    overrides: list[Doc]
    users: list[User]

    def items(self) -> dict[str, list[Doc]]:
        """Each store's items as an archive holds them."""
        return {
            "handler-specs": [spec.to_state() for spec in self.handlers],
            "overrides": self.overrides,
            "tasks": self.tasks,
            "templates": self.templates,
            "topics": [_topic_json(topic) for topic in self.topics],
            "users": [_user_json(user) for user in self.users],
        }


def encode(org_id: str, snapshot: Snapshot, created: str) -> bytes:
    doc: Doc = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created": created,
        "org": org_id,
        "versions": dict(STORES),
        "stores": snapshot.items(),
    }
    doc["checksum"] = checksum(doc)
    # ASCII with escapes: a lone surrogate a stored script may hold (JSON's \ud800) survives the trip
    return json.dumps(doc, separators=(",", ":")).encode()


def decode(raw: bytes) -> Doc:
    """The archive's envelope, checked: ours, not newer than this code, intact. Its `stores` are each a
    list, one per known store; their items are checked by `Storage.restore`."""
    if raw.startswith(_GZIP_MAGIC):
        raw = _gunzip(raw)
    if raw[16:20] == _BOLT_MAGIC:
        raise invalid(
            "this is a Kapacitor BoltDB file (kapacitor.db): tickless restores only its own backups "
            "(GET /kapacitor/v1/storage/backup)"
        )
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise invalid(f"not a tickless Kapacitor backup (no format {go_quote(FORMAT)})")
    version = doc.get("version")
    if not _is_int(version) or version < 1:
        raise invalid("invalid backup: version must be a positive integer")
    if version > FORMAT_VERSION:
        raise invalid(
            f"backup format version {version} is newer than this server reads ({FORMAT_VERSION}): "
            "restore it with the tickless that wrote it, or a newer one"
        )
    if doc.get("checksum") != checksum(doc):
        raise invalid("invalid backup: checksum mismatch, the archive was changed or damaged")
    versions, stores = doc.get("versions"), doc.get("stores")
    if not isinstance(versions, dict) or not isinstance(stores, dict):
        raise invalid("invalid backup: versions and stores must be objects")
    for name in sorted(set(versions) | set(stores) | set(STORES)):
        known, found = STORES.get(name), versions.get(name)
        if known is None:
            raise invalid(f"invalid backup: unknown store {go_quote(name)}")
        if not _is_int(found) or not 1 <= found <= known:
            raise invalid(f"invalid backup: store {name} has version {found}, this server reads {known}")
        if not isinstance(stores.get(name), list):
            raise invalid(f"invalid backup: store {name} must be a list")
    return doc


def checksum(doc: Mapping[str, Any]) -> str:
    """The archive's `checksum`: SHA-256 of its other members as canonical JSON (keys sorted, no spaces,
    UTF-8). It catches damage and careless edits; it authenticates nothing (anyone can recompute it)."""
    rest = {key: value for key, value in doc.items() if key != "checksum"}
    canonical = json.dumps(rest, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _gunzip(raw: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(raw, MAX_ARCHIVE_BYTES + 1)
    except zlib.error as exc:
        raise invalid(f"invalid backup: bad gzip data: {exc}") from None
    if len(data) > MAX_ARCHIVE_BYTES or inflater.unconsumed_tail:
        raise invalid(f"invalid backup: more than {MAX_ARCHIVE_BYTES} bytes once inflated")
    if not inflater.eof:
        raise invalid("invalid backup: truncated gzip data")
    return data


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- items ----------------------------------------------------------------------------------------------


def _topic_json(topic: TopicState) -> Doc:
    events = sorted((event.to_state() for event in topic.events.values()), key=lambda e: e["id"])
    return {"id": topic.id, "collected": topic.collected, "events": events}


def _user_json(user: User) -> Doc:
    return {
        "name": user.name,
        "type": user.type,
        "permissions": user.permissions(),
        "password-hash": user.password_hash,
    }


_EVENT_FIELDS = {"id": str, "message": str, "details": str, "time": int, "duration": int, "level": int}


def _topic(doc: Any) -> TopicState:
    _expect(doc, {"id": str, "collected": int, "events": list})
    if not doc["id"] or doc["collected"] < 0:
        raise invalid("a topic needs an id and a collected count of at least 0")
    events: dict[str, EventState] = {}
    for event in doc["events"]:
        _expect(event, _EVENT_FIELDS)
        _fits_key(doc["id"], event["id"])
        if event["level"] not in set(Level) or event["id"] in events:
            raise invalid(f"event {go_quote(event['id'])}: unknown level or duplicate id")
        events[event["id"]] = EventState.from_state(event)
    return TopicState(doc["id"], events, doc["collected"])


def _handler(doc: Any) -> HandlerSpec:
    _expect(doc, {"id": str, "topic": str, "kind": str, "match": str}, optional={"options": dict})
    _fits_key(doc["topic"], doc["id"])
    return HandlerSpec(doc["id"], doc["topic"], doc["kind"], doc.get("options"), doc["match"])


def _user(org_id: str, doc: Any) -> User:
    _expect(doc, {"name": str, "type": str, "permissions": list, "password-hash": str})
    if not valid_name(doc["name"]):
        raise invalid("username must contain only letters, numbers, '-', '.', '@' and '_'.")
    if doc["type"] not in (NORMAL, ADMIN):
        raise invalid(f"unknown user type {go_quote(doc['type'])}")
    grants: frozenset[str] = frozenset()
    for permission in doc["permissions"]:
        if permission not in PERMISSIONS:
            raise invalid(f"unknown permission {permission!r}")
        grants |= PERMISSIONS[permission]
    if not is_password_hash(doc["password-hash"]):
        raise invalid("password-hash is not a password hash tickless made")
    return User(doc["name"], org_id, doc["type"] == ADMIN, grants, doc["password-hash"])


def _expect(doc: Any, fields: Mapping[str, type], optional: Mapping[str, type] | None = None) -> None:
    """`doc` is an object with exactly these fields of these JSON types (an optional one may be null)."""
    optional = optional or {}
    if not isinstance(doc, dict):
        raise invalid("not a JSON object")
    unknown = set(doc) - set(fields) - set(optional)
    if unknown:
        raise invalid(f"unknown fields {sorted(unknown)}")
    for name, kind in {**fields, **optional}.items():
        value = doc.get(name)
        if name in optional and value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise invalid(f"{name} must be a JSON {kind.__name__}")


def _sized(doc: Any) -> Any:
    """An item small enough to be one DynamoDB item (a genuine archive's always are)."""
    if len(json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")) > MAX_ITEM_BYTES:
        raise invalid(f"item larger than {MAX_ITEM_BYTES} bytes")
    return doc


def _fits_key(*parts: str) -> None:
    """A DynamoDB sort key (the parts joined by NUL) is at most 1024 bytes and holds no NUL of its own."""
    if any("\0" in part for part in parts) or len("\0".join(parts).encode("utf-8", "surrogatepass")) > 1024:
        raise invalid("id too long or holds a NUL character")


def _key(doc: Any, *names: str) -> str:
    """How a problem names an item: its id (or name), else its position."""
    if isinstance(doc, dict):
        for name in names:
            if isinstance(doc.get(name), str) and doc[name]:
                return doc[name]
    return "?"


# -- the service ----------------------------------------------------------------------------------------


class Problems:
    """What is wrong with an archive's items, each named by store and item."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def check(self, store: str, key: str, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except TicklessError as exc:
            self.add(store, key, exc.message)
            return None

    def add(self, store: str, key: str, message: str) -> None:
        self.found.append(f"{store} {key}: {message}" if key else f"{store}: {message}")

    def raise_any(self) -> None:
        if not self.found:
            return
        shown = "; ".join(self.found[:MAX_PROBLEMS])
        more = len(self.found) - MAX_PROBLEMS
        raise invalid(f"invalid backup: {shown}" + (f"; and {more} more" if more > 0 else ""))


class Storage:
    """Backups, restores and rebuilds of one organization's Kapacitor stores, through the services the
    API uses, so a restored item passes the checks a created one does."""

    def __init__(
        self,
        definitions: TaskDefinitions,
        alerts: AlertService,
        config: ConfigService,
        users: KapacitorUsers,
        clock: Callable[[], str] = now_text,
    ) -> None:
        self.definitions = definitions
        self.alerts = alerts
        self.config = config
        self.users = users
        self.clock = clock

    def rebuild(self, org_id: str, name: str, raw: bytes) -> None:
        """POST /storage/stores/<name>. Only the tasks store has an index of its own here (the running
        batch tasks the scheduler reads); every other store's items are single DynamoDB items under
        their keys, with nothing derived to rebuild."""
        if name not in STORES:
            raise not_found(f"unknown storage {go_quote(name)}")
        check_action(raw)
        if name == "tasks":
            self.definitions.rebuild_index(org_id)

    # -- backups

    def backup(self, org_id: str) -> bytes:
        return encode(org_id, self.snapshot(org_id), self.clock())

    def snapshot(self, org_id: str) -> Snapshot:
        """The organization's state at one moment: reads repeat until two in a row agree, which every
        definition, override and user held from the end of the first to the start of the second (an
        item changed and changed back in between held that value at both reads). Topics' event states
        change with every alert, so they are taken from the last read, not held to that moment."""
        previous = self._read(org_id)
        for _ in range(MAX_PASSES - 1):
            current = self._read(org_id)
            if _settled(previous, current):
                return current
            previous = current
        raise TicklessError(
            UNAVAILABLE,
            "backup: the organization's Kapacitor state kept changing while it was read, try again",
        )

    def _read(self, org_id: str) -> Snapshot:
        return Snapshot(
            tasks=self.definitions.tasks(org_id),
            templates=self.definitions.templates(org_id),
            topics=sorted(self.alerts.topics(org_id), key=lambda t: t.id),
            handlers=self.alerts.all_handlers(org_id),
            overrides=self.config.overrides(org_id),
            users=self.users.users(org_id),
        )

    # -- restores

    def restore(self, org_id: str, raw: bytes) -> Doc:
        """Load an archive into the organization: everything checked first (nothing changes when
        anything is wrong), then each store made the archive's. Answers what changed per store."""
        archive = decode(raw)
        snapshot = self._checked(org_id, archive["stores"])
        counts = {"overrides": self.config.restore(org_id, snapshot.overrides)}
        counts.update(self.definitions.restore(org_id, snapshot.templates, snapshot.tasks))
        counts.update(self.alerts.restore(org_id, snapshot.topics, snapshot.handlers))
        counts["users"] = self.users.restore(org_id, snapshot.users)
        sizes = {name: len(items) for name, items in snapshot.items().items()}
        return {
            "org": org_id,
            "from": {"org": archive.get("org"), "created": archive.get("created")},
            "stores": {
                name: {"items": sizes[name], "changed": changed, "removed": removed}
                for name, (changed, removed) in sorted(counts.items())
            },
        }

    def _checked(self, org_id: str, stores: Mapping[str, list[Any]]) -> Snapshot:
        problems = Problems()
        overrides = stores["overrides"]
        configs = problems.check("overrides", "", lambda: self.config.check_restorable(overrides))
        if configs is None:  # the items below are checked against the file configuration instead
            configs = self.config.check_restorable([])
        templates = _unique(problems, "templates", stores["templates"], "id", restorable_template)
        by_id = {t["id"]: t for t in templates}
        tasks = _unique(
            problems, "tasks", stores["tasks"], "id", lambda doc: restorable_task(doc, by_id, configs)
        )
        topics = _unique(problems, "topics", stores["topics"], "id", _topic, key_of=lambda t: t.id)

        def handler(doc: Any) -> HandlerSpec:
            spec = _handler(doc)
            self.alerts.check_restorable(spec, configs)
            return spec

        handlers = _unique(
            problems,
            "handler-specs",
            stores["handler-specs"],
            "id",
            handler,
            key_of=lambda s: (s.topic, s.id),
        )
        users = _unique(
            problems,
            "users",
            stores["users"],
            "name",
            lambda doc: _user(org_id, doc),
            key_of=lambda u: u.name,
        )
        for name in self.users.taken_elsewhere(org_id, users):
            problems.add("users", name, "exists in another organization")
        problems.raise_any()
        return Snapshot(tasks, templates, topics, handlers, overrides, users)


def _unique(
    problems: Problems,
    store: str,
    docs: list[Any],
    name: str,
    check: Callable[[Any], Any],
    key_of: Callable[[Any], Any] = lambda doc: doc["id"],
) -> list[Any]:
    """The store's items, each checked; a second item with the same key is a problem."""

    def checked(doc: Any) -> Any:
        item = check(_sized(doc))
        key = key_of(item)
        _fits_key(*(key if isinstance(key, tuple) else (key,)))
        return item

    out, seen = [], set()
    for doc in docs:
        item = problems.check(store, _key(doc, name), lambda doc=doc: checked(doc))
        if item is None:
            continue
        if key_of(item) in seen:
            problems.add(store, _key(doc, name), "duplicate")
            continue
        seen.add(key_of(item))
        out.append(item)
    return out


def _settled(first: Snapshot, second: Snapshot) -> bool:
    a, b = first.items(), second.items()
    return all(a[name] == b[name] for name in STORES if name != "topics")
