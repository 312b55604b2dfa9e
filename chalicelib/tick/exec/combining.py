"""The union node: its parents' messages merged in time order by low-water marks."""

from __future__ import annotations

from typing import Any

from chalicelib.tick.exec.base import Context, NodeExec
from chalicelib.tick.exec.join import JoinExec
from chalicelib.tick.exec.model import Message, message_from_json, message_to_json
from chalicelib.tick.pipeline import Node

# Messages a union holds for a parent that is behind, at most (then the oldest are dropped and counted).
MAX_QUEUED = 100_000


class UnionExec(NodeExec):
    """Emits its parents' messages in time order: a message leaves once every parent has shown a time at
    or after it (each parent's low mark is its oldest queued time, else the last one it showed)."""

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.queues: list[list[Message]] = [[] for _ in node.parents]
        self.marks: list[int | None] = [None for _ in node.parents]

    def handle(self, msg: Message, parent: int) -> list[Message]:
        if self.node.rename:
            msg = msg.copy(name=self.node.rename)
        queue = self.queues[parent]
        queue.append(msg)
        if len(queue) > MAX_QUEUED:
            del queue[0]
            self.error("dropped message", f"more than {MAX_QUEUED} messages waiting for the other parents")
        return self._ready()

    def _ready(self) -> list[Message]:
        out: list[Message] = []
        emitted = True
        while emitted:
            emitted = False
            mark: int | None = None
            valid = 0
            for i, queue in enumerate(self.queues):
                source = self.marks[i]
                if queue:
                    t = queue[0].time
                    if mark is None or t < mark:
                        mark = t
                    source = t
                self.marks[i] = source
                if source is not None:
                    valid += 1
                    if mark is None or source < mark:
                        mark = source
            if valid != len(self.queues) or mark is None:
                return out
            for queue in self.queues:
                j = 0
                while j < len(queue) and queue[j].time <= mark:
                    out.append(queue[j])
                    j += 1
                if j:
                    emitted = True
                    del queue[:j]
        return out

    def dump(self) -> dict[str, Any]:
        return {
            "queues": [[message_to_json(m) for m in q] for q in self.queues],
            "marks": list(self.marks),
        }

    def load(self, data: dict[str, Any]) -> None:
        queues = data.get("queues") or []
        if len(queues) == len(self.queues):
            self.queues = [[message_from_json(m) for m in q] for q in queues]
            self.marks = [None if m is None else int(m) for m in data.get("marks", self.marks)]


__all__ = ["JoinExec", "UnionExec"]
