"""Kapacitor's log entries (chalicelib/kit/logrecords.py, chalicelib/kapacitor/logs.py): their logfmt
and JSON lines as Kapacitor's diagnostic writes them, the query's filters (`key=value`, `lvl=<level>+`)
and parameters, the bounded tail over a ring, and the log lines a task's run and an alert `log` handler
leave."""

from __future__ import annotations

import json

import pytest

from chalicelib.alert.dispatch import DELIVERY, Dispatcher
from chalicelib.alert.events import Level
from chalicelib.alert.service import AlertService
from chalicelib.kapacitor.logs import (
    MAX_READ,
    POLL_INTERVAL,
    WINDOW,
    Entry,
    LogQuery,
    LogTail,
    json_line,
    logfmt,
    parse_query,
    parse_time,
)
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.logrecords import MAX_ENTRY_BYTES, record, with_context
from chalicelib.kit.time import SECOND
from chalicelib.tick.effects import TaskEffects
from chalicelib.tick.exec import Point
from chalicelib.tick.matching import TickMatcher
from chalicelib.tick.outbox import LOG, MAX_LOG_LINES, outbox_of
from tests.unit.test_alert_dispatch import Aggregates, Queue, Sender
from tests.unit.test_alert_service import MemoryAlerts, _event
from tests.unit.test_tick_exec_alert import runtime

TS = parse_time("2017-11-08T22:40:47.183Z")


def _entry(msg: str = "point", lvl: str = "info", **keys) -> Entry:
    return Entry.stamped(TS, record(lvl, msg, keys.items()))


# -- encodings ------------------------------------------------------------------------------------------


def test_logfmt_is_kapacitors_line() -> None:
    entry = _entry(service="kapacitor", task="t", node="log2", prefix="", count=3, ok=True, f=1.5)
    assert logfmt(entry) == (
        "ts=2017-11-08T22:40:47.183Z lvl=info msg=point service=kapacitor task=t node=log2 prefix= "
        "count=3 ok=true f=1.5\n"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain", "plain"),
        ("two words", '"two words"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("a=b", '"a=b"'),
        ("line\nbreak", '"line\\nbreak"'),
        ("back\\slash", "back\\slash"),
        ("", ""),
    ],
)
def test_logfmt_quotes_spaces_quotes_equals_and_control_characters(value: str, shown: str) -> None:
    assert logfmt(_entry(v=value)).split(" v=", 1)[1] == shown + "\n"


def test_a_quoted_message() -> None:
    assert ' msg="created log session" ' in logfmt(_entry("created log session", id="x"))


def test_groups_spread_in_logfmt_and_nest_in_json() -> None:
    entry = _entry(
        name="cpu", tag={"host": "a b"}, field={"value": 100.0, "n": 2}, time="1970-01-01T00:00:00Z"
    )
    assert 'name=cpu tag_host="a b" field_value=100 field_n=2 time=1970-01-01T00:00:00Z' in logfmt(entry)
    line = json_line(entry)
    assert line.endswith("}\n")
    assert line == (
        '{"ts":"2017-11-08T22:40:47.183Z","lvl":"info","msg":"point","name":"cpu","tag":{"host":"a b"},'
        '"field":{"value":100,"n":2},"time":"1970-01-01T00:00:00Z"}\n'
    )
    assert json.loads(line)["field"] == {"value": 100, "n": 2}


def test_json_keeps_the_order_and_escapes() -> None:
    line = json_line(_entry('a "quoted" msg', "error", err='x "y"', nil=None, big=1e21))
    assert json.loads(line) == {
        "ts": "2017-11-08T22:40:47.183Z",
        "lvl": "error",
        "msg": 'a "quoted" msg',
        "err": 'x "y"',
        "nil": "nil",
        "big": 1000000000000000000000,
    }
    assert list(json.loads(line)) == ["ts", "lvl", "msg", "err", "nil", "big"]


def test_non_finite_numbers_stay_valid_json() -> None:
    assert json.loads(json_line(_entry(v=float("inf"))))["v"] == "+Inf"


def test_an_entry_too_long_is_cut_and_says_so() -> None:
    rec = record(
        "info", "point", [("a", "x" * 10_000), ("b", "y" * 10_000)] + [(f"k{i}", i) for i in range(500)]
    )
    assert len(json.dumps(rec, separators=(",", ":")).encode()) <= MAX_ENTRY_BYTES
    assert rec["keys"][-1] == ["truncated", True]
    assert rec["keys"][0][1].startswith("x") and rec["keys"][0][1].endswith("...")


def test_levels_are_kapacitors_three() -> None:
    assert [record(level, "m", [])["lvl"] for level in ("DEBUG", "INFO", "WARN", "ERROR", "x")] == [
        "debug",
        "info",
        "info",
        "error",
        "info",
    ]


# -- the query ------------------------------------------------------------------------------------------


def test_every_parameter_is_a_filter_all_must_match() -> None:
    query = parse_query({"task": ["t"], "node": ["log2"]})
    assert query.matches(_entry(task="t", node="log2"))
    assert not query.matches(_entry(task="t", node="log3"))
    assert not query.matches(_entry(task="t"))  # a key the entry lacks
    assert parse_query({}).matches(_entry())


def test_lvl_and_msg_filter_and_values_compare_as_logfmt_shows_them() -> None:
    assert parse_query({"lvl": ["error"]}).matches(_entry(lvl="error"))
    assert not parse_query({"lvl": ["info"]}).matches(_entry(lvl="error"))
    assert parse_query({"msg": ["begin batch"]}).matches(_entry("begin batch"))
    entry = _entry(tag={"host": "a"}, field={"value": 1.0}, ok=False)
    assert parse_query({"tag_host": ["a"], "field_value": ["1"], "ok": ["false"]}).matches(entry)


def test_a_minimum_level() -> None:
    query = parse_query({"lvl": ["info+"]})
    assert query.min_level == "info" and not query.tags
    assert [query.matches(_entry(lvl=level)) for level in ("debug", "info", "error")] == [False, True, True]
    assert parse_query({"lvl": ["ERROR+"]}).min_level == "error"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"task": ["a", "b"]}, "query params cannot contain duplicate params"),
        ({"lvl": ["warn+"]}, 'invalid log level "warn+": want debug+, info+ or error+'),
        ({"since": ["yesterday"]}, 'invalid since "yesterday": want an RFC 3339 time'),
        ({"since": ["2017-02-30T00:00:00Z"]}, 'invalid since "2017-02-30T00:00:00Z": want an RFC 3339 time'),
        ({"wait": ["21"]}, 'invalid wait "21": want seconds from 0 to 20'),
        ({"wait": ["-1"]}, 'invalid wait "-1": want seconds from 0 to 20'),
        ({"wait": ["nan"]}, 'invalid wait "nan": want seconds from 0 to 20'),
    ],
)
def test_bad_parameters(params: dict, message: str) -> None:
    with pytest.raises(TicklessError) as raised:
        parse_query(params)
    assert (raised.value.code, raised.value.message) == ("invalid", message)


def test_since_and_wait_are_not_filters() -> None:
    query = parse_query({"since": ["2017-11-08T17:40:47.5-05:00"], "wait": ["0.5"], "task": ["t"]})
    assert query.since == parse_time("2017-11-08T22:40:47.500Z") == TS + 317_000_000
    assert (query.wait, query.tags) == (0.5, (("task", "t"),))


@pytest.mark.parametrize(
    ("accept", "content_type", "as_json"),
    [
        ("", "", False),
        ("application/json", "", True),
        ("", "application/json; charset=utf-8", True),
        ("*/*", "text/plain", False),
    ],
)
def test_json_when_asked_by_accept_or_content_type(accept: str, content_type: str, as_json: bool) -> None:
    assert parse_query({}, accept, content_type).as_json is as_json


# -- the bounded tail -----------------------------------------------------------------------------------


class Ring:
    """An org's entries in stamp order, read as DynamoDB's Query would."""

    def __init__(self) -> None:
        self.entries: dict[str, list[Entry]] = {}
        self.reads = 0

    def add(self, org: str, ts: int, **keys) -> None:
        self.entries.setdefault(org, []).append(Entry.stamped(ts, record("info", "m", keys.items())))

    def read(self, org_id: str, after: int, limit: int, newest_first: bool = False) -> list[Entry]:
        self.reads += 1
        found = [e for e in self.entries.get(org_id, []) if e.ts > after]
        return list(reversed(found))[:limit] if newest_first else found[:limit]


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now
        self.slept: list[float] = []
        self.on_sleep = lambda: None

    def __call__(self) -> int:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += int(seconds * SECOND)
        self.on_sleep()


NOW = 10_000 * SECOND


def _tail(ring: Ring) -> tuple[LogTail, Clock]:
    clock = Clock(NOW)
    return LogTail(ring, clock, clock.sleep), clock


def test_without_since_the_recent_window_oldest_first() -> None:
    ring = Ring()
    for i, ts in enumerate([NOW - WINDOW - 1, NOW - WINDOW + 1, NOW - 5, NOW - 1]):
        ring.add("o", ts, n=i, task="t" if i != 2 else "u")
    tail, clock = _tail(ring)
    answer = tail.tail("o", LogQuery(tags=(("task", "t"),)))
    assert [dict(e.keys)["n"] for e in answer.entries] == [1, 3]
    assert answer.next_since == NOW - 1  # the last entry read, matching or not
    assert clock.slept == []


def test_with_since_the_first_entries_after_it() -> None:
    ring = Ring()
    for i in range(MAX_READ + 5):
        ring.add("o", NOW - 2 * WINDOW + i, n=i)
    tail, _ = _tail(ring)
    answer = tail.tail("o", LogQuery(since=NOW - 2 * WINDOW + 2))
    assert len(answer.entries) == MAX_READ and dict(answer.entries[0].keys)["n"] == 3
    assert answer.next_since == answer.entries[-1].ts
    rest = tail.tail("o", LogQuery(since=answer.next_since))
    assert [dict(e.keys)["n"] for e in rest.entries] == [MAX_READ + 3, MAX_READ + 4]


def test_waits_for_a_first_match_then_answers() -> None:
    ring = Ring()
    ring.add("o", NOW - 1, task="other")
    tail, clock = _tail(ring)
    clock.on_sleep = lambda: len(clock.slept) == 3 and ring.add("o", clock.now, task="t")
    answer = tail.tail("o", LogQuery(tags=(("task", "t"),), wait=10))
    assert [dict(e.keys)["task"] for e in answer.entries] == ["t"]
    assert clock.slept == [POLL_INTERVAL] * 3


def test_the_wait_ends_empty_at_its_bound() -> None:
    ring = Ring()
    tail, clock = _tail(ring)
    answer = tail.tail("o", LogQuery(wait=2.5))
    assert answer.entries == [] and sum(clock.slept) == 2.5 and clock.now == NOW + int(2.5 * SECOND)
    assert answer.next_since == NOW - WINDOW
    assert tail.tail("o", LogQuery(wait=0)).entries == []


def test_an_org_reads_only_its_own_entries() -> None:
    ring = Ring()
    ring.add("theirs", NOW - 1, task="t")
    tail, _ = _tail(ring)
    assert tail.tail("mine", LogQuery(tags=(("task", "t"),), wait=0)).entries == []


# -- the writers ----------------------------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.appended: list[tuple[str, list[dict]]] = []

    def append(self, org_id: str, records: list[dict]) -> None:
        self.appended.append((org_id, records))


def _effects(sink: Sink) -> TaskEffects:
    return TaskEffects(Queue(), None, None, logs=sink)  # type: ignore[arg-type]


def test_a_log_nodes_lines_become_task_entries() -> None:
    task = runtime("stream|from()|log().prefix('P').level('WARN')")
    outputs = task.feed_points([Point("m", 0, {"v": 1.0}, {"h": "a"})])
    [message] = [m for m in outbox_of(task.pipeline, outputs) if m["type"] == LOG]
    sink = Sink()
    _effects(sink).send("org", "t1", [message])
    [(org, [rec])] = sink.appended
    entry = Entry.stamped(TS, rec)
    assert org == "org"
    assert logfmt(entry) == (
        "ts=2017-11-08T22:40:47.183Z lvl=info msg=point service=kapacitor task=t1 node=log2 prefix=P "
        "name=m db= rp= group= tag_h=a field_v=1 time=1970-01-01T00:00:00Z\n"
    )
    assert json.loads(json_line(entry))["tag"] == {"h": "a"}


def test_a_run_keeps_at_most_its_limit_of_lines_and_says_how_many_more() -> None:
    task = runtime("stream|from()|log()")
    outputs = task.feed_points([Point("m", i, {"v": 1.0}, {}) for i in range(MAX_LOG_LINES + 7)])
    [message] = [m for m in outbox_of(task.pipeline, outputs) if m["type"] == LOG]
    assert (len(message["records"]), message["dropped"]) == (MAX_LOG_LINES, 7)
    sink = Sink()
    _effects(sink).send("org", "t1", [message])
    last = Entry.stamped(TS, sink.appended[0][1][-1])
    assert (last.lvl, dict(last.keys)["dropped"], dict(last.keys)["task"]) == ("error", 7, "t1")


def test_a_nodes_error_line_keeps_its_node_and_a_runs_own_has_none() -> None:
    task = runtime("stream|from()|eval(lambda: \"v\" / 0).as('x')")
    outputs = task.feed_points([Point("m", 0, {"v": "s"}, {})])
    [message] = [m for m in outbox_of(task.pipeline, outputs) if m["type"] == LOG]
    keys = dict(message["records"][0]["keys"])
    assert message["records"][0]["lvl"] == "error" and keys["node"] == "eval2" and "err" in keys
    orphan = with_context(record("error", "discarded unreadable task state", []), [("task", "t")])
    assert orphan["keys"] == [["task", "t"]]


def test_no_lines_no_log_message_and_nothing_appended() -> None:
    task = runtime("stream|from()|log()")
    assert outbox_of(task.pipeline, task.feed_points([])) == []
    sink = Sink()
    _effects(sink).send("org", "t1", [])
    assert sink.appended == []


def test_an_alert_log_handler_line_is_an_alert_entry() -> None:
    sink, sender = Sink(), Sender()
    dispatcher = Dispatcher(
        AlertService(MemoryAlerts(), TickMatcher()), Queue(), sender, Aggregates(), logs=sink
    )
    event = _event(Level.CRITICAL, tags={"host": "a"})
    options = {"path": "/tmp/alerts.log", "mode": 0o600}
    message = {"type": DELIVERY, "org": "org", "task": "t", "topic": "main:t:alert2", "kind": "log"}
    dispatcher.handle({**message, "options": options, "event": event.to_state()})
    assert sender.sent == []
    [(org, [rec])] = sink.appended
    keys = dict(rec["keys"])
    assert (org, rec["lvl"], rec["msg"]) == ("org", "info", "alert")
    assert [k for k, _ in rec["keys"]][:5] == ["service", "task", "topic", "handler", "path"]
    assert (keys["service"], keys["path"], keys["level"]) == ("alert", "/tmp/alerts.log", "CRITICAL")
    assert keys["id"] == event.id and json.loads(keys["data"]) == event.data


def test_without_a_sink_the_log_handler_goes_to_the_sender() -> None:
    sender = Sender()
    dispatcher = Dispatcher(AlertService(MemoryAlerts(), TickMatcher()), Queue(), sender, Aggregates())
    event = _event(Level.CRITICAL)
    message = {"type": DELIVERY, "org": "org", "task": "t", "topic": "x", "kind": "log"}
    dispatcher.handle(
        {**message, "options": {"path": "/tmp/a.log", "mode": 0o600}, "event": event.to_state()}
    )
    assert [d.transport for d in sender.sent] == ["log"]
