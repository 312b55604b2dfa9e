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


_GO_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


@package("regexp", "quoteMeta", "v", "v")
def regexp_quote(interp, v):
    # Go's QuoteMeta escapes only these; Python's re.escape also escapes `-`, `#`, spaces, ... which
    # would show in the answer (the UI's search filter only compiles it)
    return _GO_META.sub(r"\\\1", v)


@package("regexp", "findStringIndex", "r v", "r v")
def regexp_find_index(interp, r, v):
    # Go's FindStringIndex: the leftmost match's [start, end] in bytes of UTF-8, [] without a match
    m = r.search(v)
    if m is None:
        return []
    return [len(v[: m.start()].encode()), len(v[: m.end()].encode())]


@package("regexp", "getString", "r", "r")
def regexp_get_string(interp, r):
    return r.pattern


@package("regexp", "splitRegexp", "r v i", "r v i")
def regexp_split(interp, r, v, i):
    """Go's Regexp.Split: i > 0 at most i parts (the last the rest), 0 none, < 0 all; an empty match at
    the very start splits nothing off, and nothing follows a match starting at the very end."""
    if i == 0:
        return []
    if r.pattern and not v:
        return [""]
    out: list[str] = []
    begin = end = 0
    for m in r.finditer(v):
        if i > 0 and len(out) == i - 1:
            break
        end = m.start()
        if m.end() != 0:
            out.append(v[begin:end])
        begin = m.end()
    if end != len(v):
        out.append(v[begin:])
    return out
