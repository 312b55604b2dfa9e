"""The declarative model: a node type is a table of property methods; a node is plain attributes.

Kapacitor's evaluator finds, by reflection, two kinds of properties on a node: exported struct fields
(set directly, exactly one argument) and property methods (fields tagged `tick:"Name"`, set by calling
a method). `Field` and `Method` declare one of each; the key of a node type's table is the Go name
(`Period`), which is what a script's `.period()` is matched against after its first letter is upper-cased.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.tick.pipeline import gotypes as go

if TYPE_CHECKING:
    from chalicelib.tick.pipeline.pipeline import Pipeline

STREAM = "stream"
BATCH = "batch"
NO_EDGE = "noedge"


def fresh(default: Any) -> Any:
    # Mutable defaults are copied so no two nodes share a list or a dict.
    if isinstance(default, (list, dict)):
        return type(default)(default)
    return default


@dataclass(frozen=True, slots=True)
class Field:
    """An exported Go field set directly: `.name(value)`."""

    attr: str
    go_type: str
    default: Any = None


@dataclass(frozen=True, slots=True)
class Method:
    """A property method: checked like a Go call, then `apply(owner, args)` returns the call's result."""

    params: tuple[str, ...]
    apply: Callable[[Any, list[Any]], Any]
    variadic: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)


Prop = Field | Method


# ---- helpers declaring the usual shapes of property methods -------------------------------------------


def flag(attr: str) -> Method:
    """`.align()`: no argument, sets a boolean."""

    def apply(owner: Any, args: list[Any]) -> Any:
        setattr(owner, attr, True)
        return owner.method_self

    return Method((), apply, attrs={attr: False})


def strings(attr: str, *, append: bool = False) -> Method:
    """`.as('a', 'b')`: a variadic list of strings, replacing (or extending) the list."""

    def apply(owner: Any, args: list[Any]) -> Any:
        setattr(owner, attr, (getattr(owner, attr) if append else []) + list(args))
        return owner.method_self

    return Method((), apply, variadic=go.STRING, attrs={attr: []})


def append_one(attr: str) -> Method:
    """`.field('x')` of delete: one string appended to a list."""

    def apply(owner: Any, args: list[Any]) -> Any:
        getattr(owner, attr).append(args[0])
        return owner.method_self

    return Method((go.STRING,), apply, attrs={attr: []})


def put(attr: str, value_type: str = go.STRING) -> Method:
    """`.tag(key, value)`: one entry of a map."""

    def apply(owner: Any, args: list[Any]) -> Any:
        getattr(owner, attr)[args[0]] = args[1]
        return owner.method_self

    return Method((go.STRING, value_type), apply, attrs={attr: {}})


def dimensions(attr: str = "dimensions") -> Method:
    """`.groupBy(...)` as a property: any values, checked later by validate."""

    def apply(owner: Any, args: list[Any]) -> Any:
        setattr(owner, attr, list(args))
        return owner.method_self

    return Method((), apply, variadic=go.ANY, attrs={attr: []})


QUIET = flag("quiet")


def with_quiet(props: Mapping[str, Prop]) -> dict[str, Prop]:
    return {"Quiet": QUIET, **props}


# ---- node types and nodes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeType:
    """One kind of node: its names, which family of chaining methods it has, and its property table.

    `extra_chains` are chaining methods kept although a property method has the same name (Kapacitor's
    ChainMethods(): `from.where()` is a property while `from|where()` creates a where node)."""

    type: str
    go_name: str
    desc: str
    family: str
    props: Mapping[str, Prop]
    extra_chains: frozenset[str] = frozenset()
    validate: Callable[[Node], str | None] | None = None

    @property
    def go_type(self) -> str:
        return f"*pipeline.{self.go_name}"

    def attributes(self) -> Iterator[tuple[str, Any]]:
        for prop in self.props.values():
            if isinstance(prop, Field):
                yield prop.attr, prop.default
            else:
                yield from prop.attrs.items()


def node_type(
    type_: str,
    go_name: str,
    desc: str,
    *,
    family: str = "chain",
    fields: Mapping[str, tuple[str, str, Any]] | None = None,
    methods: Mapping[str, Method] | None = None,
    extra_chains: frozenset[str] = frozenset(),
    validate: Callable[[Node], str | None] | None = None,
) -> NodeType:
    """Declare a node type: `fields` maps Go name to (attribute, Go type, default)."""
    props: dict[str, Prop] = {name: Field(*spec) for name, spec in (fields or {}).items()}
    props.update(methods or {})
    return NodeType(type_, go_name, desc, family, with_quiet(props), extra_chains, validate)


class Receiver:
    """Anything a script can call methods on: a node, the alert's data, an alert handler."""

    is_pipeline_receiver = True
    go_type: str
    node: Node

    def lookup(self, go_name: str) -> tuple[Prop, Any] | None:
        """The property named so and the object whose attributes it sets."""
        raise NotImplementedError

    def property_names(self) -> Iterator[tuple[str, Prop]]:
        raise NotImplementedError

    @property
    def family(self) -> str:
        return self.node.node_type.family

    @property
    def extra_chains(self) -> frozenset[str]:
        return self.node.node_type.extra_chains


class Node(Receiver):
    """A pipeline node: identity, edges, and the attributes its type declares (durations in ns)."""

    def __init__(self, kind: NodeType, wants: str, provides: str, pipeline: Pipeline) -> None:
        self.node_type = kind
        self.type = kind.type
        self.desc = kind.desc
        self.id = -1
        self.wants = wants
        self.provides = provides
        self.parents: list[Node] = []
        self.children: list[Node] = []
        self.pipeline = pipeline
        for attr, default in kind.attributes():
            setattr(self, attr, fresh(default))

    @property
    def node(self) -> Node:  # type: ignore[override]
        return self

    @property
    def go_type(self) -> str:  # type: ignore[override]
        return self.node_type.go_type

    @property
    def method_self(self) -> Any:
        """What this node's property methods return (Go's method receiver)."""
        return self

    @property
    def name(self) -> str:
        return f"{self.desc}{self.id}"

    def lookup(self, go_name: str) -> tuple[Prop, Any] | None:
        prop = self.node_type.props.get(go_name)
        return None if prop is None else (prop, self)

    def property_names(self) -> Iterator[tuple[str, Prop]]:
        yield from self.node_type.props.items()

    def link_child(self, child: Node) -> None:
        # Every link assigns the child a new id, as Kapacitor does: a join of two parents takes two ids.
        self.pipeline.assign_id(child)
        self.children.append(child)
        child.parents.append(self)

    def validate(self) -> str | None:
        check = self.node_type.validate
        return None if check is None else check(self)

    def __repr__(self) -> str:
        return f"<{self.node_type.go_name} {self.name}>"
