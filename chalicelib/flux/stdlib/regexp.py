"""The `regexp` package: compiling, matching, finding, replacing and quoting regular expressions."""

from __future__ import annotations

import re

from chalicelib.flux.stdlib.library import package
from chalicelib.flux.values import compile_regex


@package("regexp", "compile", "v", "v")
def regexp_compile(interp, v):
    return compile_regex(v)


@package("regexp", "matchRegexpString", "r v", "r v")
def regexp_match(interp, r, v):
    return r.search(v) is not None


@package("regexp", "replaceAllString", "r v t", "r v t")
def regexp_replace(interp, r, v, t):
    return r.sub(re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", t), v)


@package("regexp", "findString", "r v", "r v")
def regexp_find(interp, r, v):
    m = r.search(v)
    return m.group(0) if m else ""


@package("regexp", "quoteMeta", "v", "v")
def regexp_quote(interp, v):
    return re.escape(v)
