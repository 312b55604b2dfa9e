"""The alert node: its levels' lambdas evaluated with each group's own function state, its statistics, and
the topics its events go to. The state machine itself is chalicelib.alert's; that package depends on tick,
so it comes in through `RuntimeConfig.alerts`, a factory turning an `AlertSpec` into an `AlertMachine`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.kit.errors import invalid
from chalicelib.tick.exec.base import Context, GroupLambdas, NodeExec, fast_predicate, scope_of
from chalicelib.tick.exec.model import Batch, Message, Point
from chalicelib.tick.exec.outputs import AlertOutput
from chalicelib.tick.pipeline import DeadmanCondition, Node
from chalicelib.tick.values import Lambda

if TYPE_CHECKING:
    from chalicelib.alert.events import AlertEvent

# The order of the node's lambdas in its group state; levels are alert.Level's values (INFO=1 .. CRITICAL=3).
_LAMBDAS = ("info", "warn", "crit", "info_reset", "warn_reset", "crit_reset")
_LEVELS = (1, 2, 3)
_COUNTERS = ("oks_triggered", "infos_triggered", "warns_triggered", "crits_triggered")
ErrorSink = Callable[[str, Exception], None]
Predicate = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """What an alert node needs from chalicelib.alert: predicates by level value taking a point with
    `fields`, `tags` and `time`; the templates; `settings` as chalicelib.alert.state.AlertSettings' fields."""

    task: str
    node: str
    predicates: dict[int, Predicate]
    resets: dict[int, Predicate]
    id: str
    message: str
    details: str
    settings: dict[str, Any] = field(default_factory=dict)
    server: Any = None


class AlertMachine(Protocol):
    """One alert node's state machine; a group's state is opaque here, saved as `dump_state`'s JSON."""

    def new_state(self) -> Any: ...

    def dump_state(self, state: Any) -> dict[str, Any]: ...

    def load_state(self, data: dict[str, Any]) -> Any: ...

    def point(self, state: Any, p: Point, on_error: ErrorSink) -> tuple[AlertEvent | None, Point | None]: ...

    def batch(self, state: Any, b: Batch, on_error: ErrorSink) -> tuple[AlertEvent | None, Batch | None]: ...


AlertFactory = Callable[[AlertSpec], AlertMachine]


def alert_spec(
    node: Node,
    task: str,
    predicate: Callable[[int], Predicate],
    server: Any,
    forced_state_changes_only: bool = False,
) -> AlertSpec:
    present = [getattr(node, a) is not None for a in _LAMBDAS]
    return AlertSpec(
        task,
        node.name,
        {lvl: predicate(i) for i, lvl in enumerate(_LEVELS) if present[i]},
        {lvl: predicate(i + 3) for i, lvl in enumerate(_LEVELS) if present[i + 3]},
        node.alert_id,
        node.message,
        node.details,
        {
            "history": node.history,
            "use_flapping": node.use_flapping,
            "flap_low": node.flap_low,
            "flap_high": node.flap_high,
            "state_changes_only": node.state_changes_only or forced_state_changes_only,
            "state_changes_only_max_interval": node.state_changes_only_duration,
            "no_recoveries": node.no_recoveries,
            "all": node.all,
            "category": node.category,
            "level_tag": node.level_tag,
            "level_field": node.level_field,
            "id_tag": node.id_tag,
            "id_field": node.id_field,
            "message_field": node.message_field,
            "duration_field": node.duration_field,
        },
        server,
    )


class AlertExec(NodeExec):
    grouped = True

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        factory: AlertFactory | None = ctx.config.alerts
        if factory is None:
            raise invalid("alert nodes need the alert service: RuntimeConfig.alerts is not set")
        self.deadman: list[DeadmanCondition | None] = []
        lambdas: list[Lambda | None] = []
        for attr in _LAMBDAS:
            lam = getattr(node, attr)
            condition = lam.expression if isinstance(lam, Lambda) else None
            # The deadman's condition is data, not syntax: its extra conditions are the lambdas here.
            self.deadman.append(condition if isinstance(condition, DeadmanCondition) else None)
            lambdas.append(None if isinstance(condition, DeadmanCondition) else lam)
        self.extra = [GroupLambdas(c.extra) if c is not None else None for c in self.deadman]
        self.lambdas = GroupLambdas(lambdas)
        config = ctx.config
        self.machine = factory(
            alert_spec(node, config.task, self._predicate, config.server, config.state_changes_only)
        )
        # anonymous topics are named for the task master: `main`, or a replay's id
        anonymous = f"{config.task_master}:{config.task}:{node.name}" if node.handlers else ""
        self.topics = tuple(t for t in (anonymous, node.topic) if t)
        self.counters = dict.fromkeys(("alerts_triggered", "alerts_inhibited", *_COUNTERS), 0)

    def _predicate(self, index: int) -> Predicate:
        condition = self.deadman[index]
        expr = self.lambdas.expressions[index]
        # The usual `"field" > 90`: fast_predicate's answer is evaluate_bool's whenever it gives one.
        fast = fast_predicate(expr) if condition is None and expr is not None else None

        def check(p: Any) -> bool:
            if fast is not None:
                passed = fast(p.fields, p.tags)
                if passed is not None:
                    return passed
            scope = scope_of(p.fields, p.tags, p.time)
            if condition is not None:
                emitted = p.fields.get("emitted")
                if isinstance(emitted, bool) or not isinstance(emitted, int | float):
                    return False
                if not emitted <= condition.threshold:
                    return False
                extra = self.extra[index]
                return extra is not None and all(
                    e is not None and e.evaluate_bool(scope) for e in extra.expressions
                )
            return expr is not None and expr.evaluate_bool(scope)

        return check

    # ---- groups -------------------------------------------------------------------------------------------

    def new_group(self, msg: Message) -> Any:
        return {
            "alert": self.machine.new_state(),
            "lambda": self.lambdas.new_state(),
            "extra": self._extra_new(),
        }

    def _extra_new(self) -> list[list[dict[str, Any]]]:
        return [e.new_state() if e is not None else [] for e in self.extra]

    def dump_group(self, state: Any) -> Any:
        return {
            "alert": self.machine.dump_state(state["alert"]),
            "lambda": state["lambda"],
            "extra": state["extra"],
        }

    def load_group(self, data: Any) -> Any:
        return {
            "alert": self.machine.load_state(data["alert"]),
            "lambda": data["lambda"],
            "extra": data.get("extra") or self._extra_new(),
        }

    def _enter(self, g: Any) -> None:
        self.lambdas.enter(g["lambda"])
        for extra, state in zip(self.extra, g["extra"], strict=False):
            if extra is not None:
                extra.enter(state)

    def _leave(self, g: Any) -> None:
        self.lambdas.leave(g["lambda"])
        for extra, state in zip(self.extra, g["extra"], strict=False):
            if extra is not None:
                extra.leave(state)

    # ---- messages -----------------------------------------------------------------------------------------

    def point(self, p: Point) -> list[Message]:
        g = self.group(p)
        if g is None:
            return []
        self._enter(g)
        try:
            event, out = self.machine.point(g["alert"], p, self._sink)
        finally:
            self._leave(g)
        self._handle(event)
        return [] if out is None else [out]

    def batch(self, b: Batch) -> list[Message]:
        g = self.group(b)
        if g is None:
            return []
        self._enter(g)
        try:
            event, out = self.machine.batch(g["alert"], b, self._sink)
        finally:
            self._leave(g)
        self._handle(event)
        return [] if out is None else [out]

    def _sink(self, message: str, err: Exception) -> None:
        self.error(message, err)

    def _handle(self, event: AlertEvent | None) -> None:
        if event is None:
            return
        self.counters["alerts_triggered"] += 1
        self.counters[_COUNTERS[int(event.level)]] += 1
        self.ctx.outputs.alerts.append(AlertOutput(self.name, event, self.topics))

    # ---- statistics and state -----------------------------------------------------------------------------

    def node_stats(self) -> dict[str, Any]:
        return {**super().node_stats(), **self.counters}

    def dump(self) -> dict[str, Any]:
        return {"counters": dict(self.counters)}

    def load(self, data: dict[str, Any]) -> None:
        self.counters.update({k: int(v) for k, v in data.get("counters", {}).items() if k in self.counters})
