"""Whole TICKscripts in Kapacitor's canonical layout (`script-format=formatted`, `tickfmt`): four-space
indentation, one chain link per line with properties one step deeper, a blank line between statements,
comments on their own lines, literals as written.

The layout of each node is written by ast.format_node (Kapacitor keeps it with its nodes too); every
writer there takes the indentation of the current line and whether the node starts a fresh line.
"""

from __future__ import annotations

from chalicelib.tick import ast
from chalicelib.tick.ast import INDENT, expression_text, format_node
from chalicelib.tick.parser import parse

__all__ = ["INDENT", "expression_text", "format_node", "format_script"]


def format_script(script: str | ast.Program) -> str:
    """A script (text, parsed here, or a parsed Program) in Kapacitor's canonical layout."""
    if isinstance(script, str):
        script = parse(script)
    return format_node(script)
