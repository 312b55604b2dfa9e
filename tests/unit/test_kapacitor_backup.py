"""The storage API's domain (chalicelib/kapacitor/backup.py): the stores' listing, Kapacitor's store
action decoding, the archive's envelope, and backup/restore through the real services over stores kept
in dicts (as JSON, like the DynamoDB items)."""

from __future__ import annotations

import copy
import gzip
import json

import pytest

from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.handler_specs import HandlerSpec
from chalicelib.alert.service import AlertService
from chalicelib.alert.topics import TopicState
from chalicelib.kapacitor.backup import (
    FORMAT_VERSION,
    STORES,
    Storage,
    check_action,
    checksum,
    decode,
    encode,
    stores_json,
)
from chalicelib.kapacitor.users import KapacitorUsers
from chalicelib.kit.errors import TicklessError
from chalicelib.overrides import ConfigService
from chalicelib.tenancy.secrets import hash_password
from chalicelib.tick.matching import TickMatcher
from chalicelib.tick.tasks import TaskDefinitions, View

ORG, OTHER = "0000000000000001", "0000000000000002"
STREAM = "stream\n    |from()\n        .measurement('cpu')\n"
DBRPS = [{"db": "telegraf", "rp": "autogen"}]


def _error(call, *args) -> TicklessError:
    with pytest.raises(TicklessError) as caught:
        call(*args)
    return caught.value


# -- stores kept in dicts ---------------------------------------------------------------------------------


class Definitions:
    """tick.tasks.DefinitionStore."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, str]] = {}

    def get(self, kind, org_id, id):
        doc = self.items.get((kind, org_id), {}).get(id)
        return json.loads(doc) if doc else None

    def list(self, kind, org_id):
        return [json.loads(d) for _, d in sorted(self.items.get((kind, org_id), {}).items())]

    def create(self, kind, org_id, doc):
        if self.get(kind, org_id, doc["id"]) is not None:
            return False
        self.replace(kind, org_id, doc)
        return True

    def replace(self, kind, org_id, doc):
        self.items.setdefault((kind, org_id), {})[doc["id"]] = json.dumps(doc)

    def delete(self, kind, org_id, id):
        self.items.get((kind, org_id), {}).pop(id, None)


class Overrides:
    """overrides.OverrideStore over the same definitions."""

    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions

    def get(self, org_id, id):
        return self.definitions.get("override", org_id, id)

    def list(self, org_id):
        return self.definitions.list("override", org_id)

    def put(self, org_id, doc):
        self.definitions.replace("override", org_id, doc)

    def delete(self, org_id, id):
        self.definitions.delete("override", org_id, id)


class Alerts:
    """alert.service.AlertStore."""

    def __init__(self) -> None:
        self.topic_states: dict[tuple[str, str], dict] = {}
        self.specs: dict[tuple[str, str, str], dict] = {}

    def topics(self, org_id):
        found = [(t, s) for (org, t), s in self.topic_states.items() if org == org_id]
        return [TopicState.from_state(copy.deepcopy(s)) for _, s in sorted(found, key=lambda p: p[0])]

    def topic(self, org_id, topic_id):
        state = self.topic_states.get((org_id, topic_id))
        return TopicState.from_state(copy.deepcopy(state)) if state else None

    def ensure_topic(self, org_id, topic_id):
        self.topic_states.setdefault((org_id, topic_id), TopicState(topic_id).to_state())

    def record(self, org_id, topic_id, state):
        topic = self.topic(org_id, topic_id) or TopicState(topic_id)
        topic.collected += 1
        previous = topic.update(state)
        self.restore_topic(org_id, topic)
        return previous

    def restore_topic(self, org_id, topic):
        self.topic_states[(org_id, topic.id)] = copy.deepcopy(topic.to_state())

    def delete_topic(self, org_id, topic_id):
        self.topic_states.pop((org_id, topic_id), None)

    def handlers(self, org_id, topic_id):
        return [s for s in self.all_handlers(org_id) if s.topic == topic_id]

    def all_handlers(self, org_id):
        found = sorted((k, s) for k, s in self.specs.items() if k[0] == org_id)
        return [HandlerSpec.from_state(copy.deepcopy(s)) for _, s in found]

    def handler(self, org_id, topic_id, handler_id):
        state = self.specs.get((org_id, topic_id, handler_id))
        return HandlerSpec.from_state(copy.deepcopy(state)) if state else None

    def create_handler(self, org_id, spec):
        if (org_id, spec.topic, spec.id) in self.specs:
            return False
        self.replace_handler(org_id, spec)
        return True

    def replace_handler(self, org_id, spec):
        self.specs[(org_id, spec.topic, spec.id)] = copy.deepcopy(spec.to_state())

    def delete_handler(self, org_id, topic_id, handler_id):
        self.specs.pop((org_id, topic_id, handler_id), None)


class Users:
    """kapacitor.users.UserStore."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, str]] = {}

    def get(self, name):
        item = self.items.get(name)
        return json.loads(item[1]) if item else None

    def create(self, org_id, doc):
        if doc["name"] in self.items:
            return False
        self.items[doc["name"]] = (org_id, json.dumps(doc))
        return True

    def replace(self, org_id, doc):
        if self.items.get(doc["name"], ("",))[0] != org_id:
            return False
        self.items[doc["name"]] = (org_id, json.dumps(doc))
        return True

    def delete(self, org_id, name):
        if self.items.get(name, ("",))[0] == org_id:
            del self.items[name]

    def list(self, org_id):
        return [json.loads(doc) for _, (org, doc) in sorted(self.items.items()) if org == org_id]


class Stack:
    """The four services over dict stores, and the storage service over them."""

    def __init__(self) -> None:
        definitions = Definitions()
        self.config = ConfigService(Overrides(definitions))
        self.stopped: list[tuple[str, str]] = []
        self.tasks = TaskDefinitions(
            definitions,
            clock=lambda: "2024-01-02T03:04:05.000000Z",
            on_stop=lambda org, task: self.stopped.append((org, task)),
            service_configs=self.config.resolved,
        )
        self.alerts = AlertService(Alerts(), TickMatcher(), self.config.resolved)
        self.users = KapacitorUsers(Users())
        self.storage = Storage(self.tasks, self.alerts, self.config, self.users, clock=lambda: "now")

    def populate(self, org_id: str, user: str = "alice") -> None:
        endpoint = {"add": {"endpoint": "hooks", "url": "http://hooks.example.com/alert"}}
        self.config.update(org_id, "/httppost", endpoint)
        self.config.update(
            org_id, "/smtp/", {"set": {"enabled": True, "from": "k@example.com", "password": "secret"}}
        )
        template = "var m string\nstream\n    |from()\n        .measurement(m)\n"
        self.tasks.create_template(org_id, {"id": "tpl", "script": template}, View())
        vars_ = {"m": {"type": "string", "value": "mem"}}
        for body in (
            {"id": "a", "template-id": "tpl", "vars": vars_, "dbrps": DBRPS, "status": "enabled"},
            {"id": "b", "script": STREAM + "    |httpPost()\n        .endpoint('hooks')\n", "dbrps": DBRPS},
            {"id": "c", "script": STREAM, "dbrps": DBRPS, "status": "enabled"},
        ):
            self.tasks.create_task(org_id, body, View())
        spec = {"id": "h", "kind": "post", "options": {"endpoint": "hooks"}, "match": "level() > INFO"}
        self.alerts.create_handler(org_id, "cpu", json.dumps(spec).encode())
        event = AlertEvent("host1", "m", "d", 10**9, 0, Level.CRITICAL, data={})
        self.alerts.collect(org_id, "cpu", event)
        body = {"name": user, "password": "pw", "permissions": ["api"]}
        self.users.create(org_id, json.dumps(body).encode())

    def archive(self, org_id: str) -> dict:
        return json.loads(self.storage.backup(org_id))


# -- the stores and their action -----------------------------------------------------------------------


def test_the_stores_listing():
    listing = stores_json()
    assert listing["link"] == {"rel": "self", "href": "/kapacitor/v1/storage/stores"}
    assert [s["name"] for s in listing["storage"]] == sorted(STORES)
    assert listing["storage"][0] == {
        "link": {"rel": "self", "href": "/kapacitor/v1/storage/stores/handler-specs"},
        "name": "handler-specs",
        "version": 1,
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "failed to unmarshal storage action EOF"),
        (b"x", "failed to unmarshal storage action invalid character 'x' looking for beginning of value"),
        (b"{}", 'unkown storage action "unknown StorageAction 0"'),
        (b"null", 'unkown storage action "unknown StorageAction 0"'),
        (b'{"action": null}', 'unkown storage action "unknown StorageAction 0"'),
        (b'{"action": ""}', "failed to unmarshal storage action unknown StorageAction "),
        (b'{"action": "REBUILD"}', "failed to unmarshal storage action unknown StorageAction REBUILD"),
        (
            b"[]",
            "failed to unmarshal storage action json: cannot unmarshal array into Go value of type "
            "client.StorageActionOptions",
        ),
        (
            b'{"action": true}',
            "failed to unmarshal storage action json: cannot unmarshal bool into Go struct field "
            "StorageActionOptions.action of type client.StorageAction",
        ),
    ],
)
def test_store_actions_in_kapacitors_words(raw, message):
    assert _error(check_action, raw).message == message


@pytest.mark.parametrize(
    "raw", [b'{"action": "rebuild"}', b'{"Action": "rebuild"} trailing', b' {"ACTION":"rebuild"}']
)
def test_rebuild_is_the_action(raw):
    check_action(raw)


def test_rebuild_of_an_unknown_store_is_not_found():
    error = _error(Stack().storage.rebuild, ORG, "nope", b'{"action": "rebuild"}')
    assert (error.status, error.message) == (404, 'unknown storage "nope"')


# -- the archive's envelope ----------------------------------------------------------------------------


def _archive(**stores: list) -> bytes:
    stack = Stack()
    doc = json.loads(encode(ORG, stack.storage.snapshot(ORG), "2024-01-01T00:00:00Z"))
    doc["stores"].update(stores)
    return _sealed(doc)


def _sealed(doc: dict) -> bytes:
    doc = {k: v for k, v in doc.items() if k != "checksum"}
    return json.dumps({**doc, "checksum": checksum(doc)}).encode()


def test_an_archive_carries_its_format_versions_and_checksum():
    doc = json.loads(_archive())
    assert doc["format"] == "tickless-kapacitor-backup" and doc["version"] == FORMAT_VERSION
    assert doc["versions"] == STORES and set(doc["stores"]) == set(STORES)
    assert doc["checksum"].startswith("sha256:") and len(doc["checksum"]) == 7 + 64
    assert decode(_archive())["org"] == ORG
    assert decode(gzip.compress(_archive()))["org"] == ORG


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=FORMAT_VERSION + 1), "backup format version 2 is newer"),
        (lambda d: d.update(version=0), "version must be a positive integer"),
        (lambda d: d.update(version=True), "version must be a positive integer"),
        (lambda d: d["versions"].update(tasks=2), "store tasks has version 2, this server reads 1"),
        (lambda d: d["stores"].update(replays=[]), 'unknown store "replays"'),
        (lambda d: d["stores"].pop("users"), "store users must be a list"),
        (lambda d: d["stores"].update(tasks={}), "store tasks must be a list"),
        (lambda d: d.update(stores=[]), "versions and stores must be objects"),
    ],
)
def test_envelopes_refused(change, message):
    doc = json.loads(_archive())
    change(doc)
    assert message in _error(decode, _sealed(doc)).message


def test_any_text_survives_the_trip():
    stack = Stack()
    template = {
        "id": "t",
        "script": "// \ud800 é\n" + STREAM,
        "type": "stream",
        "created": "",
        "modified": "",
    }
    stack.tasks.store.replace("templates", ORG, template)
    archive = stack.storage.backup(ORG)
    assert archive.isascii()
    assert decode(archive)["stores"]["templates"] == [template]


def test_a_changed_archive_fails_its_checksum():
    doc = json.loads(_archive())
    doc["org"] = OTHER
    assert "checksum mismatch" in _error(decode, json.dumps(doc).encode()).message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not a tickless Kapacitor backup"),
        (b"[1]", "not a tickless Kapacitor backup"),
        (b'{"format": "influxd"}', "not a tickless Kapacitor backup"),
        (b"\xff\xfe", "not a tickless Kapacitor backup"),
        (b"\0" * 16 + b"\xed\xda\x0c\xed" + b"\0" * 4080, "this is a Kapacitor BoltDB file"),
        (gzip.compress(b"x", mtime=0)[:-4], "truncated gzip data"),
        (b"\x1f\x8bnot gzip", "bad gzip data"),
    ],
)
def test_what_is_not_an_archive(raw, message):
    assert message in _error(decode, raw).message


def test_an_inflating_archive_is_bounded(monkeypatch):
    from chalicelib.kapacitor import backup

    monkeypatch.setattr(backup, "MAX_ARCHIVE_BYTES", 1000)
    assert "more than 1000 bytes once inflated" in _error(decode, gzip.compress(b" " * 5000)).message


# -- backup and restore through the services -----------------------------------------------------------


def test_a_restore_into_another_org_gives_the_same_state_and_a_second_changes_nothing():
    stack = Stack()
    stack.populate(ORG)
    archive = stack.archive(ORG)
    assert archive["stores"]["users"][0]["password-hash"].startswith("scrypt$")
    assert archive["stores"]["overrides"][1]["options"]["password"] == "secret"  # as stored
    stack.users.delete(ORG, "alice")  # names are the instance's

    summary = stack.storage.restore(OTHER, json.dumps(archive).encode())
    assert summary["stores"]["tasks"] == {"items": 3, "changed": 3, "removed": 0}
    restored = stack.archive(OTHER)
    assert restored["stores"] == archive["stores"] | {"users": restored["stores"]["users"]}
    assert stack.users.authenticate("alice", "pw").org_id == OTHER
    view = View()
    assert stack.tasks.list_tasks(OTHER, {}, view) == stack.tasks.list_tasks(ORG, {}, view)
    assert stack.config.config(OTHER) == stack.config.config(ORG)

    again = stack.storage.restore(OTHER, json.dumps(archive).encode())
    assert {name: (s["changed"], s["removed"]) for name, s in again["stores"].items()} == dict.fromkeys(
        STORES, (0, 0)
    )
    assert stack.archive(OTHER)["stores"] == restored["stores"]


def test_a_restore_removes_what_the_archive_lacks_and_restarts_changed_running_tasks():
    stack = Stack()
    stack.populate(ORG)
    archive = json.dumps(stack.archive(ORG)).encode()
    stack.tasks.update_task(ORG, "c", {"script": STREAM + "    |log()\n"}, View())
    stack.tasks.create_task(ORG, {"id": "extra", "script": STREAM, "dbrps": DBRPS}, View())
    stack.alerts.create_handler(ORG, "mem", b'{"id": "x", "kind": "log", "options": {"path": "/tmp/x"}}')
    stack.config.update(ORG, "/slack", {"add": {"workspace": "w", "url": "http://slack.example.com"}})
    stack.stopped.clear()

    summary = stack.storage.restore(ORG, archive)["stores"]
    assert (summary["tasks"]["changed"], summary["tasks"]["removed"]) == (1, 1)
    assert (summary["handler-specs"]["removed"], summary["topics"]["removed"]) == (1, 1)
    assert summary["overrides"]["removed"] == 1
    assert ("0000000000000001", "c") in stack.stopped
    assert [t["id"] for t in stack.tasks.tasks(ORG)] == ["a", "b", "c"]


def test_problems_are_all_named_and_nothing_changes():
    stack = Stack()
    stack.populate(ORG)
    archive = stack.archive(ORG)
    stores = archive["stores"]
    stores["tasks"][1]["script"] = "stream|nope("
    stores["tasks"].append(copy.deepcopy(stores["tasks"][0]))
    stores["templates"][0]["id"] = "bad id"
    stores["handler-specs"][0]["kind"] = "nosuchkind"
    stores["topics"][0]["events"][0]["level"] = 9
    stores["users"][0]["permissions"] = ["root"]
    stores["overrides"][0]["options"]["url"] = 5
    before = stack.archive(OTHER)
    message = _error(stack.storage.restore, OTHER, _sealed(archive)).message
    assert message.startswith("invalid backup: overrides: failed to apply configuration overrides")
    for named in (
        "templates bad id: template ID must contain only",
        "tasks a: unknown template tpl",
        "tasks b: invalid TICKscript",
        "handler-specs h:",
        "topics cpu: event",
        "users alice: unknown permission 'root'",
    ):
        assert named in message, message
    assert stack.archive(OTHER) == before


def test_duplicates_and_odd_items_are_refused():
    for stores, message in (
        ({"tasks": [1]}, "tasks ?: not a JSON object"),
        ({"users": [{"name": "u"}]}, "users u: type must be a JSON str"),
        ({"topics": [{"id": "t", "collected": -1, "events": []}]}, "topics t: a topic needs an id"),
        ({"topics": [{"id": "t\0x", "collected": 0, "events": []}]}, "holds a NUL character"),
        ({"templates": [{"id": "x" * 2000, "script": STREAM}]}, "id too long"),
        ({"handler-specs": [{"id": "h", "topic": "t", "kind": "log", "match": "", "extra": 1}]}, "unknown"),
        ({"overrides": [{"id": "smtp", "options": {}}]}, "id must be section/element"),
    ):
        stack = Stack()
        assert message in _error(stack.storage.restore, ORG, _archive(**stores)).message


def test_a_user_of_another_org_is_not_taken_over():
    stack = Stack()
    stack.populate(ORG)
    archive = json.dumps(stack.archive(ORG)).encode()
    error = _error(stack.storage.restore, OTHER, archive)
    assert error.message == "invalid backup: users alice: exists in another organization"
    assert stack.tasks.tasks(OTHER) == []


def test_a_password_hash_must_be_one():
    stack = Stack()
    user = {"name": "u", "type": "admin", "permissions": ["all"], "password-hash": hash_password("pw")}
    stack.storage.restore(ORG, _archive(users=[user]))
    restored = stack.users.authenticate("u", "pw")
    assert restored.admin and restored.permissions() == ["all"]
    forged = {**user, "name": "v", "password-hash": "pw"}
    message = _error(stack.storage.restore, ORG, _archive(users=[forged])).message
    assert "password-hash is not a password hash tickless made" in message


class Changing(Definitions):
    """A store some writer changes between every read of the tasks."""

    def __init__(self, changes: int) -> None:
        super().__init__()
        self.changes = changes

    def list(self, kind, org_id):
        if kind == "tasks" and self.changes:
            self.changes -= 1
            self.replace("tasks", org_id, {"id": f"t{self.changes}"})
        return super().list(kind, org_id)


def test_a_backup_waits_for_two_reads_that_agree():
    settles = Storage(
        TaskDefinitions(Changing(2)), Stack().alerts, Stack().config, Stack().users, clock=lambda: "now"
    )
    assert [t["id"] for t in settles.snapshot(ORG).tasks] == ["t0", "t1"]
    never = Storage(TaskDefinitions(Changing(99)), Stack().alerts, Stack().config, Stack().users)
    error = _error(never.snapshot, ORG)
    assert error.status == 503 and "kept changing" in error.message


def test_rebuilding_tasks_mends_the_running_batch_index():
    stack = Stack()
    batch = (
        "batch\n    |query('SELECT mean(v) FROM db.autogen.cpu')\n        .period(1m)\n        .every(1m)\n"
    )
    stack.tasks.create_task(ORG, {"id": "b", "script": batch, "status": "enabled", "dbrps": DBRPS}, View())
    store = stack.tasks.store
    store.delete("running-batch", "all", f"{ORG}|b")
    store.replace("running-batch", "all", {"id": f"{ORG}|gone", "org": ORG, "task": "gone"})
    store.replace("running-batch", "all", {"id": f"{OTHER}|x", "org": OTHER, "task": "x"})
    stack.storage.rebuild(ORG, "tasks", b'{"action":"rebuild"}')
    assert {e["id"] for e in store.list("running-batch", "all")} == {f"{ORG}|b", f"{OTHER}|x"}
