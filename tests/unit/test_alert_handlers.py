"""The handler kind registry: option decoding and its errors as Kapacitor words them, topic handler
specs, the TICKscript property handlers, and the aggregate / publish kinds."""

# ruff: noqa: E501 -- Kapacitor's error texts stay whole, one per line

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.handler_aggregate import AggregateState, aggregate_message, publish
from chalicelib.alert.handler_specs import HandlerSpec, already_exists, check_update
from chalicelib.alert.handler_tick import finish_tick_handler, start_tick_handler
from chalicelib.alert.handlers import (
    KINDS,
    HandlerConfig,
    create,
    file_mode_string,
    forces_state_changes_only,
    global_kinds,
    go_quote,
)
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.syntax import ParseError
from chalicelib.tick.values import Duration

MS = 1_000_000


def error_of(fn, *args, **kw) -> TicklessError:
    with pytest.raises(TicklessError) as info:
        fn(*args, **kw)
    return info.value


# --- options ---------------------------------------------------------------------------------------


def test_every_kind_is_registered() -> None:
    assert set(KINDS) == {
        "log", "post", "tcp", "smtp", "slack", "pagerduty2", "opsgenie2",
        "telegram", "teams", "sns", "aggregate", "publish",
    }  # fmt: skip


def test_defaults_fill_missing_options() -> None:
    assert create("slack", {"channel": "#test"}).options == {
        "workspace": "",
        "channel": "#test",
        "username": "",
        "icon-emoji": "",
    }
    assert create("log", {"path": "/tmp/alert.log"}).options == {"path": "/tmp/alert.log", "mode": 0o600}
    assert create("aggregate", {"id": "id-agg", "interval": 100 * MS, "topic": "tcp"}).options["message"] == (
        "Received {{ .Count }} events in the last {{.Interval}}."
    )
    assert create("tcp", None).options == {"address": ""}


def test_options_as_the_server_tests_send_them() -> None:
    config = create(
        "pagerduty2",
        {
            "routing-key": "rkey",
            "links": [
                {"href": "http://example.com", "text": "t1"},
                {"href": "http://example.com/{{.TaskName}}", "text": "t2"},
            ],
        },
    )
    assert config.options["links"][1] == {"href": "http://example.com/{{.TaskName}}", "text": "t2"}
    assert create("smtp", {"to": ["oncall@example.com"]}).options == {
        "to": ["oncall@example.com"],
        "to-field": [],
    }
    assert create("log", {"path": "/tmp/a.log", "mode": 0o604}).options["mode"] == 0o604
    # a JSON number of nanoseconds for a duration; a float is truncated as Go converts it
    assert create("post", {"url": "http://x", "timeout": 1.9e9}).options["timeout"] == 1_900_000_000


def test_keys_match_case_insensitively_and_nulls_keep_defaults() -> None:
    assert create("slack", {"CHANNEL": "#a", "username": None}).options["channel"] == "#a"
    assert create("log", {"path": "/p", "mode": None}).options["mode"] == 0o600


def test_unknown_keys() -> None:
    err = error_of(create, "slack", {"channel": "#a", "zeta": 1, "alpha": 2})
    assert err.message == (
        "failed to decode options into *slack.HandlerConfig: 1 error(s) decoding:\n\n* '' has invalid keys: alpha, zeta"
    )
    assert err.status == 400


def test_type_errors_are_all_listed_sorted() -> None:
    err = error_of(create, "telegram", {"chat-id": 5, "disable-notification": "yes", "parse-mode": True})
    assert err.message == (
        "failed to decode options into *telegram.HandlerConfig: 3 error(s) decoding:\n\n"
        "* 'chat-id' expected type 'string', got unconvertible type 'float64', value: '5'\n"
        "* 'disable-notification' expected type 'bool', got unconvertible type 'string', value: 'yes'\n"
        "* 'parse-mode' expected type 'string', got unconvertible type 'bool', value: 'true'"
    )


@pytest.mark.parametrize(
    ("kind", "options", "error"),
    [
        ("post", {"timeout": "10s"}, "'timeout' expected type 'time.Duration', got unconvertible type 'string', value: '10s'"),
        ("smtp", {"to": "a@b"}, "'to': source data must be an array or slice, got string"),
        ("smtp", {"to": ["a@b", 7]}, "'to[1]' expected type 'string', got unconvertible type 'float64', value: '7'"),
        ("post", {"headers": "x"}, "'headers' expected a map, got 'string'"),
        ("post", {"headers": {"A": 1}}, "'headers[A]' expected type 'string', got unconvertible type 'float64', value: '1'"),
        ("pagerduty2", {"links": ["x"]}, "'links[0]' expected a map, got 'string'"),
        ("pagerduty2", {"links": [{"href": "h", "url": "u"}]}, "'links[0]' has invalid keys: url"),
        ("pagerduty2", {"links": [{"href": 1}]}, "'links[0].href' expected type 'string', got unconvertible type 'float64', value: '1'"),
        ("log", {"mode": -1}, "cannot parse 'mode', -1.000000 overflows uint"),
        ("slack", {"channel": 1234567.0}, "'channel' expected type 'string', got unconvertible type 'float64', value: '1.234567e+06'"),
        ("slack", {"channel": [1, "a"]}, "'channel' expected type 'string', got unconvertible type '[]interface {}', value: '[1 a]'"),
        ("slack", {"channel": {"b": 1, "a": True}}, "'channel' expected type 'string', got unconvertible type 'map[string]interface {}', value: 'map[a:true b:1]'"),
    ],
)  # fmt: skip
def test_each_option_type_error(kind: str, options: dict, error: str) -> None:
    go_type = KINDS[kind].go_type
    assert error_of(create, kind, options).message == (
        f"failed to decode options into *{go_type}: 1 error(s) decoding:\n\n* {error}"
    )


def test_options_must_be_an_object() -> None:
    assert error_of(create, "tcp", ["x"]).message.endswith("* '' expected a map, got 'slice'")


def test_log_checks() -> None:
    assert error_of(create, "log", {"path": "/p", "mode": 0o444}).message == (
        "invalid file mode -r--r--r--, must be user writable"
    )
    assert (
        error_of(create, "log", {"path": "alert.log"}).message
        == "log path must be absolute: alert.log is not absolute"
    )
    assert file_mode_string(0o604) == "-rw----r--"


def test_post_needs_url_or_a_configured_endpoint() -> None:
    assert error_of(create, "post", {}).message == (
        "An appropriately formatted url must be specified if an endpoint is not specified"
    )
    configs = {"httppost": [{"endpoint": "test", "url": "http://x"}]}
    assert create("post", {"endpoint": "test"}, configs).options["endpoint"] == "test"
    assert error_of(create, "post", {"endpoint": "other"}, configs).message.startswith("An appropriately")


def test_templates_are_checked_at_creation() -> None:
    err = error_of(create, "aggregate", {"interval": 1, "message": "{{ .Count"})
    assert (err.message, err.status) == ("template: message:1: unclosed action", 400)
    assert error_of(create, "aggregate", {"interval": 1, "message": "{{ .Foo }}"}).message == (
        "failed to evaluate message template with aggregate message data: template: message:1:3: "
        'executing "message" at <.Foo>: can\'t evaluate field Foo in type alert.aggregateMessageData'
    )
    assert error_of(create, "post", {"url": "http://x/{{"}).message == (
        "failed to parse template: template: body:1: unclosed action"
    )
    assert error_of(create, "pagerduty2", {"links": [{"href": "{{ .X "}]}).message == (
        "template: href:1: unclosed action"
    )


def test_unsupported_kinds() -> None:
    assert error_of(create, "alerta", {}).message == 'unsupported action kind "alerta"'
    assert error_of(create, "exec", {"prog": "/bin/sh"}).message == (
        'unsupported action kind "exec": tickless cannot run local processes'
    )


def test_aggregate_interval_must_be_positive() -> None:
    assert error_of(create, "aggregate", {"id": "a"}).message == "aggregate interval must be positive, got 0"


def test_handler_config_state_round_trip() -> None:
    config = create("opsgenie2", {"teams-list": ["A team"]})
    assert HandlerConfig.from_state(json.loads(json.dumps(config.to_state()))) == config


# --- topic handler specs ---------------------------------------------------------------------------


def test_spec_round_trips_in_kapacitors_shape() -> None:
    spec = HandlerSpec.from_json(
        "system", {"id": "slack", "kind": "slack", "options": {"channel": "#alerts"}}
    )
    spec.validate()
    assert spec.to_json() == {
        "link": {"rel": "self", "href": "/kapacitor/v1/alerts/topics/system/handlers/slack"},
        "id": "slack",
        "kind": "slack",
        "options": {"channel": "#alerts"},
        "match": "",
    }
    assert HandlerSpec.from_state(json.loads(json.dumps(spec.to_state()))) == spec


def test_spec_without_options_shows_null_and_keeps_match_text() -> None:
    spec = HandlerSpec.from_json(
        "cpu", {"id": "h", "kind": "log", "match": "changed() == TRUE", "topic": "x"}
    )
    assert spec.topic == "cpu"
    assert spec.to_json()["options"] is None
    assert spec.to_json()["match"] == "changed() == TRUE"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"id": 5}, "json: cannot unmarshal number into Go struct field HandlerSpec.id of type string"),
        ({"id": "a", "options": "x"}, "json: cannot unmarshal string into Go struct field HandlerSpec.options of type map[string]interface {}"),
        ([], "json: cannot unmarshal array into Go value of type alert.HandlerSpec"),
    ],
)  # fmt: skip
def test_spec_json_errors(body: object, error: str) -> None:
    assert error_of(HandlerSpec.from_json, "t", body).message == error


def test_spec_validation() -> None:
    assert error_of(HandlerSpec("bad id", "t", "log").validate).message == (
        "handler ID must contain only letters, numbers, '-', '.' and '_'. \"bad id\""
    )
    # Kapacitor names the handler ID in the topic's message too
    assert error_of(HandlerSpec("h", "bad/topic", "log").validate).message == (
        "handler topic must contain only letters, numbers, '-', '.' and '_'. \"h\""
    )
    assert error_of(HandlerSpec("h", "t", "").validate).message == "handler Kind must not be empty"
    HandlerSpec("é-h.1_x", "main:task:alert2", "slack").validate()


def test_go_quote() -> None:
    assert go_quote('a"b\n\x01é') == '"a\\"b\\n\\x01é"'


# --- kapacitor.conf globals ------------------------------------------------------------------------


def test_global_handlers_and_state_changes_only() -> None:
    configs = {
        "slack": [{"enabled": True, "global": True, "state-changes-only": True}],
        "smtp": {"global": False},
    }
    assert global_kinds(configs) == ["slack"]
    assert forces_state_changes_only(configs)
    assert not forces_state_changes_only({"pagerduty2": {"global": True}})


# --- TICKscript property handlers ------------------------------------------------------------------


def test_tick_slack_properties() -> None:
    call = start_tick_handler("slack", [])
    call.set_property("channel", ["#alerts"])
    call.set_property("iconEmoji", [":smile:"])
    assert finish_tick_handler(call) == HandlerConfig(
        "slack", {"workspace": "", "channel": "#alerts", "username": "", "icon-emoji": ":smile:"}
    )


def test_tick_email_to_appends() -> None:
    call = start_tick_handler("email", ["admin@example.com"])
    call.set_property("to", ["oncall@example.com", "support@example.com"])
    call.set_property("toTemplates", ['{{ index .Tags "owner" }}'])
    options = finish_tick_handler(call).options
    assert options["to"] == ["admin@example.com", "oncall@example.com", "support@example.com"]
    assert options["to-field"] == ['{{ index .Tags "owner" }}']


def test_tick_post_properties() -> None:
    call = start_tick_handler("post", ["http://example.com"])
    call.set_property("header", ["x-a", "b"])
    call.set_property("timeout", [Duration(10_000_000_000)])
    call.set_property("captureResponse", [])
    options = finish_tick_handler(call).options
    assert options["headers"] == {"x-a": "b"}
    assert options["timeout"] == 10_000_000_000
    assert options["capture-response"] is True
    auth = start_tick_handler("post", ["http://x"])
    assert (
        error_of(auth.set_property, "header", ["Authenticate", "x"]).message
        == "cannot set 'authenticate' header"
    )
    assert error_of(finish_tick_handler, start_tick_handler("post", [])).message == (
        "Either URL or endpoint must be non-empty"
    )


def test_tick_pagerduty2_links_and_service_key() -> None:
    call = start_tick_handler("pagerDuty2", [])
    call.set_property("serviceKey", ["skey"])
    call.set_property("link", ["https://grafana.example.com/", "Overview"])
    call.set_property("link", ["https://example.com/"])
    options = finish_tick_handler(call).options
    assert options["routing-key"] == "skey"
    assert options["links"] == [
        {"href": "https://grafana.example.com/", "text": "Overview"},
        {"href": "https://example.com/", "text": ""},
    ]


def test_tick_log_mode() -> None:
    assert finish_tick_handler(start_tick_handler("log", ["/tmp/alert"])).options["mode"] == 0o600
    call = start_tick_handler("log", ["/tmp/alert"])
    call.set_property("mode", [0o644])
    assert finish_tick_handler(call).options["mode"] == 0o644
    call = start_tick_handler("log", ["tmp/alert"])
    assert error_of(finish_tick_handler, call).message == (
        "failed to create log alert handler: log path must be absolute: tmp/alert is not absolute"
    )


def test_tick_telegram_opsgenie_teams_tcp() -> None:
    tel = start_tick_handler("telegram", [])
    tel.set_property("chatId", ["123"])
    tel.set_property("disableNotification", [])
    assert finish_tick_handler(tel).options["disable-notification"] is True
    og = start_tick_handler("opsGenie2", [])
    og.set_property("teams", ["a", "b"])
    og.set_property("teams", ["c"])
    og.set_property("recoveryAction", ["close"])
    assert finish_tick_handler(og).options == {
        "teams-list": ["c"],
        "recipients-list": [],
        "recovery_action": "close",
    }
    teams = start_tick_handler("teams", [])
    teams.set_property("channelURL", ["https://outlook.office.com/webhook/x"])
    assert finish_tick_handler(teams).options == {"channel-url": "https://outlook.office.com/webhook/x"}
    assert finish_tick_handler(start_tick_handler("tcp", ["localhost:9000"])).options == {
        "address": "localhost:9000"
    }


def test_tick_errors() -> None:
    slack = start_tick_handler("slack", [])
    assert (
        error_of(slack.set_property, "color", ["x"]).message == "no property Color on *pipeline.SlackHandler"
    )
    assert error_of(slack.set_property, "channel", ["a", "b"]).message == (
        "too many arguments to set property Channel on *pipeline.SlackHandler"
    )
    assert error_of(slack.set_property, "channel", [5]).message == (
        "reflect.Set: value of type int64 is not assignable to type string"
    )
    assert error_of(start_tick_handler, "tcp", []).message == "reflect: Call with too few input arguments"
    assert error_of(start_tick_handler, "tcp", [1.5]).message == "reflect: Call using float64 as type string"
    assert error_of(start_tick_handler, "exec", ["/bin/sh"]).message == (
        "exec handler is not supported: tickless cannot run local processes"
    )
    assert error_of(start_tick_handler, "foo", []).message == "unknown method foo on *pipeline.AlertNode"


# --- aggregate and publish -------------------------------------------------------------------------


def event(value: float, at_ms: int, level: Level = Level.CRITICAL) -> AlertEvent:
    series = [{"name": "alert", "columns": ["time", "value"], "values": [[f"t{at_ms}", value]]}]
    return AlertEvent("id", "message", "details", at_ms * MS, at_ms * MS, level, data={"series": series})


def test_aggregate_combines_events_at_the_tick() -> None:
    config = create("aggregate", {"id": "id-agg", "interval": 100 * MS, "topic": "tcp"})
    state = AggregateState.start(now=0)
    for i, value in enumerate((3.0, 4.0, 2.0)):
        state.add(event(value, i, Level.CRITICAL if value > 1 else Level.OK))
    assert state.tick(config, now=99 * MS) == []
    state = AggregateState.from_state(json.loads(json.dumps(state.to_state())))
    [collected] = state.tick(config, now=110 * MS)
    assert collected.topic == "tcp"
    assert not collected.no_external
    agg = collected.event
    assert (agg.id, agg.message, agg.details) == (
        "id-agg",
        "Received 3 events in the last 100ms.",
        "message\nmessage\nmessage",
    )
    assert (agg.time, agg.duration, agg.level, agg.recoverable) == (2 * MS, 2 * MS, Level.CRITICAL, False)
    assert [s["values"][0][1] for s in agg.data["series"]] == [3.0, 4.0, 2.0]
    assert state.tick(config, now=250 * MS) == []  # nothing buffered since
    assert state.last_tick == 200 * MS


def test_aggregate_of_no_external_events_stays_no_external() -> None:
    config = create("aggregate", {"id": "a", "interval": 10, "topic": "t"})
    state = AggregateState.start(now=0)
    state.add(event(1.0, 0), no_external=True)
    assert state.tick(config, now=10)[0].no_external


def test_aggregate_message_template() -> None:
    assert aggregate_message("{{.Count}} in {{.Interval}}", 2, 60_000_000_000) == "2 in 1m0s"
    assert aggregate_message("plain", 2, 1) == "plain"
    seen = []

    def render(text: str, data: object, **kw: object) -> str:
        seen.append(kw)
        return "custom"

    assert aggregate_message("x", 1, 1, render) == "custom"
    assert seen == [{"name": "message"}]


def test_publish_sends_the_event_to_each_topic() -> None:
    config = create("publish", {"topics": ["a", "b"]})
    ev = event(1.0, 0)
    assert [(c.topic, c.event) for c in publish(config, ev)] == [("a", ev), ("b", ev)]


# --- hostile input ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False)
    | st.integers(-(2**70), 2**70)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(KINDS)), st.dictionaries(st.text(max_size=15), json_values, max_size=6))
def test_fuzz_options_never_crash(kind: str, options: dict) -> None:
    with contextlib.suppress(TicklessError, ParseError):
        create(kind, options)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_spec_text_never_crashes(text: str) -> None:
    try:
        body = json.loads(text)
    except ValueError:
        body = {"id": text, "kind": text, "match": text, "options": {text: text}}
    try:
        spec = HandlerSpec.from_json("topic", body)
        spec.validate()
        create(spec.kind, spec.options)
    except TicklessError:
        pass


def test_disabled_kinds_create_a_handler_that_does_nothing() -> None:
    config = create("alerta", {"anything": 1}, disabled=frozenset({"alerta"}))
    assert (config.kind, config.disabled) == ("alerta", True)


def test_patch_and_put() -> None:
    old = HandlerSpec.from_json(
        "system", {"id": "myhandler", "kind": "slack", "options": {"channel": "#test"}}
    )
    patched = dict(old.to_state(), kind="log", options={"path": "/tmp/alert.log"})
    new = HandlerSpec.from_json("system", patched, patched=True)
    check_update(old, new)
    assert new.to_json() == {
        "link": {"rel": "self", "href": "/kapacitor/v1/alerts/topics/system/handlers/myhandler"},
        "id": "myhandler",
        "kind": "log",
        "options": {"path": "/tmp/alert.log"},
        "match": "",
    }
    moved = HandlerSpec.from_json("system", dict(patched, topic="other"), patched=True)
    err = error_of(check_update, old, moved)
    assert (err.message, err.status) == ("cannot change topic in update", 400)
    put = HandlerSpec.from_json("system", {"id": "newid", "kind": "smtp", "topic": "other"})
    assert put.topic == "system"
    assert (
        already_exists("slack").message == 'cannot register handler, handler with ID "slack" already exists'
    )


def test_null_elements_keep_their_zero_value() -> None:
    assert create("smtp", {"to": [None, "a@b"]}).options["to"] == ["", "a@b"]
    assert create("pagerduty2", {"links": [None]}).options["links"] == [{"href": "", "text": ""}]
