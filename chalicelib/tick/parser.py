"""TICKscript's parser: tokens to the syntax tree of ast.py, with Kapacitor's grammar and error texts.

The parser keeps Kapacitor's two-token lookahead because comments ride on it: a comment block belongs to
the token that follows it and is taken by whichever node consumes that token, which decides where the
formatter writes it back. Errors read `parser: unexpected <token> line L char C in "<context>". expected:
...` as Kapacitor words them.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from chalicelib.kit.errors import invalid
from chalicelib.kit.syntax import ParseError, Position
from chalicelib.tick import ast
from chalicelib.tick.ast import Where
from chalicelib.tick.tokens import EXPRESSION_OPERATORS, PRECEDENCE, Token, TokenType, is_space, tokenize
from chalicelib.tick.values import Duration, Lambda, Regex, Star

T = TokenType

# Nesting bounds, past which a script is refused rather than exhausting Python's stack: MAX_DEPTH for
# the parser's own recursion (parentheses, unary operators, calls), MAX_HEIGHT for the finished tree that
# the formatter and the evaluator walk (`a + b + c ...` nests without recursing in the parser).
MAX_DEPTH = 100
MAX_HEIGHT = 150
MAX_INT64 = (1 << 63) - 1

_PRIMARY_EXPECTED = (
    T.NUMBER,
    T.STRING,
    T.DURATION,
    T.IDENT,
    T.TRUE,
    T.FALSE,
    T.EQUAL,
    T.LPAREN,
    T.MINUS,
    T.NOT,
)
_SURROGATES = re.compile("[\ud800-\udfff]")
_NO_TOKEN = Token(T.ERROR, 0, "")  # what Kapacitor's closed token channel yields past an error


class _Abort(Exception):
    """Unwinds the parser; carries the finished error's reason and position."""

    def __init__(self, reason: str, pos: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pos = pos


class _Source:
    """The script's text with the line table Kapacitor's `line L char C` positions are computed from."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.ascii = text.isascii()
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]

    def where(self, pos: int) -> Where:
        line_index = bisect_right(self.newlines, pos - 1)  # newlines strictly before pos
        line_start = self.newlines[line_index - 1] + 1 if line_index else 0
        # Kapacitor counts bytes.
        column = pos - line_start if self.ascii else len(self.text[line_start:pos].encode())
        char = column + 1
        return Where(pos, line_index + 1, char)

    def context(self, pos: int) -> str:
        """Up to 10 bytes either side of `pos`, within its line, as Kapacitor quotes them."""
        data = self.text.encode()
        at = pos if self.ascii else len(self.text[:pos].encode())
        start = max(at - 10, 0)
        newline = data.rfind(b"\n", start, at)
        if newline != -1:
            start = newline + 1
        stop = min(at + 10, len(data))
        newline = data.find(b"\n", at, stop)
        if newline != -1:
            stop = newline
        return _decode_bytes(data[start:stop])


def _decode_bytes(data: bytes) -> str:
    """Bytes to text, each byte of a cut character read as U+FFFD (as Go's JSON encoding shows them)."""
    out = []
    i = 0
    while i < len(data):
        for size in (1, 2, 3, 4):
            try:
                out.append(data[i : i + size].decode())
                i += size
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def go_trim_space(text: str) -> str:
    start, end = 0, len(text)
    while start < end and is_space(text[start]):
        start += 1
    while end > start and is_space(text[end - 1]):
        end -= 1
    return text[start:end]


def _new_comment(where: Where, blocks: list[str]) -> ast.CommentNode:
    lines: list[str] = []
    for i, block in enumerate(blocks):
        if i:
            lines.append("\n")  # a blank line separated this block from the previous one
        for raw in block.split("\n"):
            line = go_trim_space(raw)
            if not line:
                continue
            line = line.removeprefix("//").removeprefix(" ")
            lines.append(line)
    return ast.CommentNode(where, lines)


class _Parser:
    def __init__(self, text: str) -> None:
        self.source = _Source(text)
        self.text = text
        self.stream = tokenize(text)
        self.index = 0
        # Kapacitor's lookahead: slot 0 is the newest token read, slot 1 the one before; peek_count says
        # how many read tokens are not consumed yet. Each slot keeps the comment read before its token.
        self.token: list[Token] = [_NO_TOKEN, _NO_TOKEN]
        self.comments: list[ast.CommentNode | None] = [None, None]
        self.peek_count = 0
        self.depth = 0

    # -- token stream -------------------------------------------------------------------------------------

    def _read(self) -> tuple[Token, ast.CommentNode | None]:
        blocks: list[str] = []
        first = -1
        while True:
            tok = self.stream[self.index] if self.index < len(self.stream) else _NO_TOKEN
            self.index += 1
            if tok.type is not T.COMMENT:
                break
            if first == -1:
                first = tok.pos
            blocks.append(tok.value)
        return tok, (_new_comment(self.source.where(first), blocks) if blocks else None)

    def next(self) -> Token:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0], self.comments[0] = self._read()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def peek(self) -> Token:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[1], self.comments[1] = self.token[0], self.comments[0]
        self.token[0], self.comments[0] = self._read()
        return self.token[0]

    def consume_comment(self) -> ast.CommentNode | None:
        comment = self.comments[self.peek_count]
        self.comments[self.peek_count] = None
        return comment

    def expect(self, typ: TokenType) -> Token:
        tok = self.next()
        if tok.type is not typ:
            self.unexpected(tok, typ)
        return tok

    def unexpected(self, tok: Token, *expected: TokenType):
        found = tok.value if tok.type is T.ERROR else str(tok.type)
        where = self.source.where(tok.pos)
        wanted = ",".join(f'"{t}"' for t in expected)
        raise _Abort(
            f'unexpected {found} line {where.line} char {where.char} in "{self.source.context(tok.pos)}". '
            f"expected: {wanted}",
            tok.pos,
        )

    def fail(self, reason: str, pos: int):
        raise _Abort(reason, pos)

    def where(self, pos: int) -> Where:
        return self.source.where(pos)

    def has_newline(self, start: int, end: int) -> bool:
        return "\n" in self.text[start:end]

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"expression nested deeper than {MAX_DEPTH} levels", pos)

    def leave(self) -> None:
        self.depth -= 1

    # -- grammar ------------------------------------------------------------------------------------------

    def program(self) -> ast.Program:
        program = ast.Program(self.where(0))
        while True:
            if self.peek().type is T.EOF:
                # Comments after the last statement stand alone.
                for comment in (self.comments[1], self.comments[0]):
                    if comment is not None:
                        program.nodes.append(comment)
                return program
            statement = self.statement()
            _check_height(statement)
            program.nodes.append(statement)

    def statement(self) -> ast.Node:
        typ = self.peek().type
        if typ is T.VAR:
            return self.declaration()
        if typ is T.DBRP:
            return self.dbrp()
        return self.expression()

    def dbrp(self) -> ast.DBRPNode:
        tok = self.expect(T.DBRP)
        comment = self.consume_comment()
        db = self.reference()
        self.expect(T.DOT)
        rp = self.reference()
        return ast.DBRPNode(self.where(tok.pos), db, rp, comment)

    def declaration(self) -> ast.Node:
        tok = self.expect(T.VAR)
        comment = self.consume_comment()
        name = self.identifier()
        if self.peek().type is T.ASSIGN:
            self.expect(T.ASSIGN)
            value = self.expression()
            return ast.DeclarationNode(self.where(tok.pos), name, value, comment)
        typ = self.identifier()
        return ast.TypeDeclarationNode(self.where(tok.pos), name, typ, comment)

    def expression(self) -> ast.Node:
        typ = self.peek().type
        if typ is T.IDENT:
            self.next()
            following = self.peek().type
            if following is T.LPAREN:
                self.backup()
                term = self.function(ast.FuncType.GLOBAL)
                if self.peek().type in (T.DOT, T.PIPE, T.AT, T.VAR, T.IDENT):
                    return self.chain(term)
                return self.precedence(term, 0)
            if following in (T.DOT, T.AT, T.PIPE, T.VAR, T.IDENT):
                self.backup()
                return self.chain(self.identifier())
            self.backup()
            return self.primary_expr()
        if typ is T.LAMBDA:
            return self.lambda_()
        if typ is T.LBRACKET:
            return self.string_list()
        return self.primary_expr()

    def chain(self, left: ast.Node) -> ast.Node:
        # Kapacitor recurses once per link; a loop builds the same left-nested tree without the stack.
        while self.peek().type in (T.DOT, T.PIPE, T.AT):
            op = self.next()
            comment = self.consume_comment()
            kind = {
                T.DOT: ast.FuncType.PROPERTY,
                T.PIPE: ast.FuncType.CHAIN,
                T.AT: ast.FuncType.DYNAMIC,
            }[op.type]
            right = self.func_or_ident(kind)
            left = ast.ChainNode(self.where(op.pos), op.type, left, right, comment)
        return left

    def func_or_ident(self, kind: ast.FuncType) -> ast.Node:
        self.next()
        is_call = kind is ast.FuncType.CHAIN or self.peek().type is T.LPAREN
        self.backup()
        return self.function(kind) if is_call else self.identifier()

    def identifier(self) -> ast.IdentifierNode:
        tok = self.expect(T.IDENT)
        return ast.IdentifierNode(self.where(tok.pos), tok.value, self.consume_comment())

    def function(self, kind: ast.FuncType) -> ast.FunctionNode:
        tok = self.expect(T.IDENT)
        comment = self.consume_comment()
        self.enter(tok.pos)
        self.expect(T.LPAREN)
        args = self.arguments(self.expression)
        self.expect(T.RPAREN)
        self.leave()
        multiline = bool(args) and self.has_newline(tok.pos, args[-1].where.pos)
        return ast.FunctionNode(self.where(tok.pos), kind, tok.value, args, multiline, comment)

    def arguments(self, argument) -> list[ast.Node]:
        args: list[ast.Node] = []
        while True:
            if self.peek().type is T.RPAREN:
                return args
            args.append(argument())
            if self.next().type is not T.COMMA:
                self.backup()
                return args

    def string_list(self) -> ast.ListNode:
        tok = self.expect(T.LBRACKET)
        comment = self.consume_comment()
        items: list[ast.Node] = []
        while self.peek().type is not T.RBRACKET:
            items.append(self.string_item())
            if self.next().type is not T.COMMA:
                self.backup()
                break
        self.expect(T.RBRACKET)
        return ast.ListNode(self.where(tok.pos), items, comment)

    def string_item(self) -> ast.Node:
        tok = self.peek()
        if tok.type is T.IDENT:
            return self.identifier()
        if tok.type is T.STRING:
            return self.string()
        if tok.type is T.STAR:
            return self.star()
        self.unexpected(tok, T.IDENT, T.STRING, T.STAR)
        raise AssertionError  # unreachable: unexpected() raises

    def lambda_(self) -> ast.LambdaNode:
        tok = self.next()
        comment = self.consume_comment()
        return ast.LambdaNode(self.where(tok.pos), self.primary_expr(), comment)

    def primary_expr(self) -> ast.Node:
        return self.precedence(self.primary(), 0)

    def precedence(self, left: ast.Node, minimum: int) -> ast.Node:
        look = self.peek()
        while look.type in EXPRESSION_OPERATORS and PRECEDENCE[look.type] >= minimum:
            op = self.next()
            comment = self.consume_comment()
            right = self.primary()
            look = self.peek()
            while look.type in EXPRESSION_OPERATORS and PRECEDENCE[look.type] > PRECEDENCE[op.type]:
                self.enter(look.pos)
                right = self.precedence(right, PRECEDENCE[look.type])
                self.leave()
                look = self.peek()
            multiline = self.has_newline(left.where.pos, right.where.pos)
            left = ast.BinaryNode(self.where(op.pos), op.type, left, right, multiline, False, comment)
        return left

    def lambda_function(self) -> ast.FunctionNode:
        tok = self.expect(T.IDENT)
        self.enter(tok.pos)
        self.expect(T.LPAREN)
        args = self.arguments(self.lambda_argument)
        self.expect(T.RPAREN)
        self.leave()
        multiline = bool(args) and self.has_newline(tok.pos, args[-1].where.pos)
        return ast.FunctionNode(self.where(tok.pos), ast.FuncType.GLOBAL, tok.value, args, multiline, None)

    def lambda_argument(self) -> ast.Node:
        node = self.primary()
        if self.peek().type in EXPRESSION_OPERATORS:
            node = self.precedence(node, 0)
        return node

    def primary(self) -> ast.Node:
        tok = self.peek()
        typ = tok.type
        if typ is T.LPAREN:
            self.next()
            comment = self.consume_comment()
            self.enter(tok.pos)
            node = self.primary_expr()
            self.leave()
            if isinstance(node, ast.BinaryNode):
                node.parens = True
            if isinstance(node, ast.COMMENTED):
                node.comment = comment  # the comment before `(` replaces the inner one, even when None
            self.expect(T.RPAREN)
            return node
        if typ is T.NUMBER:
            return self.number()
        if typ is T.STRING:
            return self.string()
        if typ in (T.TRUE, T.FALSE):
            tok = self.next()
            return ast.BoolNode(self.where(tok.pos), tok.type is T.TRUE, self.consume_comment())
        if typ is T.DURATION:
            return self.duration()
        if typ is T.REGEX:
            return self.regex()
        if typ is T.STAR:
            return self.star()
        if typ is T.REFERENCE:
            return self.reference()
        if typ is T.IDENT:
            self.next()
            is_call = self.peek().type is T.LPAREN
            self.backup()
            return self.lambda_function() if is_call else self.identifier()
        if typ in (T.MINUS, T.NOT):
            self.next()
            self.enter(tok.pos)
            operand = self.primary()
            self.leave()
            # As in Kapacitor, the comment taken is whichever is pending once the operand is parsed.
            return ast.UnaryNode(self.where(tok.pos), typ, operand, self.consume_comment())
        self.unexpected(tok, *_PRIMARY_EXPECTED)
        raise AssertionError  # unreachable: unexpected() raises

    # -- literals -----------------------------------------------------------------------------------------

    def number(self) -> ast.NumberNode:
        tok = self.expect(T.NUMBER)
        where = self.where(tok.pos)
        comment = self.consume_comment()
        text = tok.value
        if not text.isascii():  # Go's strconv reads ASCII digits only
            self.fail(f'illegal number syntax: "{text}"', tok.pos)
        if "." in text:
            value = float(text)
            if value == float("inf"):  # out of float64's range: strconv.ParseFloat fails
                self.fail(f'illegal number syntax: "{text}"', tok.pos)
            return ast.NumberNode(where, value, False, 10, comment)
        base = 8 if text.startswith("0") and len(text) > 1 else 10
        if base == 8 and any(ch in "89" for ch in text):
            self.fail(f'illegal number syntax: "{text}"', tok.pos)
        digits = text.lstrip("0") or "0"
        if len(digits) > 22 or int(digits, base) > MAX_INT64:
            self.fail(f'illegal number syntax: "{text}"', tok.pos)
        return ast.NumberNode(where, int(digits, base), True, base, comment)

    def duration(self) -> ast.DurationNode:
        tok = self.expect(T.DURATION)
        where = self.where(tok.pos)
        comment = self.consume_comment()
        try:
            nanoseconds = parse_influxql_duration(tok.value)
        except ValueError as err:
            self.fail(str(err), tok.pos)
        return ast.DurationNode(where, nanoseconds, tok.value, comment)

    def string(self) -> ast.StringNode:
        tok = self.expect(T.STRING)
        where = self.where(tok.pos)
        text = tok.value
        if len(text) >= 6 and text.startswith("'''"):
            return ast.StringNode(where, text[3:-3], True, self.consume_comment())
        return ast.StringNode(where, text[1:-1].replace("\\'", "'"), False, self.consume_comment())

    def regex(self) -> ast.RegexNode:
        tok = self.expect(T.REGEX)
        where = self.where(tok.pos)
        comment = self.consume_comment()
        literal = tok.value[1:-1]
        pattern = literal.replace("\\/", "/")
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError) as err:
            self.fail(f"error parsing regexp: {_regex_reason(err)}: `{pattern}`", tok.pos)
        return ast.RegexNode(where, literal, pattern, comment)

    def star(self) -> ast.StarNode:
        tok = self.expect(T.STAR)
        return ast.StarNode(self.where(tok.pos), self.consume_comment())

    def reference(self) -> ast.ReferenceNode:
        tok = self.expect(T.REFERENCE)
        name = tok.value[1:-1].replace('\\"', '"')
        return ast.ReferenceNode(self.where(tok.pos), name, self.consume_comment())


def check_height(node: ast.Node) -> None:
    """Refuse a tree deeper than MAX_HEIGHT with a ParseError."""
    try:
        _check_height(node)
    except _Abort as abort:
        where = node.where
        raise ParseError(f"parser: {abort.reason}", Position(where.line, where.char, abort.pos)) from None


def _check_height(node: ast.Node) -> None:
    """Refuse a tree deeper than MAX_HEIGHT; the links of a chain do not count (they are walked in loops)."""
    stack = [(node, 1)]
    while stack:
        current, height = stack.pop()
        if height > MAX_HEIGHT:
            raise _Abort(f"expression nested deeper than {MAX_HEIGHT} levels", current.where.pos)
        if isinstance(current, ast.ChainNode):
            stack.append((current.left, height))
            stack.append((current.right, height + 1))
        else:
            stack.extend((child, height + 1) for child in ast.children(current))


def _regex_reason(err: Exception) -> str:
    # Go's regexp words its errors differently (`missing closing )`); the common ones are mapped.
    message = getattr(err, "msg", str(err))
    if message.startswith("missing ), unterminated subpattern"):
        return "missing closing )"
    if message.startswith("unbalanced parenthesis"):
        return "unexpected )"
    if message.startswith("unterminated character set"):
        return "missing closing ]"
    if message.startswith("nothing to repeat") or message.startswith("multiple repeat"):
        return "missing argument to repetition operator"
    return message


def parse_influxql_duration(text: str) -> int:
    """InfluxQL's duration syntax (`10s`, `1h30m`, `5ms`, `3µ`, `2d`, `1w`) to nanoseconds, with Go's int64
    wrap-around and InfluxQL's errors."""
    units = {"u": 1_000, "µ": 1_000, "s": 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9, "w": 604800 * 10**9}
    if len(text.encode()) < 2:
        raise ValueError("invalid duration")
    i = 0
    negative = text.startswith("-")
    if negative:
        i = 1
    total = 0
    measure, unit = 0, ""
    while i < len(text):
        start = i
        while i < len(text) and "0" <= text[i] <= "9":
            i += 1
        if i >= len(text) or i == start:
            raise ValueError("invalid duration")
        digits = text[start:i].lstrip("0") or "0"
        if len(digits) > 19 or int(digits) > MAX_INT64:
            raise ValueError("invalid duration")
        measure = int(digits)
        unit = text[i]
        two = text[i : i + 2]
        if two in ("ns", "ms"):
            unit = two
            total += measure * (1 if two == "ns" else 1_000_000)
            i += 2
        elif unit == "m":
            total += measure * 60 * 10**9
            i += 1
        elif unit in units:
            total += measure * units[unit]
            i += 1
        else:
            raise ValueError("invalid duration")
        total = _wrap64(total)
    if total < 0 and not negative:
        raise ValueError(f"overflowed duration {measure}{unit}: choose a smaller duration or INF")
    return _wrap64(-total) if negative else total


def _wrap64(value: int) -> int:
    return ((value + (1 << 63)) % (1 << 64)) - (1 << 63)


def _prepare(script: str) -> str:
    # A lone surrogate cannot come from UTF-8; read it as the replacement character Go would see.
    return _SURROGATES.sub("\ufffd", script)


def _parse_error(parser: _Parser, abort: _Abort) -> ParseError:
    where = parser.source.where(abort.pos)
    message = f"parser: {abort.reason}"
    return ParseError(message, Position(where.line, where.char, abort.pos), message=message)


def parse(script: str) -> ast.Program:
    """Parse a whole TICKscript; a ParseError carries Kapacitor's message."""
    parser = _Parser(_prepare(script))
    try:
        program = parser.program()
        parser.expect(T.EOF)
    except _Abort as abort:
        raise _parse_error(parser, abort) from None
    return program


def parse_lambda(text: str) -> ast.LambdaNode:
    """Parse a lambda expression alone (the text after `lambda:`)."""
    parser = _Parser(_prepare(text))
    try:
        node = ast.LambdaNode(parser.where(0), parser.primary_expr())
        parser.expect(T.EOF)
        _check_height(node)
    except _Abort as abort:
        raise _parse_error(parser, abort) from None
    return node


def literal_value(node: ast.Node) -> object:
    """The value a literal node stands for, as the pipeline takes it (see chalicelib.tick.values)."""
    match node:
        case ast.NumberNode():
            return node.value
        case ast.StringNode():
            return node.literal
        case ast.BoolNode():
            return node.value
        case ast.DurationNode():
            return Duration(node.nanoseconds)
        case ast.RegexNode():
            return Regex.of(node.pattern)
        case ast.StarNode():
            return Star()
        case ast.LambdaNode():
            return Lambda(expression=node.expression, text=ast.expression_text(node))
        case ast.ListNode():
            return [literal_value(item) for item in node.nodes]
        case ast.ReferenceNode():
            return node.reference
    raise invalid(f"not a literal: {type(node).__name__}")
