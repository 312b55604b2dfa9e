"""Kapacitor's service tests in the domain (chalicelib/alert/service_tests.py): options decoded as Go's
encoding/json decodes them into each service's testOptions, defaults read from the organization's
sections, the request each test sends, and the `{success, message}` it answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.alert.delivery import Delivery
from chalicelib.alert.dispatch import DeliveryFailed
from chalicelib.alert.service_test_options import Field, FieldType, decode_options, parse_time
from chalicelib.alert.service_tests import TEST_TIMEOUT_SECONDS, TESTS, ServiceTests
from chalicelib.kit.errors import INVALID, NOT_FOUND, TicklessError
from chalicelib.kit.time import SECOND

NOW = 1_700_000_000 * SECOND


class Sender:
    """Records what a test sends; `fail` is the message the sender raises instead."""

    def __init__(self, fail: str = "") -> None:
        self.sent: list[Delivery] = []
        self.fail = fail

    def send(self, delivery: Delivery) -> None:
        self.sent.append(delivery)
        if self.fail:
            raise DeliveryFailed(self.fail)


def service_tests(configs: dict[str, Any], sender: Sender | None = None) -> ServiceTests:
    return ServiceTests(sender or Sender(), lambda org: configs, clock=lambda: NOW)


def error_of(call) -> TicklessError:
    with pytest.raises(TicklessError) as raised:
        call()
    return raised.value


# -- decoding options ---------------------------------------------------------------------------------------

FIELDS = (
    Field("channel", FieldType.STRING),
    Field("on", FieldType.BOOL),
    Field("to", FieldType.STRING_LIST),
    Field("headers", FieldType.STRING_MAP),
    Field("level", FieldType.LEVEL),
    Field("timeout", FieldType.DURATION),
    Field("timestamp", FieldType.TIME),
)
DEFAULTS = {
    "channel": "#a",
    "on": False,
    "to": ["x@y"],
    "headers": {"Auth": "secret"},
    "level": "CRITICAL",
    "timeout": 0,
    "timestamp": "2014-11-12T11:45:26.371Z",
}


def decode(raw: bytes) -> dict[str, Any]:
    return decode_options("x.testOptions", FIELDS, DEFAULTS, raw)


def test_decoding_keeps_defaults_and_follows_gos_rules():
    assert decode(b"{}") == DEFAULTS
    assert decode(b"null") == DEFAULTS
    assert decode(b'{"channel": "#b"} trailing') == {**DEFAULTS, "channel": "#b"}  # the first value only
    assert decode(b'{"CHANNEL": "#c"}')["channel"] == "#c"  # keys match ignoring case
    assert decode(b'{"channel": null, "to": null, "headers": null}') == {
        **DEFAULTS,
        "to": None,
        "headers": None,
    }
    assert decode(b'{"headers": {"X": "1"}}')["headers"] == {"Auth": "secret", "X": "1"}  # maps merge
    assert decode(b'{"to": []}')["to"] == []  # arrays replace
    assert decode(b'{"level": "OK", "timeout": 5000000000}')["level"] == "OK"
    assert decode(b'{"level": ""}')["level"] == "OK"  # as alert.Level's UnmarshalText reads ""
    assert decode(b'{"timestamp": "2020-01-02T03:04:05+01:00"}')["timestamp"] == "2020-01-02T03:04:05+01:00"
    # a copy: decoding never changes the defaults
    assert DEFAULTS["headers"] == {"Auth": "secret"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "EOF"),
        (b'{"channel": ', "unexpected EOF"),
        (b"[]", "json: cannot unmarshal array into Go value of type x.testOptions"),
        (b'"x"', "json: cannot unmarshal string into Go value of type x.testOptions"),
        (b'{"nope": 1}', 'json: unknown field "nope"'),
        (
            b'{"channel": 1}',
            "json: cannot unmarshal number into Go struct field testOptions.channel of type string",
        ),
        (b'{"on": "yes"}', "json: cannot unmarshal string into Go struct field testOptions.on of type bool"),
        (
            b'{"to": "a@b"}',
            "json: cannot unmarshal string into Go struct field testOptions.to of type []string",
        ),
        (b'{"to": [1]}', "json: cannot unmarshal number into Go struct field testOptions.to of type string"),
        (
            b'{"headers": {"a": 1}}',
            "json: cannot unmarshal number into Go struct field testOptions.headers of type string",
        ),
        (
            b'{"level": 3}',
            "json: cannot unmarshal number into Go struct field testOptions.level of type alert.Level",
        ),
        (b'{"level": "warning"}', "unknown alert level 'warning'"),
        (b'{"level": "LOUD"}', "unknown alert level 'LOUD'"),
        (
            b'{"timeout": 1.5}',
            "json: cannot unmarshal number 1.5 into Go struct field testOptions.timeout "
            "of type time.Duration",
        ),
        (
            b'{"timeout": "1s"}',
            "json: cannot unmarshal string into Go struct field testOptions.timeout of type time.Duration",
        ),
        (b'{"timestamp": 5}', "Time.UnmarshalJSON: input is not a JSON string"),
        (
            b'{"timestamp": "yesterday"}',
            'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"',
        ),
    ],
)
def test_decoding_errors_are_400_in_gos_words(raw, message):
    error = error_of(lambda: decode(raw))
    assert (error.code, error.message) == (INVALID, f"failed to decode JSON body:{message}")


def test_parse_time():
    assert parse_time("1970-01-01T00:00:01Z") == SECOND
    assert parse_time("1970-01-01T01:00:01.5+01:00") == SECOND + SECOND // 2
    assert parse_time("2014-11-12T11:45:26.371Z") == 1415792726371000000
    for bad in (
        "2014-13-01T00:00:00Z",
        "2014-02-30T00:00:00Z",
        "2014-01-01 00:00:00Z",
        "2014-01-01T24:00:00Z",
    ):
        assert error_of(lambda bad=bad: parse_time(bad)).code == INVALID
    assert parse_time("0000-01-01T00:00:00Z") == -62_167_219_200 * SECOND  # Go parses year 0


# -- the list and the options ----------------------------------------------------------------------------


def test_list_get_and_unknown_services():
    tests = service_tests({})
    listed = tests.list("org")
    assert listed["link"] == {"rel": "self", "href": "/kapacitor/v1/service-tests"}
    assert [s["name"] for s in listed["services"]] == sorted(TESTS)
    assert [s["name"] for s in tests.list("org", "te*")["services"]] == ["teams", "telegram"]
    assert tests.list("org", "zzz")["services"] is None
    assert error_of(lambda: tests.list("org", "[")).message == "bad pattern: syntax error in pattern"
    assert tests.get("org", "teams") == {
        "link": {"rel": "self", "href": "/kapacitor/v1/service-tests/teams"},
        "name": "teams",
        "options": {
            "channel_url": "",
            "alert_topic": "test kapacitor alert topic",
            "alert_id": "foo/bar/bat",
            "message": "test teams message",
            "level": "CRITICAL",
        },
    }
    for call in (lambda: tests.get("org", "kafka"), lambda: tests.run("org", "kafka", b"{}")):
        error = error_of(call)
        assert (error.code, error.message) == (NOT_FOUND, 'service "kafka" not found')


def test_defaults_come_from_the_sections():
    configs = {
        "slack": [{"workspace": "w", "channel": "#ops", "default": True}],
        "opsgenie2": {"teams": ["t"], "recovery_action": "close"},
        "telegram": {"chat-id": "42", "parse-mode": "HTML"},
        "teams": {"channel-url": "https://teams.example.com/hook"},
        "smtp": {"to": ["a@b"]},
        "sns": {"topic-arn": "arn:aws:sns:us-east-1:1:t"},
    }
    tests = service_tests(configs)
    assert tests.get("o", "slack")["options"]["workspace"] == "w"
    assert tests.get("o", "slack")["options"]["channel"] == "#ops"
    opsgenie2 = tests.get("o", "opsgenie2")["options"]
    assert (opsgenie2["teams"], opsgenie2["recipients"], opsgenie2["recovery_action"]) == (
        ["t"],
        None,
        "close",
    )
    assert tests.get("o", "telegram")["options"]["chat-id"] == "42"
    assert tests.get("o", "teams")["options"]["channel_url"] == "https://teams.example.com/hook"
    assert tests.get("o", "smtp")["options"]["to"] == ["a@b"]
    assert tests.get("o", "sns")["options"]["topic-arn"] == "arn:aws:sns:us-east-1:1:t"
    assert tests.get("o", "pagerduty2")["options"]["timestamp"] == "2014-11-12T11:45:26.371Z"


# -- running tests ---------------------------------------------------------------------------------------


def test_a_test_sends_the_handlers_request_within_the_bound():
    sender = Sender()
    configs = {"slack": {"enabled": True, "url": "https://hooks.example.com/x", "token": "tok"}}
    result = service_tests(configs, sender).run("o", "slack", b'{"message": "hi", "channel": "#c"}')
    assert result == {"success": True, "message": ""}
    [sent] = sender.sent
    assert (sent.transport, sent.target, sent.headers["Authorization"]) == (
        "http",
        "https://hooks.example.com/x",
        "Bearer tok",
    )
    body = json.loads(sent.body)
    assert (body["channel"], body["attachments"][0]["text"], body["attachments"][0]["color"]) == (
        "#c",
        "hi",
        "danger",
    )
    assert sent.params["timeout"] == TEST_TIMEOUT_SECONDS


def test_a_failed_send_is_the_services_message_without_the_kind():
    sender = Sender(fail='slack: Post "https://h/x": [Errno 111] Connection refused')
    configs = {"slack": {"enabled": True, "url": "https://h/x"}}
    assert service_tests(configs, sender).run("o", "slack", b"{}") == {
        "success": False,
        "message": 'Post "https://h/x": [Errno 111] Connection refused',
    }


def test_what_never_sends_answers_why():
    sender = Sender()
    tests = service_tests({"smtp": {"enabled": True, "from": "k@x"}}, sender)
    assert tests.run("o", "smtp", b"{}") == {
        "success": False,
        "message": "not sending email, no recipients defined",
    }
    assert tests.run("o", "telegram", b"{}") == {"success": False, "message": "service is not enabled"}
    assert tests.run("o", "slack", b"{}") == {"success": False, "message": "no slack configuration found"}
    assert tests.run("o", "opsgenie2", b"{}") == {
        "success": False,
        "message": "failed to prepare API request: service is not enabled",
    }
    assert sender.sent == []


def test_smtp_sends_subject_and_body():
    sender = Sender()
    configs = {"smtp": {"enabled": True, "host": "mail", "port": 2525, "from": "k@x", "username": "u"}}
    raw = b'{"to": ["a@b"], "subject": "S", "body": "<b>B</b>"}'
    assert service_tests(configs, sender).run("o", "smtp", raw)["success"] is True
    [sent] = sender.sent
    assert (sent.transport, sent.target, sent.body) == ("smtp", "mail:2525", b"<b>B</b>")
    assert (sent.params["to"], sent.params["subject"], sent.params["username"]) == (["a@b"], "S", "u")


def test_httppost_any_answer_passes_and_a_failure_is_worded_as_kapacitor():
    sender = Sender()
    tests = service_tests({}, sender)
    assert tests.run("o", "httppost", b'{"timeout": 2000000000}')["success"] is True
    [sent] = sender.sent
    assert (sent.target, sent.headers["Auth"], sent.params["timeout"]) == (
        "http://localhost:3000/",
        "secret",
        2.0,
    )
    assert sent.failure(500, b"") is None  # Kapacitor's test does not look at the answer
    assert json.loads(sent.body)["time"] == "0001-01-01T00:00:00Z"

    failing = service_tests({}, Sender(fail='post: Post "http://localhost:3000/": timed out'))
    assert failing.run("o", "httppost", b"{}") == {
        "success": False,
        "message": 'failed to POST alert data: Post "http://localhost:3000/": timed out',
    }
    assert tests.run("o", "httppost", b'{"url": "ftp://x"}') == {
        "success": False,
        "message": 'failed to POST alert data: Post "ftp://x": unsupported protocol scheme "ftp"',
    }
    endpoint = {"endpoint": "hooks", "url": "https://hooks.example.com/{{ .Message }}x", "alert-template": ""}
    assert service_tests({"httppost": [endpoint]}, sender).run("o", "httppost", b'{"endpoint": "hooks"}')[
        "success"
    ]
    assert sender.sent[-1].target == "https://hooks.example.com/x"


def test_pagerduty2_takes_the_source_from_the_event_datas_tags():
    sender = Sender()
    configs = {"pagerduty2": {"enabled": True, "routing-key": "rk"}}
    raw = b'{"event_data": {"Tags": {"host": "db1"}, "TaskName": "cpu"}, "level": "OK"}'
    assert service_tests(configs, sender).run("o", "pagerduty2", raw)["success"] is True
    body = json.loads(sender.sent[0].body)
    assert (body["routing_key"], body["event_action"]) == ("rk", "resolve")
    assert (body["payload"]["source"], body["payload"]["class"]) == ("db1", "cpu")
    assert body["payload"]["timestamp"] == "2014-11-12T11:45:26.371000000Z"
    assert body["payload"]["custom_details"] == {"result": {"series": None}}


def test_opsgenie2_levels_and_recovery():
    sender = Sender()
    configs = {"opsgenie2": {"enabled": True, "api-key": "k", "url": "https://og.example.com/v2/alerts"}}
    tests = service_tests(configs, sender)
    assert tests.run("o", "opsgenie2", b'{"message-type": "RECOVERY"}')["success"] is True
    assert sender.sent[-1].target == (
        "https://og.example.com/v2/alerts/dGVzdEVudGl0eUlE/notes?identifierType=alias"
    )
    assert tests.run("o", "opsgenie2", b'{"message-type": "info"}')["success"] is True  # ParseLevel
    assert json.loads(sender.sent[-1].body)["priority"] == "P5"
    assert tests.run("o", "opsgenie2", b'{"message-type": "loud"}') == {
        "success": False,
        "message": "unknown alert level 'LOUD'",
    }
    answered = service_tests(configs, Sender(fail="opsgenie2: opsgenie error: bad key"))
    assert answered.run("o", "opsgenie2", b"{}")["message"] == "opsgenie error: bad key"
    unreachable = service_tests(configs, Sender(fail='opsgenie2: Post "u": refused'))
    assert (
        unreachable.run("o", "opsgenie2", b"{}")["message"]
        == 'failed to execute API request: Post "u": refused'
    )


def test_influxdb_pings_an_enabled_cluster():
    sender = Sender()
    clusters = [
        {"name": "default", "enabled": True, "urls": []},
        {"name": "remote", "enabled": True, "urls": ["http://influx:8086/"], "token": "t", "timeout": 0},
        {"name": "off", "enabled": False, "urls": ["http://off:8086"]},
    ]
    tests = service_tests({"influxdb": clusters}, sender)
    assert tests.run("o", "influxdb", b'{"cluster": "default"}') == {"success": True, "message": ""}
    assert sender.sent == []  # the built-in store: nothing to ping
    assert tests.run("o", "influxdb", b'{"cluster": "remote"}')["success"] is True
    [ping] = sender.sent
    assert (ping.method, ping.target, ping.headers) == (
        "GET",
        "http://influx:8086/ping",
        {"Authorization": "Token t"},
    )
    assert tests.run("o", "influxdb", b'{"cluster": "off"}')["message"] == (
        'cluster "off" is not enabled or does not exist'
    )
    failing = service_tests({"influxdb": clusters}, Sender(fail='influxDBOut: Get "x": refused'))
    assert failing.run("o", "influxdb", b'{"cluster": "remote"}')["message"] == (
        'failed to ping the influxdb cluster "remote": Get "x": refused'
    )


def test_teams_telegram_and_sns_requests():
    sender = Sender()
    configs = {
        "teams": {"enabled": True, "channel-url": "https://teams.example.com/a"},
        "telegram": {"enabled": True, "token": "T", "chat-id": "1"},
        "sns": {"enabled": True, "topic-arn": "arn:t"},
    }
    tests = service_tests(configs, sender)
    assert tests.run("o", "teams", b'{"channel_url": "https://teams.example.com/b"}')["success"] is True
    assert sender.sent[-1].target == "https://teams.example.com/b"
    assert json.loads(sender.sent[-1].body)["title"] == "CRITICAL: [foo/bar/bat]"
    assert tests.run("o", "telegram", b'{"parse-mode": "Bold"}') == {
        "success": False,
        "message": "parseMode Bold is not valid, please use 'Markdown' or 'HTML'",
    }
    assert tests.run("o", "telegram", b"{}")["success"] is True
    assert sender.sent[-1].target == "https://api.telegram.org/botT/sendMessage"
    assert tests.run("o", "sns", b'{"subject": "S"}')["success"] is True
    assert (sender.sent[-1].transport, sender.sent[-1].params["Subject"]) == ("sns", "S")
    assert json.loads(sender.sent[-1].params["Message"])["message"] == "test sns message"
