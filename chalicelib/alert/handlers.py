"""The alert handler kinds as one registry: each kind's options (names, types, defaults) and the checks
Kapacitor makes when it creates a handler, shared by topic handler specs (`/alerts/topics/<t>/handlers`)
and by the TICKscript property handlers (`.slack()`, `.post()`, ...), which end up as the same options.

`create` raises what Kapacitor puts after "failed to create handler: " or "failed to update handler: "
(400 here where Kapacitor answers 500: docs/DECISIONS.md). Topic handler specs are in handler_specs,
TICKscript's in handler_tick."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.alert import handler_services
from chalicelib.alert import handler_templates as templates
from chalicelib.alert.handler_options import Option, OptionType, decode_options
from chalicelib.kit.errors import INVALID, TicklessError, invalid
from chalicelib.kit.gotemplate import go_quote

S, B, D, M, L, H, K = (
    OptionType.STRING,
    OptionType.BOOL,
    OptionType.DURATION,
    OptionType.FILE_MODE,
    OptionType.STRING_LIST,
    OptionType.STRING_MAP,
    OptionType.LINK_LIST,
)

DEFAULT_AGGREGATE_MESSAGE = "Received {{ .Count }} events in the last {{.Interval}}."
DEFAULT_LOG_MODE = 0o600


@dataclass(frozen=True, slots=True)
class HandlerKind:
    name: str
    go_type: str  # the Go type Kapacitor decodes options into, named in its decode errors
    options: tuple[Option, ...]
    service: str | None = None  # the kapacitor.conf section it sends through
    external: bool = True  # calls out of Kapacitor (skipped for events marked no-external)


KINDS: dict[str, HandlerKind] = {
    k.name: k
    for k in (
        HandlerKind(
            "log", "alert.LogHandlerConfig", (Option("path", S), Option("mode", M, DEFAULT_LOG_MODE))
        ),
        HandlerKind(
            "post",
            "httppost.HandlerConfig",
            (
                Option("url", S),
                Option("endpoint", S),
                Option("headers", H),
                Option("capture-response", B),
                Option("timeout", D),
                Option("skip-ssl-verification", B),
            ),
            "httppost",
        ),
        HandlerKind("tcp", "alert.TCPHandlerConfig", (Option("address", S),)),
        HandlerKind("smtp", "smtp.HandlerConfig", (Option("to", L), Option("to-field", L)), "smtp"),
        HandlerKind(
            "slack",
            "slack.HandlerConfig",
            (Option("workspace", S), Option("channel", S), Option("username", S), Option("icon-emoji", S)),
            "slack",
        ),
        HandlerKind(
            "pagerduty2",
            "pagerduty2.HandlerConfig",
            (Option("routing-key", S), Option("links", K)),
            "pagerduty2",
        ),
        HandlerKind(
            "opsgenie2",
            "opsgenie2.HandlerConfig",
            (Option("teams-list", L), Option("recipients-list", L), Option("recovery_action", S)),
            "opsgenie2",
        ),
        HandlerKind(
            "telegram",
            "telegram.HandlerConfig",
            (
                Option("chat-id", S),
                Option("parse-mode", S),
                Option("disable-web-page-preview", B),
                Option("disable-notification", B),
            ),
            "telegram",
        ),
        HandlerKind("teams", "teams.HandlerConfig", (Option("channel-url", S),), "teams"),
        HandlerKind("sns", "sns.HandlerConfig", (Option("topic-arn", S), Option("subject", S)), "sns"),
        HandlerKind(
            "aggregate",
            "alert.AggregateHandlerConfig",
            (
                Option("id", S),
                Option("interval", D),
                Option("topic", S),
                Option("message", S, DEFAULT_AGGREGATE_MESSAGE),
            ),
            external=False,
        ),
        HandlerKind("publish", "alert.PublishHandlerConfig", (Option("topics", L),), external=False),
    )
}

# Kinds that run a process on Kapacitor's host: nothing here can.
LOCAL_PROCESS_KINDS = frozenset({"exec"})


def kind(name: str) -> HandlerKind:
    if name in LOCAL_PROCESS_KINDS:
        raise invalid(f'unsupported action kind "{name}": tickless cannot run local processes')
    found = KINDS.get(name)
    if found is None:
        raise invalid(f"unsupported action kind {go_quote(name)}")
    return found


@dataclass(slots=True)
class HandlerConfig:
    """A created handler: its kind and every option decoded (defaults filled in). A kind the server was
    started without (kapacitord's -disable-handlers) gives a disabled handler: stored, never handling."""

    kind: str
    options: dict[str, Any]
    disabled: bool = False

    def to_state(self) -> dict[str, Any]:
        return {"kind": self.kind, "options": self.options, "disabled": self.disabled}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> HandlerConfig:
        return cls(state["kind"], dict(state["options"]), bool(state.get("disabled", False)))


def create(
    kind_name: str,
    options: Any,
    service_configs: Mapping[str, Any] | None = None,
    disabled: frozenset[str] = frozenset(),
) -> HandlerConfig:
    """Decode and check options as Kapacitor does when it creates the handler, its Go templates (post
    url, pagerduty2 links, aggregate message) included."""
    if kind_name in disabled:
        return HandlerConfig(kind_name, {}, disabled=True)
    try:
        spec_kind = kind(kind_name)
        decoded = decode_options(spec_kind.go_type, spec_kind.options, options)
        _check(kind_name, decoded, service_configs or {})
    except TicklessError as err:
        raise TicklessError(INVALID, err.message) from None
    return HandlerConfig(kind_name, decoded)


def _check(kind_name: str, o: dict[str, Any], configs: Mapping[str, Any]) -> None:
    if kind_name == "log":
        if o["mode"] & 0o200 == 0:
            raise invalid(f"invalid file mode {file_mode_string(o['mode'])}, must be user writable")
        if not o["path"].startswith("/"):
            raise invalid(f"log path must be absolute: {o['path']} is not absolute")
    elif kind_name == "post":
        if handler_services.httppost_endpoint(configs.get("httppost"), o["endpoint"]) is None:
            if o["url"] == "":
                raise invalid(
                    "An appropriately formatted url must be specified if an endpoint is not specified"
                )
            try:
                templates.parse(o["url"], "body", templates.POST_FUNCS)
            except TicklessError as err:
                raise invalid(f"failed to parse template: {err.message}") from None
    elif kind_name == "pagerduty2":
        for link in o["links"]:
            templates.parse(link["href"], "href")
            if link["text"]:
                templates.parse(link["text"], "text")
    elif kind_name == "aggregate":
        if o["interval"] <= 0:
            # Kapacitor's ticker panics on a non-positive interval; refuse it instead.
            raise invalid(f"aggregate interval must be positive, got {o['interval']}")
        message = templates.parse(o["message"], "message")
        try:
            message.execute(templates.aggregate_message_data(0, 0))
        except TicklessError as err:
            raise invalid(templates.AGGREGATE_MESSAGE_ERROR + err.message) from None


def file_mode_string(mode: int) -> str:
    """os.FileMode.String() of permission bits: `-rw-------`."""
    bits = "rwxrwxrwx"
    return "-" + "".join(bits[i] if mode & (1 << (8 - i)) else "-" for i in range(9))


# --- kapacitor.conf: handlers every alert gets -------------------------------------------------------

_GLOBAL_KINDS = ("smtp", "pagerduty2", "slack", "telegram", "opsgenie2", "teams", "sns")


def global_kinds(service_configs: Mapping[str, Any]) -> list[str]:
    """Kinds whose service section says `global = true`: an alert node without an explicit handler of the
    kind sends to it anyway (with empty options)."""
    found = []
    for name in _GLOBAL_KINDS:
        if name in service_configs and handler_services.section(name, service_configs[name]).get("global"):
            found.append(name)
    return found


def forces_state_changes_only(service_configs: Mapping[str, Any]) -> bool:
    """A global service section with `state-changes-only = true` makes every alert node state-changes-only."""
    for name in global_kinds(service_configs):
        if handler_services.section(name, service_configs[name]).get("state-changes-only"):
            return True
    return False
