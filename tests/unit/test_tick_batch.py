"""Batch tasks' schedules (Kapacitor's query node tickers and gorhill/cronexpr's expectations), the
InfluxQL each due time runs, query results as batches, and runs over saved state (tick/batch.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.tick.batch import (
    BatchTasks,
    QueryNodePlan,
    Schedule,
    go_truncate,
    plans_of,
    started_at,
)
from chalicelib.tick.cron import parse_cron
from chalicelib.tick.execution import StoredState, TaskRunner, read_execution
from chalicelib.tick.outbox import outbox_of
from chalicelib.tick.tasks import (
    BATCH_INDEX,
    DISABLED,
    ENABLED,
    INDEX_PARTITION,
    TASKS,
    TaskDefinitions,
    View,
    compile_task,
)

S = 1_000_000_000
M = 60 * S


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * S


def text(t: int | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t // S, UTC).strftime("%Y-%m-%d %H:%M:%S")


def plan(script: str) -> QueryNodePlan:
    task = {"id": "t", "script": script, "dbrps": [], "vars": {}}
    (only,) = plans_of(compile_task(task).pipeline)
    return only


# ---- schedules ------------------------------------------------------------------------------------------


def test_every_ticks_from_the_task_start():
    schedule = Schedule(every=10 * S)
    start = ns("2026-01-01 00:00:03")
    ticks, skipped = schedule.due(start, None, start + 35 * S)
    assert [text(t) for t in ticks] == ["2026-01-01 00:00:13", "2026-01-01 00:00:23", "2026-01-01 00:00:33"]
    assert skipped == 0
    # the next run starts after the last tick it ran
    assert schedule.due(start, ticks[-1], start + 35 * S) == ([], 0)
    assert [text(t) for t in schedule.due(start, ticks[-1], start + 43 * S)[0]] == ["2026-01-01 00:00:43"]


def test_aligned_every_ticks_on_multiples_after_the_start():
    schedule = Schedule(every=M, align=True)
    start = ns("2026-01-01 00:00:40")
    ticks, _ = schedule.due(start, None, ns("2026-01-01 00:03:00"))
    # Kapacitor's aligned ticker: the start truncated to `every`, plus `every`, then every multiple
    assert [text(t) for t in ticks] == ["2026-01-01 00:01:00", "2026-01-01 00:02:00", "2026-01-01 00:03:00"]
    on_a_multiple = ns("2026-01-01 00:01:00")
    assert text(schedule.next_after(on_a_multiple)) == "2026-01-01 00:02:00"


def test_alignment_counts_from_go_zero_time():
    week = 7 * 24 * 3600 * S
    # Go's Truncate counts from year 1: a week boundary is a Monday, not the epoch's Thursday
    assert text(go_truncate(ns("2026-01-01 12:00:00"), week)) == "2025-12-29 00:00:00"
    assert go_truncate(ns("2026-01-01 12:34:56"), M) == ns("2026-01-01 12:34:00")


def test_sub_minute_every_runs_all_the_minute_s_times():
    schedule = Schedule(every=10 * S, align=True)
    start = ns("2026-01-01 00:00:00")
    ticks, _ = schedule.due(start, None, start + M)
    assert [t - start for t in ticks] == [10 * S, 20 * S, 30 * S, 40 * S, 50 * S, 60 * S]


def test_catching_up_is_bounded_to_the_latest_times():
    schedule = Schedule(every=S)
    ticks, skipped = schedule.due(0, None, 1000 * S, limit=100)
    assert skipped == 900 and len(ticks) == 100
    assert ticks[0] == 901 * S and ticks[-1] == 1000 * S
    cron = Schedule(cron=parse_cron("* * * * * * *"))
    ticks, skipped = cron.due(0, None, 1000 * S, limit=100)
    assert skipped == 900 and ticks[0] == 901 * S and ticks[-1] == 1000 * S


def test_cron_schedule_ticks_on_its_expression():
    schedule = Schedule(cron=parse_cron("*/15 * * * * * *"))
    start = ns("2026-01-01 00:00:07")
    ticks, _ = schedule.due(start, None, ns("2026-01-01 00:01:00"))
    assert [text(t)[-2:] for t in ticks] == ["15", "30", "45", "00"]


CRONEXPR_EXPECTATIONS = [
    ("* * * * * * *", "2013-01-01 00:00:00", "2013-01-01 00:00:01"),
    ("* * * * * * *", "2012-12-31 23:59:59", "2013-01-01 00:00:00"),
    ("*/5 * * * * * *", "2013-01-01 00:00:59", "2013-01-01 00:01:00"),
    ("* * * * *", "2013-01-01 00:00:00", "2013-01-01 00:01:00"),
    ("* * * * *", "2016-02-28 23:59:00", "2016-02-29 00:00:00"),
    ("17-43/5 * * * *", "2013-01-01 00:00:00", "2013-01-01 00:17:00"),
    ("17-43/5 * * * *", "2013-01-01 00:30:00", "2013-01-01 00:32:00"),
    ("17-43/5 * * * *", "2013-01-01 00:50:00", "2013-01-01 01:17:00"),
    ("15-30/4,55 * * * *", "2013-01-01 00:16:00", "2013-01-01 00:19:00"),
    ("15-30/4,55 * * * *", "2013-01-01 00:30:00", "2013-01-01 00:55:00"),
    ("15-30/4,55 * * * *", "2012-12-31 23:55:00", "2013-01-01 00:15:00"),
    ("0 0 * * MON", "2013-12-30 00:30:00", "2014-01-06 00:00:00"),
    ("0 0 * * friday", "2013-01-28 00:00:00", "2013-02-01 00:00:00"),
    ("0 0 * * 6,7", "2013-01-01 00:00:00", "2013-01-05 00:00:00"),
    ("0 0 * * 6#5", "2013-09-02 00:00:00", "2013-11-30 00:00:00"),
    ("0 0 14W * *", "2013-03-31 00:00:00", "2013-04-15 00:00:00"),
    ("0 0 14W * *", "2013-08-31 00:00:00", "2013-09-13 00:00:00"),
    ("0 0 30W * *", "2013-03-02 00:00:00", "2013-03-29 00:00:00"),
    ("0 0 30W * *", "2013-09-02 00:00:00", "2013-09-30 00:00:00"),
    ("0 0 30W * *", "2013-11-02 00:00:00", "2013-11-29 00:00:00"),
    ("0 0 LW * *", "2014-01-01 00:00:00", "2014-01-31 00:00:00"),
    ("0 0 L * *", "2013-02-01 00:00:00", "2013-02-28 00:00:00"),
    ("0 0 * * 5L", "2013-01-01 00:00:00", "2013-01-25 00:00:00"),
    ("@weekly", "2013-01-01 00:00:00", "2013-01-06 00:00:00"),
    ("@hourly", "2013-01-01 00:00:00", "2013-01-01 01:00:00"),
    ("0 0 29 2 *", "2013-08-01 00:00:00", "2016-02-29 00:00:00"),
    ("0 0 1 1 * 1980", "2013-08-31 00:00:00", None),
    ("* * * * * 2050", "2013-08-31 00:00:00", "2050-01-01 00:00:00"),
    ("0 12 13 * 5", "2013-09-01 00:00:00", "2013-09-06 12:00:00"),  # day of month or day of week
]


@pytest.mark.parametrize(("expr", "after", "expected"), CRONEXPR_EXPECTATIONS)
def test_cron_next_as_cronexpr(expr, after, expected):
    assert text(parse_cron(expr).next_after(ns(after))) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("* * * *", "missing field(s)"),
        ("61 * * * *", "syntax error in minute field: '61'"),
        ("*/0 * * * *", "invalid interval */0"),
        ("0 0 * * 8", "syntax error in day-of-week field: '8'"),
        ("0 0 32 * *", "syntax error in day-of-month field: '32'"),
    ],
)
def test_cron_errors_as_cronexpr(expr, message):
    with pytest.raises(TicklessError) as caught:
        parse_cron(expr)
    assert caught.value.message == message


# ---- the query of a due time -----------------------------------------------------------------------------


def test_query_gets_the_time_range_and_the_node_s_group_by():
    p = plan(
        """batch|query('SELECT mean("value") FROM "telegraf"."autogen"."cpu" WHERE "host" = \\'a\\'')
            .period(1m).every(1m).offset(10s).groupBy(time(10s), 'cpu').fill(0)"""
    )
    tick = ns("2026-01-01 00:02:00")
    assert p.text_at(tick) == (
        "SELECT mean(value) FROM telegraf.autogen.cpu WHERE host = 'a' AND time >= '2026-01-01T00:00:50Z' "
        "AND time < '2026-01-01T00:01:50Z' GROUP BY time(10s, 0s), cpu fill(0)"
    )


def test_query_without_where_and_group_by_star_and_fill_none():
    p = plan(
        "batch|query('SELECT max(v) FROM db.rp.m GROUP BY host').period(5s).every(5s).groupBy(*).fill('none')"
    )
    assert p.text_at(10 * S) == (
        "SELECT max(v) FROM db.rp.m WHERE time >= '1970-01-01T00:00:05Z' AND time < '1970-01-01T00:00:10Z' "
        "GROUP BY * fill(none)"
    )
    plain = plan("batch|query('SELECT v FROM db.rp.m GROUP BY host').period(5s).every(5s)")
    assert "GROUP BY" not in plain.text_at(10 * S)  # the node's groupBy replaces the query's


def test_align_group_offsets_the_intervals_to_the_start():
    p = plan(
        "batch|query('SELECT mean(v) FROM db.rp.m').period(5m).every(30s).groupBy(time(1m, 5s)).alignGroup()"
    )
    assert "GROUP BY time(1m, 30s)" in p.text_at(6 * M + 30 * S)  # start 1m30s: 30s past the minute
    assert "GROUP BY time(1m, 0s)" in p.text_at(6 * M)
    no_align = plan("batch|query('SELECT mean(v) FROM db.rp.m').period(5m).every(30s).groupBy(time(1m, 5s))")
    assert "GROUP BY time(1m, 5s)" in no_align.text_at(6 * M + 30 * S)


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            "batch|query('SELECT value FROM db.rp.m; DROP DATABASE _internal').every(1s)",
            "query must be a single select statement, got 2 statements",
        ),
        (
            "batch|query('DROP DATABASE _internal').every(1s)",
            'query is not a select statement "DROP DATABASE _internal"',
        ),
        ("batch|query('SELECT v FROM db.rp.m').period(1s)", "must define one of 'every' or 'cron'"),
        (
            "batch|query('SELECT v FROM db.rp.m').every(1s).cron('* * * * *')",
            "must not set both 'every' and 'cron' properties",
        ),
        (
            "batch|query('SELECT v FROM db.rp.m').every(1s).groupBy(time(1s), 2s)",
            "groupBy cannot have more than one time dimension",
        ),
        ("batch|query('SELECT v FROM db.rp.m').every(1s).fill('zero')", "unexpected fill option zero"),
    ],
)
def test_invalid_queries_fail_as_kapacitor_s_task_start(script, message):
    with pytest.raises(TicklessError) as caught:
        plan(script)
    assert caught.value.message == message


def test_results_become_batches_with_kapacitor_s_times_and_floats():
    p = plan("batch|query('SELECT max(v) FROM db.rp.m').period(10s).every(10s).groupBy(time(5s), 'host')")
    payload = {
        "results": [
            {
                "statement_id": 0,
                "series": [
                    {
                        "name": "m",
                        "tags": {"host": "a"},
                        "columns": ["time", "max"],
                        "values": [[0, 3], [5 * S, None]],
                    },
                    {"name": "m", "tags": {"host": "b"}, "columns": ["time", "max"], "values": [[0, None]]},
                ],
            }
        ]
    }
    a, b = p.batches(payload, 10 * S)
    assert (
        a.tags == {"host": "a"}
        and a.tmax == 0
        and [(x.time, x.fields) for x in a.points] == [(0, {"max": 3.0})]
    )
    assert isinstance(a.points[0].fields["max"], float)
    assert b.points == [] and b.tmax == 10 * S  # empty: the query's stop
    raw = plan("batch|query('SELECT v FROM db.rp.m').period(10s).every(10s)")
    (only,) = raw.batches(
        {"results": [{"series": [{"name": "m", "columns": ["time", "v"], "values": [[S, 1]]}]}]}, 10 * S
    )
    assert only.tmax == 10 * S  # not grouped by time: the query's stop
    with pytest.raises(TicklessError):
        raw.batches({"results": [{"statement_id": 0, "error": "database not found: db"}]}, 10 * S)


def test_started_at_reads_last_enabled():
    assert started_at({"last-enabled": "2026-01-01T00:00:01.5Z"}) == ns("2026-01-01 00:00:01") + S // 2
    assert started_at({"last-enabled": ""}) is None


# ---- running over saved state ----------------------------------------------------------------------------


class Definitions:
    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], dict[str, dict]] = {}

    def get(self, kind, org_id, id):
        return self.docs.get((kind, org_id), {}).get(id)

    def list(self, kind, org_id):
        return [d for _, d in sorted(self.docs.get((kind, org_id), {}).items())]

    def create(self, kind, org_id, doc):
        if self.get(kind, org_id, doc["id"]) is not None:
            return False
        self.replace(kind, org_id, doc)
        return True

    def replace(self, kind, org_id, doc):
        self.docs.setdefault((kind, org_id), {})[doc["id"]] = doc

    def delete(self, kind, org_id, id):
        self.docs.get((kind, org_id), {}).pop(id, None)


class States:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], StoredState] = {}
        self.saves = 0

    def load(self, org_id, task_id):
        return self.items.get((org_id, task_id))

    def save(self, org_id, task_id, state, expected):
        current = self.items.get((org_id, task_id))
        if (current.version if current else None) != expected:
            return False
        self.items[(org_id, task_id)] = StoredState((expected or 0) + 1, state)
        self.saves += 1
        return True

    def delete(self, org_id, task_id):
        self.items.pop((org_id, task_id), None)


class Effects:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, org_id, task_id, outbox):
        self.sent.append(outbox)


SCRIPT = """batch
    |query('SELECT max(v) FROM db.rp.m')
        .period(10s)
        .every(10s)
        .align()
    |httpOut('out')
"""


def _setup(script: str = SCRIPT):
    definitions, states, queries = Definitions(), States(), []
    clock = iter(["2026-01-01T00:00:05Z"] * 10)
    tasks = TaskDefinitions(definitions, clock=lambda: next(clock), on_stop=states.delete)

    def query(org_id: str, q: str, now: int) -> dict:
        queries.append(q)
        return {
            "results": [
                {
                    "statement_id": 0,
                    "series": [{"name": "m", "columns": ["time", "max"], "values": [[now, len(queries)]]}],
                }
            ]
        }

    batch = BatchTasks(definitions, TaskRunner(states, Effects(), outbox_of), query)
    body = {"id": "b", "script": script, "status": ENABLED, "dbrps": [{"db": "db", "rp": "rp"}]}
    tasks.create_task("org", body, View())
    return SimpleNamespace(tasks=tasks, definitions=definitions, states=states, batch=batch, queries=queries)


def test_running_tasks_are_indexed_and_each_due_time_runs_once():
    env = _setup()
    definitions, states, batch, queries = env.definitions, env.states, env.batch, env.queries
    assert [e["id"] for e in definitions.list(BATCH_INDEX, INDEX_PARTITION)] == ["org|b"]
    now = ns("2026-01-01 00:00:31")
    assert batch.run_due(now) == 1
    assert len(queries) == 3  # 00:10, 00:20, 00:30
    assert "time >= '2026-01-01T00:00:20Z' AND time < '2026-01-01T00:00:30Z'" in queries[-1]
    stored = states.load("org", "b")
    assert stored.state["last"] == {"query1": ns("2026-01-01 00:00:30")}
    assert stored.state["http"]["out"]["series"][0]["values"][0][1] == 3.0
    assert batch.run_due(now) == 0 and len(queries) == 3  # the same time again: nothing runs twice
    batch.run_due(ns("2026-01-01 00:00:40"))
    assert len(queries) == 4


def test_a_concurrent_run_that_loses_the_save_runs_nothing_again():
    env = _setup()
    definitions, states, batch, queries = env.definitions, env.states, env.batch, env.queries
    task = definitions.get(TASKS, "org", "b")
    now = ns("2026-01-01 00:00:20")
    original_save = states.save
    raced = []

    def save(org_id, task_id, state, expected):
        if not raced:  # another scheduler saves its run of the same times first
            raced.append(True)
            original_save(org_id, task_id, {**state}, expected)
        return original_save(org_id, task_id, state, expected)

    states.save = save
    assert batch.run("org", task, now) is False  # the retry on the winner's state finds nothing due
    assert len(queries) == 2  # the loser's queries only: its state was not saved


def test_disabling_and_deleting_unindex():
    env = _setup()
    tasks, definitions = env.tasks, env.definitions
    tasks.update_task("org", "b", {"status": DISABLED}, View())
    assert definitions.list(BATCH_INDEX, INDEX_PARTITION) == []
    tasks.update_task("org", "b", {"status": ENABLED}, View())
    tasks.update_task("org", "b", {"id": "c"}, View())
    assert [e["id"] for e in definitions.list(BATCH_INDEX, INDEX_PARTITION)] == ["org|c"]
    tasks.delete_task("org", "c")
    assert definitions.list(BATCH_INDEX, INDEX_PARTITION) == []


def test_a_failing_query_is_logged_and_recorded_as_the_task_error():
    env = _setup()
    tasks, batch = env.tasks, env.batch
    logs = []
    batch.log = lambda level, message, extra: logs.append((level, message, extra))

    def failing(org_id, q, now):
        return {"results": [{"statement_id": 0, "error": "database not found: db"}]}

    batch.query = failing
    batch.run_due(ns("2026-01-01 00:00:10"))
    assert read_execution(env.states, "org", "b").error == "error executing query: database not found: db"
    assert ("error", "error executing query") in [(lvl, msg) for lvl, msg, _ in logs]
    tasks.execution_of = lambda org, task_id: read_execution(env.states, org, task_id)
    assert tasks.get_task("org", "b", View())["error"] == "error executing query: database not found: db"


def test_a_run_out_of_time_leaves_the_due_times_for_the_next_minute():
    env = _setup()
    now = ns("2026-01-01 00:00:31")
    assert env.batch.run_due(now, keep_going=lambda: False) == 0 and env.queries == []
    assert env.batch.run_due(now) == 1 and len(env.queries) == 3  # nothing was lost meanwhile
