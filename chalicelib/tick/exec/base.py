"""What every executing node shares: its statistics, its groups (bounded in number, expiring when idle in
event time), its error reporting, and the per-group state of its lambdas."""

from __future__ import annotations

import operator
import time as clock
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from chalicelib.kit.errors import TicklessError, invalid
from chalicelib.kit.time import HOUR
from chalicelib.tick import ast
from chalicelib.tick.exec.model import Batch, Message, Point
from chalicelib.tick.exec.outputs import LogLine, Outputs
from chalicelib.tick.lambdas import Expression, Scope, compile_lambda
from chalicelib.tick.pipeline import Node
from chalicelib.tick.tokens import TokenType
from chalicelib.tick.values import Lambda

if TYPE_CHECKING:
    from chalicelib.tick.exec.alerting import AlertFactory

_perf_counter_ns = clock.perf_counter_ns
DEFAULT_MAX_GROUPS = 10_000
DEFAULT_GROUP_IDLE = 24 * HOUR


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """`max_groups`: groups one node keeps at most (a new group beyond it is refused and counted as an
    error); `group_idle`: ns of event time after which a group that saw nothing is forgotten (0: never);
    `alerts`: builds alert nodes' state machines (chalicelib.alert's, which tick may not import);
    `server`: the alert templates' `.ServerInfo` (chalicelib.alert.messages.ServerInfo)."""

    task: str = ""
    max_groups: int = DEFAULT_MAX_GROUPS
    group_idle: int = DEFAULT_GROUP_IDLE
    alerts: AlertFactory | None = None
    server: Any = None
    state_changes_only: bool = False  # every alert node is, as a global handler section can ask
    # Kapacitor's task master: `main` for running tasks, a replay's id for the replay's own run (its
    # anonymous alert topics are `<master>:<task>:<node>`)
    task_master: str = "main"


class Context:
    """The task-wide part of execution: configuration and the outputs of the current feed."""

    def __init__(self, config: RuntimeConfig) -> None:
        self.config = config
        self.outputs = Outputs()
        self.pending_logs: list[LogLine] = []  # for the next feed's outputs

    def log(self, node: str, level: str, message: str, **values: Any) -> None:
        self.outputs.logs.append(LogLine(level, node, message, values))


@dataclass(slots=True)
class Stats:
    collected: int = 0
    emitted: int = 0
    errors: int = 0
    exec_ns: int = 0
    execs: int = 0
    processed: dict[str, int] = field(default_factory=dict)

    def to_state(self) -> dict[str, Any]:
        return {
            "collected": self.collected,
            "emitted": self.emitted,
            "errors": self.errors,
            "exec_ns": self.exec_ns,
            "execs": self.execs,
            "processed": dict(self.processed),
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Stats:
        return cls(
            int(data.get("collected", 0)),
            int(data.get("emitted", 0)),
            int(data.get("errors", 0)),
            int(data.get("exec_ns", 0)),
            int(data.get("execs", 0)),
            {k: int(v) for k, v in data.get("processed", {}).items()},
        )


# What `receive` counts and logs as a message's error; anything else stops the feed.
HANDLED_ERRORS = (TicklessError, ArithmeticError, TypeError, ValueError)
# What `handle_many` answers: the end of the messages it handled, what they emitted, and the exception
# the last of them raised (None if none did).
Handled = tuple[int, list[Message], Exception | None]


class NodeExec:
    """One executing node. Subclasses handle `point` and/or `batch`, returning what they emit; per-group
    state lives in `self.groups` as objects `dump_group`/`load_group` turn into JSON data and back.

    A `batched` node also handles a run of messages at once (`handle_many`), for the runtime to move a
    stream task's points through it without a dispatch per point (see `receive_many`)."""

    grouped: ClassVar[bool] = False
    batched: ClassVar[bool] = False

    def __init__(self, node: Node, ctx: Context) -> None:
        self.node = node
        self.ctx = ctx
        self.name = node.name
        self.quiet = bool(getattr(node, "quiet", False))
        self.stats = Stats()
        self.groups: dict[str, Any] = {}
        self.seen: dict[str, int] = {}

    # ---- message handling ------------------------------------------------------------------------------

    def receive(self, msg: Message, parent: int) -> list[Message]:
        started = _perf_counter_ns()
        self.stats.collected += 1
        try:
            out = self.handle(msg, parent)
        except HANDLED_ERRORS as err:
            # Bad data never stops the task: the error is counted and logged, as Kapacitor does.
            self.error("failed to process message", err)
            out = []
        stats = self.stats
        stats.exec_ns += _perf_counter_ns() - started
        stats.execs += 1
        stats.emitted += len(out)
        return out

    def receive_many(self, msgs: list[Message], start: int) -> Handled:
        """`receive` of msgs[start:end] one after the other, with their statistics (the run's time shared
        by its messages), as `handle_many` answers. Before the runtime passes on the messages emitted, or
        handles msgs[end] with `receive`, it calls `failed` with the exception, if any."""
        started = _perf_counter_ns()
        end, out, err = self.handle_many(msgs, start)
        stats = self.stats
        stats.exec_ns += _perf_counter_ns() - started
        handled = end - start
        stats.collected += handled
        # `receive` does not count the execution of a message whose exception stops the feed.
        stats.execs += handled - 1 if err is not None and not isinstance(err, HANDLED_ERRORS) else handled
        stats.emitted += len(out)
        return end, out, err

    def handle_many(self, msgs: list[Message], start: int) -> Handled:
        """`handle` of msgs[start:end], in order, emitting their messages in order: only for messages
        whose handling touches nothing but the node's own state (no log, no output, no error counted),
        so that handling them before their emitted messages go on is the same as handling each in turn.
        It stops before a message it cannot handle so (end < len(msgs), for `receive` to handle), or
        just after one whose handling raised (that message emitted nothing: the exception is returned).
        Only `batched` nodes are asked."""
        raise NotImplementedError

    def failed(self, err: Exception) -> None:
        """What `receive` does when handling raised `err`, for a message `handle_many` handled."""
        if not isinstance(err, HANDLED_ERRORS):
            raise err
        self.error("failed to process message", err)

    def handle(self, msg: Message, parent: int) -> list[Message]:
        """What the node emits for a message from its `parent`-th parent."""
        return self.point(msg) if isinstance(msg, Point) else self.batch(msg)

    def point(self, p: Point) -> list[Message]:
        raise invalid(f"{self.node.type} does not support stream data")

    def batch(self, b: Batch) -> list[Message]:
        raise invalid(f"{self.node.type} does not support batch data")

    def error(self, message: str, err: Exception | str, **values: Any) -> None:
        """nodeDiagnostic.Error: counted always, logged unless the node is quiet."""
        self.stats.errors += 1
        if not self.quiet:
            text = err.message if isinstance(err, TicklessError) else str(err)
            self.ctx.log(self.name, "error", message, err=text, **values)

    # ---- groups ----------------------------------------------------------------------------------------

    def group(self, msg: Message) -> Any | None:
        """The state of the message's group, created on its first message; None when refused."""
        gid = msg.group
        state = self.groups.get(gid)
        if state is None:
            if len(self.groups) >= self.ctx.config.max_groups:
                self.error(
                    "refused new group",
                    f"too many groups: the limit of {self.ctx.config.max_groups} groups per node is reached",
                    group=gid,
                )
                return None
            state = self.new_group(msg)
            self.groups[gid] = state
        seen, t = self.seen, msg.time
        last = seen.get(gid)
        if last is None or t > last:
            seen[gid] = t
        return state

    def new_group(self, msg: Message) -> Any:
        return {}

    def dump_group(self, state: Any) -> Any:
        return state

    def load_group(self, data: Any) -> Any:
        return data

    def expire(self, before: int) -> None:
        for gid in [g for g, t in self.seen.items() if t < before]:
            self.groups.pop(gid, None)
            del self.seen[gid]
            self.forget(gid)

    def forget(self, gid: str) -> None:
        """A group expired (Kapacitor's DeleteGroup)."""

    # ---- statistics and state --------------------------------------------------------------------------

    def node_stats(self) -> dict[str, Any]:
        avg = self.stats.exec_ns // self.stats.execs if self.stats.execs else 0
        return {"avg_exec_time_ns": avg, "errors": self.stats.errors, "working_cardinality": len(self.groups)}

    def dump(self) -> dict[str, Any]:
        """Node-wide state beyond the groups."""
        return {}

    def load(self, data: dict[str, Any]) -> None:
        pass

    def to_state(self) -> dict[str, Any]:
        return {
            "type": self.node.type,
            "stats": self.stats.to_state(),
            "groups": {gid: self.dump_group(state) for gid, state in self.groups.items()},
            "seen": dict(self.seen),
            "node": self.dump(),
        }

    def load_state(self, data: dict[str, Any]) -> None:
        self.stats = Stats.from_state(data.get("stats", {}))
        self.groups = {gid: self.load_group(state) for gid, state in data.get("groups", {}).items()}
        self.seen = {gid: int(t) for gid, t in data.get("seen", {}).items() if gid in self.groups}
        self.load(data.get("node", {}))


class GroupLambdas:
    """A node's lambdas, evaluated with the stateful-function state of one group at a time (Kapacitor
    copies a node's expressions for each group)."""

    def __init__(self, lambdas: Iterable[Lambda | None]) -> None:
        self.expressions: list[Expression | None] = [
            None if lam is None else compile_lambda(lam) for lam in lambdas
        ]
        # The expressions' fast checks (fast_predicate), when every one has one.
        fast = [None if e is None else fast_predicate(e) for e in self.expressions]
        self.fast: list[Predicate] | None = fast if fast and None not in fast else None  # type: ignore[assignment]

    def new_state(self) -> list[dict[str, Any]]:
        return [{} for _ in self.expressions]

    def enter(self, states: list[dict[str, Any]]) -> None:
        for expr, state in zip(self.expressions, states, strict=False):
            if expr is not None and (state or expr.state):
                expr.from_state(state)

    def leave(self, states: list[dict[str, Any]]) -> None:
        for i, expr in enumerate(self.expressions):
            if expr is not None and (expr.state or states[i]):
                states[i] = expr.to_state()


Predicate = Callable[[dict[str, Any], dict[str, str]], bool | None]
_STRING_COMPARE = {TokenType.EQUAL: operator.eq, TokenType.NOT_EQUAL: operator.ne}
_NUMBER_COMPARE = {
    **_STRING_COMPARE,
    TokenType.LESS: operator.lt,
    TokenType.LESS_EQUAL: operator.le,
    TokenType.GREATER: operator.gt,
    TokenType.GREATER_EQUAL: operator.ge,
}


def fast_predicate(expression: Expression) -> Predicate | None:
    """For the usual where() and alert lambda, `"name" <op> literal` (a string with == or !=, a number with
    any comparison), a check of a point's fields and tags that answers what `evaluate_bool` answers when
    the value is there and of a type the evaluator compares with the literal the way the check does, and
    None otherwise (missing, nil, another type, a field and a tag of that name: the caller evaluates in
    full, for the evaluator's answer or error). None when the expression has another shape.

    Numbers: the evaluator compares an int with an int as ints, a float with a float as floats, and an
    int with a float (either side) after converting the int with float(): the check does exactly that."""
    node = expression.node
    if not (isinstance(node, ast.BinaryNode) and isinstance(node.left, ast.ReferenceNode)):
        return None
    name, right = node.left.reference, node.right
    if name == "time":
        return None
    if isinstance(right, ast.StringNode) and node.operator in _STRING_COMPARE:
        return _string_check(name, _STRING_COMPARE[node.operator], right.literal)
    if isinstance(right, ast.NumberNode) and node.operator in _NUMBER_COMPARE:
        literal = right.value
        if type(literal) is not (int if right.is_int else float):
            return None
        if right.is_int and not -(2**63) <= literal < 2**63:
            return None  # an int literal is an int64 (so float() of it is Go's float64() of it)
        return _number_check(name, _NUMBER_COMPARE[node.operator], literal)
    return None


def _string_check(name: str, compare: Callable[[Any, Any], bool], literal: str) -> Predicate:
    def check(fields: dict[str, Any], tags: dict[str, str]) -> bool | None:
        if name in fields:
            if name in tags:
                return None
            value = fields[name]
        else:
            value = tags.get(name)
        if type(value) is not str:
            return None
        return compare(value, literal)

    return check


def _number_check(name: str, compare: Callable[[Any, Any], bool], literal: int | float) -> Predicate:
    # The evaluator's (FLOAT, INT) entry compares value and float(literal); its (INT, FLOAT) entry
    # float(value) and literal; (INT, INT) and (FLOAT, FLOAT) the values as they are.
    as_float = float(literal)
    literal_is_int = type(literal) is int

    def check(fields: dict[str, Any], tags: dict[str, str]) -> bool | None:
        if name in fields:
            if name in tags:
                return None
            value = fields[name]
        else:
            return None  # tags are strings
        kind = type(value)
        if kind is float:
            return compare(value, as_float)
        if kind is int:
            return compare(value, literal) if literal_is_int else compare(float(value), literal)
        return None

    return check


def scope_of(fields: dict[str, Any], tags: dict[str, str], time: int) -> Scope:
    return Scope(fields=fields, tags=tags, time=time)
