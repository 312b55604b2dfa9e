"""`/api/v2/delete` predicates: InfluxDB 2's small language of `key = "value"` comparisons joined by
AND, over `_measurement` and tag keys (`_field` and OR are refused, as influxd refuses them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.kit.errors import INVALID, TicklessError

_TOKEN = re.compile(
    r"""\s*(?:(?P<and>AND\b|and\b)|(?P<or>OR\b|or\b)|(?P<op>!=|=)|"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<ident>[^\s="!()<>]+)|(?P<bad>\S))"""
)


@dataclass(frozen=True, slots=True)
class Comparison:
    key: str
    value: str
    equal: bool


@dataclass(frozen=True, slots=True)
class Predicate:
    comparisons: tuple[Comparison, ...] = ()

    def measurement_matches(self, measurement: str) -> bool:
        return all((c.value == measurement) == c.equal for c in self.comparisons if c.key == "_measurement")

    def tags_match(self, tags: Mapping[str, str]) -> bool:
        return all(
            (tags.get(c.key, "") == c.value) == c.equal for c in self.comparisons if c.key != "_measurement"
        )

    @property
    def has_tag_conditions(self) -> bool:
        return any(c.key != "_measurement" for c in self.comparisons)

    @property
    def tag_equals(self) -> tuple[str, frozenset[str]] | None:
        """A tag the matching series have with this value (the first `key = "value"` of one): lets the
        index read only that tag's series. `key = ""` matches series without the tag: no hint."""
        for c in self.comparisons:
            if c.equal and c.key != "_measurement" and c.value:
                return c.key, frozenset((c.value,))
        return None


def _invalid(reason: str) -> TicklessError:
    return TicklessError(INVALID, f"invalid request; error parsing predicate: {reason}")


def parse_predicate(text: str) -> Predicate:
    """Parse `_measurement="cpu" AND host="a"`; an empty predicate matches everything."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        kind = match.lastgroup
        if kind == "bad":
            raise _invalid(f"unexpected character {match.group('bad')!r}")
        if kind == "or":
            raise _invalid("the logical operator OR is not supported")
        value = match.group(kind)
        if kind == "quoted":
            value = value.replace('\\"', '"').replace("\\\\", "\\")
        tokens.append((kind, value))
    comparisons = []
    i = 0
    while i < len(tokens):
        if i and tokens[i][0] == "and":
            i += 1
        elif i:
            raise _invalid("comparisons must be joined by AND")
        if i + 3 > len(tokens):
            raise _invalid("incomplete comparison")
        (key_kind, key), (op_kind, op), (value_kind, value) = tokens[i : i + 3]
        if key_kind not in ("ident", "quoted") or op_kind != "op" or value_kind != "quoted":
            raise _invalid('a comparison is key = "value"')
        if key == "_field":
            raise _invalid("delete by field is not supported")
        comparisons.append(Comparison(key, value, op == "="))
        i += 3
    return Predicate(tuple(comparisons))
