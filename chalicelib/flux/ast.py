"""The Flux syntax tree: node classes named as Flux's own AST (the JSON of `/api/v2/query/ast` and of a
query's `extern`), and the conversions between nodes and that JSON."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from chalicelib.flux.tokens import Lexer
from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.kit.syntax import ParseError, Position


@dataclass(eq=False)
class Node:
    start: int = field(default=0, kw_only=True, repr=False)  # source offsets; 0/0 when synthesized
    end: int = field(default=0, kw_only=True, repr=False)

    @property
    def type(self) -> str:
        return type(self).__name__


# -- expressions -------------------------------------------------------------------------------------


@dataclass(eq=False)
class Identifier(Node):
    name: str


@dataclass(eq=False)
class StringLiteral(Node):
    value: str


@dataclass(eq=False)
class IntegerLiteral(Node):
    value: int


@dataclass(eq=False)
class UnsignedIntegerLiteral(Node):
    value: int


@dataclass(eq=False)
class FloatLiteral(Node):
    value: float


@dataclass(eq=False)
class BooleanLiteral(Node):
    value: bool


@dataclass(eq=False)
class DateTimeLiteral(Node):
    value: str  # RFC 3339 text


@dataclass(eq=False)
class DurationLiteral(Node):
    values: list[tuple[int, str]]  # (magnitude, unit)


@dataclass(eq=False)
class RegexpLiteral(Node):
    value: str


@dataclass(eq=False)
class PipeLiteral(Node):
    pass


@dataclass(eq=False)
class TextPart(Node):
    value: str


@dataclass(eq=False)
class InterpolatedPart(Node):
    expression: Node


@dataclass(eq=False)
class StringExpression(Node):
    parts: list[Node]


@dataclass(eq=False)
class ArrayExpression(Node):
    elements: list[Node]


@dataclass(eq=False)
class DictItem(Node):
    key: Node
    val: Node


@dataclass(eq=False)
class DictExpression(Node):
    elements: list[DictItem]


@dataclass(eq=False)
class Property(Node):
    key: Node  # Identifier or StringLiteral
    value: Node | None


@dataclass(eq=False)
class ObjectExpression(Node):
    properties: list[Property]
    with_: Identifier | None = None


@dataclass(eq=False)
class MemberExpression(Node):
    object: Node
    property: Node  # Identifier or StringLiteral


@dataclass(eq=False)
class IndexExpression(Node):
    array: Node
    index: Node


@dataclass(eq=False)
class CallExpression(Node):
    callee: Node
    arguments: list[ObjectExpression]


@dataclass(eq=False)
class PipeExpression(Node):
    argument: Node
    call: CallExpression


@dataclass(eq=False)
class Block(Node):
    body: list[Node]


@dataclass(eq=False)
class FunctionExpression(Node):
    params: list[Property]
    body: Node  # an expression or a Block


@dataclass(eq=False)
class BinaryExpression(Node):
    operator: str
    left: Node
    right: Node


@dataclass(eq=False)
class LogicalExpression(Node):
    operator: str
    left: Node
    right: Node


@dataclass(eq=False)
class UnaryExpression(Node):
    operator: str
    argument: Node


@dataclass(eq=False)
class ConditionalExpression(Node):
    test: Node
    consequent: Node
    alternate: Node


@dataclass(eq=False)
class ParenExpression(Node):
    expression: Node


# -- statements --------------------------------------------------------------------------------------


@dataclass(eq=False)
class VariableAssignment(Node):
    id: Identifier
    init: Node


@dataclass(eq=False)
class MemberAssignment(Node):
    member: MemberExpression
    init: Node


@dataclass(eq=False)
class OptionStatement(Node):
    assignment: Node  # VariableAssignment or MemberAssignment


@dataclass(eq=False)
class ExpressionStatement(Node):
    expression: Node


@dataclass(eq=False)
class ReturnStatement(Node):
    argument: Node


@dataclass(eq=False)
class BuiltinStatement(Node):
    id: Identifier


@dataclass(eq=False)
class ImportDeclaration(Node):
    path: StringLiteral
    as_: Identifier | None = None


@dataclass(eq=False)
class PackageClause(Node):
    name: Identifier


@dataclass(eq=False)
class File(Node):
    body: list[Node]
    imports: list[ImportDeclaration] = field(default_factory=list)
    package: PackageClause | None = None


NODE_TYPES: dict[str, type[Node]] = {
    cls.__name__: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, Node) and cls is not Node
}

_RENAMED = {"with_": "with", "as_": "as"}


# -- JSON --------------------------------------------------------------------------------------------


class Locator:
    """Line/column positions of offsets in a source, for the AST JSON's `location`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lexer = Lexer(source)

    def location(self, node: Node) -> dict[str, Any]:
        sl, sc = self.lexer.position(node.start)
        el, ec = self.lexer.position(node.end)
        return {
            "end": {"column": ec, "line": el},
            "source": self.source[node.start : node.end],
            "start": {"column": sc, "line": sl},
        }


def to_json(node: Any, locator: Locator | None = None) -> Any:
    if isinstance(node, list):
        return [to_json(n, locator) for n in node]
    if not isinstance(node, Node):
        return node
    out: dict[str, Any] = {"type": node.type}
    if locator is not None and node.end > node.start:
        out["location"] = locator.location(node)
    for f in fields(node):
        if f.name in ("start", "end"):
            continue
        value = getattr(node, f.name)
        name = _RENAMED.get(f.name, f.name)
        if isinstance(node, DurationLiteral) and f.name == "values":
            out[name] = [{"magnitude": m, "unit": u} for m, u in value]
        elif isinstance(node, IntegerLiteral | UnsignedIntegerLiteral) and f.name == "value":
            out[name] = str(value)
        elif isinstance(node, File) and f.name == "imports" and not value:
            out[name] = None
        else:
            out[name] = to_json(value, locator)
    if isinstance(node, File):
        out["metadata"] = "parser-type=tickless"
    return out


def from_json(obj: Any) -> Any:
    """Nodes from Flux AST JSON (as clients send in `extern`)."""
    if isinstance(obj, list):
        return [from_json(o) for o in obj]
    if not isinstance(obj, dict):
        return obj
    kind = obj.get("type")
    cls = NODE_TYPES.get(kind or "")
    if cls is None:
        raise TicklessError(INVALID, f"unsupported AST node type {kind!r} in extern")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in ("start", "end"):
            continue
        raw = obj.get(_RENAMED.get(f.name, f.name))
        if cls is DurationLiteral and f.name == "values":
            kwargs[f.name] = [(int(v.get("magnitude", 0)), v.get("unit", "ns")) for v in raw or []]
        elif cls in (IntegerLiteral, UnsignedIntegerLiteral) and f.name == "value":
            kwargs[f.name] = int(raw or 0)
        elif cls is File and f.name in ("imports", "body"):
            kwargs[f.name] = from_json(raw or [])
        elif cls in (FloatLiteral,) and f.name == "value":
            kwargs[f.name] = float(raw or 0)
        elif raw is None and str(f.type).startswith("list"):
            kwargs[f.name] = []
        else:
            kwargs[f.name] = from_json(raw)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise TicklessError(INVALID, f"invalid {kind} node in extern: {exc}") from exc


def walk(node: Any):
    """Every node under (and including) `node`, depth first."""
    if isinstance(node, list):
        for n in node:
            yield from walk(n)
        return
    if not isinstance(node, Node):
        return
    yield node
    for f in fields(node):
        if f.name not in ("start", "end"):
            yield from walk(getattr(node, f.name))


# Flux's AST check refuses trees deeper than this, in these words; every later stage (evaluation, the
# AST's JSON) walks the tree recursively.
MAX_DEPTH = 180
NESTED_TOO_DEEP = "Program is nested too deep"


def check_depth(root: Node, source: str | None = None) -> None:
    """Refuse a tree more than MAX_DEPTH nodes deep, at the first node too deep (its source location
    when `source` is given), found without recursion: the tree may be too deep to recurse."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, list):
            stack.extend((n, depth) for n in reversed(node))
            continue
        if not isinstance(node, Node):
            continue
        if depth > MAX_DEPTH:
            raise _nested_too_deep(node, source)
        for f in reversed(fields(node)):
            if f.name not in ("start", "end"):
                stack.append((getattr(node, f.name), depth + 1))


def _nested_too_deep(node: Node, source: str | None) -> ParseError:
    if source is None:  # a tree from JSON (`extern`): no text to locate it in
        return ParseError(NESTED_TOO_DEEP)
    lexer = Lexer(source)
    (sl, sc), (el, ec) = lexer.position(node.start), lexer.position(node.end)
    where = f"error @{sl}:{sc}-{el}:{ec}: {NESTED_TOO_DEEP}"
    return ParseError(NESTED_TOO_DEEP, Position(sl, sc, node.start), message=where)
