"""TICKscript's lexer: the tokens Kapacitor's lexer emits (type, offset, text), from its lexer tests."""

from __future__ import annotations

import pytest

from chalicelib.tick.tokens import Token, TokenType, tokenize

T = TokenType


def lexed(text: str) -> list[tuple[TokenType, int, str]]:
    return [(tok.type, tok.pos, tok.value) for tok in tokenize(text)]


@pytest.mark.parametrize(
    "text, op",
    [
        ("a + b", T.PLUS),
        ("a - b", T.MINUS),
        ("a * b", T.MULT),
        ("a / b", T.DIV),
        ("a = b", T.ASSIGN),
        ("a == b", T.EQUAL),
        ("a != b", T.NOT_EQUAL),
        ("a > b", T.GREATER),
        ("a >= b", T.GREATER_EQUAL),
        ("a < b", T.LESS),
        ("a <= b", T.LESS_EQUAL),
        ("a =~ b", T.REGEX_EQUAL),
        ("a !~ b", T.REGEX_NOT_EQUAL),
    ],
)
def test_binary_operators(text, op):
    width = len(text) - 4
    assert lexed(text) == [
        (T.IDENT, 0, "a"),
        (op, 2, text[2 : 2 + width]),
        (T.IDENT, 3 + width, "b"),
        (T.EOF, len(text), ""),
    ]


@pytest.mark.parametrize(
    "text, typ",
    [
        ("!", T.NOT),
        ("(", T.LPAREN),
        (")", T.RPAREN),
        ("[", T.LBRACKET),
        ("]", T.RBRACKET),
        (".", T.DOT),
        ("|", T.PIPE),
        ("@", T.AT),
        ("*", T.STAR),
        ("AND", T.AND),
        ("OR", T.OR),
        ("TRUE", T.TRUE),
        ("FALSE", T.FALSE),
        ("var", T.VAR),
        ("dbrp", T.DBRP),
        ("lambda:", T.LAMBDA),
        ("42", T.NUMBER),
        ("42.21", T.NUMBER),
        (".421", T.NUMBER),
        ("0.421", T.NUMBER),
        ("42s", T.DURATION),
        ("1u", T.DURATION),
        ("1µ", T.DURATION),
        ("1ms", T.DURATION),
        ("1h", T.DURATION),
        ("1d", T.DURATION),
        ("1w", T.DURATION),
        ("variable", T.IDENT),
        ("myVar01", T.IDENT),
        ('""', T.REFERENCE),
        ('"ref with spaces"', T.REFERENCE),
        ('"ref\\""', T.REFERENCE),
        ("''", T.STRING),
        ("''''''", T.STRING),
        ("'str'", T.STRING),
        ("'str\\''", T.STRING),
        ("'''s'tr'''", T.STRING),
        ("'''s\\'tr'''", T.STRING),
        ("'''str'''", T.STRING),
        ("/.*/", T.REGEX),
        ("/^abc$/", T.REGEX),
        ("/^((.*)[a-z]+\\S{0,2})|cat\\/\\/$/", T.REGEX),
    ],
)
def test_single_tokens(text, typ):
    assert lexed(text) == [(typ, 0, text), (T.EOF, len(text), "")]


def test_lambda_without_colon_is_an_identifier():
    assert lexed("lambda ") == [(T.IDENT, 0, "lambda"), (T.EOF, 7, "")]


@pytest.mark.parametrize("text", [" ", " \t\n"])
def test_space_only(text):
    assert lexed(text) == [(T.EOF, len(text), "")]


def test_statement():
    assert lexed("var x = avg()") == [
        (T.VAR, 0, "var"),
        (T.IDENT, 4, "x"),
        (T.ASSIGN, 6, "="),
        (T.IDENT, 8, "avg"),
        (T.LPAREN, 11, "("),
        (T.RPAREN, 12, ")"),
        (T.EOF, 13, ""),
    ]


def test_chain():
    text = "var x = avg()|parallel(4)x.groupby('cpu')|window().period(10s)"
    assert [(t, p) for t, p, _ in lexed(text)] == [
        (T.VAR, 0),
        (T.IDENT, 4),
        (T.ASSIGN, 6),
        (T.IDENT, 8),
        (T.LPAREN, 11),
        (T.RPAREN, 12),
        (T.PIPE, 13),
        (T.IDENT, 14),
        (T.LPAREN, 22),
        (T.NUMBER, 23),
        (T.RPAREN, 24),
        (T.IDENT, 25),
        (T.DOT, 26),
        (T.IDENT, 27),
        (T.LPAREN, 34),
        (T.STRING, 35),
        (T.RPAREN, 40),
        (T.PIPE, 41),
        (T.IDENT, 42),
        (T.LPAREN, 48),
        (T.RPAREN, 49),
        (T.DOT, 50),
        (T.IDENT, 51),
        (T.LPAREN, 57),
        (T.DURATION, 58),
        (T.RPAREN, 61),
        (T.EOF, 62),
    ]


def test_comment_keeps_its_newline():
    tokens = lexed("var x = avg()\n// Comment all of this is ignored\nx.groupby('cpu')")
    assert tokens[6] == (T.COMMENT, 14, "// Comment all of this is ignored\n")
    assert tokens[7] == (T.IDENT, 48, "x")
    assert tokens[-1] == (T.EOF, 64, "")


def test_comment_at_end():
    tokens = lexed("var x = avg()\n// Comment all of this is ignored")
    assert tokens[-2:] == [(T.COMMENT, 14, "// Comment all of this is ignored"), (T.EOF, 47, "")]


def test_consecutive_comment_lines_form_one_token_and_a_blank_line_splits_them():
    assert lexed("// a\n  // b\n\n// c\nx") == [
        (T.COMMENT, 0, "// a\n  // b\n"),
        (T.COMMENT, 13, "// c\n"),
        (T.IDENT, 18, "x"),
        (T.EOF, 19, ""),
    ]


def test_slash_is_division_after_a_value_and_a_regex_elsewhere():
    assert [t for t, _, _ in lexed('"a" / 2')] == [T.REFERENCE, T.DIV, T.NUMBER, T.EOF]
    assert lexed('"a" =~ /b/')[2] == (T.REGEX, 7, "/b/")
    assert lexed('"a" !~ /b/')[2] == (T.REGEX, 7, "/b/")
    assert lexed("x = /b/")[2] == (T.REGEX, 4, "/b/")
    assert lexed("f(/b/)")[2] == (T.REGEX, 2, "/b/")


def test_minus_is_always_its_own_token():
    assert lexed("-5") == [(T.MINUS, 0, "-"), (T.NUMBER, 1, "5"), (T.EOF, 2, "")]
    assert [t for t, _, _ in lexed("5-5")] == [T.NUMBER, T.MINUS, T.NUMBER, T.EOF]


def test_star_after_a_value_is_multiplication():
    assert [t for t, _, _ in lexed("2 * 3")] == [T.NUMBER, T.MULT, T.NUMBER, T.EOF]
    assert [t for t, _, _ in lexed("f(*)")] == [T.IDENT, T.LPAREN, T.STAR, T.RPAREN, T.EOF]


def test_decimal_number_takes_no_duration_unit():
    assert [t for t, _, _ in lexed("1.5s")] == [T.NUMBER, T.IDENT, T.EOF]


@pytest.mark.parametrize(
    "text, token",
    [
        ("'abc", Token(T.ERROR, 0, "unterminated string")),
        ("'''abc''", Token(T.ERROR, 0, "unterminated string")),
        ('"abc', Token(T.ERROR, 0, "unterminated field reference")),
        ("x = /abc", Token(T.ERROR, 4, "unterminated regex")),
        ("1.2.3", Token(T.ERROR, 0, "multiple decimals in number")),
        ("a #", Token(T.ERROR, 2, "unknown state, last char: '#'")),
        ("\x00", Token(T.ERROR, 0, "unknown state, last char: '\\x00'")),
        ("\u00a0x;", Token(T.ERROR, 2, "unknown state, last char: ';'")),
    ],
)
def test_errors_end_the_stream(text, token):
    assert tokenize(text)[-1] == token


def test_unicode_letters_and_digits():
    assert lexed("été") == [(T.IDENT, 0, "été"), (T.EOF, 3, "")]
    assert lexed("x_1") == [(T.IDENT, 0, "x_1"), (T.EOF, 3, "")]
