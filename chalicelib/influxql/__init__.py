"""InfluxQL front end (stdlib only), one stage per module.

- `tokens`: the scanner (lexical rules of InfluxDB 1.x), durations.
- `ast`: node dataclasses and tree helpers (no text).
- `generator`: `generate(node)` renders InfluxQL like InfluxDB's String() methods.
- `parser`: `parse(query, params) -> list[Statement]`, `parse_expr(text)`, `ParseError`.
- `conditions`: `time_range`, `eval_condition`, `split_condition`, `ConditionError`.
"""

from . import ast
from .ast import *  # noqa: F403 - node classes are the package's vocabulary
from .conditions import (
    MAX_TIME,
    MIN_TIME,
    ConditionError,
    eval_condition,
    parse_time,
    split_condition,
    tag_only,
    time_range,
)
from .generator import generate
from .parser import ParseError, bind_value, parse, parse_expr, parse_statement
from .tokens import format_duration, parse_duration

__all__ = [
    "MAX_TIME",
    "MIN_TIME",
    "ConditionError",
    "ParseError",
    "ast",
    "bind_value",
    "eval_condition",
    "format_duration",
    "generate",
    "parse",
    "parse_duration",
    "parse_expr",
    "parse_statement",
    "parse_time",
    "split_condition",
    "tag_only",
    "time_range",
]
