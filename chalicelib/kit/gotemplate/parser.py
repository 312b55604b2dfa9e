"""Items to a parse tree, with Go's parse errors; the names of the functions a template may call."""

from __future__ import annotations

from typing import Any

from chalicelib.kit.gotemplate.lexer import _Item, _Lexer
from chalicelib.kit.gotemplate.limits import MAX_DEPTH
from chalicelib.kit.gotemplate.literals import _parse_number, _unquote
from chalicelib.kit.gotemplate.nodes import (
    _Action,
    _Bool,
    _Call,
    _Chain,
    _Command,
    _Control,
    _Dot,
    _Else,
    _End,
    _Field,
    _Identifier,
    _Loop,
    _Nil,
    _Number,
    _Pipe,
    _String,
    _Text,
    _Variable,
)
from chalicelib.kit.gotemplate.printf import go_quote
from chalicelib.kit.syntax import ParseError, Position

BUILTINS = frozenset(
    [
        "and",
        "call",
        "html",
        "index",
        "slice",
        "js",
        "len",
        "not",
        "or",
        "print",
        "printf",
        "println",
        "urlquery",
        "eq",
        "ge",
        "gt",
        "le",
        "lt",
        "ne",
    ]
)
KAPACITOR_JSON_FUNCS = frozenset({"json", "jsonCompact"})


class _Parser:
    def __init__(self, name: str, text: str, funcs: frozenset[str]) -> None:
        self.name = name
        self.text = text
        self.funcs = funcs
        self.items = _Lexer(text).items()
        self.back: list[_Item] = []
        self.last = _Item("eof", "", 0, 1)
        self.eof = _Item("eof", "", len(text), 1)
        self.vars: list[str] = ["$"]
        self.depth = 0
        self.range_depth = 0
        self.action_line = 0
        self.trees: dict[str, list[Any]] = {}

    # tokens
    def next(self) -> _Item:
        if self.back:
            self.last = self.back.pop()
        else:
            self.last = next(self.items, None) or self.eof
            if self.last.typ in ("eof", "error"):
                self.eof = self.last
        return self.last

    def backup(self, item: _Item) -> None:
        self.back.append(item)

    def peek(self) -> _Item:
        item = self.next()
        self.backup(item)
        return item

    def next_non_space(self) -> _Item:
        item = self.next()
        while item.typ == "space":
            item = self.next()
        return item

    def peek_non_space(self) -> _Item:
        item = self.next_non_space()
        self.backup(item)
        return item

    def error(self, message: str, item: _Item | None = None) -> ParseError:
        item = item or self.last
        line = item.line
        full = f"template: {self.name}:{line}: {message}"
        return ParseError(message, Position(line, 1, item.pos), message=full)

    def unexpected(self, item: _Item, context: str) -> ParseError:
        if item.typ == "error":
            extra = ""
            if self.action_line and self.action_line != item.line:
                extra = f" in action started at {self.name}:{self.action_line}"
                if item.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            return self.error(f"{item}{extra}", item)
        return self.error(f"unexpected {item} in {context}", item)

    def expect(self, typ: str, context: str) -> _Item:
        item = self.next_non_space()
        if item.typ != typ:
            raise self.unexpected(item, context)
        return item

    # grammar
    def parse(self) -> list[Any]:
        root: list[Any] = []
        while self.peek().typ != "eof":
            if self.peek().typ == "left":
                delim = self.next()
                if self.next_non_space().typ == "define":
                    self.definition()
                    continue
                self.backup(self.last)
                self.backup(delim)
            node = self.text_or_action()
            if isinstance(node, _End | _Else):
                raise self.error(f"unexpected {node}")
            root.append(node)
        return root

    def definition(self) -> None:
        item = self.next_non_space()
        if item.typ not in ("string", "raw"):
            raise self.unexpected(item, "define clause")
        name = self.unquote(item)
        self.expect("right", "define clause")
        saved = self.vars
        self.vars = ["$"]
        body, end = self.item_list()
        self.vars = saved
        if not isinstance(end, _End):
            raise self.error(f"unexpected {end} in define clause")
        if name in self.trees and _non_empty(self.trees[name]) and _non_empty(body):
            raise self.error(f"template: multiple definition of template {go_quote(name)}")
        if name not in self.trees or _non_empty(body):
            self.trees[name] = body

    def item_list(self) -> tuple[list[Any], Any]:
        nodes: list[Any] = []
        while self.peek_non_space().typ != "eof":
            node = self.text_or_action()
            if isinstance(node, _End | _Else):
                return nodes, node
            nodes.append(node)
        raise self.error("unexpected EOF")

    def text_or_action(self) -> Any:
        item = self.next_non_space()
        if item.typ == "text":
            return _Text(item.pos, item.val)
        if item.typ == "left":
            self.action_line = item.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        raise self.unexpected(item, "input")

    def action(self) -> Any:
        item = self.next_non_space()
        kind = item.typ
        if kind in ("break", "continue") and kind not in self.funcs:
            following = self.next_non_space()
            if following.typ != "right":
                raise self.unexpected(following, "{{" + kind + "}}")
            if not self.range_depth:
                raise self.error("{{" + kind + "}} outside {{range}}")
            return _Loop(item.pos, kind)
        if kind == "else":
            peek = self.peek_non_space()
            if peek.typ in ("if", "with"):
                return _Else(peek.pos, peek.line)
            right = self.expect("right", "else")
            return _Else(right.pos, right.line)
        if kind == "end":
            return _End(self.expect("right", "end").pos)
        if kind in ("if", "with", "range"):
            return self.control(kind)
        if kind in ("template", "block"):
            return self.template_call(kind)
        self.backup(item)
        return _Action(item.pos, item.line, self.pipeline("command", "right"))

    def template_call(self, kind: str) -> Any:
        context = f"{kind} clause"
        item = self.next_non_space()
        if item.typ not in ("string", "raw"):
            raise self.unexpected(item, context)
        name = self.unquote(item)
        pipe: _Pipe | None = None
        if kind == "block":
            pipe = self.pipeline(context, "right")
            self.enter()
            saved = self.vars
            self.vars = ["$"]
            body, end = self.item_list()
            self.vars = saved
            self.depth -= 1
            if not isinstance(end, _End):
                raise self.error(f"unexpected {end} in {context}")
            if name not in self.trees or _non_empty(body):
                self.trees[name] = body
        elif self.next_non_space().typ != "right":
            self.backup(self.last)
            pipe = self.pipeline(context, "right")
        return _Call(item.pos, name, pipe)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("max expression depth exceeded")

    def control(self, kind: str) -> _Control:
        mark = len(self.vars)
        self.enter()
        try:
            pipe = self.pipeline(kind, "right")
            if kind == "range":
                self.range_depth += 1
            body, end = self.item_list()
            if kind == "range":
                self.range_depth -= 1
            orelse: list[Any] | None = None
            if isinstance(end, _Else):
                if kind in ("if", "with") and self.peek().typ == kind:
                    self.next()
                    orelse = [self.control(kind)]
                else:
                    orelse, end = self.item_list()
                    if not isinstance(end, _End):
                        raise self.error(f"expected end; found {end}")
            return _Control(pipe.pos, kind, pipe, body, orelse)
        finally:
            self.depth -= 1
            del self.vars[mark:]

    def pipeline(self, context: str, end: str) -> _Pipe:
        first = self.peek_non_space()
        pipe = _Pipe(first.pos, first.line)
        while True:
            var = self.peek_non_space()
            if var.typ != "var":
                break
            self.next_non_space()
            after = self.peek()
            nxt = self.peek_non_space()
            if nxt.typ in ("assign", "declare"):
                pipe.is_assign = nxt.typ == "assign"
                self.next_non_space()
                pipe.decl.append(_Variable(var.pos, [var.val]))
                self.vars.append(var.val)
                break
            if nxt.typ == "punct" and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(_Variable(var.pos, [var.val]))
                self.vars.append(var.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in ("var", "right", "rparen"):
                        continue
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            # not a declaration: put the variable (and the space after it) back
            if after.typ == "space":
                self.backup(after)
            self.backup(var)
            break
        while True:
            item = self.next_non_space()
            if item.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if item.typ in (
                "bool", "char", "dot", "field", "ident", "number", "nil", "raw", "string", "var", "lparen"
            ):  # fmt: skip
                self.backup(item)
                pipe.cmds.append(self.command())
                if len(pipe.cmds) > 1000:
                    raise self.error("pipeline too long")
            else:
                raise self.unexpected(item, context)

    def check_pipeline(self, pipe: _Pipe, context: str) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], _Bool | _Dot | _Nil | _Number | _String):
                raise self.error(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> _Command:
        cmd = _Command(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            item = self.next()
            if item.typ == "space":
                continue
            if item.typ in ("right", "rparen"):
                self.backup(item)
            elif item.typ != "pipe":
                raise self.unexpected(item, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def operand(self) -> Any:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == "field":
            fields: list[str] = []
            while self.peek().typ == "field":
                fields.extend(self.next().val[1:].split("."))
            if isinstance(node, _Field):
                return _Field(node.pos, node.idents + fields)
            if isinstance(node, _Variable):
                return _Variable(node.pos, node.idents + fields)
            if isinstance(node, _Bool | _String | _Number | _Nil | _Dot):
                raise self.error(f"unexpected . after term {go_quote(str(node))}")
            return _Chain(node.pos, node, fields)
        return node

    def term(self) -> Any:
        item = self.next_non_space()
        typ = item.typ
        if typ == "ident":
            if item.val not in BUILTINS and item.val not in self.funcs:
                raise self.error(f"function {go_quote(item.val)} not defined", item)
            return _Identifier(item.pos, item.val)
        if typ in ("break", "continue") and item.val in self.funcs:
            return _Identifier(item.pos, item.val)
        if typ == "dot":
            return _Dot(item.pos)
        if typ == "nil":
            return _Nil(item.pos)
        if typ == "var":
            name = item.val.split(".")[0]
            if name not in self.vars:
                raise self.error(f"undefined variable {go_quote(name)}", item)
            return _Variable(item.pos, item.val.split("."))
        if typ == "field":
            return _Field(item.pos, item.val[1:].split("."))
        if typ == "bool":
            return _Bool(item.pos, item.val == "true")
        if typ in ("number", "char"):
            return self.number(item)
        if typ == "lparen":
            self.enter()
            try:
                return self.pipeline("parenthesized pipeline", "rparen")
            finally:
                self.depth -= 1
        if typ in ("string", "raw"):
            return _String(item.pos, item.val, self.unquote(item))
        self.backup(item)
        return None

    def unquote(self, item: _Item) -> str:
        try:
            return _unquote(item.val)
        except ValueError:
            raise self.error("invalid syntax", item) from None

    def number(self, item: _Item) -> _Number:
        text = item.val
        if item.typ == "char":
            try:
                value = _unquote(text)
            except ValueError:
                raise self.error(f"malformed character constant: {text}", item) from None
            if len(value) != 1:
                raise self.error(f"malformed character constant: {text}", item)
            return _Number(item.pos, text, ord(value))
        parsed = _parse_number(text)
        if parsed is None:
            raise self.error(f"illegal number syntax: {go_quote(text)}", item)
        if isinstance(parsed, int) and not -(1 << 63) <= parsed < (1 << 63):
            return _Number(item.pos, text, float(parsed), overflow=True)
        return _Number(item.pos, text, parsed)


def _non_empty(nodes: list[Any]) -> bool:
    return any(not isinstance(n, _Text) or n.text.strip(" \t\r\n\v\f") for n in nodes)
