"""An alert event as Kapacitor's alert service hands it to handlers and topics, and its JSON shape."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from chalicelib.kit.time import format_rfc3339nano


class Level(enum.IntEnum):
    """Ordered as Kapacitor orders them: a topic's level is the highest of its events."""

    OK = 0
    INFO = 1
    WARNING = 2
    CRITICAL = 3

    @classmethod
    def parse(cls, text: str) -> Level:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown alert level '{text}'") from None


@dataclass(slots=True)
class AlertEvent:
    """One alert: `data` is the triggering data as InfluxDB query results (`{"series": [...]}`)."""

    id: str
    message: str
    details: str
    time: int  # nanoseconds since the epoch
    duration: int  # nanoseconds since the first non-OK level of the incident
    level: Level
    previous_level: Level = Level.OK
    recoverable: bool = True
    data: dict[str, Any] = field(default_factory=lambda: {"series": []})
    task: str = ""
    category: str = ""

    def body(self) -> dict[str, Any]:
        """The JSON the post and tcp handlers send (Kapacitor's alert.Data)."""
        return {
            "id": self.id,
            "message": self.message,
            "details": self.details,
            "time": format_rfc3339nano(self.time),
            "duration": self.duration,
            "level": self.level.name,
            "data": self.data,
            "previousLevel": self.previous_level.name,
            "recoverable": self.recoverable,
        }

    def to_state(self) -> dict[str, Any]:
        """Plain data, to travel on a queue or rest in a task's outbox."""
        return {
            "id": self.id,
            "message": self.message,
            "details": self.details,
            "time": self.time,
            "duration": self.duration,
            "level": self.level.name,
            "previousLevel": self.previous_level.name,
            "recoverable": self.recoverable,
            "data": self.data,
            "task": self.task,
            "category": self.category,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> AlertEvent:
        return cls(
            id=state["id"],
            message=state["message"],
            details=state["details"],
            time=int(state["time"]),
            duration=int(state["duration"]),
            level=Level[state["level"]],
            previous_level=Level[state["previousLevel"]],
            recoverable=bool(state["recoverable"]),
            data=state["data"],
            task=state.get("task", ""),
            category=state.get("category", ""),
        )
