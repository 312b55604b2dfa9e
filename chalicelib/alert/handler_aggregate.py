"""The two handler kinds that send nothing out but feed topics again: `aggregate` (every `interval`, the
events it received become one event on `topic`) and `publish` (each event goes on to other topics).

Kapacitor runs the aggregate on a ticker started with the handler; here its buffer is plain state and the
ticks are computed from the time the handler started, so whoever holds it calls `tick(now)` when due."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.handler_templates import (
    AGGREGATE_MESSAGE_ERROR,
    RenderTemplate,
    aggregate_message_data,
    go_template,
)
from chalicelib.alert.handlers import HandlerConfig
from chalicelib.kit.errors import TicklessError, invalid

MAX_BUFFERED = 100_000  # a topic flooding an aggregate handler keeps its newest events only


@dataclass(frozen=True, slots=True)
class Collected:
    """An event handed back to the alert service for `topic`; `no_external` spares it handlers that call
    out of Kapacitor (an aggregate of events that were all no-external stays so)."""

    topic: str
    event: AlertEvent
    no_external: bool = False


def publish(config: HandlerConfig, event: AlertEvent, *, no_external: bool = False) -> list[Collected]:
    """The publish handler: the same event on each of its topics, in order."""
    return [Collected(topic, event, no_external) for topic in config.options["topics"]]


@dataclass(slots=True)
class _Buffered:
    level: Level
    time: int
    duration: int
    message: str
    series: list[Any]

    def to_state(self) -> dict[str, Any]:
        return {
            "level": int(self.level),
            "time": self.time,
            "duration": self.duration,
            "message": self.message,
            "series": self.series,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> _Buffered:
        return cls(
            Level(state["level"]), state["time"], state["duration"], state["message"], list(state["series"])
        )


@dataclass(slots=True)
class AggregateState:
    """An aggregate handler's buffer between ticks."""

    started: int  # ns: the ticker's start; ticks fall at started + k * interval
    last_tick: int = 0  # ns: the last tick handled (started before the first)
    events: list[_Buffered] = field(default_factory=list)
    external: bool = False  # some buffered event may go to external handlers

    @classmethod
    def start(cls, now: int) -> AggregateState:
        return cls(started=now, last_tick=now)

    def add(self, event: AlertEvent, *, no_external: bool = False) -> None:
        series = event.data.get("series") if isinstance(event.data, Mapping) else None
        self.events.append(
            _Buffered(
                event.level,
                event.time,
                event.duration,
                event.message,
                list(series) if isinstance(series, list) else [],
            )
        )
        if len(self.events) > MAX_BUFFERED:
            del self.events[0]
        self.external = self.external or not no_external

    def next_tick(self, interval: int) -> int:
        return self.last_tick + interval

    def tick(
        self,
        config: HandlerConfig,
        now: int,
        render_template: RenderTemplate | None = None,
    ) -> list[Collected]:
        """The aggregated event if a tick fell at or before `now` with events buffered. Call it before
        `add`ing an event that arrives at `now`, so that the event lands in the interval it arrived in;
        several ticks passed at once give one event, as Kapacitor's ticker drops the ticks it missed."""
        interval = config.options["interval"]
        if interval <= 0:
            raise invalid("aggregate interval must be positive")
        if now < self.next_tick(interval):
            return []
        ticks = (now - self.last_tick) // interval
        self.last_tick += ticks * interval
        if not self.events:
            return []
        message = aggregate_message(config.options["message"], len(self.events), interval, render_template)
        event = AlertEvent(
            id=config.options["id"],
            message=message,
            details="\n".join(e.message for e in self.events),
            time=max(e.time for e in self.events),
            duration=max(0, *(e.duration for e in self.events)),
            level=max((e.level for e in self.events), default=Level.OK),
            recoverable=False,  # Kapacitor builds the aggregate without the events' data flags
            data={"series": [s for e in self.events for s in e.series]},
        )
        collected = [Collected(config.options["topic"], event, not self.external)]
        self.events.clear()
        self.external = False
        return collected

    def to_state(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "last_tick": self.last_tick,
            "events": [e.to_state() for e in self.events],
            "external": self.external,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> AggregateState:
        return cls(
            state["started"],
            state["last_tick"],
            [_Buffered.from_state(e) for e in state["events"]],
            bool(state.get("external", False)),
        )


def aggregate_message(
    text: str, count: int, interval: int, render_template: RenderTemplate | None = None
) -> str:
    """The message template run on {Count, Interval} (Go's text/template unless another is given)."""
    render = render_template or go_template
    try:
        return render(text, aggregate_message_data(count, interval), name="message")
    except TicklessError as err:
        raise invalid(AGGREGATE_MESSAGE_ERROR + err.message) from None
