"""Nodes merging a group's points of one (tolerance-rounded) time into one point: flatten (fields named
by tag values) and combine (every combination of points matching its lambdas)."""

from __future__ import annotations

from math import comb
from typing import Any

from chalicelib.kit.errors import TicklessError
from chalicelib.tick.exec.base import Context, GroupLambdas, NodeExec, scope_of
from chalicelib.tick.exec.model import GO_ZERO_TIME, Batch, BatchPoint, Message, Point, go_round
from chalicelib.tick.pipeline import Node

# A buffered point: [time, fields, tags].
Buffered = list[Any]


def _info(msg: Message) -> dict[str, Any]:
    tags = msg.group_tags if isinstance(msg, Point) else dict(msg.tags)
    return {"name": msg.name, "tags": tags, "dims": list(msg.dimensions), "by_name": msg.by_name}


class FlattenExec(NodeExec):
    grouped = True

    def new_group(self, msg: Message) -> Any:
        return {**_info(msg), "time": go_round(msg.time, self.node.tolerance), "points": []}

    def _flatten(self, points: list[Buffered]) -> dict[str, Any]:
        n = self.node
        fields: dict[str, Any] = {}
        for _, point_fields, tags in points:
            missing = next((tag for tag in n.dimensions if tag not in tags), None)
            if missing is not None:
                self.error("point missing tag for flatten operation", f"tag {missing} is missing from point")
                continue
            prefix = n.delimiter.join(tags[tag] for tag in n.dimensions)
            for name, value in point_fields.items():
                if n.drop_original_field_name:
                    fields[prefix] = value
                else:
                    fields[prefix + n.delimiter + name if prefix else name] = value
        return fields

    def _add(self, g: dict[str, Any], t: int, fields: dict[str, Any], tags: dict[str, str]) -> Any:
        """Buffer a point; when its time is new, the previous time's points flattened and that time."""
        flattened = None
        if t != g["time"]:
            if g["points"]:
                flattened = (g["time"], self._flatten(g["points"]))
                g["points"] = []
            g["time"] = t
        g["points"].append([t, fields, tags])
        return flattened

    def point(self, p: Point) -> list[Message]:
        g = self.group(p)
        if g is None:
            return []
        done = self._add(g, go_round(p.time, self.node.tolerance), p.fields, p.tags)
        if not done or not done[1]:
            return []
        dims = tuple(g["dims"])
        return [Point(g["name"], done[0], done[1], dict(g["tags"]), dimensions=dims, by_name=g["by_name"])]

    def batch(self, b: Batch) -> list[Message]:
        g = self.group(b)
        if g is None:
            return []
        g["name"], g["time"] = b.name, GO_ZERO_TIME
        points = []
        for bp in b.points:
            done = self._add(g, go_round(bp.time, self.node.tolerance), bp.fields, bp.tags)
            if done and done[1]:
                points.append(BatchPoint(done[0], done[1], dict(g["tags"])))
        if g["points"]:
            points.append(BatchPoint(g["time"], self._flatten(g["points"]), dict(g["tags"])))
            g["points"] = []
        return [b.copy(points=points)]


class CombineExec(NodeExec):
    grouped = True

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.lambdas = GroupLambdas(node.lambdas)

    def new_group(self, msg: Message) -> Any:
        info = _info(msg)
        return {**info, "time": msg.time, "points": [], "lambda": self.lambdas.new_state()}

    def _add(self, g: dict[str, Any], t: int, fields: dict[str, Any], tags: dict[str, str]) -> list[Message]:
        t = go_round(t, self.node.tolerance)
        if t == g["time"]:
            g["points"].append([t, fields, tags])
            return []
        out = self._combine(g)
        g["time"], g["points"] = t, [[t, fields, tags]]
        return out

    def _combine(self, g: dict[str, Any]) -> list[Message]:
        points: list[Buffered] = g["points"]
        if not points:
            return []
        k = len(self.lambdas.expressions)
        matches = [[False] * len(points) for _ in range(k)]
        self.lambdas.enter(g["lambda"])
        try:
            for idx, (t, fields, tags) in enumerate(points):
                for s, expr in enumerate(self.lambdas.expressions):
                    try:
                        matches[s][idx] = expr is not None and expr.evaluate_bool(scope_of(fields, tags, t))
                    except TicklessError as err:
                        self.error("error evaluating lambda expression", err)
        finally:
            self.lambdas.leave(g["lambda"])
        n = len(points)
        if n < k:
            return []
        if comb(n, k) > self.node.max:
            self.error(
                "failed to combine",
                f"refusing to perform combination as total combinations {comb(n, k)} "
                f"exceeds max combinations {self.node.max}",
            )
            return []
        out: list[Message] = []
        for indices in _combinations(n, k):
            remaining = list(indices)
            chosen: list[Buffered] = []
            for s in range(k):
                pick = next((i for i in remaining if matches[s][i]), None)
                if pick is None:
                    break
                remaining.remove(pick)
                chosen.append(points[pick])
            if len(chosen) == k:
                out.append(self._merge(g, chosen))
        return out

    def _merge(self, g: dict[str, Any], chosen: list[Buffered]) -> Point:
        n = self.node
        dims = set(g["dims"])
        fields: dict[str, Any] = {}
        tags: dict[str, str] = {}
        for name, (_, point_fields, point_tags) in zip(n.names, chosen, strict=True):
            fields.update({name + n.delimiter + k: v for k, v in point_fields.items()})
            for tag, value in point_tags.items():
                tags[tag if tag in dims else name + n.delimiter + tag] = value
        t = go_round(chosen[0][0], n.tolerance)
        return Point(g["name"], t, fields, tags, dimensions=tuple(g["dims"]), by_name=g["by_name"])

    def point(self, p: Point) -> list[Message]:
        g = self.group(p)
        if g is None:
            return []
        return self._add(g, p.time, p.fields, p.tags)

    def batch(self, b: Batch) -> list[Message]:
        g = self.group(b)
        if g is None:
            return []
        g["name"], g["time"] = b.name, GO_ZERO_TIME
        out: list[Message] = []
        for bp in b.points:
            out.extend(self._add(g, bp.time, bp.fields, bp.tags))
        out.extend(self._combine(g))
        g["points"] = []
        return out


def _combinations(n: int, k: int) -> list[list[int]]:
    """The k-combinations of range(n) in lexicographic order, as Kapacitor enumerates them."""
    indices = list(range(k))
    result = [list(indices)]
    while True:
        i = k - 1
        while i >= 0 and indices[i] == i + n - k:
            i -= 1
        if i < 0:
            return result
        indices[i] += 1
        for j in range(i + 1, k):
            indices[j] = indices[j - 1] + 1
        result.append(list(indices))
