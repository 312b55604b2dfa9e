"""JoinNode: messages of its parents with the same (tolerance-rounded) time and group joined into one,
fields prefixed by `.as()` names; `.fill()` for the missing ones; `.on()` joins a less specific group to
every more specific one. Times here are ns with Go's zero time standing for "none yet"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.kit.errors import invalid
from chalicelib.tick.exec.base import Context, NodeExec
from chalicelib.tick.exec.model import (
    GO_ZERO_TIME,
    Batch,
    BatchPoint,
    Message,
    Point,
    go_round,
    group_id,
    message_from_json,
    message_to_json,
)
from chalicelib.tick.pipeline import STREAM, Node

NO_FILL, NULL_FILL, NUMBER_FILL = "none", "null", "number"


@dataclass(slots=True)
class JoinSet:
    time: int
    name: str
    values: list[Message | None]
    size: int = 0

    @property
    def first(self) -> Message:
        return next(v for v in self.values if v is not None)

    def to_state(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "name": self.name,
            "values": [None if v is None else message_to_json(v) for v in self.values],
            "size": self.size,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> JoinSet:
        values = [None if v is None else message_from_json(v) for v in data["values"]]
        return cls(int(data["time"]), data["name"], values, int(data["size"]))


@dataclass(slots=True)
class JoinGroup:
    sets: dict[int, list[JoinSet]]
    head: list[int]
    oldest: int = GO_ZERO_TIME

    def to_state(self) -> dict[str, Any]:
        return {
            "sets": [[t, [s.to_state() for s in sets]] for t, sets in self.sets.items()],
            "head": self.head,
            "oldest": self.oldest,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> JoinGroup:
        sets = {int(t): [JoinSet.from_state(s) for s in group] for t, group in data["sets"]}
        return cls(sets, [int(h) for h in data["head"]], int(data["oldest"]))


def _fields(msg: Message) -> dict[str, Any]:
    # A stream join holds points only; a batch among them joins nothing.
    return msg.fields if isinstance(msg, Point) else {}


class JoinExec(NodeExec):
    grouped = True

    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        fill = node.fill
        if fill is None:
            self.fill, self.fill_value = NO_FILL, None
        elif fill in (NULL_FILL, NO_FILL):
            self.fill, self.fill_value = fill, None
        elif isinstance(fill, int | float) and not isinstance(fill, bool):
            self.fill, self.fill_value = NUMBER_FILL, fill
        else:
            raise invalid(f"unexpected fill option {fill}")
        self.sources = len(node.parents)
        self.tolerance: int = node.tolerance
        self.on: tuple[str, ...] = tuple(node.dimensions)
        # The `.on()` matching's buffers: by group, [source, message]; low marks by "source group".
        self.match: dict[str, list[list[Any]]] = {}
        self.specific: dict[str, list[list[Any]]] = {}
        self.low_marks: dict[str, int] = {}
        self.reported: set[int] = set()
        self.out: list[Message] = []

    def _round(self, t: int) -> int:
        return go_round(t, self.tolerance)

    def handle(self, msg: Message, parent: int) -> list[Message]:
        self.out = []
        if self.on:
            self._match(parent, msg)
        else:
            self._collect(msg.group, parent, msg)
        return self.out

    # ---- joining by group and time -------------------------------------------------------------------------

    def _collect(self, gid: str, src: int, msg: Message) -> None:
        g = self.groups.get(gid)
        if g is None:
            if len(self.groups) >= self.ctx.config.max_groups:
                self.error("refused new group", f"too many groups: the limit is {self.ctx.config.max_groups}")
                return
            g = self.groups[gid] = JoinGroup({}, [GO_ZERO_TIME] * self.sources)
        self.seen[gid] = max(self.seen.get(gid, msg.time), msg.time)
        t = self._round(msg.time)
        if g.oldest == GO_ZERO_TIME or t < g.oldest:
            g.oldest = t
        sets = g.sets.setdefault(t, [self._new_set(t)])
        target = next((s for s in sets if s.values[src] is None), None)
        if target is None:
            target = self._new_set(t)
            sets.append(target)
        target.values[src] = msg
        target.size += 1
        g.head[src] = t
        self._emit(g, self._only_ready(g))

    def _new_set(self, t: int) -> JoinSet:
        return JoinSet(t, self.node.stream_name, [None] * len(self.node.names))

    @staticmethod
    def _only_ready(g: JoinGroup) -> bool:
        # Incomplete sets wait while any source has not yet gone past the oldest time.
        return any(t <= g.oldest for t in g.head)

    def _emit(self, g: JoinGroup, only_ready: bool) -> None:
        while g.sets:
            sets = g.sets.get(g.oldest, [])
            done = 0
            for s in sets:
                if s.size != len(s.values) and only_ready:
                    break
                self._emit_set(s)
                done += 1
            if done == len(sets):
                g.sets.pop(g.oldest, None)
            else:
                del sets[:done]
            g.oldest = min(g.sets, default=GO_ZERO_TIME)
            if only_ready:
                return
            only_ready = self._only_ready(g)

    def _emit_set(self, s: JoinSet) -> None:
        if not s.name:
            s.name = s.first.name
        joined = self._into_point(s) if self.node.wants == STREAM else self._into_batch(s)
        if joined is not None:
            self.out.append(joined)

    def _prefixed(self, i: int, fields: dict[str, Any]) -> dict[str, Any]:
        prefix = self.node.names[i] + self.node.delimiter
        return {prefix + k: v for k, v in fields.items()}

    def _filled(self, i: int, names: list[str]) -> dict[str, Any] | None:
        if self.fill == NO_FILL:
            return None
        return self._prefixed(i, dict.fromkeys(names, self.fill_value))

    def _into_point(self, s: JoinSet) -> Point | None:
        first = s.first
        if not isinstance(first, Point):
            self.error("failed to join into point", f"unexpected type of first value {type(first).__name__}")
            return None
        fields: dict[str, Any] = {}
        for i, v in enumerate(s.values):
            part = self._filled(i, list(first.fields)) if v is None else self._prefixed(i, _fields(v))
            if part is None:
                return None
            fields.update(part)
        return Point(
            s.name, s.time, fields, first.group_tags, dimensions=first.dimensions, by_name=first.by_name
        )

    def _into_batch(self, s: JoinSet) -> Batch | None:
        first = s.first
        if not isinstance(first, Batch):
            self.error("failed to join into batch", f"unexpected type of first value {type(first).__name__}")
            return None
        expected = len(s.values)
        empty = [False] * expected
        indexes = [0] * expected
        field_names: list[str] | None = None
        points: list[BatchPoint] = []
        while empty.count(True) < expected:
            chosen: list[BatchPoint | None] = [None] * expected
            set_time: int | None = None
            count = 0
            for i, b in enumerate(s.values):
                if empty[i]:
                    continue
                if not isinstance(b, Batch) or indexes[i] == len(b.points):
                    empty[i] = True
                    continue
                bp = b.points[indexes[i]]
                t = self._round(bp.time)
                if set_time is None:
                    set_time = t
                if t < set_time:
                    # An earlier time: the points taken so far wait for the next round.
                    set_time = t
                    for j in range(expected):
                        if chosen[j] is not None:
                            indexes[j] -= 1
                        chosen[j] = None
                    chosen[i] = bp
                    indexes[i] += 1
                    count = 1
                elif t == set_time:
                    if field_names is None:
                        field_names = list(bp.fields)
                    chosen[i] = bp
                    indexes[i] += 1
                    count += 1
            if count == 0 or set_time is None:
                continue
            fields: dict[str, Any] = {}
            complete = True
            for i, bp in enumerate(chosen):
                part = self._filled(i, field_names or []) if bp is None else self._prefixed(i, bp.fields)
                if part is None:
                    complete = False
                    break
                fields.update(part)
            if complete:
                points.append(BatchPoint(set_time, fields, dict(first.tags)))
        return Batch(s.name, s.time, dict(first.tags), points, first.by_name)

    # ---- `.on()`: a less specific group joined to each more specific one ---------------------------------

    def _match(self, src: int, msg: Message) -> None:
        self.reported.add(src)
        all_reported = len(self.reported) == self.sources
        t = self._round(msg.time)
        tags = msg.group_tags if isinstance(msg, Point) else msg.tags
        gid = group_id(msg.name, tags, self.on, msg.by_name)
        self.low_marks[f"{src}\x00{gid}"] = t
        low = GO_ZERO_TIME
        if all_reported:
            for s in range(self.sources):
                mark = self.low_marks.get(f"{s}\x00{gid}", GO_ZERO_TIME)
                if low == GO_ZERO_TIME or mark < low:
                    low = mark
            buf = self.specific.get(gid, [])
            i = 0
            while i < len(buf) and self._round(buf[i][1].time) < low:
                self._collect(buf[i][1].group, buf[i][0], buf[i][1])
                i += 1
            del buf[:i]
        if len(msg.dimensions) > len(self.on):
            matches = self.match.get(gid)
            matched = False
            if matches is not None:
                i = 0
                while i < len(matches):
                    mt = self._round(matches[i][1].time)
                    if mt == t:
                        self._send_match(src, msg, matches[i][0], matches[i][1])
                        matched = True
                    if mt >= low:
                        break
                    i += 1
                if all_reported:
                    del matches[:i]
            if not matched:
                if all_reported and t < low:
                    self._collect(msg.group, src, msg)
                else:
                    self._buffer(self.specific, gid, src, msg)
        else:
            self._buffer(self.match, gid, src, msg)
            buf = self.specific.get(gid, [])
            i = 0
            while i < len(buf) and self._round(buf[i][1].time) == t:
                self._send_match(buf[i][0], buf[i][1], src, msg)
                i += 1
            del buf[:i]

    def _buffer(self, buffers: dict[str, list[list[Any]]], gid: str, src: int, msg: Message) -> None:
        buf = buffers.setdefault(gid, [])
        buf.append([src, msg])
        if len(buf) > self.ctx.config.max_groups:
            del buf[0]
            self.error("dropped message", "too many messages waiting to be joined")

    def _send_match(self, src: int, specific: Message, matched_src: int, matched: Message) -> None:
        if isinstance(matched, Batch):
            tags = specific.group_tags if isinstance(specific, Point) else specific.tags
            other: Message = matched.copy(tags=tags)
        else:
            if isinstance(specific, Point):
                other = matched.copy(tags=specific.group_tags, dimensions=specific.dimensions)
            else:
                other = matched.copy(tags=dict(specific.tags), dimensions=specific.dimensions)
        self._collect(specific.group, src, specific)
        self._collect(specific.group, matched_src, other)

    # ---- state ---------------------------------------------------------------------------------------------

    def dump_group(self, state: JoinGroup) -> Any:
        return state.to_state()

    def load_group(self, data: Any) -> JoinGroup:
        return JoinGroup.from_state(data)

    def dump(self) -> dict[str, Any]:
        def buffers(b: dict[str, list[list[Any]]]) -> dict[str, Any]:
            return {g: [[s, message_to_json(m)] for s, m in items] for g, items in b.items()}

        return {
            "match": buffers(self.match),
            "specific": buffers(self.specific),
            "low_marks": dict(self.low_marks),
            "reported": sorted(self.reported),
        }

    def load(self, data: dict[str, Any]) -> None:
        def buffers(b: dict[str, Any]) -> dict[str, list[list[Any]]]:
            return {g: [[int(s), message_from_json(m)] for s, m in items] for g, items in b.items()}

        self.match = buffers(data.get("match", {}))
        self.specific = buffers(data.get("specific", {}))
        self.low_marks = {k: int(v) for k, v in data.get("low_marks", {}).items()}
        self.reported = {int(s) for s in data.get("reported", [])}

    def forget(self, gid: str) -> None:
        self.match.pop(gid, None)
        self.specific.pop(gid, None)
