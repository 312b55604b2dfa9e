"""Where data enters a task: the stream and its `from` nodes, the batch source and its queries."""

from __future__ import annotations

from typing import Any

from chalicelib.kit.errors import TicklessError
from chalicelib.tick.exec.base import Context, GroupLambdas, NodeExec, scope_of
from chalicelib.tick.exec.model import Batch, Message, Point, go_round, go_truncate
from chalicelib.tick.pipeline import Node
from chalicelib.tick.values import Star


def tag_names(tags: dict[str, str], dimensions: list[Any], excluded: list[str]) -> tuple[str, ...]:
    """computeTagNames: `*` is every tag of the point, sorted, less the excluded ones."""
    if any(isinstance(d, Star) for d in dimensions):
        return tuple(k for k in sorted(tags) if k not in excluded)
    return tuple(dimensions)


class PassExec(NodeExec):
    """The stream and batch sources and no-op nodes: everything passes."""

    def point(self, p: Point) -> list[Message]:
        return [p]

    def batch(self, b: Batch) -> list[Message]:
        return [b]


class QueryExec(NodeExec):
    """A batch task's query: the results fed for it are what it emits."""

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.batches_queried = 0
        self.points_queried = 0

    def batch(self, b: Batch) -> list[Message]:
        self.batches_queried += 1
        self.points_queried += len(b.points)
        return [b]

    def node_stats(self) -> dict[str, Any]:
        return {
            **super().node_stats(),
            "batches_queried": self.batches_queried,
            "points_queried": self.points_queried,
        }

    def dump(self) -> dict[str, Any]:
        return {"batches": self.batches_queried, "points": self.points_queried}

    def load(self, data: dict[str, Any]) -> None:
        self.batches_queried = int(data.get("batches", 0))
        self.points_queried = int(data.get("points", 0))


class FromExec(NodeExec):
    """FromNode: selects by database, retention policy and measurement, filters by its where lambdas
    (one expression for the whole node, as Kapacitor has), truncates or rounds time, and groups."""

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.where = GroupLambdas(node.where_lambdas)
        self.where_state = self.where.new_state()

    def point(self, p: Point) -> list[Message]:
        n = self.node
        if (
            (n.database and p.database != n.database)
            or (n.retention_policy and p.retention_policy != n.retention_policy)
            or (n.measurement and p.name != n.measurement)
        ):
            return []
        if self.where.expressions and not self._passes(p):
            return []
        t = p.time
        if n.truncate:
            t = go_truncate(t, n.truncate)
        if n.round:
            t = go_round(t, n.round)
        dims = tag_names(p.tags, n.dimensions, [])
        return [p.copy(time=t, dimensions=dims, by_name=n.group_by_measurement)]

    def _passes(self, p: Point) -> bool:
        fast = self.where.fast
        if fast is not None:  # the usual `"tag" != 'x'`: no stateful function, no scope to build
            fields, tags = p.fields, p.tags
            for check in fast:
                passed = check(fields, tags)
                if passed is None:
                    break  # evaluated in full below, for its answer or its error
                if not passed:
                    return False
            else:
                return True
        self.where.enter(self.where_state)
        try:
            scope = scope_of(p.fields, p.tags, p.time)
            return all(e is not None and e.evaluate_bool(scope) for e in self.where.expressions)
        except TicklessError as err:
            self.error("failed to evaluate WHERE expression", err)
            return False
        finally:
            self.where.leave(self.where_state)

    def dump(self) -> dict[str, Any]:
        return {"where": self.where_state}

    def load(self, data: dict[str, Any]) -> None:
        self.where_state = data.get("where") or self.where.new_state()
