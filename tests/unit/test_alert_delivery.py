"""What each handler kind sends for an event, byte for byte as Kapacitor's services send it (expected
payloads from Kapacitor's server tests), and Go's JSON encoding they rely on."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.alert.delivery import Delivery, DeliveryError, canonical_header, pagerduty_timestamp, render
from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.handler_json import go_g, go_json
from chalicelib.alert.handler_templates import event_data, template_data
from chalicelib.kit.errors import TicklessError

SERIES = {
    "series": [{"name": "alert", "columns": ["time", "value"], "values": [["1970-01-01T00:00:00Z", 1.0]]}]
}
ALERT_JSON = (
    '{"id":"id","message":"message","details":"details","time":"1970-01-01T00:00:00Z","duration":0,'
    '"level":"CRITICAL","data":{"series":[{"name":"alert","columns":["time","value"],'
    '"values":[["1970-01-01T00:00:00Z",1]]}]},"previousLevel":"OK","recoverable":true}'
)
RESULT_JSON = '{"series":[{"name":"alert","columns":["time","value"],"values":[["1970-01-01T00:00:00Z",1]]}]}'


def make_event(level: Level = Level.CRITICAL, **kw) -> AlertEvent:
    values = {
        "id": "id",
        "message": "message",
        "details": "details",
        "time": 0,
        "duration": 0,
        "level": level,
    }
    values.update(data=SERIES, task="testAlertHandlers")
    values.update(kw)
    return AlertEvent(**values)


def body_json(delivery: Delivery) -> object:
    return json.loads(delivery.body)


def error_of(*args, **kw) -> str:
    with pytest.raises(DeliveryError) as info:
        render(*args, **kw)
    return info.value.message


# --- go_json ---------------------------------------------------------------------------------------


def test_go_json_escapes_html_and_formats_floats_as_go() -> None:
    assert go_json({"a": "<b>&é\u2028", "n": [1.0, 0.5, 1e21, 1e-7, 123456789.0, -0.0, 3]}) == (
        '{"a":"\\u003cb\\u003e\\u0026é\\u2028","n":[1,0.5,1e+21,1e-7,123456789,-0,3]}'
    )
    assert go_json("\b\f\x01") == '"\\b\\f\\u0001"'
    assert go_json(None, newline=True) == "null\n"


def test_go_json_refuses_nan() -> None:
    with pytest.raises(TicklessError, match="json: unsupported value: NaN"):
        go_json(float("nan"))


def test_go_v_float() -> None:
    assert [go_g(v) for v in (5.0, 1e6, 123456.0, 0.0001, 0.00001, 1.5)] == [
        "5",
        "1e+06",
        "123456",
        "0.0001",
        "1e-05",
        "1.5",
    ]


# --- the kinds, as Kapacitor's TestServer_AlertHandlers expects them -------------------------------


def test_post_sends_alert_data_json() -> None:
    d = render("post", {"url": "http://localhost:8080/alert"}, None, make_event())
    assert (d.transport, d.method, d.target) == ("http", "POST", "http://localhost:8080/alert")
    assert d.body == (ALERT_JSON + "\n").encode()
    assert d.headers == {"Content-Type": "application/json"}
    assert d.params == {"timeout": 0, "skip-ssl-verification": False, "capture-response": False}


def test_post_endpoint_with_alert_template_headers_and_basic_auth() -> None:
    config = [
        {
            "endpoint": "test",
            "url": "http://hooks/{{.ID}}",
            "alert-template": "{{.Message}}",
            "headers": {"x-token": "t"},
            "basic-auth": {"username": "u", "password": "p"},
        }
    ]
    d = render("post", {"endpoint": "test", "headers": {"content-type": "text/plain"}}, config, make_event())
    assert (d.target, d.body) == ("http://hooks/id", b"message")
    assert d.headers == {"Authorization": "Basic dTpw", "X-Token": "t", "Content-Type": "text/plain"}


@pytest.mark.parametrize(
    ("template", "body"),
    [
        # TestServer_AlertJSON: normal_json and compact-json
        ("{{ json . }}", ALERT_JSON + "\n"),
        ("{{ jsonCompact . }}", ALERT_JSON),
        (
            "{{ .Level }} {{ .Time }} {{ .Duration }} {{ .PreviousLevel }}",
            "CRITICAL 1970-01-01 00:00:00 +0000 UTC 0s OK",
        ),
    ],
)
def test_post_alert_templates(template: str, body: str) -> None:
    config = {"endpoint": "test", "url": "http://x", "alert-template": template}
    assert render("post", {"endpoint": "test"}, config, make_event()).body == body.encode()


def test_template_errors_stop_the_delivery() -> None:
    config = {"endpoint": "test", "url": "http://x", "alert-template": "{{ .Nope }}"}
    assert error_of("post", {"endpoint": "test"}, config, make_event()) == (
        'template: body:1:3: executing "body" at <.Nope>: can\'t evaluate field Nope in type alert.Data'
    )


def test_an_injected_template_renderer() -> None:
    calls = []

    def render_template(text: str, data: object, **kw: object) -> str:
        calls.append((text, kw))
        return "http://elsewhere"

    d = render("post", {"url": "http://x/{{.ID}}"}, None, make_event(), render_template=render_template)
    assert d.target == "http://elsewhere"
    assert calls == [("http://x/{{.ID}}", {"name": "body", "funcs": frozenset({"json", "jsonCompact"})})]


def test_post_bad_url_scheme() -> None:
    assert error_of("post", {"url": "localhost:8080"}, None, make_event()) == (
        'Post "localhost:8080": unsupported protocol scheme "localhost"'
    )


def test_tcp_writes_the_json_line_and_one_more_newline() -> None:
    d = render("tcp", {"address": "localhost:9999"}, None, make_event())
    assert (d.transport, d.target, d.body) == ("tcp", "localhost:9999", (ALERT_JSON + "\n\n").encode())


def test_log_line() -> None:
    d = render("log", {"path": "/var/log/alert.log", "mode": 0o604}, None, make_event())
    assert (d.transport, d.target, d.params, d.body) == (
        "log",
        "/var/log/alert.log",
        {"mode": 0o604},
        (ALERT_JSON + "\n").encode(),
    )


def test_slack() -> None:
    conf = [{"enabled": True, "url": "http://slack/test/slack/url"}]
    d = render("slack", {"channel": "#test"}, conf, make_event())
    assert d.target == "http://slack/test/slack/url"
    assert d.body == (
        b'{"attachments":[{"fallback":"message","color":"danger","text":"message","mrkdwn_in":["text"]}],'
        b'"channel":"#test","icon_emoji":"","text":"","username":"kapacitor"}\n'
    )
    assert d.ok_statuses == (200,)


def test_slack_colors_defaults_and_token() -> None:
    conf = {
        "enabled": True,
        "url": "https://hooks.slack.com/x",
        "channel": "#ops",
        "token": "tok",
        "icon-emoji": ":x:",
    }
    d = render("slack", {"username": "bot"}, conf, make_event(Level.WARNING))
    payload = body_json(d)
    assert payload["attachments"][0]["color"] == "warning"
    assert (payload["channel"], payload["username"], payload["icon_emoji"]) == ("#ops", "bot", ":x:")
    assert d.headers["Authorization"] == "Bearer tok"
    assert body_json(render("slack", {}, conf, make_event(Level.OK)))["attachments"][0]["color"] == "good"
    assert body_json(render("slack", {}, conf, make_event(Level.INFO)))["attachments"][0]["color"] == "good"


def test_slack_configuration_errors() -> None:
    assert error_of("slack", {}, None, make_event()) == "no slack configuration found"
    assert (
        error_of("slack", {"workspace": "w2"}, [{"enabled": True, "url": "http://a"}], make_event())
        == "workspace id not found"
    )
    assert error_of("slack", {}, {"url": "http://a"}, make_event()) == "service is not enabled"
    two = [
        {"workspace": "a", "enabled": True, "url": "http://a", "default": True},
        {"workspace": "b", "enabled": True, "url": "http://b"},
    ]
    assert render("slack", {"workspace": "b"}, two, make_event()).target == "http://b"
    assert render("slack", {}, two, make_event()).target == "http://a"


def test_pagerduty2() -> None:
    options = {
        "routing-key": "rkey",
        "links": [
            {"href": "http://example.com", "text": "t1"},
            {"href": "http://example.com/{{.TaskName}}", "text": "t2"},
        ],
    }
    d = render(
        "pagerduty2",
        options,
        {"enabled": True, "url": "http://pd/"},
        make_event(),
        kapacitor_url="http://localhost:9092",
    )
    assert d.target == "http://pd/"
    assert d.headers == {
        "Content-Type": "application/json",
        "Accept": "application/vnd.pagerduty+json;version=2",
    }
    assert (
        d.body
        == (
            '{"routing_key":"rkey","event_action":"trigger","dedup_key":"id","payload":{"summary":"message",'
            '"source":"unknown","severity":"critical","timestamp":"1970-01-01T00:00:00.000000000Z",'
            '"class":"testAlertHandlers","component":"","group":"","custom_details":{"result":'
            + RESULT_JSON
            + "}},"
            '"images":null,"links":[{"href":"http://example.com","text":"t1"},'
            '{"href":"http://example.com/testAlertHandlers","text":"t2"}],"client":"kapacitor",'
            '"client_url":"http://localhost:9092"}\n'
        ).encode()
    )


def test_pagerduty2_recovery_host_and_defaults() -> None:
    tagged = {
        "series": [{"name": "cpu", "tags": {"host": "srv1"}, "columns": ["time", "v"], "values": [["t", 1]]}]
    }
    conf = {"enabled": True, "routing-key": "conf-key"}
    payload = body_json(
        render("pagerduty2", {"links": [{"href": "http://a"}]}, conf, make_event(Level.OK, data=tagged))
    )
    assert (payload["event_action"], payload["payload"]["severity"]) == ("resolve", "info")
    assert payload["payload"]["source"] == "srv1"
    assert payload["routing_key"] == "conf-key"
    assert payload["links"] == [{"href": "http://a", "text": "http://a"}]
    d = render("pagerduty2", {}, conf, make_event(Level.WARNING))
    assert d.target == "https://events.pagerduty.com/v2/enqueue"
    assert body_json(d)["links"] is None and body_json(d)["payload"]["severity"] == "warning"
    assert pagerduty_timestamp(1_500_000_000_123_000_000) == "2017-07-14T02:40:00.123000000Z"


def test_opsgenie2() -> None:
    conf = {"enabled": True, "url": "http://og/", "api-key": "api_key", "recovery_action": "notes"}
    options = {"teams-list": ["A team", "B team"], "recipients-list": ["test_recipient1", "test_recipient2"]}
    d = render("opsgenie2", options, conf, make_event())
    assert d.headers == {"Content-Type": "application/json", "Authorization": "GenieKey api_key"}
    assert body_json(d) == {
        "message": "message",
        "entity": "id",
        "alias": "aWQ=",
        "note": "",
        "priority": "P1",
        "details": {"Level": "CRITICAL", "Monitoring Tool": "Kapacitor", "Kapacitor Task Name": "alert"},
        "description": RESULT_JSON,
        "responders": [
            {"name": "A team", "type": "team"},
            {"name": "B team", "type": "team"},
            {"username": "test_recipient1", "type": "user"},
            {"username": "test_recipient2", "type": "user"},
        ],
    }
    assert d.body.startswith(b'{"alias":"aWQ=","description":"{\\"series\\"')
    assert d.ok_statuses == (202,)


def test_opsgenie2_recovery_and_details() -> None:
    conf = {"enabled": True, "url": "https://api.opsgenie.com/v2/alerts", "api-key": "k", "details": True}
    d = render("opsgenie2", {"recovery_action": "close"}, conf, make_event(Level.OK))
    assert d.target == "https://api.opsgenie.com/v2/alerts/aWQ=/close?identifierType=alias"
    assert d.body == b'{"note":"message"}\n'
    d = render("opsgenie2", {"recovery_action": "bogus"}, conf, make_event(Level.OK))
    assert d.target.endswith("/aWQ=/notes?identifierType=alias")
    payload = body_json(render("opsgenie2", {}, conf, make_event(Level.INFO)))
    assert (payload["priority"], payload["description"]) == ("P5", "details")
    assert "responders" not in payload


def test_telegram() -> None:
    conf = {"enabled": True, "url": "http://tg/bot", "token": "TOKEN:AUTH"}
    d = render("telegram", {"chat-id": "chat id", "disable-web-page-preview": True}, conf, make_event())
    assert d.target == "http://tg/botTOKEN:AUTH/sendMessage"
    assert d.body == b'{"chat_id":"chat id","disable_web_page_preview":true,"text":"message"}\n'
    conf.update({"chat-id": "42", "parse-mode": "Markdown", "disable-notification": True})
    assert body_json(render("telegram", {}, conf, make_event())) == {
        "chat_id": "42",
        "disable_notification": True,
        "parse_mode": "Markdown",
        "text": "message",
    }
    assert error_of("telegram", {"parse-mode": "rst"}, conf, make_event()) == (
        "parseMode rst is not valid, please use 'Markdown' or 'HTML'"
    )


def test_teams() -> None:
    d = render("teams", {}, {"enabled": True, "channel-url": "http://teams/"}, make_event())
    assert d.body == (
        b'{"@type":"MessageCard","@context":"http://schema.org/extensions","title":"CRITICAL: [id]",'
        b'"text":"message","summary":"CRITICAL: [id] - message...","themeColor":"CC4A31"}'
    )
    assert d.ok_statuses == (200, 204)


def test_teams_title_summary_cut_and_colors() -> None:
    conf = {"enabled": True, "channel-url": "http://default/"}
    card = body_json(
        render(
            "teams",
            {"channel-url": "http://own/"},
            conf,
            make_event(Level.WARNING, id="", message="m"),
            topic="cpu",
        )
    )
    assert (card["title"], card["summary"], card["themeColor"]) == (
        "WARNING: [cpu]",
        "WARNING: [cpu] - m...",
        "FFA533",
    )
    card = body_json(render("teams", {}, conf, make_event(Level.OK, id="", message="m")))
    assert (card["title"], card["summary"], card["themeColor"]) == ("OK", "OK: m...", "34CC25")
    long = body_json(render("teams", {}, conf, make_event(message="x" * 100)))
    assert long["summary"] == ("CRITICAL: [id] - " + "x" * 100)[:70] + "..."
    # Go slices bytes: a cut two-byte rune leaves one byte, written as U+FFFD
    cut = body_json(render("teams", {}, conf, make_event(message="é" * 60)))
    assert cut["summary"] == "CRITICAL: [id] - " + "é" * 26 + "\ufffd..."


def test_smtp() -> None:
    conf = {"enabled": True, "host": "mail", "port": 2525, "from": "test@example.com"}
    d = render("smtp", {"to": ["oncall@example.com", "backup@example.com"]}, conf, make_event())
    assert (d.transport, d.target, d.body) == ("smtp", "mail:2525", b"details")
    assert d.headers == {
        "Mime-Version": "1.0",
        "Content-Type": "text/html; charset=UTF-8",
        "Content-Transfer-Encoding": "quoted-printable",
        "From": "test@example.com",
        "To": "oncall@example.com, backup@example.com",
        "Subject": "message",
    }
    assert d.params["to"] == ["oncall@example.com", "backup@example.com"]


def test_smtp_recipients_from_templates_or_config() -> None:
    tagged = {
        "series": [
            {"name": "cpu", "tags": {"owner": "bob@example.com"}, "columns": ["time"], "values": [["t"]]}
        ]
    }
    conf = {"enabled": True, "from": "k@example.com", "to": ["default@example.com"]}
    to_field = [
        '{{ index .Tags "owner" }}',
        "{{ .Name }}@example.com",
        "{{ .Nope }}",
        "{{ if }}",
        "{{ .Name }}",
    ]
    d = render("smtp", {"to": ["a@example.com"], "to-field": to_field}, conf, make_event(data=tagged))
    # the failing template is skipped; the one that fails to parse ends the list
    assert d.params["to"] == ["a@example.com", "bob@example.com", "cpu@example.com"]
    assert render("smtp", {}, conf, make_event()).params["to"] == ["default@example.com"]
    assert error_of("smtp", {}, {"enabled": True, "from": "k@x"}, make_event()) == (
        "not sending email, no recipients defined"
    )


def test_sns() -> None:
    d = render(
        "sns",
        {"topic-arn": "arn:aws:sns:eu-west-1:1:alerts"},
        {"enabled": True},
        make_event(message="cpu\nhigh"),
    )
    assert (d.transport, d.target) == ("sns", "arn:aws:sns:eu-west-1:1:alerts")
    assert d.params["Subject"] == "cpu high"
    assert json.loads(d.params["Message"])["message"] == "cpu\nhigh"
    assert error_of("sns", {}, {"enabled": True}, make_event()) == "must specify topic-arn"


@pytest.mark.parametrize("kind", ["pagerduty2", "opsgenie2", "telegram", "teams", "smtp", "sns"])
def test_disabled_services(kind: str) -> None:
    options = {"to": ["a@b"]} if kind == "smtp" else {}
    assert error_of(kind, options, None, make_event()) == "service is not enabled"
    assert error_of(kind, options, {"enabled": False}, make_event()) == "service is not enabled"


def test_aggregate_and_publish_send_nothing() -> None:
    with pytest.raises(DeliveryError):
        render("publish", {"topics": ["a"]}, None, make_event())


def test_template_views() -> None:
    tagged = {
        "series": [
            {
                "name": "cpu",
                "tags": {"host": "a", "dc": "x"},
                "columns": ["time", "usage"],
                "values": [["t", 9.5]],
            }
        ]
    }
    td = template_data(make_event(data=tagged)).fields
    assert (td["Name"], td["TaskName"], td["Tags"], td["Fields"], td["Group"]) == (
        "cpu",
        "testAlertHandlers",
        {"dc": "x", "host": "a"},
        {"usage": 9.5},
        "dc=x,host=a",
    )
    assert event_data(make_event(data={"series": []})).fields["Group"] == "nil"


def test_delivery_state_round_trip() -> None:
    d = render("slack", {"channel": "#x"}, {"enabled": True, "url": "http://s"}, make_event())
    assert Delivery.from_state(json.loads(json.dumps(d.to_state()))) == d


def test_canonical_header() -> None:
    assert [canonical_header(k) for k in ("content-type", "X-API-KEY", "bad key")] == [
        "Content-Type",
        "X-Api-Key",
        "bad key",
    ]


# --- hostile input ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80), st.sampled_from(list(Level)))
def test_fuzz_rendering_text_never_crashes(message: str, ident: str, level: Level) -> None:
    event = make_event(level, message=message, id=ident, details=message)
    configs = {
        "slack": {"enabled": True, "url": "http://s"},
        "pagerduty2": {"enabled": True},
        "opsgenie2": {"enabled": True, "api-key": "k"},
        "telegram": {"enabled": True, "token": "t"},
        "teams": {"enabled": True, "channel-url": "http://t"},
        "smtp": {"enabled": True, "to": ["a@b"]},
        "sns": {"enabled": True, "topic-arn": "arn"},
    }
    for kind, conf in configs.items():
        try:
            d = render(kind, {}, conf, event)
        except TicklessError:
            continue
        if d.transport == "http":
            json.loads(d.body)


# --- what Kapacitor logs when a service refuses ----------------------------------------------------


def test_failure_messages() -> None:
    ev = make_event()
    slack = render("slack", {}, {"enabled": True, "url": "http://s"}, ev)
    assert slack.failure(200, b"ok") is None
    assert slack.failure(404, b'{"error":"channel_not_found"}') == "channel_not_found"
    assert slack.failure(500, b"oops") == "failed to understand Slack response. code: 500 content: oops"
    pd = render("pagerduty2", {}, {"enabled": True}, ev)
    assert pd.failure(202, b"") is None
    assert pd.failure(
        400,
        b'{"status":"invalid event","message":"Event object is invalid",'
        b'"errors":["Length of routing_key is incorrect"]}',
    ) == (
        "Status: invalid event, Message: Event object is invalid Errors: [Length of routing_key is incorrect]"
    )
    og = render("opsgenie2", {}, {"enabled": True, "api-key": "k"}, ev)
    assert (
        og.failure(200, b"") == "opsgenie error: failed to understand OpsGenie response. code: 200 content: "
    )
    assert og.failure(422, b'{"message":"bad"}') == "opsgenie error: bad"
    tg = render("telegram", {}, {"enabled": True, "token": "t"}, ev)
    assert tg.failure(400, b'{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}') == (
        "sendMessage error (400) description: Bad Request: chat not found"
    )
    assert tg.failure(502, b"<html>") == (
        "failed to understand Telegram response (err: invalid character '<' looking for beginning of value). "
        "code: 502 content: <html>"
    )
    teams = render("teams", {}, {"enabled": True, "channel-url": "http://t"}, ev)
    assert teams.failure(204, b"") is None
    assert teams.failure(400, b"x") == "failed to understand Teams response. code: 400 content: x"
    post = render("post", {"url": "http://p", "capture-response": True}, None, ev)
    assert post.failure(201, b"") is None
    assert post.failure(500, b"boom") == "boom"
    post = render("post", {"url": "http://p"}, None, ev)
    assert post.failure(500, b"boom") == "unknown error, use .captureResponse() to capture the HTTP response"
