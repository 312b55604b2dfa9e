"""When InfluxDB 2.x tasks run: influxdata/cron schedules, `every` aligned as Go's Time.Truncate aligns, the
offset delaying the run (not its `now`), and catching up without skipping."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.kit.errors import TicklessError
from chalicelib.kit.time import HOUR, MINUTE, SECOND
from chalicelib.scheduler.cron import add_months, parse_cron
from chalicelib.scheduler.options import task_options
from chalicelib.scheduler.schedule import Schedule, first_latest_completed


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * SECOND


T = ns("2024-05-15T10:30:15")


@pytest.mark.parametrize(
    "cron, after, expected",
    [
        ("0 * * * *", T, "2024-05-15T11:00:00"),
        ("*/15 * * * * *", T, "2024-05-15T10:30:30"),  # six fields: seconds first
        ("0 0 0 1 1 * 2030", T, "2030-01-01T00:00:00"),  # seven: a year last
        ("@weekly", T, "2024-05-19T00:00:00"),  # a Sunday
        ("@hourly", T, "2024-05-15T11:00:00"),
        ("@daily", T, "2024-05-16T00:00:00"),
        ("@midnight", T, "2024-05-16T00:00:00"),
        ("@monthly", T, "2024-06-01T00:00:00"),
        ("@yearly", T, "2025-01-01T00:00:00"),
        ("@every_minute", T, "2024-05-15T10:31:00"),
        ("0 0 13 * FRI", T, "2024-09-13T00:00:00"),  # day of month AND day of week
        ("0 0 0 29 feb *", T, "2028-02-29T00:00:00"),
        ("30 9 * * mon-fri", ns("2024-05-17T10:00:00"), "2024-05-20T09:30:00"),
        ("0 12 * * 7", T, "2024-05-19T12:00:00"),  # 7 is Sunday too
        ("5/20 * * * *", T, "2024-05-15T10:45:00"),  # from 5 to the end, every 20
        ("0 0 * * *", ns("2024-05-15T00:00:00"), "2024-05-16T00:00:00"),  # strictly after
    ],
)
def test_cron_next(cron, after, expected):
    assert parse_cron(cron).next_after(after) == ns(expected)


def test_cron_ends_with_its_years():
    assert parse_cron("0 0 0 * * * 2020").next_after(T) is None


@pytest.mark.parametrize(
    "cron, message",
    [
        ("* * * *", "failed to parse cron string '* * * *'"),
        ("* * * * * * * *", "too many positions in cron"),
        ("61 * * * *", "invalid minute 61"),
        ("*/0 * * * *", "invalid minute */0"),
        ("5-1 * * * *", "invalid minute range 5-1: start must be before end"),
        ("@sometimes", "error in parsing at char 1, 's'"),
        ("@every 0s", "failed to parse cron string '@every 0s'"),
    ],
)
def test_cron_errors(cron, message):
    with pytest.raises(TicklessError) as e:
        parse_cron(cron)
    assert e.value.message == message


def test_add_months_rolls_over_as_go():
    assert add_months(ns("2024-01-31T00:00:00"), 1) == ns("2024-03-02T00:00:00")
    assert add_months(ns("2023-01-31T00:00:00"), 1) == ns("2023-03-03T00:00:00")
    assert add_months(ns("2024-11-15T06:00:00"), 14) == ns("2026-01-15T06:00:00")


@pytest.mark.parametrize(
    "every, start, following",
    [
        ("1h", "2024-05-15T10:00:00", "2024-05-15T11:00:00"),
        ("1d", "2024-05-15T00:00:00", "2024-05-16T00:00:00"),
        # counted from 0001-01-01 (a Monday), as Go's Truncate counts: weeks start on Mondays
        ("1w", "2024-05-13T00:00:00", "2024-05-20T00:00:00"),
        ("7d", "2024-05-13T00:00:00", "2024-05-20T00:00:00"),
        ("90m", "2024-05-15T10:30:00", "2024-05-15T12:00:00"),
    ],
)
def test_every_is_aligned(every, start, following):
    schedule = Schedule.parse(every=every)
    assert schedule.start(T) == ns(start)
    assert schedule.next_after(T) == ns(following)


def test_the_offset_delays_the_run_not_its_now():
    schedule = Schedule.of(task_options('option task = {name: "t", every: 1h, offset: 5m}'))
    latest = ns("2024-05-15T10:00:00")
    assert schedule.due(latest, ns("2024-05-15T12:04:59"), 10) == [ns("2024-05-15T11:00:00")]
    assert schedule.due(latest, ns("2024-05-15T12:05:00"), 10) == [
        ns("2024-05-15T11:00:00"),
        ns("2024-05-15T12:00:00"),
    ]
    assert schedule.run_at(ns("2024-05-15T11:00:00")) == ns("2024-05-15T11:05:00")


def test_a_negative_offset_runs_early():
    schedule = Schedule.parse(every="1h", offset=-5 * MINUTE)
    assert schedule.due(ns("2024-05-15T10:00:00"), ns("2024-05-15T10:55:00"), 10) == [
        ns("2024-05-15T11:00:00")
    ]


def test_cron_tasks_use_utc_and_the_second():
    schedule = Schedule.of(task_options('option task = {name: "t", cron: "0 9 * * *"}'))
    assert schedule.start(T + 999_999_999) == T
    assert schedule.due(T, ns("2024-05-18T09:00:00"), 10) == [
        ns("2024-05-16T09:00:00"),
        ns("2024-05-17T09:00:00"),
        ns("2024-05-18T09:00:00"),
    ]


def test_a_cron_every_is_aligned_too():
    assert Schedule.parse(cron="@every 1h").next_after(T) == ns("2024-05-15T11:00:00")


def test_catch_up_after_downtime_runs_every_missed_time_in_batches():
    schedule = Schedule.parse(every="1m")
    latest, now = ns("2024-05-15T10:00:00"), ns("2024-05-15T11:00:00")
    first = schedule.due(latest, now, 25)
    assert first[0] == latest + MINUTE and len(first) == 25
    rest = schedule.due(first[-1], now, 100)
    assert first + rest == [latest + k * MINUTE for k in range(1, 61)]
    assert schedule.due(rest[-1], now, 100) == []


def test_first_latest_completed_is_the_creation_second():
    created = ns("2024-05-15T10:30:15") + 123_456_789
    assert first_latest_completed(created) == ns("2024-05-15T10:30:15")
    # a new hourly task first runs at the next hour
    assert Schedule.parse(every="1h").next_after(first_latest_completed(created)) == ns("2024-05-15T11:00:00")


SCHEDULES = st.one_of(
    st.sampled_from(["1s", "10s", "1m", "5m", "90m", "1h", "1d", "1w", "1mo", "1y"]).map(
        lambda every: Schedule.parse(every=every)
    ),
    st.sampled_from(
        ["* * * * *", "*/7 * * * * *", "0 */3 * * *", "15 10 * * mon", "@hourly", "@every 45m"]
    ).map(lambda cron: Schedule.parse(cron=cron)),
)


@settings(max_examples=150, deadline=None)
@given(
    schedule=SCHEDULES,
    offset=st.integers(-HOUR, HOUR).map(lambda n: n - n % SECOND),
    latest=st.integers(ns("2000-01-01T00:00:00"), ns("2090-01-01T00:00:00")),
    span=st.integers(0, 40 * 86_400 * SECOND),
    steps=st.lists(st.integers(0, 6 * HOUR), min_size=1, max_size=6),
    limit=st.integers(1, 20),
)
def test_due_never_repeats_nor_skips(schedule, offset, latest, span, steps, limit):
    """Successive calls, each continuing from the last time returned, see every scheduled time once, in
    order, up to `now`; a call that returns fewer than `limit` has caught up."""
    schedule = Schedule(schedule.cron, offset, schedule.aligned)
    start, now, seen = latest, latest + span, []
    for step in steps:
        now += step
        batch = schedule.due(latest, now, limit)
        assert len(batch) <= limit
        assert all(a < b for a, b in pairwise(batch))
        assert all(t > latest and schedule.run_at(t) <= now for t in batch)
        if len(batch) < limit:  # caught up: the next time is not due yet
            nxt = schedule.next_after(batch[-1] if batch else latest)
            assert nxt is None or schedule.run_at(nxt) > now
        seen += batch
        latest = batch[-1] if batch else latest
    assert len(seen) == len(set(seen))
    # nothing skipped: the times seen are the schedule's own successive times from the start
    expected, t = [], start
    for _ in seen:
        t = schedule.next_after(t) if not expected else schedule.cron.next_after(t)
        expected.append(t)
    assert seen == expected
