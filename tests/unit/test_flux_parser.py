"""The Flux tokenizer and parser: the tree for the syntax Grafana, the UI and the client libraries send,
its JSON form, and positioned syntax errors."""

# ruff: noqa: E501 -- Flux queries read best on one line
from __future__ import annotations

import pytest

from chalicelib.flux import ast
from chalicelib.flux.parser import parse
from chalicelib.flux.tokens import DURATION, FLOAT, INT, REGEX, STRING, TIME, tokenize
from chalicelib.kit.syntax import ParseError


def expr(source: str) -> ast.Node:
    statement = parse(source).body[0]
    assert isinstance(statement, ast.ExpressionStatement)
    return statement.expression


def test_tokens_literals_and_regex_versus_division():
    kinds = [(t.kind, t.value) for t in tokenize('1 2.5 1h30m 2020-01-01T00:00:00Z "s" =~ /a\\/b/')][:-1]
    assert kinds == [
        (INT, 1),
        (FLOAT, 2.5),
        (DURATION, [(1, "h"), (30, "m")]),
        (TIME, "2020-01-01T00:00:00Z"),
        (STRING, ["s"]),
        ("OP", "=~"),
        (REGEX, "a/b"),
    ]
    assert [t.text for t in tokenize("a / 2")][:3] == ["a", "/", "2"]


def test_comments_and_string_escapes():
    node = expr('// a comment\n"a\\"b\\n\\\\" // trailing')
    assert isinstance(node, ast.StringLiteral)
    assert node.value == 'a"b\n\\'


def test_pipeline_with_lambda_and_precedence():
    node = expr(
        'from(bucket: "b") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "cpu" and r.x > 1 or not r.y)'
    )
    assert isinstance(node, ast.PipeExpression)
    assert node.call.callee.name == "filter"
    fn = node.call.arguments[0].properties[0].value
    assert isinstance(fn, ast.FunctionExpression)
    body = fn.body
    assert isinstance(body, ast.LogicalExpression) and body.operator == "or"
    assert isinstance(body.left, ast.LogicalExpression) and body.left.operator == "and"
    assert isinstance(body.right, ast.UnaryExpression) and body.right.operator == "not"
    start = node.argument.call.arguments[0].properties[0].value
    assert isinstance(start, ast.UnaryExpression) and start.operator == "-"
    assert isinstance(start.argument, ast.DurationLiteral)


def test_arithmetic_precedence():
    node = expr("1 + 2 * 3 ^ 2 - 4 / 2")
    assert isinstance(node, ast.BinaryExpression) and node.operator == "-"
    left = node.left
    assert left.operator == "+" and left.right.operator == "*" and left.right.right.operator == "^"


def test_records_with_arrays_index_member_and_conditionals():
    node = expr('({r with a: if r._value > 1 then "hi" else "lo", "b c": [1, 2][0], d: r["e"]})')
    assert isinstance(node, ast.ObjectExpression)
    assert node.with_.name == "r"
    keys = [p.key.name if isinstance(p.key, ast.Identifier) else p.key.value for p in node.properties]
    assert keys == ["a", "b c", "d"]
    assert isinstance(node.properties[0].value, ast.ConditionalExpression)
    assert isinstance(node.properties[1].value, ast.IndexExpression)
    assert isinstance(node.properties[2].value, ast.MemberExpression)


def test_statements_options_imports_functions_and_blocks():
    file = parse(
        'package main\nimport "strings"\nimport s "influxdata/influxdb/schema"\n'
        "option now = () => 2020-01-01T00:00:00Z\noption v.x = 1\n"
        "f = (tables=<-, n=2) => {\n  m = n * 2\n  return tables |> limit(n: m)\n}\n"
        "g = (r) => ({a: r.a})\n"
    )
    assert file.package.name.name == "main"
    assert [i.path.value for i in file.imports] == ["strings", "influxdata/influxdb/schema"]
    assert file.imports[1].as_.name == "s"
    option, member_option, f, g = file.body
    assert isinstance(option, ast.OptionStatement) and option.assignment.id.name == "now"
    assert isinstance(member_option.assignment, ast.MemberAssignment)
    assert isinstance(f.init.params[0].value, ast.PipeLiteral)
    assert isinstance(f.init.body, ast.Block)
    assert isinstance(f.init.body.body[1], ast.ReturnStatement)
    assert isinstance(g.init.body, ast.ObjectExpression)


def test_string_interpolation():
    node = expr('"host ${r.host}: ${1 + 2}"')
    assert isinstance(node, ast.StringExpression)
    assert isinstance(node.parts[0], ast.TextPart) and node.parts[0].value == "host "
    assert isinstance(node.parts[1], ast.InterpolatedPart)


@pytest.mark.parametrize(
    ("source", "line", "column", "message"),
    [
        ('from(: "iot_center")', 1, 6, "missing property key"),
        ("a = (1 + 2", 1, 11, "expected ), got EOF"),
        ('x = "unterminated', 1, 5, "unterminated string literal"),
        ("a |> 3", 1, 6, "pipe destination must be a function call"),
        ("\n  a = #", 2, 7, "invalid character '#'"),
    ],
)
def test_syntax_errors_carry_positions(source, line, column, message):
    with pytest.raises(ParseError) as info:
        parse(source)
    position = info.value.position
    assert (position.line, position.column, info.value.reason) == (line, column, message)
    assert info.value.message == f"error @{line}:{column}-{line}:{column}: {message}"
    assert info.value.code == "invalid"


def test_ast_json_matches_flux_shapes():
    source = 'from(bucket: "b") |> range(start: -5m)'
    tree = ast.to_json(parse(source), ast.Locator(source))
    statement = tree["body"][0]
    assert tree["type"] == "File" and tree["imports"] is None and tree["package"] is None
    pipe = statement["expression"]
    assert pipe["type"] == "PipeExpression"
    assert pipe["location"] == {
        "end": {"column": 39, "line": 1},
        "source": source,
        "start": {"column": 1, "line": 1},
    }
    call = pipe["argument"]
    assert call["callee"]["name"] == "from"
    prop = call["arguments"][0]["properties"][0]
    assert prop["key"]["name"] == "bucket" and prop["value"] == {
        "type": "StringLiteral",
        "location": {"end": {"column": 17, "line": 1}, "source": '"b"', "start": {"column": 14, "line": 1}},
        "value": "b",
    }
    start = pipe["call"]["arguments"][0]["properties"][0]["value"]
    assert start["operator"] == "-"
    assert start["argument"]["values"] == [{"magnitude": 5, "unit": "m"}]


def test_extern_json_round_trip():
    extern = {
        "type": "File",
        "package": None,
        "imports": [{"type": "ImportDeclaration", "path": {"type": "StringLiteral", "value": "profiler"}}],
        "body": [
            {
                "type": "OptionStatement",
                "assignment": {
                    "type": "VariableAssignment",
                    "id": {"type": "Identifier", "name": "n"},
                    "init": {"type": "IntegerLiteral", "value": "10"},
                },
            }
        ],
    }
    file = ast.from_json(extern)
    assert isinstance(file, ast.File)
    assert file.imports[0].path.value == "profiler"
    assert file.body[0].assignment.init.value == 10
    assert ast.to_json(file)["body"][0]["assignment"]["init"] == {"type": "IntegerLiteral", "value": "10"}
