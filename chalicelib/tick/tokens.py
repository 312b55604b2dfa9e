"""TICKscript's tokens and the lexer that produces them, as Kapacitor's lexer scans a script.

The lexer is a small state machine: after a value (identifier, number, string, `)`) it looks for a binary
operator, elsewhere for the start of a value, which is how `/` can be both a division and a regex and `-`
both a subtraction and a negation. Positions are offsets into the script's text (in characters); a
lexing error is not raised but ends the stream with an ERROR token whose value is Kapacitor's message,
which the parser reports when it reaches it.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass


class TokenType(enum.Enum):
    ERROR = "ERR"
    EOF = "EOF"
    VAR = "var"
    DBRP = "dbrp"
    ASSIGN = "="
    DOT = "."
    PIPE = "|"
    AT = "@"
    IDENT = "identifier"
    REFERENCE = "reference"
    LAMBDA = "lambda"
    NUMBER = "number"
    STRING = "string"
    DURATION = "duration"
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    NOT = "!"
    TRUE = "TRUE"
    FALSE = "FALSE"
    REGEX = "regex"
    COMMENT = "//"
    STAR = "*"
    # operators
    PLUS = "+"
    MINUS = "-"
    MULT = "*op"  # `*` as multiplication; its text is `*` (see OPERATOR_TEXT)
    DIV = "/"
    MOD = "%"
    AND = "AND"
    OR = "OR"
    EQUAL = "=="
    NOT_EQUAL = "!="
    LESS = "<"
    GREATER = ">"
    LESS_EQUAL = "<="
    GREATER_EQUAL = ">="
    REGEX_EQUAL = "=~"
    REGEX_NOT_EQUAL = "!~"

    def __str__(self) -> str:
        """The name Kapacitor prints for the token type in parser errors."""
        return "*" if self is TokenType.MULT else self.value


MATH_OPERATORS = frozenset({TokenType.PLUS, TokenType.MINUS, TokenType.MULT, TokenType.DIV, TokenType.MOD})
LOGICAL_OPERATORS = frozenset({TokenType.AND, TokenType.OR})
COMPARISON_OPERATORS = frozenset(
    {
        TokenType.EQUAL,
        TokenType.NOT_EQUAL,
        TokenType.LESS,
        TokenType.GREATER,
        TokenType.LESS_EQUAL,
        TokenType.GREATER_EQUAL,
        TokenType.REGEX_EQUAL,
        TokenType.REGEX_NOT_EQUAL,
    }
)
# The binary operators; `!` is only ever unary.
EXPRESSION_OPERATORS = MATH_OPERATORS | LOGICAL_OPERATORS | COMPARISON_OPERATORS

# Binding strength of the binary operators (higher binds tighter).
PRECEDENCE: dict[TokenType, int] = {
    TokenType.OR: 0,
    TokenType.AND: 1,
    TokenType.EQUAL: 2,
    TokenType.NOT_EQUAL: 2,
    TokenType.REGEX_EQUAL: 2,
    TokenType.REGEX_NOT_EQUAL: 2,
    TokenType.GREATER: 3,
    TokenType.GREATER_EQUAL: 3,
    TokenType.LESS: 3,
    TokenType.LESS_EQUAL: 3,
    TokenType.PLUS: 4,
    TokenType.MINUS: 4,
    TokenType.MULT: 5,
    TokenType.DIV: 5,
    TokenType.MOD: 5,
}

_OPERATORS: dict[str, TokenType] = {
    "!": TokenType.NOT,
    "+": TokenType.PLUS,
    "-": TokenType.MINUS,
    "*": TokenType.MULT,
    "/": TokenType.DIV,
    "%": TokenType.MOD,
    "==": TokenType.EQUAL,
    "!=": TokenType.NOT_EQUAL,
    "<": TokenType.LESS,
    ">": TokenType.GREATER,
    "<=": TokenType.LESS_EQUAL,
    ">=": TokenType.GREATER_EQUAL,
    "=~": TokenType.REGEX_EQUAL,
    "!~": TokenType.REGEX_NOT_EQUAL,
}

KEYWORDS: dict[str, TokenType] = {
    "AND": TokenType.AND,
    "OR": TokenType.OR,
    "TRUE": TokenType.TRUE,
    "FALSE": TokenType.FALSE,
    "var": TokenType.VAR,
    "dbrp": TokenType.DBRP,
    "lambda": TokenType.LAMBDA,
}

DURATION_UNITS = "uµsmhdw"


def operator_text(typ: TokenType) -> str:
    """The source text of an operator token type (`*` for MULT)."""
    return str(typ)


@dataclass(frozen=True, slots=True)
class Token:
    type: TokenType
    pos: int  # offset of the token's first character in the script
    value: str


# Character classes as Go's unicode package draws them.
def is_space(ch: str) -> bool:
    # Python also counts the information separators \x1c-\x1f as space; Go does not.
    return ch.isspace() and ch not in "\x1c\x1d\x1e\x1f"


def is_digit(ch: str) -> bool:
    return unicodedata.category(ch) == "Nd"


def is_letter(ch: str) -> bool:
    return ch.isalpha()


def _is_ident_char(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or unicodedata.category(ch) == "Nd"


def go_quote_rune(ch: str) -> str:
    """Go's %q of a rune: single-quoted, printable runes as they are, others escaped."""
    code = ord(ch)
    escapes = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
    if ch in ("'", "\\"):
        body = "\\" + ch
    elif ch in escapes:
        body = escapes[ch]
    elif _go_printable(ch):
        body = ch
    elif code < 0x20 or code == 0x7F:
        body = f"\\x{code:02x}"
    elif 0xD800 <= code <= 0xDFFF:
        body = "\\ufffd"  # an invalid rune reads as the replacement character
    elif code < 0x10000:
        body = f"\\u{code:04x}"
    else:
        body = f"\\U{code:08x}"
    return f"'{body}'"


def _go_printable(ch: str) -> bool:
    if ch == " ":
        return True
    category = unicodedata.category(ch)
    # Go's IsPrint: letters, marks, numbers, punctuation, symbols; the only space it allows is U+0020.
    return category[0] in "LMNPS"


class _Lexer:
    """Scans the whole script up front; each state method returns the next state or None to stop."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.start = 0
        self.pos = 0
        self.tokens: list[Token] = []

    # -- primitives ------------------------------------------------------------------------------------

    def next(self) -> str:
        """The next character, or '' at the end (the position still moves so backup() stays symmetric)."""
        if self.pos >= len(self.text):
            self.pos += 1
            return ""
        ch = self.text[self.pos]
        self.pos += 1
        return ch

    def backup(self) -> None:
        self.pos -= 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def emit(self, typ: TokenType) -> None:
        end = min(self.pos, len(self.text))
        self.tokens.append(Token(typ, self.start, self.text[self.start : end]))
        self.start = self.pos

    def error(self, message: str) -> None:
        self.tokens.append(Token(TokenType.ERROR, self.start, message))

    def ignore(self) -> None:
        self.start = self.pos

    def ignore_space(self) -> None:
        while self.pos < len(self.text) and is_space(self.text[self.pos]):
            self.pos += 1
        self.start = self.pos

    # -- states ------------------------------------------------------------------------------------------

    def run(self) -> list[Token]:
        state = self.lex_token
        while state is not None:
            state = state()
        return self.tokens

    def lex_token(self):
        while True:
            ch = self.next()
            if ch in ("-", "!"):
                self.emit(_OPERATORS[ch])
                return self.lex_token
            if ch == "." or (ch and is_digit(ch)):
                self.backup()
                return self.lex_number_duration_or_dot
            if ch and is_letter(ch):
                return self.lex_ident_or_keyword
            if ch == '"':
                return self.lex_reference
            if ch == "'":
                self.backup()
                return self.lex_string
            if ch and is_space(ch):
                self.ignore()
                continue
            simple = _SIMPLE.get(ch)
            if simple is not None:
                self.emit(simple)
                return self.try_binary_operator if simple is TokenType.RPAREN else self.lex_token
            if ch == "/":
                self.backup()
                return self.lex_comment if self.text.startswith("//", self.pos) else self.lex_regex
            if ch == "":
                self.pos = len(self.text)
                self.emit(TokenType.EOF)
                return None
            self.error(f"unknown state, last char: {go_quote_rune(ch)}")
            return None

    def try_binary_operator(self):
        self.ignore_space()
        ch = self.next()
        if ch in ("+", "-", "*", "%"):
            self.emit(_OPERATORS[ch])
            return self.lex_token
        if ch == "/":
            if self.peek() == "/":
                self.backup()
                return self.lex_comment
            self.emit(TokenType.DIV)
            return self.lex_token
        if ch == "!":
            if self.peek() in ("=", "~"):
                self.next()
            op = _OPERATORS[self.text[self.start : self.pos]]
            self.emit(op)
            return self._regex_after(op is TokenType.REGEX_NOT_EQUAL)
        if ch in ("<", ">"):
            if self.peek() == "=":
                self.next()
            self.emit(_OPERATORS[self.text[self.start : self.pos]])
            return self.lex_token
        if ch == "=":
            if self.peek() in ("~", "="):
                self.next()
                op = _OPERATORS[self.text[self.start : self.pos]]
                self.emit(op)
                return self._regex_after(op is TokenType.REGEX_EQUAL)
            self.emit(TokenType.ASSIGN)
            return self._regex_after(True)
        self.backup()
        return self.lex_token

    def _regex_after(self, allowed: bool):
        """After `=`, `=~` and `!~` a `/` opens a regex rather than a division or a comment."""
        if allowed:
            self.ignore_space()
            if self.peek() == "/":
                return self.lex_regex
        return self.lex_token

    def lex_ident_or_keyword(self):
        while True:
            ch = self.next()
            if ch and _is_ident_char(ch):
                continue
            self.backup()
            word = self.text[self.start : self.pos]
            keyword = KEYWORDS.get(word)
            if keyword is None:
                self.emit(TokenType.IDENT)
            elif keyword is TokenType.LAMBDA:
                # `lambda` is a keyword only when a colon follows; otherwise it is a plain identifier.
                if self.peek() == ":":
                    self.next()
                    self.emit(TokenType.LAMBDA)
                else:
                    self.emit(TokenType.IDENT)
            else:
                self.emit(keyword)
            return self.try_binary_operator

    def lex_number_duration_or_dot(self):
        decimal = False
        first = True
        while True:
            ch = self.next()
            if ch == ".":
                if first and not (self.peek() and is_digit(self.peek())):
                    self.emit(TokenType.DOT)
                    return self.lex_token
                if decimal:
                    self.error("multiple decimals in number")
                    return None
                decimal = True
            elif ch and is_digit(ch):
                pass
            elif ch and not decimal and ch in DURATION_UNITS:
                if ch == "m" and self.peek() == "s":
                    self.next()
                self.emit(TokenType.DURATION)
                return self.try_binary_operator
            else:
                self.backup()
                self.emit(TokenType.NUMBER)
                return self.try_binary_operator
            first = False

    def lex_reference(self):
        while True:
            ch = self.next()
            if ch == "\\":
                if self.peek() == '"':
                    self.next()
            elif ch == '"':
                self.emit(TokenType.REFERENCE)
                return self.try_binary_operator
            elif ch == "":
                self.error("unterminated field reference")
                return None

    def lex_string(self):
        self.next()  # the opening quote
        count = 1
        if self.peek() == "'":
            self.next()
            if self.peek() != "'":
                self.emit(TokenType.STRING)  # the empty string ''
                return self.try_binary_operator
            self.next()
            count = 3
        total = count
        # Closing needs `total` quotes in a row; in a single-quoted string `\'` is an escaped quote.
        while True:
            ch = self.next()
            if ch == "\\" and count == 1:
                if self.peek() == "'":
                    self.next()
            elif ch == "'":
                count -= 1
                if count == 0:
                    self.emit(TokenType.STRING)
                    return self.try_binary_operator
            elif ch == "":
                self.error("unterminated string")
                return None
            else:
                count = total

    def lex_regex(self):
        self.next()  # the opening slash (callers check it is there)
        while True:
            ch = self.next()
            if ch == "\\":
                if self.peek() == "/":
                    self.next()
            elif ch == "/":
                self.emit(TokenType.REGEX)
                return self.lex_token
            elif ch == "":
                self.error("unterminated regex")
                return None

    def lex_comment(self):
        self.pos += 2  # `//`
        text = self.text
        while True:
            ch = self.next()
            if ch == "\n":
                # A comment on the very next line (only spaces between) continues this comment block.
                while self.pos < len(text) and text[self.pos] != "\n" and is_space(text[self.pos]):
                    self.pos += 1
                if self.pos < len(text) and text[self.pos] == "/":
                    self.pos += 1
                    continue
                self.emit(TokenType.COMMENT)
                return self.lex_token
            if ch == "":
                self.pos = len(text)
                self.emit(TokenType.COMMENT)
                return self.lex_token


_SIMPLE: dict[str, TokenType] = {
    "(": TokenType.LPAREN,
    ")": TokenType.RPAREN,
    "[": TokenType.LBRACKET,
    "]": TokenType.RBRACKET,
    "|": TokenType.PIPE,
    "@": TokenType.AT,
    ",": TokenType.COMMA,
    "*": TokenType.STAR,
}


def tokenize(text: str) -> list[Token]:
    """Every token of `text`, ending with EOF, or with an ERROR token where the text cannot be lexed."""
    return _Lexer(text).run()
