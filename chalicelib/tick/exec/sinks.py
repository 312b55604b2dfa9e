"""Nodes that hand data out of the task: httpOut (the last result of each group), influxDBOut, log."""

from __future__ import annotations

from typing import Any

from chalicelib.kit.time import format_rfc3339nano
from chalicelib.tick.exec.base import Context, NodeExec
from chalicelib.tick.exec.model import Batch, Message, Point, message_row
from chalicelib.tick.exec.outputs import WrittenPoint
from chalicelib.tick.pipeline import Node


class HttpOutExec(NodeExec):
    """Each group holds one row, in the order groups appeared; the endpoint serves them as one result."""

    grouped = True

    def _update(self, msg: Message) -> list[Message]:
        if self.group(msg) is None:
            return []
        self.groups[msg.group] = message_row(msg)
        return [msg]

    def point(self, p: Point) -> list[Message]:
        return self._update(p)

    def batch(self, b: Batch) -> list[Message]:
        return self._update(b)

    def result(self) -> dict[str, Any]:
        # models.Result: `series` is null before any data.
        return {"series": list(self.groups.values()) or None}


class InfluxDBOutExec(NodeExec):
    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        self.points_written = 0

    def _write(
        self, db: str, rp: str, name: str, points: list[tuple[int, dict[str, Any], dict[str, str]]]
    ) -> None:
        n = self.node
        db = n.database or db
        rp = n.retention_policy or rp
        name = n.measurement or name
        for t, fields, tags in points:
            self.ctx.outputs.points.append(
                WrittenPoint(db, rp, name, {**tags, **n.tags}, dict(fields), t, n.precision, n.cluster)
            )
        self.points_written += len(points)

    def point(self, p: Point) -> list[Message]:
        self._write(p.database, p.retention_policy, p.name, [(p.time, p.fields, p.tags)])
        return [p]

    def batch(self, b: Batch) -> list[Message]:
        self._write("", "", b.name, [(bp.time, bp.fields, bp.tags) for bp in b.points])
        return [b]

    def node_stats(self) -> dict[str, Any]:
        return {**super().node_stats(), "points_written": self.points_written, "write_errors": 0}

    def dump(self) -> dict[str, Any]:
        return {"written": self.points_written}

    def load(self, data: dict[str, Any]) -> None:
        self.points_written = int(data.get("written", 0))


class LogExec(NodeExec):
    """Logs each point or batch at the node's level with its prefix, then passes it on."""

    def _log(self, kind: str, values: dict[str, Any]) -> None:
        n = self.node
        self.ctx.log(self.name, n.level.lower(), kind, prefix=n.prefix, **values)

    def point(self, p: Point) -> list[Message]:
        values: dict[str, Any] = {
            "name": p.name,
            "db": p.database,
            "rp": p.retention_policy,
            "group": p.group,
        }
        values.update({f"dimension_{i}": d for i, d in enumerate(p.dimensions)})
        values.update({f"tag_{k}": v for k, v in sorted(p.tags.items())})
        values.update({f"field_{k}": v for k, v in sorted(p.fields.items())})
        values["time"] = format_rfc3339nano(p.time)
        self._log("point", values)
        return [p]

    def batch(self, b: Batch) -> list[Message]:
        values: dict[str, Any] = {"name": b.name, "group": b.group}
        values.update({f"tag_{k}": v for k, v in sorted(b.tags.items())})
        values["tmax"] = format_rfc3339nano(b.tmax)
        self._log("begin batch", values)
        for bp in b.points:
            point: dict[str, Any] = {f"tag_{k}": v for k, v in sorted(bp.tags.items())}
            point.update({f"field_{k}": v for k, v in sorted(bp.fields.items())})
            point["time"] = format_rfc3339nano(bp.time)
            self._log("batch point", point)
        self._log("end batch", {})
        return [b]
