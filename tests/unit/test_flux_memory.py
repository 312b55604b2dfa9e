"""One Flux query cannot take the memory of the service: `aggregateWindow` with 10 ms or 1 ms windows
over a day (8.6 and 86 million windows) is refused before it builds them, with Flux's allocator error
(a 400), and the memory the query takes stays small whatever the path (pushed into the read or over
whole tables); without empty windows the same query answers, iterating only the windows with points.
Not timed: memory is measured with tracemalloc."""

from __future__ import annotations

import multiprocessing
import re
import tracemalloc

import pytest

from chalicelib.flux.csv import Dialect, encode
from chalicelib.flux.engine import execute
from chalicelib.flux.source import Context
from chalicelib.kit.budget import Budget, MemoryLimitExceeded, QueryLimits
from tests.unit.test_flux_source import MemorySource

S = 1_000_000_000
DAY = 86_400
# a day of three series, a point every 10 s, in blocks of an hour as the store keeps them
POINTS = [
    ("cpu", {"host": f"h{h}"}, {"usage": i * 0.5 + h}, i * 10 * S) for h in range(3) for i in range(DAY // 10)
]
READ = f'from(bucket: "first") |> range(start: 0, stop: {DAY})'
GENERAL = "|> filter(fn: (r) => true)"  # not pushable: the windows are made over whole tables
REFUSED = re.compile(r"^memory allocation limit reached: limit 268435456 bytes, allocated: \d+, wanted: \d+$")


@pytest.fixture(scope="module")
def source():
    return MemorySource(POINTS, block=3600 * S)


def run_measured(source, query: str) -> tuple[str | Exception, int]:
    """The CSV (or the error) of `query` within the default limits, and tracemalloc's peak meanwhile,
    measured in a forked child: tracemalloc counts every thread's allocations, and a test worker may run
    other modules' background threads (an event pump polling moto) that only the parent has."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_measure, args=(source, query, sender))
    child.start()
    kind, value, peak = receiver.recv()
    child.join()
    if kind == "error":
        raise AssertionError(f"the query failed in the measuring process: {value}")
    outcome = MemoryLimitExceeded(*value) if kind == "refused" else value
    return outcome, peak


def _measure(source, query: str, sender) -> None:
    tracemalloc.start()
    try:
        results = execute(query, Context(source, source, DAY * S, budget=Budget(QueryLimits())))
        answer: tuple = ("csv", "".join(encode(results, Dialect())))
    except MemoryLimitExceeded as exc:
        answer = ("refused", (exc.limit, exc.allocated, exc.wanted))
    except BaseException as exc:  # anything else fails the test in the parent, never hangs it
        answer = ("error", repr(exc))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sender.send((*answer, peak))


@pytest.mark.parametrize("every", ["10ms", "1ms"])
@pytest.mark.parametrize("path", ["", GENERAL])
@pytest.mark.parametrize("fn", ["mean", "max", "(column, tables=<-) => tables |> count(column: column)"])
def test_aggregate_window_10ms_and_1ms_over_a_day_is_refused_with_bounded_memory(source, every, path, fn):
    outcome, peak = run_measured(source, f"{READ} {path} |> aggregateWindow(every: {every}, fn: {fn})")
    assert isinstance(outcome, MemoryLimitExceeded), outcome
    assert outcome.status == 400 and REFUSED.match(outcome.message), outcome.message
    # the day's points read (the general path holds them) and nothing of the windows
    assert peak < 20_000_000


@pytest.mark.parametrize("path", ["", GENERAL])
def test_aggregate_window_10ms_without_empty_windows_answers_within_bounded_memory(source, path):
    outcome, peak = run_measured(
        source, f"{READ} {path} |> aggregateWindow(every: 10ms, fn: mean, createEmpty: false)"
    )
    assert isinstance(outcome, str)
    assert outcome.count("\r\n") == 1 + 3 * DAY // 10 + 1  # a row a point: every window holds one
    assert peak < 40_000_000


def test_window_10ms_over_a_day_with_empty_windows_is_refused(source):
    outcome, peak = run_measured(source, f"{READ} |> window(every: 10ms, createEmpty: true) |> count()")
    assert isinstance(outcome, MemoryLimitExceeded) and REFUSED.match(outcome.message)
    assert peak < 20_000_000


def test_a_query_holding_more_than_query_memory_bytes_is_refused(source):
    # the day's points (about 3.5 MB as estimated), copied by map() over and over: each copy is charged
    q = f"{READ} " + " |> map(fn: (r) => ({r with _value: r._value * 2.0}))" * 10
    budget = Budget(QueryLimits(memory_bytes=8 * 1024 * 1024))
    results = execute(q, Context(source, source, DAY * S, budget=budget))
    with pytest.raises(MemoryLimitExceeded, match="limit 8388608 bytes"):
        "".join(encode(results, Dialect()))


def test_a_join_that_would_multiply_rows_is_refused_before_building_them(source):
    # an hour of three series joined on the field alone: every row matches every row (1.2 million pairs)
    hour = 'from(bucket: "first") |> range(start: 0, stop: 3600)'
    q = f'join(tables: {{a: {hour}, b: {hour}}}, on: ["_field"])'
    outcome, peak = run_measured(source, q)
    assert isinstance(outcome, MemoryLimitExceeded) and REFUSED.match(outcome.message)
    assert peak < 20_000_000
