"""Winchester trigger definitions: which events join a stream, what distinguishes streams, when they fire
or expire, and which pipelines then run.

Semantics follow Winchester's `definition.py`: match criteria are tried in order and the first that
matches decides (its `map_distinguished_by` applies); every fire criterion must be met by at least `number`
events; expiry is a timex expression over `$first` and `$last`, recomputed on every event; fire_delay counts
from when the fire criteria are met. Definitions are checked when loaded so a bad file fails with the
trigger and field named instead of failing per event.
"""

from __future__ import annotations

import fnmatch
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import yaml

from chalicelib.kit.errors import TicklessError, invalid
from chalicelib.stacktach import timex

DEFAULTS = Path(__file__).parent / "defaults"
HANDLERS = ("logger", "usage", "publish")


class EventLike(Protocol):
    """What a distilled event offers (trait values bare or as objects with `.value`); a flat
    Winchester-style mapping is accepted as well. Datetimes should all be aware UTC, as the distiller's."""

    @property
    def event_type(self) -> str: ...

    @property
    def when(self) -> datetime: ...

    @property
    def traits(self) -> Mapping[str, Any]: ...


Event = EventLike | Mapping[str, Any]


def event_view(event: Event) -> Mapping[str, Any]:
    """Winchester's flat event: traits plus `event_type`, `message_id` and `timestamp` (the envelope wins)."""
    if isinstance(event, Mapping):
        return event
    # The distiller's traits carry their type; criteria compare the bare value.
    view = {name: getattr(trait, "value", trait) for name, trait in event.traits.items()}
    view["event_type"] = event.event_type
    view["message_id"] = getattr(event, "message_id", None)
    view["timestamp"] = event.when
    return view


def _datetimes(view: Mapping[str, Any]) -> dict[str, datetime]:
    """Every datetime trait is a variable for the event's timex expressions."""
    return {k: v for k, v in view.items() if isinstance(v, datetime)}


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


@dataclass(frozen=True, slots=True)
class TraitCriterion:
    """`trait: value` (equality) or `trait: {int|float: "> 4096"}` / `{string: x}`."""

    trait: str
    op: str
    value: Any

    def match(self, view: Mapping[str, Any]) -> bool:
        if self.trait not in view:
            return False
        try:
            return bool(_OPS[self.op](view[self.trait], self.value))
        except TypeError:  # a string trait against a number: no match, as no event could
            return False


@dataclass(frozen=True, slots=True)
class TimeCriterion:
    """`trait: {datetime: "$timestamp - 1d to $timestamp"}`: the trait lies in the evaluated range."""

    trait: str
    expression: timex.Expression

    def match(self, view: Mapping[str, Any]) -> bool:
        if self.trait not in view:
            return False
        try:
            return _within(view[self.trait], self.expression(**_datetimes(view)))
        except timex.UndefinedVariable:
            return False


def _within(value: Any, span: timex.Value) -> bool:
    try:
        return isinstance(value, datetime) and value in span
    except TypeError:  # naive against aware
        return False


def _trait_criterion(where: str, trait: str, spec: Any) -> TraitCriterion | TimeCriterion:
    if not isinstance(spec, Mapping):
        return TraitCriterion(trait, "=", spec)
    if len(spec) != 1:
        raise invalid(f"{where}: only one type of match is allowed per criterion")
    ((kind, expr),) = spec.items()
    if kind in ("string", "text"):
        return TraitCriterion(trait, "=", expr)
    if kind == "datetime":
        return TimeCriterion(trait, _timex(where, expr))
    if kind not in ("int", "float"):
        raise invalid(f"{where}: unknown criterion type {kind!r} (int, float, datetime, string, text)")
    if not isinstance(expr, str):
        return TraitCriterion(trait, "=", expr)
    parts = expr.strip().split(None, 1)
    op, text = (parts[0], parts[1].strip()) if len(parts) == 2 else ("=", parts[0] if parts else "")
    if op not in _OPS:
        raise invalid(f"{where}: unknown comparison {op!r}")
    try:
        return TraitCriterion(trait, op, int(text) if kind == "int" else float(text))
    except ValueError:
        raise invalid(f"{where}: invalid {kind} criterion {expr!r}") from None


def _timex(where: str, text: Any) -> timex.Expression:
    try:
        return timex.parse(text)
    except TicklessError as e:
        raise invalid(f"{where}: {e.message}") from None


@dataclass(frozen=True, slots=True)
class Criteria:
    """One entry of match_criteria/fire_criteria/load_criteria."""

    included_types: tuple[str, ...] = ("*",)
    excluded_types: tuple[str, ...] = ()
    number: int = 1
    timestamp: timex.Expression | None = None
    map_distinguished_by: Mapping[str, str] = field(default_factory=dict)
    traits: tuple[TraitCriterion | TimeCriterion, ...] = ()

    @classmethod
    def from_config(cls, where: str, config: Any) -> Criteria:
        if not isinstance(config, Mapping):
            raise invalid(f"{where}: must be a mapping")
        types = config.get("event_type", [])
        types = [types] if isinstance(types, str) else types
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise invalid(f"{where}.event_type: must be a string or a list of strings")
        included = tuple(t for t in types if not t.startswith("!"))
        excluded = tuple(t[1:] for t in types if t.startswith("!"))
        number = config.get("number", 1)
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise invalid(f"{where}.number: must be a positive integer")
        stamp = config.get("timestamp")
        mapping = config.get("map_distinguished_by") or {}
        if not isinstance(mapping, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise invalid(f"{where}.map_distinguished_by: must map trait names to trait names")
        traits = config.get("traits") or {}
        if not isinstance(traits, Mapping):
            raise invalid(f"{where}.traits: must be a mapping")
        return cls(
            included_types=included or ("*",),
            excluded_types=excluded,
            number=number,
            timestamp=None if stamp is None else _timex(f"{where}.timestamp", stamp),
            map_distinguished_by=dict(mapping),
            traits=tuple(_trait_criterion(f"{where}.traits.{k}", str(k), v) for k, v in traits.items()),
        )

    def match_type(self, event_type: str) -> bool:
        def hit(globs: Sequence[str]) -> bool:
            return any(fnmatch.fnmatchcase(event_type, g) for g in globs)

        return hit(self.included_types) and not hit(self.excluded_types)

    def match(self, event: Event) -> bool:
        view = event_view(event)
        if not self.match_type(str(view.get("event_type", ""))):
            return False
        if self.timestamp is not None:
            try:
                span = self.timestamp(**_datetimes(view))
            except timex.UndefinedVariable:
                return False
            if not _within(view.get("timestamp"), span):
                return False
        return all(c.match(view) for c in self.traits)


@dataclass(frozen=True, slots=True)
class Distinguisher:
    """A `distinguished_by` entry: a trait name, or `{name: timex}` evaluated with `$timestamp` = trait."""

    trait: str
    expression: timex.Expression | None = None


DistinguishingValue = Any  # str | int | float | datetime | timex.TimeRange


@dataclass(frozen=True, slots=True)
class TriggerDefinition:
    name: str
    expiration_expr: timex.Expression
    match_criteria: tuple[Criteria, ...]
    fire_criteria: tuple[Criteria, ...]
    distinguished_by: tuple[Distinguisher, ...] = ()
    fire_delay: float = 0
    fire_pipeline: str | None = None
    expire_pipeline: str | None = None
    load_criteria: tuple[Criteria, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_config(cls, config: Any, index: int = 0) -> TriggerDefinition:
        if not isinstance(config, Mapping):
            raise invalid(f"trigger #{index + 1}: must be a mapping")
        name = config.get("name")
        if not isinstance(name, str) or not name:
            raise invalid(f"trigger #{index + 1}: required field 'name' is missing")
        where = f"trigger {name!r}"
        for required in ("expiration", "match_criteria", "fire_criteria"):
            if required not in config:
                raise invalid(f"{where}: required field {required!r} is missing")
        fire_pipeline, expire_pipeline = config.get("fire_pipeline"), config.get("expire_pipeline")
        if not fire_pipeline and not expire_pipeline:
            raise invalid(f"{where}: at least one of 'fire_pipeline' or 'expire_pipeline' is required")
        for key, value in (("fire_pipeline", fire_pipeline), ("expire_pipeline", expire_pipeline)):
            if value is not None and not isinstance(value, str):
                raise invalid(f"{where}.{key}: must be a pipeline name")
        delay = config.get("fire_delay", 0)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise invalid(f"{where}.fire_delay: must be a non-negative number of seconds")
        return cls(
            name=name,
            expiration_expr=_timex(f"{where}.expiration", config["expiration"]),
            match_criteria=_criteria_list(f"{where}.match_criteria", config["match_criteria"]),
            fire_criteria=_criteria_list(f"{where}.fire_criteria", config["fire_criteria"]),
            distinguished_by=_distinguishers(f"{where}.distinguished_by", config.get("distinguished_by")),
            fire_delay=delay,
            fire_pipeline=fire_pipeline or None,
            expire_pipeline=expire_pipeline or None,
            load_criteria=_criteria_list(f"{where}.load_criteria", config.get("load_criteria") or []),
            config=dict(config),
        )

    def matching_criteria(self, event: Event) -> Criteria | None:
        """Winchester's match: every distinguishing trait present, then the first matching criteria."""
        view = event_view(event)
        if any(d.trait not in view for d in self.distinguished_by):
            return None
        return next((c for c in self.match_criteria if c.match(view)), None)

    def distinguishing(self, event: Event) -> dict[str, DistinguishingValue] | None:
        """The stream key for an event, or None when the event does not join a stream of this trigger
        (no criteria match, or a (mapped) distinguishing trait is missing or not a datetime for timex)."""
        view = event_view(event)
        criteria = self.matching_criteria(view)
        if criteria is None:
            return None
        traits: dict[str, DistinguishingValue] = {}
        for d in self.distinguished_by:
            source = criteria.map_distinguished_by.get(d.trait, d.trait)
            if source not in view:
                return None
            value = view[source]
            if d.expression is not None:
                if not isinstance(value, datetime):
                    return None
                try:
                    result = d.expression(timestamp=value)
                except timex.UndefinedVariable:
                    return None
                value = timex.TimeRange(result.begin, result.end) if result.is_range else result.timestamp
            traits[d.trait] = value
        return traits

    def match(self, event: Event) -> bool:
        return self.distinguishing(event) is not None

    def expiration(self, first: datetime, last: datetime, now: datetime | None = None) -> datetime:
        """When a stream with these first/last event times expires (recomputed on every event)."""
        env = {"first": first, "last": last}
        if now is not None:
            env["timestamp"] = now
        try:
            return self.expiration_expr(**env).timestamp
        except timex.UndefinedVariable as e:
            raise invalid(f"trigger {self.name!r}.expiration: {e.message}") from None

    def fire_hits(self, event: Event) -> tuple[int, ...]:
        """Per fire criterion, 1 if the event counts toward it: summing these per stream is the same as
        Winchester recounting the stream's events, since each criterion looks at one event at a time."""
        view = event_view(event)
        return tuple(int(c.match(view)) for c in self.fire_criteria)

    def counts_fire(self, counts: Sequence[int]) -> bool:
        return all(n >= c.number for n, c in zip(counts, self.fire_criteria, strict=True))

    def should_fire(self, events: Iterable[Event]) -> bool:
        totals = [0] * len(self.fire_criteria)
        for event in events:
            totals = [a + b for a, b in zip(totals, self.fire_hits(event), strict=True)]
        return self.counts_fire(totals)

    def fire_timestamp(self, now: datetime) -> datetime:
        """Fire criteria met at `now`: the stream fires `fire_delay` seconds later."""
        return now + timedelta(seconds=self.fire_delay)


def _criteria_list(where: str, value: Any) -> tuple[Criteria, ...]:
    if not isinstance(value, list):
        raise invalid(f"{where}: must be a list")
    return tuple(Criteria.from_config(f"{where}[{i}]", c) for i, c in enumerate(value))


def _distinguishers(where: str, value: Any) -> tuple[Distinguisher, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise invalid(f"{where}: must be a list")
    out: list[Distinguisher] = []
    for item in value:
        if isinstance(item, str):
            out.append(Distinguisher(item))
        elif isinstance(item, Mapping) and len(item) == 1:
            ((trait, expr),) = item.items()
            out.append(Distinguisher(str(trait), _timex(f"{where}.{trait}", expr)))
        else:
            raise invalid(f"{where}: {item!r} must be a trait name or one {{trait: time expression}}")
    return tuple(out)


def _yaml(text: str, what: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise invalid(f"invalid {what} YAML: {e}") from None


def load_triggers(text: str) -> list[TriggerDefinition]:
    data = _yaml(text, "trigger definitions")
    if data is None:
        return []
    if not isinstance(data, list):
        raise invalid("trigger definitions must be a list")
    defs = [TriggerDefinition.from_config(c, i) for i, c in enumerate(data)]
    seen: set[str] = set()
    for d in defs:
        if d.name in seen:
            raise invalid(f"trigger {d.name!r}: defined twice")
        seen.add(d.name)
    return defs


@dataclass(frozen=True, slots=True)
class HandlerConfig:
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


def load_pipelines(text: str, handlers: Iterable[str] = HANDLERS) -> dict[str, tuple[HandlerConfig, ...]]:
    """`pipeline: [handler | {name, params}]`, every handler one of the known ones."""
    data = _yaml(text, "pipeline")
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise invalid("pipeline config must map pipeline names to handler lists")
    known = set(handlers)
    out: dict[str, tuple[HandlerConfig, ...]] = {}
    for name, steps in data.items():
        if not isinstance(steps, list):
            raise invalid(f"pipeline {name!r}: must be a list of handlers")
        parsed: list[HandlerConfig] = []
        for step in steps:
            conf = {"name": step} if isinstance(step, str) else step
            if not isinstance(conf, Mapping) or not isinstance(conf.get("name"), str):
                raise invalid(f"pipeline {name!r}: handler name missing in {step!r}")
            params = conf.get("params") or {}
            if not isinstance(params, Mapping):
                raise invalid(f"pipeline {name!r}: params of {conf['name']!r} must be a mapping")
            if conf["name"] not in known:
                raise invalid(f"pipeline {name!r}: unknown handler {conf['name']!r}")
            parsed.append(HandlerConfig(conf["name"], dict(params)))
        out[str(name)] = tuple(parsed)
    return out


def unknown_pipelines(defs: Iterable[TriggerDefinition], pipelines: Mapping[str, Any]) -> list[str]:
    """Pipelines triggers name but the config lacks (Winchester errors such streams when they fire)."""
    named = {p for d in defs for p in (d.fire_pipeline, d.expire_pipeline) if p}
    return sorted(named - set(pipelines))


def default_triggers() -> list[TriggerDefinition]:
    return load_triggers((DEFAULTS / "triggers.yaml").read_text())


def default_pipelines() -> dict[str, tuple[HandlerConfig, ...]]:
    return load_pipelines((DEFAULTS / "pipelines.yaml").read_text())
