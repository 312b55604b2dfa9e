"""The per-group alert state machine of Kapacitor's AlertNode: level history, flapping, state changes only
(with its max interval), recoveries, durations, and the event each point or batch produces.

`AlertState` is one group's state (plain data, `to_state`/`from_state`); `AlertNode` holds a node's settings
and turns (state, point) into an `AlertOutcome`: the event to send, if any, and what the node forwards."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.levels import ErrorSink, LevelRules
from chalicelib.alert.messages import (
    AlertTemplates,
    ServerInfo,
    batch_result,
    point_result,
    render_id,
    render_message_and_details,
)
from chalicelib.kit.errors import invalid

DEFAULT_HISTORY = 21
# Flapping weighs the newest change WEIGHT_DIFF times the oldest, the newest weighing MAX_WEIGHT.
WEIGHT_DIFF = 1.5
MAX_WEIGHT = 1.2
GO_ZERO_TIME = -62_135_596_800_000_000_000  # time.Time{} as nanoseconds since the epoch
_INT64 = (-(1 << 63), (1 << 63) - 1)


def _sub(a: int, b: int) -> int:
    """time.Time.Sub: saturates at the int64 limits."""
    return min(max(a - b, _INT64[0]), _INT64[1])


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """The AlertNode properties that shape the state machine and the emitted data."""

    history: int = DEFAULT_HISTORY
    use_flapping: bool = False
    flap_low: float = 0.0
    flap_high: float = 0.0
    state_changes_only: bool = False
    state_changes_only_max_interval: int = 0  # ns; `.stateChangesOnly(10m)`
    no_recoveries: bool = False
    all: bool = False
    category: str = ""
    level_tag: str = ""
    level_field: str = ""
    id_tag: str = ""
    id_field: str = ""
    message_field: str = ""
    duration_field: str = ""

    def __post_init__(self) -> None:
        if self.use_flapping and (self.flap_low > 1 or self.flap_high > 1):
            raise invalid("alert flap thresholds are percentages and should be between 0 and 1")

    @property
    def history_length(self) -> int:
        return max(self.history, 2)


@dataclass(slots=True)
class AlertState:
    """One group's alert state. `history` is a ring of the last levels, `idx` its newest slot."""

    history: list[Level]
    idx: int = 0
    flapping: bool = False
    changed: bool = False
    first_triggered: int = GO_ZERO_TIME
    last_triggered: int = GO_ZERO_TIME
    expired: bool = False
    last_event_level: Level = Level.OK  # the level of the last event sent: the next one's previousLevel

    @classmethod
    def new(cls, settings: AlertSettings) -> AlertState:
        return cls([Level.OK] * settings.history_length)

    @classmethod
    def restored(cls, settings: AlertSettings, level: Level, triggered: int, first_time: int) -> AlertState:
        """A group's state rebuilt from its topic event state, as Kapacitor does when a group first shows up:
        the stored level at the group's first point time, triggered at the stored time."""
        state = cls.new(settings)
        if level != Level.OK:
            state.add_event(settings, first_time, level)
            state.triggered(triggered)
            state.last_event_level = level
        return state

    @property
    def level(self) -> Level:
        return self.history[self.idx]

    @property
    def duration(self) -> int:
        return _sub(self.last_triggered, self.first_triggered)

    def add_event(self, settings: AlertSettings, time: int, level: Level) -> None:
        self.changed = self.history[self.idx] != level
        self.idx = (self.idx + 1) % len(self.history)
        self.history[self.idx] = level
        if settings.use_flapping:
            change = self.percent_change()
            if self.flapping and change < settings.flap_low:
                self.flapping = False
            elif not self.flapping and change > settings.flap_high:
                self.flapping = True
        interval = settings.state_changes_only_max_interval
        self.expired = not self.changed and interval != 0 and _sub(time, self.last_triggered) >= interval

    def triggered(self, time: int) -> None:
        self.last_triggered = time
        if self.history[self.idx - 1] == Level.OK:  # first trigger since OK: the incident starts
            self.first_triggered = time

    def percent_change(self) -> float:
        """The weighted share of level changes in the history, newer changes weighing more."""
        size = len(self.history)
        weight = MAX_WEIGHT / WEIGHT_DIFF
        step = (MAX_WEIGHT - weight) / (size - 1)
        changes = 0.0
        for i in range(size - 1):
            current = (i + self.idx) % size
            if self.history[current] != self.history[current - 1]:
                changes += weight
            weight += step
        return changes / (size - 1)

    def suppressed(self, settings: AlertSettings) -> bool:
        """Flapping, or no change under `.stateChangesOnly()` (and its interval not yet elapsed)."""
        return (settings.use_flapping and self.flapping) or (
            settings.state_changes_only and not self.changed and not self.expired
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "history": [int(level) for level in self.history],
            "idx": self.idx,
            "flapping": self.flapping,
            "changed": self.changed,
            "first_triggered": self.first_triggered,
            "last_triggered": self.last_triggered,
            "expired": self.expired,
            "last_event_level": int(self.last_event_level),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], settings: AlertSettings | None = None) -> AlertState:
        history = [Level(int(v)) for v in state["history"]]
        restored = cls(
            history,
            int(state["idx"]) % len(history),
            bool(state["flapping"]),
            bool(state["changed"]),
            int(state["first_triggered"]),
            int(state["last_triggered"]),
            bool(state["expired"]),
            Level(int(state.get("last_event_level", 0))),
        )
        if settings is not None and len(history) != settings.history_length:
            restored = _resized(restored, settings.history_length)
        return restored


def _resized(state: AlertState, size: int) -> AlertState:
    """The state under a changed `.history()`: the newest levels kept, newest last."""
    ordered = [state.history[(state.idx + 1 + i) % len(state.history)] for i in range(len(state.history))]
    kept = ([Level.OK] * size + ordered)[-size:]
    return replace(state, history=kept, idx=size - 1)


@dataclass(frozen=True, slots=True)
class AlertPoint:
    """A stream point as the alert node sees it."""

    name: str
    group: str  # the group id; "" when not grouped
    tags: dict[str, str]
    fields: dict[str, Any]
    time: int


@dataclass(frozen=True, slots=True)
class BatchPoint:
    time: int
    fields: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertBatch:
    """A batch: `time` is its end (TMax), `tags` the group's tags."""

    name: str
    group: str
    tags: dict[str, str]
    time: int
    points: list[BatchPoint]


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """`event` to collect into the topics (None: nothing to send); `output` what the node passes on."""

    event: AlertEvent | None = None
    output: AlertPoint | AlertBatch | None = None


@dataclass(frozen=True, slots=True)
class AlertNode:
    """One alert node of a task: `node` is its name in the pipeline (e.g. `alert2`)."""

    task: str
    node: str
    rules: LevelRules
    templates: AlertTemplates = field(default_factory=AlertTemplates.parse)
    settings: AlertSettings = field(default_factory=AlertSettings)
    server: ServerInfo = field(default_factory=ServerInfo)

    def new_state(self) -> AlertState:
        return AlertState.new(self.settings)

    def event_id(self, name: str, group: str, tags: dict[str, str]) -> str:
        return render_id(self.templates, name, self.task, group, tags, self.server)

    def point(self, state: AlertState, point: AlertPoint, on_error: ErrorSink | None = None) -> AlertOutcome:
        """AlertNode's handling of a stream point."""
        event_id = self.event_id(point.name, point.group, point.tags)
        level = self.rules.determine(point, state.level, on_error)
        state.add_event(self.settings, point.time, level)
        if state.suppressed(self.settings):
            return AlertOutcome()
        if level == Level.OK and not state.changed:
            return AlertOutcome()
        state.triggered(point.time)
        if self.settings.no_recoveries and level == Level.OK:
            return AlertOutcome()
        event = self._event(
            state,
            event_id,
            point.name,
            point.group,
            point.tags,
            point.fields,
            level,
            point.time,
            point_result(point.name, point.tags, point.fields, point.time),
        )
        tags, fields = self._decorate(point.tags, point.fields, event)
        return AlertOutcome(event, replace(point, tags=tags, fields=fields))

    def batch(self, state: AlertState, batch: AlertBatch, on_error: ErrorSink | None = None) -> AlertOutcome:
        """AlertNode's handling of a batch: the highest level among its points (the lowest with `.all()`)."""
        event_id = self.event_id(batch.name, batch.group, batch.tags)
        if not batch.points:
            return AlertOutcome()
        current = state.level
        lowest, highest = Level.CRITICAL, Level.OK
        top: BatchPoint | None = None
        for bp in batch.points:
            level = self.rules.determine(bp, current, on_error)
            lowest = min(lowest, level)
            if level > highest or top is None:
                highest, top = level, bp
        assert top is not None
        level = lowest if self.settings.all else highest
        time = batch.time if self.settings.all or level == Level.OK else top.time
        state.add_event(self.settings, time, level)
        if not (
            (state.changed and level == Level.OK)
            or (level != Level.OK and not state.suppressed(self.settings))
        ):
            return AlertOutcome()
        state.triggered(time)
        if self.settings.no_recoveries and level == Level.OK:
            return AlertOutcome()
        result = batch_result(batch.name, batch.tags, [(p.time, p.fields, p.tags) for p in batch.points])
        event = self._event(
            state, event_id, batch.name, batch.group, batch.tags, top.fields, level, time, result
        )
        s = self.settings
        if not (
            s.level_tag or s.level_field or s.id_tag or s.id_field or s.duration_field or s.message_field
        ):
            return AlertOutcome(event, batch)
        points = []
        for bp in batch.points:
            tags, fields = self._decorate(bp.tags, bp.fields, event)
            points.append(replace(bp, tags=tags, fields=fields))
        batch_tags, _ = self._decorate(batch.tags, {}, event)
        return AlertOutcome(event, replace(batch, tags=batch_tags, points=points))

    def _event(
        self,
        state: AlertState,
        event_id: str,
        name: str,
        group: str,
        tags: dict[str, str],
        fields: dict[str, Any],
        level: Level,
        time: int,
        data: dict[str, Any],
    ) -> AlertEvent:
        duration = state.duration
        message, details = render_message_and_details(
            self.templates,
            id=event_id,
            name=name,
            task=self.task,
            group=group,
            tags=tags,
            fields=fields,
            level=level,
            time=time,
            duration=duration,
            server=self.server,
        )
        previous = state.last_event_level
        state.last_event_level = level
        return AlertEvent(
            id=event_id,
            message=message,
            details=details,
            time=time,
            duration=duration,
            level=level,
            previous_level=previous,
            recoverable=not self.settings.no_recoveries,
            data=data,
            task=self.task,
            category=self.settings.category,
        )

    def _decorate(
        self, tags: dict[str, str], fields: dict[str, Any], event: AlertEvent
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """`.levelTag()`, `.idTag()`, `.levelField()`, `.messageField()`, `.idField()`, `.durationField()`."""
        s = self.settings
        if s.level_tag or s.id_tag:
            tags = dict(tags)
            if s.level_tag:
                tags[s.level_tag] = event.level.name
            if s.id_tag:
                tags[s.id_tag] = event.id
        if s.level_field or s.message_field or s.id_field or s.duration_field:
            fields = dict(fields)
            if s.level_field:
                fields[s.level_field] = event.level.name
            if s.message_field:
                fields[s.message_field] = event.message
            if s.id_field:
                fields[s.id_field] = event.id
            if s.duration_field:
                fields[s.duration_field] = event.duration
        return tags, fields
