"""How deep a Flux program may nest, as Flux bounds it: "Program is nested too deep" (located, as a
syntax error) past `parser.MAX_NESTING` nested expressions (parentheses, records, arrays, calls,
functions, interpolations, unary operators) or past `ast.MAX_DEPTH` levels of the tree (operator,
pipe and member chains), never a RecursionError; the deepest program allowed runs."""

from __future__ import annotations

import pytest

from chalicelib.flux import ast
from chalicelib.flux.csv import Dialect, encode
from chalicelib.flux.engine import execute
from chalicelib.flux.parser import MAX_NESTING, parse
from chalicelib.flux.source import Context
from chalicelib.kit.syntax import ParseError
from tests.unit.test_flux_source import MemorySource

NESTED = {
    "parentheses": lambda d: "(" * d + "1" + ")" * d,
    "records": lambda d: "{a: " * d + "1" + "}" * d,
    "arrays": lambda d: "[" * d + "1" + "]" * d,
    "calls": lambda d: "f(a: " * d + "1" + ")" * d,
    "functions": lambda d: "() => " * d + "1",
    "interpolations": lambda d: '"${' * d + '"a"' + '}"' * d,
    "negations": lambda d: "-" * d + "1",
    "nots": lambda d: "not " * d + "true",
    "conditionals": lambda d: "if true then " * d + "1" + " else 2" * d,
    "indexes": lambda d: "[1]" + "[[0][0]" * (d - 1) + "]" * (d - 1),
}
CHAINS = {
    "or": lambda n: " or ".join(["true"] * n),
    "plus": lambda n: " + ".join(["1"] * n),
    "pipes": lambda n: "a" + " |> f()" * n,
    "members": lambda n: "a" + ".b" * n,
}


def evaluate(program: str) -> str:
    source = MemorySource([])
    results = execute(program, Context(source, source, 0))
    return "".join(encode(results, Dialect()))


@pytest.mark.parametrize("shape", NESTED)
def test_flux_1000_nested_expressions_are_program_nested_too_deep(shape):
    with pytest.raises(ParseError) as caught:
        parse("x = " + NESTED[shape](1000))
    assert caught.value.reason == "Program is nested too deep"
    assert str(caught.value).startswith("error @1:")


@pytest.mark.parametrize(
    ("shape", "terms"), [("or", 500), ("plus", 1000), ("pipes", 1000), ("members", 1000)]
)
def test_flux_long_chains_are_program_nested_too_deep(shape, terms):
    source = "x = " + CHAINS[shape](terms)
    with pytest.raises(ParseError) as caught:
        parse(source)
    assert caught.value.reason == "Program is nested too deep"
    # located at the first node too deep: the chain's nodes all start where it starts
    assert str(caught.value).startswith("error @1:5-1:")


@pytest.mark.parametrize("shape", NESTED)
def test_flux_expressions_nested_to_the_limit_parse(shape):
    parse("x = " + NESTED[shape](MAX_NESTING - 1))  # the statement's expression is the first level


def test_flux_chains_to_the_depth_limit_parse():
    # File > VariableAssignment > BinaryExpression... > IntegerLiteral: the chain has MAX_DEPTH - 2 levels
    parse("x = " + CHAINS["plus"](ast.MAX_DEPTH - 2))
    with pytest.raises(ParseError, match="Program is nested too deep"):
        parse("x = " + CHAINS["plus"](ast.MAX_DEPTH - 1))


@pytest.mark.parametrize(
    ("program", "value"),
    [
        ("x = " + CHAINS["plus"](ast.MAX_DEPTH - 2), str(ast.MAX_DEPTH - 2)),
        ("x = " + NESTED["parentheses"](MAX_NESTING - 1), "1"),
        ("x = " + NESTED["negations"](MAX_NESTING - 2), "1"),
        ("r = " + NESTED["records"](MAX_NESTING - 2) + "\nx = r" + ".a" * (MAX_NESTING - 3) + ".a", "1"),
        ("x = " + NESTED["conditionals"](MAX_NESTING - 1), "1"),
        ("x = " + NESTED["interpolations"](MAX_NESTING - 1), "a"),
    ],
)
def test_the_deepest_programs_allowed_run(program, value):
    out = evaluate('import "array"\n' + program + "\narray.from(rows: [{v: x}])")
    assert out.splitlines()[1].split(",")[-1] == value


def test_a_deep_extern_is_program_nested_too_deep():
    deep = parse("x = " + CHAINS["plus"](ast.MAX_DEPTH - 2)).body[0]
    deep.init = ast.BinaryExpression("+", deep.init, ast.IntegerLiteral(1))
    source = MemorySource([])
    with pytest.raises(ParseError, match=r"^Program is nested too deep$"):
        execute("x", Context(source, source, 0), extern=ast.File([deep], [], None))
