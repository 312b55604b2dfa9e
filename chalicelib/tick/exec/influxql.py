"""Kapacitor's InfluxQL nodes: aggregates and selectors over each batch (or over the stream points of one
time), and the streaming transformations (difference, movingAverage, cumulativeSum, elapsed)."""

from __future__ import annotations

import math
from typing import Any

from chalicelib.kit.errors import TicklessError, invalid
from chalicelib.tick.exec import holtwinters as hw
from chalicelib.tick.exec import reducers as r
from chalicelib.tick.exec.base import Context, NodeExec
from chalicelib.tick.exec.model import Batch, BatchPoint, Message, Point
from chalicelib.tick.pipeline import BATCH, Node

# Kapacitor's holtWinters and holtWintersWithFit (both method holtWinters) beside the InfluxQL reducers.
FUNCTIONS = {**r.FUNCTIONS, hw.METHOD: r.Function(frozenset({r.FLOAT, r.INT}))}
REDUCERS = {**r.SLICE_REDUCERS, hw.METHOD: hw.reduce}


class InfluxQLExec(NodeExec):
    grouped = True

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        if node.method not in FUNCTIONS:
            raise invalid(f"the influxql function {node.method} is not supported")
        self.fn = FUNCTIONS[node.method]
        self.field: str = node.field
        self.as_: str = node.as_
        self.args: list[Any] = list(node.args)
        self.point_times = bool(node.point_times) or self.fn.transform

    def new_group(self, msg: Message) -> Any:
        # Kapacitor keeps the group's name, tags and dimensions of its first message.
        if isinstance(msg, Point):
            info = {"tags": msg.group_tags, "dims": list(msg.dimensions)}
        else:
            info = {"tags": dict(msg.tags), "dims": list(msg.dimensions)}
        return {**info, "name": msg.name, "by_name": msg.by_name, "time": msg.time, "kind": None, "acc": []}

    # ---- realizing the reducer and aggregating one point -----------------------------------------------

    def _realize(self, g: dict[str, Any], fields: dict[str, Any]) -> bool:
        if self.field not in fields:
            self.error(
                "failed to realize reduce context from fields", f'field "{self.field}" missing from point'
            )
            return False
        kind = r.kind_of(fields[self.field]) or "invalid"
        try:
            if kind not in self.fn.kinds:
                raise invalid(f"cannot apply {self.node.method} to {kind} field")
        except TicklessError as err:
            text = f"invalid influxql func {self.node.method} with field {self.field}: {err.message}"
            self.error("failed to realize reduce context from fields", text)
            return False
        g["kind"] = kind
        return True

    def _entry(
        self, g: dict[str, Any], t: int, fields: dict[str, Any], tags: dict[str, str], what: str
    ) -> Any:
        field = self.field
        if field not in fields:
            self.error(what, f"field {field} missing from point cannot aggregate")
            return None
        value = fields[field]
        # A float is kind_of's FLOAT: the usual field, told without kind_of's chain of checks.
        if (r.FLOAT if type(value) is float else r.kind_of(value)) != g["kind"]:
            self.error(what, f"field {self.field} has wrong type: got {r.kind_of(value)} exp {g['kind']}")
            return None
        return [t, value, tags, fields]

    # ---- emitting ------------------------------------------------------------------------------------------

    def _reduce(self, g: dict[str, Any], entries: list[Any]) -> r.Emitted:
        if not entries and not self.fn.empty_ok:
            return [(None, math.nan, {}, {})] if self.node.method == "mean" else []
        return REDUCERS[self.node.method](entries, g["kind"] or r.FLOAT, self.args)

    def _time(self, g: dict[str, Any], t: int | None) -> int:
        return g["time"] if t is None or not self.point_times else t

    def _emit(self, g: dict[str, Any], emitted: r.Emitted) -> list[Message]:
        dims = tuple(g["dims"])
        if self.node.provides == BATCH:
            tmax = g["time"]
            points = []
            for t, value, tags, _ in emitted:
                pt = self._time(g, t)
                tmax = max(tmax, pt)
                points.append(
                    BatchPoint(pt, {self.as_: value}, {**g["tags"], **tags} if tags else dict(g["tags"]))
                )
            return [Batch(g["name"], tmax, dict(g["tags"]), points, g["by_name"])]
        if len(emitted) != 1:
            return []
        t, value, tags, fields = emitted[0]
        if self.fn.selector:
            fields = dict(fields)
            if self.as_ != self.field:
                fields[self.as_] = fields.pop(self.field)
        else:
            tags, fields = dict(g["tags"]), {self.as_: value}
        return [Point(g["name"], self._time(g, t), fields, tags, dimensions=dims, by_name=g["by_name"])]

    # ---- stream -------------------------------------------------------------------------------------------

    def point(self, p: Point) -> list[Message]:
        g = self.group(p)
        if g is None:
            return []
        if self.fn.transform:
            return self._transform(g, p.time, p.fields, p.tags, as_batch=False)
        out: list[Message] = []
        if p.time != g["time"]:
            # A new time closes the points gathered at the previous one.
            if g["kind"] is not None:
                out = self._emit(g, self._reduce(g, g["acc"]))
            g["name"], g["time"], g["kind"], g["acc"] = p.name, p.time, None, []
        if g["kind"] is None and not self._realize(g, p.fields):
            return out
        entry = self._entry(g, p.time, p.fields, p.tags, "failed to aggregate point")
        if entry is not None:
            g["acc"].append(entry)
        return out

    def _transform(
        self, g: dict[str, Any], t: int, fields: dict[str, Any], tags: dict[str, str], *, as_batch: bool
    ) -> list[Any]:
        if g["kind"] is None and not self._realize(g, fields):
            return []
        entry = self._entry(g, t, fields, tags, "failed to aggregate point")
        if entry is None:
            emitted: r.Emitted = []
        else:
            state = g.setdefault("transform", {})
            emitted = r.transform(self.node.method, state, t, entry[1], g["kind"], self.args)
        if len(emitted) != 1:
            return []
        et, value, _, _ = emitted[0]
        if as_batch:
            return [BatchPoint(self._time(g, et), {self.as_: value}, dict(g["tags"]))]
        return [
            Point(
                g["name"],
                self._time(g, et),
                {self.as_: value},
                dict(g["tags"]),
                dimensions=tuple(g["dims"]),
                by_name=g["by_name"],
            )
        ]

    # ---- batch --------------------------------------------------------------------------------------------

    def batch(self, b: Batch) -> list[Message]:
        g = self.group(b)
        if g is None:
            return []
        g["time"], g["kind"] = b.tmax, None
        if self.fn.transform:
            g.pop("transform", None)
            points = []
            for bp in b.points:
                points.extend(self._transform(g, bp.time, bp.fields, bp.tags, as_batch=True))
            return [b.copy(points=points)]
        entries, size = [], 0
        for bp in b.points:
            if g["kind"] is None and not self._realize(g, bp.fields):
                continue
            entry = self._entry(g, bp.time, bp.fields, bp.tags, "failed to aggregate point in batch")
            if entry is not None:
                entries.append(entry)
            size += 1
        if size == 0 and not self.fn.empty_ok:
            return []
        return self._emit(g, self._reduce(g, entries))
