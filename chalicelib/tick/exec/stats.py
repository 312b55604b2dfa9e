"""StatsNode: at each interval, one point per group of the watched node with what that node has emitted
to its first child (the deadman's switch is such a node, a derivative and an alert). Kapacitor ticks on the
wall clock; here the caller ticks with `TaskRuntime.tick(now)`."""

from __future__ import annotations

from typing import Any

from chalicelib.tick.exec.base import Context, NodeExec
from chalicelib.tick.exec.model import Message, Point, go_round, go_truncate
from chalicelib.tick.pipeline import Node

STATS_NAME = "stats"


class GroupCounts:
    """Per group of a watched node: [emitted, group tags, dimensions, by name] on its first out edge."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counts: dict[str, list[Any]] = {}

    def count(self, msg: Message) -> None:
        entry = self.counts.get(msg.group)
        if entry is None:
            if len(self.counts) >= self.limit:
                return
            tags = msg.group_tags if isinstance(msg, Point) else dict(msg.tags)
            entry = self.counts[msg.group] = [0, tags, list(msg.dimensions), msg.by_name]
        entry[0] += 1

    def to_state(self) -> dict[str, Any]:
        return self.counts

    def load(self, data: dict[str, Any]) -> None:
        self.counts = {g: list(v) for g, v in data.items()}


class StatsExec(NodeExec):
    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.next_emit: int | None = None
        self.watched: GroupCounts | None = None  # set by the runtime: the source node's counts

    def due(self, now: int) -> list[Message]:
        """The stats points for a tick at `now` (ns, wall clock), if an interval has passed."""
        interval = self.node.interval
        if self.next_emit is None:
            # The first tick starts the clock; aligned stats wait for the next multiple of the interval.
            self.next_emit = go_truncate(now, interval) + interval if self.node.align else now + interval
            return []
        if now < self.next_emit:
            return []
        self.next_emit = now + interval
        t = go_round(now, interval) if self.node.align else now
        counts = self.watched.counts if self.watched is not None else {}
        points: list[Message] = [
            Point(STATS_NAME, t, {"emitted": emitted}, dict(tags), dimensions=tuple(dims), by_name=by_name)
            for emitted, tags, dims, by_name in counts.values()
        ]
        if not points:  # Kapacitor reports a nil group with nothing emitted
            points.append(Point(STATS_NAME, t, {"emitted": 0}, {}))
        self.stats.emitted += len(points)
        return points

    def dump(self) -> dict[str, Any]:
        return {"next": self.next_emit}

    def load(self, data: dict[str, Any]) -> None:
        value = data.get("next")
        self.next_emit = None if value is None else int(value)
