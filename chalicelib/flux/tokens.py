"""Flux tokenizer: source text -> tokens with line/column positions.

Context decides two ambiguities the grammar leaves to the lexer: `/` starts a regular expression
where an operand is expected (else it divides), and `2020-01-01T...` is a date-time literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.flux.budget import budget
from chalicelib.kit.syntax import ParseError, Position

IDENT = "IDENT"
INT = "INT"
FLOAT = "FLOAT"
STRING = "STRING"
DURATION = "DURATION"
TIME = "TIME"
REGEX = "REGEX"
OP = "OP"
KEYWORD = "KEYWORD"
EOF = "EOF"

KEYWORDS = {
    "and", "or", "not", "empty", "in", "import", "package", "return", "option", "builtin",
    "testcase", "if", "then", "else", "exists",
}  # fmt: skip

# Longest first so that `<=` wins over `<`.
OPERATORS = sorted(
    [
        "|>", "<-", "=>", "==", "!=", "<=", ">=", "=~", "!~", "+", "-", "*", "/", "%", "^", "<", ">",
        "=", "(", ")", "[", "]", "{", "}", ",", ":", ".", "?",
    ],
    key=len,
    reverse=True,
)  # fmt: skip

DURATION_UNITS = ("mo", "ms", "us", "µs", "ns", "y", "w", "d", "h", "m", "s")

# Flux digits are ASCII (`\d` alone would take any Unicode decimal digit).
_TIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))?(?![\w.])", re.ASCII
)
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?", re.ASCII)
_DURATION_RE = re.compile(r"(?:\d+(?:mo|ms|us|µs|ns|y|w|d|h|m|s))+(?![\w])", re.ASCII)
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE_RE = re.compile(r"(?:\s+|//[^\n]*)+")

_ENDS_OPERAND = {IDENT, INT, FLOAT, STRING, DURATION, TIME, REGEX}


@dataclass(slots=True)
class Token:
    kind: str
    text: str  # source text (for STRING: the raw text between the quotes)
    value: object
    offset: int
    line: int
    column: int
    end: int  # offset just past the token

    def is_op(self, *ops: str) -> bool:
        return self.kind == OP and self.text in ops

    def is_keyword(self, *words: str) -> bool:
        return self.kind == KEYWORD and self.text in words


def syntax_error(reason: str, line: int, column: int, offset: int = 0) -> ParseError:
    """Flux's wording: `error @L:C-L:C: <reason>`."""
    where = f"error @{line}:{column}-{line}:{column}: {reason}"
    return ParseError(reason, Position(line, column, offset), message=where)


class Lexer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def position(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.line_starts[lo] + 1

    def error(self, message: str, offset: int) -> ParseError:
        line, column = self.position(offset)
        return syntax_error(message, line, column, offset)

    def tokens(self) -> list[Token]:
        src = self.source
        out: list[Token] = []
        i = 0
        n = len(src)
        check = budget().check  # a long program takes long to read: the query's time
        while True:
            if not len(out) & 1023:
                check()
            m = _SPACE_RE.match(src, i)
            if m:
                i = m.end()
            if i >= n:
                line, col = self.position(i)
                out.append(Token(EOF, "", None, i, line, col, i))
                return out
            start = i
            ch = src[i]
            prev = out[-1] if out else None
            operand_expected = prev is None or not (prev.kind in _ENDS_OPERAND or prev.is_op(")", "]", "}"))
            if ch == '"':
                kind, text, value, i = STRING, *self._string(i)
            elif ch == "/" and operand_expected:
                kind, text, value, i = REGEX, *self._regex(i)
            elif "0" <= ch <= "9":
                if tm := _TIME_RE.match(src, i):
                    kind, text, value, i = TIME, tm.group(), tm.group(), tm.end()
                elif dm := _DURATION_RE.match(src, i):
                    kind, text, i = DURATION, dm.group(), dm.end()
                    value = parse_duration_text(text)
                else:
                    nm = _NUMBER_RE.match(src, i)
                    text = nm.group()
                    i = nm.end()
                    if "." in text:
                        kind, value = FLOAT, float(text)
                    else:
                        kind, value = INT, int(text)
                    if i < n and (src[i].isalpha() or src[i] == "_"):
                        raise self.error(f"invalid number literal {src[start : i + 1]!r}", start)
            elif ch == "." and i + 1 < n and "0" <= src[i + 1] <= "9":
                nm = re.compile(r"\.\d+", re.ASCII).match(src, i)
                kind, text, value, i = FLOAT, nm.group(), float(nm.group()), nm.end()
            elif im := _IDENT_RE.match(src, i):
                text = im.group()
                kind = KEYWORD if text in KEYWORDS else IDENT
                value, i = text, im.end()
            else:
                for op in OPERATORS:
                    if src.startswith(op, i):
                        kind, text, value, i = OP, op, op, i + len(op)
                        break
                else:
                    raise self.error(f"invalid character {ch!r}", i)
            line, col = self.position(start)
            out.append(Token(kind, text, value, start, line, col, i))

    def _string(self, i: int) -> tuple[str, list, int]:
        """A string literal: its parts, text or ("expr", source, offset) for `${...}`."""
        src = self.source
        j = i + 1
        parts: list = []
        buf: list[str] = []
        escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "$": "$"}
        while True:
            if j >= len(src):
                raise self.error("unterminated string literal", i)
            c = src[j]
            if c == '"':
                j += 1
                break
            if c == "\\":
                nxt = src[j + 1 : j + 2]
                if nxt == "x":
                    hexes = re.compile(r"(?:\\x[0-9a-fA-F]{2})+").match(src, j)
                    if not hexes:
                        raise self.error("invalid byte escape", j)
                    raw = bytes(int(h, 16) for h in hexes.group().split("\\x")[1:])
                    buf.append(raw.decode("utf-8", "replace"))
                    j = hexes.end()
                    continue
                if nxt not in escapes:
                    raise self.error(f"invalid escape sequence \\{nxt}", j)
                buf.append(escapes[nxt])
                j += 2
                continue
            if c == "$" and src[j + 1 : j + 2] == "{":
                depth = 0
                k = j + 1
                while k < len(src):
                    if src[k] == "{":
                        depth += 1
                    elif src[k] == "}":
                        depth -= 1
                        if depth == 0:
                            break
                    k += 1
                else:
                    raise self.error("unterminated string interpolation", j)
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(("expr", src[j + 2 : k], j + 2))
                j = k + 1
                continue
            buf.append(c)
            j += 1
        if buf or not parts:
            parts.append("".join(buf))
        return src[i + 1 : j - 1], parts, j

    def _regex(self, i: int) -> tuple[str, str, int]:
        src = self.source
        j = i + 1
        buf: list[str] = []
        while True:
            if j >= len(src) or src[j] == "\n":
                raise self.error("unterminated regular expression", i)
            c = src[j]
            if c == "\\" and src[j + 1 : j + 2] == "/":
                buf.append("/")
                j += 2
                continue
            if c == "\\":
                buf.append(src[j : j + 2])
                j += 2
                continue
            if c == "/":
                j += 1
                break
            buf.append(c)
            j += 1
        return src[i:j], "".join(buf), j


_DURATION_PART_RE = re.compile(r"(\d+)(mo|ms|us|µs|ns|y|w|d|h|m|s)")


def parse_duration_text(text: str) -> list[tuple[int, str]]:
    return [(int(mag), unit) for mag, unit in _DURATION_PART_RE.findall(text)]


def tokenize(source: str) -> list[Token]:
    return Lexer(source).tokens()
