"""What a handler sends for one alert event, exactly as Kapacitor's service would send it, without
sending it: `render(kind, options, service_config, event) -> Delivery`.

`service_config` is the kapacitor.conf section of the kind's service (`handlers.KINDS[kind].service`):
a dict, or for `slack` / `httppost` a list of them. Go templates (post url and alert-template, pagerduty2
links, smtp to-field) run through `render_template(text, data, *, name, funcs) -> str`, by default Go's
text/template (chalicelib.kit.gotemplate), on the data handler_templates builds."""

from __future__ import annotations

import base64
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from chalicelib.alert import handler_services
from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.handler_failures import failure_message
from chalicelib.alert.handler_json import go_json
from chalicelib.alert.handler_templates import (
    NO_FUNCS,
    POST_FUNCS,
    RenderTemplate,
    alert_data,
    event_data,
    event_tags,
    first_series,
    go_template,
    parse,
    template_data,
)
from chalicelib.alert.handlers import create
from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.kit.gotemplate import go_quote
from chalicelib.kit.time import SECOND, format_rfc3339nano

_JSON = "application/json"
TEAMS_SUMMARY_CUTOFF = 70  # bytes, as Kapacitor slices it
SNS_SUBJECT_LIMIT = 100


class DeliveryError(TicklessError):
    """The handler would not send: Kapacitor logs this message and drops the event."""

    def __init__(self, message: str) -> None:
        super().__init__(INVALID, message)


@dataclass(frozen=True, slots=True)
class Delivery:
    transport: str  # http | tcp | sns | smtp | log
    target: str  # URL, tcp host:port, SNS topic ARN, smtp host:port, log file path
    body: bytes
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # transport specifics (timeout, mail from/to...)
    ok_statuses: tuple[int, ...] = ()  # HTTP statuses the service takes as sent; empty: any 2xx
    kind: str = ""

    def failure(self, status: int, body: bytes) -> str | None:
        """The error Kapacitor logs when the service answers `status` with `body`; None when sent."""
        if (status in self.ok_statuses) if self.ok_statuses else status // 100 == 2:
            return None
        return failure_message(self.kind, self.params, status, body)

    def to_state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "transport": self.transport,
            "target": self.target,
            "body": base64.b64encode(self.body).decode("ascii"),
            "method": self.method,
            "headers": dict(self.headers),
            "params": dict(self.params),
            "ok_statuses": list(self.ok_statuses),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Delivery:
        return cls(
            state["transport"],
            state["target"],
            base64.b64decode(state["body"]),
            state.get("method", "POST"),
            dict(state.get("headers", {})),
            dict(state.get("params", {})),
            tuple(state.get("ok_statuses", ())),
            state.get("kind", ""),
        )


def render(
    kind: str,
    options: Any,
    service_config: Any,
    event: AlertEvent,
    *,
    render_template: RenderTemplate | None = None,
    kapacitor_url: str = "",
    topic: str = "",
) -> Delivery:
    """The request the `kind` handler sends for `event`; raises DeliveryError where Kapacitor would log
    an error instead of sending (service not enabled, no recipients, ...)."""
    if kind in ("aggregate", "publish"):
        raise DeliveryError(f"{kind} handlers publish events to topics and send no request")
    decoded = create(kind, options, {"httppost": service_config} if kind == "post" else None).options
    renderer = _RENDERERS[kind]
    ctx = _Context(service_config, render_template, kapacitor_url, topic)
    return replace(renderer(decoded, event, ctx), kind=kind)


@dataclass(frozen=True, slots=True)
class _Context:
    config: Any
    render_template: RenderTemplate | None
    kapacitor_url: str
    topic: str

    def template(self, text: str, data: Any, name: str, funcs: frozenset[str] = NO_FUNCS) -> str:
        render = self.render_template or go_template
        try:
            return render(text, data, name=name, funcs=funcs)
        except TicklessError as err:
            raise DeliveryError(err.message) from None

    def enabled_section(self, name: str) -> dict[str, Any]:
        conf = handler_services.section(name, self.config)
        if not conf.get("enabled"):
            raise DeliveryError("service is not enabled")
        return conf


# --- the kinds --------------------------------------------------------------------------------------


def _log(o: dict[str, Any], event: AlertEvent, ctx: _Context) -> Delivery:
    return Delivery(
        "log", o["path"], go_json(event.body(), newline=True).encode(), "", params={"mode": o["mode"]}
    )


def _tcp(o: dict[str, Any], event: AlertEvent, ctx: _Context) -> Delivery:
    # The JSON encoder ends the line and Kapacitor then writes one more newline.
    return Delivery("tcp", o["address"], (go_json(event.body(), newline=True) + "\n").encode(), "")


def _post(o: dict[str, Any], event: AlertEvent, ctx: _Context) -> Delivery:
    endpoint = handler_services.httppost_endpoint(ctx.config, o["endpoint"])
    data = alert_data(event)
    headers: dict[str, str] = {}
    if endpoint is None:
        url_template, alert_template = o["url"], ""
    else:
        url_template, alert_template = endpoint["url"], endpoint["alert-template"]
        if endpoint["alert-template-file"]:
            raise DeliveryError(f"failed to read template file {go_quote(endpoint['alert-template-file'])}")
        auth = endpoint.get("basic-auth") or {}
        if auth.get("username") and auth.get("password"):
            token = base64.b64encode(f"{auth['username']}:{auth['password']}".encode()).decode("ascii")
            headers["Authorization"] = "Basic " + token
        for key, value in (endpoint.get("headers") or {}).items():
            headers.setdefault(canonical_header(key), str(value))
    if alert_template:
        body = ctx.template(alert_template, data, "body", POST_FUNCS).encode()
        content_type = ""
    else:
        body = go_json(event.body(), newline=True).encode()
        content_type = _JSON
    url = _http_target(ctx.template(url_template, data, "body", POST_FUNCS))
    for key, value in o["headers"].items():
        headers[canonical_header(key)] = value
    if content_type:
        headers["Content-Type"] = content_type
    timeout = o["timeout"] / SECOND  # the option is a Go duration (ns), the sender counts seconds
    params = {"timeout": timeout, "skip-ssl-verification": o["skip-ssl-verification"]}
    params["capture-response"] = o["capture-response"]
    return Delivery("http", url, body, headers=headers, params=params)


def _slack(o: dict[str, Any], event: AlertEvent, ctx: _Context) -> Delivery:
    try:
        conf = handler_services.slack_workspace(ctx.config, o["workspace"])
    except TicklessError as err:
        raise DeliveryError(err.message) from None
    if not conf.get("enabled"):
        raise DeliveryError("service is not enabled")
    color = {Level.WARNING: "warning", Level.CRITICAL: "danger"}.get(event.level, "good")
    attachment = {"fallback": event.message, "color": color, "text": event.message, "mrkdwn_in": ["text"]}
    payload = {
        "attachments": [attachment],
        "channel": o["channel"] or conf["channel"],
        "icon_emoji": o["icon-emoji"] or conf["icon-emoji"],
        "text": "",
        "username": o["username"] or conf["username"],
    }
    headers = {"Content-Type": _JSON}
    if conf["token"]:
        headers["Authorization"] = "Bearer " + conf["token"]
    body = go_json(payload, newline=True).encode()
    return Delivery("http", _http_target(conf["url"]), body, headers=headers, ok_statuses=(200,))


_PD_SEVERITY = {Level.WARNING: "warning", Level.CRITICAL: "critical", Level.INFO: "info"}


def _pagerduty2(o: dict[str, Any], event: AlertEvent, ctx: _Context) -> Delivery:
    td = template_data(event)
    links = []
    for link in o["links"]:
        href = ctx.template(link["href"], td, "href")
        text = ctx.template(link["text"], td, "text") if link["text"] else href
        links.append({"href": href, "text": text})
    conf = ctx.enabled_section("pagerduty2")
    tags = event_tags(event)
    payload = {
        "routing_key": o["routing-key"] or conf["routing-key"],
        "event_action": "trigger" if event.level in _PD_SEVERITY else "resolve",
        "dedup_key": event.id,
        "payload": {
            "summary": event.message,
            "source": tags.get("host", "unknown"),
            "severity": _PD_SEVERITY.get(event.level, "info"),
            "timestamp": pagerduty_timestamp(event.time),
            "class": event.task,
            "component": "",
            "group": "",
            "custom_details": {"result": event.data},
        },
        "images": None,
        "links": links or None,
        "client": "kapacitor",
        "client_url": ctx.kapacitor_url,
    }
    headers = {"Content-Type": _JSON, "Accept": "application/vnd.pagerduty+json;version=2"}
    body = go_json(payload, newline=True).encode()
    return Delivery("http", _http_target(conf["url"]), body, headers=headers, ok_statuses=(200, 202))


def pagerduty_timestamp(ns: int) -> str:
    """Go's layout 2006-01-02T15:04:05.000000000Z07:00 in UTC: always nine fraction digits."""
    seconds, frac = divmod(ns, SECOND)
    whole = format_rfc3339nano(seconds * SECOND)
    if not whole.endswith("Z"):
        return whole
    return f"{whole[:-1]}.{frac:09d}Z"


_OG_PRIORITY = {Level.INFO: "P5", Level.WARNING: "P3", Level.CRITICAL: "P1"}
_OG_RECOVERY_ACTIONS = ("close", "notes")


def _opsgenie2(o: dict[str, Any], event: AlertEvent, ctx: _Context) -> Delivery:
    conf = ctx.enabled_section("opsgenie2")
    alias = base64.urlsafe_b64encode(event.id.encode()).decode("ascii")
    url = conf["url"]
    data: dict[str, Any]
    if event.level == Level.OK:
        action = o["recovery_action"]
        if action not in _OG_RECOVERY_ACTIONS:
            action = conf["recovery_action"] if conf["recovery_action"] in _OG_RECOVERY_ACTIONS else "notes"
        parts = urlsplit(url)
        path = posixpath.normpath(posixpath.join(parts.path or "/", alias, action))
        url = urlunsplit((parts.scheme, parts.netloc, path, "identifierType=alias", ""))
        data = {"note": event.message}
    else:
        details = {"Level": event.level.name, "Monitoring Tool": "Kapacitor"}
        series = first_series(event)
        if series:
            details.update(event_tags(event))
            details["Kapacitor Task Name"] = str(series.get("name", ""))
        responders = [{"name": t, "type": "team"} for t in (o["teams-list"] or conf["teams"])]
        responders += [{"type": "user", "username": u} for u in (o["recipients-list"] or conf["recipients"])]
        use_details = conf["details"] and event.details
        data = {
            "alias": alias,
            "description": event.details if use_details else go_json(event.data),
            "details": dict(sorted(details.items())),
            "entity": event.id,
            "message": event.message,
            "note": "",
            "priority": _OG_PRIORITY[event.level],
        }
        if responders:
            data["responders"] = responders
    headers = {"Content-Type": _JSON, "Authorization": "GenieKey " + conf["api-key"]}
    body = go_json(data, newline=True).encode()
    return Delivery("http", _http_target(url), body, headers=headers, ok_statuses=(202,))


def _telegram(o: dict[str, Any], event: AlertEvent, ctx: _Context) -> Delivery:
    conf = ctx.enabled_section("telegram")
    parse_mode = o["parse-mode"] or conf["parse-mode"]
    if parse_mode and parse_mode.lower() not in ("markdown", "html"):
        raise DeliveryError(f"parseMode {parse_mode} is not valid, please use 'Markdown' or 'HTML'")
    data: dict[str, Any] = {"chat_id": o["chat-id"] or conf["chat-id"]}
    if o["disable-notification"] or conf["disable-notification"]:
        data["disable_notification"] = True
    if o["disable-web-page-preview"] or conf["disable-web-page-preview"]:
        data["disable_web_page_preview"] = True
    if parse_mode:
        data["parse_mode"] = parse_mode
    data["text"] = event.message
    parts = urlsplit(conf["url"])
    path = posixpath.normpath(posixpath.join(parts.path + conf["token"], "sendMessage"))
    url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))
    body = go_json(data, newline=True).encode()
    return Delivery("http", _http_target(url), body, headers={"Content-Type": _JSON}, ok_statuses=(200,))


def _teams(o: dict[str, Any], event: AlertEvent, ctx: _Context) -> Delivery:
    conf = ctx.enabled_section("teams")
    level = event.level.name
    if event.id == "" and ctx.topic == "":
        title = level
        summary = f"{title}: {event.message}"
    else:
        title = f"{level}: [{event.id or ctx.topic}]"
        summary = f"{title} - {event.message}"
    card = {
        "@type": "MessageCard",
        "@context": "http://schema.org/extensions",
        "title": title,
        "text": event.message,
        "summary": _cut_bytes(summary, TEAMS_SUMMARY_CUTOFF) + "...",
        "themeColor": {Level.WARNING: "FFA533", Level.CRITICAL: "CC4A31"}.get(event.level, "34CC25"),
    }
    url = o["channel-url"] or conf["channel-url"]
    return Delivery(
        "http",
        _http_target(url),
        go_json(card).encode(),
        headers={"Content-Type": _JSON},
        ok_statuses=(200, 204),
    )


def _cut_bytes(text: str, limit: int) -> str:
    """Go's byte slicing of a string: a cut rune leaves bytes JSON writes as one U+FFFD each."""
    raw = text.encode("utf-8")[:limit]
    for keep in range(len(raw), max(len(raw) - 4, -1), -1):
        try:
            return raw[:keep].decode("utf-8") + "\ufffd" * (len(raw) - keep)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def _smtp(o: dict[str, Any], event: AlertEvent, ctx: _Context) -> Delivery:
    to = list(o["to"])
    if o["to-field"]:
        data = event_data(event)
        for i, text in enumerate(o["to-field"]):
            try:
                parse(text, str(i))
            except TicklessError:
                break  # Kapacitor's handler keeps only the templates before the first that fails to parse
            try:
                address = ctx.template(text, data, str(i))
            except DeliveryError:
                continue  # Kapacitor logs the template error and keeps the other recipients
            if address:
                to.append(address)
    conf = ctx.enabled_section("smtp")
    if not to:
        to = list(conf["to"])
    if not to:
        raise DeliveryError("not sending email, no recipients defined")
    headers = {
        "Mime-Version": "1.0",
        "Content-Type": "text/html; charset=UTF-8",
        "Content-Transfer-Encoding": "quoted-printable",
        "From": conf["from"],
        "To": ", ".join(to),
        "Subject": event.message,
    }
    params = {
        "host": conf["host"],
        "port": conf["port"],
        "from": conf["from"],
        "to": to,
        "subject": event.message,
        "username": conf["username"],
        "password": conf["password"],
        "no-verify": conf["no-verify"],
    }
    return Delivery("smtp", f"{conf['host']}:{conf['port']}", event.details.encode(), "", headers, params)


def _sns(o: dict[str, Any], event: AlertEvent, ctx: _Context) -> Delivery:
    conf = ctx.enabled_section("sns")
    arn = o["topic-arn"] or conf["topic-arn"]
    if not arn:
        raise DeliveryError("must specify topic-arn")
    subject = o["subject"] or event.message
    subject = " ".join(subject.split())[:SNS_SUBJECT_LIMIT]  # SNS refuses line breaks and long subjects
    message = go_json(event.body())
    params: dict[str, Any] = {"TopicArn": arn, "Message": message}
    if subject:
        params["Subject"] = subject
    if conf.get("region"):
        params["Region"] = conf["region"]
    return Delivery("sns", arn, message.encode(), "", params=params)


_RENDERERS: dict[str, Callable[[dict[str, Any], AlertEvent, _Context], Delivery]] = {
    "log": _log,
    "tcp": _tcp,
    "post": _post,
    "slack": _slack,
    "pagerduty2": _pagerduty2,
    "opsgenie2": _opsgenie2,
    "telegram": _telegram,
    "teams": _teams,
    "smtp": _smtp,
    "sns": _sns,
}


def canonical_header(key: str) -> str:
    """net/textproto's canonical MIME header key; keys with characters it won't touch stay as they are."""
    if not key or any(not (c.isascii() and (c.isalnum() or c in "!#$%&'*+-.^_`|~")) for c in key):
        return key
    return "-".join(part[:1].upper() + part[1:].lower() for part in key.split("-"))


def _http_target(url: str) -> str:
    scheme = urlsplit(url).scheme if "://" in url or ":" in url else ""
    if scheme.lower() not in ("http", "https"):
        raise DeliveryError(f'Post "{url}": unsupported protocol scheme "{scheme}"')
    return url
