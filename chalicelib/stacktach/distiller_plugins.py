"""Trait plugins of StackDistiller's definition format: `split` and `bitfield`.

A plugin sees every non-null match of a trait's `fields` as `(path, value)` pairs, in match order, and
returns the trait's raw value (None: no trait). It is called even when nothing matched, so it can supply
a default. Parameters are checked when the definitions load, so a bad one refuses the file at start
instead of failing every notification; unknown parameters are ignored, as StackDistiller ignores them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

Match = tuple[str, Any]


class TraitPlugin(Protocol):
    def trait_value(self, matches: list[Match]) -> Any: ...


class PluginParameterError(ValueError):
    """A plugin parameter the plugin cannot work with; the loader adds where it was found."""


def _int_param(params: Mapping[str, Any], name: str, default: int | None) -> int | None:
    value = params.get(name, default)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise PluginParameterError(f"parameter {name!r} must be an integer, not {value!r}")


@dataclass(frozen=True)
class Split:
    """One segment of the first match's text split on `separator` (None splits on whitespace, like
    Python's str.split); no trait when the segment does not exist."""

    separator: str | None = "."
    segment: int = 0
    max_split: int | None = None

    @classmethod
    def from_parameters(cls, params: Mapping[str, Any]) -> Split:
        separator = params.get("separator", ".")
        if separator is not None and (not isinstance(separator, str) or separator == ""):
            raise PluginParameterError(f"parameter 'separator' must be a non-empty string, not {separator!r}")
        segment = _int_param(params, "segment", 0)
        return cls(separator, 0 if segment is None else segment, _int_param(params, "max_split", None))

    def trait_value(self, matches: list[Match]) -> Any:
        if not matches:
            return None
        text = str(matches[0][1])
        parts = (
            text.split(self.separator)
            if self.max_split is None
            else text.split(self.separator, self.max_split)
        )
        if -len(parts) <= self.segment < len(parts):
            return parts[self.segment]
        return None


@dataclass(frozen=True)
class Flag:
    path: str
    bit: int
    value: Any
    has_value: bool


@dataclass(frozen=True)
class Bitfield:
    """`initial_bitfield` OR'ed with a bit per flag whose `path` matched (and, when the flag names a
    `value`, matched with that value). Always yields a number, even when nothing matched."""

    initial_bitfield: int = 0
    flags: tuple[Flag, ...] = ()

    @classmethod
    def from_parameters(cls, params: Mapping[str, Any]) -> Bitfield:
        initial = _int_param(params, "initial_bitfield", 0)
        raw_flags = params.get("flags")
        if raw_flags is None:
            raw_flags = []
        if not isinstance(raw_flags, list):
            raise PluginParameterError(f"parameter 'flags' must be a list, not {raw_flags!r}")
        flags = tuple(_flag(i, raw) for i, raw in enumerate(raw_flags, 1))
        return cls(0 if initial is None else initial, flags)

    def trait_value(self, matches: list[Match]) -> Any:
        found = dict(matches)
        bits = self.initial_bitfield
        for flag in self.flags:
            if flag.path in found and (not flag.has_value or found[flag.path] == flag.value):
                bits |= 1 << flag.bit
        return bits


def _flag(index: int, raw: Any) -> Flag:
    where = f"flag {index}"
    if not isinstance(raw, Mapping):
        raise PluginParameterError(f"{where} must be a mapping with 'path' and 'bit', not {raw!r}")
    path = raw.get("path")
    if not isinstance(path, str):
        raise PluginParameterError(f"{where}: 'path' must be a string, not {path!r}")
    try:
        bit = int(raw.get("bit"))  # type: ignore[arg-type]  # StackDistiller takes "3" as well as 3
    except (TypeError, ValueError):
        raise PluginParameterError(f"{where}: 'bit' must be an integer, not {raw.get('bit')!r}") from None
    if bit < 0:
        raise PluginParameterError(f"{where}: 'bit' must not be negative, not {bit}")
    return Flag(path, bit, raw.get("value"), "value" in raw)


PLUGINS: dict[str, Callable[[Mapping[str, Any]], TraitPlugin]] = {
    "split": Split.from_parameters,
    "bitfield": Bitfield.from_parameters,
}
