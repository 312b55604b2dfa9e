"""The bounds on a template: its source size, and an execution's steps, output and nesting."""

from __future__ import annotations

MAX_STEPS = 200_000  # evaluations per execution
MAX_OUTPUT = 1 << 20  # characters per execution
MAX_DEPTH = 100  # nesting of controls, parentheses and template calls
MAX_TEXT = 1 << 18  # characters of template source
