"""The evaluator's single entry point: `invoke(receiver, kind, name, args)` for `|name()`, `.name()`
and `@name()`, with Kapacitor's texts for every way a call can go wrong.

The evaluator prefixes each error's message with the call's position, `line L char C: `, as Kapacitor's
evaluator does for all of these."""

from __future__ import annotations

from typing import Any

from chalicelib.kit.errors import invalid
from chalicelib.tick.pipeline import gotypes as go
from chalicelib.tick.pipeline.base import Field, Method, Receiver
from chalicelib.tick.pipeline.chains import FAMILIES, Chain

REFERENCE_AS_STRING = (
    "cannot assign *ast.ReferenceNode to type string, did you use double quotes instead of single quotes?"
)
CHAIN = "chain"
PROPERTY = "property"
DYNAMIC = "dynamic"


def go_name(name: str) -> str:
    """Kapacitor matches `name` to Go's exported names by upper-casing its first letter."""
    return name[:1].upper() + name[1:]


def chain_methods(receiver: Receiver) -> dict[str, Chain]:
    """The receiver's chaining methods: its family's, minus those a property method shadows, plus the
    ones its type keeps explicitly."""
    family = FAMILIES[receiver.family]
    shadowed = {name for name, prop in receiver.property_names() if isinstance(prop, Method)}
    return {
        name: chain for name, chain in family.items() if name not in shadowed or name in receiver.extra_chains
    }


def invoke(receiver: Any, kind: str, name: str, args: list[Any]) -> Any:
    """Call a chaining (`|`), property (`.`) or dynamic (`@`) method on a pipeline object and return its
    result (a node, the alert's data view, a handler). Raises TicklessError(INVALID, Kapacitor's text)."""
    # Kapacitor spreads a single list argument into the argument list.
    if len(args) == 1 and isinstance(args[0], list):
        args = list(args[0])
    if not go.is_receiver(receiver):
        if isinstance(receiver, (bool, int, float, str, list)) or receiver is None:
            raise invalid("cannot get properties of non pointer value")
        raise invalid(f'no method or property "{name}" on {go.go_type_of(receiver)}')
    key = go_name(name)
    chains = chain_methods(receiver)
    found = receiver.lookup(key)
    target = receiver.go_type
    if kind == CHAIN:
        if key in chains:
            chain = chains[key]
            return _call(
                name, target, lambda: _checked(chain.params, chain.variadic, args, chain.build, receiver.node)
            )
        if found is not None:
            raise invalid(
                f'no chaining method "{name}" on {target}, but property does exist. '
                f"Use '.' operator instead: 'node.{name}(..)'."
            )
    elif kind == PROPERTY:
        if found is not None:
            return _set_property(receiver, name, key, found, args)
        if key in chains:
            raise invalid(
                f'no property method "{name}" on {target}, but chaining method does exist. '
                f"Use '|' operator instead: 'node|{name}(..)'."
            )
    elif kind == DYNAMIC:
        # No user-defined functions exist here: they need a long-running process, which Lambda is not.
        if found is not None:
            raise invalid(
                f'no dynamic method "{name}" on {target}, but property does exist. '
                f"Use '.' operator instead: 'node.{name}(..)'."
            )
        if key in chains:
            raise invalid(
                f'no dynamic method "{name}" on {target}, but chaining method does exist. '
                f"Use '|' operator instead: 'node|{name}(..)'."
            )
        raise invalid(
            f'UDF "{name}" is not available: a UDF needs a long-running process, which tickless '
            "(tasks run on AWS Lambda) cannot host"
        )
    else:
        raise invalid(f"unknown function type {kind} on function {target}.{name}")
    raise invalid(f'no method or property "{name}" on {target}')


def _checked(params: tuple[str, ...], variadic: str | None, args: list[Any], fn: Any, owner: Any) -> Any:
    go.check_call(params, variadic, args)
    return fn(owner, args)


def _set_property(receiver: Receiver, name: str, key: str, found: tuple[Any, Any], args: list[Any]) -> Any:
    prop, owner = found
    calls = getattr(owner, "calls", None)
    if isinstance(calls, list):  # a handler keeps its property calls (pipeline/handlers.py)
        calls.append((name, list(args)))
    if isinstance(prop, Field):
        if len(args) != 1:
            raise invalid(f"too many arguments to set property {key} on {receiver.go_type}")

        def assign() -> Any:
            go.check_set(args[0], prop.go_type)
            setattr(owner, prop.attr, go.native(args[0], prop.go_type))
            return receiver

        return _call(name, receiver.go_type, assign)
    return _call(
        name, receiver.go_type, lambda: _checked(prop.params, prop.variadic, args, _native_apply(prop), owner)
    )


def _native_apply(prop: Method) -> Any:
    def apply(owner: Any, args: list[Any]) -> Any:
        typed = [go.native(arg, t) for arg, t in zip(args, prop.params, strict=False)]
        rest = [go.native(arg, prop.variadic) for arg in args[len(prop.params) :]] if prop.variadic else []
        return prop.apply(owner, typed + rest)

    return apply


def _call(name: str, target: str, fn: Any) -> Any:
    try:
        return fn()
    except go.GoError as err:
        raise invalid(str(err)) from None
    except go.GoPanic as panic:
        text = f'error calling func "{name}" on obj {target}: {panic}'
        if "*ast.ReferenceNode" in text and "type string" in text:
            text = REFERENCE_AS_STRING
        raise invalid(text) from None
