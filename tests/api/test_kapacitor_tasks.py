"""Kapacitor's task and template definitions over HTTP: shapes, codes and messages as Kapacitor answers
(seeds/000 "Manage tasks" / "Manage templates"), under both prefixes, scoped to the caller's org."""

from __future__ import annotations

import itertools
import json

import pytest

_ids = itertools.count()

SCRIPT = "stream\n    |from()\n        .measurement('cpu')\n"
ALERT = """var crit = 90
stream
  |from().measurement('cpu')
  |window().period(10s).every(10s)
  |mean('usage')
  |alert().crit(lambda: "mean" > crit)
"""


def _id(prefix: str = "task") -> str:
    return f"{prefix}{next(_ids)}"


def _post(client, path: str, doc: dict):
    return client.http.post(path, body=json.dumps(doc), headers={"Content-Type": "application/json"})


def _patch(client, path: str, doc: dict):
    return client.http.patch(path, body=json.dumps(doc), headers={"Content-Type": "application/json"})


def _create(client, **fields) -> dict:
    doc = {"id": _id(), "script": SCRIPT, "dbrps": [{"db": "telegraf", "rp": "autogen"}], **fields}
    response = _post(client, "/kapacitor/v1/tasks", doc)
    assert response.status_code == 200, response.body
    return response.json_body


@pytest.mark.parametrize("prefix", ["/kapacitor/v1", "/kapacitor/v1preview"])
def test_create_get_and_delete_a_task(client, prefix):
    task_id = _id()
    doc = {"id": task_id, "type": "stream", "dbrps": [{"db": "telegraf", "rp": "autogen"}], "script": ALERT}
    created = _post(client, f"{prefix}/tasks", doc)
    assert created.status_code == 200, created.body
    assert created.headers["X-Kapacitor-Version"]
    body = created.json_body
    assert body["link"] == {"rel": "self", "href": f"{prefix}/tasks/{task_id}"}
    assert body["type"] == "stream" and body["status"] == "disabled" and body["executing"] is False
    assert body["dot"] == (
        f"digraph {task_id} {{\nstream0 -> from1;\nfrom1 -> window2;\nwindow2 -> mean3;\nmean3 -> alert4;\n}}"
    )
    assert body["last-enabled"] == "0001-01-01T00:00:00Z"

    got = client.http.get(f"{prefix}/tasks/{task_id}").json_body
    assert got["script"].startswith("var crit = 90\n\nstream\n    |from()\n")  # formatted by default
    raw = client.http.get(f"{prefix}/tasks/{task_id}?script-format=raw").json_body
    assert raw["script"] == ALERT

    assert client.http.delete(f"{prefix}/tasks/{task_id}").status_code == 204
    missing = client.http.get(f"{prefix}/tasks/{task_id}")
    assert missing.status_code == 404 and missing.json_body == {"error": "no task exists"}
    assert client.http.delete(f"{prefix}/tasks/{task_id}").status_code == 204  # deleting nothing is fine


def test_type_comes_from_the_script_and_batch_sources_are_not_drawn(client):
    body = _create(client, script="batch|query('SELECT mean(v) FROM db.rp.m').every(1m)|httpOut('x')")
    assert body["type"] == "batch"
    assert body["dot"] == f"digraph {body['id']} {{\nquery1 -> http_out2;\n}}"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"id": "bad id!", "script": SCRIPT},
            "task ID must contain only letters, numbers, '-', '.' and '_'.",
        ),
        ({"dbrps": [{"db": "a", "rp": "b"}]}, "must provide TICKscript"),
        ({"script": SCRIPT}, "must specify dbrp"),
        ({"script": 'dbrp "a"."b"\n' + SCRIPT, "dbrps": [{"db": "a", "rp": "b"}]}, "cannot specify dbrp"),
        ({"script": "stream|from(", "dbrps": [{"db": "a", "rp": "b"}]}, "invalid TICKscript: "),
        (
            {"script": "stream|from().foo()", "dbrps": [{"db": "a", "rp": "b"}]},
            'invalid TICKscript: line 1 char 15: no method or property "foo" on *pipeline.FromNode',
        ),
        ({"script": "var x = 5", "dbrps": [{"db": "a", "rp": "b"}]}, "invalid task type: invalid"),
        ({"template-id": "nope", "dbrps": [{"db": "a", "rp": "b"}]}, "unknown template nope"),
    ],
)
def test_bad_definitions_get_kapacitors_400s(client, doc, message):
    response = _post(client, "/kapacitor/v1/tasks", doc)
    assert response.status_code == 400, response.body
    assert response.json_body["error"].startswith(message), response.json_body


def test_malformed_json_and_wrong_types_are_invalid_json(client):
    for body in ("{", "[1]", json.dumps({"id": 5}), json.dumps({"vars": {"x": {"type": "nope"}}})):
        response = client.http.post("/kapacitor/v1/tasks", body=body)
        assert response.status_code == 400, response.body
        assert response.json_body == {"error": "invalid JSON"}


def test_duplicate_id_is_refused(client):
    task = _create(client)
    again = _post(client, "/kapacitor/v1/tasks", {"id": task["id"], "script": SCRIPT, "dbrps": task["dbrps"]})
    assert again.status_code == 400 and again.json_body == {"error": f"task {task['id']} already exists"}


def test_implicit_dbrps_come_from_the_script(client):
    body = _create(client, script='dbrp "telegraf"."autogen"\n' + SCRIPT, dbrps=None)
    assert body["dbrps"] == [{"db": "telegraf", "rp": "autogen"}]


def test_patch_status_script_dbrps_and_rename(client):
    task = _create(client)
    path = f"/kapacitor/v1/tasks/{task['id']}"
    enabled = _patch(client, path, {"status": "enabled"})
    assert enabled.status_code == 200, enabled.body
    assert enabled.json_body["status"] == "enabled"
    assert enabled.json_body["last-enabled"] != "0001-01-01T00:00:00Z"
    moved = _patch(client, path, {"dbrps": [{"db": "other", "rp": "rp1"}]}).json_body
    assert moved["dbrps"] == [{"db": "other", "rp": "rp1"}]
    rescripted = _patch(client, path, {"script": "stream|from().measurement('mem')"}).json_body
    assert "'mem'" in rescripted["script"]
    bad = _patch(client, path, {"script": "stream|nope()"})
    assert bad.status_code == 400 and bad.json_body["error"].startswith("invalid TICKscript: line 1 char 8")
    renamed_id = _id()
    renamed = _patch(client, path, {"id": renamed_id})
    assert renamed.status_code == 200 and renamed.json_body["id"] == renamed_id
    assert client.http.get(path).status_code == 404
    missing = _patch(client, "/kapacitor/v1/tasks/nope", {"status": "enabled"})
    assert missing.status_code == 404 and missing.json_body == {"error": "task does not exist, cannot update"}


def test_vars_override_declared_values_and_fill_template_vars(client):
    script = (
        "var m string\nvar period = 10s\nstream|from().measurement(m)|window().period(period).every(period)"
    )
    body = _create(
        client,
        script=script,
        vars={"m": {"type": "string", "value": "cpu"}, "period": {"type": "duration", "value": "1m"}},
    )
    assert body["vars"]["period"] == {"value": 60_000_000_000, "type": "duration", "description": ""}
    missing = _post(client, "/kapacitor/v1/tasks", {"script": script, "dbrps": [{"db": "a", "rp": "b"}]})
    assert missing.json_body == {"error": 'invalid TICKscript: missing value for var "m".'}
    wrong = _post(
        client,
        "/kapacitor/v1/tasks",
        {"script": script, "dbrps": [{"db": "a", "rp": "b"}], "vars": {"m": {"type": "int", "value": 1}}},
    )
    assert wrong.json_body == {"error": "invalid TICKscript: invalid type supplied for m, got int exp string"}


def test_list_with_pattern_fields_offset_and_limit(client):
    stem = _id("listed")
    for n in range(3):
        _create(client, id=f"{stem}-{n}")
    listed = client.http.get(f"/kapacitor/v1/tasks?pattern={stem}-*&fields=status&offset=1&limit=1").json_body
    assert listed == {
        "tasks": [
            {
                "link": {"rel": "self", "href": f"/kapacitor/v1/tasks/{stem}-1"},
                "id": f"{stem}-1",
                "status": "disabled",
            }
        ]
    }
    # Go's path.Match, as Kapacitor's stores filter: classes negate with `^` only; a malformed pattern
    # (its error ignored) matches nothing
    negated = client.http.get(f"/kapacitor/v1/tasks?pattern={stem}-[^01]").json_body["tasks"]
    assert [t["id"] for t in negated] == [f"{stem}-2"]
    bang = client.http.get(f"/kapacitor/v1/tasks?pattern={stem}-[!01]").json_body["tasks"]
    assert [t["id"] for t in bang] == [f"{stem}-0", f"{stem}-1"]  # `!` is a character there
    assert client.http.get("/kapacitor/v1/tasks?pattern=%5B").json_body == {"tasks": []}
    for query, message in (
        ("fields=nope", 'unsupported field "nope"'),
        ("offset=x", 'invalid offset parameter "x" must be an integer'),
        ("script-format=pretty", 'invalid script-format parameter "pretty"'),
        ("dot-view=pretty", 'invalid dot-view parameter "pretty"'),
    ):
        response = client.http.get(f"/kapacitor/v1/tasks?{query}")
        assert response.status_code == 400 and response.json_body["error"].startswith(message), query


def test_templates_report_vars_and_reload_their_tasks_all_or_none(client):
    template_id = _id("tpl")
    script = "// the measurement\nvar m string\nvar crit = 5\nstream|from().measurement(m)|alert()"
    created = _post(client, "/kapacitor/v1/templates", {"id": template_id, "script": script})
    assert created.status_code == 200, created.body
    assert created.json_body["vars"] == {
        "m": {"value": None, "type": "string", "description": "the measurement"},
        "crit": {"value": 5, "type": "int", "description": ""},
    }
    task = _create(
        client, script=None, **{"template-id": template_id, "vars": {"m": {"type": "string", "value": "x"}}}
    )
    assert task["template-id"] == template_id and task["type"] == "stream"

    # A new script that one task cannot take (a var it does not give) changes nothing.
    breaking = "var m string\nvar other string\nstream|from().measurement(m).database(other)"
    refused = _patch(client, f"/kapacitor/v1/templates/{template_id}", {"script": breaking})
    assert refused.status_code == 400
    assert refused.json_body == {"error": 'invalid TICKscript: missing value for var "other".'}
    unchanged = client.http.get(f"/kapacitor/v1/tasks/{task['id']}?script-format=raw").json_body
    assert unchanged["script"] == script

    fine = "var m string\nstream|from().measurement(m)|log()"
    assert _patch(client, f"/kapacitor/v1/templates/{template_id}", {"script": fine}).status_code == 200
    reloaded = client.http.get(f"/kapacitor/v1/tasks/{task['id']}").json_body
    assert reloaded["dot"].endswith("from1 -> log2;\n}")

    assert client.http.delete(f"/kapacitor/v1/templates/{template_id}").status_code == 204
    assert client.http.get(f"/kapacitor/v1/templates/{template_id}").json_body == {
        "error": "no template exists"
    }


def test_tasks_need_credentials_and_stay_in_their_org(client, anonymous):
    task = _create(client)
    response = anonymous.http.get("/kapacitor/v1/tasks")
    assert response.status_code == 401 and response.json_body == {
        "error": "unable to parse authentication credentials"
    }
    stranger = client.with_token("not-a-token").http.get(f"/kapacitor/v1/tasks/{task['id']}")
    assert stranger.status_code == 401


def test_an_oversized_definition_is_refused_not_a_500(client):
    script = "// " + "x" * 400_000 + "\n" + SCRIPT
    response = _post(client, "/kapacitor/v1/tasks", {"script": script, "dbrps": [{"db": "a", "rp": "b"}]})
    assert response.status_code == 400
    assert response.json_body["error"].startswith("definition too large")


def _token(client, org_id: str, permissions: list[dict]) -> str:
    response = _post(client, "/api/v2/authorizations", {"orgID": org_id, "permissions": permissions})
    assert response.status_code == 201, response.body
    return response.json_body["token"]


def test_reading_and_changing_tasks_need_the_orgs_task_permissions(client, onboarding):
    org_id = onboarding["org"]["id"]
    task = _create(client)
    tasks = {"type": "tasks", "orgID": org_id}
    reader = client.with_token(_token(client, org_id, [{"action": "read", "resource": tasks}]))
    assert reader.http.get(f"/kapacitor/v1/tasks/{task['id']}").status_code == 200
    refused = _patch(reader, f"/kapacitor/v1/tasks/{task['id']}", {"status": "enabled"})
    assert refused.status_code == 403 and refused.json_body == {
        "error": "insufficient permissions to write tasks"
    }
    buckets_only = client.with_token(
        _token(client, org_id, [{"action": "read", "resource": {"type": "buckets", "orgID": org_id}}])
    )
    assert buckets_only.http.get("/kapacitor/v1/tasks").status_code == 403


def test_another_orgs_tasks_are_not_seen(client, onboarding):
    task = _create(client)
    org = _post(client, "/api/v2/orgs", {"name": _id("org")})
    assert org.status_code == 201, org.body
    other_org = org.json_body["id"]
    everything = [
        {"action": action, "resource": {"type": "tasks", "orgID": other_org}} for action in ("read", "write")
    ]
    stranger = client.with_token(_token(client, other_org, everything))
    assert stranger.http.get(f"/kapacitor/v1/tasks/{task['id']}").status_code == 404
    assert task["id"] not in [t["id"] for t in stranger.http.get("/kapacitor/v1/tasks").json_body["tasks"]]
    assert stranger.http.delete(f"/kapacitor/v1/tasks/{task['id']}").status_code == 204
    assert client.http.get(f"/kapacitor/v1/tasks/{task['id']}").status_code == 200  # untouched


@pytest.mark.parametrize("prefix", ["/kapacitor/v1", "/kapacitor/v1preview"])
def test_ping_answers_204_with_the_version_and_needs_no_credentials(anonymous, prefix):
    for method in (anonymous.http.get, anonymous.http.head):
        response = method(f"{prefix}/ping")
        assert response.status_code == 204 and response.headers["X-Kapacitor-Version"] == "1.7.6"


def test_an_orphaned_task_cannot_be_enabled(client):
    template_id = _id("orphan")
    created = _post(client, "/kapacitor/v1/templates", {"id": template_id, "script": SCRIPT})
    assert created.status_code == 200, created.body
    task = _create(client, script=None, **{"template-id": template_id})
    assert client.http.delete(f"/kapacitor/v1/templates/{template_id}").status_code == 204
    refused = _patch(client, f"/kapacitor/v1/tasks/{task['id']}", {"status": "enabled"})
    assert refused.status_code == 400
    # Kapacitor names the template the request gave (none here), word for word.
    assert refused.json_body == {"error": "unknown template : err: no template exists"}


def test_an_unknown_replay_id_is_refused_as_kapacitor_does(client):
    task = _create(client)
    response = client.http.get(f"/kapacitor/v1/tasks/{task['id']}?replay-id=r1")
    assert (response.status_code, response.json_body) == (400, {"error": "no running replay with ID: r1"})


def test_a_negative_offset_is_refused(client):
    response = client.http.get("/kapacitor/v1/tasks?offset=-1")
    assert (response.status_code, response.json_body) == (
        400,
        {"error": 'invalid offset parameter "-1" must not be negative'},
    )


def test_ids_beyond_what_storage_keys_take_are_refused_or_absent(client):
    """DynamoDB takes sort keys of at most 1,024 bytes (moto does not check): longer IDs are a 400 to
    create and name nothing to read or delete, never a storage error."""
    long_id = "t" * 1025
    dbrps = [{"db": "telegraf", "rp": "autogen"}]
    created = _post(client, "/kapacitor/v1/tasks", {"id": long_id, "script": SCRIPT, "dbrps": dbrps})
    assert created.status_code == 400 and "1024 bytes" in created.json_body["error"]
    assert client.http.get(f"/kapacitor/v1/tasks/{long_id}").status_code == 404
    assert client.http.delete(f"/kapacitor/v1/tasks/{long_id}").status_code == 204
