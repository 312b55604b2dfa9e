"""The overridable sections: their options, defaults, element keys and validation.

Each schema mirrors the Go config struct of the Kapacitor service (field order, `override` names,
`redact` tags, NewConfig defaults and Validate), so GET, the error texts and the defaults match
Kapacitor's; `sns` is tickless's own section. Validators raise ValueError with Go's message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.kit.errors import TicklessError
from chalicelib.kit.gotemplate import KAPACITOR_JSON_FUNCS, Template, go_quote
from chalicelib.kit.time import MINUTE, SECOND
from chalicelib.overrides.gotext import check_mail_address, check_url
from chalicelib.overrides.options import Kind, Option, resolved, zero

Element = dict[str, Any]


@dataclass(frozen=True)
class Section:
    """A section's schema. `element_key` is "" for a section that is one struct, not a list."""

    name: str
    options: tuple[Option, ...]
    element_key: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)  # NewConfig, beyond the zero values
    init: Mapping[str, Any] | None = None  # Init() for a created list element; None: zero values
    validate: Callable[[Element], None] | None = None  # the element's Validate()
    validate_list: Callable[[list[Element]], None] | None = None  # the list type's Validate(), if any

    @property
    def is_list(self) -> bool:
        return self.element_key != ""

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    def default_element(self) -> Element:
        """NewConfig(): what an element of the file configuration starts from."""
        return {
            o.name: _copy(self.defaults[o.name]) if o.name in self.defaults else zero(o.kind)
            for o in self.options
        }

    def created_element(self) -> Element:
        """What an element added through the API starts from, before its options apply."""
        init = self.init or {}
        return {o.name: _copy(init[o.name]) if o.name in init else zero(o.kind) for o in self.options}


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _opts(*specs: str | tuple[str, Kind] | tuple[str, Kind, bool]) -> tuple[Option, ...]:
    """Options from compact specs: a bare name is a string option."""
    out: list[Option] = []
    for spec in specs:
        if isinstance(spec, str):
            out.append(Option(spec, Kind.STRING))
        else:
            out.append(Option(*spec))
    return tuple(out)


def _url(value: str, label: str = "url") -> None:
    try:
        check_url(value)
    except ValueError as err:
        raise ValueError(f"invalid {label} {go_quote(value)}: {err}") from None


# --- influxdb ------------------------------------------------------------------------------------------

_INFLUXDB_INIT: dict[str, Any] = {
    "name": "default",
    "urls": ["http://localhost:8086"],
    "excluded-subscriptions": {"_kapacitor": ["autogen"]},
    "udp-buffer": 1000,
    "startup-timeout": 5 * MINUTE,
    "subscription-protocol": "http",
    "subscriptions-sync-interval": 1 * MINUTE,
    "subscription-mode": 0,
    "compression": "gzip",
}


def _influxdb_name_ok(name: str) -> bool:
    return name != "" and all(c in "-._" or (c.isascii() and c.isdigit()) or c.isalpha() for c in name)


def _validate_influxdb(c: Element) -> None:
    if c["name"] == "":
        raise ValueError("influxdb cluster must be given a name")
    if not _influxdb_name_ok(c["name"]):
        raise ValueError(
            "influxdb cluster name must contain only numbers, letters or '.', '-', and '_' characters"
        )
    if not c["urls"]:
        raise ValueError("must specify at least one InfluxDB URL")
    for url in c["urls"]:
        check_url(url)
    if c["subscription-protocol"] not in ("http", "https", "udp"):
        raise ValueError(
            "invalid subscription protocol, must be one of 'udp', 'http' or 'https', "
            f"got {go_quote(c['subscription-protocol'])}"
        )
    if c["compression"] not in ("gzip", "none"):
        raise ValueError(f"Invalid compression, must be one of 'gzip' or 'none', got {c['compression']}")


INFLUXDB = Section(
    "influxdb",
    _opts(
        ("enabled", Kind.BOOL),
        "name",
        ("default", Kind.BOOL),
        ("urls", Kind.STRINGS),
        "username",
        ("password", Kind.STRING, True),
        ("token", Kind.STRING, True),
        ("http-shared-secret", Kind.BOOL),
        "ssl-ca",
        "ssl-cert",
        "ssl-key",
        ("insecure-skip-verify", Kind.BOOL),
        ("timeout", Kind.DURATION),
        ("disable-subscriptions", Kind.BOOL),
        "subscription-protocol",
        ("subscription-mode", Kind.SUBSCRIPTION_MODE),
        ("subscriptions", Kind.STRINGS_MAP),
        ("excluded-subscriptions", Kind.STRINGS_MAP),
        "kapacitor-hostname",
        ("http-port", Kind.INT),
        "udp-bind",
        ("udp-buffer", Kind.INT),
        ("udp-read-buffer", Kind.INT),
        ("startup-timeout", Kind.DURATION),
        ("subscriptions-sync-interval", Kind.DURATION),
        "subscription-path",
        "compression",
    ),
    element_key="name",
    defaults={**_INFLUXDB_INIT, "enabled": True},
    init=_INFLUXDB_INIT,
    validate=_validate_influxdb,
)

# --- smtp ----------------------------------------------------------------------------------------------


def _validate_smtp(c: Element) -> None:
    if c["host"] == "":
        raise ValueError("host cannot be empty")
    if c["port"] <= 0:
        raise ValueError(f"invalid port {c['port']}")
    if c["idle-timeout"] < 0:
        raise ValueError("idle timeout must be positive")
    if c["enabled"] and c["from"] == "":
        raise ValueError("must provide a 'from' address")
    if c["from"] != "":
        try:
            check_mail_address(c["from"])
        except ValueError as err:
            raise ValueError(f"invalid from email address: {go_quote(c['from'])}, {err}") from None
    for to in c["to"] or ():
        try:
            check_mail_address(to)
        except ValueError as err:
            raise ValueError(f"invalid to email address: {go_quote(to)}, {err}") from None


SMTP = Section(
    "smtp",
    _opts(
        ("enabled", Kind.BOOL),
        "host",
        ("port", Kind.INT),
        "username",
        ("password", Kind.STRING, True),
        ("no-verify", Kind.BOOL),
        ("global", Kind.BOOL),
        ("state-changes-only", Kind.BOOL),
        "from",
        ("to", Kind.STRINGS),
        ("to-templates", Kind.STRINGS),
        ("idle-timeout", Kind.DURATION),
    ),
    defaults={"host": "localhost", "port": 25, "idle-timeout": 30 * SECOND},
    validate=_validate_smtp,
)

# --- slack ---------------------------------------------------------------------------------------------


def _validate_slack(c: Element) -> None:
    if c["enabled"] and c["url"] == "":
        raise ValueError("must specify url")
    _url(c["url"])


def _validate_slack_list(cs: list[Element]) -> None:
    has_default = len(cs) == 1
    for c in cs:
        _validate_slack(c)
        if len(cs) > 1 and c["workspace"] == "":
            raise ValueError("id must not be empty")
        has_default = has_default or c["default"]
        if c["global"] and not c["default"]:
            raise ValueError("only the default config may be assigned as global")
        if c["state-changes-only"] and (not c["default"] or not c["global"]):
            raise ValueError(
                "stateChangesOnly may only be assigned when the config is both default and global"
            )
    if cs and not has_default:
        raise ValueError("at least one Slack config must be set as default")


SLACK = Section(
    "slack",
    _opts(
        ("enabled", Kind.BOOL),
        ("default", Kind.BOOL),
        "workspace",
        ("url", Kind.STRING, True),
        ("token", Kind.STRING, True),
        "channel",
        "username",
        "icon-emoji",
        ("global", Kind.BOOL),
        ("state-changes-only", Kind.BOOL),
        "ssl-ca",
        "ssl-cert",
        "ssl-key",
        ("insecure-skip-verify", Kind.BOOL),
    ),
    element_key="workspace",
    defaults={"username": "kapacitor"},
    validate=_validate_slack,
    validate_list=_validate_slack_list,
)

# --- pagerduty2, opsgenie2, telegram, teams, alerta, sns -----------------------------------------------


def _validate_pagerduty2(c: Element) -> None:
    if c["url"] == "":
        raise ValueError("url cannot be empty")
    _url(c["url"], "URL")


PAGERDUTY2 = Section(
    "pagerduty2",
    _opts(("enabled", Kind.BOOL), "url", ("routing-key", Kind.STRING, True), ("global", Kind.BOOL)),
    defaults={"url": "https://events.pagerduty.com/v2/enqueue"},
    validate=_validate_pagerduty2,
)


def _validate_opsgenie2(c: Element) -> None:
    if c["url"] == "":
        raise ValueError("url cannot be empty")
    if c["recovery_action"] == "":
        raise ValueError("recovery_action cannot be empty")
    _url(c["url"], "URL")
    if c["enabled"] and c["api-key"] == "":
        raise ValueError("api-key cannot be empty")


OPSGENIE2 = Section(
    "opsgenie2",
    _opts(
        ("enabled", Kind.BOOL),
        ("api-key", Kind.STRING, True),
        ("teams", Kind.STRINGS),
        ("recipients", Kind.STRINGS),
        "url",
        "recovery_action",
        ("global", Kind.BOOL),
        ("details", Kind.BOOL),
    ),
    defaults={"url": "https://api.opsgenie.com/v2/alerts", "recovery_action": "notes"},
    validate=_validate_opsgenie2,
)


def _validate_telegram(c: Element) -> None:
    if c["enabled"]:
        if c["url"] == "":
            raise ValueError("must specify url")
        if c["token"] == "":
            raise ValueError("must specify token")
    _url(c["url"])


TELEGRAM = Section(
    "telegram",
    _opts(
        ("enabled", Kind.BOOL),
        "url",
        ("token", Kind.STRING, True),
        "chat-id",
        "parse-mode",
        ("disable-web-page-preview", Kind.BOOL),
        ("disable-notification", Kind.BOOL),
        ("global", Kind.BOOL),
        ("state-changes-only", Kind.BOOL),
    ),
    defaults={"url": "https://api.telegram.org/bot"},
    validate=_validate_telegram,
)


def _validate_teams(c: Element) -> None:
    if c["enabled"] and c["channel-url"] == "":
        raise ValueError("must specify Teams channel webhook URL")
    _url(c["channel-url"])


TEAMS = Section(
    "teams",
    _opts(("enabled", Kind.BOOL), "channel-url", ("global", Kind.BOOL), ("state-changes-only", Kind.BOOL)),
    validate=_validate_teams,
)


def _validate_alerta(c: Element) -> None:
    if c["enabled"] and c["url"] == "":
        raise ValueError("must specify url")
    _url(c["url"])


ALERTA = Section(
    "alerta",
    _opts(
        ("enabled", Kind.BOOL),
        "url",
        ("insecure-skip-verify", Kind.BOOL),
        ("token", Kind.STRING, True),
        "token-prefix",
        "environment",
        "origin",
        ("timeout", Kind.DURATION),
    ),
    validate=_validate_alerta,
)

# Tickless's own: the topic may also come from the handler, so nothing here is required.
SNS = Section(
    "sns",
    _opts(
        ("enabled", Kind.BOOL),
        "topic-arn",
        "region",
        ("global", Kind.BOOL),
        ("state-changes-only", Kind.BOOL),
    ),
)

# --- httppost ------------------------------------------------------------------------------------------


def _validate_httppost(c: Element) -> None:
    if c["endpoint"] == "":
        raise ValueError("must specify endpoint name")
    url = c["url"]
    if url == "":
        raise ValueError("must specify url")
    try:
        executed = Template.parse("body", url, funcs=KAPACITOR_JSON_FUNCS).execute(None)
    except TicklessError as err:
        raise ValueError(
            f"invalid URL template syntax {go_quote(url)}: failed to parse template: {err.message}"
        ) from None
    if executed == url:
        try:
            check_url(url)
        except ValueError as err:
            raise ValueError(f"invalid URL {go_quote(url)}: {err}") from None
    if c["alert-template"] != "" and c["alert-template-file"] != "":
        raise ValueError("must specify only one of alert-template and alert-template-file")
    if c["alert-template-file"] != "" and not c["alert-template-file"].startswith("/"):
        raise ValueError("must use an absolute path for alert-template-file")
    if c["row-template"] != "" and c["row-template-file"] != "":
        raise ValueError("must specify only one of row-template and row-template-file")
    if c["row-template-file"] != "" and not c["row-template-file"].startswith("/"):
        raise ValueError("must use an absolute path for row-template-file")


def _validate_httppost_list(cs: list[Element]) -> None:
    for c in cs:
        _validate_httppost(c)


HTTPPOST = Section(
    "httppost",
    _opts(
        "endpoint",
        "url",
        ("headers", Kind.STRING_MAP),
        ("basic-auth", Kind.BASIC_AUTH, True),
        "alert-template",
        "alert-template-file",
        "row-template",
        "row-template-file",
    ),
    element_key="endpoint",
    defaults={"endpoint": "example", "url": "http://example.com"},
    validate=_validate_httppost,
    validate_list=_validate_httppost_list,
)

SECTIONS: dict[str, Section] = {
    s.name: s for s in (INFLUXDB, SMTP, SLACK, PAGERDUTY2, OPSGENIE2, TELEGRAM, TEAMS, SNS, HTTPPOST, ALERTA)
}


def default_base() -> dict[str, list[Element]]:
    """The file configuration when none is given: one element of defaults per struct section, the
    `default` InfluxDB cluster standing for tickless's own series store, and Kapacitor's default
    (disabled) Slack workspace so `POST /config/slack/` can configure it as it can in Kapacitor."""
    base: dict[str, list[Element]] = {}
    for name, section in SECTIONS.items():
        if not section.is_list:
            base[name] = [section.default_element()]
    influxdb = INFLUXDB.default_element()
    influxdb.update({"default": True, "urls": []})
    base["influxdb"] = [influxdb]
    slack = SLACK.default_element()
    slack["default"] = True
    base["slack"] = [slack]
    base["httppost"] = []
    return base


def resolved_defaults(name: str) -> dict[str, Any]:
    """One element of section `name` with nothing set, as `ConfigService.resolved` gives elements: what a
    handler assumes of an option its section leaves out."""
    section = SECTIONS[name]
    element = section.default_element()
    return {o.name: resolved(o, element[o.name]) for o in section.options}
