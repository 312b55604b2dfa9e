"""The runtime's fast check of the usual where() lambdas (`"name" <op> literal`) answers exactly what the
evaluator answers, and leaves every other case (missing, nil, another type, errors) to it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.kit.errors import TicklessError
from chalicelib.kit.points import UInt
from chalicelib.tick.exec.base import fast_predicate
from chalicelib.tick.lambdas import Scope, compile_lambda

OPERATORS = ["==", "!=", "<", "<=", ">", ">="]
LITERALS = ["'a'", "''", "'é'", "1", "0", "-1", "1.5", "0.0", "1000.25", "TRUE", "10s", "/a/"]
VALUES = st.one_of(
    st.sampled_from(["a", "", "é", "b", "A"]),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.integers(0, 3).map(UInt),
)


def evaluated(expression: Any, fields: dict, tags: dict) -> Any:
    try:
        return expression.evaluate_bool(Scope(fields=fields, tags=tags, time=0))
    except TicklessError as err:
        return err


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(
    op=st.sampled_from(OPERATORS),
    literal=st.sampled_from(LITERALS),
    field=st.none() | VALUES,
    tag=st.none() | st.sampled_from(["a", "", "x", "é"]),
)
def test_fast_checks_answer_as_the_evaluator(op: str, literal: str, field: Any, tag: Any) -> None:
    expression = compile_lambda(f'"v" {op} {literal}')
    fast = fast_predicate(expression)
    fields = {} if field is None else {"v": field}
    tags = {} if tag is None else {"v": tag}
    answer = evaluated(expression, fields, tags)
    if fast is None:
        return
    got = fast(fields, tags)
    if got is not None:
        assert got == answer, (op, literal, field, tag, answer)


def test_the_usual_shapes_have_a_fast_check_and_others_do_not() -> None:
    assert fast_predicate(compile_lambda("\"host\" != 'x'")) is not None
    assert fast_predicate(compile_lambda('"usage" > 90')) is not None
    assert fast_predicate(compile_lambda('"usage" > 90.5')) is not None
    for text in (
        "\"host\" < 'x'",
        '"a" > "b"',
        '"time" > 1',
        '"v" > -1',
        '"v" =~ /x/',
        '"v" > 1 AND "w" < 2',
    ):
        assert fast_predicate(compile_lambda(text)) is None, text


def test_a_missing_value_or_another_type_is_left_to_the_evaluator() -> None:
    fast = fast_predicate(compile_lambda("\"host\" != 'x'"))
    assert fast is not None
    assert fast({}, {"host": "a"}) is True
    assert fast({}, {"host": "x"}) is False
    assert fast({}, {}) is None  # missing: the evaluator's error
    assert fast({"host": 1.0}, {}) is None  # a float against a string
    assert fast({"host": "a"}, {"host": "a"}) is None  # a field and a tag of one name: an error
