"""Kapacitor's storage API over HTTP (seeds/000 "Manage storage"; Kapacitor's services/storage): the
stores, their rebuild in Kapacitor's words, and backups of the caller's organization restored into
another one, idempotently, with bad archives refused before anything changes."""

from __future__ import annotations

import base64
import gzip
import itertools
import json

import pytest
import requests

from chalicelib.alert.events import AlertEvent, Level

_ids = itertools.count()
STORAGE = "/kapacitor/v1/storage"
STORE_NAMES = ["handler-specs", "overrides", "tasks", "templates", "topics", "users"]
STREAM = "stream\n    |from()\n        .measurement('cpu')\n"
HOOK = "stream\n    |from()\n        .measurement('cpu')\n    |httpPost()\n        .endpoint('hooks')\n"
BATCH = "batch\n    |query('SELECT mean(v) FROM db.autogen.cpu')\n        .period(1m)\n        .every(1m)\n"
TEMPLATE = "var m string\nvar crit = 5\nstream\n    |from()\n        .measurement(m)\n    |alert()\n"
DBRPS = [{"db": "telegraf", "rp": "autogen"}]


def _name(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def _send(caller, method: str, path: str, doc=None, headers: dict | None = None):
    body = doc if isinstance(doc, bytes | str) else json.dumps(doc)
    return getattr(caller.http, method)(
        path, body=body, headers={"Content-Type": "application/json", **(headers or {})}
    )


def _ok(response, status: int = 200):
    assert response.status_code == status, response.body
    return response.json_body if response.body else None


def _org(client, types=("tasks", "buckets")):
    """A client of a new organization whose token reads and writes `types` there; its id."""
    org = _ok(_send(client, "post", "/api/v2/orgs", {"name": _name("storage")}), 201)["id"]
    permissions = [
        {"action": action, "resource": {"type": kind, "orgID": org}}
        for kind in types
        for action in ("read", "write")
    ]
    auth = _ok(
        _send(client, "post", "/api/v2/authorizations", {"orgID": org, "permissions": permissions}), 201
    )
    return client.with_token(auth["token"]), org


def _basic(name: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def _backup(caller) -> bytes:
    response = caller.http.get(f"{STORAGE}/backup")
    assert response.status_code == 200, response.body
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response.body


def _restore(caller, archive: bytes | str, headers: dict | None = None):
    return _send(caller, "post", f"{STORAGE}/restore", archive, headers)


def _state(caller) -> dict:
    """Everything the API shows of an organization's Kapacitor state."""
    get = caller.http.get
    topics = _ok(get("/kapacitor/v1/alerts/topics"))
    handlers = {
        t["id"]: _ok(get(f"/kapacitor/v1/alerts/topics/{t['id']}/handlers"))["handlers"]
        for t in topics["topics"]
    }
    events = {t["id"]: _ok(get(f"/kapacitor/v1/alerts/topics/{t['id']}/events")) for t in topics["topics"]}
    return {
        "tasks": _ok(get("/kapacitor/v1/tasks")),
        "templates": _ok(get("/kapacitor/v1/templates")),
        "topics": topics,
        "handlers": handlers,
        "events": events,
        "config": _ok(get("/kapacitor/v1/config")),
        "users": _ok(get("/kapacitor/v1/users")),
    }


def _populate(caller, org_id: str) -> dict:
    """Every kind of item in the caller's organization: overrides a task and a handler need, a template
    and a task from it, enabled and disabled tasks, handlers, a topic with events, users."""
    endpoint = {"add": {"endpoint": "hooks", "url": "http://hooks.example.com/alert"}}
    _ok(_send(caller, "post", "/kapacitor/v1/config/httppost", endpoint), 204)
    smtp = {
        "set": {
            "enabled": True,
            "host": "smtp.example.com",
            "from": "k@example.com",
            "password": "smtp-secret",
        }
    }
    _ok(_send(caller, "post", "/kapacitor/v1/config/smtp/", smtp), 204)

    template = _name("tpl")
    _ok(_send(caller, "post", "/kapacitor/v1/templates", {"id": template, "script": TEMPLATE}))
    vars_ = {"m": {"type": "string", "value": "mem"}}
    tasks = [
        {"id": _name("fromtpl"), "template-id": template, "vars": vars_, "dbrps": DBRPS, "status": "enabled"},
        {"id": _name("hook"), "script": HOOK, "dbrps": DBRPS, "status": "enabled"},
        {"id": _name("off"), "script": STREAM, "dbrps": DBRPS},
        {"id": _name("batch"), "script": BATCH, "dbrps": DBRPS, "status": "enabled"},
    ]
    for task in tasks:
        _ok(_send(caller, "post", "/kapacitor/v1/tasks", task))

    topic = _name("topic")
    handlers = [
        {"id": "tcp", "kind": "tcp", "options": {"address": "localhost:9"}, "match": "level() == CRITICAL"},
        {"id": "hook", "kind": "post", "options": {"endpoint": "hooks"}},
    ]
    for handler in handlers:
        _ok(_send(caller, "post", f"/kapacitor/v1/alerts/topics/{topic}/handlers", handler))
    from chalicelib import compose

    for level, event_id in ((Level.CRITICAL, "cpu"), (Level.WARNING, "mem")):
        event = AlertEvent(event_id, f"{event_id} is {level.name}", "details", 10**9, 0, level, data={})
        compose.alert_service().collect(org_id, topic, event)

    users = {_name("normal"): "pass-one", _name("admin"): "pass-two"}
    normal, admin = users
    _ok(
        _send(
            caller,
            "post",
            "/kapacitor/v1/users",
            {"name": normal, "password": "pass-one", "permissions": ["api"]},
        )
    )
    _ok(
        _send(caller, "post", "/kapacitor/v1/users", {"name": admin, "password": "pass-two", "type": "admin"})
    )
    return {"users": users, "tasks": [t["id"] for t in tasks], "topic": topic}


# -- stores and rebuild ---------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/kapacitor/v1", "/kapacitor/v1preview"])
def test_the_stores_in_kapacitors_shape(client, prefix):
    mine, _ = _org(client)
    response = mine.http.get(f"{prefix}/storage/stores")
    assert response.status_code == 200 and response.headers["X-Kapacitor-Version"]
    body = response.json_body
    assert body["link"] == {"rel": "self", "href": "/kapacitor/v1/storage/stores"}
    assert [s["name"] for s in body["storage"]] == STORE_NAMES
    for store in body["storage"]:
        assert store["link"] == {"rel": "self", "href": f"/kapacitor/v1/storage/stores/{store['name']}"}
        assert store["version"] == 1


@pytest.mark.parametrize("name", STORE_NAMES)
def test_every_store_rebuilds(client, name):
    mine, _ = _org(client)
    response = _send(mine, "post", f"{STORAGE}/stores/{name}", {"action": "rebuild"})
    assert response.status_code == 204 and response.body in (b"", "", None)


@pytest.mark.parametrize(
    ("name", "body", "status", "message"),
    [
        ("nope", {"action": "rebuild"}, 404, 'unknown storage "nope"'),
        (
            "tasks",
            {"action": "compact"},
            400,
            "failed to unmarshal storage action unknown StorageAction compact",
        ),
        ("tasks", {}, 400, 'unkown storage action "unknown StorageAction 0"'),
        ("tasks", b"", 400, "failed to unmarshal storage action EOF"),
        ("tasks", b"{", 400, "failed to unmarshal storage action unexpected EOF"),
        (
            "tasks",
            {"action": 1},
            400,
            "failed to unmarshal storage action json: cannot unmarshal number into Go struct field "
            "StorageActionOptions.action of type client.StorageAction",
        ),
    ],
)
def test_rebuild_refusals_in_kapacitors_words(client, name, body, status, message):
    mine, _ = _org(client)
    response = _send(mine, "post", f"{STORAGE}/stores/{name}", body)
    assert (response.status_code, response.json_body) == (status, {"error": message})


def test_rebuilding_tasks_restores_the_running_batch_index(client):
    from chalicelib import compose
    from chalicelib.tick.tasks import BATCH_INDEX, INDEX_PARTITION

    mine, org = _org(client)
    task = _name("batch")
    _ok(
        _send(
            mine,
            "post",
            "/kapacitor/v1/tasks",
            {"id": task, "script": BATCH, "dbrps": DBRPS, "status": "enabled"},
        )
    )
    store = compose.task_definitions().store
    store.delete(BATCH_INDEX, INDEX_PARTITION, f"{org}|{task}")  # lost
    store.replace(BATCH_INDEX, INDEX_PARTITION, {"id": f"{org}|gone", "org": org, "task": "gone"})  # stale

    _ok(_send(mine, "post", f"{STORAGE}/stores/tasks", {"action": "rebuild"}), 204)
    entries = {e["id"] for e in store.list(BATCH_INDEX, INDEX_PARTITION) if e.get("org") == org}
    assert entries == {f"{org}|{task}"}


# -- backup and restore ---------------------------------------------------------------------------------


def test_a_backup_restored_into_a_fresh_organization_shows_the_same_state(client, anonymous):
    source, source_org = _org(client)
    made = _populate(source, source_org)
    before = _state(source)
    archive = _backup(source)
    doc = json.loads(archive)
    assert (doc["format"], doc["version"], doc["org"]) == ("tickless-kapacitor-backup", 1, source_org)
    assert b"pass-one" not in archive and b"pass-two" not in archive  # hashes only
    assert all(u["password-hash"].startswith("scrypt$") for u in doc["stores"]["users"])

    target, _ = _org(client)
    # user names are the instance's: while the source org has them, the restore is refused, untouched
    refused = _restore(target, archive)
    assert refused.status_code == 400
    assert f"users {next(iter(made['users']))}: exists in another organization" in refused.json_body["error"]
    assert _state(target)["tasks"] == {"tasks": []}

    for name in made["users"]:
        _ok(source.http.delete(f"/kapacitor/v1/users/{name}"), 204)
    summary = _ok(_restore(target, archive))
    assert summary["stores"]["tasks"] == {"items": 4, "changed": 4, "removed": 0}
    assert summary["from"] == {"org": source_org, "created": doc["created"]}
    after = _state(target)
    assert after == before
    assert {t["id"]: t["status"] for t in after["tasks"]["tasks"]}[made["tasks"][2]] == "disabled"

    # a restored user signs in with its password, in the organization it was restored into
    name, password = next(iter(made["users"].items()))
    listed = anonymous.http.get("/kapacitor/v1/tasks", headers=_basic(name, password))
    assert listed.status_code == 200 and len(listed.json_body["tasks"]) == 4
    assert anonymous.http.get("/kapacitor/v1/tasks", headers=_basic(name, "wrong")).status_code == 401

    # restoring again changes nothing
    again = _ok(_restore(target, archive))
    assert all(s["changed"] == 0 and s["removed"] == 0 for s in again["stores"].values()), again
    assert _state(target) == before


def test_a_restore_makes_the_organization_exactly_the_archive(client):
    source, _ = _org(client)
    kept = _name("kept")
    _ok(_send(source, "post", "/kapacitor/v1/tasks", {"id": kept, "script": STREAM, "dbrps": DBRPS}))
    archive = _backup(source)

    # the same org, changed since: the restore brings back the task and drops what came after
    _ok(_send(source, "patch", f"/kapacitor/v1/tasks/{kept}", {"status": "enabled"}))
    extra = _name("extra")
    _ok(_send(source, "post", "/kapacitor/v1/tasks", {"id": extra, "script": STREAM, "dbrps": DBRPS}))
    _ok(
        _send(
            source,
            "post",
            "/kapacitor/v1/alerts/topics/t/handlers",
            {"id": "h", "kind": "log", "options": {"path": "/tmp/x"}},
        )
    )
    summary = _ok(_restore(source, archive))
    assert summary["stores"]["tasks"] == {"items": 1, "changed": 1, "removed": 1}
    assert summary["stores"]["handler-specs"] == {"items": 0, "changed": 0, "removed": 1}
    tasks = _ok(source.http.get("/kapacitor/v1/tasks"))["tasks"]
    assert [(t["id"], t["status"]) for t in tasks] == [(kept, "disabled")]


def test_a_gzipped_archive_restores(client):
    source, _ = _org(client)
    _ok(_send(source, "post", "/kapacitor/v1/tasks", {"id": "gz", "script": STREAM, "dbrps": DBRPS}))
    archive = gzip.compress(_backup(source))
    target, _ = _org(client)
    summary = _ok(_restore(target, archive, {"Content-Type": "application/gzip"}))
    assert summary["stores"]["tasks"]["changed"] == 1
    encoded = _ok(_restore(target, archive, {"Content-Encoding": "gzip"}))
    assert encoded["stores"]["tasks"]["changed"] == 0


def _resealed(doc: dict) -> str:
    from chalicelib.kapacitor.backup import checksum

    return json.dumps({**doc, "checksum": checksum(doc)})


def _bad_archives(archive: bytes) -> list[tuple[bytes | str, str]]:
    doc = json.loads(archive)
    tampered = json.loads(archive)
    tampered["stores"]["tasks"][0]["script"] = "stream|from().measurement('other')"
    newer = {**doc, "version": 2}
    bad_script = json.loads(archive)
    bad_script["stores"]["templates"][0]["script"] = "stream|nonsense("
    bad_user = json.loads(archive)
    bad_user["stores"]["users"].append(
        {"name": "x", "type": "normal", "permissions": [], "password-hash": "plain"}
    )
    unknown_store = json.loads(archive)
    unknown_store["stores"]["recordings"] = []
    unknown_store["versions"]["recordings"] = 1
    missing_template = json.loads(archive)
    missing_template["stores"]["templates"] = []
    bolt = b"\0" * 16 + b"\xed\xda\x0c\xed" + b"\0" * 100
    return [
        (b"garbage", "not a tickless Kapacitor backup"),
        (b"", "not a tickless Kapacitor backup"),
        (json.dumps({"format": "something else"}), "not a tickless Kapacitor backup"),
        (bolt, "Kapacitor BoltDB file"),
        (b"\x1f\x8b\x08\x00garbage", "gzip data"),
        (json.dumps(tampered), "checksum mismatch"),
        (_resealed(newer), "backup format version 2 is newer than this server reads (1)"),
        (_resealed(bad_script), "invalid TICKscript"),
        (_resealed(bad_user), "users x: password-hash is not a password hash tickless made"),
        (_resealed(unknown_store), 'unknown store "recordings"'),
        (_resealed(missing_template), "unknown template"),
    ]


def test_bad_archives_are_refused_and_change_nothing(client):
    source, _ = _org(client)
    template = _name("tpl")
    _ok(_send(source, "post", "/kapacitor/v1/templates", {"id": template, "script": TEMPLATE}))
    task = {"id": _name("t"), "template-id": template, "vars": {"m": {"type": "string", "value": "x"}}}
    _ok(_send(source, "post", "/kapacitor/v1/tasks", {**task, "dbrps": DBRPS}))
    archive = _backup(source)

    target, _ = _org(client)
    _ok(_send(target, "post", "/kapacitor/v1/tasks", {"id": "mine", "script": STREAM, "dbrps": DBRPS}))
    before = _state(target)
    for bad, message in _bad_archives(archive):
        response = _restore(target, bad)
        assert response.status_code == 400, (message, response.body)
        assert message in response.json_body["error"], response.json_body
    assert _state(target) == before


def test_an_enabled_task_is_checked_against_the_archives_overrides(client):
    """A task needing an httppost endpoint restores into an org without one: the archive brings it."""
    source, _ = _org(client)
    endpoint = {"add": {"endpoint": "hooks", "url": "http://hooks.example.com/alert"}}
    _ok(_send(source, "post", "/kapacitor/v1/config/httppost", endpoint), 204)
    _ok(
        _send(
            source,
            "post",
            "/kapacitor/v1/tasks",
            {"id": "hook", "script": HOOK, "dbrps": DBRPS, "status": "enabled"},
        )
    )
    archive = json.loads(_backup(source))
    target, _ = _org(client)
    _ok(_restore(target, json.dumps(archive)))

    archive["stores"]["overrides"] = []  # without the endpoint the task cannot start
    refused = _restore(_org(client)[0], _resealed(archive))
    assert refused.status_code == 400
    assert "tasks hook: invalid TICKscript: endpoint 'hooks' does not exist" in refused.json_body["error"]


def test_each_organization_backs_up_only_itself(client):
    mine, _ = _org(client)
    _ok(_send(mine, "post", "/kapacitor/v1/tasks", {"id": "private", "script": STREAM, "dbrps": DBRPS}))
    other, _ = _org(client)
    theirs = json.loads(_backup(other))
    assert all(items == [] for name, items in theirs["stores"].items() if name != "overrides")
    assert b"private" not in _backup(other)


def test_who_may_back_up_and_restore(client, anonymous):
    mine, _ = _org(client)
    archive = _backup(mine)
    unauthenticated = anonymous.http.get(f"{STORAGE}/backup")
    assert (unauthenticated.status_code, unauthenticated.json_body) == (
        401,
        {"error": "unable to parse authentication credentials"},
    )
    assert _restore(anonymous, archive).status_code == 401
    assert anonymous.http.get(f"{STORAGE}/stores").status_code == 401
    assert _send(anonymous, "post", f"{STORAGE}/stores/tasks", {"action": "rebuild"}).status_code == 401

    # password hashes are in a backup: task rights alone do not reach it
    tasks_only, _ = _org(client, types=("tasks",))
    assert tasks_only.http.get(f"{STORAGE}/stores").status_code == 200
    assert tasks_only.http.get(f"{STORAGE}/backup").status_code == 403
    assert _restore(tasks_only, archive).status_code == 403

    # a Kapacitor user with `api` may, as in Kapacitor; one with only `config_api` may not
    name, weak = _name("api"), _name("cfg")
    _ok(_send(mine, "post", "/kapacitor/v1/users", {"name": name, "password": "pw", "permissions": ["api"]}))
    _ok(
        _send(
            mine,
            "post",
            "/kapacitor/v1/users",
            {"name": weak, "password": "pw", "permissions": ["config_api"]},
        )
    )
    as_user = anonymous.http.get(f"{STORAGE}/backup", headers=_basic(name, "pw"))
    assert as_user.status_code == 200 and json.loads(as_user.body)["org"] == json.loads(archive)["org"]
    denied = anonymous.http.get(f"{STORAGE}/backup", headers=_basic(weak, "pw"))
    assert denied.status_code == 403
    assert denied.json_body == {
        "error": f'user {weak} does not have "read" privilege for API endpoint "/kapacitor/v1/storage/backup"'
    }


def test_backup_and_restore_over_http(client, http):
    """As `curl -o` and `curl --data-binary @` would: through the local stack's HTTP server."""
    source, _ = _org(client)
    _ok(_send(source, "post", "/kapacitor/v1/tasks", {"id": "wire", "script": STREAM, "dbrps": DBRPS}))
    headers = {"Authorization": f"Token {source.http.token}"}
    download = requests.get(f"{http}{STORAGE}/backup", headers=headers, timeout=10)
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("application/json")
    assert download.headers["Content-Disposition"] == 'attachment; filename="kapacitor-backup.json"'

    target, _ = _org(client)
    upload = {"Authorization": f"Token {target.http.token}", "Content-Type": "application/gzip"}
    restored = requests.post(
        f"{http}{STORAGE}/restore", data=gzip.compress(download.content), headers=upload, timeout=10
    )
    assert restored.status_code == 200, restored.text
    assert [t["id"] for t in _ok(target.http.get("/kapacitor/v1/tasks"))["tasks"]] == ["wire"]
