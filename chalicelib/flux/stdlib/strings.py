"""The `strings` package: string functions whose string arguments are checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.library import package
from chalicelib.flux.values import FluxError, type_name


def _strings(name: str, params: str, fn: Callable[..., Any]) -> None:
    def impl(interp: Interpreter, **kw):
        for k, v in kw.items():
            if k in ("v", "t", "u", "substr", "prefix", "suffix", "cutset") and not isinstance(v, str):
                raise FluxError(f"strings.{name}: {k} must be a string, got {type_name(v)}")
        return fn(**kw)

    package("strings", name, params, params)(impl)


_strings("toUpper", "v", lambda v: v.upper())
_strings("toLower", "v", lambda v: v.lower())
_strings("title", "v", lambda v: v.title())
_strings("trimSpace", "v", lambda v: v.strip())
_strings("trim", "v cutset", lambda v, cutset: v.strip(cutset))
_strings("trimLeft", "v cutset", lambda v, cutset: v.lstrip(cutset))
_strings("trimRight", "v cutset", lambda v, cutset: v.rstrip(cutset))
_strings("trimPrefix", "v prefix", lambda v, prefix: v.removeprefix(prefix))
_strings("trimSuffix", "v suffix", lambda v, suffix: v.removesuffix(suffix))
_strings("hasPrefix", "v prefix", lambda v, prefix: v.startswith(prefix))
_strings("hasSuffix", "v suffix", lambda v, suffix: v.endswith(suffix))
_strings("containsStr", "v substr", lambda v, substr: substr in v)
_strings("countStr", "v substr", lambda v, substr: v.count(substr))
_strings("index", "v substr", lambda v, substr: v.find(substr))
_strings("lastIndex", "v substr", lambda v, substr: v.rfind(substr))
_strings("strlen", "v", lambda v: len(v))
_strings("repeat", "v i", lambda v, i: v * i)
_strings("replaceAll", "v t u", lambda v, t, u: v.replace(t, u))
_strings("replace", "v t u i", lambda v, t, u, i: v.replace(t, u, i))
_strings("split", "v t", lambda v, t: v.split(t) if t else list(v))
_strings("joinStr", "arr v", lambda arr, v: v.join(arr))
_strings("substring", "v start end", lambda v, start, end: v[max(0, start) : max(0, end)])
_strings("equalFold", "v t", lambda v, t: v.casefold() == t.casefold())
_strings("isDigit", "v", lambda v: v.isdigit())
_strings("isLetter", "v", lambda v: v.isalpha())
