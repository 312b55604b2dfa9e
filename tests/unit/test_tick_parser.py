"""TICKscript's parser: the trees Kapacitor builds (from its parser tests) and its error texts."""

from __future__ import annotations

import re

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.kit.syntax import ParseError
from chalicelib.tick import ast
from chalicelib.tick.parser import MAX_DEPTH, literal_value, parse, parse_influxql_duration, parse_lambda
from chalicelib.tick.tokens import TokenType
from chalicelib.tick.values import Duration, Lambda, Regex, Star

T = TokenType


def only(script: str) -> ast.Node:
    program = parse(script)
    assert len(program.nodes) == 1
    return program.nodes[0]


def right(script: str) -> ast.Node:
    node = only(script)
    assert isinstance(node, ast.DeclarationNode)
    return node.right


def where(node: ast.Node) -> tuple[int, int, int]:
    return node.where.pos, node.where.line, node.where.char


# -- Kapacitor's parse error expectations -------------------------------------------------------------------


@pytest.mark.parametrize(
    "script, message",
    [
        (
            "a\n\n\nvar b = ",
            'parser: unexpected EOF line 4 char 9 in "var b = ". expected: "number","string","duration",'
            '"identifier","TRUE","FALSE","==","(","-","!"',
        ),
        (
            "a\n\n\nvar b = stream.window()var period)\n\nvar x = 1",
            'parser: unexpected ) line 4 char 34 in "var period)". expected: "identifier"',
        ),
        (
            "a\n\n\nvar b = stream.window(\nb.period(10s)",
            'parser: unexpected EOF line 5 char 14 in "eriod(10s)". expected: ")"',
        ),
    ],
)
def test_kapacitor_parse_errors(script, message):
    with pytest.raises(ParseError) as caught:
        parse(script)
    assert caught.value.message == message
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "script, message",
    [
        (
            "var x = 'abc",
            'parser: unexpected unterminated string line 1 char 9 in "var x = \'abc". expected: ',
        ),
        ('var x = "abc', 'parser: unexpected unterminated field reference line 1 char 9 in "var x = "abc"'),
        ("var x = 1.2.3", "parser: unexpected multiple decimals in number line 1 char 9"),
        ("var x = #", "parser: unexpected unknown state, last char: '#' line 1 char 9"),
        ("var x = 99999999999999999999", 'parser: illegal number syntax: "99999999999999999999"'),
        ("var x = 09", 'parser: illegal number syntax: "09"'),
        ("var x = /abc(/", "parser: error parsing regexp: missing closing ): `abc(`"),
        (
            "var x = [1]",
            'parser: unexpected number line 1 char 10 in "var x = [1]". expected: "identifier","string","*"',
        ),
        ("dbrp db.rp", 'parser: unexpected identifier line 1 char 6 in "dbrp db.rp". expected: "reference"'),
        ("var x", 'parser: unexpected EOF line 1 char 6 in "var x". expected: "identifier"'),
        ("x|y", 'parser: unexpected EOF line 1 char 4 in "x|y". expected: "("'),
    ],
)
def test_errors(script, message):
    with pytest.raises(ParseError) as caught:
        parse(script)
    assert caught.value.message.startswith(message)


def test_error_position_and_context_count_bytes_as_kapacitor_does():
    with pytest.raises(ParseError) as caught:
        parse("var s = 'é' + #")
    assert caught.value.message.startswith(
        "parser: unexpected unknown state, last char: '#' line 1 char 16 in "
    )
    assert caught.value.position.line == 1
    assert caught.value.position.column == 16


def test_error_context_stays_on_one_line():
    with pytest.raises(ParseError) as caught:
        parse("stream\n    |from(\n)\n)")
    assert (
        caught.value.message
        == 'parser: unexpected ) line 4 char 1 in ")". expected: "number","string",'
        + ('"duration","identifier","TRUE","FALSE","==","(","-","!"')
    )


def test_parse_error_is_an_invalid_tickless_error():
    with pytest.raises(TicklessError) as caught:
        parse("var")
    assert caught.value.code == "invalid"
    assert caught.value.status == 400


# -- trees --------------------------------------------------------------------------------------------------


def test_dbrp():
    node = only('dbrp "telegraf"."autogen"')
    assert isinstance(node, ast.DBRPNode)
    assert (node.db.reference, node.rp.reference) == ("telegraf", "autogen")
    assert where(node) == (0, 1, 1)
    assert where(node.db) == (5, 1, 6)
    assert node.dbrp() == '"telegraf"."autogen"'


@pytest.mark.parametrize(
    "typ", ["int", "float", "string", "bool", "duration", "lambda", "regex", "star", "list"]
)
def test_template_declarations(typ):
    node = only(f"var x {typ}")
    assert isinstance(node, ast.TypeDeclarationNode)
    assert (node.node.ident, node.type.ident) == ("x", typ)
    assert where(node.type) == (6, 1, 7)


def test_list():
    node = right("var x = ['str', 'asdf', 'another', s, *]")
    assert isinstance(node, ast.ListNode)
    assert [type(n).__name__ for n in node.nodes] == [
        "StringNode",
        "StringNode",
        "StringNode",
        "IdentifierNode",
        "StarNode",
    ]
    assert where(node) == (8, 1, 9)
    assert where(node.nodes[4]) == (38, 1, 39)


@pytest.mark.parametrize(
    "script, value, is_int, base",
    [
        ("var x = 1", 1, True, 10),
        ("var x = 0644", 0o644, True, 8),
        ("var x = 1.0", 1.0, False, 10),
        ("var x = .5", 0.5, False, 10),
    ],
)
def test_numbers(script, value, is_int, base):
    node = right(script)
    assert isinstance(node, ast.NumberNode)
    assert (node.value, node.is_int, node.base) == (value, is_int, base)


def test_negative_numbers_are_unary_minus():
    node = right("var x = -0600")
    assert isinstance(node, ast.UnaryNode)
    assert node.operator is T.MINUS
    assert (node.node.value, node.node.base) == (0o600, 8)
    assert where(node.node) == (9, 1, 10)


def test_not():
    node = right("var x = !FALSE")
    assert isinstance(node, ast.UnaryNode)
    assert node.operator is T.NOT
    assert node.node.value is False


def test_durations():
    node = right("var x = 5h")
    assert (node.nanoseconds, node.literal) == (5 * 3600 * 10**9, "5h")
    minus = right("var x = -5h")
    assert isinstance(minus, ast.UnaryNode)
    assert minus.node.literal == "5h"


@pytest.mark.parametrize(
    "text, ns",
    [
        ("1u", 1_000),
        ("1µ", 1_000),
        ("1ms", 1_000_000),
        ("10s", 10 * 10**9),
        ("3m", 180 * 10**9),
        ("2d", 2 * 86400 * 10**9),
        ("1w", 7 * 86400 * 10**9),
        ("1h30m", 5400 * 10**9),
        ("5ns", 5),
    ],
)
def test_influxql_durations(text, ns):
    assert parse_influxql_duration(text) == ns


def test_influxql_duration_errors():
    for text in ("", "1", "s", "1x", "5"):
        with pytest.raises(ValueError, match=r"^invalid duration$"):
            parse_influxql_duration(text)
    with pytest.raises(ValueError, match=r"^overflowed duration 9223372036854775807s: choose a smaller"):
        parse_influxql_duration("9223372036854775807s")


def test_strings_unescape_single_quotes_only_when_single_quoted():
    assert right("var x = 'a\\'sdf'").literal == "a'sdf"
    triple = right("var x = '''\\'asdf'''")
    assert (triple.literal, triple.triple) == ("\\'asdf", True)
    assert right("var x = '''asdf'''").literal == "asdf"


def test_reference_unescapes_double_quotes():
    node = right('var x = lambda: "a\\"b"')
    assert node.expression.reference == 'a"b'


def test_regex_keeps_its_literal_and_unescapes_slashes_for_the_pattern():
    node = right("var x = /.*\\//")
    assert (node.literal, node.pattern) == (".*\\/", ".*/")


def test_binary_precedence_and_positions():
    node = right("var x = 5 + 5")
    assert isinstance(node, ast.BinaryNode)
    assert node.operator is T.PLUS
    assert where(node) == (10, 1, 11)  # a binary node sits at its operator
    tree = parse_lambda("1 + 2 - 3 * 4 / 5").expression
    # ((1 + 2) - ((3 * 4) / 5))
    assert tree.operator is T.MINUS
    assert tree.left.operator is T.PLUS
    assert tree.right.operator is T.DIV
    assert tree.right.left.operator is T.MULT


def test_logical_precedence():
    tree = parse_lambda('"a" > 1 OR "b" < 2 AND "c" == 3').expression
    assert tree.operator is T.OR
    assert tree.right.operator is T.AND
    assert tree.right.right.operator is T.EQUAL


def test_parentheses_mark_the_binary_node():
    tree = parse_lambda("(1 + 2) * 3").expression
    assert tree.operator is T.MULT
    assert tree.left.parens is True
    assert tree.parens is False


def test_lambda():
    node = right('var x = lambda: "value" < 10')
    assert isinstance(node, ast.LambdaNode)
    assert where(node) == (8, 1, 9)
    body = node.expression
    assert body.operator is T.LESS
    assert body.left.reference == "value"
    assert body.right.value == 10


def test_chain_and_property():
    node = right("var x = a|b()")
    assert isinstance(node, ast.ChainNode)
    assert node.operator is T.PIPE
    assert node.left.ident == "a"
    assert (node.right.func, node.right.type) == ("b", ast.FuncType.CHAIN)
    prop = right("var x = a.f()")
    assert prop.operator is T.DOT
    assert prop.right.type is ast.FuncType.PROPERTY
    udf = only("a@f()")
    assert udf.right.type is ast.FuncType.DYNAMIC


def test_property_without_parentheses_is_an_identifier():
    node = only("a.f")
    assert isinstance(node.right, ast.IdentifierNode)


def test_global_functions_in_lambdas():
    tree = right("var x = int(sqrt(16.0)) + 4")
    assert tree.operator is T.PLUS
    assert tree.left.func == "int"
    assert tree.left.args[0].func == "sqrt"
    assert tree.left.type is ast.FuncType.GLOBAL


def test_function_in_chain_argument():
    node = only("stream|window().period(5m)|map(influxql.agg.mean('value'))")
    argument = node.right.args[0]
    assert isinstance(argument, ast.ChainNode)
    assert argument.right.func == "mean"


def test_comments_attach_to_the_following_node():
    script = (
        "// set perfect threshold\nvar t = 42\n"
        '// only select data above threshold\nstream.where(lambda: "value" > t)\n\t\t\t'
    )
    program = parse(script)
    declaration, chain = program.nodes
    assert declaration.comment.comments == ["set perfect threshold"]
    assert where(declaration.comment) == (0, 1, 1)
    assert where(declaration) == (25, 2, 1)
    assert where(declaration.right) == (33, 2, 9)
    assert isinstance(chain, ast.ChainNode)
    assert where(chain) == (78, 4, 7)
    assert chain.left.comment.comments == ["only select data above threshold"]
    assert where(chain.left.comment) == (36, 3, 1)
    assert where(chain.right) == (79, 4, 8)
    lam = chain.right.args[0]
    assert where(lam) == (85, 4, 14)
    assert where(lam.expression) == (101, 4, 30)
    assert where(lam.expression.left) == (93, 4, 22)
    assert where(lam.expression.right) == (103, 4, 32)


def test_comment_blocks_and_blank_lines():
    program = parse("// a\n//b\n\n// c\n//\nx")
    assert program.nodes[0].comment.comments == ["a", "b", "\n", "c", ""]


def test_trailing_comment_stands_alone():
    program = parse("x\n// the end\n")
    assert isinstance(program.nodes[-1], ast.CommentNode)
    assert program.nodes[-1].comments == ["the end"]


def test_multiline_flags():
    tree = parse_lambda("1 +\n2").expression
    assert tree.multiline is True
    call = only("f(\n1,\n2)")
    assert call.multiline is True
    assert only("f(1, 2)").multiline is False


def test_equal_ignores_positions_and_comments():
    a = parse("var x = stream|from().measurement('cpu')")
    b = parse("// c\nvar   x=stream\n  |from()\n    .measurement('cpu')")
    assert ast.equal(a, b)
    assert not ast.equal(a, parse("var x = stream|from().measurement('mem')"))


# -- literal values -----------------------------------------------------------------------------------------


def test_literal_values():
    assert literal_value(right("var x = 1")) == 1
    assert literal_value(right("var x = 1.5")) == 1.5
    assert literal_value(right("var x = 'a'")) == "a"
    assert literal_value(right("var x = TRUE")) is True
    assert literal_value(right("var x = 10s")) == Duration(10 * 10**9)
    assert literal_value(right("var x = /a\\/b/")) == Regex.of("a/b")
    assert literal_value(only("f(*)").args[0]) == Star()
    assert literal_value(right("var x = ['a', *]")) == ["a", Star()]
    value = literal_value(right('var x = lambda: "a" >  1'))
    assert isinstance(value, Lambda)
    assert value.text == '"a" > 1'
    assert isinstance(value.expression, ast.BinaryNode)


def test_literal_value_refuses_non_literals():
    with pytest.raises(TicklessError, match="not a literal"):
        literal_value(right("var x = a.b()"))


# -- hostile input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "var x = " + "(" * 5000 + "1" + ")" * 5000,
        "var x = " + "!" * 5000 + "TRUE",
        "var x = lambda: " + " + ".join(["1"] * 5000),
        "var x = " + "f(" * 5000 + ")" * 5000,
    ],
)
def test_deep_nesting_is_refused_with_a_parse_error(script):
    with pytest.raises(ParseError, match=re.escape("nested deeper than")):
        parse(script)


def test_moderate_nesting_parses():
    program = parse("var x = " + "(" * (MAX_DEPTH - 5) + "1" + ")" * (MAX_DEPTH - 5))
    assert isinstance(program.nodes[0], ast.DeclarationNode)


def test_long_chains_parse_without_recursion():
    program = parse("stream" + "|window()" * 20000)
    assert isinstance(program.nodes[0], ast.ChainNode)


def test_lone_surrogates_are_read_as_replacement_characters():
    with pytest.raises(ParseError, match="unknown state"):
        parse("var x = \ud800")


def test_not_is_never_a_binary_operator():
    program = parse('var x = "a" !TRUE')
    assert len(program.nodes) == 2
    assert isinstance(program.nodes[1], ast.UnaryNode)
