"""Where data enters a task: the stream and its `from` nodes, the batch source and its queries."""

from __future__ import annotations

from typing import Any

from chalicelib.kit.errors import TicklessError
from chalicelib.tick.exec.base import Context, GroupLambdas, Handled, NodeExec, scope_of
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

    batched = True

    def point(self, p: Point) -> list[Message]:
        return [p]

    def handle_many(self, msgs: list[Message], start: int) -> Handled:
        return len(msgs), msgs[start:] if start else msgs, None

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

    batched = True

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.where = GroupLambdas(node.where_lambdas)
        self.where_state = self.where.new_state()
        # The group's tag names when they do not depend on the point (no `*`).
        self.dims: tuple[str, ...] | None = (
            None if any(isinstance(d, Star) for d in node.dimensions) else tuple(node.dimensions)
        )

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

    def handle_many(self, msgs: list[Message], start: int) -> Handled:
        """`point` of each point, in one loop: it stops before a batch and before a point its where
        lambdas' fast checks cannot decide (the evaluator, its function state and its errors are
        `point`'s), so it touches nothing but what it returns."""
        n = self.node
        database, retention_policy, measurement = n.database, n.retention_policy, n.measurement
        truncate, round_to, by_name = n.truncate, n.round, n.group_by_measurement
        fixed_dims, dimensions = self.dims, n.dimensions
        checks = self.where.fast if self.where.expressions else []
        if checks is None:  # lambdas without fast checks: `point` evaluates each
            return start, [], None
        out: list[Message] = []
        for i in range(start, len(msgs)):
            p = msgs[i]
            if not isinstance(p, Point):
                return i, out, None
            try:
                if (
                    (database and p.database != database)
                    or (retention_policy and p.retention_policy != retention_policy)
                    or (measurement and p.name != measurement)
                ):
                    continue
                if checks:
                    fields, tags = p.fields, p.tags
                    passed: bool | None = True
                    for check in checks:
                        passed = check(fields, tags)
                        if not passed:
                            break
                    if passed is None:
                        return i, out, None
                    if not passed:
                        continue
                t = p.time
                if truncate:
                    t = go_truncate(t, truncate)
                if round_to:
                    t = go_round(t, round_to)
                dims = fixed_dims if fixed_dims is not None else tag_names(p.tags, dimensions, [])
                if t == p.time and dims == p.dimensions and by_name == p.by_name:
                    out.append(p)  # what `point`'s copy would be: points are never changed in place
                else:
                    out.append(
                        Point(p.name, t, p.fields, p.tags, p.database, p.retention_policy, dims, by_name)
                    )
            except Exception as err:  # returned: the runtime logs or raises it in its turn
                return i + 1, out, err
        return len(msgs), out, None

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
