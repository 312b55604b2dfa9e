"""Kapacitor's service tests (`/kapacitor/v1/service-tests`) for the services tickless's handlers send
through: each test's options (defaults read from the organization's section, as Kapacitor's TestOptions
reads its config) and the test itself.

A test sends for real: the request is the one the handler kind would send (delivery.render, from the test's
options and the organization's section), sent at once, within TEST_TIMEOUT_SECONDS, by the sender the alert
queue's worker uses. The answer is Kapacitor's `{"success", "message"}`: a test that sends nothing (section
disabled, no recipients) or whose request fails says why, in the service's own words."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.alert import handler_services
from chalicelib.alert.delivery import Delivery, DeliveryError, render
from chalicelib.alert.dispatch import DeliveryFailed, Sender
from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.handler_json import go_json
from chalicelib.alert.levels import parse_level
from chalicelib.alert.service_test_options import Field, FieldType, decode_options, parse_time
from chalicelib.alert.topics import pattern_match, validate_pattern
from chalicelib.kit.errors import TicklessError, invalid, not_found
from chalicelib.kit.gotemplate import go_quote
from chalicelib.kit.time import SECOND

TESTS_PATH = "/kapacitor/v1/service-tests"
TEST_TIMEOUT_SECONDS = 10.0  # a test answers within API Gateway's 29 s, slow endpoint or not
GO_ZERO_TIME = -62_135_596_800 * SECOND  # 0001-01-01T00:00:00Z: an empty alert.Event's time
_ANY_STATUS = tuple(range(100, 600))

Configs = Mapping[str, Any]
S, B, L, M, LEVEL, D, T, LINKS, EVENT_DATA = (
    FieldType.STRING,
    FieldType.BOOL,
    FieldType.STRING_LIST,
    FieldType.STRING_MAP,
    FieldType.LEVEL,
    FieldType.DURATION,
    FieldType.TIME,
    FieldType.LINKS,
    FieldType.EVENT_DATA,
)


@dataclass(frozen=True, slots=True)
class ServiceTest:
    """One service's test: `deliver` builds its request (None: nothing to send, the test passes) or raises
    TicklessError with the answer's message; `sent_error` words a failed send as the service does."""

    name: str
    fields: tuple[Field, ...]
    defaults: Callable[[Configs], dict[str, Any]]
    deliver: Callable[[dict[str, Any], Configs, int], Delivery | None]
    sent_error: Callable[[dict[str, Any], str], str] = lambda options, message: message

    @property
    def struct(self) -> str:
        return f"{self.name}.testOptions"  # the Go type its options decode into (Go's errors name it)


class ServiceTests:
    def __init__(
        self,
        sender: Sender,
        service_configs: Callable[[str], Configs],
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.sender = sender
        self.service_configs = service_configs  # org -> its handler sections (its config overrides)
        self.clock = clock

    def list(self, org_id: str, pattern: str = "") -> dict[str, Any]:
        """`GET /service-tests?pattern=`: the tests whose name matches the glob, by name."""
        pattern = pattern or "*"
        try:
            validate_pattern(pattern)
        except TicklessError:
            raise invalid("bad pattern: syntax error in pattern") from None
        configs = self.service_configs(org_id)
        found = [_json(t, configs) for name, t in sorted(TESTS.items()) if pattern_match(pattern, name)]
        return {"link": _link(TESTS_PATH), "services": found or None}  # Go's nil slice: null

    def get(self, org_id: str, name: str) -> dict[str, Any]:
        return _json(_test(name), self.service_configs(org_id))

    def run(self, org_id: str, name: str, raw: bytes) -> dict[str, Any]:
        """`POST /service-tests/<name>` with the options as JSON: 400 for options Kapacitor would not
        decode, else the test's result."""
        test = _test(name)
        configs = self.service_configs(org_id)
        options = decode_options(test.struct, test.fields, test.defaults(configs), raw)
        try:
            delivery = test.deliver(options, configs, self.clock())
        except TicklessError as err:
            return _result(err.message)
        if delivery is None:
            return _result("")
        try:
            self.sender.send(_bounded(delivery))
        except DeliveryFailed as err:
            return _result(test.sent_error(options, _reason(str(err), delivery)))
        return _result("")


def _test(name: str) -> ServiceTest:
    found = TESTS.get(name)
    if found is None:
        raise not_found(f"service {go_quote(name)} not found")
    return found


def _link(href: str) -> dict[str, str]:
    return {"rel": "self", "href": href}


def _json(test: ServiceTest, configs: Configs) -> dict[str, Any]:
    return {"link": _link(f"{TESTS_PATH}/{test.name}"), "name": test.name, "options": test.defaults(configs)}


def _result(message: str) -> dict[str, Any]:
    return {"success": not message, "message": message}


def _bounded(delivery: Delivery) -> Delivery:
    timeout = delivery.params.get("timeout") or TEST_TIMEOUT_SECONDS
    return replace(delivery, params={**delivery.params, "timeout": min(timeout, TEST_TIMEOUT_SECONDS)})


def _reason(message: str, delivery: Delivery) -> str:
    """The sender's message without the handler kind it is prefixed with for the worker's log."""
    for prefix in (delivery.kind, delivery.transport):
        if prefix and message.startswith(prefix + ": "):
            return message[len(prefix) + 2 :]
    return message


def _event(message: str = "", level: Level = Level.OK, **more: Any) -> AlertEvent:
    more.setdefault("data", {"series": None})  # an empty models.Result
    return AlertEvent(
        id=more.pop("id", ""),
        message=message,
        details=more.pop("details", ""),
        time=more.pop("time", GO_ZERO_TIME),
        duration=0,
        level=level,
        recoverable=more.pop("recoverable", False),
        **more,
    )


def _section(name: str, configs: Configs) -> dict[str, Any]:
    return handler_services.section(name, configs.get(name))


def _nil(values: list[str]) -> list[str] | None:
    """A config list as Go marshals it when unset: null."""
    return list(values) or None


# --- the services ------------------------------------------------------------------------------------


def _slack_defaults(configs: Configs) -> dict[str, Any]:
    workspace = _section("slack", configs)  # the default workspace
    return {
        "workspace": workspace["workspace"],
        "channel": workspace["channel"],
        "message": "test slack message",
        "level": "CRITICAL",
        "username": "",
        "icon-emoji": "",
    }


def _slack(o: dict[str, Any], configs: Configs, now: int) -> Delivery:
    handler = {k: o[k] for k in ("workspace", "channel", "username", "icon-emoji")}
    return render("slack", handler, configs.get("slack"), _event(o["message"], Level[o["level"]]))


_PAGERDUTY2_DEFAULTS = {
    "alert_id": "testAlertID",
    "description": "test pagerduty2 message",
    "level": "CRITICAL",
    "event_data": {
        "Name": "testPagerDuty2",
        "TaskName": "",
        "Category": "",
        "Group": "",
        "Tags": {},
        "Fields": {},
        "Recoverable": False,
        "Result": {"series": None},
    },
    "timestamp": "2014-11-12T11:45:26.371Z",
    "links": [{"href": "https://example.com/a", "text": "a"}, {"href": "https://example.com/b", "text": "b"}],
}


def _pagerduty2(o: dict[str, Any], configs: Configs, now: int) -> Delivery:
    data = o["event_data"]
    event = _event(
        o["description"],
        Level[o["level"]],
        id=o["alert_id"],
        time=parse_time(o["timestamp"]),
        data=data.get("Result") or {"series": None},
        task=data.get("TaskName", ""),
        category=data.get("Category", ""),
        recoverable=bool(data.get("Recoverable")),
    )
    delivery = render("pagerduty2", {"links": o["links"] or []}, configs.get("pagerduty2"), event)
    # The test's event data carries its tags apart from its result: the source is their `host`.
    payload = json.loads(delivery.body)
    payload["payload"]["source"] = (data.get("Tags") or {}).get("host", "unknown")
    return replace(delivery, body=go_json(payload, newline=True).encode())


def _opsgenie2_defaults(configs: Configs) -> dict[str, Any]:
    conf = _section("opsgenie2", configs)
    return {
        "teams": _nil(conf["teams"]),
        "recipients": _nil(conf["recipients"]),
        "recovery_action": conf["recovery_action"],
        "message-type": "CRITICAL",
        "message": "test opsgenie message",
        "entity-id": "testEntityID",
    }


def _opsgenie2(o: dict[str, Any], configs: Configs, now: int) -> Delivery:
    level = Level.OK if o["message-type"] == "RECOVERY" else parse_level(o["message-type"])
    handler = {
        "teams-list": o["teams"] or [],
        "recipients-list": o["recipients"] or [],
        "recovery_action": o["recovery_action"],
    }
    event = _event(o["message"], level, id=o["entity-id"], time=now)
    try:
        return render("opsgenie2", handler, configs.get("opsgenie2"), event)
    except TicklessError as err:
        raise invalid(f"failed to prepare API request: {err.message}") from None


def _opsgenie2_sent(o: dict[str, Any], message: str) -> str:
    # an answer that is not 202 is worded "opsgenie error: ..." already; the rest never got an answer
    return message if message.startswith("opsgenie error: ") else f"failed to execute API request: {message}"


def _telegram_defaults(configs: Configs) -> dict[str, Any]:
    conf = _section("telegram", configs)
    return {
        "chat-id": conf["chat-id"],
        "parse-mode": conf["parse-mode"],
        "message": "test telegram message",
        "disable-web-page-preview": conf["disable-web-page-preview"],
        "disable-notification": conf["disable-notification"],
    }


def _telegram(o: dict[str, Any], configs: Configs, now: int) -> Delivery:
    handler = {k: o[k] for k in ("chat-id", "parse-mode", "disable-web-page-preview", "disable-notification")}
    return render("telegram", handler, configs.get("telegram"), _event(o["message"]))


def _teams_defaults(configs: Configs) -> dict[str, Any]:
    return {
        "channel_url": _section("teams", configs)["channel-url"],
        "alert_topic": "test kapacitor alert topic",
        "alert_id": "foo/bar/bat",
        "message": "test teams message",
        "level": "CRITICAL",
    }


def _teams(o: dict[str, Any], configs: Configs, now: int) -> Delivery:
    event = _event(o["message"], Level[o["level"]], id=o["alert_id"])
    handler = {"channel-url": o["channel_url"]}
    return render("teams", handler, configs.get("teams"), event, topic=o["alert_topic"])


def _smtp_defaults(configs: Configs) -> dict[str, Any]:
    return {"to": _nil(_section("smtp", configs)["to"]), "subject": "test subject", "body": "test body"}


def _smtp(o: dict[str, Any], configs: Configs, now: int) -> Delivery:
    event = _event(o["subject"], details=o["body"])
    return render("smtp", {"to": o["to"] or []}, configs.get("smtp"), event)


_HTTPPOST_DEFAULTS = {
    "endpoint": "example",
    "url": "http://localhost:3000/",
    "headers": {"Auth": "secret"},
    "timeout": 0,
}


def _httppost(o: dict[str, Any], configs: Configs, now: int) -> Delivery:
    """An empty alert's data, to the `[[httppost]]` endpoint the options name when it is configured,
    else to their `url`; any answer passes, as in Kapacitor (only a request that fails does not)."""
    handler = {
        "endpoint": o["endpoint"],
        "url": o["url"],
        "headers": o["headers"] or {},
        "timeout": o["timeout"],
    }
    try:
        delivery = render("post", handler, configs.get("httppost"), _event())
    except DeliveryError as err:
        if err.message.startswith('Post "'):  # a URL the request cannot go to
            raise invalid(_httppost_sent(o, err.message)) from None
        raise
    return replace(delivery, ok_statuses=_ANY_STATUS)


def _httppost_sent(o: dict[str, Any], message: str) -> str:
    return f"failed to POST alert data: {message}"


def _sns_defaults(configs: Configs) -> dict[str, Any]:
    conf = _section("sns", configs)
    return {"topic-arn": conf["topic-arn"], "subject": "", "message": "test sns message", "level": "CRITICAL"}


def _sns(o: dict[str, Any], configs: Configs, now: int) -> Delivery:
    handler = {"topic-arn": o["topic-arn"], "subject": o["subject"]}
    return render("sns", handler, configs.get("sns"), _event(o["message"], Level[o["level"]]))


def _influxdb(o: dict[str, Any], configs: Configs, now: int) -> Delivery | None:
    """Ping the cluster the options name; the built-in `default` cluster is tickless's own store, which
    answers whenever this does."""
    name = o["cluster"]
    found = next(
        (c for c in configs.get("influxdb") or [] if c.get("name") == name and c.get("enabled")), None
    )
    if found is None:
        raise invalid(f"cluster {go_quote(name)} is not enabled or does not exist")
    if not found.get("urls"):
        return None
    headers: dict[str, str] = {}
    if found.get("token"):
        headers["Authorization"] = "Token " + found["token"]
    params: dict[str, Any] = {"skip-ssl-verification": bool(found.get("insecure-skip-verify"))}
    if found.get("timeout"):
        params["timeout"] = found["timeout"] / SECOND
    url = found["urls"][0].rstrip("/") + "/ping"
    return Delivery("http", url, b"", "GET", headers, params, ok_statuses=(204,), kind="influxDBOut")


def _influxdb_sent(o: dict[str, Any], message: str) -> str:
    return f"failed to ping the influxdb cluster {go_quote(o['cluster'])}: {message}"


def _constant(values: dict[str, Any]) -> Callable[[Configs], dict[str, Any]]:
    return lambda configs: json.loads(json.dumps(values))  # a fresh copy each time


TESTS: dict[str, ServiceTest] = {
    t.name: t
    for t in (
        ServiceTest(
            "slack",
            (
                Field("workspace", S),
                Field("channel", S),
                Field("message", S),
                Field("level", LEVEL),
                Field("username", S),
                Field("icon-emoji", S),
            ),
            _slack_defaults,
            _slack,
        ),
        ServiceTest(
            "pagerduty2",
            (
                Field("alert_id", S),
                Field("description", S),
                Field("level", LEVEL),
                Field("event_data", EVENT_DATA),
                Field("timestamp", T),
                Field("links", LINKS),
            ),
            _constant(_PAGERDUTY2_DEFAULTS),
            _pagerduty2,
        ),
        ServiceTest(
            "opsgenie2",
            (
                Field("teams", L),
                Field("recipients", L),
                Field("recovery_action", S),
                Field("message-type", S),
                Field("message", S),
                Field("entity-id", S),
            ),
            _opsgenie2_defaults,
            _opsgenie2,
            _opsgenie2_sent,
        ),
        ServiceTest(
            "telegram",
            (
                Field("chat-id", S),
                Field("parse-mode", S),
                Field("message", S),
                Field("disable-web-page-preview", B),
                Field("disable-notification", B),
            ),
            _telegram_defaults,
            _telegram,
        ),
        ServiceTest(
            "teams",
            (
                Field("channel_url", S),
                Field("alert_topic", S),
                Field("alert_id", S),
                Field("message", S),
                Field("level", LEVEL),
            ),
            _teams_defaults,
            _teams,
        ),
        ServiceTest("smtp", (Field("to", L), Field("subject", S), Field("body", S)), _smtp_defaults, _smtp),
        ServiceTest(
            "httppost",
            (Field("endpoint", S), Field("url", S), Field("headers", M), Field("timeout", D)),
            _constant(_HTTPPOST_DEFAULTS),
            _httppost,
            _httppost_sent,
        ),
        ServiceTest(
            "sns",
            (Field("topic-arn", S), Field("subject", S), Field("message", S), Field("level", LEVEL)),
            _sns_defaults,
            _sns,
        ),
        ServiceTest(
            "influxdb", (Field("cluster", S),), _constant({"cluster": ""}), _influxdb, _influxdb_sent
        ),
    )
}
