"""A task's execution in event time: its pipeline's nodes as executing nodes, fed points (stream tasks) or
query results (batch tasks), every message passed depth first to the children of the node that emitted it.
All state is plain JSON data, so an invocation can load it, feed one batch of input, and save it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from chalicelib.kit import fastjson
from chalicelib.kit.errors import invalid
from chalicelib.tick.exec.alerting import AlertExec
from chalicelib.tick.exec.base import Context, NodeExec, RuntimeConfig
from chalicelib.tick.exec.combining import JoinExec, UnionExec
from chalicelib.tick.exec.httppost import HttpPostExec
from chalicelib.tick.exec.influxql import InfluxQLExec
from chalicelib.tick.exec.merging import CombineExec, FlattenExec
from chalicelib.tick.exec.model import Batch, Message, Point
from chalicelib.tick.exec.outputs import LogLine, Outputs
from chalicelib.tick.exec.sinks import HttpOutExec, InfluxDBOutExec, LogExec
from chalicelib.tick.exec.sources import FromExec, PassExec, QueryExec
from chalicelib.tick.exec.stateful import ChangeDetectExec, DerivativeExec, StateTrackExec
from chalicelib.tick.exec.stats import GroupCounts, StatsExec
from chalicelib.tick.exec.transforms import (
    DefaultExec,
    DeleteExec,
    EvalExec,
    GroupByExec,
    SampleExec,
    ShiftExec,
    WhereExec,
)
from chalicelib.tick.exec.window import WindowExec
from chalicelib.tick.pipeline import Node, Pipeline

STATE_VERSION = 1
# Points a run of `feed_points` holds at most: long enough that per-run costs vanish, short enough that
# the runs' lists stay small.
RUN_LENGTH = 1024

EXECS: dict[str, type[NodeExec]] = {
    "stream": PassExec,
    "batch": PassExec,
    "noop": PassExec,
    "query": QueryExec,
    "from": FromExec,
    "where": WhereExec,
    "eval": EvalExec,
    "default": DefaultExec,
    "delete": DeleteExec,
    "shift": ShiftExec,
    "sample": SampleExec,
    "groupBy": GroupByExec,
    "window": WindowExec,
    "influxql": InfluxQLExec,
    "derivative": DerivativeExec,
    "changeDetect": ChangeDetectExec,
    "stateDuration": StateTrackExec,
    "stateCount": StateTrackExec,
    "alert": AlertExec,
    "httpOut": HttpOutExec,
    "influxDBOut": InfluxDBOutExec,
    "httpPost": HttpPostExec,
    "log": LogExec,
    "union": UnionExec,
    "join": JoinExec,
    "stats": StatsExec,
    "flatten": FlattenExec,
    "combine": CombineExec,
}


def _signature(nodes: list[Node]) -> list[str]:
    return [f"{n.name}:{n.type}" for n in nodes]


class TaskRuntime:
    def __init__(self, pipeline: Pipeline, ctx: Context) -> None:
        self.pipeline = pipeline
        self.ctx = ctx
        self.nodes = pipeline.sorted_nodes()
        self.execs: dict[int, NodeExec] = {}
        for node in self.nodes:
            kind = EXECS.get(node.type)
            if kind is None:
                raise invalid(f"the {node.type} node is not supported by this runtime")
            self.execs[id(node)] = kind(node, ctx)
        self.by_name = {node.name: self.execs[id(node)] for node in self.nodes}
        # Each node's out edges: the child, its name (for `processed`) and which parent of it the node is.
        self.edges: dict[int, list[tuple[Node, str, int]]] = {
            id(node): [(child, child.name, child.parents.index(node)) for child in node.children]
            for node in self.nodes
        }
        # Nodes a stats node watches count what they emit by group (on their first out edge).
        self.counts: dict[int, GroupCounts] = {}
        for ex in self.execs.values():
            if isinstance(ex, StatsExec) and ex.node.source_node is not None:
                counts = self.counts.setdefault(id(ex.node.source_node), GroupCounts(ctx.config.max_groups))
                ex.watched = counts
        self.watermark: int | None = None
        self.next_sweep: int | None = None
        # Stream points move through the chain of batched nodes after the source in runs (see
        # `_deliver_many`); False: one message at a time, the reference the runs must match.
        self.batching = True

    # ---- building and saving ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls, pipeline: Pipeline, state: dict[str, Any] | None = None, config: RuntimeConfig | None = None
    ) -> TaskRuntime:
        """The runtime of `pipeline`, resuming from `state` (a `to_state()`); a state saved for another
        pipeline (a changed script) is ignored, as Kapacitor starts an updated task afresh."""
        runtime = cls(pipeline, Context(config or RuntimeConfig()))
        if (
            state
            and state.get("version") == STATE_VERSION
            and state.get("nodes_sig") == _signature(runtime.nodes)
        ):
            try:
                runtime._load(state)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
                # A state that cannot be read must not stop the task for good: it starts afresh, as
                # Kapacitor's tasks do after a restart, and says so in the next feed's log.
                runtime = cls(pipeline, runtime.ctx)
                runtime.ctx.pending_logs.append(
                    LogLine("error", "task", "discarded unreadable task state", {"err": repr(err)})
                )
        return runtime

    def _load(self, state: dict[str, Any]) -> None:
        self.watermark = state.get("watermark")
        self.next_sweep = state.get("next_sweep")
        for name, data in state.get("nodes", {}).items():
            if name in self.by_name:
                self.by_name[name].load_state(data)
        counts = state.get("group_counts", {})
        for node in self.nodes:
            if id(node) in self.counts and node.name in counts:
                self.counts[id(node)].load(counts[node.name])

    def to_state(self) -> dict[str, Any]:
        state = {
            "version": STATE_VERSION,
            "nodes_sig": _signature(self.nodes),
            "watermark": self.watermark,
            "next_sweep": self.next_sweep,
            "nodes": {name: ex.to_state() for name, ex in self.by_name.items()},
            "group_counts": {
                n.name: self.counts[id(n)].to_state() for n in self.nodes if id(n) in self.counts
            },
        }
        # A copy through JSON: detached from the live state, and proof that it is plain data.
        return fastjson.copy(state)

    # ---- feeding -------------------------------------------------------------------------------------------

    def feed_points(self, points: Iterable[Point]) -> Outputs:
        """A stream task's points (of its dbrps), in arrival order."""
        source = self.pipeline.sources[0] if self.pipeline.sources else None
        if source is None or source.type != "stream":
            raise invalid("feed_points needs a stream task")
        self._begin()
        if not self.batching:
            for p in points:
                self._advance(p.time)
                self._deliver(source, p, 0)
        else:
            for run in self._runs(points):
                self._deliver_many(source, run, 0)
        return self._finish()

    def _runs(self, points: Iterable[Point]) -> Iterator[list[Point]]:
        """The points in runs that no sweep of idle groups falls within, with `_advance`'s effects: a run
        ends before a point that brings a sweep, and is yielded (delivered) before that sweep, so the sweep
        falls between the same points as when they go one at a time. (Nothing reads the watermark while
        points are delivered: moving it before a run's delivery is the same as moving it point by point.)"""
        run: list[Point] = []
        idle = self.ctx.config.group_idle
        for p in points:
            # `_move_watermark`, inline: this runs once per point
            watermark = self.watermark
            if watermark is None or p.time > watermark:
                self.watermark = watermark = p.time
            if idle > 0:
                if self.next_sweep is None:
                    self.next_sweep = watermark + idle
                elif watermark >= self.next_sweep:
                    if run:
                        yield run
                        run = []
                    self._sweep()
                    run.append(p)
                    continue
            if len(run) >= RUN_LENGTH:
                yield run
                run = []
            run.append(p)
        if run:
            yield run

    def feed_batch(self, node_name: str, batch: Batch) -> Outputs:
        """A batch task's query result for the query node `node_name` (e.g. `query1`)."""
        ex = self.by_name.get(node_name)
        if ex is None or ex.node.type not in ("query", "queryFlux"):
            raise invalid(f"no query node named {node_name}")
        self._begin()
        self._advance(batch.tmax)
        self._deliver(ex.node, batch, 0)
        return self._finish()

    def tick(self, now: int) -> Outputs:
        """The wall clock at `now` (ns): stats nodes (so deadman switches) emit once an interval passed."""
        self._begin()
        for node in self.nodes:
            ex = self.execs[id(node)]
            if isinstance(ex, StatsExec):
                stack: list[tuple[Node, Message, int]] = []
                self._forward(node, ex, ex.due(now), stack)
                self._run(stack)
        return self._finish()

    def _begin(self) -> None:
        self.ctx.outputs = Outputs(logs=self.ctx.pending_logs)
        self.ctx.pending_logs = []

    def _deliver(self, node: Node, msg: Message, parent: int) -> None:
        self._run([(node, msg, parent)])

    def _deliver_many(self, node: Node, msgs: list[Message], parent: int) -> None:
        """`_deliver` of each message in turn, in runs through batched nodes: a node handles a run, then
        what it emitted goes on (`_forward_many`). That is the depth-first order's outcome because a
        batched node's `handle_many` touches nothing but its own state, which what follows it never
        reads; what it cannot handle so goes through `_deliver`, after what came before it."""
        ex = self.execs[id(node)]
        if not ex.batched:
            for msg in msgs:
                self._deliver(node, msg, parent)
            return
        start, total = 0, len(msgs)
        while start < total:
            end, out, err = ex.receive_many(msgs, start)
            if out:
                self._forward_many(node, ex, out)
            if err is not None:
                ex.failed(err)  # msgs[end - 1]'s exception, logged or raised where `receive` does
                start = end
            elif end < total:
                self._deliver(node, msgs[end], parent)
                start = end + 1
            else:
                start = end

    def _forward_many(self, node: Node, ex: NodeExec, out: list[Message]) -> None:
        """`_forward` of each message emitted, in order: the run goes on whole to a node's only child
        when that child has no other parent (so no other messages to interleave with) and no stats node
        counts what the node emits."""
        edges = self.edges[id(node)]
        if not edges:
            return
        child, name, index = edges[0]
        if len(edges) == 1 and len(child.parents) == 1 and id(node) not in self.counts:
            processed = ex.stats.processed
            processed[name] = processed.get(name, 0) + len(out)
            self._deliver_many(child, out, index)
            return
        for msg in out:
            stack: list[tuple[Node, Message, int]] = []
            self._forward(node, ex, [msg], stack)
            self._run(stack)

    def _run(self, stack: list[tuple[Node, Message, int]]) -> None:
        # Depth first, each node handling its messages in order: what Kapacitor's edges guarantee.
        execs = self.execs
        forward = self._forward
        while stack:
            current, message, index = stack.pop()
            ex = execs[id(current)]
            out = ex.receive(message, index)
            if out:
                forward(current, ex, out, stack)

    def _forward(
        self, node: Node, ex: NodeExec, out: list[Message], stack: list[tuple[Node, Message, int]]
    ) -> None:
        if not out:
            return
        edges = self.edges[id(node)]
        if not edges:
            return
        counts = self.counts.get(id(node))
        processed = ex.stats.processed
        if counts is None and len(edges) == 1 and len(out) == 1:  # the usual chain: one message, one child
            child, name, index = edges[0]
            processed[name] = processed.get(name, 0) + 1
            stack.append((child, out[0], index))
            return
        pending: list[tuple[Node, Message, int]] = []
        for emitted in out:
            if counts is not None:
                counts.count(emitted)
            for child, name, index in edges:
                processed[name] = processed.get(name, 0) + 1
                pending.append((child, emitted, index))
        stack.extend(reversed(pending))

    def _advance(self, t: int) -> None:
        """Event time moves on: groups idle for longer than the configured time are forgotten. The sweep
        runs at fixed event times, so a run split across invocations forgets exactly what one run does."""
        if self._move_watermark(t):
            self._sweep()

    def _move_watermark(self, t: int) -> bool:
        """The watermark moves to `t` if later; whether a sweep is due."""
        if self.watermark is None or t > self.watermark:
            self.watermark = t
        idle = self.ctx.config.group_idle
        if idle <= 0:
            return False
        if self.next_sweep is None:
            self.next_sweep = self.watermark + idle
            return False
        return self.watermark >= self.next_sweep

    def _sweep(self) -> None:
        assert self.watermark is not None
        idle = self.ctx.config.group_idle
        for ex in self.execs.values():
            ex.expire(self.watermark - idle)
        self.next_sweep = self.watermark + idle

    def _finish(self) -> Outputs:
        out = self.ctx.outputs
        for ex in self.execs.values():
            if isinstance(ex, HttpOutExec):
                out.http[ex.node.endpoint] = ex.result()
        out.stats = self.stats()
        return out

    def stats(self) -> dict[str, dict[str, Any]]:
        """By node name: `stats` and `processed` as executing_dot takes them, `collected` and `emitted`."""
        return {
            name: {
                "stats": ex.node_stats(),
                "processed": {c.name: ex.stats.processed.get(c.name, 0) for c in ex.node.children},
                "collected": ex.stats.collected,
                "emitted": ex.stats.emitted,
            }
            for name, ex in self.by_name.items()
        }
