"""Alert levels as Kapacitor parses and decides them: the level predicates are tried from CRITICAL down, a
level with a reset predicate holds until that reset is true, and the first predicate that passes wins."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.alert.events import Level
from chalicelib.kit.errors import TicklessError, invalid

Predicate = Callable[[Any], bool]
ErrorSink = Callable[[str, Exception], None]

# Kapacitor finds the text inside this string and accepts it only at a level's offset, so "" means OK and
# "OKINFO" too: the quirk is kept because min-level filters answer the same way.
_LEVEL_TEXT = "OKINFOWARNINGCRITICAL"
_OFFSETS = {0: Level.OK, 2: Level.INFO, 6: Level.WARNING, 13: Level.CRITICAL}


def parse_level(text: str) -> Level:
    """Kapacitor's alert.ParseLevel: case-insensitive; an unknown level is a 400
    `unknown alert level 'X'` with the text upper-cased."""
    upper = text.upper()
    level = _OFFSETS.get(_LEVEL_TEXT.find(upper))
    if level is None:
        raise invalid(f"unknown alert level '{upper}'")
    return level


def level_name(level: int) -> str:
    """alert.Level.String(): `unknown` beyond CRITICAL."""
    try:
        return Level(level).name
    except ValueError:
        return "unknown"


@dataclass(frozen=True, slots=True)
class LevelRules:
    """The predicates of `.info()`, `.warn()`, `.crit()` and their `...Reset()` lambdas, by level."""

    predicates: Mapping[Level, Predicate] = field(default_factory=dict)
    resets: Mapping[Level, Predicate] = field(default_factory=dict)

    def determine(self, point: Any, current: Level, on_error: ErrorSink | None = None) -> Level:
        """The level of `point` for a group now at `current`, as AlertNode.determineLevel decides it."""
        higher = self._first_match(point, Level.CRITICAL, current - 1, on_error)
        if higher is not None:
            return higher
        reset = self.resets.get(current)
        if reset is not None:
            try:
                if not reset(point):
                    return current
            except TicklessError as err:  # Kapacitor logs it and goes on as if the reset had passed
                _report(on_error, f"error evaluating reset expression for current level {current.name}", err)
        lower = self._first_match(point, current, Level.OK, on_error)
        return Level.OK if lower is None else lower

    def _first_match(self, point: Any, start: int, stop: int, on_error: ErrorSink | None) -> Level | None:
        stop = max(stop, Level.OK)
        for value in range(start, stop, -1):
            level = Level(value)
            predicate = self.predicates.get(level)
            if predicate is None:
                continue
            try:
                if predicate(point):
                    return level
            except TicklessError as err:  # a failing predicate does not match
                _report(on_error, f"error evaluating expression for level {level.name}", err)
        return None


def _report(on_error: ErrorSink | None, message: str, err: Exception) -> None:
    if on_error is not None:
        on_error(message, err)
