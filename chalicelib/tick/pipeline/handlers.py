"""Alert handlers: `.slack()`, `.post(url)`, ... create a handler whose properties apply to it and whose
other methods fall through to the alert node (Go embeds the alert's data in every handler)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.tick.pipeline import gotypes as go
from chalicelib.tick.pipeline.base import Field, Method, Node, Prop, Receiver, flag, fresh, put, strings

S, I64, B, D, A = go.STRING, go.INT, go.BOOL, go.DURATION, go.ANY


@dataclass(frozen=True)
class HandlerType:
    """One handler: the alert's property method creating it (`params`), and the handler's own table."""

    kind: str
    go_name: str
    props: Mapping[str, Prop]
    params: tuple[str, ...] = ()
    variadic: str | None = None
    init: Callable[[Handler, list[Any]], None] | None = None

    @property
    def go_type(self) -> str:
        return f"*pipeline.{self.go_name}"


class Handler(Receiver):
    """One handler of an alert node; `kind` is the alert's method name (`slack`, `post`, ...)."""

    def __init__(self, handler_type: HandlerType, node: Node, args: list[Any] | None = None) -> None:
        self.handler_type = handler_type
        self.kind = handler_type.kind
        self.node = node
        # The script's calls, in order: the alert's method's arguments, then each property set on the
        # handler. The alert package turns them into the handler kind's options (alert/handler_tick.py).
        self.args: list[Any] = list(args or [])
        self.calls: list[tuple[str, list[Any]]] = []
        for prop in handler_type.props.values():
            items = [(prop.attr, prop.default)] if isinstance(prop, Field) else prop.attrs.items()
            for attr, default in items:
                setattr(self, attr, fresh(default))

    @property
    def go_type(self) -> str:  # type: ignore[override]
        return self.handler_type.go_type

    @property
    def method_self(self) -> Handler:
        return self

    def lookup(self, go_name: str) -> tuple[Prop, Any] | None:
        # The handler's own names shadow the alert's (MQTT's Topic, Zenoss's Message, OpsGenie's Teams).
        prop = self.handler_type.props.get(go_name)
        if prop is not None:
            return prop, self
        return self.node.lookup(go_name)

    def property_names(self) -> Iterator[tuple[str, Prop]]:
        yield from self.handler_type.props.items()
        yield from self.node.property_names()

    def __repr__(self) -> str:
        return f"<{self.handler_type.go_name} of {self.node.name}>"


def _fields(**specs: tuple[str, str, Any]) -> dict[str, Prop]:
    return {name: Field(*spec) for name, spec in specs.items()}


def _text(attr: str) -> tuple[str, str, Any]:
    return (attr, S, "")


def _set_first(attr: str) -> Callable[[Handler, list[Any]], None]:
    def init(handler: Handler, args: list[Any]) -> None:
        if args:
            setattr(handler, attr, args[0])

    return init


def _set_all(attr: str) -> Callable[[Handler, list[Any]], None]:
    def init(handler: Handler, args: list[Any]) -> None:
        setattr(handler, attr, list(args))

    return init


def _pd2_link(owner: Any, args: list[Any]) -> Any:
    owner.links.append({"href": args[0], "text": args[1] if len(args) > 1 else ""})
    return owner


def _pd2_service_key(owner: Any, args: list[Any]) -> Any:
    owner.routing_key = args[0]
    return owner


def _set_one(attr: str) -> Method:
    def apply(owner: Any, args: list[Any]) -> Any:
        setattr(owner, attr, args[0])
        return owner

    return Method((S,), apply, attrs={attr: ""})


def _snmp_data(owner: Any, args: list[Any]) -> Any:
    owner.data_list.append({"oid": args[0], "type": args[1], "value": args[2]})
    return owner


_HANDLERS = [
    HandlerType(
        "post",
        "AlertHTTPPostHandler",
        {
            **_fields(URL=_text("url"), Endpoint=_text("endpoint"), Timeout=("timeout", D, 0)),
            "Header": put("headers"),
            "CaptureResponse": flag("capture_response"),
            "SkipSSLVerification": flag("skip_ssl_verification"),
        },
        variadic=S,
        init=_set_first("url"),
    ),
    HandlerType("tcp", "TcpHandler", _fields(Address=_text("address")), (S,), init=_set_first("address")),
    HandlerType(
        "email",
        "EmailHandler",
        {"To": strings("to_list", append=True), "ToTemplates": strings("to_templates_list", append=True)},
        variadic=S,
        init=_set_all("to_list"),
    ),
    HandlerType(
        "log",
        "LogHandler",
        _fields(FilePath=_text("file_path"), Mode=("mode", I64, 0)),
        (S,),
        init=_set_first("file_path"),
    ),
    HandlerType("victorOps", "VictorOpsHandler", _fields(RoutingKey=_text("routing_key"))),
    HandlerType("pagerDuty", "PagerDutyHandler", _fields(ServiceKey=_text("service_key"))),
    HandlerType(
        "pagerDuty2",
        "PagerDuty2Handler",
        {
            **_fields(RoutingKey=_text("routing_key")),
            "Link": Method((S,), _pd2_link, variadic=S, attrs={"links": []}),
            "ServiceKey": Method((S,), _pd2_service_key),
        },
    ),
    HandlerType(
        "pushover",
        "PushoverHandler",
        _fields(
            UserKey=_text("user_key"),
            Device=_text("device"),
            Title=_text("title"),
            URL=_text("url"),
            URLTitle=_text("url_title"),
            Sound=_text("sound"),
        ),
    ),
    HandlerType(
        "sensu",
        "SensuHandler",
        {**_fields(Source=_text("source")), "Handlers": strings("handlers"), "Metadata": put("metadata", A)},
    ),
    HandlerType(
        "slack",
        "SlackHandler",
        _fields(
            Workspace=_text("workspace"),
            Channel=_text("channel"),
            Username=_text("username"),
            IconEmoji=_text("icon_emoji"),
        ),
    ),
    HandlerType(
        "discord",
        "DiscordHandler",
        _fields(
            Workspace=_text("workspace"),
            Username=_text("username"),
            AvatarURL=_text("avatar_url"),
            EmbedTitle=_text("embed_title"),
        ),
    ),
    HandlerType(
        "bigPanda",
        "BigPandaHandler",
        {
            **_fields(
                AppKey=_text("app_key"),
                Host=_text("host"),
                PrimaryProperty=_text("primary_property"),
                SecondaryProperty=_text("secondary_property"),
            ),
            "Attribute": put("attributes", A),
        },
    ),
    HandlerType(
        "telegram",
        "TelegramHandler",
        {
            **_fields(ChatId=_text("chat_id"), ParseMode=_text("parse_mode")),
            "DisableWebPagePreview": flag("disable_web_page_preview"),
            "DisableNotification": flag("disable_notification"),
        },
    ),
    HandlerType("hipChat", "HipChatHandler", _fields(Room=_text("room"), Token=_text("token"))),
    HandlerType(
        "alerta",
        "AlertaHandler",
        {
            **_fields(
                Token=_text("token"),
                Resource=_text("resource"),
                Event=_text("event"),
                Environment=_text("environment"),
                Group=_text("group"),
                Value=_text("value"),
                Origin=_text("origin"),
                Timeout=("timeout", D, 0),
            ),
            "Services": strings("services"),
            "Correlated": strings("correlated"),
            "Attribute": put("attributes", A),
        },
    ),
    HandlerType(
        "opsGenie", "OpsGenieHandler", {"Teams": strings("teams"), "Recipients": strings("recipients")}
    ),
    HandlerType(
        "opsGenie2",
        "OpsGenie2Handler",
        {
            "Teams": strings("teams"),
            "Recipients": strings("recipients"),
            "RecoveryAction": _set_one("recovery_action"),
            "Details": flag("details"),
        },
    ),
    HandlerType("talk", "TalkHandler", {}),
    HandlerType(
        "mqtt",
        "MQTTHandler",
        _fields(
            BrokerName=_text("broker_name"),
            Topic=_text("topic"),
            Qos=("qos", I64, 0),
            Retained=("retained", B, False),
        ),
        (S,),
        init=_set_first("topic"),
    ),
    HandlerType(
        "snmpTrap",
        "SNMPTrapHandler",
        {
            **_fields(TrapOid=_text("trap_oid")),
            "Data": Method((S, S, S), _snmp_data, attrs={"data_list": []}),
        },
        (S,),
        init=_set_first("trap_oid"),
    ),
    HandlerType(
        "kafka",
        "KafkaHandler",
        {
            **_fields(
                Cluster=_text("cluster"),
                KafkaTopic=_text("kafka_topic"),
                PartitionHashAlgorithm=_text("partition_hash_algorithm"),
                Template=_text("template"),
            ),
            "DisablePartitionById": flag("disable_partition_by_id"),
        },
    ),
    HandlerType("teams", "TeamsHandler", _fields(ChannelURL=_text("channel_url"))),
    HandlerType(
        "serviceNow",
        "ServiceNowHandler",
        {
            **_fields(
                URL=_text("url"),
                Username=_text("username"),
                Password=_text("password"),
                Source=_text("source"),
                Node=_text("node_name"),
                Type=_text("type"),
                Resource=_text("resource"),
                MetricName=_text("metric_name"),
                MessageKey=_text("message_key"),
            ),
            "AdditionalInfo": put("additional_info", A),
        },
    ),
    HandlerType(
        "zenoss",
        "ZenossHandler",
        {
            **_fields(
                URL=_text("url"),
                Username=_text("username"),
                Password=_text("password"),
                Action=_text("action"),
                Method=_text("method"),
                Type=_text("type"),
                Tid=("tid", I64, 0),
                Collector=_text("collector"),
                Summary=("summary", S, "{{ .Message }}"),
                Device=_text("device"),
                Component=_text("component"),
                EventClassKey=_text("event_class_key"),
                EventClass=_text("event_class"),
                Message=_text("message"),
            ),
            "CustomField": put("custom_fields", A),
        },
    ),
]

# Keyed by the Go name of the alert's method creating the handler (`Slack`, `Post`, `SnmpTrap`).
HANDLER_TYPES: dict[str, HandlerType] = {h.kind[0].upper() + h.kind[1:]: h for h in _HANDLERS}
