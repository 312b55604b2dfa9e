"""InfluxQL parser (stage 3 of the front end): tokens -> `ast` statements.

Recursive descent following InfluxDB 1.x's grammar, with its error messages and positions:
`found X, expected Y at line L, char C` (1-based), and a few position-less messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.kit.gofloat import format_float
from chalicelib.kit.syntax import ParseError, Position

from . import ast
from . import tokens as t
from .generator import generate, quote_ident
from .tokens import Scanner, Token

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
MAX_UINT64 = 2**64 - 1

# How deep a statement may nest. Every stage (generator, time ranges, conditions, evaluation) walks
# expressions recursively, two Python frames a level at most, within the interpreter's recursion
# limit; influxd (Go, growing stacks) has no such bound. AND and OR chains are built balanced
# (`_balanced`), so `a OR b OR ...` of thousands of terms stays shallow: only parentheses, calls and
# chains of other operators (`v + v + ...`) nest this deep.
MAX_DEPTH = 200
MAX_SUBQUERY_DEPTH = 32


def _error(reason: str, position: Position | None = None, **details: Any) -> ParseError:
    """InfluxQL's wording: the reason, then ` at line L, char C` when it has a position."""
    if position is None:
        return ParseError(reason, **details)
    where = f"{reason} at line {position.line}, char {position.column}"
    return ParseError(reason, position, message=where, **details)


def _pos(tok: Token) -> Position:
    return Position(tok.line + 1, tok.char + 1)


def _expected(tok: Token, expected: list[str]) -> ParseError:
    reason = f"found {tok.found}, expected {', '.join(expected)}"
    return _error(reason, _pos(tok), found=tok.found, expected=expected)


def _at(message: str, tok: Token) -> ParseError:
    return _error(message, _pos(tok))


def _too_deep(what: str, limit: int, tok: Token | None = None) -> ParseError:
    reason = f"{what} nested too deeply (more than {limit} levels)"
    return _error(reason) if tok is None else _at(reason, tok)


def check_depth(node: ast.Node) -> None:
    """Refuse a tree whose expressions nest more than MAX_DEPTH deep (an operator chain the parser
    builds without nesting calls, e.g. `v + v + ...`)."""
    if ast.expr_depth(node) > MAX_DEPTH:
        raise _too_deep("expression", MAX_DEPTH)


def _balanced(expr: ast.Expr) -> ast.Expr:
    """A chain of ORs (and each chain of ANDs under it) as a balanced tree instead of a left-deep one:
    the same text and value (both are associative), log2(n) deep instead of n. Precedence climbing
    puts them on top (the lowest precedences) and never on a right-hand side of the same operator."""
    if not isinstance(expr, ast.BinaryExpr) or expr.op not in (t.OR, t.AND):
        return expr
    op = expr.op
    operands: list[ast.Expr] = []
    node: ast.Expr = expr
    while isinstance(node, ast.BinaryExpr) and node.op == op:
        operands.append(node.rhs)
        node = node.lhs
    operands.append(node)
    operands.reverse()
    if op == t.OR:
        operands = [_balanced(o) for o in operands]  # the AND chains among its terms
    while len(operands) > 1:
        paired = [ast.BinaryExpr(op, a, b) for a, b in zip(operands[::2], operands[1::2], strict=False)]
        if len(operands) % 2:
            paired.append(operands[-1])
        operands = paired
    return operands[0]


_ORIGIN = Position(1, 1)  # InfluxDB's zero position, used by a few errors that carry no real position


# Bound parameters ----------------------------------------------------------------------------------


def _go_type(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, list | tuple):
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    return type(v).__name__


def bind_value(v: Any) -> tuple[str, str]:
    """(token kind, literal) a bound parameter value stands for, as InfluxDB binds JSON values.

    Plain JSON values bind as string, integer, number or boolean literals; an object with one entry
    chooses the type: {"identifier": "cpu"}, {"regex": "^a"}, {"duration": "1h"}, {"string": ...},
    {"integer": ...}, {"number": ...}, {"boolean": ...}. Errors bind as (BOUNDPARAM, message).
    """
    if isinstance(v, bool):
        return (t.TRUE if v else t.FALSE), ""
    if isinstance(v, int):
        return t.INTEGER, str(v)
    if isinstance(v, float):
        return t.NUMBER, format_float(v)
    if isinstance(v, str):
        return t.STRING, v
    if isinstance(v, dict):
        if len(v) != 1:
            return t.BOUNDPARAM, "bound object parameter value must have exactly one entry"
        ((kind, value),) = v.items()
        return _bind_typed(str(kind), value)
    return t.BOUNDPARAM, f"unable to bind parameter with type {_go_type(v)}"


def _bind_typed(kind: str, value: Any) -> tuple[str, str]:
    try:
        if kind in ("identifier", "ident"):
            return t.IDENT, str(value)
        if kind == "regex":
            return t.REGEX, str(value)
        if kind in ("string", "str"):
            return t.STRING, str(value)
        if kind in ("integer", "int"):
            return t.INTEGER, str(int(value))
        if kind in ("number", "float"):
            return t.NUMBER, format_float(float(value))
        if kind in ("boolean", "bool"):
            if isinstance(value, str):
                value = {"true": True, "false": False}[value.lower()]
            return (t.TRUE if value else t.FALSE), ""
        if kind == "duration":
            ns = t.parse_duration(value) if isinstance(value, str) else int(value)
            return t.DURATIONVAL, t.format_duration(ns)
    except (ValueError, KeyError, TypeError, t.DurationError):
        return t.BOUNDPARAM, f"unable to bind {kind} parameter with value {value!r}"
    return t.BOUNDPARAM, f"unknown bind object type: {kind}"


# Parser --------------------------------------------------------------------------------------------


class _Root:
    def __init__(self, rhs: ast.Expr) -> None:
        self.rhs = rhs


_TARGET_REQUIRED, _TARGET_NOT_REQUIRED, _TARGET_SUBQUERY = range(3)


class Parser:
    def __init__(
        self, text: str, params: Mapping[str, Any] | None = None, check: Callable[[], None] | None = None
    ) -> None:
        """`check` is called every 1024 tokens (a long query takes long to parse: the query's time)."""
        self.s = Scanner(text)
        self.check = check
        self.scanned = 0
        self.off = 0
        self.hist: list[tuple[int, Token]] = []
        self.params = {str(k): bind_value(v) for k, v in (params or {}).items()}
        self.nesting = 0  # expressions being parsed inside one another
        self.subqueries = 0  # subqueries being parsed inside one another

    # Token stream ----------------------------------------------------------------------------------

    def _substitute(self, tok: Token) -> Token:
        if tok.kind == t.BOUNDPARAM and len(tok.lit) > 1 and tok.lit[1:] in self.params:
            kind, lit = self.params[tok.lit[1:]]
            if kind == t.BOUNDPARAM:
                raise _error(lit)
            return Token(kind, lit, tok.start, tok.end, tok.line, tok.char)
        return tok

    def scan(self) -> Token:
        """The next token, whitespace and comments included."""
        self.scanned += 1
        if self.check is not None and not self.scanned & 1023:
            self.check()
        tok = self.s.scan(self.off)
        self.hist.append((self.off, tok))
        self.off = tok.end
        return self._substitute(tok)

    def scan_ws(self) -> Token:
        """The next token that is not whitespace or a comment."""
        while True:
            tok = self.scan()
            if tok.kind not in (t.WS, t.COMMENT):
                return tok
            self.hist.pop()

    def unscan(self) -> None:
        self.off = self.hist.pop()[0]

    def peek_char(self) -> str:
        return self.s.peek(self.off)

    def consume_ws(self) -> None:
        if self.scan().kind != t.WS:
            self.unscan()

    def last_token(self) -> Token:
        for _, tok in reversed(self.hist):
            if tok.kind not in (t.WS, t.COMMENT):
                return tok
        return self.s.scan(0)

    def expect(self, *kinds: str) -> Token:
        """Consume the given token kinds in order (InfluxDB's parseTokens)."""
        tok = None
        for kind in kinds:
            tok = self.scan_ws()
            if tok.kind != kind:
                raise _expected(tok, [kind])
        assert tok is not None
        return tok

    def optional(self, kind: str) -> bool:
        if self.scan_ws().kind == kind:
            return True
        self.unscan()
        return False

    # Query -----------------------------------------------------------------------------------------

    def parse_query(self) -> list[ast.Statement]:
        statements: list[ast.Statement] = []
        semi = True
        while True:
            tok = self.scan_ws()
            if tok.kind == t.EOF:
                return statements
            if tok.kind == t.SEMICOLON:
                semi = True
                continue
            if not semi:
                raise _expected(tok, [";"])
            self.unscan()
            statement = self.parse_statement()
            check_depth(statement)
            statements.append(statement)
            semi = False

    def parse_statement(self) -> ast.Statement:
        tree: dict[str, Any] = _LANGUAGE
        while True:
            tok = self.scan_ws()
            node = tree.get(tok.kind)
            if node is None:
                raise _expected(tok, list(tree))
            if isinstance(node, dict):
                tree = node
                continue
            return node(self)

    # Basic pieces ----------------------------------------------------------------------------------

    def parse_ident(self) -> str:
        tok = self.scan_ws()
        if tok.kind != t.IDENT:
            raise _expected(tok, ["identifier"])
        return tok.lit

    def parse_ident_list(self) -> list[str]:
        idents = [self.parse_ident()]
        while self.optional(t.COMMA):
            idents.append(self.parse_ident())
        return idents

    def parse_segmented_idents(self) -> list[str]:
        idents = [self.parse_ident()]
        while True:
            if self.scan().kind != t.DOT:
                self.unscan()
                break
            ch = self.peek_char()
            if ch in ("/", ":"):
                break
            if ch == ".":
                idents.append("")
                continue
            idents.append(self.parse_ident())
        if len(idents) > 3:
            raise _error(f"too many segments in {quote_ident(*idents)}", _ORIGIN)
        return idents

    def parse_string(self) -> str:
        tok = self.scan_ws()
        if tok.kind != t.STRING:
            raise _expected(tok, ["string"])
        return tok.lit

    def parse_string_list(self) -> list[str]:
        strs = [self.parse_string()]
        while self.optional(t.COMMA):
            strs.append(self.parse_string())
        return strs

    def parse_int(self, lo: int, hi: int) -> int:
        tok = self.scan_ws()
        if tok.kind != t.INTEGER:
            raise _expected(tok, ["integer"])
        n = int(tok.lit)
        if n > MAX_INT64 or n < -MAX_INT64 - 1:
            raise _at(f'strconv.Atoi: parsing "{tok.lit}": value out of range', tok)
        if n < lo or n > hi:
            raise _at(f"invalid value {n}: must be {lo} <= n <= {hi}", tok)
        return n

    def parse_uint64(self) -> int:
        tok = self.scan_ws()
        if tok.kind != t.INTEGER:
            raise _expected(tok, ["integer"])
        n = int(tok.lit)
        if n < 0 or n > MAX_UINT64:
            raise _at(f'strconv.ParseUint: parsing "{tok.lit}": value out of range', tok)
        return n

    def parse_duration(self) -> int:
        tok = self.scan_ws()
        if tok.kind == t.INF:
            return 0
        if tok.kind != t.DURATIONVAL:
            raise _expected(tok, ["duration"])
        try:
            return t.parse_duration(tok.lit)
        except t.DurationError as exc:
            raise _at(str(exc), tok) from None

    def parse_optional_int(self, kind: str) -> int:
        if not self.optional(kind):
            return 0
        tok = self.scan_ws()
        if tok.kind != t.INTEGER:
            raise _expected(tok, ["integer"])
        n = int(tok.lit)
        if n < 0:
            raise _at(f"{kind} must be >= 0", tok)
        return n

    def parse_on_database(self) -> str:
        return self.parse_ident() if self.optional(t.ON) else ""

    def parse_optional_sources(self) -> list[ast.Source]:
        return self.parse_sources(subqueries=False) if self.optional(t.FROM) else []

    # Expressions -----------------------------------------------------------------------------------

    def parse_expr(self) -> ast.Expr:
        self.nesting += 1
        try:
            if self.nesting > MAX_DEPTH:
                tok = self.scan_ws()
                raise _too_deep("expression", MAX_DEPTH, tok)
            return _balanced(self._parse_chain())
        finally:
            self.nesting -= 1

    def _parse_chain(self) -> ast.Expr:
        """Operands joined by operators, by precedence climbing."""
        root = _Root(self.parse_unary())
        while True:
            op = self.scan_ws()
            if op.kind not in t.OPERATORS:
                self.unscan()
                return root.rhs
            rhs: ast.Expr
            if op.kind in t.REGEX_OPS:
                regex = self.parse_regex()
                if regex is None:
                    raise _expected(self.scan_ws(), ["regex"])
                rhs = regex
            else:
                rhs = self.parse_unary()
            node: Any = root
            prec = t.precedence(op.kind)
            while True:
                r = node.rhs
                if not isinstance(r, ast.BinaryExpr) or t.precedence(r.op) >= prec:
                    node.rhs = ast.BinaryExpr(op.kind, node.rhs, rhs)
                    break
                node = r

    def parse_unary(self) -> ast.Expr:
        tok = self.scan_ws()
        kind = tok.kind
        if kind == t.LPAREN:
            expr = self.parse_expr()
            end = self.scan_ws()
            if end.kind != t.RPAREN:
                raise _expected(end, [")"])
            return ast.ParenExpr(expr)
        if kind == t.IDENT:
            if self.scan().kind == t.LPAREN:
                return self.parse_call(tok.lit)
            self.unscan()
            self.unscan()
            return self.parse_varref()
        if kind == t.DISTINCT:
            nxt = self.scan()
            if nxt.kind == t.LPAREN:
                return self.parse_call("distinct")
            if nxt.kind == t.WS:
                ident = self.scan_ws()
                if ident.kind != t.IDENT:
                    raise _expected(ident, ["identifier"])
                return ast.Distinct(ident.lit)
            raise _expected(nxt, ["(", "identifier"])
        if kind == t.STRING:
            return ast.StringLiteral(tok.lit)
        if kind == t.NUMBER:
            try:
                return ast.NumberLiteral(float(tok.lit))
            except ValueError:
                raise _at("unable to parse number", tok) from None
        if kind == t.INTEGER:
            n = int(tok.lit)
            if -MAX_INT64 - 1 <= n <= MAX_INT64:
                return ast.IntegerLiteral(n)
            if 0 <= n <= MAX_UINT64:
                return ast.UnsignedLiteral(n)
            raise _at("unable to parse integer", tok)
        if kind in (t.TRUE, t.FALSE):
            return ast.BooleanLiteral(kind == t.TRUE)
        if kind == t.DURATIONVAL:
            try:
                return ast.DurationLiteral(t.parse_duration(tok.lit))
            except t.DurationError as exc:
                raise _error(str(exc)) from None
        if kind == t.MUL:
            wc = ast.Wildcard()
            if self.scan().kind == t.DOUBLECOLON:
                typ = self.scan()
                if typ.kind not in (t.FIELD, t.TAG):
                    raise _expected(typ, ["field", "tag"])
                wc.type = typ.kind.lower()
            else:
                self.unscan()
            return wc
        if kind == t.REGEX:
            return self._regex(tok)
        if kind == t.BOUNDPARAM:
            name = tok.lit[1:]
            if not name:
                raise _error("empty bound parameter")
            raise _error(f"missing parameter: {name}")
        if kind in (t.ADD, t.SUB):
            return self._parse_signed(tok)
        raise _expected(tok, ["identifier", "string", "number", "bool"])

    def _parse_signed(self, sign: Token) -> ast.Expr:
        mul = -1 if sign.kind == t.SUB else 1
        nxt = self.scan_ws()
        if nxt.kind not in (t.NUMBER, t.INTEGER, t.DURATIONVAL, t.LPAREN, t.IDENT):
            raise _expected(nxt, ["identifier", "number", "duration", "("])
        self.unscan()
        lit = self.parse_unary()
        if isinstance(lit, ast.NumberLiteral | ast.IntegerLiteral | ast.DurationLiteral):
            lit.val *= mul
            return lit
        if isinstance(lit, ast.UnsignedLiteral):
            if mul == -1:
                if lit.val == MAX_INT64 + 1:
                    return ast.IntegerLiteral(-lit.val)
                raise _error(f"constant -{lit.val} underflows int64")
            return lit
        return ast.BinaryExpr(t.MUL, ast.IntegerLiteral(mul), lit)

    def parse_varref(self) -> ast.VarRef:
        segments = self.parse_segmented_idents()
        dtype = ""
        if self.scan().kind == t.DOUBLECOLON:
            typ = self.scan()
            if typ.kind == t.IDENT and typ.lit.lower() in (
                "float",
                "integer",
                "unsigned",
                "string",
                "boolean",
            ):
                dtype = typ.lit.lower()
            elif typ.kind in (t.FIELD, t.TAG):
                dtype = typ.kind.lower()
            elif typ.kind == t.IDENT:
                raise _expected(typ, ["float", "integer", "unsigned", "string", "boolean", "field", "tag"])
            else:
                raise _expected(typ, ["float", "integer", "string", "boolean", "field", "tag"])
        else:
            self.unscan()
        return ast.VarRef(".".join(segments), dtype)

    def parse_call(self, name: str) -> ast.Call:
        name = name.lower()
        args: list[ast.Expr] = []
        regex = self.parse_regex()
        if regex is not None:
            args.append(regex)
        else:
            if self.scan().kind == t.RPAREN:
                return ast.Call(name, [])
            self.unscan()
            args.append(self.parse_expr())
        while True:
            if self.scan_ws().kind != t.COMMA:
                self.unscan()
                break
            regex = self.parse_regex()
            args.append(regex if regex is not None else self.parse_expr())
        end = self.scan()
        if end.kind != t.RPAREN:
            raise _expected(end, [")"])
        return ast.Call(name, args)

    def _regex(self, tok: Token) -> ast.RegexLiteral:
        lit = ast.RegexLiteral(tok.lit)
        try:
            lit.compiled  # noqa: B018 - validate now, as InfluxDB compiles at parse time
        except re.error as exc:
            raise _at(f"error parsing regexp: {exc.msg}: `{tok.lit}`", tok) from None
        return lit

    def parse_regex(self) -> ast.RegexLiteral | None:
        if t.is_whitespace(self.peek_char()):
            self.consume_ws()
        ch = self.peek_char()
        if ch == "$":
            tok = self.scan()
            if tok.kind != t.REGEX:
                self.unscan()
                return None
        elif ch == "/":
            tok = self.s.scan_regex(self.off)
            self.hist.append((self.off, tok))
            self.off = tok.end
        else:
            return None
        if tok.kind == t.BADESCAPE:
            raise _at(f"bad escape: {tok.lit}", tok)
        if tok.kind == t.BADREGEX:
            raise _at(f"bad regex: {tok.lit}", tok)
        return self._regex(tok)

    # SELECT ----------------------------------------------------------------------------------------

    def parse_select(self, target: int = _TARGET_NOT_REQUIRED) -> ast.SelectStatement:
        stmt = ast.SelectStatement()
        stmt.fields = self.parse_fields()
        stmt.target = self.parse_target(target)
        tok = self.scan_ws()
        if tok.kind != t.FROM:
            raise _expected(tok, ["FROM"])
        stmt.sources = self.parse_sources(subqueries=True)
        stmt.condition = self.parse_condition()
        stmt.dimensions = self.parse_dimensions()
        stmt.fill, stmt.fill_value = self.parse_fill()
        stmt.sort_fields = self.parse_order_by()
        stmt.limit = self.parse_optional_int(t.LIMIT)
        stmt.offset = self.parse_optional_int(t.OFFSET)
        stmt.slimit = self.parse_optional_int(t.SLIMIT)
        stmt.soffset = self.parse_optional_int(t.SOFFSET)
        stmt.location = self.parse_location()
        stmt.is_raw_query = not any(
            isinstance(n, ast.Call | ast.Distinct) for f in stmt.fields for n in ast.walk(f)
        )
        return stmt

    def parse_fields(self) -> list[ast.Field]:
        fields = [self.parse_field()]
        while self.optional(t.COMMA):
            fields.append(self.parse_field())
        return fields

    def parse_field(self) -> ast.Field:
        regex = self.parse_regex()
        expr: ast.Expr
        if regex is not None:
            expr = regex
        else:
            first = self.scan_ws()
            self.unscan()
            expr = self.parse_expr()
            for node in ast.walk(expr):
                if isinstance(node, ast.BinaryExpr) and node.op in _BOOLEAN_OPS:
                    raise _error(
                        f"invalid operator {node.op} in SELECT clause at line {first.line + 1}, "
                        f"char {first.char + 1}; operator is intended for WHERE clause"
                    )
        alias = self.parse_ident() if self.optional(t.AS) else ""
        self.consume_ws()
        return ast.Field(expr, alias)

    def parse_target(self, requirement: int) -> ast.Target | None:
        tok = self.scan_ws()
        if tok.kind != t.INTO:
            if requirement == _TARGET_REQUIRED:
                raise _expected(tok, ["INTO"])
            self.unscan()
            return None
        idents = self.parse_segmented_idents()
        if len(idents) < 3 and self.peek_char() == ":":
            self.expect(t.COLON, t.MEASUREMENT)
            idents.append("")
        m = ast.Measurement(is_target=True)
        if len(idents) == 1:
            m.name = idents[0]
        elif len(idents) == 2:
            m.retention_policy, m.name = idents
        else:
            m.database, m.retention_policy, m.name = idents
        return ast.Target(m)

    def parse_sources(self, *, subqueries: bool) -> list[ast.Source]:
        sources = [self.parse_source(subqueries=subqueries)]
        while self.optional(t.COMMA):
            sources.append(self.parse_source(subqueries=subqueries))
        return sources

    def parse_source(self, *, subqueries: bool) -> ast.Source:
        regex = self.parse_regex()
        if regex is not None:
            return ast.Measurement(regex=regex)
        if subqueries:
            if (lparen := self.scan_ws()).kind == t.LPAREN:
                self.expect(t.SELECT)
                if self.subqueries >= MAX_SUBQUERY_DEPTH:
                    raise _too_deep("subqueries", MAX_SUBQUERY_DEPTH, lparen)
                self.subqueries += 1
                try:
                    stmt = self.parse_select(_TARGET_SUBQUERY)
                finally:
                    self.subqueries -= 1
                self.expect(t.RPAREN)
                return ast.SubQuery(stmt)
            self.unscan()
        idents = self.parse_segmented_idents()
        m = ast.Measurement()
        if len(idents) == 3:
            m.database, m.retention_policy, m.name = idents
            return m
        regex = self.parse_regex()
        m.regex = regex
        if len(idents) == 1:
            if regex is not None:
                m.retention_policy = idents[0]
            else:
                m.name = idents[0]
        elif regex is not None:
            m.database, m.retention_policy = idents
        else:
            m.retention_policy, m.name = idents
        return m

    def parse_condition(self) -> ast.Expr | None:
        return self.parse_expr() if self.optional(t.WHERE) else None

    def parse_dimensions(self) -> list[ast.Dimension]:
        if not self.optional(t.GROUP):
            return []
        tok = self.scan_ws()
        if tok.kind != t.BY:
            raise _expected(tok, ["BY"])
        dims = [self.parse_dimension()]
        while self.optional(t.COMMA):
            dims.append(self.parse_dimension())
        return dims

    def parse_dimension(self) -> ast.Dimension:
        regex = self.parse_regex()
        if regex is not None:
            return ast.Dimension(regex)
        expr = self.parse_expr()
        self.consume_ws()
        return ast.Dimension(expr)

    def parse_fill(self) -> tuple[str, int | float | None]:
        tok = self.scan_ws()
        self.unscan()
        if tok.kind != t.IDENT or tok.lit.lower() != "fill":
            return "null", None
        expr = self.parse_expr()
        if not isinstance(expr, ast.Call):
            raise _error("fill must be a function call")
        if len(expr.args) != 1:
            raise _error("fill requires an argument, e.g.: 0, null, none, previous, linear")
        arg = expr.args[0]
        text = generate(arg)
        if text in ("null", "none", "previous", "linear"):
            return text, None
        if isinstance(arg, ast.IntegerLiteral | ast.NumberLiteral):
            return "number", arg.val
        raise _error("expected number argument in fill()")

    def parse_location(self) -> str | None:
        tok = self.scan_ws()
        self.unscan()
        if tok.kind != t.IDENT or tok.lit.lower() != "tz":
            return None
        expr = self.parse_expr()
        if not isinstance(expr, ast.Call):
            raise _error("tz must be a function call")
        if len(expr.args) != 1:
            raise _error("tz requires exactly one argument")
        arg = expr.args[0]
        if not isinstance(arg, ast.StringLiteral):
            raise _error("expected string argument in tz()")
        if not valid_time_zone(arg.val):
            raise _error(f"unable to find time zone {arg.val}")
        return arg.val

    def parse_order_by(self) -> list[ast.SortField]:
        if not self.optional(t.ORDER):
            return []
        tok = self.scan_ws()
        if tok.kind != t.BY:
            raise _expected(tok, ["BY"])
        tok = self.scan_ws()
        fields: list[ast.SortField] = []
        if tok.kind in (t.ASC, t.DESC):
            fields.append(ast.SortField(ascending=tok.kind == t.ASC))
        elif tok.kind == t.IDENT:
            self.unscan()
            field = self.parse_sort_field()
            if tok.lit != "time":
                raise _error("only ORDER BY time supported at this time")
            fields.append(field)
        else:
            raise _expected(tok, ["identifier", "ASC", "DESC"])
        while self.optional(t.COMMA):
            fields.append(self.parse_sort_field())
        if len(fields) > 1:
            raise _error("only ORDER BY time supported at this time")
        return fields

    def parse_sort_field(self) -> ast.SortField:
        name = self.parse_ident()
        tok = self.scan_ws()
        if tok.kind not in (t.ASC, t.DESC):
            self.unscan()
            return ast.SortField(name, True)
        return ast.SortField(name, tok.kind == t.ASC)

    # DELETE / DROP SERIES ----------------------------------------------------------------------------

    def _parse_series_filter(self, *, forbid_rp: bool) -> tuple[list[ast.Source], ast.Expr | None]:
        tok = self.scan_ws()
        sources: list[ast.Source] = []
        if tok.kind == t.FROM:
            sources = self.parse_sources(subqueries=False)
            message = ""
            for src in sources:
                if isinstance(src, ast.Measurement):
                    if src.database:
                        message = "database not supported"
                    if forbid_rp and src.retention_policy:
                        message = "retention policy not supported"
            if message:
                raise _error(message, _ORIGIN)
        else:
            self.unscan()
        condition = self.parse_condition()
        if condition is None and not sources:
            raise _expected(tok, ["FROM", "WHERE"])
        return sources, condition

    def parse_delete(self) -> ast.DeleteSeriesStatement:
        sources, condition = self._parse_series_filter(forbid_rp=False)
        return ast.DeleteSeriesStatement(sources, condition)

    def parse_drop_series(self) -> ast.DropSeriesStatement:
        sources, condition = self._parse_series_filter(forbid_rp=True)
        return ast.DropSeriesStatement(sources, condition)

    # SHOW ------------------------------------------------------------------------------------------

    def parse_show_measurements(self) -> ast.ShowMeasurementsStatement:
        stmt = ast.ShowMeasurementsStatement()
        if self.optional(t.ON):
            tok = self.scan_ws()
            if tok.kind == t.IDENT:
                stmt.database = tok.lit
            elif tok.kind == t.MUL:
                stmt.wildcard_database = True
            else:
                raise _expected(tok, ["identifier or *"])
            if self.optional(t.DOT):
                tok = self.scan_ws()
                if tok.kind == t.IDENT:
                    stmt.retention_policy = tok.lit
                elif tok.kind == t.MUL:
                    stmt.wildcard_retention_policy = True
                else:
                    raise _expected(tok, ["identifier or *"])
        if self.optional(t.WITH):
            self.expect(t.MEASUREMENT)
            tok = self.scan_ws()
            if tok.kind not in (t.EQ, t.EQREGEX):
                raise _expected(tok, ["=", "=~"])
            stmt.source = self.parse_source(subqueries=False)
        stmt.condition = self.parse_condition()
        stmt.sort_fields = self.parse_order_by()
        stmt.limit = self.parse_optional_int(t.LIMIT)
        stmt.offset = self.parse_optional_int(t.OFFSET)
        return stmt

    def parse_show_series(self) -> ast.Statement:
        exact = self.optional(t.EXACT)
        if self.optional(t.CARDINALITY):
            return self._parse_cardinality(ast.ShowSeriesCardinalityStatement(exact=exact))
        stmt = ast.ShowSeriesStatement()
        stmt.database = self.parse_on_database()
        stmt.sources = self.parse_optional_sources()
        stmt.condition = self.parse_condition()
        stmt.sort_fields = self.parse_order_by()
        stmt.limit = self.parse_optional_int(t.LIMIT)
        stmt.offset = self.parse_optional_int(t.OFFSET)
        return stmt

    def _parse_cardinality(self, stmt: ast._Cardinality, *, with_key: bool = False) -> ast.Statement:
        stmt.database = self.parse_on_database()
        stmt.sources = self.parse_optional_sources()
        if with_key:
            assert isinstance(stmt, ast.ShowTagValuesCardinalityStatement)
            stmt.op, stmt.tag_key_expr = self.parse_tag_key_expr()
        stmt.condition = self.parse_condition()
        stmt.dimensions = self.parse_dimensions()
        stmt.limit = self.parse_optional_int(t.LIMIT)
        stmt.offset = self.parse_optional_int(t.OFFSET)
        return stmt

    def _parse_exact_cardinality(self, stmt: ast._Cardinality) -> ast.Statement:
        """After `SHOW TAG KEY` / `SHOW FIELD KEY`: [EXACT] CARDINALITY ..."""
        required = ["EXACT", "CARDINALITY"]
        if self.optional(t.EXACT):
            stmt.exact = True
            required = ["CARDINALITY"]
        tok = self.scan_ws()
        if tok.kind != t.CARDINALITY:
            raise _expected(tok, required)
        return self._parse_cardinality(stmt)

    def parse_show_measurement_cardinality(self, exact: bool) -> ast.Statement:
        if exact:
            self.expect(t.CARDINALITY)
        return self._parse_cardinality(ast.ShowMeasurementCardinalityStatement(exact=exact))

    def parse_show_tag_keys(self) -> ast.ShowTagKeysStatement:
        stmt = ast.ShowTagKeysStatement()
        stmt.database = self.parse_on_database()
        stmt.sources = self.parse_optional_sources()
        if self.scan_ws().kind == t.WITH:
            self.unscan()
            stmt.tag_key_op, stmt.tag_key_expr = self.parse_tag_key_expr()
        else:
            self.unscan()
        stmt.condition = self.parse_condition()
        stmt.sort_fields = self.parse_order_by()
        stmt.limit = self.parse_optional_int(t.LIMIT)
        stmt.offset = self.parse_optional_int(t.OFFSET)
        stmt.slimit = self.parse_optional_int(t.SLIMIT)
        stmt.soffset = self.parse_optional_int(t.SOFFSET)
        return stmt

    def parse_show_tag_values(self) -> ast.Statement:
        tok = self.scan_ws()
        if tok.kind == t.EXACT:
            self.expect(t.CARDINALITY)
            return self._parse_cardinality(ast.ShowTagValuesCardinalityStatement(exact=True), with_key=True)
        if tok.kind == t.CARDINALITY:
            return self._parse_cardinality(ast.ShowTagValuesCardinalityStatement(), with_key=True)
        self.unscan()
        stmt = ast.ShowTagValuesStatement()
        stmt.database = self.parse_on_database()
        stmt.sources = self.parse_optional_sources()
        stmt.op, stmt.tag_key_expr = self.parse_tag_key_expr()
        stmt.condition = self.parse_condition()
        stmt.sort_fields = self.parse_order_by()
        stmt.limit = self.parse_optional_int(t.LIMIT)
        stmt.offset = self.parse_optional_int(t.OFFSET)
        return stmt

    def parse_tag_key_expr(self) -> tuple[str, ast.Literal]:
        self.expect(t.WITH, t.KEY)
        tok = self.scan_ws()
        if tok.kind == t.IN:
            self.expect(t.LPAREN)
            keys = self.parse_ident_list()
            self.expect(t.RPAREN)
            return t.IN, ast.ListLiteral(keys)
        if tok.kind in (t.EQ, t.NEQ):
            return tok.kind, ast.StringLiteral(self.parse_ident())
        if tok.kind in t.REGEX_OPS:
            regex = self.parse_regex()
            if regex is None:
                raise _expected(self.scan_ws(), ["regex"])
            return tok.kind, regex
        raise _expected(tok, ["IN", "=", "=~"])

    def parse_show_field_keys(self) -> ast.ShowFieldKeysStatement:
        stmt = ast.ShowFieldKeysStatement()
        stmt.database = self.parse_on_database()
        stmt.sources = self.parse_optional_sources()
        stmt.sort_fields = self.parse_order_by()
        stmt.limit = self.parse_optional_int(t.LIMIT)
        stmt.offset = self.parse_optional_int(t.OFFSET)
        return stmt

    def parse_module(self) -> str:
        return self.parse_string() if self.optional(t.FOR) else ""

    # CREATE / DROP / ALTER ---------------------------------------------------------------------------

    def parse_create_database(self) -> ast.CreateDatabaseStatement:
        stmt = ast.CreateDatabaseStatement(self.parse_ident())
        if not self.optional(t.WITH):
            return stmt
        tok = self.scan_ws()
        options = [t.DURATION, t.NAME, t.REPLICATION, t.SHARD, t.FUTURE, t.PAST]
        if tok.kind not in options:
            raise _expected(tok, options)
        self.unscan()
        stmt.retention_policy_create = True
        if self.optional(t.DURATION):
            stmt.retention_policy_duration = self.parse_duration()
        if self.optional(t.REPLICATION):
            stmt.retention_policy_replication = self.parse_int(1, MAX_INT32)
        if self.optional(t.SHARD):
            self.expect(t.DURATION)
            stmt.retention_policy_shard_group_duration = self.parse_duration()
        if self.optional(t.FUTURE):
            stmt.future_write_limit = self.parse_write_limit()
        if self.optional(t.PAST):
            stmt.past_write_limit = self.parse_write_limit()
        if self.optional(t.NAME):
            stmt.retention_policy_name = self.parse_ident()
        return stmt

    def parse_write_limit(self) -> int:
        self.expect(t.LIMIT)
        return self.parse_duration()

    def _parse_shard_duration(self) -> int:
        self.expect(t.DURATION)
        tok = self.scan_ws()
        if tok.kind == t.INF:
            raise _at("invalid duration INF for shard duration", tok)
        self.unscan()
        return self.parse_duration()

    def parse_create_retention_policy(self) -> ast.CreateRetentionPolicyStatement:
        name = self.parse_ident()
        self.expect(t.ON)
        database = self.parse_ident()
        self.expect(t.DURATION)
        duration = self.parse_duration()
        self.expect(t.REPLICATION)
        replication = self.parse_int(1, MAX_INT32)
        stmt = ast.CreateRetentionPolicyStatement(name, database, duration, replication)
        if self.optional(t.SHARD):
            stmt.shard_group_duration = self._parse_shard_duration()
        stmt.default = self.optional(t.DEFAULT)
        if self.optional(t.FUTURE):
            stmt.future_write_limit = self.parse_write_limit()
        if self.optional(t.PAST):
            stmt.past_write_limit = self.parse_write_limit()
        return stmt

    def parse_alter_retention_policy(self) -> ast.AlterRetentionPolicyStatement:
        tok = self.scan_ws()
        if tok.kind == t.DEFAULT:
            name = "default"
        elif tok.kind == t.IDENT:
            name = tok.lit
        else:
            raise _expected(tok, ["identifier"])
        self.expect(t.ON)
        stmt = ast.AlterRetentionPolicyStatement(name, self.parse_ident())
        found: set[str] = set()
        while True:
            tok = self.scan_ws()
            if tok.kind in found:
                raise _at(f"found duplicate {tok.kind} option", tok)
            if tok.kind == t.DURATION:
                stmt.duration = self.parse_duration()
            elif tok.kind == t.REPLICATION:
                stmt.replication = self.parse_int(1, MAX_INT32)
            elif tok.kind == t.SHARD:
                stmt.shard_group_duration = self._parse_shard_duration()
            elif tok.kind == t.DEFAULT:
                stmt.default = True
            elif tok.kind == t.FUTURE:
                stmt.future_write_limit = self.parse_write_limit()
            elif tok.kind == t.PAST:
                stmt.past_write_limit = self.parse_write_limit()
            else:
                if not found:
                    raise _expected(tok, ["DURATION", "REPLICATION", "SHARD", "DEFAULT", "FUTURE", "PAST"])
                self.unscan()
                return stmt
            found.add(tok.kind)

    def parse_name_on(self) -> tuple[str, str]:
        name = self.parse_ident()
        self.expect(t.ON)
        return name, self.parse_ident()

    def parse_name_on_db_rp(self) -> tuple[str, str, str]:
        name, database = self.parse_name_on()
        tok = self.scan()
        if tok.kind != t.DOT:
            raise _expected(tok, ["."])
        return name, database, self.parse_ident()

    def parse_create_subscription(self) -> ast.CreateSubscriptionStatement:
        name, database, rp = self.parse_name_on_db_rp()
        self.expect(t.DESTINATIONS)
        tok = self.scan_ws()
        if tok.kind not in (t.ALL, t.ANY):
            raise _expected(tok, ["ALL", "ANY"])
        return ast.CreateSubscriptionStatement(name, database, rp, tok.kind, self.parse_string_list())

    def parse_create_continuous_query(self) -> ast.CreateContinuousQueryStatement:
        name, database = self.parse_name_on()
        every = for_ = 0
        if self.optional(t.RESAMPLE):
            every, for_ = self.parse_resample()
        self.expect(t.BEGIN, t.SELECT)
        source = self.parse_select(_TARGET_REQUIRED)
        interval = 0
        if not source.is_raw_query:
            problem = ""
            try:
                interval, _ = source.group_by_interval()
            except ValueError as exc:
                problem = str(exc)
            if interval == 0 or problem:
                expected = ["GROUP BY time(...)"] + ([problem] if problem else [])
                raise _expected(self.last_token(), expected)
        self.expect(t.END)
        if for_:
            if every and every > interval:
                interval = every
            if interval > for_:
                raise _error(
                    "FOR duration must be >= GROUP BY time duration: must be a minimum of "
                    f"{t.format_duration(interval)}, got {t.format_duration(for_)}"
                )
        return ast.CreateContinuousQueryStatement(name, database, source, every, for_)

    def parse_resample(self) -> tuple[int, int]:
        every = for_ = 0
        for kind in (t.EVERY, t.FOR):
            if self.optional(kind):
                tok = self.scan_ws()
                if tok.kind != t.DURATIONVAL:
                    raise _expected(tok, ["duration"])
                try:
                    value = t.parse_duration(tok.lit)
                except t.DurationError as exc:
                    raise _at(str(exc), tok) from None
                if kind == t.EVERY:
                    every = value
                else:
                    for_ = value
        if every == 0 and for_ == 0:
            raise _expected(self.scan_ws(), ["EVERY", "FOR"])
        return every, for_

    def parse_create_user(self) -> ast.CreateUserStatement:
        name = self.parse_ident()
        self.expect(t.WITH, t.PASSWORD)
        stmt = ast.CreateUserStatement(name, self.parse_string())
        if self.optional(t.WITH):
            self.expect(t.ALL, t.PRIVILEGES)
            stmt.admin = True
        return stmt

    def parse_privilege(self) -> str:
        tok = self.scan_ws()
        if tok.kind == t.READ:
            return "read"
        if tok.kind == t.WRITE:
            return "write"
        if tok.kind == t.ALL:
            self.optional(t.PRIVILEGES)
            return "all"
        raise _expected(tok, ["READ", "WRITE", "ALL [PRIVILEGES]"])

    def parse_grant(self) -> ast.Statement:
        priv = self.parse_privilege()
        tok = self.scan_ws()
        if tok.kind == t.ON:
            on = self.parse_ident()
            self.expect(t.TO)
            return ast.GrantStatement(priv, on, self.parse_ident())
        if tok.kind == t.TO and priv == "all":
            return ast.GrantAdminStatement(self.parse_ident())
        raise _expected(tok, ["ON", "TO"] if priv == "all" else ["ON"])

    def parse_revoke(self) -> ast.Statement:
        priv = self.parse_privilege()
        tok = self.scan_ws()
        if tok.kind == t.ON:
            on = self.parse_ident()
            self.expect(t.FROM)
            return ast.RevokeStatement(priv, on, self.parse_ident())
        if tok.kind == t.FROM and priv == "all":
            return ast.RevokeAdminStatement(self.parse_ident())
        raise _expected(tok, ["ON", "FROM"] if priv == "all" else ["ON"])

    def parse_set_password(self) -> ast.SetPasswordUserStatement:
        name = self.parse_ident()
        self.expect(t.EQ)
        return ast.SetPasswordUserStatement(name, self.parse_string())

    def parse_kill_query(self) -> ast.KillQueryStatement:
        qid = self.parse_uint64()
        host = self.parse_ident() if self.optional(t.ON) else ""
        return ast.KillQueryStatement(qid, host)

    def parse_explain(self) -> ast.ExplainStatement:
        analyze = self.optional(t.ANALYZE)
        verbose = self.optional(t.VERBOSE)
        self.expect(t.SELECT)
        return ast.ExplainStatement(self.parse_select(), analyze, verbose)


_BOOLEAN_OPS = frozenset({t.EQ, t.NEQ, t.EQREGEX, t.NEQREGEX, t.LT, t.LTE, t.GT, t.GTE, t.AND, t.OR})


def valid_time_zone(name: str) -> bool:
    if name in ("", "UTC", "Local"):
        return True
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(name)
    except (ValueError, OSError, ImportError, Exception):  # ZoneInfoNotFoundError, bad keys
        return False
    return True


_Handler = Callable[[Parser], ast.Statement]

# Statement dispatch: keys in the order InfluxDB lists them in "expected ..." messages.
_LANGUAGE: dict[str, Any] = {
    t.SELECT: lambda p: p.parse_select(),
    t.DELETE: Parser.parse_delete,
    t.SHOW: {
        t.CONTINUOUS: {t.QUERIES: lambda p: ast.ShowContinuousQueriesStatement()},
        t.DATABASES: lambda p: ast.ShowDatabasesStatement(),
        t.DIAGNOSTICS: lambda p: ast.ShowDiagnosticsStatement(p.parse_module()),
        t.FIELD: {
            t.KEY: lambda p: p._parse_exact_cardinality(ast.ShowFieldKeyCardinalityStatement()),
            t.KEYS: Parser.parse_show_field_keys,
        },
        t.GRANTS: {t.FOR: lambda p: ast.ShowGrantsForUserStatement(p.parse_ident())},
        t.MEASUREMENT: {
            t.CARDINALITY: lambda p: p.parse_show_measurement_cardinality(False),
            t.EXACT: lambda p: p.parse_show_measurement_cardinality(True),
        },
        t.MEASUREMENTS: Parser.parse_show_measurements,
        t.QUERIES: lambda p: ast.ShowQueriesStatement(),
        t.RETENTION: {t.POLICIES: lambda p: ast.ShowRetentionPoliciesStatement(p.parse_on_database())},
        t.SERIES: Parser.parse_show_series,
        t.SHARD: {t.GROUPS: lambda p: ast.ShowShardGroupsStatement()},
        t.SHARDS: lambda p: ast.ShowShardsStatement(),
        t.STATS: lambda p: ast.ShowStatsStatement(p.parse_module()),
        t.SUBSCRIPTIONS: lambda p: ast.ShowSubscriptionsStatement(),
        t.TAG: {
            t.KEY: lambda p: p._parse_exact_cardinality(ast.ShowTagKeyCardinalityStatement()),
            t.KEYS: Parser.parse_show_tag_keys,
            t.VALUES: Parser.parse_show_tag_values,
        },
        t.USERS: lambda p: ast.ShowUsersStatement(),
    },
    t.CREATE: {
        t.CONTINUOUS: {t.QUERY: Parser.parse_create_continuous_query},
        t.DATABASE: Parser.parse_create_database,
        t.USER: Parser.parse_create_user,
        t.RETENTION: {t.POLICY: Parser.parse_create_retention_policy},
        t.SUBSCRIPTION: Parser.parse_create_subscription,
    },
    t.DROP: {
        t.CONTINUOUS: {t.QUERY: lambda p: ast.DropContinuousQueryStatement(*p.parse_name_on())},
        t.DATABASE: lambda p: ast.DropDatabaseStatement(p.parse_ident()),
        t.MEASUREMENT: lambda p: ast.DropMeasurementStatement(p.parse_ident()),
        t.RETENTION: {t.POLICY: lambda p: ast.DropRetentionPolicyStatement(*p.parse_name_on())},
        t.SERIES: Parser.parse_drop_series,
        t.SHARD: lambda p: ast.DropShardStatement(p.parse_uint64()),
        t.SUBSCRIPTION: lambda p: ast.DropSubscriptionStatement(*p.parse_name_on_db_rp()),
        t.USER: lambda p: ast.DropUserStatement(p.parse_ident()),
    },
    t.EXPLAIN: Parser.parse_explain,
    t.GRANT: Parser.parse_grant,
    t.REVOKE: Parser.parse_revoke,
    t.ALTER: {t.RETENTION: {t.POLICY: Parser.parse_alter_retention_policy}},
    t.SET: {t.PASSWORD: {t.FOR: Parser.parse_set_password}},
    t.KILL: {t.QUERY: Parser.parse_kill_query},
}


def parse(
    query: str, params: Mapping[str, Any] | None = None, check: Callable[[], None] | None = None
) -> list[ast.Statement]:
    """Parse `;`-separated InfluxQL statements; raises ParseError. An empty query gives []. `check` is
    called as parsing goes (e.g. the query's Budget.check)."""
    return Parser(query, params, check).parse_query()


def parse_statement(text: str, params: Mapping[str, Any] | None = None) -> ast.Statement:
    """Parse exactly one statement (trailing text is ignored, as in InfluxDB's ParseStatement)."""
    statement = Parser(text, params).parse_statement()
    check_depth(statement)
    return statement


def parse_expr(text: str, params: Mapping[str, Any] | None = None) -> ast.Expr:
    """Parse one expression (e.g. a WHERE condition); raises ParseError."""
    expr = Parser(text, params).parse_expr()
    check_depth(expr)
    return expr
