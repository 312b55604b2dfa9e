"""How deep an InfluxQL statement may nest: OR and AND chains of any length are built balanced (so 500
OR terms are answered, as influxd answers them), other nesting past `MAX_DEPTH` levels (parentheses,
calls, `v + v + ...`) and subqueries past `MAX_SUBQUERY_DEPTH` are a ParseError, never a
RecursionError, and every stage that walks a tree copes with the deepest one allowed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.influxql import ParseError, ast, conditions, generate, parse
from chalicelib.influxql.engine.evaluate import evaluate
from chalicelib.influxql.parser import MAX_DEPTH, MAX_SUBQUERY_DEPTH


def condition(q: str) -> ast.Expr:
    return parse(q)[0].condition


def test_influxql_500_or_terms_parse_shallow_and_generate_the_same_text():
    terms = [f"host = 'h{i}'" for i in range(500)]
    q = "SELECT v FROM m WHERE " + " OR ".join(terms)
    (statement,) = parse(q)
    assert ast.expr_depth(statement.condition) <= 12  # log2(500) levels of OR, then `host = ..`
    assert generate(statement) == q
    assert conditions.eval_condition(statement.condition, {"host": "h499"})
    assert not conditions.eval_condition(statement.condition, {"host": "h500"})
    _, _, rest = conditions.time_range(statement.condition, 0)
    assert generate(rest) == " OR ".join(terms)


def test_influxql_and_chains_under_or_are_balanced_too():
    q = "SELECT v FROM m WHERE " + " OR ".join(
        " AND ".join(f"t{j} = '{i}'" for j in range(50)) for i in range(100)
    )
    (statement,) = parse(q)
    assert ast.expr_depth(statement.condition) == 7 + 6 + 2  # log2 of 100 ORs, of 50 ANDs, `t = 'i'`
    assert generate(statement) == q


def _left_deep(op: str, operands: list[ast.Expr]) -> ast.Expr:
    out = operands[0]
    for o in operands[1:]:
        out = ast.BinaryExpr(op, out, o)
    return out


@given(
    st.lists(
        st.lists(
            st.sampled_from(
                ["a = 1", "a = 2", "b = 'x'", "v > 1", "time > 5s", "true", "(a = 1 OR b = 'y')"]
            ),
            min_size=1,
            max_size=6,
        ),
        min_size=1,
        max_size=9,
    ),
    st.sampled_from([{}, {"a": "1"}, {"a": "2", "b": "x"}, {"b": "y"}]),
    st.sampled_from([{}, {"v": 2.0}, {"v": 0.5}]),
)
def test_balanced_chains_mean_what_left_deep_ones_mean(terms, tags, fields):
    text = " OR ".join(" AND ".join(group) for group in terms)
    balanced = condition("SELECT v FROM m WHERE " + text)
    # the tree influxd builds: left-deep chains
    groups = [_left_deep("AND", [condition("SELECT v FROM m WHERE " + t) for t in g]) for g in terms]
    left_deep = _left_deep("OR", groups)
    assert generate(balanced) == generate(left_deep) == text
    assert conditions.eval_condition(balanced, tags, fields) == conditions.eval_condition(
        left_deep, tags, fields
    )
    b_range, l_range = conditions.time_range(balanced, 0), conditions.time_range(left_deep, 0)
    assert b_range[:2] == l_range[:2]
    assert (b_range[2] and generate(b_range[2])) == (l_range[2] and generate(l_range[2]))


@pytest.mark.parametrize(
    "q",
    [
        "SELECT " + " + ".join(["v"] * 1000) + " FROM m",
        "SELECT v FROM m WHERE " + " AND ".join(["v + " * 1000 + "v > 1"]),
    ],
)
def test_influxql_1000_plus_terms_are_a_parse_error(q):
    with pytest.raises(ParseError, match=rf"^expression nested too deeply \(more than {MAX_DEPTH} levels\)$"):
        parse(q)


@pytest.mark.parametrize(
    "q, char",
    [
        ("SELECT " + "(" * 1000 + "v" + ")" * 1000 + " FROM m", 8 + MAX_DEPTH),
        ("SELECT v FROM m WHERE " + "(" * 1000 + "v > 1" + ")" * 1000, 23 + MAX_DEPTH),
        ("SELECT " + "abs(" * 1000 + "v" + ")" * 1000 + " FROM m", 8 + 4 * MAX_DEPTH),
    ],
)
def test_influxql_1000_nested_parentheses_are_a_parse_error_where_too_deep(q, char):
    with pytest.raises(ParseError) as caught:
        parse(q)
    assert str(caught.value) == (
        f"expression nested too deeply (more than {MAX_DEPTH} levels) at line 1, char {char}"
    )


def test_influxql_subqueries_nested_past_the_limit_are_a_parse_error():
    def nested(n: int) -> str:
        q = "SELECT v FROM m"
        for _ in range(n):
            q = f"SELECT v FROM ({q})"
        return q

    assert len(parse(nested(MAX_SUBQUERY_DEPTH))) == 1
    with pytest.raises(ParseError, match=rf"^subqueries nested too deeply \(more than {MAX_SUBQUERY_DEPTH}"):
        parse(nested(MAX_SUBQUERY_DEPTH + 1))


def test_every_stage_walks_the_deepest_tree_allowed():
    # MAX_DEPTH levels: parentheses, then a `+` chain filling what is left
    fields = "(" * (MAX_DEPTH - 2) + "v + 1" + ")" * (MAX_DEPTH - 2)
    where = "(" * (MAX_DEPTH - 4) + "time > 1s + 1s AND v > 1" + ")" * (MAX_DEPTH - 4)
    chain = " + ".join(["v"] * MAX_DEPTH)
    q = f"SELECT {fields}, {chain} FROM m WHERE {where}"
    (statement,) = parse(q)
    assert ast.expr_depth(statement) == MAX_DEPTH
    assert generate(statement) == q
    assert evaluate(statement.fields[0].expr, lambda ref: 1.0) == 2.0
    assert evaluate(statement.fields[1].expr, lambda ref: 1.0) == MAX_DEPTH
    tmin, _, rest = conditions.time_range(statement.condition, 0)
    assert tmin == 2_000_000_001
    assert conditions.eval_condition(rest, {}, {"v": 2.0})
    assert conditions.split_condition(rest, lambda name: False)[1] is not None
    assert ast.rewrite_expr(statement.condition, lambda e: e) is not None
    with pytest.raises(ParseError):
        parse(f"SELECT ({fields}) FROM m")
