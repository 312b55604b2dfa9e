"""Notifications to events, driven by StackDistiller's event definition format.

A definition file is a YAML list of `{event_type, traits}`. The LAST definition whose `event_type`
globs match (and whose `!` exclusions do not) distils a notification; one that matches none is dropped
(None), as StackDistiller does unless asked for a catch-all. Every event also gets the default traits
`service`, `request_id` and `tenant_id`, which a definition may redefine.

Where StackDistiller would crash on a notification (no `event_type`, a value its trait type cannot
take), this raises TicklessError(INVALID) naming the trait, so the caller can refuse that one message.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import jsonpath_ng
import yaml

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.stacktach.distiller_plugins import PLUGINS, PluginParameterError, TraitPlugin

DEFAULTS = Path(__file__).parent / "defaults" / "event_definitions.yaml"


class TraitType(StrEnum):
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    DATETIME = "datetime"


TraitValue = str | int | float | datetime


@dataclass(frozen=True)
class Trait:
    """A distilled value with its type, which storage and the API need (datetimes are encoded apart)."""

    name: str
    type: TraitType
    value: TraitValue


@dataclass(frozen=True)
class Event:
    """One distilled notification; `message_id` is the key events are deduplicated by."""

    message_id: str
    event_type: str
    when: datetime  # UTC, aware, microseconds
    traits: dict[str, Trait] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The flat shape StackTach's API shows: trait values, then the envelope (`timestamp` is `when`),
        which a trait of the same name cannot hide."""
        flat: dict[str, Any] = {name: trait.value for name, trait in self.traits.items()}
        flat.update(message_id=self.message_id, event_type=self.event_type, timestamp=self.when)
        return flat


# ISO 8601 as the iso8601 package (StackDistiller's parser) reads it: a date down to the year, an
# optional time after "T" or a space, down to the hour, and an optional zone; no zone means UTC.
_ISO8601 = re.compile(
    r"(?P<year>\d{4})"
    r"(?:(?:-(?P<month_dash>\d{1,2})|(?P<month>\d{2})(?!$))"
    r"(?:(?:-(?P<day_dash>\d{1,2})|(?P<day>\d{2}))"
    r"(?:[ T](?P<hour>\d{2})(?::?(?P<minute>\d{2}))?(?::?(?P<second>\d{1,2})(?:[.,](?P<fraction>\d+))?)?"
    r"(?P<zone>Z|(?P<sign>[-+])(?P<zone_hour>\d{2}):?(?P<zone_minute>\d{2})?)?)?)?)?"
)


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 string as an aware UTC datetime, the fraction truncated to microseconds.

    Raises ValueError for anything else (StackDistiller takes only strings, not epoch numbers)."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    m = _ISO8601.fullmatch(value)
    if m is None:
        raise ValueError("not an ISO 8601 date")
    g = m.groupdict()
    zone: timezone = UTC
    if g["sign"]:
        offset = timedelta(hours=int(g["zone_hour"]), minutes=int(g["zone_minute"] or 0))
        zone = timezone(-offset if g["sign"] == "-" else offset)
    fraction = g["fraction"] or "0"
    try:
        parsed = datetime(
            int(g["year"]),
            int(g["month_dash"] or g["month"] or 1),
            int(g["day_dash"] or g["day"] or 1),
            int(g["hour"] or 0),
            int(g["minute"] or 0),
            int(g["second"] or 0),
            int(fraction[:6].ljust(6, "0")),
            tzinfo=zone,
        )
        return parsed.astimezone(UTC)
    except OverflowError as err:  # a valid zone moving the time out of datetime's years
        raise ValueError(str(err)) from None


def _to_float(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):  # storage cannot keep NaN or infinities
        raise ValueError("not a finite number")
    return number


_CONVERTERS: dict[TraitType, Callable[[Any], TraitValue]] = {
    TraitType.TEXT: str,
    TraitType.INT: int,
    TraitType.FLOAT: _to_float,
    TraitType.DATETIME: parse_datetime,
}


def _match_path(match: jsonpath_ng.DatumInContext) -> str:
    """The dotted path of a match (`payload.image_meta.org.openstack__1__os_distro`, `a.[0]`), the
    names bitfield flags are written with: raw field names, the root left out."""
    parts: list[str] = []
    datum: jsonpath_ng.DatumInContext | None = match
    while datum is not None and datum.context is not None:
        path = datum.path
        parts.append(path.fields[0] if isinstance(path, jsonpath_ng.Fields) else str(path))
        datum = datum.context
    return ".".join(reversed(parts))


def _invalid(message: str) -> TicklessError:
    return TicklessError(INVALID, message)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class TraitDefinition:
    name: str
    type: TraitType
    paths: tuple[Any, ...]  # parsed jsonpaths, searched in order
    plugin: TraitPlugin | None

    @classmethod
    def parse(cls, name: str, cfg: Any, where: str) -> TraitDefinition:
        where = f"{where}, trait {name!r}"
        if not isinstance(cfg, Mapping):
            raise _invalid(f"{where}: a trait must be a mapping with 'fields', not {_short(cfg)}")
        type_name = cfg.get("type", "text")
        try:
            trait_type = TraitType(type_name)
        except (ValueError, TypeError):
            raise _invalid(
                f"{where}: unknown type {_short(type_name)} (text, int, float or datetime)"
            ) from None
        if "fields" not in cfg:
            raise _invalid(f"{where}: 'fields' is required")
        return cls(name, trait_type, _parse_fields(cfg["fields"], where), _parse_plugin(cfg, where))

    def trait(self, body: Mapping[str, Any]) -> Trait | None:
        """This trait of a notification, None when it has no value (missing, null, or '' for a
        non-text type: Nova sends '' for unset dates)."""
        matches = [m for path in self.paths for m in path.find(body) if m.value is not None]
        if self.plugin is not None:
            value = self.plugin.trait_value([(_match_path(m), m.value) for m in matches])
        else:
            value = matches[0].value if matches else None
        if value is None or (self.type is not TraitType.TEXT and value == ""):
            return None
        try:
            return Trait(self.name, self.type, _CONVERTERS[self.type](value))
        except (ValueError, TypeError, OverflowError) as err:
            raise _invalid(
                f"trait {self.name!r}: cannot read {_short(value)} as {self.type}: {err}"
            ) from None


def _parse_fields(fields: Any, where: str) -> tuple[Any, ...]:
    specs = [fields] if isinstance(fields, str) else fields
    if not isinstance(specs, list) or not specs or not all(isinstance(s, str) for s in specs):
        raise _invalid(
            f"{where}: 'fields' must be a jsonpath or a non-empty list of them, not {_short(fields)}"
        )
    return tuple(_jsonpath(spec, where) for spec in specs)


@cache
def _parsed(spec: str) -> Any:
    return jsonpath_ng.parse(spec)


def _jsonpath(spec: str, where: str) -> Any:
    try:
        return _parsed(spec)
    except Exception as err:  # jsonpath_ng raises its own errors and, on some input, plain ones
        raise _invalid(f"{where}: bad jsonpath {spec!r}: {err}") from None


def _parse_plugin(cfg: Mapping[str, Any], where: str) -> TraitPlugin | None:
    if "plugin" not in cfg:
        return None
    plugin_cfg = cfg["plugin"]
    if isinstance(plugin_cfg, str):
        name, params = plugin_cfg, {}
    elif isinstance(plugin_cfg, Mapping):
        if "name" not in plugin_cfg:
            raise _invalid(f"{where}: a plugin needs a 'name'")
        name, params = plugin_cfg["name"], plugin_cfg.get("parameters") or {}
    else:
        raise _invalid(f"{where}: 'plugin' must be a name or a mapping, not {_short(plugin_cfg)}")
    factory = PLUGINS.get(name) if isinstance(name, str) else None
    if factory is None:
        raise _invalid(f"{where}: no plugin named {_short(name)} (known: {', '.join(sorted(PLUGINS))})")
    if not isinstance(params, Mapping):
        raise _invalid(f"{where}: plugin {name!r} 'parameters' must be a mapping, not {_short(params)}")
    try:
        return factory(params)
    except PluginParameterError as err:
        raise _invalid(f"{where}: plugin {name!r}: {err}") from None


# Every event gets these unless its definition redefines them.
_DEFAULT_TRAITS: dict[str, dict[str, Any]] = {
    "service": {"type": "text", "fields": "publisher_id"},
    "request_id": {"type": "text", "fields": "_context_request_id"},
    "tenant_id": {"type": "text", "fields": ["payload.tenant_id", "_context_tenant"]},
}


@dataclass(frozen=True)
class EventDefinition:
    included: tuple[str, ...]
    excluded: tuple[str, ...]
    traits: tuple[TraitDefinition, ...]

    @classmethod
    def parse(cls, cfg: Any, where: str) -> EventDefinition:
        if not isinstance(cfg, Mapping):
            raise _invalid(f"{where}: a definition must be a mapping with 'event_type' and 'traits'")
        for key in ("event_type", "traits"):
            if key not in cfg:
                raise _invalid(f"{where}: {key!r} is required")
        types = cfg["event_type"]
        types = [types] if isinstance(types, str) else types
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise _invalid(f"{where}: 'event_type' must be a glob or a list of globs, not {_short(types)}")
        where = f"{where} ({', '.join(types)})"
        included = tuple(t for t in types if not t.startswith("!"))
        excluded = tuple(t[1:] for t in types if t.startswith("!"))
        if excluded and not included:  # only exclusions: everything else
            included = ("*",)
        traits_cfg = cfg["traits"]
        if not isinstance(traits_cfg, Mapping):
            raise _invalid(f"{where}: 'traits' must be a mapping of trait names, not {_short(traits_cfg)}")
        if bad := [n for n in traits_cfg if not isinstance(n, str)]:
            raise _invalid(f"{where}: trait names must be strings, not {_short(bad[0])}")
        merged = {**_DEFAULT_TRAITS, **traits_cfg}
        traits = tuple(TraitDefinition.parse(name, tcfg, where) for name, tcfg in merged.items())
        return cls(included, excluded, traits)

    def matches(self, event_type: str) -> bool:
        # fnmatchcase: StackDistiller's fnmatch is case-sensitive on the Linux it runs on.
        return any(fnmatch.fnmatchcase(event_type, g) for g in self.included) and not any(
            fnmatch.fnmatchcase(event_type, g) for g in self.excluded
        )

    @property
    def is_catchall(self) -> bool:
        return "*" in self.included and not self.excluded


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Distiller:
    """Turns notifications into events by the first of its definitions, searched last to first."""

    def __init__(
        self,
        definitions: list[EventDefinition],
        *,
        catchall: bool = False,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        # Search order: the file's last definition first.
        self.definitions = list(reversed(definitions))
        if catchall and not any(d.is_catchall for d in self.definitions):
            self.definitions.append(EventDefinition.parse({"event_type": "*", "traits": {}}, "catch-all"))
        self._now = now

    @classmethod
    def from_config(
        cls, config: Any, *, catchall: bool = False, now: Callable[[], datetime] = _utcnow
    ) -> Distiller:
        """From an already-parsed definition list; raises TicklessError(INVALID) naming the problem."""
        if not isinstance(config, list):
            raise _invalid(f"event definitions must be a list of definitions, not {_short(config)}")
        definitions = [EventDefinition.parse(cfg, f"event definition {i}") for i, cfg in enumerate(config, 1)]
        return cls(definitions, catchall=catchall, now=now)

    @classmethod
    def from_yaml(
        cls, text: str, *, catchall: bool = False, now: Callable[[], datetime] = _utcnow
    ) -> Distiller:
        """From a StackDistiller definition file (YAML merge keys `<<:` included)."""
        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(err, "problem", None) or str(err)
            raise _invalid(f"event definitions: invalid YAML{at}: {problem}") from None
        return cls.from_config(config, catchall=catchall, now=now)

    @classmethod
    def default(cls) -> Distiller:
        """The shipped Nova definition set."""
        return _default()

    def with_definitions(self, config: list[Any]) -> Distiller:
        """This distiller with `config`'s definitions appended (they win for the types they take)."""
        extra = [EventDefinition.parse(cfg, f"added event definition {i}") for i, cfg in enumerate(config, 1)]
        grown = Distiller([], now=self._now)
        grown.definitions = list(reversed(extra)) + self.definitions
        return grown

    def definition_for(self, event_type: str) -> EventDefinition | None:
        return next((d for d in self.definitions if d.matches(event_type)), None)

    def to_event(self, notification: Mapping[str, Any]) -> Event | None:
        """The event of a notification; None when no definition takes its event_type.

        Raises TicklessError(INVALID) for a notification StackDistiller could not distil."""
        if not isinstance(notification, Mapping):
            raise _invalid("a notification must be a JSON object")
        event_type = notification.get("event_type")
        message_id = notification.get("message_id")
        if not isinstance(event_type, str):
            raise _invalid(f"notification {_short(message_id)}: 'event_type' must be a string")
        if not isinstance(message_id, str) or not message_id:
            raise _invalid(f"notification of {event_type!r}: 'message_id' must be a non-empty string")
        definition = self.definition_for(event_type)
        if definition is None:
            return None
        where = f"notification {message_id} ({event_type})"
        when = self._when(notification, where)
        traits: dict[str, Trait] = {}
        for trait_def in definition.traits:
            try:
                trait = trait_def.trait(notification)
            except TicklessError as err:
                raise _invalid(f"{where}: {err.message}") from None
            if trait is not None:
                traits[trait.name] = trait
        return Event(message_id, event_type, when, traits)

    def _when(self, notification: Mapping[str, Any], where: str) -> datetime:
        # As StackDistiller: `timestamp` if the key exists (even null), else `_context_timestamp`;
        # a missing or empty one means now.
        raw = notification.get("timestamp", notification.get("_context_timestamp"))
        if not raw:
            return self._now()
        try:
            return parse_datetime(raw)
        except ValueError as err:
            raise _invalid(f"{where}: cannot read timestamp {_short(raw)}: {err}") from None


@cache
def _default() -> Distiller:
    return Distiller.from_yaml(DEFAULTS.read_text(encoding="utf-8"))
