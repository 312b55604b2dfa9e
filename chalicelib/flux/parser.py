"""Flux parser: tokens -> `ast.File`, by recursive descent over Flux's operator precedence:

call/member/index > |> > ^ > * / % > + - > comparisons > not/exists > and > or > if/then/else
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.flux import ast
from chalicelib.flux.budget import budget
from chalicelib.flux.tokens import (
    DURATION,
    EOF,
    FLOAT,
    IDENT,
    INT,
    REGEX,
    STRING,
    TIME,
    Lexer,
    Token,
    syntax_error,
)
from chalicelib.kit.syntax import ParseError

_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=", "=~", "!~")

# Flux's parser refuses expressions nested more than 80 deep, and its AST check trees more than 180
# nodes deep, as "Program is nested too deep". This descent spends a dozen Python frames a level of
# parentheses, records, arrays or calls (one per precedence level), so it stops at 40 to stay well
# within the interpreter's recursion limit; the 180 of the tree is Flux's (`ast.check_depth`).
MAX_NESTING = 40


class Parser:
    def __init__(self, source: str, base_offset: int = 0, nesting: int = 0) -> None:
        self.source = source
        self.lexer = Lexer(source)
        self.tokens = self.lexer.tokens()
        self.i = 0
        self.base = base_offset
        self.nesting = nesting  # expressions (and unary operators) being parsed inside one another

    # -- token helpers ---------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, n: int = 1) -> Token:
        return self.tokens[min(self.i + n, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != EOF:
            self.i += 1
            if not self.i & 1023:
                budget().check()  # a long program takes long to parse: the query's time
        return tok

    def error(self, message: str, tok: Token | None = None) -> ParseError:
        tok = tok or self.tok
        return syntax_error(message, tok.line, tok.column, tok.offset)

    def expect_op(self, op: str) -> Token:
        if not self.tok.is_op(op):
            found = self.tok.text or "EOF"
            raise self.error(f"expected {op}, got {found}")
        return self.advance()

    def prev_end(self) -> int:
        return self.tokens[self.i - 1].end if self.i else 0

    def node(self, node: ast.Node, start: int) -> ast.Node:
        node.start = start + self.base
        node.end = self.prev_end() + self.base
        return node

    # -- file and statements ---------------------------------------------------------------------

    def parse_file(self) -> ast.File:
        start = self.tok.offset
        package = None
        imports: list[ast.ImportDeclaration] = []
        if self.tok.is_keyword("package"):
            s = self.advance().offset
            name = self.identifier()
            package = self.node(ast.PackageClause(name), s)
        while self.tok.is_keyword("import"):
            s = self.advance().offset
            alias = self.identifier() if self.tok.kind == IDENT else None
            if self.tok.kind != STRING:
                raise self.error("expected import path string")
            path_tok = self.advance()
            path = self.node(ast.StringLiteral(_plain(path_tok.value)), path_tok.offset)
            imports.append(self.node(ast.ImportDeclaration(path, alias), s))
        body = []
        while self.tok.kind != EOF:
            body.append(self.statement())
        file = ast.File(body, imports, package)
        file.start, file.end = start, self.prev_end()
        return file

    def statement(self) -> ast.Node:
        tok = self.tok
        s = tok.offset
        if tok.is_keyword("option"):
            self.advance()
            ident = self.identifier()
            if self.tok.is_op("."):
                self.advance()
                prop = self.identifier()
                member = self.node(ast.MemberExpression(ident, prop), ident.start)
                self.expect_op("=")
                init = self.expression()
                assignment = self.node(ast.MemberAssignment(member, init), ident.start)
            else:
                self.expect_op("=")
                init = self.expression()
                assignment = self.node(ast.VariableAssignment(ident, init), ident.start)
            return self.node(ast.OptionStatement(assignment), s)
        if tok.is_keyword("return"):
            self.advance()
            return self.node(ast.ReturnStatement(self.expression()), s)
        if tok.is_keyword("builtin"):
            self.advance()
            ident = self.identifier()
            if self.tok.is_op(":"):  # builtin x : type -- skip the type expression up to line end
                line = self.tok.line
                while self.tok.kind != EOF and self.tok.line == line:
                    self.advance()
            return self.node(ast.BuiltinStatement(ident), s)
        if tok.is_keyword("import", "package"):
            raise self.error(f"{tok.text} must come first in a file")
        if tok.kind == IDENT and self.peek().is_op("="):
            ident = self.identifier()
            self.advance()
            init = self.expression()
            return self.node(ast.VariableAssignment(ident, init), s)
        expr = self.expression()
        return self.node(ast.ExpressionStatement(expr), s)

    def identifier(self) -> ast.Identifier:
        tok = self.tok
        if tok.kind != IDENT:
            raise self.error(f"expected identifier, got {tok.text or 'EOF'}")
        self.advance()
        return self.node(ast.Identifier(tok.text), tok.offset)

    # -- expressions -----------------------------------------------------------------------------

    def nested(self, parse: Callable[[], ast.Node]) -> ast.Node:
        """`parse()` one level deeper, refused past MAX_NESTING (as Flux's parser, at the token there)."""
        if self.nesting >= MAX_NESTING:
            raise self.error(ast.NESTED_TOO_DEEP)
        self.nesting += 1
        try:
            return parse()
        finally:
            self.nesting -= 1

    def expression(self) -> ast.Node:
        return self.nested(self._expression)

    def _expression(self) -> ast.Node:
        if self.tok.is_keyword("if"):
            s = self.advance().offset
            test = self.expression()
            if not self.tok.is_keyword("then"):
                raise self.error("expected then")
            self.advance()
            consequent = self.expression()
            if not self.tok.is_keyword("else"):
                raise self.error("expected else")
            self.advance()
            alternate = self.expression()
            return self.node(ast.ConditionalExpression(test, consequent, alternate), s)
        return self.logical_or()

    def logical_or(self) -> ast.Node:
        s = self.tok.offset
        left = self.logical_and()
        while self.tok.is_keyword("or"):
            self.advance()
            right = self.logical_and()
            left = self.node(ast.LogicalExpression("or", left, right), s)
        return left

    def logical_and(self) -> ast.Node:
        s = self.tok.offset
        left = self.unary_logical()
        while self.tok.is_keyword("and"):
            self.advance()
            right = self.unary_logical()
            left = self.node(ast.LogicalExpression("and", left, right), s)
        return left

    def unary_logical(self) -> ast.Node:
        if self.tok.is_keyword("not", "exists"):
            tok = self.advance()
            arg = self.nested(self.unary_logical)
            return self.node(ast.UnaryExpression(tok.text, arg), tok.offset)
        return self.comparison()

    def comparison(self) -> ast.Node:
        s = self.tok.offset
        left = self.additive()
        while self.tok.is_op(*_COMPARISONS):
            op = self.advance().text
            right = self.additive()
            left = self.node(ast.BinaryExpression(op, left, right), s)
        return left

    def additive(self) -> ast.Node:
        s = self.tok.offset
        left = self.multiplicative()
        while self.tok.is_op("+", "-"):
            op = self.advance().text
            right = self.multiplicative()
            left = self.node(ast.BinaryExpression(op, left, right), s)
        return left

    def multiplicative(self) -> ast.Node:
        s = self.tok.offset
        left = self.power()
        while self.tok.is_op("*", "/", "%"):
            op = self.advance().text
            right = self.power()
            left = self.node(ast.BinaryExpression(op, left, right), s)
        return left

    def power(self) -> ast.Node:
        s = self.tok.offset
        left = self.pipe()
        while self.tok.is_op("^"):
            self.advance()
            right = self.pipe()
            left = self.node(ast.BinaryExpression("^", left, right), s)
        return left

    def pipe(self) -> ast.Node:
        s = self.tok.offset
        left = self.unary()
        while self.tok.is_op("|>"):
            self.advance()
            at = self.tok
            call = self.unary()
            if not isinstance(call, ast.CallExpression):
                raise self.error("pipe destination must be a function call", at)
            left = self.node(ast.PipeExpression(left, call), s)
        return left

    def unary(self) -> ast.Node:
        if self.tok.is_op("-", "+"):
            tok = self.advance()
            arg = self.nested(self.unary)
            return self.node(ast.UnaryExpression(tok.text, arg), tok.offset)
        return self.postfix()

    def postfix(self) -> ast.Node:
        s = self.tok.offset
        expr = self.primary()
        while True:
            if self.tok.is_op("."):
                self.advance()
                prop = self.identifier()
                expr = self.node(ast.MemberExpression(expr, prop), s)
            elif self.tok.is_op("["):
                self.advance()
                index = self.expression()
                self.expect_op("]")
                if isinstance(index, ast.StringLiteral):
                    expr = self.node(ast.MemberExpression(expr, index), s)
                else:
                    expr = self.node(ast.IndexExpression(expr, index), s)
            elif self.tok.is_op("("):
                self.advance()
                args = []
                if not self.tok.is_op(")"):
                    ps = self.tok.offset
                    props = self.properties(")")
                    args.append(self.node(ast.ObjectExpression(props), ps))
                self.expect_op(")")
                expr = self.node(ast.CallExpression(expr, args), s)
            else:
                return expr

    def properties(self, closer: str) -> list[ast.Property]:
        props = []
        while True:
            s = self.tok.offset
            if self.tok.kind == IDENT:
                key: ast.Node = self.identifier()
            elif self.tok.kind == STRING:
                tok = self.advance()
                key = self.node(ast.StringLiteral(_plain(tok.value)), tok.offset)
            else:
                raise self.error("missing property key" if self.tok.is_op(":") else "expected property key")
            value = None
            if self.tok.is_op(":"):
                self.advance()
                value = self.expression()
            props.append(self.node(ast.Property(key, value), s))
            if self.tok.is_op(","):
                self.advance()
                if self.tok.is_op(closer):
                    break
                continue
            if self.tok.is_op(closer):
                break
            raise self.error(f"expected , or {closer}, got {self.tok.text or 'EOF'}")
        return props

    def primary(self) -> ast.Node:
        tok = self.tok
        s = tok.offset
        if tok.kind == IDENT:
            return self.identifier()
        if tok.kind == INT:
            self.advance()
            return self.node(ast.IntegerLiteral(tok.value), s)
        if tok.kind == FLOAT:
            self.advance()
            return self.node(ast.FloatLiteral(tok.value), s)
        if tok.kind == DURATION:
            self.advance()
            return self.node(ast.DurationLiteral(tok.value), s)
        if tok.kind == TIME:
            self.advance()
            return self.node(ast.DateTimeLiteral(tok.value), s)
        if tok.kind == REGEX:
            self.advance()
            return self.node(ast.RegexpLiteral(tok.value), s)
        if tok.kind == STRING:
            self.advance()
            return self.string(tok)
        if tok.is_op("<-"):
            self.advance()
            return self.node(ast.PipeLiteral(), s)
        if tok.is_op("["):
            self.advance()
            elements = []
            while not self.tok.is_op("]"):
                elements.append(self.expression())
                if self.tok.is_op(":"):
                    raise self.error("dictionary literals are not supported")
                if self.tok.is_op(","):
                    self.advance()
                elif not self.tok.is_op("]"):
                    raise self.error(f"expected , or ], got {self.tok.text or 'EOF'}")
            self.advance()
            return self.node(ast.ArrayExpression(elements), s)
        if tok.is_op("{"):
            return self.record()
        if tok.is_op("("):
            if self._is_function():
                return self.function()
            self.advance()
            expr = self.expression()
            self.expect_op(")")
            return expr
        if tok.kind == EOF:
            raise self.error("unexpected end of query")
        raise self.error(f"unexpected token {tok.text!r}")

    def string(self, tok: Token) -> ast.Node:
        parts = tok.value
        if len(parts) == 1 and isinstance(parts[0], str):
            return self.node(ast.StringLiteral(parts[0]), tok.offset)
        nodes: list[ast.Node] = []
        for part in parts:
            if isinstance(part, str):
                nodes.append(ast.TextPart(part))
            else:
                _, text, offset = part
                sub = Parser(text, self.base + offset, self.nesting)
                expr = sub.expression()
                if sub.tok.kind != EOF:
                    raise sub.error("unexpected token in string interpolation")
                nodes.append(ast.InterpolatedPart(expr))
        return self.node(ast.StringExpression(nodes), tok.offset)

    def record(self) -> ast.Node:
        s = self.advance().offset
        with_ = None
        if self.tok.is_op("}"):
            self.advance()
            return self.node(ast.ObjectExpression([]), s)
        if self.tok.kind == IDENT and self.peek().kind == IDENT and self.peek().text == "with":
            with_ = self.identifier()
            self.advance()
        props = self.properties("}")
        self.expect_op("}")
        return self.node(ast.ObjectExpression(props, with_), s)

    def _is_function(self) -> bool:
        depth = 0
        j = self.i
        while j < len(self.tokens):
            t = self.tokens[j]
            if t.is_op("(", "[", "{"):
                depth += 1
            elif t.is_op(")", "]", "}"):
                depth -= 1
                if depth == 0:
                    return self.tokens[j + 1].is_op("=>") if j + 1 < len(self.tokens) else False
            elif t.kind == EOF:
                return False
            j += 1
        return False

    def function(self) -> ast.Node:
        s = self.expect_op("(").offset
        params: list[ast.Property] = []
        while not self.tok.is_op(")"):
            ps = self.tok.offset
            key = self.identifier()
            value = None
            if self.tok.is_op("="):
                self.advance()
                value = self.expression()
            params.append(self.node(ast.Property(key, value), ps))
            if self.tok.is_op(","):
                self.advance()
            elif not self.tok.is_op(")"):
                raise self.error(f"expected , or ), got {self.tok.text or 'EOF'}")
        self.advance()
        self.expect_op("=>")
        if self.tok.is_op("{") and not self._looks_like_record():
            bs = self.advance().offset
            body = []
            while not self.tok.is_op("}"):
                if self.tok.kind == EOF:
                    raise self.error("unterminated function body")
                body.append(self.statement())
            self.advance()
            block = self.node(ast.Block(body), bs)
            return self.node(ast.FunctionExpression(params, block), s)
        body_expr = self.expression()
        return self.node(ast.FunctionExpression(params, body_expr), s)

    def _looks_like_record(self) -> bool:
        """After `=> {`: a record literal (`{}`, `{a: ..`, `{a, ..`, `{r with ..`) rather than a block."""
        nxt, after = self.peek(), self.peek(2)
        if nxt.is_op("}"):
            return True
        if nxt.kind in (IDENT, STRING):
            return after.is_op(":", ",", "}") or (after.kind == IDENT and after.text == "with")
        return False


def _plain(parts: list) -> str:
    return "".join(p for p in parts if isinstance(p, str))


def parse(source: str) -> ast.File:
    file = Parser(source).parse_file()
    ast.check_depth(file, source)
    return file
