"""`/kapacitor/v1/config` over HTTP: Kapacitor's config overrides (services/config/service.go and the API
doc's examples), per organization, on the real DynamoDB store; and what they change: a topic handler
that names an httppost endpoint exists only once the endpoint is configured."""

from __future__ import annotations

import itertools
import json

import pytest

_ids = itertools.count()
CONFIG = "/kapacitor/v1/config"


def _post(client, path: str, doc) -> object:
    body = doc if isinstance(doc, bytes) else json.dumps(doc)
    return client.http.post(path, body=body, headers={"Content-Type": "application/json"})


def _own_org(client) -> object:
    """A client of a new organization with every Kapacitor right: overrides are an org's own."""
    org = _post(client, "/api/v2/orgs", {"name": f"cfg{next(_ids)}"}).json_body["id"]
    permissions = [{"action": a, "resource": {"type": "tasks", "orgID": org}} for a in ("read", "write")]
    token = _post(client, "/api/v2/authorizations", {"orgID": org, "permissions": permissions})
    return client.with_token(token.json_body["token"])


@pytest.mark.parametrize("prefix", ["/kapacitor/v1", "/kapacitor/v1preview"])
def test_sections_elements_and_their_links(client, prefix):
    mine = _own_org(client)
    everything = mine.http.get(f"{prefix}/config")
    assert everything.status_code == 200 and everything.headers["X-Kapacitor-Version"]
    body = everything.json_body
    assert body["link"] == {"rel": "self", "href": CONFIG}
    for name in ("influxdb", "smtp", "slack", "pagerduty2", "opsgenie2", "telegram", "teams", "httppost"):
        assert body["sections"][name]["link"] == {"rel": "self", "href": f"{CONFIG}/{name}"}

    section = mine.http.get(f"{prefix}/config/smtp").json_body
    assert section == body["sections"]["smtp"]
    [element] = section["elements"]
    assert element["link"] == {"rel": "self", "href": f"{CONFIG}/smtp/"}
    assert element["options"]["host"] == "localhost" and element["options"]["port"] == 25
    assert element["options"]["password"] is False and element["redacted"] == ["password"]
    assert element["options"]["idle-timeout"] == "30s"
    assert mine.http.get(f"{prefix}/config/smtp/").json_body == element

    [default] = mine.http.get(f"{prefix}/config/influxdb").json_body["elements"]
    assert default["options"]["name"] == "default" and default["options"]["default"] is True


def test_set_and_delete_override_one_element(client):
    mine = _own_org(client)
    update = {
        "set": {"enabled": True, "host": "smtp.example.com", "from": "k@example.com", "password": "s3cret"}
    }
    update["set"]["to"] = ["a@b.c"]
    assert _post(mine, f"{CONFIG}/smtp/", update).status_code == 204
    options = mine.http.get(f"{CONFIG}/smtp/").json_body["options"]
    assert (options["enabled"], options["host"], options["password"], options["to"]) == (
        True,
        "smtp.example.com",
        True,  # set, and never shown
        ["a@b.c"],
    )
    assert _post(mine, f"{CONFIG}/smtp/", {"delete": ["host"], "set": {"port": 587}}).status_code == 204
    options = mine.http.get(f"{CONFIG}/smtp/").json_body["options"]
    assert (options["host"], options["port"], options["enabled"]) == ("localhost", 587, True)

    # another organization sees its own configuration, untouched
    assert _own_org(client).http.get(f"{CONFIG}/smtp/").json_body["options"]["enabled"] is False


def test_add_and_remove_list_elements(client):
    mine = _own_org(client)
    added = {"add": {"name": "remote", "urls": ["http://influxdb.example.com:8086"], "username": "jim"}}
    assert _post(mine, f"{CONFIG}/influxdb", added).status_code == 204
    remote = mine.http.get(f"{CONFIG}/influxdb/remote").json_body
    assert remote["link"] == {"rel": "self", "href": f"{CONFIG}/influxdb/remote"}
    assert remote["options"]["urls"] == ["http://influxdb.example.com:8086"]
    assert remote["options"]["username"] == "jim" and remote["options"]["password"] is False
    again = _post(mine, f"{CONFIG}/influxdb", added)
    assert again.status_code == 400 and "already exists" in again.json_body["error"]

    assert _post(mine, f"{CONFIG}/influxdb", {"remove": ["remote"]}).status_code == 204
    gone = mine.http.get(f"{CONFIG}/influxdb/remote")
    assert (gone.status_code, gone.json_body) == (404, {"error": "unknown section/element: influxdb/remote"})


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("get", "/nope", None, 404, "unknown section: nope"),
        ("get", "/smtp/nope", None, 404, "unknown section/element: smtp/nope"),
        ("get", "/", None, 400, "section not specified, do you have an extra trailing '/'?"),
        (
            "post",
            "/smtp",
            {"set": {"enabled": True}},
            400,
            "failed to apply update: invalid update action: element not specified, are you missing a "
            "trailing '/'?",
        ),
        (
            "post",
            "/smtp/",
            {"set": {"enabled": True}, "add": {"name": "x"}},
            400,
            "failed to apply update: invalid update action: cannot provide both set/delete and add/remove "
            "actions in the same update",
        ),
        ("post", "/smtp/", b"", 400, "failed to decode JSON:EOF"),
        ("post", "/smtp/", b'{"set": ', 400, "failed to decode JSON:unexpected EOF"),
    ],
)
def test_errors_read_as_kapacitor_words_them(client, method, path, body, status, error):
    mine = _own_org(client)
    response = mine.http.get(CONFIG + path) if method == "get" else _post(mine, CONFIG + path, body)
    assert (response.status_code, response.json_body) == (status, {"error": error})


@pytest.mark.parametrize(
    "update",
    [
        {"set": {"no-such-option": 1}},
        {"set": {"port": "not a port"}},
        {"set": {"enabled": "yes please"}},
        {"set": {"to": "one@example.com, two@example.com"}},
        {"set": []},
        [],
        "text",
        {"delete": "host"},
    ],
)
def test_bad_updates_are_400_and_change_nothing(client, update):
    mine = _own_org(client)
    before = mine.http.get(f"{CONFIG}/smtp/").json_body
    response = _post(mine, f"{CONFIG}/smtp/", update)
    assert response.status_code == 400 and response.json_body["error"]
    assert mine.http.get(f"{CONFIG}/smtp/").json_body == before


def test_reading_needs_read_and_writing_needs_write(client, anonymous, onboarding):
    assert anonymous.http.get(CONFIG).status_code == 401
    org_id = onboarding["org"]["id"]
    read = [{"action": "read", "resource": {"type": "tasks", "orgID": org_id}}]
    token = _post(client, "/api/v2/authorizations", {"orgID": org_id, "permissions": read})
    reader = client.with_token(token.json_body["token"])
    assert reader.http.get(CONFIG).status_code == 200
    refused = _post(reader, f"{CONFIG}/smtp/", {"set": {"enabled": True}})
    assert (refused.status_code, refused.json_body) == (
        403,
        {"error": "insufficient permissions to write tasks"},
    )


def test_a_post_handler_naming_an_endpoint_needs_the_endpoint_configured(client):
    mine = _own_org(client)
    handler = {"id": "h", "kind": "post", "options": {"endpoint": "hooks"}}
    path = "/kapacitor/v1/alerts/topics/cpu/handlers"
    refused = _post(mine, path, handler)
    assert refused.status_code == 400
    assert "url must be specified if an endpoint is not specified" in refused.json_body["error"]

    endpoint = {"add": {"endpoint": "hooks", "url": "http://hooks.example.com/alert"}}
    assert _post(mine, f"{CONFIG}/httppost", endpoint).status_code == 204
    assert _post(mine, path, handler).status_code == 200


def _task(client, script: str, db: str = "db"):
    kind = script.split("\n", 1)[0]
    doc = {"id": f"t{next(_ids)}", "type": kind, "script": script, "status": "enabled"}
    doc["dbrps"] = [{"db": db, "rp": "autogen"}]
    return _post(client, "/kapacitor/v1/tasks", doc)


def test_a_cluster_must_be_configured_and_batch_queries_read_only_the_own_store(client):
    mine = _own_org(client)
    out = "stream\n    |from()\n        .measurement('cpu')\n    |influxDBOut()\n        .database('x')\n"
    refused = _task(mine, out + "        .cluster('remote')\n")
    assert (refused.status_code, refused.json_body) == (
        400,
        {"error": "invalid TICKscript: no such InfluxDB config remote"},
    )
    assert _task(mine, out + "        .cluster('default')\n").status_code == 200  # the series store
    added = {"add": {"name": "remote", "urls": ["http://influxdb.example.com:8086"]}}
    assert _post(mine, f"{CONFIG}/influxdb", added).status_code == 204
    assert _task(mine, out + "        .cluster('remote')\n").status_code == 200

    batch = (
        "batch\n    |query('SELECT mean(v) FROM db.autogen.cpu')\n        .period(1m)\n        .every(1m)\n"
    )
    refused = _task(mine, batch + "        .cluster('remote')\n")
    assert (
        refused.status_code == 400 and "batch queries read tickless's own store" in refused.json_body["error"]
    )
    assert _task(mine, batch + "        .cluster('default')\n").status_code == 200


def test_an_httppost_endpoint_must_be_configured_when_the_task_is_defined(client):
    mine = _own_org(client)
    script = "stream\n    |from()\n        .measurement('cpu')\n    |httpPost()\n        .endpoint('hooks')\n"
    refused = _task(mine, script)
    assert (refused.status_code, refused.json_body) == (
        400,
        {"error": "invalid TICKscript: endpoint 'hooks' does not exist"},
    )
    endpoint = {"add": {"endpoint": "hooks", "url": "http://hooks.example.com/{{ .Name }}"}}
    assert _post(mine, f"{CONFIG}/httppost", endpoint).status_code == 204
    assert _task(mine, script).status_code == 200
