"""A task's pipeline: its sources, node ids, Kapacitor's walk order and whole-pipeline validation."""

from __future__ import annotations

from chalicelib.kit.errors import invalid
from chalicelib.tick.pipeline import nodes as n
from chalicelib.tick.pipeline.base import BATCH, NO_EDGE, STREAM, Node
from chalicelib.tick.pipeline.chains import deadman
from chalicelib.tick.pipeline.deadman import DeadmanConfig

# A bound against hostile scripts; far above any real task.
MAX_NODES = 5000


class Pipeline:
    """One per task. `source("stream"|"batch")` hands the evaluator the script's source node."""

    def __init__(self, deadman: DeadmanConfig | None = None, *, max_nodes: int = MAX_NODES) -> None:
        self.deadman = deadman or DeadmanConfig()
        self.max_nodes = max_nodes
        self.sources: list[Node] = []
        self._all: list[Node] = []
        self._next_id = 0
        self._source: Node | None = None
        self._global_deadman_done = False

    @property
    def kind(self) -> str:
        """`stream` or `batch`: the edge the task's source provides (stream until a source is asked for)."""
        if self._source is None:
            return STREAM
        return self._source.type

    def source(self, kind: str) -> Node:
        if self._source is not None:
            if self._source.type != kind:
                names = self._source.type
                raise invalid(f'name "{kind}" is undefined. Names in scope: {names}')
            return self._source
        if kind == STREAM:
            node = Node(n.STREAM_NODE, STREAM, STREAM, self)
        elif kind == BATCH:
            node = Node(n.BATCH_NODE, NO_EDGE, BATCH, self)
        else:
            raise invalid(f"source edge type must be either Stream or Batch not {kind}")
        self._source = node
        self.add_source(node)
        return node

    def add_source(self, node: Node) -> None:
        self.assign_id(node)
        self.sources.append(node)

    def assign_id(self, node: Node) -> None:
        if node.id < 0:
            if len(self._all) >= self.max_nodes:
                raise invalid(f"pipeline has too many nodes, the limit is {self.max_nodes}")
            self._all.append(node)
        node.id = self._next_id
        self._next_id += 1

    @property
    def nodes(self) -> list[Node]:
        """Every node, ordered by id (creation order; a join or union takes the id of its last link)."""
        return sorted(self._all, key=lambda node: node.id)

    def sorted_nodes(self) -> list[Node]:
        """Kapacitor's walk order (DOT, validation, execution): a depth-first topological sort from the
        sources taken last to first, reversed, so every node comes after all of its parents."""
        order: list[Node] = []
        done: set[int] = set()
        for src in reversed(self.sources):
            if id(src) in done:
                continue
            # An explicit stack: a hostile script may chain thousands of nodes.
            stack: list[tuple[Node, int]] = [(src, 0)]
            while stack:
                node, index = stack.pop()
                if index < len(node.children):
                    stack.append((node, index + 1))
                    child = node.children[index]
                    if id(child) not in done:
                        stack.append((child, 0))
                elif id(node) not in done:
                    done.add(id(node))
                    order.append(node)
        order.reverse()
        return order

    def validate(self) -> None:
        """Checks after evaluation: the global deadman (when configured), then each node in walk order."""
        if self.deadman.global_ and not self._global_deadman_done and self._source is not None:
            self._global_deadman_done = True
            deadman(self._source, self.deadman.threshold, self.deadman.interval, [])
        for node in self.sorted_nodes():
            problem = node.validate()
            if problem:
                raise invalid(problem)
