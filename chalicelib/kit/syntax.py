"""One syntax error for every language tickless reads (InfluxQL, Flux, and TICKscript to come): what is
wrong, where, and the text the surface answers with, worded as the original tool words it."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.kit.errors import INVALID, TicklessError


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based
    offset: int = 0  # 0-based character offset into the source


class ParseError(TicklessError):
    """`reason` says what is wrong; `message` (the error's text) is `reason` unless the language words it
    with the position, e.g. InfluxQL's `... at line 1, char 8` or Flux's `error @1:8-1:8: ...`. `found` and
    `expected` are set by parsers that report "found X, expected Y"."""

    def __init__(
        self,
        reason: str,
        position: Position | None = None,
        *,
        message: str | None = None,
        found: str | None = None,
        expected: list[str] | None = None,
    ) -> None:
        super().__init__(INVALID, reason if message is None else message)
        self.reason = reason
        self.position = position
        self.found = found
        self.expected = expected

    def __str__(self) -> str:
        return self.message
