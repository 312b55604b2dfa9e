"""The `math` package: float functions of one or two floats, `isNaN()`, and constants."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from chalicelib.flux.stdlib.library import members, package


def _math(name: str, fn: Callable[..., Any], params: str = "x") -> None:
    def impl(interp, **kw):
        return fn(*(float(kw[p]) for p in params.split()))

    package("math", name, params, params)(impl)


for _n, _f in (
    ("abs", abs),
    ("floor", math.floor),
    ("ceil", math.ceil),
    ("sqrt", math.sqrt),
    ("log", math.log),
    ("log10", math.log10),
    ("exp", math.exp),
    ("trunc", math.trunc),
):
    _math(_n, (lambda f: lambda x: float(f(x)))(_f))
_math("round", lambda x: float(math.floor(x + 0.5)) if x >= 0 else -float(math.floor(-x + 0.5)))
_math("pow", lambda x, y: x**y, "x y")
_math("mod", math.fmod, "x y")
_math("mMax", max, "x y")
_math("mMin", min, "x y")
members("math").update({"pi": math.pi, "e": math.e, "maxFloat": 1.7976931348623157e308, "NaN": math.nan})
package("math", "isNaN", "f", "f")(lambda interp, f: math.isnan(f))
