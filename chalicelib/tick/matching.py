"""Alert handler `match` expressions (Kapacitor's services/alert): a TICKscript lambda body over an
event, with `level()`, `changed()`, `name()`, `taskName()`, `alertDuration()`, the level names as
integers, and the event's tags as references."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.alert.events import AlertEvent, Level
from chalicelib.kit.errors import TicklessError, invalid
from chalicelib.kit.gotemplate import go_quote
from chalicelib.tick import ast
from chalicelib.tick.lambdas import Scope, compile_lambda, value_node
from chalicelib.tick.parser import parse_lambda
from chalicelib.tick.values import Duration

MATCH_IDENTIFIERS: dict[str, int] = {level.name: int(level) for level in Level}
_MATCH_FUNCTIONS = ("changed", "level", "name", "taskName", "alertDuration")


def compile_match(text: str) -> ast.Node:
    """A handler's `match` as Kapacitor checks it when it creates the handler: parsed as a lambda body,
    identifiers replaced by the levels they name, and checked as an evaluable expression."""
    try:
        node = parse_lambda(text).expression
    except TicklessError as err:
        raise invalid(f"invalid match expression: {err.message}") from None
    node = _substitute(node, None)
    try:
        compile_lambda(node)
    except TicklessError as err:
        raise invalid(f"invalid match expression: {err.message}") from None
    return node


def event_name(event: AlertEvent) -> str:
    series = event.data.get("series") or []
    return str(series[0].get("name", "")) if series else ""


def event_tags(event: AlertEvent) -> dict[str, str]:
    series = event.data.get("series") or []
    return dict(series[0].get("tags") or {}) if series else {}


def matches(node: ast.Node, event: AlertEvent, previous_level: Level) -> bool:
    """Whether a compiled match expression holds for an event whose id was at `previous_level` in the
    topic; an expression that cannot be evaluated (a missing tag, a type error) does not match."""
    values = {
        "changed": event.level != previous_level,
        "level": int(event.level),
        "name": event_name(event),
        "taskName": event.task,
        "alertDuration": Duration(event.duration),
    }
    tags = event_tags(event)
    try:
        expression = compile_lambda(_substitute(node, values))
        if any(ref not in tags for ref in expression.references()):
            return False  # Kapacitor: "no tag exists for <name>"
        return expression.evaluate_bool(Scope(tags=tags)) is True
    except TicklessError:
        return False


def _substitute(node: ast.Node, calls: Mapping[str, Any] | None) -> ast.Node:
    """A copy of `node` with the level identifiers as integers and, given `calls`, the match functions
    called without arguments as the event's values."""
    match node:
        case ast.IdentifierNode():
            if node.ident not in MATCH_IDENTIFIERS:
                raise invalid(f"unknown identifier {go_quote(node.ident)}")
            return value_node(MATCH_IDENTIFIERS[node.ident], node.where)
        case ast.FunctionNode():
            if calls is not None and node.func in calls and not node.args:
                return value_node(calls[node.func], node.where)
            args = [_substitute(arg, calls) for arg in node.args]
            return replace(node, args=args)
        case ast.UnaryNode():
            return replace(node, node=_substitute(node.node, calls))
        case ast.BinaryNode():
            return replace(node, left=_substitute(node.left, calls), right=_substitute(node.right, calls))
        case ast.LambdaNode():
            return replace(node, expression=_substitute(node.expression, calls))
    return node


class TickMatcher:
    """alert.service.Matcher over the functions above."""

    def compile(self, text: str) -> ast.Node:
        return compile_match(text)

    def matches(self, compiled: ast.Node, event: AlertEvent, previous_level: Level) -> bool:
        return matches(compiled, event, previous_level)
