"""What one feed of a task produces: alert events, httpOut results, points to write, log lines and the
nodes' statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.alert.events import AlertEvent


@dataclass(slots=True)
class AlertOutput:
    """An event of an alert node. `topics`: the anonymous topic when the node has handlers of its own,
    then `.topic()`'s; empty when the event goes nowhere (it is still counted)."""

    node: str
    event: AlertEvent
    topics: tuple[str, ...] = ()


@dataclass(slots=True)
class WrittenPoint:
    """A point influxDBOut writes; `precision` is the node's `.precision()` (the writer applies it),
    `cluster` its `.cluster()` ("": tickless's own series store)."""

    database: str
    retention_policy: str
    measurement: str
    tags: dict[str, str]
    fields: dict[str, Any]
    time: int
    precision: str = ""
    cluster: str = ""


@dataclass(slots=True)
class HttpPost:
    """A request httpOut's sibling httpPost sends: the row as InfluxDB's JSON, to a URL or to the
    `[[httppost]]` endpoint named `endpoint` (its URL, headers and templates are read when it is sent)."""

    node: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any]
    timeout: int = 0  # ns; 0: the sender's default
    endpoint: str = ""


@dataclass(slots=True)
class LogLine:
    """A log entry as Kapacitor's diagnostic writes it: `lvl=error msg="..." task=t node=n err="..."`."""

    level: str
    node: str
    message: str
    values: dict[str, Any] = field(default_factory=dict)

    def text(self, task: str) -> str:
        parts = [f"lvl={self.level}", f"msg={_quote(self.message)}", f"task={task}", f"node={self.node}"]
        parts.extend(f"{key}={_quote(str(value))}" for key, value in self.values.items())
        return " ".join(parts)


def _quote(text: str) -> str:
    if text and all(c.isalnum() or c in "._-/:" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(slots=True)
class Outputs:
    """`http`: the current result of every httpOut endpoint (InfluxDB `{"series": [...]}` JSON);
    `stats`: by node name, in the shape `chalicelib.tick.pipeline.executing_dot` takes, plus the node's
    `collected` and `emitted` counts."""

    alerts: list[AlertOutput] = field(default_factory=list)
    http: dict[str, dict[str, Any]] = field(default_factory=dict)
    points: list[WrittenPoint] = field(default_factory=list)
    logs: list[LogLine] = field(default_factory=list)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    posts: list[HttpPost] = field(default_factory=list)
