"""Template source to items: text, delimiters and the tokens of actions, lexed on demand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib.kit.gotemplate.printf import go_quote

_KEYWORDS = {
    "block",
    "break",
    "continue",
    "define",
    "else",
    "end",
    "if",
    "range",
    "nil",
    "template",
    "with",
}


@dataclass(slots=True)
class _Item:
    typ: str  # text, left, right, space, ident, field, var, dot, string, raw, char, number, bool,
    # pipe, lparen, rparen, declare, assign, punct, eof, error, or a keyword
    val: str
    pos: int
    line: int

    def __str__(self) -> str:
        if self.typ == "eof":
            return "EOF"
        if self.typ == "error":
            return self.val
        if self.typ in _KEYWORDS or self.typ == "dot":
            return f"<{self.val}>"
        if len(self.val) > 10:
            return _go_q(self.val[:10]) + "..."
        return _go_q(self.val)


def _go_q(text: str) -> str:
    return go_quote(text)


def _is_space(ch: str) -> bool:
    return ch in " \t\r\n" and ch != ""


def _is_alnum(ch: str) -> bool:
    return ch != "" and (ch == "_" or ch.isalpha() or ch.isdigit())


def _rune_repr(ch: str) -> str:
    code = ord(ch)
    return f"U+{code:04X} {_go_char(ch)}"


def _go_char(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    return "'" + go_quote(ch)[1:-1].replace('\\"', '"') + "'"


def _has_left_trim(text: str, at: int) -> bool:
    return text.startswith("-", at) and at + 1 < len(text) and _is_space(text[at + 1])


def _has_right_trim(text: str, at: int) -> bool:
    return at + 1 < len(text) and _is_space(text[at]) and text[at + 1] == "-"


class _Lexer:
    """Items on demand, so an error late in the text is reported only if the parser gets there."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.paren = 0

    def _item(self, typ: str, start: int, end: int, line: int) -> _Item:
        return _Item(typ, self.text[start:end], start, line)

    def items(self) -> Iterator[_Item]:
        text = self.text
        while True:
            start = self.pos
            cut = text.find("{{", start)
            if cut < 0:
                if start < len(text):
                    yield self._item("text", start, len(text), self.line)
                    self.line += text.count("\n", start)
                yield _Item("eof", "", len(text), self.line)
                return
            trim_to = cut
            if _has_left_trim(text, cut + 2):
                trim_to = len(text[start:cut].rstrip(" \t\r\n")) + start
            if trim_to > start:
                yield self._item("text", start, trim_to, self.line)
            self.line += text.count("\n", start, cut)
            after = cut + 2 + (2 if _has_left_trim(text, cut + 2) else 0)
            if text.startswith("/*", after):
                end = text.find("*/", after + 2)
                if end < 0:
                    yield _Item("error", "unclosed comment", cut, self.line)
                    return
                self.line += text.count("\n", after, end)
                self.pos = end + 2
                delim, trim = self._at_right()
                if not delim:
                    yield _Item("error", "comment ends before closing delimiter", cut, self.line)
                    return
                self.pos += 4 if trim else 2
                if trim:
                    self.pos = self._skip_space(self.pos)
                continue
            yield _Item("left", "{{", cut, self.line)
            self.pos = after
            self.paren = 0
            for item in self._inside():
                yield item
                if item.typ == "error":
                    return
            # _inside stops after the right delimiter

    def _skip_space(self, at: int) -> int:
        start = at
        while at < len(self.text) and self.text[at] in " \t\r\n":
            at += 1
        self.line += self.text.count("\n", start, at)
        return at

    def _at_right(self) -> tuple[bool, bool]:
        text, at = self.text, self.pos
        if _has_right_trim(text, at) and text.startswith("}}", at + 2):
            return True, True
        return text.startswith("}}", at), False

    def _peek(self, at: int) -> str:
        return self.text[at] if at < len(self.text) else ""

    def _at_terminator(self, at: int) -> bool:
        ch = self._peek(at)
        return ch == "" or _is_space(ch) or ch in ".,|:)(}"

    def _inside(self) -> Iterator[_Item]:
        text = self.text
        while True:
            delim, trim = self._at_right()
            if delim:
                if self.paren:
                    yield _Item("error", "unclosed left paren", self.pos, self.line)
                    return
                at = self.pos + (2 if trim else 0)
                yield _Item("right", "}}", at, self.line)
                self.pos = at + 2
                if trim:
                    self.pos = self._skip_space(self.pos)
                return
            start = self.pos
            ch = self._peek(start)
            line = self.line
            if ch == "":
                yield _Item("error", "unclosed action", start, line)
                return
            if _is_space(ch):
                end = start
                while _is_space(self._peek(end)):
                    end += 1
                if text.startswith("-}}", end):
                    end -= 1  # the last space belongs to a trim-marked right delimiter
                    if end == start:
                        self.pos = start
                        continue
                self.line += text.count("\n", start, end)
                self.pos = end
                yield _Item("space", text[start:end], start, line)
                continue
            self.pos = start + 1
            if ch == "=":
                yield _Item("assign", "=", start, line)
            elif ch == ":":
                if self._peek(start + 1) != "=":
                    yield _Item("error", "expected :=", start, line)
                    return
                self.pos = start + 2
                yield _Item("declare", ":=", start, line)
            elif ch == "|":
                yield _Item("pipe", "|", start, line)
            elif ch in "\"'`":
                item = self._quoted(start, ch)
                yield item
                if item.typ == "error":
                    return
            elif ch == "$" or (ch == "." and not "0" <= self._peek(start + 1) <= "9"):
                item = self._field_or_var(start, "var" if ch == "$" else "field")
                yield item
                if item.typ == "error":
                    return
            elif ch in "+-." or "0" <= ch <= "9":
                item = self._number(start)
                yield item
                if item.typ == "error":
                    return
            elif _is_alnum(ch):
                end = start
                while _is_alnum(self._peek(end)):
                    end += 1
                self.pos = end
                if not self._at_terminator(end):
                    yield _Item("error", f"bad character {_rune_repr(self._peek(end))}", start, line)
                    return
                word = text[start:end]
                typ = word if word in _KEYWORDS else ("bool" if word in ("true", "false") else "ident")
                yield _Item(typ, word, start, line)
            elif ch == "(":
                self.paren += 1
                yield _Item("lparen", "(", start, line)
            elif ch == ")":
                self.paren -= 1
                if self.paren < 0:
                    yield _Item("error", "unexpected right paren", start, line)
                    return
                yield _Item("rparen", ")", start, line)
            elif ord(ch) < 0x80 and ch.isprintable():
                yield _Item("punct", ch, start, line)
            else:
                yield _Item("error", f"unrecognized character in action: {_rune_repr(ch)}", start, line)
                return

    def _field_or_var(self, start: int, typ: str) -> _Item:
        end = start + 1
        if self._at_terminator(end):
            self.pos = end
            return _Item(typ if typ == "var" else "dot", self.text[start:end], start, self.line)
        while _is_alnum(self._peek(end)):
            end += 1
        self.pos = end
        if not self._at_terminator(end):
            return _Item("error", f"bad character {_rune_repr(self._peek(end))}", start, self.line)
        return _Item(typ, self.text[start:end], start, self.line)

    def _quoted(self, start: int, quote: str) -> _Item:
        text = self.text
        at = start + 1
        line = self.line
        while True:
            ch = self._peek(at)
            if quote == "`":
                if ch == "":
                    return _Item("error", "unterminated raw quoted string", start, line)
                if ch == "`":
                    break
                at += 1
                continue
            if ch == "\\":
                nxt = self._peek(at + 1)
                if nxt in ("", "\n"):
                    ch = ""
                else:
                    at += 2
                    continue
            if ch in ("", "\n"):
                what = "quoted string" if quote == '"' else "character constant"
                return _Item("error", f"unterminated {what}", start, line)
            if ch == quote:
                break
            at += 1
        self.pos = at + 1
        if quote == "`":
            self.line += text.count("\n", start, at)
        return _Item({'"': "string", "'": "char", "`": "raw"}[quote], text[start : at + 1], start, line)

    def _number(self, start: int) -> _Item:
        text = self.text
        at = start
        if self._peek(at) in "+-":
            at += 1
        digits = "0123456789_"
        if self._peek(at) == "0" and self._peek(at + 1) in ("x", "X") and self._peek(at + 1):
            at += 2
            digits = "0123456789abcdefABCDEF_"
        elif self._peek(at) == "0" and self._peek(at + 1) in ("o", "O", "b", "B") and self._peek(at + 1):
            at += 2
        while self._peek(at) and self._peek(at) in digits:
            at += 1
        if self._peek(at) == ".":
            at += 1
            while self._peek(at) and self._peek(at) in digits:
                at += 1
        if len(digits) == 11 and self._peek(at) in ("e", "E") and self._peek(at):
            at += 1
            if self._peek(at) in ("+", "-") and self._peek(at):
                at += 1
            while self._peek(at) and self._peek(at) in "0123456789_":
                at += 1
        if len(digits) > 11 and self._peek(at) in ("p", "P") and self._peek(at):
            at += 1
            if self._peek(at) in ("+", "-") and self._peek(at):
                at += 1
            while self._peek(at) and self._peek(at) in "0123456789_":
                at += 1
        if self._peek(at) == "i":
            at += 1
        if _is_alnum(self._peek(at)):
            self.pos = at + 1
            return _Item("error", f"bad number syntax: {go_quote(text[start : at + 1])}", start, self.line)
        self.pos = at
        if self._peek(at) in ("+", "-") and self._peek(at) and start != at:
            second = self._number(at)  # a complex literal like 1+2i; unsupported, rejected when parsed
            if second.typ == "error" or not second.val.endswith("i"):
                return _Item(
                    "error", f"bad number syntax: {go_quote(text[start : self.pos])}", start, self.line
                )
        return _Item("number", text[start : self.pos], start, self.line)
