"""Lambda evaluation as Kapacitor's stateful evaluator does it: types, operators, errors, built-in functions
(cases from tick/stateful/*_test.go) and the state of count/sigma/spread across invocations."""

from __future__ import annotations

import json
import math
import re

import pytest

from chalicelib.kit.syntax import ParseError
from chalicelib.tick import ast
from chalicelib.tick.functions import FUNCTIONS, CallError, Time
from chalicelib.tick.lambdas import MISSING, EvalError, Scope, compile_lambda, resolve_identifiers
from chalicelib.tick.parser import parse, parse_lambda
from chalicelib.tick.values import Duration, Lambda, Regex

SECOND = 1_000_000_000


def evaluate(text: str, **fields):
    return compile_lambda(text).evaluate(Scope(fields=fields))


def error_of(text: str, scope: Scope | None = None, *, as_bool: bool = False) -> str:
    with pytest.raises(EvalError) as caught:
        expression = compile_lambda(text)
        if as_bool:
            expression.evaluate_bool(scope or Scope())
        else:
            expression.evaluate(scope or Scope())
    return caught.value.message


# -- values and operators -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, fields, expected",
    [
        ('"value" > 10', {"value": 11}, True),
        ('"value" > 10', {"value": 10.5}, True),  # int and float compare
        ('"value" >= 10.0', {"value": 10}, True),
        ('"value" == 10', {"value": 10.0}, True),
        ('"value" != 10.5', {"value": 10}, True),
        ('"host" == \'a\' AND "value" < 3', {"host": "a", "value": 2}, True),
        ("\"host\" < 'b'", {"host": "a"}, True),
        ('"host" =~ /^ser.*/', {"host": "server01"}, True),
        ('"host" !~ /^ser.*/', {"host": "server01"}, False),
        ('"a" + "b"', {"a": "x", "b": "y"}, "xy"),
        ('"a" + 1', {"a": 9223372036854775807}, -9223372036854775808),  # int64 wraps
        ('"a" / 2', {"a": -7}, -3),  # Go truncates toward zero
        ('"a" % 3', {"a": -7}, -1),
        ('"a" / 2.0', {"a": 7.0}, 3.5),
        ('"a" / 0.0', {"a": 1.0}, math.inf),
        ('-"a"', {"a": 2.5}, -2.5),
        ('!"b"', {"b": False}, True),
        ('-"b"', {"b": True}, False),  # Kapacitor negates a boolean for `-` too
        ("1 + 2 * 3 - 4 / 2", {}, 5),
        ("(1 + 2) * 3", {}, 9),
        ("10s + 5s", {}, Duration(15 * SECOND)),
        ("10s * 2", {}, Duration(20 * SECOND)),
        ("2 * 10s", {}, Duration(20 * SECOND)),
        ("10s * 1.5", {}, Duration(15 * SECOND)),
        ("10s / 4", {}, Duration(2500 * 10**6)),
        ("10s / 2.0", {}, Duration(5 * SECOND)),
        ("10s / 3s", {}, 3),
        ("-5m", {}, Duration(-300 * SECOND)),
        ("10s > 5s", {}, True),
        ("TRUE OR FALSE", {}, True),
        ("TRUE == FALSE", {}, False),
        ("'left' + 'right'", {}, "leftright"),
    ],
)
def test_values(text, fields, expected):
    assert evaluate(text, **fields) == expected


def test_and_or_short_circuit():
    assert evaluate('FALSE AND "missing" > 1') is False
    assert evaluate('TRUE OR "missing" > 1') is True


def test_time_reference_and_time_functions():
    scope = Scope(time=1_700_000_000 * SECOND + 5)  # 2023-11-14T22:13:20Z, a Tuesday
    parts = "[minute, hour, day, month, year, weekday, unixNano]"
    values = [
        compile_lambda(f'{name}("time")').evaluate(scope)
        for name in ("minute", "hour", "day", "month", "year", "weekday", "unixNano")
    ]
    assert values == [13, 22, 14, 11, 2023, 2, 1_700_000_000 * SECOND + 5], parts


# -- errors, worded as Kapacitor words them -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, fields, message",
    [
        ('"value" > 10', {}, 'left reference value "value" is missing value'),
        ('10 < "value"', {}, 'right reference value "value" is missing value'),
        ('"value" + 1', {}, "invalid math operator + for type missing"),
        ('"value"', {}, 'missing value: "value"'),
        (
            '"a" + 1.0',
            {"a": 1},
            "mismatched type to binary operator. got int + float. see bool(), int(), "
            "float(), string(), duration()",
        ),
        (
            '"a" > 1',
            {"a": "s"},
            "mismatched type to binary operator. got string > int. see bool(), int(), "
            "float(), string(), duration()",
        ),
        ('"a" AND TRUE', {"a": 1}, "invalid logical operator AND for type int"),
        ('"d" OR "d"', {"d": Duration(5)}, "invalid logical operator OR for type duration"),
        ('"d" % "d"', {"d": Duration(5)}, "invalid math operator % for type duration"),
        (
            '"d" * "d"',
            {"d": Duration(5)},
            "mismatched type to binary operator. got duration * duration. see "
            "bool(), int(), float(), string(), duration()",
        ),
        ('"f" % 1.5', {"f": 1.5}, "invalid math operator % for type float"),
        ("\"a\" == 'yo'", {"a": {1, 2, 3}}, "left value is invalid value type"),
        ("'yo' == \"a\"", {"a": {1, 2, 3}}, "right value is invalid value type"),
        ("\"a\" == 'yo'", {"a": None}, 'referenced value "a" is nil.'),
        ('!"a"', {"a": 1}, "TypeGuard: expression returned unexpected type int, expected boolean"),
        ('!"a"', {}, 'reference "a" is missing value'),
        ('"a" / 0', {"a": 1}, "runtime error: integer divide by zero"),
        ("/abc/", {}, "expression returned unexpected type regex"),
        ('undefinedFunc("a")', {"a": 1}, 'undefined function: "undefinedFunc"'),
        (
            'sigma("a")',
            {"a": "s"},
            'Cannot call function "sigma" with args ("a": string), available signatures are [(float)].',
        ),
        ('abs("x")', {"k": 1}, 'Cannot call function "abs" argument "x" is missing, values in scope are []'),
        (
            'float("s")',
            {"s": "asdf"},
            'error calling "float": strconv.ParseFloat: parsing "asdf": invalid syntax',
        ),
        ('int("s")', {"s": "2.5"}, 'error calling "int": strconv.ParseInt: parsing "2.5": invalid syntax'),
        (
            'bool("s")',
            {"s": "asdf"},
            'error calling "bool": strconv.ParseBool: parsing "asdf": invalid syntax',
        ),
        ('duration("s", 1s)', {"s": "2.5h"}, 'error calling "duration": invalid duration string "2.5h"'),
        (
            "duration('5m')",
            {},
            'Cannot call function "duration" with args (5m: string), available signatures '
            "are [(duration), (int,duration), (float,duration), (string,duration)].",
        ),
        ("f(1, 2, 3, 4, 5)", {}, 'undefined function: "f"'),
        ("abs(1, 2, 3, 4, 5)", {}, "runtime error: index out of range [4] with length 4"),
    ],
)
def test_errors(text, fields, message):
    assert error_of(text, Scope(fields=fields)) == message


def test_missing_arguments_list_the_others_in_scope():
    message = error_of('pow("x", "y") + "z"', Scope(fields={"z": 1.0}))
    assert message == 'Cannot call function "pow" arguments "x", "y" are missing, values in scope are ["z"]'


def test_evaluate_bool_of_a_math_expression():
    assert error_of("5.0 + 10.0", as_bool=True) == "expression returned unexpected type float64"


def test_evaluate_bool_of_a_value_that_is_no_type():
    message = error_of('"value"', Scope(fields={"value": {1, 2, 3}}), as_bool=True)
    assert message == "TypeGuard: expression returned unexpected type invalid type, expected boolean"


def test_evaluate_bool():
    expression = compile_lambda('"boolValue"')
    assert expression.evaluate_bool(Scope(fields={"boolValue": True})) is True
    assert expression.evaluate_bool(Scope(fields={"boolValue": False})) is False


def test_field_and_tag_with_the_same_name():
    scope = Scope(fields={"host": "a"}, tags={"host": "b"})
    assert error_of("\"host\" == 'a'", scope) == 'cannot have field and tags with same name "host"'


def test_compile_time_errors():
    with pytest.raises(EvalError, match=re.escape("mismatched type to binary operator. got int + float.")):
        compile_lambda("1 + 1.0")
    with pytest.raises(EvalError) as caught:
        compile_lambda("(1 + 1.0) > 2")
    assert caught.value.message.startswith("Failed to handle left node: mismatched type to binary operator.")
    with pytest.raises(EvalError) as caught:
        compile_lambda("abs(*)")
    assert (
        caught.value.message
        == "Failed to handle 1 argument: Given node type is not valid evaluation node: *ast.StarNode"
    )


def test_lambda_text_is_parsed_with_parser_errors():
    with pytest.raises(ParseError):
        compile_lambda('"a" > ')


# -- identifiers: script variables --------------------------------------------------------------------------


def test_identifiers_resolve_to_script_variables():
    program = parse('var t = 42\nstream|where(lambda: "value" > t)')
    lam = program.nodes[1].right.args[0]
    expression = compile_lambda(lam, {"t": 42})
    assert expression.evaluate(Scope(fields={"value": 43})) is True
    assert expression.text == '"value" > 42'


def test_identifiers_can_come_from_the_scope():
    expression = compile_lambda('"value" > t')
    assert expression.evaluate(Scope(fields={"value": 43}, vars={"t": 50})) is False
    assert error_of('"value" > t', Scope(fields={"value": 1})) == 'name "t" is undefined. Names in scope: '


def test_resolving_an_undefined_identifier():
    with pytest.raises(EvalError, match=re.escape('name "x" is undefined. Names in scope: a,b')):
        resolve_identifiers(parse_lambda("x + 1").expression, {"a": 1, "b": 2})


def test_resolved_values_of_every_kind():
    node = resolve_identifiers(
        parse_lambda('if(b, s, s2) == s AND d > 1s AND r == r AND "x" =~ re').expression,
        {"b": True, "s": "a", "s2": "b", "d": Duration(2 * SECOND), "r": 1.5, "re": Regex.of("^x")},
    )
    assert compile_lambda(node).evaluate(Scope(fields={"x": "xy"})) is True


def test_values_lambda_is_accepted():
    value = Lambda(parse_lambda('"a" * 2').expression, '"a" * 2')
    assert compile_lambda(value).evaluate(Scope(fields={"a": 4})) == 8


def test_references():
    expression = compile_lambda('"a" > 1 AND sigma("b") < 2 OR "a" == "c"')
    assert expression.references() == {"a", "b", "c"}


# -- stateful functions -------------------------------------------------------------------------------------


def test_sigma_keeps_its_state():
    expression = compile_lambda('sigma("value")')
    assert expression.evaluate(Scope(fields={"value": 97.1})) == 0.0
    assert expression.evaluate(Scope(fields={"value": 92.6})) == 0.7071067811865476


def test_count_is_shared_by_name_within_an_expression():
    expression = compile_lambda("count() + count()")
    assert expression.evaluate(Scope()) == 3
    assert expression.evaluate(Scope()) == 7


def test_state_survives_a_round_trip_through_json():
    expression = compile_lambda('sigma("v") + spread("v") + float(count())')
    for value in (1.0, 5.0, 3.0):
        expression.evaluate(Scope(fields={"v": value}))
    state = json.loads(json.dumps(expression.to_state(), allow_nan=False))
    restored = compile_lambda('sigma("v") + spread("v") + float(count())')
    restored.from_state(state)
    assert restored.evaluate(Scope(fields={"v": 10.0})) == expression.evaluate(Scope(fields={"v": 10.0}))
    expression.reset()
    assert expression.to_state() == {}


def test_spread():
    expression = compile_lambda('spread("v")')
    assert [expression.evaluate(Scope(fields={"v": v})) for v in (5.0, 2.0, 9.0)] == [0.0, 3.0, 7.0]


def test_is_present():
    expression = compile_lambda('isPresent("v")')
    assert expression.evaluate(Scope(fields={"v": 1})) is True
    assert expression.evaluate(Scope()) is False
    assert MISSING is MISSING


def test_if_function():
    assert evaluate("if(\"v\" > 1, 'big', 'small')", v=3) == "big"
    assert evaluate("if(\"v\" > 1, 'big', 'small')", v=0) == "small"


# -- built-in functions called directly (Kapacitor's functions_test.go) -------------------------------------


def call(name, *args):
    return FUNCTIONS[name].call(*args)


@pytest.mark.parametrize(
    "name, args, expected",
    [
        ("strContains", ("aabbc", "bc"), True),
        ("strContains", ("aabbc", "bx"), False),
        ("strContainsAny", ("aabbc", "bx"), True),
        ("strContainsAny", ("aabbc", "xy"), False),
        ("strCount", ("aababc", "a"), 3),
        ("strCount", ("aabbc", "x"), 0),
        ("strHasPrefix", ("aababc", "aab"), True),
        ("strHasPrefix", ("aabbc", "aax"), False),
        ("strHasSuffix", ("aababc", "bc"), True),
        ("strHasSuffix", ("aabbc", "xbc"), False),
        ("strIndex", ("aababc", "ba"), 2),
        ("strIndex", ("aabbc", "xbc"), -1),
        ("strIndex", ("héllo", "l"), 3),  # Go counts bytes
        ("strIndexAny", ("aababc", "bax"), 0),
        ("strIndexAny", ("aabbc", "xy"), -1),
        ("strLastIndex", ("aababa", "ba"), 4),
        ("strLastIndex", ("aabbc", "xbc"), -1),
        ("strLastIndexAny", ("aababc", "bax"), 4),
        ("strLastIndexAny", ("aabbc", "xy"), -1),
        ("strLength", ("",), 0),
        ("strLength", ("abxyzc",), 6),
        ("strLength", ("é",), 2),
        ("strReplace", ("abxyzc", "xyz", "", 1), "abc"),
        ("strReplace", ("abxaza", "a", "z", -1), "zbxzzz"),
        ("strSubstring", ("abcdefg", 1, 5), "bcde"),
        ("strToLower", ("ABC",), "abc"),
        ("strToUpper", ("abc",), "ABC"),
        ("strTrim", ("aabbaa", "a"), "bb"),
        ("strTrimLeft", ("aabbaa", "a"), "bbaa"),
        ("strTrimPrefix", ("aabbaa", "a"), "abbaa"),
        ("strTrimRight", ("aabbaa", "a"), "aabb"),
        ("strTrimSuffix", ("aabbaa", "a"), "aabba"),
        ("strTrimSpace", (" \t a b \n",), "a b"),
        ("regexReplace", (re.compile("a(x*)b"), "-ab-axxb-", "T"), "-T-T-"),
        ("regexReplace", (re.compile("a(x*)b"), "-ab-axxb-", "$1"), "--xx-"),
        ("regexReplace", (re.compile("a(x*)b"), "-ab-axxb-", "$1W"), "---"),
        ("regexReplace", (re.compile("a(x*)b"), "-ab-axxb-", "${1}W"), "-W-xxW-"),
        ("regexReplace", (re.compile("a(?P<middle>x*)b"), "-ab-axxb-", "${middle}W"), "-W-xxW-"),
        ("regexReplace", (re.compile("x*"), "abxd", "-"), "-a-b-d-"),
        ("bool", ("true",), True),
        ("bool", ("0",), False),
        ("bool", (1,), True),
        ("bool", (0.0,), False),
        ("int", (2.9,), 2),
        ("int", (-2.9,), -2),
        ("int", (True,), 1),
        ("int", ("-12",), -12),
        ("float", (3,), 3.0),
        ("float", ("1e3",), 1000.0),
        ("string", (1.5,), "1.5"),
        ("string", (10.0,), "10"),
        ("string", (True,), "true"),
        ("string", (Duration(90 * SECOND),), "90s"),
        ("string", (Duration(2 * 3600 * SECOND),), "2h"),
        ("string", (Duration(1500),), "1500ns"),
        ("duration", (1, Duration(SECOND)), Duration(SECOND)),
        ("duration", (2.9999, Duration(10**6)), Duration(int(2.9999 * 10**6))),
        ("duration", ("1m", Duration(SECOND)), Duration(60 * SECOND)),
        ("duration", (Duration(15),), Duration(15)),
        ("if", (True, 1, 2), 1),
        ("if", (False, 1, 2), 2),
        ("humanBytes", (82854982,), "83 MB"),
        ("humanBytes", (5.0,), "5 B"),
        ("humanBytes", (1500,), "1.5 kB"),
        ("abs", (-2.5,), 2.5),
        ("sqrt", (-1.0,), math.nan),
        ("log", (0.0,), -math.inf),
        ("pow", (2.0, 10.0), 1024.0),
        ("pow", (0.0, -1.0), math.inf),
        ("max", (1.0, math.nan), math.nan),
        ("min", (-0.0, 0.0), -0.0),
        ("mod", (7.0, 0.0), math.nan),
        ("pow10", (3,), 1000.0),
        ("pow10", (400,), math.inf),
        ("logb", (8.0,), 3.0),
        ("exp", (1000.0,), math.inf),
        ("gamma", (5.0,), 24.0),
        ("floor", (-1.5,), -2.0),
        ("trunc", (-1.5,), -1.0),
        ("j0", (0.0,), 1.0),
        ("jn", (1, 0.0), 0.0),
        ("isPresent", (MISSING,), False),
        ("isPresent", (1,), True),
        ("minute", (Time(61 * SECOND),), 1),
    ],
)
def test_functions(name, args, expected):
    result = call(name, *args)
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(result)
    else:
        assert result == expected
        assert type(result) is type(expected)


def test_bessel_functions_are_close_to_gos():
    assert call("j0", 2.5) == pytest.approx(-0.048383776468197996, abs=1e-14)
    assert call("j1", 1.0) == pytest.approx(0.44005058574493355, abs=1e-14)
    assert call("y0", 1.0) == pytest.approx(0.08825696421567697, abs=1e-6)


@pytest.mark.parametrize(
    "name, args, message",
    [
        ("strContains", ("",), "strContains expects exactly two arguments"),
        ("strLength", (), "strLength expects exactly one argument"),
        ("strLength", (1,), "cannot pass int64 as first arg to strLength, must be string"),
        ("strReplace", ("", "", ""), "strReplace expects exactly four arguments"),
        ("strSubstring", ("",), "strSubstring expects exactly three arguments"),
        ("strSubstring", ("abcdefg", 0, 10), "stop index too large for string in strSubstring: 10"),
        ("strSubstring", ("abcdefg", -1, 3), "found negative index for strSubstring: -1"),
        ("strSubstring", ("abcdefg", 0, -3), "found negative index for strSubstring: -3"),
        ("strToLower", ("", "", ""), "strToLower expects exactly one argument"),
        ("regexReplace", ("",), "regexReplace expects exactly three arguments"),
        ("bool", ("asdf",), 'strconv.ParseBool: parsing "asdf": invalid syntax'),
        ("bool", (5,), "cannot convert 5 to boolean"),
        ("bool", (2.5,), "cannot convert 2.5 to boolean"),
        ("int", ("2.5",), 'strconv.ParseInt: parsing "2.5": invalid syntax'),
        (
            "int",
            ("99999999999999999999",),
            'strconv.ParseInt: parsing "99999999999999999999": value out of range',
        ),
        ("float", ("asdf",), 'strconv.ParseFloat: parsing "asdf": invalid syntax'),
        ("float", (Duration(1),), "cannot convert time.Duration to float"),
        ("duration", (True,), "cannot convert bool to duration"),
        ("duration", ("2.5h", Duration(1)), 'invalid duration string "2.5h"'),
        ("duration", (1,), "duration expects unit argument for int and float values"),
        ("duration", (1.0,), "duration expects unit argument for int and float values"),
        (
            "duration",
            (),
            "duration expects one or two arguments duration(value, unit) where unit is optional depending on "
            "the type of value.",
        ),
        ("if", (True,), "if expects exactly three arguments"),
        ("if", (12, 6, False), "first argument to if must be a condition with type of bool - got int64"),
        (
            "if",
            (False, 1, "1"),
            "Different return types are not supported - second argument is int64 and third "
            "argument is string",
        ),
        ("abs", (1,), "cannot pass int64 to abs, must be float64"),
        ("humanBytes", ("x",), "cannot convert string to humanBytes"),
        ("minute", (1,), "cannot convert int64 to time.Time"),
        ("now", (1,), "now expects exactly zero argument"),
    ],
)
def test_function_errors(name, args, message):
    with pytest.raises(CallError) as caught:
        call(name, *args)
    assert str(caught.value) == message


def test_sigma_rejects_non_floats():
    with pytest.raises(CallError, match=r"^value is not a float$"):
        FUNCTIONS["sigma"].call({}, 1)


def test_every_kapacitor_builtin_is_known():
    names = [
        "bool",
        "int",
        "float",
        "string",
        "duration",
        "abs",
        "acos",
        "acosh",
        "asin",
        "asinh",
        "atan",
        "atan2",
        "atanh",
        "cbrt",
        "ceil",
        "cos",
        "cosh",
        "erf",
        "erfc",
        "exp",
        "exp2",
        "expm1",
        "floor",
        "gamma",
        "hypot",
        "j0",
        "j1",
        "jn",
        "log",
        "log10",
        "log1p",
        "log2",
        "logb",
        "max",
        "min",
        "mod",
        "pow",
        "pow10",
        "sin",
        "sinh",
        "sqrt",
        "tan",
        "tanh",
        "trunc",
        "y0",
        "y1",
        "yn",
        "strContains",
        "strContainsAny",
        "strCount",
        "strHasPrefix",
        "strHasSuffix",
        "strIndex",
        "strIndexAny",
        "strLastIndex",
        "strLastIndexAny",
        "strLength",
        "strReplace",
        "strSubstring",
        "strToLower",
        "strToUpper",
        "strTrim",
        "strTrimLeft",
        "strTrimPrefix",
        "strTrimRight",
        "strTrimSpace",
        "strTrimSuffix",
        "regexReplace",
        "isPresent",
        "unixNano",
        "minute",
        "hour",
        "weekday",
        "day",
        "month",
        "year",
        "now",
        "humanBytes",
        "if",
        "sigma",
        "count",
        "spread",
        "rand",
    ]
    assert set(names) <= set(FUNCTIONS)


def test_lambda_node_in_expression_tree():
    node = parse_lambda('"a" > 1')
    assert isinstance(node, ast.LambdaNode)
    assert compile_lambda(node).evaluate(Scope(fields={"a": 2})) is True
