"""API Gateway's resource tree for the app's routes, with the catch-alls that bring every other request to
the app, so that it answers unknown paths (404) and wrong methods (405) in each surface's own format
instead of API Gateway's `403 Missing Authentication Token` (see `edge.py`).

The catch-alls: an ANY method on every resource, intermediate ones included, and a greedy `{proxy+}` child
under every resource that has no path variable child (API Gateway allows one variable child per resource).
Walking the tree then never dead-ends: at each level a request takes the static child of that name, else
the variable child, else `{proxy+}`. infra/ declares these resources on the REST API; the local stack
routes through the same tree, so both answer alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

GREEDY = "{proxy+}"
GREEDY_PARAMETER = "proxy"


def _parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _join(parent: str, part: str) -> str:
    return f"{parent.rstrip('/')}/{part}"


def _is_variable(part: str) -> bool:
    return part.startswith("{") and part.endswith("}")


@dataclass
class ResourceTree:
    """The resources of a REST API whose routes are `routes`, catch-alls included."""

    routes: frozenset[str]
    children: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, routes: Iterable[str]) -> ResourceTree:
        tree = cls(frozenset(routes))
        nodes = {"/"}
        for route in tree.routes:
            parts = _parts(route)
            nodes.update("/" + "/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
        for node in nodes:
            tree.children.setdefault(node, [])
            if node != "/":
                parent, _, part = node.rpartition("/")
                tree.children.setdefault(parent or "/", []).append(part)
        for node, kids in list(tree.children.items()):
            if not node.endswith(GREEDY) and not any(_is_variable(kid) for kid in kids):
                kids.append(GREEDY)
                tree.children[_join(node, GREEDY)] = []
        return tree

    @property
    def resources(self) -> list[str]:
        """Every resource, routes and catch-alls, parents before children."""
        return sorted(self.children, key=lambda path: (len(_parts(path)), path))

    @property
    def catch_alls(self) -> list[str]:
        """The resources that are not routes of the app (they get only the ANY method)."""
        return [path for path in self.resources if path not in self.routes]

    def match(self, path: str) -> tuple[str, dict[str, str]]:
        """The resource API Gateway routes `path` (without the query string) to, and its path
        parameters."""
        node, parameters = "/", {}
        parts = _parts(path)
        for depth, part in enumerate(parts):
            kids = self.children[node]
            variable = next((kid for kid in kids if _is_variable(kid) and kid != GREEDY), None)
            if part in kids and not _is_variable(part):
                node = _join(node, part)
            elif variable is not None:
                parameters[variable[1:-1]] = part
                node = _join(node, variable)
            else:  # every resource without a variable child has the greedy one
                parameters[GREEDY_PARAMETER] = "/".join(parts[depth:])
                return _join(node, GREEDY), parameters
        return node, parameters
