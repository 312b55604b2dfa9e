"""WindowNode: per group, a buffer of points emitted as batches, by time (period/every, align,
fillPeriod) or by count (periodCount/everyCount), with Kapacitor's emit rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.kit.errors import invalid
from chalicelib.tick.exec.base import Context, Handled, NodeExec
from chalicelib.tick.exec.model import Batch, BatchPoint, Message, Point, go_truncate
from chalicelib.tick.pipeline import Node


@dataclass(slots=True)
class WindowGroup:
    name: str
    tags: dict[str, str]
    by_name: bool
    next_emit: int
    buffer: list[BatchPoint] = field(default_factory=list)
    count: int = 0  # points seen, for count windows

    def to_state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tags": self.tags,
            "by_name": self.by_name,
            "next": self.next_emit,
            "count": self.count,
            "buffer": [p.to_json() for p in self.buffer],
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> WindowGroup:
        return cls(
            data["name"],
            dict(data["tags"]),
            bool(data["by_name"]),
            int(data["next"]),
            [BatchPoint.from_json(p) for p in data["buffer"]],
            int(data.get("count", 0)),
        )


class WindowExec(NodeExec):
    grouped = True
    batched = True

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        if node.period == 0 and node.period_count == 0:
            raise invalid("window node must have either a non zero period or non zero period count")

    def new_group(self, msg: Message) -> WindowGroup:
        n = self.node
        assert isinstance(msg, Point)
        if n.period == 0:
            next_emit = n.period_count if n.fill_period else n.every_count
        elif n.fill_period:
            next_emit = msg.time + n.period
            if n.align:
                first = next_emit
                next_emit = go_truncate(next_emit, n.every)
                if next_emit <= first:
                    next_emit += n.every
        else:
            next_emit = msg.time + n.every
            if n.align:
                next_emit = go_truncate(next_emit, n.every)
        return WindowGroup(msg.name, msg.group_tags, msg.by_name, next_emit)

    def dump_group(self, state: WindowGroup) -> Any:
        return state.to_state()

    def load_group(self, data: Any) -> WindowGroup:
        return WindowGroup.from_state(data)

    def point(self, p: Point) -> list[Message]:
        g = self.group(p)
        if g is None:
            return []
        if self.node.period == 0:
            return self._by_count(g, p)
        return self._by_time(g, p)

    def handle_many(self, msgs: list[Message], start: int) -> Handled:
        """`point` of each point, in one loop: it stops before a batch and before the first point of a
        group the node would refuse (that refusal is logged), so it touches nothing but its groups."""
        groups, limit = self.groups, self.ctx.config.max_groups
        by_count = self.node.period == 0
        # With every > 0, a point before its window's end only joins the buffer (`_by_time`).
        buffers_early = self.node.every > 0 and not by_count
        out: list[Message] = []
        for i in range(start, len(msgs)):
            p = msgs[i]
            if not isinstance(p, Point):
                return i, out, None
            if groups.get(p.group) is None and len(groups) >= limit:
                return i, out, None
            try:
                g = self.group(p)
                if buffers_early and p.time < g.next_emit:
                    g.buffer.append(BatchPoint(p.time, p.fields, p.tags))
                else:
                    out.extend(self._by_count(g, p) if by_count else self._by_time(g, p))
            except Exception as err:  # returned: the runtime logs or raises it in its turn
                return i + 1, out, err
        return len(msgs), out, None

    def _by_time(self, g: WindowGroup, p: Point) -> list[Message]:
        period, every = self.node.period, self.node.every
        out: list[Message] = []
        if every == 0:
            # Emits on every point at or after the next emit time: the window ending at the point.
            g.buffer.append(BatchPoint.of(p))
            if p.time >= g.next_emit:
                self._purge(g, p.time - period, inclusive=False)
                out.append(self._batch(g, p.time))
                g.next_emit = p.time
            return out
        if p.time >= g.next_emit:
            self._purge(g, g.next_emit - period, inclusive=True)
            out.append(self._batch(g, g.next_emit))
            g.next_emit = p.time + every
            if self.node.align:
                g.next_emit = go_truncate(g.next_emit, every)
        g.buffer.append(BatchPoint.of(p))
        return out

    @staticmethod
    def _purge(g: WindowGroup, oldest: int, *, inclusive: bool) -> None:
        # The buffer is in arrival order: drop from its front up to the first point inside the window.
        drop = 0
        for bp in g.buffer:
            if (bp.time >= oldest) if inclusive else (bp.time > oldest):
                break
            drop += 1
        del g.buffer[:drop]

    def _by_count(self, g: WindowGroup, p: Point) -> list[Message]:
        size = self.node.period_count
        g.buffer.append(BatchPoint.of(p))
        if len(g.buffer) > size:
            del g.buffer[0]
        g.count += 1
        if g.count == g.next_emit:
            g.next_emit += self.node.every_count
            return [self._batch(g, g.buffer[-1].time)]
        return []

    @staticmethod
    def _batch(g: WindowGroup, tmax: int) -> Batch:
        return Batch(g.name, tmax, dict(g.tags), list(g.buffer), g.by_name)
