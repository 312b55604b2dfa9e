"""A parsed template: `Template.parse` and `Template.execute`, the entry points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.kit.gotemplate.execute import _Break, _Continue, _State
from chalicelib.kit.gotemplate.limits import MAX_TEXT
from chalicelib.kit.gotemplate.parser import KAPACITOR_JSON_FUNCS, _non_empty, _Parser
from chalicelib.kit.syntax import ParseError


@dataclass(slots=True)
class Template:
    """A parsed template. `html=True` executes as html/template does in HTML text (Kapacitor's details):
    every action's output is HTML-escaped. `funcs` names functions beyond Go's builtins that the template
    may call (Kapacitor adds `json` and `jsonCompact` to details and HTTP post templates)."""

    name: str
    text: str
    root: list[Any]
    trees: dict[str, list[Any]]
    html: bool = False
    funcs: frozenset[str] = frozenset()

    @classmethod
    def parse(
        cls, name: str, text: str, *, funcs: frozenset[str] | set[str] = frozenset(), html: bool = False
    ) -> Template:
        if len(text) > MAX_TEXT:
            raise ParseError(
                "template too long",
                message=f"template: {name}: template is longer than {MAX_TEXT} characters",
            )
        unknown = set(funcs) - KAPACITOR_JSON_FUNCS
        if unknown:
            raise TicklessError(INVALID, f"unknown template functions: {sorted(unknown)}")
        parser = _Parser(name, text, frozenset(funcs))
        try:
            root = parser.parse()
        except RecursionError:
            raise parser.error("max expression depth exceeded") from None
        trees = dict(parser.trees)
        if name not in trees or _non_empty(root):
            trees[name] = root
        return cls(name, text, trees[name], trees, html, frozenset(funcs))

    def execute(self, data: Any) -> str:
        state = _State(self, self.html)
        state.vars = [["$", data]]
        try:
            state.walk_list(data, self.root)
        except (_Break, _Continue):  # pragma: no cover -- the parser keeps them inside range
            pass
        except RecursionError:
            raise state.error("exceeded maximum template depth") from None
        return "".join(state.out)
