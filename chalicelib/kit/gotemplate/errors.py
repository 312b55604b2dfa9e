"""The error a template raises when it executes, worded as Go's text/template words it."""

from __future__ import annotations

from chalicelib.kit.errors import INVALID, TicklessError


class TemplateError(TicklessError):
    """An error executing a template, worded as Go's text/template words it."""

    def __init__(self, message: str) -> None:
        super().__init__(INVALID, message)
