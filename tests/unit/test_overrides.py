"""Config overrides (/kapacitor/v1/config): GET shapes, redaction, set/delete/add/remove, Kapacitor's
error texts and statuses, per-organization isolation and the resolved handler configuration."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.alert.handler_services import DEFAULTS
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.time import MINUTE, SECOND
from chalicelib.overrides import SECTIONS, ConfigService
from chalicelib.overrides.gotext import parse_duration


class MemoryStore:
    """The OverrideStore port over a dict."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], dict] = {}

    def get(self, org_id: str, id: str) -> dict | None:
        doc = self.docs.get((org_id, id))
        return copy.deepcopy(doc) if doc is not None else None

    def list(self, org_id: str) -> list[dict]:
        return [copy.deepcopy(d) for (org, _), d in self.docs.items() if org == org_id]

    def put(self, org_id: str, doc: dict) -> None:
        self.docs[(org_id, doc["id"])] = copy.deepcopy(doc)

    def delete(self, org_id: str, id: str) -> None:
        self.docs.pop((org_id, id), None)


SEED_BASE: dict[str, list[dict]] = {
    "influxdb": [
        {"name": "localhost", "urls": ["http://localhost:8086"], "default": True},
        {
            "name": "remote",
            "urls": ["http://influxdb.example.com:8086"],
            "username": "jim",
            "password": "s3cret",
        },
    ],
    "smtp": [
        {
            "enabled": True,
            "host": "smtp.example.com",
            "port": 587,
            "username": "bob",
            "password": "pw",
            "to": ["oncall@example.com"],
            "from": "kapacitor@example.com",
            "idle-timeout": "30s",
        }
    ],
}


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def svc(store: MemoryStore) -> ConfigService:
    return ConfigService(store, SEED_BASE)


def error(fn: Any, *args: Any) -> TicklessError:
    with pytest.raises(TicklessError) as info:
        fn(*args)
    return info.value


def post_error(svc: ConfigService, rest: str, body: Any) -> tuple[int, str]:
    err = error(svc.update, "org", rest, body)
    return err.status, err.message


# --- GET -----------------------------------------------------------------------------------------------


def test_get_all_lists_every_section_sorted_with_links(svc: ConfigService) -> None:
    config = svc.get("org", "")
    assert config["link"] == {"rel": "self", "href": "/kapacitor/v1/config"}
    assert list(config["sections"]) == sorted(SECTIONS)
    for name, section in config["sections"].items():
        assert section["link"] == {"rel": "self", "href": f"/kapacitor/v1/config/{name}"}
    assert config == svc.config("org")


def test_get_smtp_section_matches_the_seed_example(svc: ConfigService) -> None:
    section = svc.get("org", "/smtp")
    assert section["link"]["href"] == "/kapacitor/v1/config/smtp"
    [element] = section["elements"]
    assert element["link"] == {"rel": "self", "href": "/kapacitor/v1/config/smtp/"}
    assert element["redacted"] == ["password"]
    opts = element["options"]
    assert list(opts) == sorted(opts)  # Go encodes a map with sorted keys
    assert {
        k: opts[k] for k in ("enabled", "host", "port", "username", "password", "no-verify", "global")
    } == {
        "enabled": True,
        "host": "smtp.example.com",
        "port": 587,
        "username": "bob",
        "password": True,
        "no-verify": False,
        "global": False,
    }
    assert opts["to"] == ["oncall@example.com"]
    assert opts["from"] == "kapacitor@example.com"
    assert opts["idle-timeout"] == "30s"
    assert svc.get("org", "/smtp/") == element
    assert svc.element("org", "smtp", "") == element
    assert svc.section("org", "smtp") == section


def test_get_influxdb_elements_sorted_and_redacted(svc: ConfigService) -> None:
    section = svc.get("org", "/influxdb")
    hrefs = [e["link"]["href"] for e in section["elements"]]
    assert hrefs == ["/kapacitor/v1/config/influxdb/localhost", "/kapacitor/v1/config/influxdb/remote"]
    remote = svc.get("org", "/influxdb/remote")
    assert remote["options"]["name"] == "remote"
    assert remote["options"]["urls"] == ["http://influxdb.example.com:8086"]
    assert remote["options"]["username"] == "jim"
    assert remote["options"]["password"] is True
    assert remote["options"]["token"] is False
    assert remote["options"]["default"] is False
    assert remote["redacted"] == ["password", "token"]
    assert svc.get("org", "/influxdb/localhost")["options"]["password"] is False


def test_defaults_without_base() -> None:
    svc = ConfigService(MemoryStore())
    [influx] = svc.get("org", "/influxdb")["elements"]
    assert influx["options"]["name"] == "default"
    assert influx["options"]["enabled"] is True
    assert influx["options"]["default"] is True
    assert influx["options"]["urls"] == []
    assert influx["options"]["startup-timeout"] == "5m0s"
    assert influx["options"]["subscription-mode"] == "cluster"
    assert svc.get("org", "/httppost") == {
        "link": {"rel": "self", "href": "/kapacitor/v1/config/httppost"},
        "elements": None,
    }
    [slack] = svc.get("org", "/slack")["elements"]
    assert slack["link"]["href"] == "/kapacitor/v1/config/slack/"
    assert slack["options"]["workspace"] == "" and slack["options"]["default"] is True
    assert slack["redacted"] == ["url", "token"]
    sns = svc.get("org", "/sns/")
    assert sns["redacted"] is None  # Go encodes a nil slice as null
    assert sns["options"] == {
        "enabled": False,
        "global": False,
        "region": "",
        "state-changes-only": False,
        "topic-arn": "",
    }
    assert svc.get("org", "/smtp/")["options"]["to"] is None  # a nil []string


def test_schemas_agree_with_handler_defaults() -> None:
    resolved = ConfigService(MemoryStore()).resolved("org")
    for name, defaults in DEFAULTS.items():
        spec = SECTIONS[name]
        element = spec.default_element()
        for key, value in defaults.items():
            assert key in element, (name, key)
            got = element[key]
            if value in ([], {}) and got is None:
                continue
            if name == "slack" and key == "default":
                continue
            assert got == value, (name, key)
        if not spec.is_list:
            assert {k: resolved[name][k] for k in defaults} == defaults


@pytest.mark.parametrize(
    ("rest", "status", "message"),
    [
        ("/", 400, "section not specified, do you have an extra trailing '/'?"),
        ("/nope", 404, "unknown section: nope"),
        ("/nope/", 404, "unknown section: nope"),
        ("/influxdb/missing", 404, "unknown section/element: influxdb/missing"),
        ("/influxdb/remote/", 404, "unknown section/element: influxdb/remote/"),
        ("/smtp/x", 404, "unknown section/element: smtp/x"),
        ("/httppost/", 404, "unknown section/element: httppost/"),
    ],
)
def test_get_errors(svc: ConfigService, rest: str, status: int, message: str) -> None:
    err = error(svc.get, "org", rest)
    assert (err.status, err.message) == (status, message)


def test_disabled_service_is_forbidden(store: MemoryStore) -> None:
    svc = ConfigService(store, enabled=False)
    for call in (lambda: svc.get("org", ""), lambda: svc.update("org", "/smtp/", {"set": {"port": 1}})):
        err = error(call)
        assert (err.status, err.message) == (403, "config override service is not enabled")


# --- POST: set / delete --------------------------------------------------------------------------------


def test_set_then_delete_restores_the_file_value(svc: ConfigService, store: MemoryStore) -> None:
    svc.update("org", "/smtp/", {"set": {"enabled": False, "port": "2525", "idle-timeout": "1m"}})
    opts = svc.get("org", "/smtp/")["options"]
    assert (opts["enabled"], opts["port"], opts["idle-timeout"]) == (False, 2525, "1m0s")
    assert store.docs[("org", "smtp/")] == {
        "id": "smtp/",
        "options": {"enabled": False, "port": "2525", "idle-timeout": "1m"},
        "create": False,
    }
    svc.update("org", "/smtp/", {"set": {"enabled": True, "host": "mail.example.com"}, "delete": ["port"]})
    opts = svc.get("org", "/smtp/")["options"]
    assert (opts["enabled"], opts["host"], opts["port"], opts["idle-timeout"]) == (
        True,
        "mail.example.com",
        587,
        "1m0s",
    )
    svc.update("org", "/smtp/", {"delete": ["enabled", "host", "idle-timeout"]})
    assert svc.get("org", "/smtp/") == ConfigService(MemoryStore(), SEED_BASE).get("org", "/smtp/")


def test_set_redacted_and_nested_values(svc: ConfigService) -> None:
    svc.update("org", "/influxdb/remote", {"set": {"password": "", "disable-subscriptions": True}})
    remote = svc.get("org", "/influxdb/remote")
    assert remote["options"]["password"] is False
    assert remote["options"]["disable-subscriptions"] is True
    svc.update(
        "org",
        "/influxdb/remote",
        {"set": {"subscriptions": {"db": ["rp1", "rp2"]}, "subscription-mode": "server"}},
    )
    opts = svc.get("org", "/influxdb/remote")["options"]
    assert opts["subscriptions"] == {"db": ["rp1", "rp2"]}
    assert opts["subscription-mode"] == "server"
    svc.update("org", "/influxdb/remote", {"set": {"http-port": 9092.9, "timeout": "1.5s"}})
    opts = svc.get("org", "/influxdb/remote")["options"]
    assert (opts["http-port"], opts["timeout"]) == (9092, "1.5s")


def test_empty_duration_text_keeps_the_value(svc: ConfigService) -> None:
    svc.update("org", "/smtp/", {"set": {"idle-timeout": ""}})
    assert svc.get("org", "/smtp/")["options"]["idle-timeout"] == "30s"


def test_set_on_a_list_section_without_element_applies_to_every_element(svc: ConfigService) -> None:
    svc.update("org", "/influxdb/", {"set": {"username": "all"}})
    assert [e["options"]["username"] for e in svc.get("org", "/influxdb")["elements"]] == ["all", "all"]


def test_null_body_is_a_no_op_that_still_needs_the_trailing_slash(svc: ConfigService) -> None:
    svc.update("org", "/smtp/", None)
    assert post_error(svc, "/smtp", None) == (
        400,
        "failed to apply update: invalid update action: element not specified, are you"
        " missing a trailing '/'?",
    )


@pytest.mark.parametrize(
    ("rest", "body", "message"),
    [
        ("", {"set": {}}, "no section specified"),
        (
            "/smtp/",
            [],
            "failed to decode JSON:json: cannot unmarshal array into Go value of type config.updateAction",
        ),
        (
            "/smtp/",
            3,
            "failed to decode JSON:json: cannot unmarshal number into Go value of type config.updateAction",
        ),
        (
            "/smtp/",
            "x",
            "failed to decode JSON:json: cannot unmarshal string into Go value of type config.updateAction",
        ),
        (
            "/smtp/",
            {"set": [1]},
            "failed to decode JSON:json: cannot unmarshal array into Go struct field updateAction.set"
            " of type map[string]interface {}",
        ),
        (
            "/smtp/",
            {"Delete": "port"},
            "failed to decode JSON:json: cannot unmarshal string into Go struct field"
            " updateAction.delete of type []string",
        ),
        (
            "/smtp/",
            {"delete": [1]},
            "failed to decode JSON:json: cannot unmarshal number into Go struct field"
            " updateAction.delete of type string",
        ),
        ("/", {"set": {"a": 1}}, "failed to apply update: invalid update action: must provide section name"),
        (
            "/sm.tp/",
            {"set": {"a": 1}},
            'failed to apply update: invalid update action: invalid section name "sm.tp"',
        ),
        (
            "/influxdb/a.b",
            {"set": {"a": 1}},
            'failed to apply update: invalid update action: invalid element name "a.b"',
        ),
        (
            "/influxdb",
            {"set": {"a": 1}, "add": {"name": "x"}},
            "failed to apply update: invalid update action:"
            " cannot provide both set/delete and add/remove actions in the same update",
        ),
        (
            "/influxdb/x",
            {"add": {"name": "x"}},
            "failed to apply update: invalid update action:"
            " must not provide an element name when adding an a new override",
        ),
        (
            "/influxdb/x",
            {"remove": ["x"]},
            "failed to apply update: invalid update action: must not provide element when"
            " removing an override",
        ),
        ("/nope", {"add": {"name": "x"}}, 'failed to apply update: unknown section "nope"'),
        (
            "/smtp",
            {"add": {"host": "x"}},
            'failed to apply update: section "smtp" is not a list, cannot add new element',
        ),
        ("/influxdb", {"add": {"urls": []}}, 'failed to apply update: missing key "name" in "add" map'),
        (
            "/influxdb",
            {"add": {"name": 1}},
            'failed to apply update: expected "name" key to be a string, got float64',
        ),
        (
            "/nope/",
            {"set": {"a": 1}},
            "failed to override configuration nope/: unknown options [a] in section nope",
        ),
        ("/nope/", {"set": {}}, "failed to override configuration nope/: unknown section nope"),
        (
            "/smtp/",
            {"set": {"zz": 1, "aa": 2}},
            "failed to override configuration smtp/: unknown options [aa zz] in section smtp",
        ),
        (
            "/smtp/x",
            {"set": {"port": 1}},
            "failed to override configuration smtp/x: unknown options [port] in section smtp",
        ),
        (
            "/influxdb/missing",
            {"set": {"username": "x"}},
            "failed to override configuration influxdb/missing: unknown options [username]"
            " in section influxdb",
        ),
        (
            "/influxdb/remote",
            {"set": {"name": "other"}},
            "failed to override configuration influxdb/remote: cannot override element key name",
        ),
        (
            "/smtp/",
            {"set": {"port": "abc"}},
            "failed to override configuration smtp/: cannot set option port: cannot convert"
            ' string "abc" into int',
        ),
        (
            "/smtp/",
            {"set": {"port": True}},
            "failed to override configuration smtp/: cannot set option port: cannot convert bool into int",
        ),
        (
            "/smtp/",
            {"set": {"host": 5}},
            "failed to override configuration smtp/: cannot set option host:"
            " wrong kind float64, expected value of kind string: false",
        ),
        (
            "/smtp/",
            {"set": {"enabled": "yes"}},
            "failed to override configuration smtp/: cannot set option enabled:"
            " wrong kind string, expected value of kind bool: false",
        ),
        (
            "/smtp/",
            {"set": {"to": "a@b.c"}},
            "failed to override configuration smtp/: cannot set option to:"
            " wrong kind string, expected value of kind slice: false",
        ),
        (
            "/smtp/",
            {"set": {"to": [1]}},
            "failed to override configuration smtp/: cannot set option to:"
            " failed to copy slice value: wrong kind float64, expected value of kind string: false",
        ),
        (
            "/smtp/",
            {"set": {"idle-timeout": 30}},
            "failed to override configuration smtp/: cannot set option idle-timeout: cannot"
            " unmarshal float64 into int64",
        ),
        (
            "/smtp/",
            {"set": {"idle-timeout": "soon"}},
            "failed to override configuration smtp/: cannot set option idle-timeout:"
            ' failed to unmarshal text: time: invalid duration "soon"',
        ),
        (
            "/smtp/",
            {"set": {"idle-timeout": None}},
            "failed to override configuration smtp/: cannot set option idle-timeout:"
            " reflect: call of reflect.Value.Type on zero Value",
        ),
        (
            "/smtp/",
            {"set": {"host": None}},
            "failed to override configuration smtp/: cannot set option host:"
            " wrong kind invalid, expected value of kind string: false",
        ),
        (
            "/influxdb/remote",
            {"set": {"subscriptions": {"db": "rp"}}},
            "failed to override configuration influxdb/remote: cannot set option subscriptions:"
            " failed to copy map value: wrong kind string, expected value of kind slice: false",
        ),
        (
            "/influxdb/remote",
            {"set": {"subscription-mode": "solo"}},
            "failed to override configuration influxdb/remote: cannot set option subscription-mode:"
            ' failed to unmarshal text: unknown subscription mode "solo"',
        ),
        (
            "/smtp/",
            {"set": {"host": ""}},
            "failed to override configuration smtp/: failed validation: host cannot be empty",
        ),
        (
            "/smtp/",
            {"set": {"port": 0}},
            "failed to override configuration smtp/: failed validation: invalid port 0",
        ),
        (
            "/smtp/",
            {"set": {"idle-timeout": "-1s"}},
            "failed to override configuration smtp/: failed validation: idle timeout must be positive",
        ),
        (
            "/smtp/",
            {"set": {"from": ""}},
            "failed to override configuration smtp/: failed validation: must provide a 'from' address",
        ),
        (
            "/smtp/",
            {"set": {"to": ["nobody"]}},
            "failed to override configuration smtp/: failed validation:"
            " invalid to email address: \"nobody\", mail: missing '@' or angle-addr",
        ),
        (
            "/influxdb/remote",
            {"set": {"urls": []}},
            "failed to override configuration influxdb/remote: failed validation: must"
            " specify at least one InfluxDB URL",
        ),
        (
            "/influxdb/remote",
            {"set": {"compression": "zstd"}},
            "failed to override configuration influxdb/remote: failed validation:"
            " Invalid compression, must be one of 'gzip' or 'none', got zstd",
        ),
        (
            "/slack/",
            {"set": {"enabled": True}},
            "failed to override configuration slack/: failed validation: must specify url",
        ),
        (
            "/opsgenie2/",
            {"set": {"enabled": True}},
            "failed to override configuration opsgenie2/: failed validation: api-key cannot be empty",
        ),
        (
            "/telegram/",
            {"set": {"enabled": True}},
            "failed to override configuration telegram/: failed validation: must specify token",
        ),
        (
            "/teams/",
            {"set": {"enabled": True}},
            "failed to override configuration teams/: failed validation: must specify Teams"
            " channel webhook URL",
        ),
        (
            "/pagerduty2/",
            {"set": {"url": ""}},
            "failed to override configuration pagerduty2/: failed validation: url cannot be empty",
        ),
        (
            "/alerta/",
            {"set": {"url": "://x"}},
            'failed to override configuration alerta/: failed validation: invalid url "://x": parse "://x":'
            " missing protocol scheme",
        ),
    ],
)
def test_post_errors(svc: ConfigService, store: MemoryStore, rest: str, body: Any, message: str) -> None:
    assert post_error(svc, rest, body) == (400, message)
    assert store.docs == {}  # nothing is saved when an update fails


# --- POST: add / remove --------------------------------------------------------------------------------


def test_add_and_remove_an_influxdb_cluster(svc: ConfigService, store: MemoryStore) -> None:
    body = {
        "add": {
            "name": "example",
            "urls": ["https://influxdb.example.com:8086"],
            "default": True,
            "disable-subscriptions": True,
        }
    }
    svc.update("org", "/influxdb", body)
    assert store.docs[("org", "influxdb/example")]["create"] is True
    names = [e["options"]["name"] for e in svc.get("org", "/influxdb")["elements"]]
    assert names == ["example", "localhost", "remote"]
    example = svc.get("org", "/influxdb/example")["options"]
    assert example["enabled"] is False  # Init() leaves enabled unset, as in Kapacitor
    assert example["udp-buffer"] == 1000 and example["compression"] == "gzip"
    assert example["disable-subscriptions"] is True
    svc.update("org", "/influxdb/example", {"set": {"disable-subscriptions": False}, "delete": ["default"]})
    example = svc.get("org", "/influxdb/example")["options"]
    assert (example["disable-subscriptions"], example["default"]) == (False, False)
    assert store.docs[("org", "influxdb/example")]["create"] is True
    assert post_error(svc, "/influxdb", {"add": {"name": "example"}}) == (
        400,
        "failed to apply update: cannot add new override, override already exists for influxdb/example",
    )
    svc.update("org", "/influxdb", {"remove": ["example"]})
    assert [e["options"]["name"] for e in svc.get("org", "/influxdb")["elements"]] == ["localhost", "remote"]
    assert store.docs == {}


def test_adding_an_element_the_file_has_fails_as_a_duplicate(svc: ConfigService) -> None:
    assert post_error(svc, "/influxdb", {"add": {"name": "remote"}}) == (
        400,
        'failed to read sections from configuration object: section "influxdb" has'
        ' duplicate elements: "remote"',
    )


def test_added_element_is_validated(svc: ConfigService) -> None:
    assert post_error(svc, "/httppost", {"add": {"endpoint": "hook"}}) == (
        400,
        "failed to override configuration httppost/: failed validation: must specify url",
    )
    assert post_error(svc, "/influxdb", {"add": {"name": "a b"}}) == (
        400,
        "failed to override configuration influxdb/: failed validation:"
        " influxdb cluster name must contain only numbers, letters or '.', '-', and '_' characters",
    )


def test_removing_a_file_element_only_drops_its_override(svc: ConfigService) -> None:
    svc.update("org", "/influxdb/remote", {"set": {"username": "ann"}})
    svc.update("org", "/influxdb", {"remove": ["remote", "never-added"]})
    assert svc.get("org", "/influxdb/remote")["options"]["username"] == "jim"


def test_httppost_endpoint_with_basic_auth(svc: ConfigService) -> None:
    svc.update(
        "org",
        "/httppost",
        {"add": {"endpoint": "hook", "url": "https://h.example.com/{{.ID}}", "headers": {"X-A": "1"}}},
    )
    hook = svc.get("org", "/httppost/hook")
    assert hook["options"]["basic-auth"] is False
    assert hook["redacted"] == ["basic-auth"]
    svc.update("org", "/httppost/hook", {"set": {"basic-auth": {"Username": "u", "password": "p"}}})
    assert svc.get("org", "/httppost/hook")["options"]["basic-auth"] is True
    assert svc.resolved("org")["httppost"] == [
        {
            "endpoint": "hook",
            "url": "https://h.example.com/{{.ID}}",
            "headers": {"X-A": "1"},
            "basic-auth": {"username": "u", "password": "p"},
            "alert-template": "",
            "alert-template-file": "",
            "row-template": "",
            "row-template-file": "",
        }
    ]
    status, message = post_error(svc, "/httppost/hook", {"set": {"basic-auth": {"user": "x", "password": 1}}})
    assert status == 400
    assert message == (
        # the override is the created element's, whose element Kapacitor reports as ""
        "failed to override configuration httppost/: cannot set option basic-auth:"
        " failed to decode options into *httppost.BasicAuth: 2 error(s) decoding:\n\n"
        "* 'Password' expected type 'string', got unconvertible type 'float64', value: '1'\n"
        "* '' has invalid keys: user"
    )


def test_slack_workspaces(svc: ConfigService) -> None:
    svc.update(
        "org", "/slack/", {"set": {"enabled": True, "url": "https://hooks.slack.com/x", "channel": "#a"}}
    )
    svc.update("org", "/slack", {"add": {"workspace": "team2", "url": "https://hooks.slack.com/y"}})
    slack = svc.resolved("org")["slack"]
    assert [(w["workspace"], w["default"], w["enabled"]) for w in slack] == [
        ("", True, True),
        ("team2", False, False),
    ]
    assert slack[1]["username"] == ""  # a created element starts from the zero value, as in Kapacitor
    assert svc.get("org", "/slack/team2")["options"]["url"] is True


# --- organizations and resolution ----------------------------------------------------------------------


def test_organizations_are_isolated(svc: ConfigService) -> None:
    svc.update("org", "/pagerduty2/", {"set": {"enabled": True, "routing-key": "k"}})
    assert svc.get("org", "/pagerduty2/")["options"]["routing-key"] is True
    assert svc.get("other", "/pagerduty2/")["options"]["routing-key"] is False
    svc.update("other", "/influxdb", {"add": {"name": "mine"}})
    assert error(svc.get, "org", "/influxdb/mine").status == 404


def test_resolved_values_are_unredacted_and_in_handler_forms(svc: ConfigService) -> None:
    svc.update("org", "/smtp/", {"set": {"idle-timeout": "1m30s"}})
    svc.update("org", "/opsgenie2/", {"set": {"teams": ["ops"]}})
    conf = svc.resolved("org")
    assert conf["smtp"]["password"] == "pw"
    assert conf["smtp"]["idle-timeout"] == MINUTE + 30 * SECOND
    assert conf["smtp"]["to-templates"] == []
    assert conf["opsgenie2"]["teams"] == ["ops"] and conf["opsgenie2"]["recipients"] == []
    assert [c["name"] for c in conf["influxdb"]] == ["localhost", "remote"]
    assert conf["influxdb"][1]["password"] == "s3cret"
    assert conf["influxdb"][0]["subscription-mode"] == "cluster"
    assert conf["influxdb"][0]["subscriptions"] == {}
    assert conf["sns"] == DEFAULTS["sns"]
    assert conf["httppost"] == []


def test_a_stored_override_that_no_longer_applies_is_an_internal_error(store: MemoryStore) -> None:
    # an element added through the API that the file configuration now also has
    store.put("org", {"id": "influxdb/remote", "options": {"name": "remote"}, "create": True})
    svc = ConfigService(store, SEED_BASE)
    err = error(svc.get, "org", "")
    assert err.status == 500
    assert err.message.startswith("failed to resolve current config:failed to apply configuration overrides:")


def test_invalid_base_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown configuration section"):
        ConfigService(MemoryStore(), {"nope": [{}]})
    with pytest.raises(ValueError, match="unknown option"):
        ConfigService(MemoryStore(), {"smtp": [{"nope": 1}]})


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("30s", 30 * SECOND),
        ("1m0s", MINUTE),
        ("1.5s", 1_500_000_000),
        ("-2h", -7200 * SECOND),
        ("1µs", 1000),
    ],
)
def test_parse_duration(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("1", 'time: missing unit in duration "1"'),
        ("1x", 'time: unknown unit "x" in duration "1x"'),
        (".s", 'time: invalid duration ".s"'),
    ],
)
def test_parse_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_KEYS = st.sampled_from(
    ["set", "delete", "add", "remove", "name", "endpoint", "workspace", "port", "to", "basic-auth"]
)
_BODIES = _JSON | st.dictionaries(_KEYS, _JSON | st.dictionaries(_KEYS, _JSON, max_size=3), max_size=3)
_PATHS = st.sampled_from(
    ["", "/", "/smtp", "/smtp/", "/influxdb", "/influxdb/remote", "/httppost", "/slack/", "/x/"]
)


@settings(max_examples=300, deadline=None)
@given(rest=_PATHS, body=_BODIES)
def test_any_body_fails_only_with_tickless_errors(rest: str, body: Any) -> None:
    svc = ConfigService(MemoryStore(), SEED_BASE)
    try:
        svc.update("org", rest, body)
    except TicklessError as err:
        assert err.status == 400
    svc.get("org", "")  # whatever was saved still applies
    svc.resolved("org")


def test_decimal_numbers_from_the_store_apply(store: MemoryStore) -> None:
    """DynamoDB hands numbers back as Decimal."""
    from decimal import Decimal

    store.put("org", {"id": "smtp/", "options": {"port": Decimal(2525)}, "create": False})
    assert ConfigService(store, SEED_BASE).get("org", "/smtp/")["options"]["port"] == 2525
