"""A query's limits and budget (`kit.budget`): the settings and their defaults, influxd's errors when
time or memory runs out, and the invocation's remaining time (0 once a local client has gone)."""

from __future__ import annotations

import pytest

from chalicelib.kit.budget import (
    CELL_BYTES,
    Budget,
    MemoryLimitExceeded,
    QueryLimits,
    QueryTimeout,
)
from chalicelib.kit.errors import INVALID
from tests.unit.clock import Clock


def test_query_limits_default_to_bounds_that_protect_a_lambda():
    limits = QueryLimits.from_settings({})
    assert limits == QueryLimits()
    assert limits.shown() == {
        "query-timeout": "25s",
        "query-memory-bytes": 256 * 1024 * 1024,
        "max-select-point": 10_000_000,
        "max-select-series": 100_000,
        "max-select-buckets": 1_000_000,
        "query-max-response-bytes": 6_000_000,
    }


@pytest.mark.parametrize(
    ("raw", "seconds"), [("30", 30.0), ("30s", 30.0), ("1500ms", 1.5), ("2m", 120.0), ("0", 0.0)]
)
def test_query_timeout_setting_takes_seconds_or_a_duration(raw, seconds):
    assert QueryLimits.from_settings({"TICKLESS_QUERY_TIMEOUT": raw}).timeout == seconds


def test_query_limits_from_the_environment():
    limits = QueryLimits.from_settings(
        {
            "TICKLESS_QUERY_MEMORY_BYTES": "1000",
            "TICKLESS_QUERY_MAX_SELECT_POINT": "1_000",
            "TICKLESS_QUERY_MAX_SELECT_SERIES": "0",
            "TICKLESS_QUERY_MAX_SELECT_BUCKETS": " 7 ",
            "TICKLESS_QUERY_MAX_RESPONSE_BYTES": "",  # empty: the default
        }
    )
    assert limits == QueryLimits(
        memory_bytes=1000, max_select_point=1000, max_select_series=0, max_select_buckets=7
    )


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("TICKLESS_QUERY_TIMEOUT", "soon"),
        ("TICKLESS_QUERY_MAX_SELECT_POINT", "1e6"),
        ("TICKLESS_QUERY_MEMORY_BYTES", "-1"),
    ],
)
def test_a_bad_setting_names_itself(name, raw):
    with pytest.raises(ValueError, match=name):
        QueryLimits.from_settings({name: raw})


def test_query_timeout_limit_exceeded_once_the_time_is_up():
    clock = Clock()
    budget = Budget(QueryLimits(timeout=2), clock=clock)
    clock.now += 1.9
    budget.check()
    clock.now += 0.2
    with pytest.raises(QueryTimeout) as caught:
        budget.check()
    assert (caught.value.code, caught.value.message) == (INVALID, "query-timeout limit exceeded")


def test_the_invocations_remaining_time_ends_a_query_a_margin_before_it_ends():
    clock = Clock()
    left = [10.0]
    probes = []

    def remaining() -> float:
        probes.append(clock.now)
        return left[0] - (clock.now - 100.0)

    budget = Budget(QueryLimits(timeout=0), remaining, margin=1.0, clock=clock)
    budget.check()
    budget.check()  # within PROBE_EVERY of the last probe: not asked again
    assert len(probes) == 1
    clock.now += 8.5
    budget.check()
    clock.now += 0.6  # 0.9 s left: less than the margin
    with pytest.raises(QueryTimeout):
        budget.check()
    with pytest.raises(QueryTimeout):  # and from then on, without asking
        budget.check()
    assert len(probes) == 3


def test_a_client_gone_ends_the_query_at_the_next_check():
    budget = Budget(QueryLimits(), lambda: 0.0)
    with pytest.raises(QueryTimeout):
        budget.check()


def test_memory_allocation_limit_reached_in_flux_words():
    budget = Budget(QueryLimits(memory_bytes=100 * CELL_BYTES))
    budget.ensure(100 * CELL_BYTES)  # would fit: nothing counted
    budget.charge_cells(60)
    with pytest.raises(MemoryLimitExceeded) as caught:
        budget.charge_cells(41)
    assert caught.value.code == INVALID
    assert caught.value.message == (
        f"memory allocation limit reached: limit {100 * CELL_BYTES} bytes, allocated: {60 * CELL_BYTES}, "
        f"wanted: {41 * CELL_BYTES}"
    )
    assert budget.allocated == 60 * CELL_BYTES


def test_an_unlimited_budget_never_refuses():
    budget = Budget.unlimited()
    budget.charge(10**15)
    budget.check()
    assert budget.limits.max_select_point == budget.limits.max_response_bytes == 0
