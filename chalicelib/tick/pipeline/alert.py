"""The alert node: its properties, its handlers, and the `*pipeline.AlertNodeData` view that Kapacitor's
alert property methods (`.stateChangesOnly()`, `.flapping()`, ...) return."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.tick.pipeline import gotypes as go
from chalicelib.tick.pipeline.base import Method, Node, NodeType, Prop, Receiver, flag, node_type
from chalicelib.tick.pipeline.handlers import HANDLER_TYPES, Handler, HandlerType
from chalicelib.tick.pipeline.nodes import check_post_headers

if TYPE_CHECKING:
    from chalicelib.tick.pipeline.pipeline import Pipeline

S, I64, F, D, L = go.STRING, go.INT, go.FLOAT, go.DURATION, go.LAMBDA

DEFAULT_ID = "{{ .Name }}:{{ .Group }}"
DEFAULT_MESSAGE = "{{ .ID }} is {{ .Level }}"
DEFAULT_DETAILS = "{{ json . }}"
EXEC_REFUSED = "the exec alert handler is not supported: it needs a long-running process"
SNMP_TYPES = frozenset("cinst")


@dataclass(slots=True)
class Inhibitor:
    category: str
    equal_tags: list[str] = field(default_factory=list)


class AlertDataView(Receiver):
    """The alert seen as `*pipeline.AlertNodeData`: same properties and chaining methods, other %T."""

    go_type = "*pipeline.AlertNodeData"

    def __init__(self, node: AlertNode) -> None:
        self.node = node

    @property
    def method_self(self) -> AlertDataView:
        return self

    def lookup(self, go_name: str) -> tuple[Prop, Any] | None:
        return self.node.lookup(go_name)

    def property_names(self) -> Iterator[tuple[str, Prop]]:
        return self.node.property_names()


class AlertNode(Node):
    def __init__(self, kind: NodeType, wants: str, provides: str, pipeline: Pipeline) -> None:
        super().__init__(kind, wants, provides, pipeline)
        self.handlers: list[Handler] = []
        self.data_view = AlertDataView(self)

    @property
    def method_self(self) -> AlertDataView:
        # Go's alert property methods are declared on *AlertNodeData and return it.
        return self.data_view

    def handlers_of(self, kind: str) -> list[Handler]:
        return [h for h in self.handlers if h.kind == kind]


def _handler_method(handler_type: HandlerType) -> Method:
    def apply(owner: AlertNode, args: list[Any]) -> Handler:
        handler = Handler(handler_type, owner, args)
        if handler_type.init is not None:
            handler_type.init(handler, args)
        owner.handlers.append(handler)
        return handler

    return Method(handler_type.params, apply, variadic=handler_type.variadic)


def _refuse_exec(owner: Any, args: list[Any]) -> Any:
    raise go.GoError(EXEC_REFUSED)


def _state_changes_only(owner: Any, args: list[Any]) -> Any:
    owner.state_changes_only = True
    if len(args) == 1:
        owner.state_changes_only_duration = go.native(args[0], D)
    return owner.method_self


def _flapping(owner: Any, args: list[Any]) -> Any:
    owner.use_flapping = True
    owner.flap_low, owner.flap_high = args
    return owner.method_self


def _inhibit(owner: Any, args: list[Any]) -> Any:
    owner.inhibitors.append(Inhibitor(args[0], list(args[1:])))
    return owner.method_self


def _validate_alert(node: Any) -> str | None:
    for snmp in node.handlers_of("snmpTrap"):
        problem = _check_snmp(snmp)
        if problem:
            return f"invalid SNMP trap {go.quote(snmp.trap_oid)}: {problem}"
    for post in node.handlers_of("post"):
        problem = check_post_headers(post.headers)
        if problem:
            return f"invalid post: {problem}"
    return None


def _check_snmp(snmp: Handler) -> str | None:
    if not snmp.trap_oid:
        return "you must supply a trap Oid"
    for data in snmp.data_list:
        if data["type"] not in SNMP_TYPES or len(data["type"]) != 1:
            return f"unsupported data type {go.quote(data['type'])} for data entry {go.quote(data['oid'])}"
    return None


def _snake(go_name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in go_name).lstrip("_")


_LAMBDAS = ("Info", "Warn", "Crit", "InfoReset", "WarnReset", "CritReset")
_TEXTS = ("Category", "Topic", "LevelTag", "LevelField", "MessageField", "DurationField", "IdTag", "IdField")

ALERT = node_type(
    "alert",
    "AlertNode",
    "alert",
    fields={
        **{name: (_snake(name), S, "") for name in _TEXTS},
        "Id": ("alert_id", S, DEFAULT_ID),
        "Message": ("message", S, DEFAULT_MESSAGE),
        "Details": ("details", S, DEFAULT_DETAILS),
        **{name: (_snake(name), L, None) for name in _LAMBDAS},
        "FlapLow": ("flap_low", F, 0.0),
        "FlapHigh": ("flap_high", F, 0.0),
        "History": ("history", I64, 21),
        "StateChangesOnlyDuration": ("state_changes_only_duration", D, 0),
    },
    methods={
        "Flapping": Method((F, F), _flapping, attrs={"use_flapping": False}),
        "All": flag("all"),
        "NoRecoveries": flag("no_recoveries"),
        "StateChangesOnly": Method((), _state_changes_only, variadic=D, attrs={"state_changes_only": False}),
        "Inhibit": Method((S,), _inhibit, variadic=S, attrs={"inhibitors": []}),
        **{name: _handler_method(h) for name, h in HANDLER_TYPES.items()},
        "Exec": Method((S,), _refuse_exec, variadic=S),
    },
    extra_chains=frozenset({"Log"}),
    validate=_validate_alert,
)
