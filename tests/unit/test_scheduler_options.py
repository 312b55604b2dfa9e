"""`option task = {...}` read and rewritten as influxd's task/options and taskmodel packages do."""

from __future__ import annotations

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.kit.time import MINUTE
from chalicelib.scheduler.options import OptionsError, TaskOptions, task_options, with_options

A = 'option task = {name: "a", '  # a task record that goes on

SEED = """option task = {name: "CPU Total 1 Hour New", every: 1h}

from(bucket: "telegraf")
    |> range(start: -1h)
    |> filter(fn: (r) => (r._measurement == "cpu"))
    |> aggregateWindow(every: 1h, fn: max)
    |> to(bucket: "cpu_usage_user_total_1h", org: "INFLUX_ORG")
"""


def test_reads_the_seed_task():
    assert task_options(SEED) == TaskOptions(name="CPU Total 1 Hour New", every="1h", cron=None)


@pytest.mark.parametrize(
    "record, expected",
    [
        ('{name: "t", cron: "0 * * * *"}', TaskOptions("t", None, "0 * * * *")),
        ('{name: "t", every: 1h30m, offset: 10m}', TaskOptions("t", "1h30m", None, offset=10 * MINUTE)),
        ('{name: "t", every: 3d, offset: 0s}', TaskOptions("t", "3d", None)),
        ('{name: "t", every: 1h, offset: -5m}', TaskOptions("t", "1h", None, offset=-5 * MINUTE)),
        ('{name: "t", every: 1mo}', TaskOptions("t", "1mo", None)),
        (
            '{name: "t", every: 1h, concurrency: 5, retry: 3}',
            TaskOptions("t", "1h", None, concurrency=5, retry=3),
        ),
        ('{"name": "t", "every": 1m}', TaskOptions("t", "1m", None)),
    ],
)
def test_reads_options(record, expected):
    assert task_options(f'option task = {record}\nfrom(bucket: "b") |> range(start: -1h)') == expected


@pytest.mark.parametrize(
    "flux, message",
    [
        ('from(bucket: "b")', "no task options defined"),
        ("option task = 5", 'task option expected to be object literal, but found "ObjectExpression"'),
        (
            A + 'every: 1h}\noption task = {name: "b", every: 1h}',
            "multiple task options defined",
        ),
        ("option task = {every: 1h}", "missing required option: name"),
        (A[:-2] + "}", "missing required option: cron or every"),
        (
            A + 'every: 1h, cron: "* * * * *"}',
            "cannot use both cron and every in task options",
        ),
        ("option task = {name: 1, every: 1h}", "failed to parse field 'name' in task options"),
        (A + 'every: "1h"}', "failed to parse field 'every' in task options"),
        (A + "cron: 5}", "failed to parse field 'cron' in task options"),
        (
            A + 'every: 1h, offset: "5m"}',
            "failed to parse field 'offset' in task options",
        ),
        (A + "every: 1h, offset: +5m}", "invalid duration +5m"),
        (A + 'every: 1h, retry: "3"}', "failed to parse field 'retry' in task options"),
        ('option task = {name: "", every: 1h}', "invalid options: name required"),
        (
            A + "every: 0s}",
            "invalid options: must specify exactly one of either cron or every",
        ),
        (
            A + "every: 500ms}",
            "invalid options: every option must be at least 1 second",
        ),
        (
            A + "every: 1500ms}",
            "invalid options: every option must be expressible as whole seconds",
        ),
        (
            A + "every: 1h, offset: 1ms}",
            "invalid options: offset option must be expressible as whole seconds",
        ),
        (A + 'cron: "61 * * * *"}', "invalid options: cron invalid: invalid minute 61"),
        (
            A + "every: 1h, concurrency: 0}",
            "invalid options: concurrency must be at least 1",
        ),
        (
            A + "every: 1h, concurrency: 101}",
            "invalid options: concurrency exceeded max of 100",
        ),
        (A + "every: 1h, retry: 11}", "invalid options: retry exceeded max of 10"),
        (
            'option task = {name: "", every: 1h, retry: 0}',
            "invalid options: name required, retry must be at least 1",
        ),
    ],
)
def test_rejects_with_influxd_messages(flux, message):
    with pytest.raises(OptionsError) as e:
        task_options(flux)
    assert e.value.message == message
    assert e.value.code == "invalid"


def test_a_syntax_error_is_flux_s_own():
    with pytest.raises(OptionsError) as e:
        task_options('option task = {name: "a", every: 1h,')
    assert e.value.message.startswith("error @1:")


def test_an_offset_in_days_fails_as_influxd_s_duration_parse():
    """influxd keeps the offset as a Go time.Duration, whose parser knows no unit above hours."""
    with pytest.raises(TicklessError) as e:
        task_options('option task = {name: "a", every: 1h, offset: 1d}')
    assert not isinstance(e.value, OptionsError)
    assert e.value.message == 'unexpected error parsing time: time: unknown unit "d" in duration "1d"'


SCRIPT = (
    'option task = {name: "a", every: 1h, offset: 10m}\n\nfrom(bucket: "x") |> range(start: -task.every)\n'
)


@pytest.mark.parametrize(
    "changes, first_line",
    [
        ({"every": "2h"}, 'option task = {name: "a", every: 2h, offset: 10m}'),
        ({"cron": "0 0 * * *"}, 'option task = {name: "a", cron: "0 0 * * *", offset: 10m}'),
        ({"offset": "0s"}, 'option task = {name: "a", every: 1h}'),
        ({"offset": "-1m"}, 'option task = {name: "a", every: 1h, offset: -1m}'),
        ({"name": "b"}, 'option task = {name: "b", every: 1h, offset: 10m}'),
        ({}, 'option task = {name: "a", every: 1h, offset: 10m}'),
    ],
)
def test_with_options_rewrites_the_task_record(changes, first_line):
    out = with_options(SCRIPT, **changes)
    assert out.splitlines()[0] == first_line
    assert out.split("\n", 1)[1] == SCRIPT.split("\n", 1)[1]  # the rest as written


def test_with_options_turns_cron_into_every_and_appends_what_is_new():
    out = with_options('option task = {name: "a", cron: "* * * * *"} // daily', every="5m", offset="30s")
    assert out == 'option task = {name: "a", every: 5m, offset: 30s} // daily'
    assert task_options(out) == TaskOptions("a", "5m", None, offset=30_000_000_000)


def test_with_options_escapes_strings_as_flux():
    out = with_options(SCRIPT, name='say "hi" ${x} \\o/')
    assert task_options(out).name == 'say "hi" ${x} \\o/'


@pytest.mark.parametrize(
    "flux, changes, message",
    [
        (SCRIPT, {"every": "1h", "cron": "* * * * *"}, "cannot specify both cron and every"),
        ('from(bucket: "x")', {"every": "1h"}, "unable to edit option"),
        ("option task = 1", {"every": "1h"}, "value is is IntegerLiteral, not an object expression"),
    ],
)
def test_with_options_errors(flux, changes, message):
    with pytest.raises(TicklessError) as e:
        with_options(flux, **changes)
    assert e.value.message == message
