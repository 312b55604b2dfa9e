"""The data flowing through a task: points of a stream edge and whole batches of a batch edge, grouped as
Kapacitor groups them (models.ToGroupID), and their plain-JSON form for saved state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.alert.messages import series_row
from chalicelib.kit.time import format_rfc3339nano

NIL_GROUP = ""
# time.Time{} (year 1) in nanoseconds since the epoch: Go truncates and rounds times relative to it.
GO_ZERO_TIME = -62_135_596_800_000_000_000


def group_id(name: str, tags: dict[str, str], dimensions: tuple[str, ...], by_name: bool) -> str:
    """models.ToGroupID: `name\\n` when grouped by measurement, then `tag=value` joined by commas, in the
    order of the dimensions (a tag missing from the point has an empty value)."""
    if not dimensions:
        return name if by_name else NIL_GROUP
    text = ",".join(f"{d}={tags.get(d, '')}" for d in dimensions)
    return f"{name}\n{text}" if by_name else text


def go_truncate(t: int, d: int) -> int:
    """time.Time.Truncate: down to a multiple of d since Go's zero time; unchanged when d <= 0."""
    if d <= 0:
        return t
    return t - (t - GO_ZERO_TIME) % d


def go_round(t: int, d: int) -> int:
    """time.Time.Round: to the nearest multiple of d since Go's zero time, halves rounding up."""
    if d <= 0:
        return t
    r = (t - GO_ZERO_TIME) % d
    return t - r + d if r + r >= d else t - r


@dataclass(slots=True)
class Point:
    """A stream point. `dimensions` are the group's tag names in their groupBy order; `group` its id."""

    name: str
    time: int
    fields: dict[str, Any]
    tags: dict[str, str]
    database: str = ""
    retention_policy: str = ""
    dimensions: tuple[str, ...] = ()
    by_name: bool = False
    group: str = NIL_GROUP

    def __post_init__(self) -> None:
        # Without dimensions, group_id's answer, without its call: most points are such.
        if self.dimensions:
            self.group = group_id(self.name, self.tags, self.dimensions, self.by_name)
        else:
            self.group = self.name if self.by_name else NIL_GROUP

    def copy(self, **changes: Any) -> Point:
        values = {
            "name": self.name,
            "time": self.time,
            "fields": self.fields,
            "tags": self.tags,
            "database": self.database,
            "retention_policy": self.retention_policy,
            "dimensions": self.dimensions,
            "by_name": self.by_name,
        }
        values.update(changes)
        return Point(**values)

    @property
    def group_tags(self) -> dict[str, str]:
        return {d: self.tags.get(d, "") for d in self.dimensions}

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "time": self.time,
            "fields": self.fields,
            "tags": self.tags,
            "db": self.database,
            "rp": self.retention_policy,
            "dims": list(self.dimensions),
            "by_name": self.by_name,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Point:
        return cls(
            data["name"],
            int(data["time"]),
            dict(data["fields"]),
            dict(data["tags"]),
            data.get("db", ""),
            data.get("rp", ""),
            tuple(data.get("dims", ())),
            bool(data.get("by_name", False)),
        )


@dataclass(slots=True)
class BatchPoint:
    time: int
    fields: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> list[Any]:
        return [self.time, self.fields, self.tags]

    @classmethod
    def from_json(cls, data: list[Any]) -> BatchPoint:
        return cls(int(data[0]), dict(data[1]), dict(data[2]))

    @classmethod
    def of(cls, p: Point) -> BatchPoint:
        return cls(p.time, p.fields, p.tags)


@dataclass(slots=True)
class Batch:
    """A whole batch: `tags` are the group's tags; its dimensions are their sorted names (as Kapacitor's
    NewBeginBatchMessage sets them), `tmax` its time."""

    name: str
    tmax: int
    tags: dict[str, str]
    points: list[BatchPoint]
    by_name: bool = False
    group: str = NIL_GROUP

    def __post_init__(self) -> None:
        self.group = group_id(self.name, self.tags, tuple(sorted(self.tags)), self.by_name)

    @property
    def time(self) -> int:
        return self.tmax

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(sorted(self.tags))

    def copy(self, **changes: Any) -> Batch:
        values = {
            "name": self.name,
            "tmax": self.tmax,
            "tags": self.tags,
            "points": self.points,
            "by_name": self.by_name,
        }
        values.update(changes)
        return Batch(**values)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tmax": self.tmax,
            "tags": self.tags,
            "by_name": self.by_name,
            "points": [p.to_json() for p in self.points],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Batch:
        return cls(
            data["name"],
            int(data["tmax"]),
            dict(data["tags"]),
            [BatchPoint.from_json(p) for p in data["points"]],
            bool(data.get("by_name", False)),
        )


Message = Point | Batch


def message_to_json(msg: Message) -> dict[str, Any]:
    return {"point": msg.to_json()} if isinstance(msg, Point) else {"batch": msg.to_json()}


def message_from_json(data: dict[str, Any]) -> Message:
    return Point.from_json(data["point"]) if "point" in data else Batch.from_json(data["batch"])


def point_row(p: Point) -> dict[str, Any]:
    """PointMessage.ToRow: every tag of the point, time then the fields sorted."""
    columns = ["time", *sorted(p.fields)]
    return series_row(
        p.name, p.tags, columns, [[format_rfc3339nano(p.time), *(p.fields[c] for c in columns[1:])]]
    )


def batch_row(b: Batch) -> dict[str, Any]:
    """BufferedBatchMessage.ToRow: columns from the first point's fields and its tags not on the batch."""
    if not b.points:
        return series_row(b.name, b.tags, [], [])
    first = b.points[0]
    columns = ["time", *sorted([*first.fields, *(t for t in first.tags if t not in b.tags)])]
    values = []
    for p in b.points:
        row: list[Any] = [format_rfc3339nano(p.time)]
        row.extend(p.fields[c] if c in p.fields else p.tags.get(c) for c in columns[1:])
        values.append(row)
    return series_row(b.name, b.tags, columns, values)


def message_row(msg: Message) -> dict[str, Any]:
    return point_row(msg) if isinstance(msg, Point) else batch_row(msg)
