"""The runtime's fast paths answer exactly what the general ones answer: numeric fast checks where the
evaluator compares an int with a float (where() and alert level lambdas), and the fast form of alert
templates made of text and `{{ .Field }}` actions against kit/gotemplate."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib.alert.events import Level
from chalicelib.alert.messages import (
    AlertTemplates,
    ServerInfo,
    id_info,
    message_info,
    render_id,
    render_message_and_details,
)
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.gotemplate.limits import MAX_OUTPUT
from chalicelib.kit.points import UInt
from chalicelib.kit.time import SECOND
from chalicelib.tick.evaluate import evaluate
from chalicelib.tick.exec import Point, RuntimeConfig, TaskRuntime, alerting
from chalicelib.tick.exec.alert_machine import AlertStateMachine
from chalicelib.tick.exec.alerting import AlertExec
from chalicelib.tick.exec.base import fast_predicate
from chalicelib.tick.lambdas import Scope, compile_lambda
from chalicelib.tick.parser import parse

OPERATORS = ["==", "!=", "<", "<=", ">", ">="]
INT64 = st.integers(-(2**63), 2**63 - 1)
NUMBERS = st.one_of(
    INT64,
    st.integers(),  # beyond int64 too: float() of it is what the evaluator computes (or fails on)
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**53) - 8, -(2**53) + 8) | st.integers(2**53 - 8, 2**53 + 8),  # where float() rounds
    st.integers(-(2**63), 2**63 - 1).map(float),
)
VALUES = st.one_of(NUMBERS, st.booleans(), st.none(), st.integers(0, 3).map(UInt), st.sampled_from(["1", ""]))


def int_literals() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(0, 2**63 - 1),
        st.integers(2**53 - 4, 2**53 + 4),
        st.sampled_from([0, 1, 90, 2**63 - 1, 2**62 + 1]),
    ).map(str)


def float_literals() -> st.SearchStrategy[str]:
    # Exact decimal expansions: the parsed literal is the float drawn.
    floats = st.floats(min_value=0, max_value=1e25, allow_nan=False) | st.integers(0, 2**64).map(float)
    return floats.map(lambda x: format(Decimal(x), "f")).map(lambda t: t if "." in t else t + ".0")


def evaluated(expression: Any, fields: dict, tags: dict) -> Any:
    try:
        return expression.evaluate_bool(Scope(fields=fields, tags=tags, time=0))
    except TicklessError as err:
        return ("error", err.message)
    except ArithmeticError as err:
        return ("arithmetic", type(err).__name__)


def fast_answer(fast: Any, fields: dict, tags: dict) -> Any:
    try:
        return fast(fields, tags)
    except ArithmeticError as err:
        return ("arithmetic", type(err).__name__)


@settings(max_examples=3000, deadline=None, derandomize=True, database=None)
@given(
    op=st.sampled_from(OPERATORS),
    literal=int_literals() | float_literals(),
    field=st.none() | VALUES,
    tag=st.none() | st.sampled_from(["1", "", "x"]),
)
def test_numeric_fast_checks_answer_as_the_evaluator(op: str, literal: str, field: Any, tag: Any) -> None:
    expression = compile_lambda(f'"v" {op} {literal}')
    fast = fast_predicate(expression)
    assert fast is not None
    fields = {} if field is None else {"v": field}
    tags = {} if tag is None else {"v": tag}
    answer = evaluated(expression, fields, tags)
    got = fast_answer(fast, fields, tags)
    if got is not None:
        assert got == answer, (op, literal, field, tag, answer)
    if type(field) in (int, float) and tag is None:
        assert got is not None  # the mixed int/float comparisons are answered too


@pytest.mark.parametrize(
    ("text", "fields", "expected"),
    [
        ('"mean" > 90', {"mean": 90.5}, True),
        ('"mean" > 90', {"mean": 90.0}, False),
        ('"mean" >= 90', {"mean": 90.0}, True),
        ('"mean" == 90.0', {"mean": 90}, True),
        ('"mean" < 0.5', {"mean": 0}, True),
        ('"mean" != 9007199254740993', {"mean": 9007199254740992.0}, False),  # float(int) rounds, as Go
        ('"mean" == 9007199254740993.0', {"mean": 9007199254740993}, True),
        ('"mean" > 1', {"mean": float("nan")}, False),
        ('"mean" != 1', {"mean": float("nan")}, True),
    ],
)
def test_mixed_int_and_float_comparisons(text: str, fields: dict, expected: bool) -> None:
    expression = compile_lambda(text)
    fast = fast_predicate(expression)
    assert fast is not None
    assert fast(fields, {}) is expected
    assert expression.evaluate_bool(Scope(fields=fields, tags={}, time=0)) is expected


def test_a_huge_int_value_against_a_float_literal_fails_as_the_evaluator_does() -> None:
    expression = compile_lambda('"v" > 1.5')
    fast = fast_predicate(expression)
    assert fast is not None
    fields = {"v": 10**400}
    assert (
        fast_answer(fast, fields, {}) == evaluated(expression, fields, {}) == ("arithmetic", "OverflowError")
    )


# ---- alert level predicates ---------------------------------------------------------------------------

ALERT = """
stream
    |from().measurement('cpu'){group}
    |alert()
        .warn(lambda: "value" > {warn})
        .crit(lambda: "value" >= {crit})
        .warnReset(lambda: "value" < {reset})
"""


def alert_runtime(script: str) -> TaskRuntime:
    config = RuntimeConfig(task="t", alerts=AlertStateMachine)
    return TaskRuntime.build(evaluate(parse(script), "stream").pipeline, None, config)


def alert_exec(rt: TaskRuntime) -> AlertExec:
    (ex,) = [e for e in rt.execs.values() if isinstance(e, AlertExec)]
    return ex


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(
    warn=int_literals() | float_literals(),
    crit=int_literals() | float_literals(),
    reset=int_literals() | float_literals(),
    field=st.none() | VALUES,
    tag=st.none() | st.sampled_from(["1", "x"]),
)
def test_alert_level_predicates_answer_as_the_evaluator(
    warn: str, crit: str, reset: str, field: Any, tag: Any
) -> None:
    ex = alert_exec(alert_runtime(ALERT.format(group="", warn=warn, crit=crit, reset=reset)))
    fields = {} if field is None else {"value": field}
    tags = {} if tag is None else {"value": tag}
    p = SimpleNamespace(fields=fields, tags=tags, time=0)
    for index in (1, 2, 4):  # warn, crit, warnReset
        expression = ex.lambdas.expressions[index]
        assert expression is not None
        try:
            got: Any = ex._predicate(index)(p)
        except TicklessError as err:
            got = ("error", err.message)
        except ArithmeticError as err:
            got = ("arithmetic", type(err).__name__)
        assert got == evaluated(expression, fields, tags)


def _run_alerts(script: str, points: list[Point]) -> tuple[list[Any], dict[str, Any]]:
    rt = alert_runtime(script)
    out = rt.feed_points(points)
    stats = {
        name: {**s, "stats": {k: v for k, v in s["stats"].items() if k != "avg_exec_time_ns"}}
        for name, s in out.stats.items()
    }
    state = rt.to_state()
    for node in state["nodes"].values():
        node["stats"].pop("exec_ns")
    return [(a.node, a.event, a.topics) for a in out.alerts] + [out.logs, state], stats


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    values=st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 10) | st.floats(0, 10) | VALUES),
        min_size=1,
        max_size=30,
    ),
    warn=st.sampled_from(["5", "5.0", "7", "4.5"]),
    crit=st.sampled_from(["8", "8.0", "9", "7.5"]),
    reset=st.sampled_from(["3", "3.0", "2.5"]),
    group=st.sampled_from(["", ".groupBy('host')"]),
)
def test_a_task_alerts_the_same_with_and_without_fast_predicates(
    values: list[tuple[str, Any]], warn: str, crit: str, reset: str, group: str
) -> None:
    script = ALERT.format(group=group, warn=warn, crit=crit, reset=reset)
    points = [
        Point("cpu", i * SECOND, {} if v is None else {"value": v}, {"host": h})
        for i, (h, v) in enumerate(values)
    ]
    fast = _run_alerts(script, points)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(alerting, "fast_predicate", lambda expression: None)
        slow = _run_alerts(script, points)
    assert fast == slow


# ---- alert templates ----------------------------------------------------------------------------------

TEXT = st.text(st.sampled_from("ab :{}-\n\té<>&\"'$."), max_size=6).filter(lambda t: "{{" not in t)
ACTIONS = st.sampled_from(
    [
        "{{ .Name }}",
        "{{.Group}}",
        "{{ .TaskName }}",
        "{{- .Name -}}",
        "{{ .ID }}",
        "{{ .Level }}",
        "{{ .Tags }}",
        "{{ .ServerInfo }}",
        "{{ .Time }}",
        "{{ .Duration }}",
        "{{ .Fields }}",
        "{{ .Nope }}",
        "{{ .idInfo }}",
        '{{ index .Tags "host" }}',
        "{{ .Tags.host }}",
        '{{ .Name | printf "%q" }}',
        "{{ $n := .Name }}",
        "{{ if .Group }}g{{ end }}",
        "{{/* a comment */}}",
        "{{ . }}",
    ]
)
TEMPLATES = st.lists(st.one_of(TEXT, ACTIONS), max_size=6).map("".join)
WORDS = st.text(st.sampled_from("ab:{}=,\n é<&%"), max_size=8)


def _general(template: Any, data: Any) -> Any:
    try:
        return template.execute(data)
    except TicklessError as err:
        return ("error", err.message)


def _fast(render: Any) -> Any:
    try:
        return render()
    except TicklessError as err:
        return ("error", err.message)


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(
    id_text=TEMPLATES,
    message_text=TEMPLATES,
    name=WORDS,
    task=WORDS,
    group=WORDS,
    ident=WORDS,
    level=st.sampled_from(list(Level)),
    host=WORDS,
)
def test_templates_render_as_the_general_engine(
    id_text: str, message_text: str, name: str, task: str, group: str, ident: str, level: Level, host: str
) -> None:
    try:
        templates = AlertTemplates.parse(id_text, message_text)
    except TicklessError:
        assume(False)
        return
    server = ServerInfo("h", "c", "s")
    tags = {"host": host}
    fields = {"value": 1.5}
    info = id_info(name, task, group, tags, server)
    assert _fast(lambda: render_id(templates, name, task, group, tags, server)) == _general(
        templates.id, info
    )
    message = _fast(
        lambda: render_message_and_details(
            templates,
            id=ident,
            name=name,
            task=task,
            group=group,
            tags=tags,
            fields=fields,
            level=level,
            time=5 * SECOND,
            duration=SECOND,
            server=server,
        )[0]
    )
    expected = _general(templates.message, message_info(info, ident, fields, level, 5 * SECOND, SECOND))
    assert message == expected


def test_the_default_templates_have_a_fast_form() -> None:
    templates = AlertTemplates.parse()
    assert templates.fast_id is not None
    assert templates.fast_message is not None
    assert render_id(templates, "cpu", "t", "", {}, ServerInfo()) == "cpu:nil"
    assert render_id(templates, "cpu", "t", "host=a", {}, ServerInfo()) == "cpu:host=a"
    for text in ("{{ .Tags }}", "{{ .Name }}{{ .Time }}", "{{ if .Name }}x{{ end }}", "{{ .Name.X }}"):
        assert AlertTemplates.parse(text).fast_id is None, text
    assert AlertTemplates.parse("{{ .ID }}").fast_id is None  # idInfo has no ID: the engine's error


def test_values_that_are_not_strings_and_huge_outputs_go_to_the_engine() -> None:
    templates = AlertTemplates.parse("{{ .Name }}:{{ .Group }}")
    server = ServerInfo()
    for name, group in ((5, "g"), (None, "g"), ("n", 1.5)):
        expected = templates.id.execute(id_info(name, "t", group, {}, server))  # type: ignore[arg-type]
        assert render_id(templates, name, "t", group, {}, server) == expected  # type: ignore[arg-type]
    big = "x" * (MAX_OUTPUT // 2 + 1)
    with pytest.raises(TicklessError) as general:
        templates.id.execute(id_info(big, "t", big, {}, server))
    with pytest.raises(TicklessError) as fast:
        render_id(templates, big, "t", big, {}, server)
    assert fast.value.message == general.value.message
    exact = "x" * (MAX_OUTPUT // 2)
    assert render_id(AlertTemplates.parse("{{ .Name }}{{ .Group }}"), exact, "t", exact, {}, server) == (
        exact * 2
    )
