"""The registry the standard library's modules fill: the universe's members and each package's."""

from __future__ import annotations

from typing import Any

from chalicelib.flux.interpreter import builtin

UNIVERSE: dict[str, Any] = {}
PACKAGES: dict[str, dict[str, Any]] = {}


def universe(name: str, params: str = "", required: str = "", pipe: str | None = "tables"):
    """Decorator: `impl(interp, **args)` as the builtin `name` of the universe (piped `tables`)."""

    def wrap(impl):
        fn = builtin(name, params, required, pipe)(impl)
        UNIVERSE[name] = fn
        return fn

    return wrap


def package(path: str, name: str, params: str = "", required: str = "", pipe: str | None = None):
    """Decorator: `impl(interp, **args)` as the builtin `name` of the package at `path`."""

    def wrap(impl):
        fn = builtin(f"{path.rsplit('/', 1)[-1]}.{name}", params, required, pipe)(impl)
        members(path)[name] = fn
        return fn

    return wrap


def members(path: str) -> dict[str, Any]:
    """The members of the package at `path` registered so far, to add values to."""
    return PACKAGES.setdefault(path, {})
