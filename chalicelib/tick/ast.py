"""The syntax tree of a TICKscript, node for node as Kapacitor's parser builds it.

Every node knows where it starts (`pos`, `line`, `char`: `char` is 1-based and counts bytes, as Kapacitor
reports it) and may carry the comment block written just before it. Equality (`equal`) ignores both, as
Kapacitor's does. The formatter (formatter.py) turns a tree back into text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Union

from chalicelib.kit.gofloat import format_float
from chalicelib.tick.tokens import TokenType, operator_text


@dataclass(slots=True)
class Where:
    pos: int = 0  # character offset into the script
    line: int = 1
    char: int = 1


@dataclass(slots=True, eq=False)
class CommentNode:
    """A block of `//` comments; each entry is one line's text without `//` and one leading space, and an
    entry "\\n" marks a blank line between two blocks."""

    where: Where
    comments: list[str]

    def text(self) -> str:
        return "\n".join(self.comments)


@dataclass(slots=True, eq=False)
class NumberNode:
    where: Where
    value: int | float
    is_int: bool
    base: int = 10  # 8 for a literal written with a leading 0
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class DurationNode:
    where: Where
    nanoseconds: int
    literal: str  # the text as written (`60s` stays `60s`)
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class BoolNode:
    where: Where
    value: bool
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class StringNode:
    where: Where
    literal: str  # unescaped
    triple: bool = False
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class RegexNode:
    where: Where
    literal: str  # between the slashes, as written (`\/` kept)
    pattern: str  # what the regex engine compiles (`\/` unescaped)
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class StarNode:
    where: Where
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class ReferenceNode:
    """A "double quoted" field or tag reference."""

    where: Where
    reference: str
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class IdentifierNode:
    where: Where
    ident: str
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class ListNode:
    where: Where
    nodes: list[Node]
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class UnaryNode:
    where: Where
    operator: TokenType  # NOT or MINUS
    node: Node
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class BinaryNode:
    where: Where
    operator: TokenType
    left: Node
    right: Node
    multiline: bool = False  # the right operand starts on a new line of the source
    parens: bool = False  # written inside parentheses (kept by the formatter)
    comment: CommentNode | None = None


class FuncType(enum.Enum):
    GLOBAL = "global"  # `f(...)` at the start of a statement or inside a lambda
    CHAIN = "chain"  # `|f(...)`
    PROPERTY = "property"  # `.f(...)`
    DYNAMIC = "dynamic"  # `@f(...)`: a UDF


@dataclass(slots=True, eq=False)
class FunctionNode:
    where: Where
    type: FuncType
    func: str
    args: list[Node] = field(default_factory=list)
    multiline: bool = False
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class LambdaNode:
    where: Where
    expression: Node
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class ChainNode:
    """`left |right`, `left .right` or `left @right`: left-nested, so a pipeline's last link is the root."""

    where: Where
    operator: TokenType  # PIPE, DOT or AT
    left: Node
    right: Node  # a FunctionNode, or an IdentifierNode for `.property` without parentheses
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class DeclarationNode:
    """`var name = expression`."""

    where: Where
    left: IdentifierNode
    right: Node
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class TypeDeclarationNode:
    """`var name type`: a template variable."""

    where: Where
    node: IdentifierNode
    type: IdentifierNode
    comment: CommentNode | None = None


@dataclass(slots=True, eq=False)
class DBRPNode:
    where: Where
    db: ReferenceNode
    rp: ReferenceNode
    comment: CommentNode | None = None

    def dbrp(self) -> str:
        return f'"{self.db.reference}"."{self.rp.reference}"'


@dataclass(slots=True, eq=False)
class Program:
    where: Where
    nodes: list[Node] = field(default_factory=list)


Node = Union[  # noqa: UP007 -- a runtime alias, used in isinstance-free annotations only
    NumberNode,
    DurationNode,
    BoolNode,
    StringNode,
    RegexNode,
    StarNode,
    ReferenceNode,
    IdentifierNode,
    ListNode,
    UnaryNode,
    BinaryNode,
    FunctionNode,
    LambdaNode,
    ChainNode,
    DeclarationNode,
    TypeDeclarationNode,
    DBRPNode,
    CommentNode,
    Program,
]

# Nodes a `(` ... `)` may wrap and so take the comment written before the parenthesis.
COMMENTED = (
    NumberNode,
    DurationNode,
    BoolNode,
    StringNode,
    RegexNode,
    StarNode,
    ReferenceNode,
    IdentifierNode,
    ListNode,
    UnaryNode,
    BinaryNode,
    FunctionNode,
    LambdaNode,
    ChainNode,
    DeclarationNode,
    TypeDeclarationNode,
)


def equal(a: object, b: object) -> bool:
    """Whether two trees mean the same, ignoring positions and comments (Kapacitor's Node.Equal)."""
    if type(a) is not type(b):
        return False
    match a:
        case NumberNode():
            return a.is_int == b.is_int and a.value == b.value
        case DurationNode():
            return a.nanoseconds == b.nanoseconds
        case BoolNode():
            return a.value == b.value
        case StringNode():
            return a.literal == b.literal
        case RegexNode():
            return a.pattern == b.pattern
        case StarNode() | CommentNode():
            return True
        case ReferenceNode():
            return a.reference == b.reference
        case IdentifierNode():
            return a.ident == b.ident
        case ListNode():
            return _all_equal(a.nodes, b.nodes)
        case UnaryNode():
            return a.operator == b.operator and equal(a.node, b.node)
        case BinaryNode() | ChainNode():
            return a.operator == b.operator and equal(a.left, b.left) and equal(a.right, b.right)
        case FunctionNode():
            return a.type == b.type and a.func == b.func and _all_equal(a.args, b.args)
        case LambdaNode():
            return equal(a.expression, b.expression)
        case DeclarationNode():
            return equal(a.left, b.left) and equal(a.right, b.right)
        case TypeDeclarationNode():
            return equal(a.node, b.node) and equal(a.type, b.type)
        case DBRPNode():
            return equal(a.db, b.db) and equal(a.rp, b.rp)
        case Program():
            return _all_equal(a.nodes, b.nodes)
    return False


def _all_equal(a: list, b: list) -> bool:
    return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))


def children(node: object) -> list:
    """The nodes directly under `node` (comments excluded)."""
    match node:
        case ListNode():
            return list(node.nodes)
        case UnaryNode():
            return [node.node]
        case BinaryNode() | ChainNode() | DeclarationNode():
            return [node.left, node.right]
        case FunctionNode():
            return list(node.args)
        case LambdaNode():
            return [node.expression]
        case TypeDeclarationNode():
            return [node.node, node.type]
        case DBRPNode():
            return [node.db, node.rp]
        case Program():
            return list(node.nodes)
    return []


# -- text: the layout Kapacitor's Format methods give each node (formatter.py formats whole scripts) ---------

INDENT = "    "


def format_node(node: Node, indent: str = "", on_new_line: bool = False) -> str:
    out: list[str] = []
    _write(out, node, indent, on_new_line)
    return "".join(out)


def expression_text(node: LambdaNode) -> str:
    """A lambda's body alone, as Kapacitor shows it in DOT output and errors."""
    return format_node(node.expression, "", True)


def _comment(out: list[str], comment: CommentNode, indent: str, on_new_line: bool) -> None:
    if not on_new_line:
        out.append("\n")
    for line in comment.comments:
        if line == "\n":
            out.append("\n")
        else:
            out.append(f"{indent}//{' ' + line if line else ''}\n")


def _write(out: list[str], node: Node, indent: str, on_new_line: bool) -> None:
    if isinstance(node, CommentNode):
        _comment(out, node, indent, on_new_line)
        return
    if isinstance(node, Program):
        for i, statement in enumerate(node.nodes):
            if i:
                out.append("\n")
            _write(out, statement, indent, True)
            out.append("\n")
        return
    if isinstance(node, ChainNode):
        _chain(out, node, indent, on_new_line)
        return
    comment = node.comment
    if isinstance(node, DeclarationNode | TypeDeclarationNode | DBRPNode):
        if comment is not None:
            _comment(out, comment, indent, on_new_line)
        _statement(out, node, indent)
        return
    if comment is not None:
        _comment(out, comment, indent, on_new_line)
        on_new_line = True
    if on_new_line:
        out.append(indent)
    match node:
        case NumberNode():
            out.append(_number(node))
        case DurationNode():
            out.append(node.literal)
        case BoolNode():
            out.append("TRUE" if node.value else "FALSE")
        case StringNode():
            if node.triple:
                out.append(f"'''{node.literal}'''")
            else:
                out.append("'" + node.literal.replace("'", "\\'") + "'")
        case RegexNode():
            out.append(f"/{node.literal}/")
        case StarNode():
            out.append("*")
        case ReferenceNode():
            out.append('"' + node.reference.replace('"', '\\"') + '"')
        case IdentifierNode():
            out.append(node.ident)
        case ListNode():
            out.append("[")
            for i, item in enumerate(node.nodes):
                if i:
                    out.append(", ")
                # Kapacitor hands its own on_new_line to the items (so they indent on a fresh line too).
                _write(out, item, indent, on_new_line)
            out.append("]")
        case UnaryNode():
            out.append(operator_text(node.operator))
            _write(out, node.node, indent, False)
        case BinaryNode():
            _binary(out, node, indent)
        case FunctionNode():
            _function(out, node, indent)
        case LambdaNode():
            out.append("lambda: ")
            _write(out, node.expression, indent, False)


def _number(node: NumberNode) -> str:
    if node.is_int:
        if node.base == 8:
            return "0" + format(node.value, "o")
        return str(node.value)
    text = format_float(node.value)
    return text if "." in text else text + ".0"


def _binary(out: list[str], node: BinaryNode, indent: str) -> None:
    if node.parens:
        out.append("(")
        indent += INDENT
    _write(out, node.left, indent, False)
    out.append(" " + operator_text(node.operator))
    out.append("\n" if node.multiline else " ")
    _write(out, node.right, indent, node.multiline)
    if node.parens:
        out.append(")")


def _function(out: list[str], node: FunctionNode, indent: str) -> None:
    out.append(node.func + "(")
    arg_indent = indent + INDENT
    for i, arg in enumerate(node.args):
        if i:
            out.append("," if node.multiline else ", ")
        if node.multiline:
            out.append("\n")
        _write(out, arg, arg_indent, node.multiline)
    if node.multiline and node.args:
        out.append("\n" + indent)
    out.append(")")


def _chain(out: list[str], node: ChainNode, indent: str, on_new_line: bool) -> None:
    # A pipeline nests to the left, one ChainNode per link; walk it in a loop, innermost link first.
    links: list[ChainNode] = []
    current: Node = node
    while isinstance(current, ChainNode):
        links.append(current)
        current = current.left
    _write(out, current, indent, on_new_line)
    for link in reversed(links):
        out.append("\n")
        link_indent = indent + INDENT
        if link.operator is TokenType.DOT:
            link_indent += INDENT
        if link.comment is not None:
            _comment(out, link.comment, link_indent, True)
        out.append(link_indent + operator_text(link.operator))
        _write(out, link.right, link_indent, False)


def _statement(out: list[str], node: Node, indent: str) -> None:
    match node:
        case DeclarationNode():
            out.append("var ")
            _write(out, node.left, indent, False)
            out.append(" = ")
            _write(out, node.right, indent, False)
        case TypeDeclarationNode():
            out.append("var ")
            _write(out, node.node, indent, False)
            out.append(" ")
            _write(out, node.type, indent, False)
        case DBRPNode():
            out.append(indent + "dbrp " + node.dbrp())
