"""Kapacitor's batch tasks: when each `query` node is due, the InfluxQL it runs then, its result as the
task's batches, and a run of an enabled batch task for every time due up to now.

Schedules, as Kapacitor's query nodes tick (batch.go):
- `.every(d)`: every `d` from the moment the task started (here: its `last-enabled` time);
- `.every(d).align()`: at every multiple of `d` (counted, as Go's time.Truncate counts, from Go's zero
  time: the same as from the Unix epoch for any `d` dividing a day);
- `.cron(expr)`: at each time the cron expression gives (chalicelib.tick.cron), `.align()` ignored.
A tick at `t` queries `[t - offset - period, t - offset)`. The query is the node's SELECT with that time
range added to its WHERE (`(<where>) AND time >= start AND time < stop`, built on the InfluxQL syntax tree
as Kapacitor builds its tree), its GROUP BY replaced by the node's `.groupBy()` (a time dimension as
`time(d, offset)`; with `.alignGroup()` the offset becomes the start's remainder of `d`) and its fill by
`.fill()`. Each result series is one batch (`.groupByMeasurement()` keeps the measurement in its group);
numbers arrive as floats, as Kapacitor's InfluxDB client decodes them; a batch's time is its last point's
when grouped by time, the query's stop otherwise or when empty."""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.influxql import ast
from chalicelib.influxql.generator import generate
from chalicelib.influxql.parser import ParseError, parse
from chalicelib.kit.errors import TicklessError, invalid
from chalicelib.tick.cron import CronExpr, parse_cron
from chalicelib.tick.exec.model import Batch, BatchPoint
from chalicelib.tick.exec.outputs import Outputs
from chalicelib.tick.exec.runtime import TaskRuntime
from chalicelib.tick.execution import Step, TaskRunner, has_alerts
from chalicelib.tick.tasks import (
    BATCH_INDEX,
    ENABLED,
    INDEX_PARTITION,
    TASKS,
    DefinitionStore,
    compile_task,
)
from chalicelib.tick.values import Duration, Star, TimeDimension

GO_ZERO_TO_EPOCH = 62_135_596_800 * 1_000_000_000  # Go's zero time (year 1) to the Unix epoch, in ns
MAX_DUE = 600  # due times one run of a query node catches up; older ones are skipped (and logged)
_FILLS = {"null": "null", "none": "none", "previous": "previous", "linear": "linear"}


class BatchQuerier(Protocol):
    """The InfluxQL engine, for the task's organization: the v1 JSON answer with times in ns."""

    def __call__(self, org_id: str, query: str, now: int) -> dict[str, Any]: ...


def _go_rem(a: int, b: int) -> int:
    """Go's `%`: the remainder takes the sign of the dividend."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def go_truncate(t: int, d: int) -> int:
    """Go's time.Truncate(d) of the instant `t` (ns since the Unix epoch)."""
    if d <= 0:
        return t
    return t - (t + GO_ZERO_TO_EPOCH) % d


@dataclass(frozen=True)
class Schedule:
    every: int = 0
    align: bool = False
    cron: CronExpr | None = None

    def next_after(self, t: int) -> int | None:
        """The tick after `t`: `t` is the task's start or one of its ticks."""
        if self.cron is not None:
            return self.cron.next_after(t)
        if self.align:
            return go_truncate(t, self.every) + self.every
        return t + self.every

    def due(self, start: int, last: int | None, now: int, limit: int = MAX_DUE) -> tuple[list[int], int]:
        """The ticks after `last` (after `start`, the task's start, before the first) up to `now`
        included: at most the `limit` latest, and how many earlier ones were skipped."""
        t = start if last is None else last
        skipped = 0
        if self.cron is None:
            first = self.next_after(t)
            if first > now:
                return [], 0
            count = (now - first) // self.every + 1
            if count > limit:
                skipped = count - limit
                first += skipped * self.every
            return [first + k * self.every for k in range(min(count, limit))], skipped
        ticks: deque[int] = deque(maxlen=limit)
        for _ in range(limit * 1000):  # a cron of every second, down for days: bounded work
            nxt = self.next_after(t)
            if nxt is None or nxt > now:
                break
            if len(ticks) == limit:
                skipped += 1
            ticks.append(nxt)
            t = nxt
        return list(ticks), skipped


class QueryNodePlan:
    """A query node's schedule and query, checked as Kapacitor checks them when it starts the task."""

    def __init__(self, node: Any) -> None:
        self.name: str = node.name
        self.period: int = int(node.period)
        self.offset: int = int(node.offset)
        self.by_name: bool = bool(node.group_by_measurement)
        self.align_group: bool = bool(node.align_group)
        self.statement = select_statement(node.query)
        self.time_dimension: tuple[int, int] | None = None
        self.statement.dimensions = self._dimensions(node.dimensions)
        _fill(self.statement, node.fill)
        every, cron = int(node.every), node.cron or ""
        if every != 0 and cron:
            raise invalid("must not set both 'every' and 'cron' properties")
        if every > 0:
            self.schedule = Schedule(every=every, align=bool(node.align))
        elif cron:
            self.schedule = Schedule(cron=parse_cron(cron))
        elif every < 0:
            raise invalid("'every' duration must must non-negative")
        else:
            raise invalid("must define one of 'every' or 'cron'")

    def _dimensions(self, dims: list[Any]) -> list[ast.Dimension]:
        out: list[ast.Dimension] = []
        for dim in dims:
            if isinstance(dim, Duration | TimeDimension):
                if self.time_dimension is not None:
                    raise invalid("groupBy cannot have more than one time dimension")
                if isinstance(dim, Duration):
                    self.time_dimension = (dim.nanoseconds, 0)
                else:
                    self.time_dimension = (dim.length, dim.offset)
                out.append(ast.Dimension(ast.Call("time", [])))  # its literals are set per query
            elif isinstance(dim, str):
                out.append(ast.Dimension(ast.VarRef(dim)))
            elif isinstance(dim, Star):
                out.append(ast.Dimension(ast.Wildcard()))
            else:
                raise invalid(f"invalid dimension type:{type(dim).__name__}, must be string or time.Duration")
        return out

    @property
    def grouped_by_time(self) -> bool:
        return self.time_dimension is not None

    def bounds(self, tick: int) -> tuple[int, int]:
        stop = tick - self.offset
        return stop - self.period, stop

    def query_at(self, tick: int) -> ast.SelectStatement:
        """The statement run at `tick`."""
        start, stop = self.bounds(tick)
        statement = copy.deepcopy(self.statement)
        time_range = ast.BinaryExpr(
            "AND",
            ast.BinaryExpr(">=", ast.VarRef("time"), ast.TimeLiteral(start)),
            ast.BinaryExpr("<", ast.VarRef("time"), ast.TimeLiteral(stop)),
        )
        where = statement.condition
        statement.condition = time_range if where is None else ast.BinaryExpr("AND", where, time_range)
        if self.time_dimension is not None:
            length, offset = self.time_dimension
            if self.align_group:
                offset = _go_rem(start, length)
            for dim in statement.dimensions:
                if isinstance(dim.expr, ast.Call) and dim.expr.name == "time":
                    dim.expr.args = [ast.DurationLiteral(length), ast.DurationLiteral(offset)]
        return statement

    def text_at(self, tick: int) -> str:
        return generate(self.query_at(tick))

    def batches(self, payload: dict[str, Any], tick: int) -> list[Batch]:
        """The query's answer as batches, one per series; raises TicklessError for an error answer."""
        _, stop = self.bounds(tick)
        batches: list[Batch] = []
        for name, tags, rows in answer_series(payload):
            points = [BatchPoint(time, fields, dict(tags)) for time, fields in rows]
            tmax = max((p.time for p in points), default=None)
            if tmax is None or not self.grouped_by_time:
                tmax = stop
            batches.append(Batch(name, tmax, tags, points, by_name=self.by_name))
        return batches


Row = tuple[int, dict[str, Any]]  # (time, fields)


def answer_series(payload: dict[str, Any]) -> list[tuple[str, dict[str, str], list[Row]]]:
    """An InfluxQL answer's series as Kapacitor's InfluxDB client reads them: (name, tags, rows), a row
    without any value left out, every number a float; an error answer raises TicklessError."""
    out: list[tuple[str, dict[str, str], list[Row]]] = []
    for result in payload.get("results") or []:
        if result.get("error"):
            raise invalid(result["error"])
        for series in result.get("series") or []:
            columns = series.get("columns") or []
            rows: list[Row] = []
            for row in series.get("values") or []:
                time, fields = 0, {}
                for column, value in zip(columns, row, strict=False):
                    if column == "time":
                        time = int(value)
                    elif value is not None:
                        fields[column] = _decoded(value)
                if fields:
                    rows.append((time, fields))
            out.append((series.get("name", ""), dict(series.get("tags") or {}), rows))
    return out


def _decoded(value: Any) -> Any:
    """A value as Kapacitor's InfluxDB client reads it: every JSON number a float."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def select_statement(text: str) -> ast.SelectStatement:
    try:
        statements = parse(text)
    except ParseError as exc:
        raise invalid(f"failed to parse InfluxQL query: {exc}") from None
    if len(statements) != 1:
        raise invalid(f"query must be a single select statement, got {len(statements)} statements")
    statement = statements[0]
    if not isinstance(statement, ast.SelectStatement):
        raise invalid(f"query is not a select statement {_go_quote(generate(statement))}")
    return statement


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fill(statement: ast.SelectStatement, fill: Any) -> None:
    if fill is None:
        return
    if isinstance(fill, bool):
        raise invalid(f"unexpected fill option {'true' if fill else 'false'}")
    if isinstance(fill, str):
        if fill not in _FILLS:
            raise invalid(f"unexpected fill option {fill}")
        statement.fill, statement.fill_value = _FILLS[fill], None
    elif isinstance(fill, int | float):
        statement.fill, statement.fill_value = "number", fill
    else:
        raise invalid(f"unexpected fill option {fill}")


def plans_of(pipeline: Any) -> list[QueryNodePlan]:
    """The plans of a batch pipeline's query nodes, or TicklessError as Kapacitor's task start fails."""
    return [QueryNodePlan(node) for node in pipeline.sorted_nodes() if node.type == "query"]


def started_at(task: dict[str, Any]) -> int | None:
    """When the task was last enabled (its schedule's start), in ns."""
    text = task.get("last-enabled") or ""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (int(moment.timestamp()) * 1_000_000 + moment.microsecond) * 1000


def merge_outputs(into: Outputs, outputs: Outputs) -> None:
    """Add one feed's outputs to a run's (the last feed's statistics win)."""
    into.alerts.extend(outputs.alerts)
    into.points.extend(outputs.points)
    into.posts.extend(outputs.posts)
    into.logs.extend(outputs.logs)
    into.http.update(outputs.http)
    into.stats = outputs.stats


class BatchTasks:
    """Runs the enabled batch tasks (listed by the running-batch index) for every time due up to `now`.
    Per task, one run loads its state, runs each query node's due times in time order (each query's
    series fed to the runtime as batches), and saves once with its outbox, through the TaskRunner that
    stream tasks use: two schedulers running at once never run a due time twice, as the loser runs again
    on the winner's state, where those times are already past."""

    def __init__(
        self,
        definitions: DefinitionStore,
        runner: TaskRunner,
        query: BatchQuerier,
        log: Callable[[str, str, dict[str, Any]], None] = lambda level, message, extra: None,
        max_due: int = MAX_DUE,
    ) -> None:
        self.definitions = definitions
        self.runner = runner
        self.query = query
        self.log = log
        self.max_due = max_due

    def run_due(self, now: int, keep_going: Callable[[], bool] = lambda: True) -> int:
        """Every running batch task's due times up to `now`; returns how many tasks ran. A task that
        fails is logged and the others still run. When `keep_going` says the invocation's time is up,
        the rest wait for the next minute (their due times are kept); each minute starts at another
        task, so none waits for ever behind the others."""
        ran = 0
        entries = self.definitions.list(BATCH_INDEX, INDEX_PARTITION)
        start = (now // 60_000_000_000) % len(entries) if entries else 0
        for entry in entries[start:] + entries[:start]:
            if not keep_going():
                self.log("warning", "batch tasks left for the next run", {"ran": ran})
                break
            org, task_id = entry.get("org", ""), entry.get("task", "")
            task = self.definitions.get(TASKS, org, task_id)
            if task is None or task.get("status") != ENABLED or task.get("type") != "batch":
                continue  # the index is being changed with the task: its definition decides
            try:
                if self.run(org, task, now):
                    ran += 1
            except Exception as exc:  # one task's fault must not stop the others
                self.log("error", "batch task failed", {"task": task_id, "org": org, "error": repr(exc)})
        return ran

    def run(self, org: str, task: dict[str, Any], now: int) -> bool:
        task_id = task["id"]
        try:
            pipeline = compile_task(task).pipeline
            plans = plans_of(pipeline)
        except TicklessError as exc:
            self.log("error", "batch task cannot start", {"task": task_id, "error": exc.message})
            message = exc.message

            def failed(state: dict[str, Any]) -> Step | None:
                return None if state.get("error") == message else Step({"error": message}, Outputs())

            self.runner.run(org, task_id, None, failed)
            return False
        start = started_at(task)
        if start is None:
            return False
        state_changes_only = self.runner.state_changes_only(org) if has_alerts(pipeline) else False

        def step(state: dict[str, Any]) -> Step | None:
            last = dict(state.get("last") or {})
            due: list[tuple[int, int, QueryNodePlan]] = []
            for order, plan in enumerate(plans):
                ticks, skipped = plan.schedule.due(start, last.get(plan.name), now, self.max_due)
                if skipped:
                    self.log(
                        "warning",
                        "batch query times skipped: too many due at once",
                        {"task": task_id, "node": plan.name, "skipped": skipped},
                    )
                due.extend((tick, order, plan) for tick in ticks)
            if not due:
                return None
            due.sort(key=lambda item: (item[0], item[1]))
            config = self.runner.limits.config(task_id, state_changes_only)
            runtime = TaskRuntime.build(pipeline, state.get("runtime"), config)
            outputs = Outputs()
            error = state.get("error") or ""
            for tick, _, plan in due:
                last[plan.name] = tick
                text = plan.text_at(tick)
                self.log(
                    "debug", "starting next batch query", {"task": task_id, "node": plan.name, "query": text}
                )
                try:
                    batches = plan.batches(self.query(org, text, tick), tick)  # now(): the due time
                except TicklessError as exc:
                    error = f"error executing query: {exc.message}"
                    self.log(
                        "error",
                        "error executing query",
                        {"task": task_id, "node": plan.name, "error": exc.message},
                    )
                    continue
                error = ""
                for batch in batches:
                    merge_outputs(outputs, runtime.feed_batch(plan.name, batch))
            outputs.stats = runtime.stats()
            return Step({"runtime": runtime.to_state(), "last": last, "error": error}, outputs)

        return self.runner.run(org, task_id, pipeline, step)
