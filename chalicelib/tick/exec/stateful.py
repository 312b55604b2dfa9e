"""Nodes remembering a group's previous point: derivative, changeDetect, stateDuration, stateCount."""

from __future__ import annotations

from typing import Any

from chalicelib.kit.errors import TicklessError
from chalicelib.tick.exec.base import Context, GroupLambdas, NodeExec, scope_of
from chalicelib.tick.exec.model import Batch, BatchPoint, Message, Point
from chalicelib.tick.pipeline import Node


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _go_type(value: Any) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    return {int: "int64", float: "float64", str: "string"}.get(type(value), type(value).__name__)


class DerivativeExec(NodeExec):
    """The rate of change of a field between a group's consecutive points, per `.unit()`."""

    grouped = True

    def new_group(self, msg: Message) -> Any:
        return {"prev": None}  # [time, fields] of the stored point

    def _derive(self, g: dict[str, Any], t: int, fields: dict[str, Any]) -> float | None:
        n = self.node
        current = _number(fields.get(n.field))
        if current is None:
            self.error(
                "cannot perform derivative",
                "field is the wrong type",
                field=n.field,
                type=_go_type(fields.get(n.field)),
            )
            return None
        prev = g["prev"]
        g["prev"] = [t, fields]
        previous = None if prev is None else _number(prev[1].get(n.field))
        if previous is None:
            return None
        elapsed = float(t - prev[0])
        if elapsed == 0:
            self.error("cannot perform derivative", "elaspsed time was 0")
            return None
        diff = current - previous
        if n.non_negative and diff < 0:
            return None
        return diff / (elapsed / float(n.unit))

    def point(self, p: Point) -> list[Message]:
        g = self.group(p)
        if g is None:
            return []
        value = self._derive(g, p.time, p.fields)
        return [] if value is None else [p.copy(fields={**p.fields, self.node.as_: value})]

    def batch(self, b: Batch) -> list[Message]:
        g = self.group(b)
        if g is None:
            return []
        g["prev"] = None
        points = []
        for bp in b.points:
            value = self._derive(g, bp.time, bp.fields)
            if value is not None:
                points.append(BatchPoint(bp.time, {**bp.fields, self.node.as_: value}, bp.tags))
        return [b.copy(points=points)]


def _same(a: Any, b: Any) -> bool:
    # Go compares interface values: an int64 never equals a float64.
    return type(a) is type(b) and a == b


class ChangeDetectExec(NodeExec):
    grouped = True

    def new_group(self, msg: Message) -> Any:
        return {"prev": None}

    def _changed(self, g: dict[str, Any], fields: dict[str, Any]) -> bool:
        prev = g["prev"] or {}
        for name in self.node.fields:
            if name not in fields:
                self.error("Invalid field in change detect", f"expected field {name} not found", field=name)
                continue
            if name not in prev or not _same(prev[name], fields[name]):
                g["prev"] = fields
                return True
        return False

    def point(self, p: Point) -> list[Message]:
        g = self.group(p)
        return [p] if g is not None and self._changed(g, p.fields) else []

    def batch(self, b: Batch) -> list[Message]:
        g = self.group(b)
        if g is None:
            return []
        g["prev"] = None
        return [b.copy(points=[bp for bp in b.points if self._changed(g, bp.fields)])]


class StateTrackExec(NodeExec):
    """stateDuration (in `.unit()`s, -1 outside the state) and stateCount (-1 outside the state)."""

    grouped = True

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.lambdas = GroupLambdas([node.lambda_])
        self.counting = node.type == "stateCount"

    def new_group(self, msg: Message) -> Any:
        return {"lambda": self.lambdas.new_state(), "start": None, "count": 0}

    def _track(self, g: dict[str, Any], t: int, fields: dict[str, Any], tags: dict[str, str]) -> Any:
        expr = self.lambdas.expressions[0]
        self.lambdas.enter(g["lambda"])
        try:
            inside = expr is not None and expr.evaluate_bool(scope_of(fields, tags, t))
        except TicklessError as err:
            self.error("error while evaluating expression", err)
            return None
        finally:
            self.lambdas.leave(g["lambda"])
        if self.counting:
            g["count"] = g["count"] + 1 if inside else 0
            return g["count"] if inside else -1
        if not inside:
            g["start"] = None
            return -1.0
        if g["start"] is None:
            g["start"] = t
        return float(t - g["start"]) / float(self.node.unit)

    def point(self, p: Point) -> list[Message]:
        g = self.group(p)
        if g is None:
            return []
        value = self._track(g, p.time, p.fields, p.tags)
        return [] if value is None else [p.copy(fields={**p.fields, self.node.as_: value})]

    def batch(self, b: Batch) -> list[Message]:
        g = self.group(b)
        if g is None:
            return []
        g["start"], g["count"] = None, 0
        points = []
        for bp in b.points:
            value = self._track(g, bp.time, bp.fields, bp.tags)
            if value is not None:
                points.append(BatchPoint(bp.time, {**bp.fields, self.node.as_: value}, bp.tags))
        return [b.copy(points=points)]
