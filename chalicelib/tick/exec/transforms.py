"""Nodes that change points one at a time: where, eval, default, delete, shift, sample, groupBy."""

from __future__ import annotations

from typing import Any

from chalicelib.kit.errors import TicklessError, invalid
from chalicelib.tick.exec.base import Context, GroupLambdas, NodeExec, scope_of
from chalicelib.tick.exec.model import Batch, BatchPoint, Message, Point, go_truncate
from chalicelib.tick.exec.sources import tag_names
from chalicelib.tick.pipeline import Node


class WhereExec(NodeExec):
    grouped = True

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.lambdas = GroupLambdas([node.lambda_])

    def new_group(self, msg: Message) -> Any:
        return self.lambdas.new_state()

    def _keep(self, state: Any, fields: dict[str, Any], tags: dict[str, str], t: int) -> bool:
        expr = self.lambdas.expressions[0]
        if expr is None:
            return True
        try:
            return expr.evaluate_bool(scope_of(fields, tags, t))
        except TicklessError as err:
            self.error("error while evaluating expression", err)
            return False

    def point(self, p: Point) -> list[Message]:
        state = self.group(p)
        if state is None:
            return []
        fast = self.lambdas.fast
        if fast is not None:  # the usual `"tag" != 'x'`: no stateful function, no scope to build
            passed = fast[0](p.fields, p.tags)
            if passed is not None:
                return [p] if passed else []
        self.lambdas.enter(state)
        try:
            return [p] if self._keep(state, p.fields, p.tags, p.time) else []
        finally:
            self.lambdas.leave(state)

    def batch(self, b: Batch) -> list[Message]:
        state = self.group(b)
        if state is None:
            return []
        self.lambdas.enter(state)
        try:
            points = [bp for bp in b.points if self._keep(state, bp.fields, bp.tags, bp.time)]
        finally:
            self.lambdas.leave(state)
        return [b.copy(points=points)]


class EvalExec(NodeExec):
    """EvalNode: each expression sees the point and the results of the expressions before it."""

    grouped = True

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.lambdas = GroupLambdas(node.lambdas)
        self.names: list[str] = list(node.as_list)
        self.tags = set(node.tags_list)

    def new_group(self, msg: Message) -> Any:
        return self.lambdas.new_state()

    def _eval(
        self, fields: dict[str, Any], tags: dict[str, str], t: int
    ) -> tuple[dict[str, Any], dict[str, str]]:
        results: dict[str, Any] = {}
        for name, expr in zip(self.names, self.lambdas.expressions, strict=True):
            assert expr is not None
            results[name] = expr.evaluate(scope_of({**fields, **results}, tags, t))
        new_tags = tags
        if self.tags:
            new_tags = dict(tags)
            for tag in self.tags:
                value = results[tag]
                if not isinstance(value, str):
                    raise invalid(f"result of a tag expression must be of type string, got {_go_type(value)}")
                new_tags[tag] = value
        n = self.node
        if n.keep and n.keep_list:
            new_fields = {}
            for name in n.keep_list:
                if name in results:
                    new_fields[name] = results[name]
                elif name in fields:
                    new_fields[name] = fields[name]
                else:
                    raise invalid(f'cannot keep field "{name}", field does not exist')
        elif n.keep:
            new_fields = {**fields, **results}
        else:
            new_fields = {k: v for k, v in results.items() if k not in self.tags}
        return new_fields, new_tags

    def _apply(self, state: Any, fields: dict[str, Any], tags: dict[str, str], t: int) -> Any:
        self.lambdas.enter(state)
        try:
            return self._eval(fields, tags, t)
        except TicklessError as err:
            if not self.quiet:  # a quiet eval neither logs nor counts the error
                self.error("error evaluating expression", err)
            return None
        finally:
            self.lambdas.leave(state)

    def point(self, p: Point) -> list[Message]:
        state = self.group(p)
        if state is None:
            return []
        result = self._apply(state, p.fields, p.tags, p.time)
        return [] if result is None else [p.copy(fields=result[0], tags=result[1])]

    def batch(self, b: Batch) -> list[Message]:
        state = self.group(b)
        if state is None:
            return []
        points = []
        for bp in b.points:
            result = self._apply(state, bp.fields, bp.tags, bp.time)
            if result is not None:
                points.append(BatchPoint(bp.time, result[0], result[1]))
        return [b.copy(points=points)]


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    return type(value).__name__


class DefaultExec(NodeExec):
    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.fields_defaulted = 0
        self.tags_defaulted = 0

    def _defaults(
        self, fields: dict[str, Any], tags: dict[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        missing_fields = {k: v for k, v in self.node.fields.items() if fields.get(k) is None}
        missing_tags = {k: v for k, v in self.node.tags.items() if not tags.get(k)}
        self.fields_defaulted += len(missing_fields)
        self.tags_defaulted += len(missing_tags)
        return (
            {**fields, **missing_fields} if missing_fields else fields,
            {**tags, **missing_tags} if missing_tags else tags,
        )

    def point(self, p: Point) -> list[Message]:
        fields, tags = self._defaults(p.fields, p.tags)
        return [p.copy(fields=fields, tags=tags)]

    def batch(self, b: Batch) -> list[Message]:
        # Kapacitor defaults the batch's tags with no fields, which counts every field as defaulted.
        _, batch_tags = self._defaults({}, b.tags)
        points = [BatchPoint(bp.time, *self._defaults(bp.fields, bp.tags)) for bp in b.points]
        return [b.copy(tags=batch_tags, points=points)]

    def node_stats(self) -> dict[str, Any]:
        return {
            **super().node_stats(),
            "fields_defaulted": self.fields_defaulted,
            "tags_defaulted": self.tags_defaulted,
        }

    def dump(self) -> dict[str, Any]:
        return {"fields": self.fields_defaulted, "tags": self.tags_defaulted}

    def load(self, data: dict[str, Any]) -> None:
        self.fields_defaulted = int(data.get("fields", 0))
        self.tags_defaulted = int(data.get("tags", 0))


class DeleteExec(NodeExec):
    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.fields_deleted = 0
        self.tags_deleted = 0

    def _delete(self, fields: dict[str, Any], tags: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        gone_fields = [k for k in self.node.fields if k in fields]
        gone_tags = [k for k in self.node.tags if k in tags]
        self.fields_deleted += len(gone_fields)
        self.tags_deleted += len(gone_tags)
        if gone_fields:
            fields = {k: v for k, v in fields.items() if k not in gone_fields}
        if gone_tags:
            tags = {k: v for k, v in tags.items() if k not in gone_tags}
        return fields, tags

    def point(self, p: Point) -> list[Message]:
        fields, tags = self._delete(p.fields, p.tags)
        return [p.copy(fields=fields, tags=tags, dimensions=tuple(d for d in p.dimensions if d in tags))]

    def batch(self, b: Batch) -> list[Message]:
        _, tags = self._delete({}, b.tags)
        points = [BatchPoint(bp.time, *self._delete(bp.fields, bp.tags)) for bp in b.points]
        return [b.copy(tags=tags, points=points)]

    def node_stats(self) -> dict[str, Any]:
        return {
            **super().node_stats(),
            "fields_deleted": self.fields_deleted,
            "tags_deleted": self.tags_deleted,
        }

    def dump(self) -> dict[str, Any]:
        return {"fields": self.fields_deleted, "tags": self.tags_deleted}

    def load(self, data: dict[str, Any]) -> None:
        self.fields_deleted = int(data.get("fields", 0))
        self.tags_deleted = int(data.get("tags", 0))


class ShiftExec(NodeExec):
    def point(self, p: Point) -> list[Message]:
        return [p.copy(time=p.time + self.node.shift)]

    def batch(self, b: Batch) -> list[Message]:
        shift = self.node.shift
        points = [BatchPoint(bp.time + shift, bp.fields, bp.tags) for bp in b.points]
        return [b.copy(tmax=b.tmax + shift, points=points)]


class SampleExec(NodeExec):
    """Keeps every n-th point of a group, or the points whose time is a multiple of the duration."""

    grouped = True

    def new_group(self, msg: Message) -> Any:
        return {"count": 0}

    def _keep(self, state: dict[str, int], t: int) -> bool:
        count = state["count"]
        state["count"] = count + 1
        if self.node.duration:
            return go_truncate(t, self.node.duration) == t
        return count % self.node.n == 0

    def point(self, p: Point) -> list[Message]:
        state = self.group(p)
        return [p] if state is not None and self._keep(state, p.time) else []

    def batch(self, b: Batch) -> list[Message]:
        state = self.group(b)
        if state is None:
            return []
        state["count"] = 0
        return [b.copy(points=[bp for bp in b.points if self._keep(state, bp.time)])]


class GroupByExec(NodeExec):
    """GroupByNode. A stream point is regrouped at once; a batch's points are regrouped into new batches
    held until a batch of another time arrives (Kapacitor emits them then, not before)."""

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.pending_time: int | None = None
        self.pending: dict[str, Batch] = {}

    def _dims(self, tags: dict[str, str]) -> tuple[str, ...]:
        return tag_names(tags, self.node.dimensions, self.node.excluded_dimensions)

    def point(self, p: Point) -> list[Message]:
        return [p.copy(dimensions=self._dims(p.tags), by_name=p.by_name or self.node.by_measurement)]

    def batch(self, b: Batch) -> list[Message]:
        out = self._flush(b.tmax)
        by_name = b.by_name or self.node.by_measurement
        for bp in b.points:
            dims = self._dims(bp.tags)
            tags = {d: bp.tags.get(d, "") for d in dims}
            probe = Point(b.name, b.tmax, {}, tags, dimensions=dims, by_name=by_name)
            group = self.pending.get(probe.group)
            if group is None:
                if len(self.pending) >= self.ctx.config.max_groups:
                    self.error(
                        "refused new group", f"too many groups: the limit is {self.ctx.config.max_groups}"
                    )
                    continue
                group = Batch(b.name, b.tmax, tags, [], by_name)
                self.pending[probe.group] = group
            group.points.append(bp)
        return out

    def _flush(self, t: int) -> list[Message]:
        if self.pending_time == t:
            return []
        self.pending_time = t
        out: list[Message] = []
        for gid in sorted(self.pending):  # Go's map order is random; sorted is one of its orders
            group = self.pending[gid]
            group.points.sort(key=lambda bp: bp.time)
            out.append(group)
        self.pending = {}
        return out

    def node_stats(self) -> dict[str, Any]:
        return {**super().node_stats(), "working_cardinality": len(self.pending)}

    def dump(self) -> dict[str, Any]:
        return {"time": self.pending_time, "pending": {g: b.to_json() for g, b in self.pending.items()}}

    def load(self, data: dict[str, Any]) -> None:
        t = data.get("time")
        self.pending_time = None if t is None else int(t)
        self.pending = {g: Batch.from_json(b) for g, b in data.get("pending", {}).items()}
