"""Evaluation of lambda expressions per point, following Kapacitor's stateful evaluation (tick/stateful).

Types first, then values: an expression's type is known from its literals where it can be (a comparison
is always boolean), and otherwise found from the point's values before anything is computed; an operator
applies only to the operand types Kapacitor's table lists (ints and floats mix in comparisons, never in
arithmetic). Errors read as Kapacitor's do. Functions such as count() and sigma() keep state per
expression, exposed by `to_state()` / `from_state()` so it can outlive an invocation.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.tick import ast
from chalicelib.tick.functions import (
    BOOL,
    DURATION,
    FLOAT,
    FUNCTIONS,
    INT,
    MISSING,
    MISSING_TYPE,
    REGEX,
    STRING,
    CallError,
    Time,
    float_to_int64,
    go_float_v,
    signatures_text,
    type_of,
    wrap64,
)
from chalicelib.tick.functions import (
    INVALID as INVALID_TYPE,
)
from chalicelib.tick.parser import check_height, parse_lambda
from chalicelib.tick.tokens import (
    COMPARISON_OPERATORS,
    LOGICAL_OPERATORS,
    MATH_OPERATORS,
    TokenType,
    operator_text,
)
from chalicelib.tick.values import Duration, Lambda, Regex, Star

T = TokenType

__all__ = ["MISSING", "EvalError", "Expression", "Scope", "Time", "compile_lambda", "resolve_identifiers"]


class EvalError(TicklessError):
    """A lambda could not be evaluated for a point (Kapacitor logs these and drops the point)."""

    def __init__(self, message: str) -> None:
        super().__init__(INVALID, message)


# -- the operator table: (operator, left type, right type) -> (result type, implementation) -----------------


def _go_int_div(a: int, b: int) -> int:
    if b == 0:
        raise EvalError("runtime error: integer divide by zero")
    quotient = abs(a) // abs(b)
    return wrap64(quotient if (a < 0) == (b < 0) else -quotient)


def _go_int_mod(a: int, b: int) -> int:
    if b == 0:
        raise EvalError("runtime error: integer divide by zero")
    return int(math.fmod(a, b)) if abs(a) < 2**53 and abs(b) < 2**53 else a - b * _go_int_div(a, b)


def _float_div(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1, b)
    return a / b


def _dur(f: Callable[..., int]) -> Callable[..., Duration]:
    return lambda a, b: Duration(f(a, b))


_BINARY: dict[tuple[TokenType, str, str], tuple[str, Callable[[Any, Any], Any]]] = {
    (T.PLUS, FLOAT, FLOAT): (FLOAT, operator.add),
    (T.MINUS, FLOAT, FLOAT): (FLOAT, operator.sub),
    (T.MULT, FLOAT, FLOAT): (FLOAT, operator.mul),
    (T.DIV, FLOAT, FLOAT): (FLOAT, _float_div),
    (T.PLUS, INT, INT): (INT, lambda a, b: wrap64(a + b)),
    (T.MINUS, INT, INT): (INT, lambda a, b: wrap64(a - b)),
    (T.MULT, INT, INT): (INT, lambda a, b: wrap64(a * b)),
    (T.DIV, INT, INT): (INT, _go_int_div),
    (T.MOD, INT, INT): (INT, _go_int_mod),
    (T.PLUS, DURATION, DURATION): (DURATION, _dur(lambda a, b: wrap64(a.nanoseconds + b.nanoseconds))),
    (T.MINUS, DURATION, DURATION): (DURATION, _dur(lambda a, b: wrap64(a.nanoseconds - b.nanoseconds))),
    (T.MULT, DURATION, INT): (DURATION, _dur(lambda a, b: wrap64(a.nanoseconds * b))),
    (T.MULT, INT, DURATION): (DURATION, _dur(lambda a, b: wrap64(a * b.nanoseconds))),
    (T.MULT, DURATION, FLOAT): (DURATION, _dur(lambda a, b: float_to_int64(float(a.nanoseconds) * b))),
    (T.MULT, FLOAT, DURATION): (DURATION, _dur(lambda a, b: float_to_int64(a * float(b.nanoseconds)))),
    (T.DIV, DURATION, INT): (DURATION, _dur(lambda a, b: _go_int_div(a.nanoseconds, b))),
    (T.DIV, DURATION, FLOAT): (
        DURATION,
        _dur(lambda a, b: float_to_int64(_float_div(float(a.nanoseconds), b))),
    ),
    (T.DIV, DURATION, DURATION): (INT, lambda a, b: _go_int_div(a.nanoseconds, b.nanoseconds)),
    (T.PLUS, STRING, STRING): (STRING, operator.add),
    (T.REGEX_EQUAL, STRING, REGEX): (BOOL, lambda a, b: b.search(a) is not None),
    (T.REGEX_NOT_EQUAL, STRING, REGEX): (BOOL, lambda a, b: b.search(a) is None),
    (T.EQUAL, BOOL, BOOL): (BOOL, operator.eq),
    (T.NOT_EQUAL, BOOL, BOOL): (BOOL, operator.ne),
}
_COMPARE = {
    T.EQUAL: operator.eq,
    T.NOT_EQUAL: operator.ne,
    T.LESS: operator.lt,
    T.LESS_EQUAL: operator.le,
    T.GREATER: operator.gt,
    T.GREATER_EQUAL: operator.ge,
}
for _op, _f in _COMPARE.items():
    _BINARY[(_op, STRING, STRING)] = (BOOL, _f)
    _BINARY[(_op, INT, INT)] = (BOOL, _f)
    _BINARY[(_op, FLOAT, FLOAT)] = (BOOL, _f)
    _BINARY[(_op, INT, FLOAT)] = (BOOL, lambda a, b, f=_f: f(float(a), b))
    _BINARY[(_op, FLOAT, INT)] = (BOOL, lambda a, b, f=_f: f(a, float(b)))
    _BINARY[(_op, DURATION, DURATION)] = (BOOL, lambda a, b, f=_f: f(a.nanoseconds, b.nanoseconds))
# AND and OR short-circuit, so they are evaluated apart; listed here for their types.
_BINARY[(T.AND, BOOL, BOOL)] = (BOOL, operator.and_)
_BINARY[(T.OR, BOOL, BOOL)] = (BOOL, operator.or_)

# Which operators each type takes part in, on either side (for "invalid ... operator" errors).
_TYPE_OPERATORS: dict[str, set[TokenType]] = {}
for _op, _left, _right in _BINARY:
    _TYPE_OPERATORS.setdefault(_left, set()).add(_op)
    _TYPE_OPERATORS.setdefault(_right, set()).add(_op)


def _operator_kind(op: TokenType) -> str:
    if op in MATH_OPERATORS:
        return "math"
    if op in COMPARISON_OPERATORS:
        return "comparison"
    if op in LOGICAL_OPERATORS:
        return "logical"
    return "INVALID"


def _binary_type_error(op: TokenType, left: str, right: str) -> EvalError:
    if op not in _TYPE_OPERATORS.get(left, ()):
        return EvalError(f"invalid {_operator_kind(op)} operator {operator_text(op)} for type {left}")
    return EvalError(
        f"mismatched type to binary operator. got {left} {operator_text(op)} {right}. "
        "see bool(), int(), float(), string(), duration()"
    )


def _type_guard(actual: str, requested: str) -> EvalError:
    return EvalError(f"TypeGuard: expression returned unexpected type {actual}, expected {requested}")


# -- scope ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Scope:
    """What a lambda sees for one point: its fields and tags (by reference name), its time (nanoseconds),
    and the script's variables for identifiers not resolved when the lambda was compiled."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    time: int | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)

    def reference(self, name: str) -> Any:
        if name == "time" and self.time is not None:
            return Time(self.time)
        if name in self.fields:
            value = self.fields[name]
        elif name in self.tags:
            value = self.tags[name]
        else:
            return MISSING
        if value is None:
            raise EvalError(f'referenced value "{name}" is nil.')
        return value

    def check(self, names: list[str]) -> None:
        for name in names:
            if name != "time" and name in self.fields and name in self.tags:
                raise EvalError(f'cannot have field and tags with same name "{name}"')


def _runtime_value(value: Any) -> Any:
    """Values as the evaluator holds them: regexes compiled, values.Regex unwrapped."""
    if isinstance(value, Regex):
        return value.compiled
    return value


# -- compilation ---------------------------------------------------------------------------------------

_LITERALS = (ast.NumberNode, ast.StringNode, ast.BoolNode, ast.DurationNode, ast.RegexNode)
_EVALUABLE = (
    *_LITERALS,
    ast.BinaryNode,
    ast.UnaryNode,
    ast.FunctionNode,
    ast.ReferenceNode,
    ast.LambdaNode,
    ast.IdentifierNode,
)
_GO_NODE_NAMES = {
    ast.StarNode: "*ast.StarNode",
    ast.ListNode: "*ast.ListNode",
    ast.ChainNode: "*ast.ChainNode",
    ast.DeclarationNode: "*ast.DeclarationNode",
    ast.TypeDeclarationNode: "*ast.TypeDeclarationNode",
    ast.DBRPNode: "*ast.DBRPNode",
    ast.CommentNode: "*ast.CommentNode",
    ast.Program: "*ast.ProgramNode",
}


def _constant_type(node: ast.Node) -> str:
    """The type known without a point, or INVALID_TYPE when it depends on the point (getConstantNodeType)."""
    match node:
        case ast.NumberNode():
            return INT if node.is_int else FLOAT
        case ast.DurationNode():
            return DURATION
        case ast.StringNode():
            return STRING
        case ast.BoolNode():
            return BOOL
        case ast.RegexNode():
            return REGEX
        case ast.UnaryNode():
            return BOOL if node.operator is T.NOT else _constant_type(node.node)
        case ast.BinaryNode():
            if node.operator in COMPARISON_OPERATORS or node.operator in LOGICAL_OPERATORS:
                return BOOL
            key = (node.operator, _constant_type(node.left), _constant_type(node.right))
            return _BINARY[key][0] if key in _BINARY else INVALID_TYPE
        case ast.LambdaNode():
            return _constant_type(node.expression)
    return INVALID_TYPE


def _is_dynamic(node: ast.Node) -> bool:
    match node:
        case ast.ReferenceNode() | ast.FunctionNode() | ast.IdentifierNode():
            return True
        case ast.BinaryNode():
            dynamic = _is_dynamic(node.left) or _is_dynamic(node.right)
            return _constant_type(node) == INVALID_TYPE and dynamic
        case ast.UnaryNode():
            return _constant_type(node) == INVALID_TYPE and _is_dynamic(node.node)
        case ast.LambdaNode():
            return _is_dynamic(node.expression)
    return False


def _check(node: ast.Node) -> None:
    """Kapacitor's compile-time checks: evaluable nodes only, and operators on constant operand types."""
    if not isinstance(node, _EVALUABLE):
        name = _GO_NODE_NAMES.get(type(node), "<nil>")
        raise EvalError(f"Given node type is not valid evaluation node: {name}")
    match node:
        case ast.BinaryNode():
            for side, child in (("left", node.left), ("right", node.right)):
                try:
                    _check(child)
                except EvalError as err:
                    raise EvalError(f"Failed to handle {side} node: {err.message}") from None
            if not (_is_dynamic(node.left) or _is_dynamic(node.right)):
                left, right = _constant_type(node.left), _constant_type(node.right)
                if (node.operator, left, right) not in _BINARY:
                    raise _binary_type_error(node.operator, left, right)
        case ast.UnaryNode():
            try:
                _check(node.node)
            except EvalError as err:
                raise EvalError(f"Failed to handle node: {err.message}") from None
        case ast.LambdaNode():
            try:
                _check(node.expression)
            except EvalError as err:
                raise EvalError(f"Failed to handle node: {err.message}") from None
        case ast.FunctionNode():
            for i, arg in enumerate(node.args, 1):
                try:
                    _check(arg)
                except EvalError as err:
                    raise EvalError(f"Failed to handle {i} argument: {err.message}") from None


def _references(node: ast.Node, found: dict[str, None]) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.ReferenceNode):
            found.setdefault(current.reference, None)
        stack.extend(reversed(ast.children(current)))


def _describe(node: ast.Node) -> str:
    """How Kapacitor's evaluators print themselves in function signature errors."""
    match node:
        case ast.ReferenceNode():
            return f'"{node.reference}"'
        case ast.StringNode():
            return node.literal
        case ast.RegexNode():
            return node.literal
        case ast.BoolNode():
            return "true" if node.value else "false"
        case ast.NumberNode():
            return str(node.value) if node.is_int else go_float_v(node.value)
        case ast.DurationNode():
            return str(Duration(node.nanoseconds))
        case ast.BinaryNode():
            return f"{_describe(node.left)} {operator_text(node.operator)} {_describe(node.right)}"
        case ast.UnaryNode():
            return operator_text(node.operator) + _describe(node.node)
        case ast.FunctionNode():
            return node.func + "(" + ", ".join(_describe(arg) for arg in node.args) + ")"
        case ast.LambdaNode():
            return _describe(node.expression)
        case ast.IdentifierNode():
            return node.ident
    return ""


def value_node(value: Any, where: ast.Where) -> ast.Node:
    """A literal node standing for a script variable's value (Kapacitor's ValueToLiteralNode)."""
    match value:
        case bool():
            return ast.BoolNode(where, value)
        case int():
            return ast.NumberNode(where, value, True, 10)
        case float():
            return ast.NumberNode(where, value, False, 10)
        case Duration():
            from chalicelib.tick.functions import format_influxql_duration

            return ast.DurationNode(where, value.nanoseconds, format_influxql_duration(value.nanoseconds))
        case str():
            return ast.StringNode(where, value)
        case Regex():
            return ast.RegexNode(where, value.pattern.replace("/", "\\/"), value.pattern)
        case Lambda():
            return ast.LambdaNode(where, value.expression)
        case Star():
            return ast.StarNode(where)
        case list():
            return ast.ListNode(where, [value_node(item, where) for item in value])
    raise EvalError(f"unsupported literal type {type(value).__name__}")


def resolve_identifiers(node: ast.Node, variables: Mapping[str, Any]) -> ast.Node:
    """A copy of a lambda's tree with each identifier replaced by the literal of the script variable it
    names, as Kapacitor does when it evaluates the script."""
    match node:
        case ast.IdentifierNode():
            if node.ident not in variables:
                names = ",".join(variables)
                raise EvalError(f'name "{node.ident}" is undefined. Names in scope: {names}')
            return value_node(variables[node.ident], node.where)
        case ast.UnaryNode():
            operand = resolve_identifiers(node.node, variables)
            return ast.UnaryNode(node.where, node.operator, operand, node.comment)
        case ast.BinaryNode():
            return ast.BinaryNode(
                node.where,
                node.operator,
                resolve_identifiers(node.left, variables),
                resolve_identifiers(node.right, variables),
                node.multiline,
                node.parens,
                node.comment,
            )
        case ast.FunctionNode():
            args = [resolve_identifiers(arg, variables) for arg in node.args]
            return ast.FunctionNode(node.where, node.type, node.func, args, node.multiline, node.comment)
        case ast.LambdaNode():
            return ast.LambdaNode(node.where, resolve_identifiers(node.expression, variables), node.comment)
    return node


def compile_lambda(expr: ast.Node | Lambda | str, variables: Mapping[str, Any] | None = None) -> Expression:
    """An evaluable expression from a lambda: its body's tree, a values.Lambda, a LambdaNode or the text
    after `lambda:`. With `variables`, identifiers are replaced by the script variables' values first."""
    if isinstance(expr, str):
        expr = parse_lambda(expr).expression
    elif isinstance(expr, Lambda):
        expr = expr.expression  # type: ignore[assignment]
    if isinstance(expr, ast.LambdaNode):
        expr = expr.expression
    check_height(expr)  # type: ignore[arg-type]
    if variables is not None:
        expr = resolve_identifiers(expr, variables)  # type: ignore[arg-type]
    _check(expr)  # type: ignore[arg-type]
    return Expression(expr)  # type: ignore[arg-type]


# -- evaluation ----------------------------------------------------------------------------------------


class Expression:
    """A compiled lambda body. `evaluate` gives its value for a point; `evaluate_bool` evaluates it as a
    predicate (as where() and alert levels do)."""

    def __init__(self, node: ast.Node) -> None:
        self.node = node
        found: dict[str, None] = {}
        _references(node, found)
        self._references = list(found)
        # State of the stateful functions, one per function name as in Kapacitor.
        self.state: dict[str, dict] = {}
        # Constant types by node, filled as evaluation meets the nodes (the tree is not changed after).
        self.constants: dict[int, str] = {}

    @property
    def text(self) -> str:
        return ast.format_node(self.node, "", True)

    def references(self) -> set[str]:
        """The field and tag names the expression reads."""
        return set(self._references)

    def to_state(self) -> dict:
        return {name: dict(values) for name, values in self.state.items() if values}

    def from_state(self, state: Mapping[str, Any]) -> None:
        self.state = {name: dict(values) for name, values in state.items()}

    def reset(self) -> None:
        self.state = {}

    def type(self, scope: Scope) -> str:
        scope.check(self._references)
        return _Evaluator(self, scope).type_of(self.node)

    def evaluate(self, scope: Scope) -> Any:
        """The expression's value: int, float, str, bool, values.Duration, or MISSING never (an error)."""
        scope.check(self._references)
        run = _Evaluator(self, scope)
        typ = run.type_of(self.node)
        if typ == MISSING_TYPE:
            return run.missing(self.node)
        if typ not in (INT, FLOAT, STRING, BOOL, DURATION):
            raise EvalError(f"expression returned unexpected type {typ}")
        return run.value(self.node, typ)

    def evaluate_bool(self, scope: Scope) -> bool:
        scope.check(self._references)
        run = _Evaluator(self, scope)
        run.type_of(self.node)  # for the function signature checks
        return run.value(self.node, BOOL)


class _Evaluator:
    """One evaluation against one scope."""

    def __init__(self, expression: Expression, scope: Scope) -> None:
        self.expression = expression
        self.scope = scope

    def constant(self, node: ast.Node) -> str:
        constants = self.expression.constants
        typ = constants.get(id(node))
        if typ is None:
            typ = constants[id(node)] = _constant_type(node)
        return typ

    # types

    def type_of(self, node: ast.Node) -> str:
        constant = self.constant(node)
        if constant != INVALID_TYPE:
            return constant
        match node:
            case ast.ReferenceNode():
                return type_of(self.scope.reference(node.reference))
            case ast.IdentifierNode():
                return type_of(_runtime_value(self._variable(node)))
            case ast.UnaryNode():
                return self.type_of(node.node)
            case ast.LambdaNode():
                return self.type_of(node.expression)
            case ast.BinaryNode():
                left, right = self.type_of(node.left), self.type_of(node.right)
                key = (node.operator, left, right)
                if key not in _BINARY:
                    raise _binary_type_error(node.operator, left, right)
                return _BINARY[key][0]
            case ast.FunctionNode():
                return self._function_type(node)
        return INVALID_TYPE

    def _variable(self, node: ast.IdentifierNode) -> Any:
        if node.ident not in self.scope.vars:
            names = ",".join(self.scope.vars)
            raise EvalError(f'name "{node.ident}" is undefined. Names in scope: {names}')
        return self.scope.vars[node.ident]

    def _function_type(self, node: ast.FunctionNode) -> str:
        function = FUNCTIONS.get(node.func)
        if function is None:
            raise EvalError(f'undefined function: "{node.func}"')
        types = []
        for i, arg in enumerate(node.args, 1):
            if i > 4:  # Kapacitor's signature key holds four types; a fifth overflows it
                raise EvalError("runtime error: index out of range [4] with length 4")
            try:
                types.append(self.type_of(arg))
            except EvalError as err:
                raise EvalError(f"Failed to handle {i} argument: {err.message}") from None
        result = function.signatures.get(tuple(types))
        if result is not None:
            return result
        missing = [_describe(arg) for arg, typ in zip(node.args, types, strict=True) if typ == MISSING_TYPE]
        if missing:
            in_scope = [f'"{name}"' for name in self.expression._references]
            for name in missing:
                if name in in_scope:
                    in_scope.remove(name)
            verb = "arguments {} are" if len(missing) > 1 else "argument {} is"
            raise EvalError(
                f'Cannot call function "{node.func}" {verb.format(", ".join(missing))} missing, '
                f"values in scope are [{', '.join(in_scope)}]"
            )
        given = ",".join(f"{_describe(arg)}: {typ}" for arg, typ in zip(node.args, types, strict=True))
        raise EvalError(
            f'Cannot call function "{node.func}" with args ({given}), '
            f"available signatures are {signatures_text(function)}."
        )

    # values

    def value(self, node: ast.Node, requested: str) -> Any:
        """The node's value as type `requested`, or Kapacitor's TypeGuard error when it is of another."""
        match node:
            case ast.NumberNode() | ast.StringNode() | ast.BoolNode() | ast.DurationNode() | ast.RegexNode():
                actual = self.constant(node)
                if actual != requested:
                    raise _type_guard(actual, requested)
                return self._literal(node)
            case ast.ReferenceNode():
                value = self.scope.reference(node.reference)
                return self._guard(value, requested, node.reference)
            case ast.IdentifierNode():
                return self._guard(_runtime_value(self._variable(node)), requested, node.ident)
            case ast.LambdaNode():
                typ = self.type_of(node)
                if typ != requested:
                    raise _type_guard(typ, requested)
                return self.value(node.expression, requested)
            case ast.UnaryNode():
                return self._unary(node, requested)
            case ast.BinaryNode():
                return self._binary(node, requested)
            case ast.FunctionNode():
                value = self._call(node)
                actual = type_of(value)
                if actual != requested:
                    raise _type_guard(actual, requested)
                return value
        raise EvalError(f"expression returned unexpected type {INVALID_TYPE}")

    def missing(self, node: ast.Node) -> Any:
        match node:
            case ast.ReferenceNode():
                raise EvalError(f'missing value: "{node.reference}"')
            case ast.LambdaNode():
                return self.missing(node.expression)
            case ast.UnaryNode() if isinstance(node.node, ast.ReferenceNode):
                raise EvalError(f'reference "{node.node.reference}" is missing value')
            case ast.FunctionNode():
                return self._call(node)
        raise _type_guard(self.constant(node), MISSING_TYPE)

    @staticmethod
    def _literal(node: ast.Node) -> Any:
        match node:
            case ast.NumberNode() | ast.BoolNode():
                return node.value
            case ast.StringNode():
                return node.literal
            case ast.DurationNode():
                return Duration(node.nanoseconds)
            case ast.RegexNode():
                return _compile_regex(node.pattern)
        raise AssertionError(node)

    @staticmethod
    def _guard(value: Any, requested: str, name: str) -> Any:
        actual = type_of(value)
        if actual == requested:
            return value
        if actual == MISSING_TYPE:
            raise EvalError(f'reference "{name}" is missing value')
        raise _type_guard(actual, requested)

    def _unary(self, node: ast.UnaryNode, requested: str) -> Any:
        constant = self.constant(node)
        if requested in (STRING, REGEX) or requested == MISSING_TYPE:
            raise _type_guard(constant, requested)
        typ = self.type_of(node)
        if typ != requested:
            raise _type_guard(typ, requested)
        value = self.value(node.node, requested)
        if requested == BOOL:
            return not value  # Kapacitor negates a boolean for `-` too
        if requested == INT:
            return wrap64(-value)
        if requested == FLOAT:
            return -value
        if requested == DURATION:
            return Duration(wrap64(-value.nanoseconds))
        raise _type_guard(typ, requested)

    def _binary(self, node: ast.BinaryNode, requested: str) -> Any:
        op = node.operator
        left_type, right_type = self.type_of(node.left), self.type_of(node.right)
        entry = _BINARY.get((op, left_type, right_type))
        if entry is None:
            raise self._determine_error(node, left_type, right_type)
        result_type, apply = entry
        left = self.value(node.left, left_type)
        if op is T.AND and not left:
            result = False
        elif op is T.OR and left:
            result = True
        else:
            result = apply(left, self.value(node.right, right_type))
        if result_type == requested:
            return result
        # Kapacitor's typed reads of an operation of another type fail in these words.
        if requested in (FLOAT, INT):
            other = INT if requested == FLOAT else FLOAT
            raise _type_guard(other if result_type == other else self.constant(node), requested)
        raise EvalError(f"expression returned unexpected type {_go_result_name(result_type)}")

    @staticmethod
    def _determine_error(node: ast.BinaryNode, left: str, right: str) -> EvalError:
        for side, typ, child in (("left", left, node.left), ("right", right, node.right)):
            if typ == INVALID_TYPE:
                return EvalError(f"{side} value is invalid value type")
            if typ == MISSING_TYPE and isinstance(child, ast.ReferenceNode):
                return EvalError(f'{side} reference value "{child.reference}" is missing value')
        return _binary_type_error(node.operator, left, right)

    def _call(self, node: ast.FunctionNode) -> Any:
        args = []
        for i, arg in enumerate(node.args, 1):
            try:
                typ = self.type_of(arg)
                if typ == MISSING_TYPE:
                    args.append(MISSING)
                elif typ in (INT, FLOAT, STRING, BOOL, REGEX, DURATION) or typ == "time":
                    args.append(self.value(arg, typ))
                else:
                    raise EvalError(f"function arg expression returned unexpected type {typ}")
            except EvalError as err:
                raise EvalError(f"Failed to handle {i} argument: {err.message}") from None
        function = FUNCTIONS.get(node.func)
        if function is None:
            raise EvalError(f'undefined function: "{node.func}"')
        try:
            if function.stateful:
                return function.call(self.expression.state.setdefault(node.func, {}), *args)
            return function.call(*args)
        except CallError as err:
            raise EvalError(f'error calling "{node.func}": {err}') from None
        except EvalError as err:
            raise EvalError(f'error calling "{node.func}": {err.message}') from None


def _go_result_name(typ: str) -> str:
    # Kapacitor prints the %T of its empty result there: bool for comparisons, else the Go type.
    return {BOOL: "bool", INT: "int64", FLOAT: "float64"}.get(typ, "<nil>")


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _compile_regex(pattern: str) -> re.Pattern[str]:
    compiled = _REGEX_CACHE.get(pattern)
    if compiled is None:
        if len(_REGEX_CACHE) > 1000:
            _REGEX_CACHE.clear()
        compiled = _REGEX_CACHE[pattern] = re.compile(pattern)
    return compiled
