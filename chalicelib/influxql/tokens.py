"""InfluxQL lexical analysis (stage 1 of the front end).

The scanner is driven by the parser one token at a time because InfluxQL is not context free at the
lexical level: `/` is a division operator except where the grammar allows a regular expression, in
which case the parser asks for `scan_regex` instead of `scan`.

A token's `kind` is the text InfluxDB prints for it in error messages (`"SELECT"`, `"="`, `"EOF"`,
`"IDENT"`...), so `found X, expected Y` messages come straight from it (see `Token.found`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

# Special and literal token kinds.
ILLEGAL = "ILLEGAL"
EOF = "EOF"
WS = "WS"
COMMENT = "COMMENT"
IDENT = "IDENT"
BOUNDPARAM = "BOUNDPARAM"
NUMBER = "NUMBER"
INTEGER = "INTEGER"
DURATIONVAL = "DURATIONVAL"
STRING = "STRING"
BADSTRING = "BADSTRING"
BADESCAPE = "BADESCAPE"
TRUE = "TRUE"
FALSE = "FALSE"
REGEX = "REGEX"
BADREGEX = "BADREGEX"

# Operators (kind == the operator's text).
ADD, SUB, MUL, DIV, MOD = "+", "-", "*", "/", "%"
BITWISE_AND, BITWISE_OR, BITWISE_XOR = "&", "|", "^"
AND, OR, IN = "AND", "OR", "IN"
EQ, NEQ, EQREGEX, NEQREGEX = "=", "!=", "=~", "!~"
LT, LTE, GT, GTE = "<", "<=", ">", ">="

LPAREN, RPAREN, COMMA, COLON, DOUBLECOLON, SEMICOLON, DOT = "(", ")", ",", ":", "::", ";", "."

OPERATORS = frozenset(
    {ADD, SUB, MUL, DIV, MOD, BITWISE_AND, BITWISE_OR, BITWISE_XOR, AND, OR, IN}
    | {EQ, NEQ, EQREGEX, NEQREGEX, LT, LTE, GT, GTE}
)
REGEX_OPS = frozenset({EQREGEX, NEQREGEX})
COMPARISON_OPS = frozenset({EQ, NEQ, EQREGEX, NEQREGEX, LT, LTE, GT, GTE})

_PRECEDENCE = {OR: 1, AND: 2}
_PRECEDENCE.update(dict.fromkeys((EQ, NEQ, EQREGEX, NEQREGEX, LT, LTE, GT, GTE, IN), 3))
_PRECEDENCE.update(dict.fromkeys((ADD, SUB, BITWISE_OR, BITWISE_XOR), 4))
_PRECEDENCE.update(dict.fromkeys((MUL, DIV, MOD, BITWISE_AND), 5))


def precedence(op: str) -> int:
    return _PRECEDENCE.get(op, 0)


KEYWORDS: frozenset[str] = frozenset(
    (
        "ALL",
        "ALTER",
        "ANALYZE",
        "ANY",
        "AS",
        "ASC",
        "BEGIN",
        "BY",
        "CARDINALITY",
        "CREATE",
        "CONTINUOUS",
        "DATABASE",
        "DATABASES",
        "DEFAULT",
        "DELETE",
        "DESC",
        "DESTINATIONS",
        "DIAGNOSTICS",
        "DISTINCT",
        "DROP",
        "DURATION",
        "END",
        "EVERY",
        "EXACT",
        "EXPLAIN",
        "FIELD",
        "FOR",
        "FROM",
        "FUTURE",
        "GRANT",
        "GRANTS",
        "GROUP",
        "GROUPS",
        "INF",
        "INSERT",
        "INTO",
        "KEY",
        "KEYS",
        "KILL",
        "LIMIT",
        "MEASUREMENT",
        "MEASUREMENTS",
        "NAME",
        "OFFSET",
        "ON",
        "ORDER",
        "PASSWORD",
        "PAST",
        "POLICY",
        "POLICIES",
        "PRIVILEGES",
        "QUERIES",
        "QUERY",
        "READ",
        "REPLICATION",
        "RESAMPLE",
        "RETENTION",
        "REVOKE",
        "SELECT",
        "SERIES",
        "SET",
        "SHOW",
        "SHARD",
        "SHARDS",
        "SLIMIT",
        "SOFFSET",
        "STATS",
        "SUBSCRIPTION",
        "SUBSCRIPTIONS",
        "TAG",
        "TO",
        "USER",
        "USERS",
        "VALUES",
        "VERBOSE",
        "WHERE",
        "WITH",
        "WRITE",
    )
)
# Each keyword's kind is its upper-case name; expose them as module constants (tokens.SELECT...).
globals().update({k: k for k in KEYWORDS})
_LOOKUP = {k.lower(): k for k in KEYWORDS}
_LOOKUP.update({"and": AND, "or": OR, "in": IN, "true": TRUE, "false": FALSE})


def lookup(ident: str) -> str:
    """The keyword kind for `ident` (case-insensitive), or IDENT."""
    return _LOOKUP.get(ident.lower(), IDENT)


def is_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def is_ident_first_char(ch: str) -> bool:
    return is_letter(ch) or ch == "_"


def is_ident_char(ch: str) -> bool:
    return is_letter(ch) or is_digit(ch) or ch == "_"


def is_whitespace(ch: str) -> bool:
    return ch in (" ", "\t", "\n")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    lit: str
    start: int  # offset of the token's first character
    end: int  # offset just after the token
    line: int  # 0-based
    char: int  # 0-based

    @property
    def found(self) -> str:
        """What InfluxDB prints after `found`: the literal when there is one, else the token kind."""
        return self.lit if self.lit else self.kind


class Scanner:
    """Scans tokens out of a query string, addressed by character offset."""

    def __init__(self, text: str) -> None:
        # InfluxDB's reader turns "\r\n" and "\r" into "\n".
        self.text = text.replace("\r\n", "\n").replace("\r", "\n")
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(self.text) if ch == "\n"]
        # InfluxDB reports EOF one character further when the token before it had to read past the
        # end of input to finish (bare identifiers, keywords, whitespace, `--` comments).
        self._eof_consumed = False

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line, offset - self._line_starts[line]

    def peek(self, offset: int) -> str:
        return self.text[offset] if offset < len(self.text) else ""

    def _tok(self, kind: str, lit: str, start: int, end: int) -> Token:
        line, char = self.position(start)
        return Token(kind, lit, start, end, line, char)

    def _eof(self, offset: int) -> Token:
        line, char = self.position(offset)
        if self._eof_consumed and self.text:
            char += 1
        return Token(EOF, "", offset, offset, line, char)

    def scan(self, offset: int) -> Token:
        text = self.text
        n = len(text)
        if offset >= n:
            return self._eof(n)
        ch = text[offset]
        if is_whitespace(ch):
            end = offset
            while end < n and is_whitespace(text[end]):
                end += 1
            if end == n:
                self._eof_consumed = True
            return self._tok(WS, text[offset:end], offset, end)
        if is_ident_first_char(ch) or ch == '"':
            return self._scan_ident(offset, lookup_keywords=True)
        if is_digit(ch):
            return self._scan_number(offset)
        nxt = text[offset + 1] if offset + 1 < n else ""
        if ch == "'":
            return self._scan_string(offset)
        if ch == ".":
            if is_digit(nxt):
                return self._scan_number(offset)
            return self._tok(DOT, "", offset, offset + 1)
        if ch == "$":
            if offset + 1 < n and (is_ident_char(nxt) or nxt == '"'):
                tok = self._scan_ident(offset + 1, lookup_keywords=False)
                if tok.kind != IDENT:
                    return self._tok(tok.kind, "$" + tok.lit, offset, tok.end)
                return self._tok(BOUNDPARAM, "$" + tok.lit, offset, tok.end)
            return self._tok(BOUNDPARAM, "$", offset, offset + 1)
        if ch == "-":
            if nxt == "-":
                end = text.find("\n", offset)
                if end < 0:
                    self._eof_consumed = True
                    end = n
                else:
                    end += 1
                return self._tok(COMMENT, "", offset, end)
            return self._tok(SUB, "", offset, offset + 1)
        if ch == "/":
            if nxt == "*":
                end = text.find("*/", offset + 2)
                if end < 0:
                    return self._tok(ILLEGAL, "", offset, n)
                return self._tok(COMMENT, "", offset, end + 2)
            return self._tok(DIV, "", offset, offset + 1)
        two = ch + nxt
        if two in ("=~", "!=", "!~", ">=", "<=", "::"):
            return self._tok(two, "", offset, offset + 2)
        if two == "<>":
            return self._tok(NEQ, "", offset, offset + 2)
        if ch in "+*%&|^=<>(),;:":
            return self._tok(ch, "", offset, offset + 1)
        return self._tok(ILLEGAL, ch, offset, offset + 1)

    def _scan_ident(self, offset: int, *, lookup_keywords: bool) -> Token:
        text = self.text
        n = len(text)
        if offset < n and text[offset] == '"':
            tok = self._scan_quoted(offset)
            if tok.kind in (BADSTRING, BADESCAPE):
                return tok
            return self._tok(IDENT, tok.lit, offset, tok.end)
        end = offset
        while end < n and is_ident_char(text[end]):
            end += 1
        if end == n:
            self._eof_consumed = True
        lit = text[offset:end]
        if lookup_keywords:
            kind = lookup(lit)
            if kind != IDENT:
                return self._tok(kind, "", offset, end)
        return self._tok(IDENT, lit, offset, end)

    def _early(self, kind: str, lit: str, start: int, end: int) -> Token:
        # InfluxDB reports single-quoted strings and regexes at the character before them.
        line, char = self.position(max(start - 1, 0))
        return Token(kind, lit, start, end, line, char)

    def _scan_string(self, offset: int) -> Token:
        tok = self._scan_quoted(offset)
        if tok.kind == BADESCAPE:
            return tok
        return self._early(STRING if tok.kind == IDENT else BADSTRING, tok.lit, offset, tok.end)

    def _scan_quoted(self, offset: int) -> Token:
        """A string delimited by the quote at `offset`, with `\\n \\\\ \\" \\'` escapes."""
        text = self.text
        n = len(text)
        quote = text[offset]
        buf: list[str] = []
        i = offset + 1
        while True:
            if i >= n or text[i] == "\n":
                return self._tok(BADSTRING, "".join(buf), offset, i)
            ch = text[i]
            if ch == quote:
                return self._tok(IDENT, "".join(buf), offset, i + 1)
            if ch == "\\":
                esc = text[i + 1] if i + 1 < n else ""
                mapped = {"n": "\n", "\\": "\\", '"': '"', "'": "'"}.get(esc)
                if mapped is None:
                    line, char = self.position(min(i + 1, n))
                    return Token(BADESCAPE, "\\" + esc, offset, i + 2, line, char)
                buf.append(mapped)
                i += 2
                continue
            buf.append(ch)
            i += 1

    def _scan_number(self, offset: int) -> Token:
        text = self.text
        n = len(text)
        i = offset
        while i < n and is_digit(text[i]):
            i += 1
        decimal = False
        if i < n and text[i] == ".":
            decimal = True
            i += 1
            while i < n and is_digit(text[i]):
                i += 1
        lit = text[offset:i]
        if lit.endswith("."):
            lit = lit[:-1]
        if not decimal and i < n and (is_letter(text[i]) or text[i] == "µ"):
            while i < n and (is_letter(text[i]) or text[i] == "µ" or is_digit(text[i])):
                i += 1
            return self._tok(DURATIONVAL, text[offset:i], offset, i)
        return self._tok(NUMBER if decimal else INTEGER, lit, offset, i)

    def scan_regex(self, offset: int) -> Token:
        """A `/.../` regular expression starting at `offset`; `\\/` stands for `/`."""
        text = self.text
        n = len(text)
        buf: list[str] = []
        i = offset + 1
        while True:
            if i >= n:
                return self._early(BADREGEX, "".join(buf), offset, n)
            ch = text[i]
            if ch == "/":
                return self._early(REGEX, "".join(buf), offset, i + 1)
            if ch == "\\" and i + 1 < n:
                if text[i + 1] == "/":
                    buf.append("/")
                else:
                    buf.append(ch + text[i + 1])
                i += 2
                continue
            buf.append(ch)
            i += 1


# Durations ------------------------------------------------------------------------------------------

NS = 1
US = 1_000
MS = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
MAX_INT64 = 2**63 - 1


class DurationError(ValueError):
    pass


def parse_duration(s: str) -> int:
    """An InfluxQL duration (`1h30m`, `10µ`, `-5s`...) in nanoseconds; raises DurationError."""
    if len(s) < 2:
        raise DurationError("invalid duration")
    i = 0
    negative = s[0] == "-"
    if negative:
        i = 1
    total = 0
    measure, unit = 0, ""
    while i < len(s):
        start = i
        while i < len(s) and is_digit(s[i]):
            i += 1
        if i >= len(s) or i == start:
            raise DurationError("invalid duration")
        measure = int(s[start:i])
        if measure > MAX_INT64:
            raise DurationError("invalid duration")
        ch = s[i]
        unit = ch
        if ch == "n":
            if i + 1 < len(s) and s[i + 1] == "s":
                total += measure
                unit = "ns"
                i += 2
                continue
            raise DurationError("invalid duration")
        if ch == "m" and i + 1 < len(s) and s[i + 1] == "s":
            total += measure * MS
            unit = "ms"
            i += 2
            continue
        mult = {"u": US, "µ": US, "m": MINUTE, "s": SECOND, "h": HOUR, "d": DAY, "w": WEEK}.get(ch)
        if mult is None:
            raise DurationError("invalid duration")
        total += measure * mult
        i += 1
    if total > MAX_INT64:
        raise DurationError(f"overflowed duration {measure}{unit}: choose a smaller duration or INF")
    return -total if negative else total


def format_duration(d: int) -> str:
    """InfluxDB's FormatDuration: the largest unit that divides `d` exactly."""
    if d == 0:
        return "0s"
    sign = "-" if d < 0 else ""
    a = abs(d)
    for size, suffix in ((WEEK, "w"), (DAY, "d"), (HOUR, "h"), (MINUTE, "m"), (SECOND, "s"), (MS, "ms")):
        if a % size == 0:
            return f"{sign}{a // size}{suffix}"
    if a % US == 0:
        return f"{sign}{a // US}u"
    return f"{sign}{a}ns"
