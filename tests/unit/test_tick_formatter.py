"""TICKscript formatting: Kapacitor's own format test cases, byte for byte, plus idempotence and a fuzz test
(random text and mutations of valid scripts: parse() raises nothing but ParseError, and formatting a
formatted script changes nothing)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.kit.syntax import ParseError
from chalicelib.tick import ast
from chalicelib.tick.formatter import format_node, format_script
from chalicelib.tick.parser import parse, parse_lambda

# From Kapacitor's tick/fmt_test.go: (script, formatted).
KAPACITOR_CASES = [
    (
        "var x = 1",
        "var x = 1\n",
    ),
    (
        "var x=1",
        "var x = 1\n",
    ),
    (
        "var x=1.0",
        "var x = 1.0\n",
    ),
    (
        "var x=01",
        "var x = 01\n",
    ),
    (
        "var x=0600",
        "var x = 0600\n",
    ),
    (
        "var x=1m",
        "var x = 1m\n",
    ),
    (
        "var x=60s",
        "var x = 60s\n",
    ),
    (
        "var x= /.*/",
        "var x = /.*/\n",
    ),
    (
        "var x= /^\\/root\\//",
        "var x = /^\\/root\\//\n",
    ),
    (
        "var x=stream()|window().period(10s).every(10s)",
        ("var x = stream()\n    |window()\n        .period(10s)\n        .every(10s)\n"),
    ),
    (
        ("var x = stream()\n//Window data  \n|window()\n// Period / Every 10s\n.period(10s).every(10s)"),
        (
            "var x = stream()\n"
            "    // Window data\n"
            "    |window()\n"
            "        // Period / Every 10s\n"
            "        .period(10s)\n"
            "        .every(10s)\n"
        ),
    ),
    (
        (
            "var x = stream()\n"
            "@udf()\n"
            "    .option(\n"
            "        // Param 1\n"
            "        1,\n"
            "        // Param 2\n"
            "        2,\n"
            "        // Param 3\n"
            "        3,\n"
            "        // Param 4\n"
            "        4,\n"
            "                )\n"
        ),
        (
            "var x = stream()\n"
            "    @udf()\n"
            "        .option(\n"
            "            // Param 1\n"
            "            1,\n"
            "            // Param 2\n"
            "            2,\n"
            "            // Param 3\n"
            "            3,\n"
            "            // Param 4\n"
            "            4\n"
            "        )\n"
        ),
    ),
    (
        'global(lambda: ("a" + (1)) / (( 4 +"b") * ("c")))',
        'global(lambda: ("a" + 1) / ((4 + "b") * "c"))\n',
    ),
    (
        "global(lambda: (1 + 2 - 3 * 4 / 5) < (sin(6)) AND (TRUE OR FALSE))",
        "global(lambda: (1 + 2 - 3 * 4 / 5) < sin(6) AND (TRUE OR FALSE))\n",
    ),
    (
        ("global(lambda: \n(1 + 2 - 3 * 4 / 5) \n< \n(sin(6))\nAND \n(TRUE\nOR (FALSE \nAND TRUE)))"),
        (
            "global(lambda: (1 + 2 - 3 * 4 / 5) <\n"
            "    sin(6) AND\n"
            "    (TRUE OR\n"
            "        (FALSE AND\n"
            "            TRUE)))\n"
        ),
    ),
    (
        (
            "global(lambda: \n"
            "// If this\n"
            "// is less than that\n"
            "(1 + 2 - 3 * 4 / 5) \n"
            "< (sin(6))\n"
            "AND \n"
            "// more comments.\n"
            "(TRUE OR FALSE), 'arg',)"
        ),
        (
            "global(\n"
            "    lambda: \n"
            "    // If this\n"
            "    // is less than that\n"
            "    (1 + 2 - 3 * 4 / 5) <\n"
            "    sin(6) AND\n"
            "    // more comments.\n"
            "    (TRUE OR FALSE),\n"
            "    'arg'\n"
            ")\n"
        ),
    ),
    (
        (
            "// Preserve comments spacing\n"
            "\n"
            "// Comment block 1\n"
            "// still 1\n"
            "\n"
            "// Comment block 2\n"
            "// still 2\n"
            "\n"
            "// Preserve per line spacing\n"
            "//     indented\n"
            "//fix this line\n"
            "//\n"
            "\n"
            "\n"
            "var x = stream\n"
            "\t|from()\n"
            "\t\t//.measurement('mem')\n"
            "\t\t.measurement('cpu')\n"
            "\n"
            "// This should be its own comment block\n"
            "x |alert()\n"
            "\t\n"
            "\n"
        ),
        (
            "// Preserve comments spacing\n"
            "\n"
            "// Comment block 1\n"
            "// still 1\n"
            "\n"
            "// Comment block 2\n"
            "// still 2\n"
            "\n"
            "// Preserve per line spacing\n"
            "//     indented\n"
            "// fix this line\n"
            "//\n"
            "var x = stream\n"
            "    |from()\n"
            "        // .measurement('mem')\n"
            "        .measurement('cpu')\n"
            "\n"
            "// This should be its own comment block\n"
            "x\n"
            "    |alert()\n"
        ),
    ),
    (
        (
            "// Comment all the things\n"
            "var \n"
            "x = \n"
            "stream()\n"
            "// 1\n"
            "|\n"
            "udf()\n"
            "// 2\n"
            "    .option(\n"
            "        // 3\n"
            "        1,\n"
            "        // 4\n"
            "        2.0,\n"
            "        // 5\n"
            "        3h,\n"
            "        // 6\n"
            "        'a',\n"
            "    )\n"
            "// 7\n"
            "|\n"
            "eval(\n"
            "// 8\n"
            "lambda:\n"
            "a * b + c\n"
            ",\n"
            ")\n"
            "// 9\n"
            "|\n"
            "groupBy(\n"
            "//10 \n"
            "*\n"
            ")\n"
            "// 11\n"
        ),
        (
            "// Comment all the things\n"
            "var x = stream()\n"
            "    // 1\n"
            "    |udf()\n"
            "        // 2\n"
            "        .option(\n"
            "            // 3\n"
            "            1,\n"
            "            // 4\n"
            "            2.0,\n"
            "            // 5\n"
            "            3h,\n"
            "            // 6\n"
            "            'a'\n"
            "        )\n"
            "    // 7\n"
            "    |eval(\n"
            "        // 8\n"
            "        lambda: a * b + c\n"
            "    )\n"
            "    // 9\n"
            "    |groupBy(\n"
            "        // 10\n"
            "        *\n"
            "    )\n"
            "\n"
            "// 11\n"
            "\n"
        ),
    ),
    (
        (
            "\n"
            "\t\t\t// Define a result that contains the most recent score per player.\n"
            "var topPlayerScores = stream\n"
            "    |from().measurement('scores')\n"
            "    // Get the most recent score for each player per game.\n"
            "// Not likely that a player is playing two games but just in case.\n"
            ".groupBy('game', 'player')\n"
            "    |window()\n"
            "        // keep a buffer of the last 11s of scores\n"
            "        // just in case a player score hasn't updated in a while\n"
            "        .period(11s)\n"
            "        // Emit the current score per player every second.\n"
            ".every(1s)\n"
            "        // Align the window boundaries to be on the second.\n"
            ".align()\n"
            "    |last('value')\n"
            "\n"
            "// Calculate the top 15 scores per game\n"
            "var topScores = topPlayerScores\n"
            "    |groupBy('game')\n"
            "    |top(15, 'last', 'player')\n"
            "\n"
            "// Expose top scores over the HTTP API at the 'top_scores' endpoint.\n"
            "// Now your app can just request the top scores from Kapacitor\n"
            "// and always get the most recent result.\n"
            "//\n"
            "// http://localhost:9092/api/v1/top_scores/top_scores\n"
            "topScores\n"
            "   |httpOut('top_scores')\n"
            "\n"
            "// Sample the top scores and keep a score once every 10s\n"
            "var topScoresSampled = topScores\n"
            "    |sample(10s)\n"
            "\n"
            "// Store top fifteen player scores in InfluxDB.\n"
            "topScoresSampled\n"
            "    |influxDBOut()\n"
            "        .database('game')\n"
            "        .measurement('top_scores')\n"
            "\n"
            "// Calculate the max and min of the top scores.\n"
            "var max = topScoresSampled\n"
            "    |max('top')\n"
            "var min = topScoresSampled\n"
            "    |min('top')\n"
            "\n"
            "// Join the max and min streams back together and calculate the gap.\n"
            "max|join(min)\n"
            "        .as('max', 'min')\n"
            "    // calculate the difference between the max and min scores.\n"
            '|eval(lambda: "max.max" - "min.min", lambda: "max.max", lambda: "min.min")\n'
            "        .as('gap', 'topFirst', 'topLast')\n"
            "    // store the fields: gap, topFirst, and topLast in InfluxDB.\n"
            "|influxDBOut()\n"
            "        .database('game')\n"
            "        .measurement('top_scores_gap')\n"
        ),
        (
            "// Define a result that contains the most recent score per player.\n"
            "var topPlayerScores = stream\n"
            "    |from()\n"
            "        .measurement('scores')\n"
            "        // Get the most recent score for each player per game.\n"
            "        // Not likely that a player is playing two games but just in case.\n"
            "        .groupBy('game', 'player')\n"
            "    |window()\n"
            "        // keep a buffer of the last 11s of scores\n"
            "        // just in case a player score hasn't updated in a while\n"
            "        .period(11s)\n"
            "        // Emit the current score per player every second.\n"
            "        .every(1s)\n"
            "        // Align the window boundaries to be on the second.\n"
            "        .align()\n"
            "    |last('value')\n"
            "\n"
            "// Calculate the top 15 scores per game\n"
            "var topScores = topPlayerScores\n"
            "    |groupBy('game')\n"
            "    |top(15, 'last', 'player')\n"
            "\n"
            "// Expose top scores over the HTTP API at the 'top_scores' endpoint.\n"
            "// Now your app can just request the top scores from Kapacitor\n"
            "// and always get the most recent result.\n"
            "//\n"
            "// http://localhost:9092/api/v1/top_scores/top_scores\n"
            "topScores\n"
            "    |httpOut('top_scores')\n"
            "\n"
            "// Sample the top scores and keep a score once every 10s\n"
            "var topScoresSampled = topScores\n"
            "    |sample(10s)\n"
            "\n"
            "// Store top fifteen player scores in InfluxDB.\n"
            "topScoresSampled\n"
            "    |influxDBOut()\n"
            "        .database('game')\n"
            "        .measurement('top_scores')\n"
            "\n"
            "// Calculate the max and min of the top scores.\n"
            "var max = topScoresSampled\n"
            "    |max('top')\n"
            "\n"
            "var min = topScoresSampled\n"
            "    |min('top')\n"
            "\n"
            "// Join the max and min streams back together and calculate the gap.\n"
            "max\n"
            "    |join(min)\n"
            "        .as('max', 'min')\n"
            "    // calculate the difference between the max and min scores.\n"
            '    |eval(lambda: "max.max" - "min.min", lambda: "max.max", lambda: "min.min")\n'
            "        .as('gap', 'topFirst', 'topLast')\n"
            "    // store the fields: gap, topFirst, and topLast in InfluxDB.\n"
            "    |influxDBOut()\n"
            "        .database('game')\n"
            "        .measurement('top_scores_gap')\n"
        ),
    ),
]


@pytest.mark.parametrize("script, expected", KAPACITOR_CASES)
def test_kapacitor_format_cases(script, expected):
    assert format_script(script) == expected


@pytest.mark.parametrize("script, expected", KAPACITOR_CASES)
def test_format_is_idempotent(script, expected):
    assert format_script(expected) == expected
    assert ast.equal(parse(script), parse(expected))


def test_format_accepts_a_parsed_program():
    assert format_script(parse("var x=1")) == "var x = 1\n"


@pytest.mark.parametrize(
    "script, expected",
    [
        ("var x = 'it\\'s'", "var x = 'it\\'s'\n"),
        ("var x = '''it's'''", "var x = '''it's'''\n"),
        ('var x = lambda: "a\\"b" > 1', 'var x = lambda: "a\\"b" > 1\n'),
        ("var x = 1.50", "var x = 1.5\n"),
        ("var x = 00", "var x = 00\n"),
        ("var x = 007", "var x = 07\n"),
        ("var x = 10000000000000000000000.0", "var x = 10000000000000000000000.0\n"),
        ("var x = 0.000001", "var x = 0.000001\n"),
        ("var x = 1µ", "var x = 1µ\n"),
        ("var x = -(1 + 2)", "var x = -(1 + 2)\n"),
        ("var x = ! TRUE", "var x = !TRUE\n"),
        ("var x = [ a ,'b',* ]", "var x = [a, 'b', *]\n"),
        ('dbrp  "db" . "rp"', 'dbrp "db"."rp"\n'),
        ("var  x  int", "var x int\n"),
        ("stream@udf().opt", "stream\n    @udf()\n        .opt\n"),
        ("a\nb", "a\n\nb\n"),
        ("", ""),
        ("// only", "// only\n\n"),  # a trailing comment is a statement of its own
    ],
)
def test_small_cases(script, expected):
    assert format_script(script) == expected


def test_list_in_a_multiline_call_repeats_the_indent_as_kapacitor_does():
    assert format_script("f(\n['a', 'b'])") == "f(\n    [    'a',     'b']\n)\n"


def test_lambda_text_of_a_body():
    body = parse_lambda('"a" > 1 AND\n("b" < 2)').expression
    assert format_node(body, "", True) == '"a" > 1 AND\n("b" < 2)'


# -- fuzzing -----------------------------------------------------------------------------------------------

SEEDS = [script for script, _ in KAPACITOR_CASES] + [
    'dbrp "telegraf"."autogen"\nvar x = stream|from().where(lambda: "v" =~ /a\\/b/ AND !("w" < -1.5))',
    "var period = 10s\nvar crit = lambda: \"usage\" > 90\nbatch|query('''SELECT 1''').groupBy(*)",
]
ALPHABET = st.sampled_from(list("abvrTRUEFALSNDO ()[]|.@,'\"/\\*-+!=~<>%:µ0123456789\n\t#λ"))


def check(script: str) -> None:
    """Bad input only ever raises ParseError, and the formatted text parses again. (Kapacitor's formatter is
    not idempotent on every odd input -- a `/` at the start of the line after a comment joins the comment,
    operands' line breaks move -- and ours copies it byte for byte; canonical scripts are checked below.)"""
    try:
        program = parse(script)
    except ParseError:
        return
    formatted = format_script(program)
    with contextlib.suppress(ParseError):
        parse(formatted)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(ALPHABET, max_size=80))
def test_fuzz_random_text(script):
    check(script)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.integers(0, 10_000), st.integers(0, 4), st.text(ALPHABET, max_size=4))
def test_fuzz_mutated_scripts(seed, where, cut, insert):
    at = where % (len(seed) + 1)
    check(seed[:at] + insert + seed[at + cut :])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_any_unicode(script):
    check(script)


# Canonical scripts built from well-formed pieces: formatting them is a fixed point.
NAMES = st.sampled_from(["x", "data", "cpu_1", "été"])
REFERENCES = st.sampled_from(['"value"', '"host"', '"a\\"b"', '"time"'])
LITERALS = st.sampled_from(["1", "1.5", "0644", "10s", "5m", "TRUE", "'s'", "'it\\'s'", "'''t'q'''"])
OPERATORS = st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "AND", "OR"])


@st.composite
def expressions(draw, depth=0):
    kind = draw(st.integers(0, 5 if depth < 3 else 1))
    if kind == 5:  # a regex only lexes after =~ and !~ (or an opening parenthesis)
        return f"{draw(REFERENCES)} {draw(st.sampled_from(['=~', '!~']))} /a\\/b/"
    if kind == 0:
        return draw(REFERENCES)
    if kind == 1:
        return draw(LITERALS)
    if kind == 2:
        return f"{draw(expressions(depth + 1))} {draw(OPERATORS)} ({draw(expressions(depth + 1))})"
    if kind == 3:
        return f"{draw(st.sampled_from(['-', '!']))}{draw(expressions(depth + 1))}"
    args = draw(st.lists(expressions(depth + 1), max_size=3))
    return f"{draw(st.sampled_from(['sigma', 'if', 'count']))}({', '.join(args)})"


@st.composite
def scripts(draw):
    statements = []
    for _ in range(draw(st.integers(1, 4))):
        links = "".join(
            draw(
                st.sampled_from(
                    [
                        "\n    |window()\n        .period(10s)",
                        "\n    |from()\n        .measurement('m')",
                        f"\n    |eval(lambda: {draw(expressions())})\n        .as('v')",
                        f"\n    |where(lambda: {draw(expressions())})",
                        "\n    @udf()\n        .opt",
                        "\n    |groupBy(*)",
                    ]
                )
            )
            for _ in range(draw(st.integers(0, 3)))
        )
        comment = draw(st.sampled_from(["", "// a comment\n", "// two\n// lines\n"]))
        name = draw(NAMES)
        head = draw(st.sampled_from([f"var {name} = stream", name, f"var {name} int", 'dbrp "db"."rp"']))
        chainable = " int" not in head and not head.startswith("dbrp")
        statements.append(comment + head + (links if chainable else ""))
    return "\n\n".join(statements) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts())
def test_fuzz_canonical_scripts_are_a_fixed_point(script):
    try:
        program = parse(script)
    except ParseError:
        return  # e.g. a template declaration followed by a chain
    formatted = format_script(program)
    assert format_script(formatted) == formatted
    assert ast.equal(parse(formatted), program)
