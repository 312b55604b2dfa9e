"""The TICKscript property handlers of an alert node (`.slack()`, `.post()`, `.email()`...): their
chaining properties, and the handler options they add up to (the same options a topic handler takes).

The pipeline calls `start_tick_handler` for the property that names the handler, `set_property` for each
chained property, and `finish_tick_handler` when the task starts; errors are worded as Kapacitor's
reflection-driven evaluator words them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.alert.handlers import DEFAULT_LOG_MODE, HandlerConfig, create
from chalicelib.kit.errors import TicklessError, invalid


@dataclass(frozen=True, slots=True)
class TickProperty:
    """A chaining property of a TICKscript handler: how its arguments land in the kind's options."""

    option: str
    args: tuple[str, ...]  # Go types of the arguments; a trailing "...string" is variadic
    mode: str = "set"  # set | append | flag | header | link | method-set


@dataclass(frozen=True, slots=True)
class TickHandler:
    method: str  # the AlertNode property that starts it: `.slack()`
    kind: str
    go_type: str  # as %T names it in TICKscript errors
    args: tuple[str, ...]  # the method's own arguments
    arg_options: tuple[str, ...]  # which option each argument sets
    properties: dict[str, TickProperty] = field(default_factory=dict)


TICK_HANDLERS: dict[str, TickHandler] = {
    h.method: h
    for h in (
        TickHandler(
            "post",
            "post",
            "*pipeline.AlertHTTPPostHandler",
            ("...string",),
            ("url",),
            {
                "endpoint": TickProperty("endpoint", ("string",)),
                "header": TickProperty("headers", ("string", "string"), "header"),
                "captureResponse": TickProperty("capture-response", (), "flag"),
                "timeout": TickProperty("timeout", ("time.Duration",)),
                "skipSSLVerification": TickProperty("skip-ssl-verification", (), "flag"),
            },
        ),
        TickHandler(
            "tcp",
            "tcp",
            "*pipeline.TcpHandler",
            ("string",),
            ("address",),
            {"address": TickProperty("address", ("string",))},
        ),
        TickHandler(
            "email",
            "smtp",
            "*pipeline.EmailHandler",
            ("...string",),
            ("to",),
            {
                "to": TickProperty("to", ("...string",), "append"),
                "toTemplates": TickProperty("to-field", ("...string",), "append"),
            },
        ),
        TickHandler(
            "log",
            "log",
            "*pipeline.LogHandler",
            ("string",),
            ("path",),
            {"mode": TickProperty("mode", ("int64",))},
        ),
        TickHandler(
            "pagerDuty2",
            "pagerduty2",
            "*pipeline.PagerDuty2Handler",
            (),
            (),
            {
                "routingKey": TickProperty("routing-key", ("string",)),
                "serviceKey": TickProperty("routing-key", ("string",), "method-set"),
                "link": TickProperty("links", ("string", "...string"), "link"),
            },
        ),
        TickHandler(
            "slack",
            "slack",
            "*pipeline.SlackHandler",
            (),
            (),
            {
                "workspace": TickProperty("workspace", ("string",)),
                "channel": TickProperty("channel", ("string",)),
                "username": TickProperty("username", ("string",)),
                "iconEmoji": TickProperty("icon-emoji", ("string",)),
            },
        ),
        TickHandler(
            "telegram",
            "telegram",
            "*pipeline.TelegramHandler",
            (),
            (),
            {
                "chatId": TickProperty("chat-id", ("string",)),
                "parseMode": TickProperty("parse-mode", ("string",)),
                "disableWebPagePreview": TickProperty("disable-web-page-preview", (), "flag"),
                "disableNotification": TickProperty("disable-notification", (), "flag"),
            },
        ),
        TickHandler(
            "opsGenie2",
            "opsgenie2",
            "*pipeline.OpsGenie2Handler",
            (),
            (),
            {
                "teams": TickProperty("teams-list", ("...string",), "method-set"),
                "recipients": TickProperty("recipients-list", ("...string",), "method-set"),
                "recoveryAction": TickProperty("recovery_action", ("string",), "method-set"),
                # Kapacitor accepts `.details()` but never hands it to the handler.
                "details": TickProperty("", (), "flag"),
            },
        ),
        TickHandler(
            "teams",
            "teams",
            "*pipeline.TeamsHandler",
            (),
            (),
            {"channelURL": TickProperty("channel-url", ("string",))},
        ),
        TickHandler(
            "sns",
            "sns",
            "*pipeline.SNSHandler",
            (),
            (),
            {
                "topicArn": TickProperty("topic-arn", ("string",)),
                "subject": TickProperty("subject", ("string",)),
            },
        ),
    )
}


@dataclass(slots=True)
class TickHandlerCall:
    """One handler a TICKscript alert node declares, as its properties accumulate."""

    handler: TickHandler
    options: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.handler.kind

    def set_property(self, name: str, args: list[Any]) -> None:
        prop = self.handler.properties.get(name)
        if prop is None:
            raise invalid(f"no property {_capitalize(name)} on {self.handler.go_type}")
        if prop.mode == "set" and len(args) != 1:
            # Go's field setter takes exactly one value and calls any other count "too many".
            raise invalid(f"too many arguments to set property {_capitalize(name)} on {self.handler.go_type}")
        values = _check_args(prop.args, args, field_set=prop.mode == "set")
        if prop.mode in ("set", "method-set"):
            if prop.option:
                self.options[prop.option] = values if prop.args == ("...string",) else values[0]
        elif prop.mode == "append":
            self.options.setdefault(prop.option, []).extend(values)
        elif prop.mode == "flag":
            if prop.option:
                self.options[prop.option] = True
        elif prop.mode == "header":
            key, value = values
            if key.upper() == "AUTHENTICATE":
                raise invalid("cannot set 'authenticate' header")
            self.options.setdefault("headers", {})[key] = value
        elif prop.mode == "link":
            self.options.setdefault("links", []).append(
                {"href": values[0], "text": values[1] if len(values) > 1 else ""}
            )


def start_tick_handler(method: str, args: list[Any]) -> TickHandlerCall:
    """The handler an alert node property starts (`.slack()`, `.email('a@b')`, `.log('/p')`, ...)."""
    if method == "exec":
        raise invalid("exec handler is not supported: tickless cannot run local processes")
    handler = TICK_HANDLERS.get(method)
    if handler is None:
        raise invalid(f"unknown method {method} on *pipeline.AlertNode")
    values = _check_args(handler.args, args, field_set=False)
    options: dict[str, Any] = {}
    if handler.args == ("...string",):
        if values:
            options[handler.arg_options[0]] = values if handler.kind == "smtp" else values[0]
    else:
        options.update(zip(handler.arg_options, values, strict=True))
    if handler.kind == "log":
        options.setdefault("mode", 0)
    return TickHandlerCall(handler, options)


def finish_tick_handler(
    call: TickHandlerCall, service_configs: Mapping[str, Any] | None = None
) -> HandlerConfig:
    """The handler's options checked as Kapacitor does when the task starts."""
    options = dict(call.options)
    if call.kind == "post" and not options.get("endpoint") and not options.get("url"):
        raise invalid("Either URL or endpoint must be non-empty")
    if call.kind == "log":
        if not options.get("mode"):
            options["mode"] = DEFAULT_LOG_MODE
        options["mode"] %= 1 << 32
        try:
            return create("log", options, service_configs)
        except TicklessError as err:
            raise invalid(f"failed to create log alert handler: {err.message}") from None
    try:
        return create(call.kind, options, service_configs)
    except TicklessError as err:
        raise invalid(err.message) from None


_TICK_TYPES = {str: "string", bool: "bool", int: "int64", float: "float64", list: "[]interface {}"}


# The script values the tick package hands over (chalicelib.tick.values), known by name so that this
# package need not import that one (the pipeline imports this registry).
_TICK_VALUE_TYPES = {
    "Duration": "time.Duration",
    "Regex": "*regexp.Regexp",
    "Lambda": "*ast.LambdaNode",
    "Star": "*ast.StarNode",
}


def _tick_type(value: Any) -> str:
    return _TICK_TYPES.get(type(value)) or _TICK_VALUE_TYPES.get(type(value).__name__, type(value).__name__)


def _check_args(types: tuple[str, ...], args: list[Any], *, field_set: bool) -> list[Any]:
    """The arguments as Go's reflection would take them, or the error it reports."""
    variadic = bool(types) and types[-1].startswith("...")
    fixed = types[:-1] if variadic else types
    if len(args) < len(fixed):
        raise invalid("reflect: Call with too few input arguments")
    if not variadic and len(args) > len(fixed):
        raise invalid("reflect: Call with too many input arguments")
    values = []
    for i, arg in enumerate(args):
        want = fixed[i] if i < len(fixed) else types[-1][3:]
        got = _tick_type(arg)
        if got != want:
            if field_set:
                raise invalid(f"reflect.Set: value of type {got} is not assignable to type {want}")
            raise invalid(f"reflect: Call using {got} as type {want}")
        values.append(arg.nanoseconds if want == "time.Duration" else arg)
    return values


def _capitalize(name: str) -> str:
    return name[:1].upper() + name[1:]
