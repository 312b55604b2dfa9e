"""The `strings` package, as Flux wraps Go's `strings`: arguments checked by type, indexes in bytes of
UTF-8 (`index`, `indexAny`, ...) where Go counts bytes, runes where Flux counts runes (`strlen`,
`substring`), and Go's case mapping (one rune to one rune: `toUpper("ß")` stays `ß`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.flux.interpreter import Interpreter
from chalicelib.flux.stdlib.library import package
from chalicelib.flux.values import FluxError, type_name

# the type each parameter name has across the package (`i` is an int, `arr` an array of strings)
_STRING_PARAMS = ("v", "t", "u", "substr", "prefix", "suffix", "cutset", "chars")


def _strings(name: str, params: str, fn: Callable[..., Any]) -> None:
    def impl(interp: Interpreter, **kw):
        for k, v in kw.items():
            if k in _STRING_PARAMS and not isinstance(v, str):
                raise FluxError(
                    f'strings.{name}: expected argument "{k}" to be of type string, got type {type_name(v)}'
                )
            if k == "i" and (not isinstance(v, int) or isinstance(v, bool)):
                raise FluxError(
                    f'strings.{name}: expected argument "i" to be of type int, got type {type_name(v)}'
                )
        return fn(**kw)

    package("strings", name, params, params)(impl)


def _map_runes(v: str, one: Callable[[str], str]) -> str:
    """Go maps case rune by rune; Python may map one character to several (`ß`.upper() is `SS`), which
    Go leaves alone."""

    def rune(c: str) -> str:
        mapped = one(c)
        return mapped if len(mapped) == 1 else c

    return "".join(rune(c) for c in v)


def to_upper(v: str) -> str:
    return v.upper() if v.isascii() else _map_runes(v, str.upper)


def to_lower(v: str) -> str:
    return v.lower() if v.isascii() else _map_runes(v, str.lower)


def to_title(v: str) -> str:
    return _map_runes(v, str.title)


def _separator(c: str) -> bool:
    # Go's strings.Title word boundary: ASCII letters, digits and `_` are inside words; other ASCII
    # separates; beyond ASCII, letters and digits are inside words and spaces separate
    if c.isascii():
        return not (c.isalnum() or c == "_")
    if c.isalpha() or c.isdigit():
        return False
    return c.isspace()


def title(v: str) -> str:
    """Go's strings.Title: the first letter of each word to title case, the rest untouched (Python's
    str.title() lowercases the rest)."""
    out = []
    prev = " "
    for c in v:
        out.append(to_title(c) if _separator(prev) else c)
        prev = c
    return "".join(out)


def _byte_index(v: str, char_index: int) -> int:
    return -1 if char_index < 0 else len(v[:char_index].encode())


def index(v: str, substr: str) -> int:
    return v.encode().find(substr.encode())


def last_index(v: str, substr: str) -> int:
    return v.encode().rfind(substr.encode())


def index_any(v: str, chars: str) -> int:
    first = next((i for i, c in enumerate(v) if c in chars), -1)
    return _byte_index(v, first)


def last_index_any(v: str, chars: str) -> int:
    last = next((i for i in range(len(v) - 1, -1, -1) if v[i] in chars), -1)
    return _byte_index(v, last)


def trim(v: str, cutset: str, left: bool = True, right: bool = True) -> str:
    if not cutset:  # Go trims nothing with an empty cutset; Python's strip() would trim spaces
        return v
    if left and right:
        return v.strip(cutset)
    return v.lstrip(cutset) if left else v.rstrip(cutset)


def split_n(v: str, t: str, n: int, after: bool = False) -> list[str]:
    """Go's SplitN/SplitAfterN: n > 0 at most n parts (the last the rest), 0 none, < 0 all; an empty
    separator splits into runes."""
    if n == 0:
        return []
    if t == "":
        runes = list(v)
        if n < 0 or n >= len(runes):
            return runes
        return [*runes[: n - 1], "".join(runes[n - 1 :])]
    parts = v.split(t) if n < 0 else v.split(t, n - 1)
    if after:
        parts = [p + t for p in parts[:-1]] + parts[-1:]
    return parts


def substring(v: str, start: int, end: int) -> str:
    # Flux's bounds: start below 0 is 0, end past the string its length, end before start empty
    start = max(0, start)
    end = max(start, min(end, len(v)))
    return v[start:end]


def replace(v: str, t: str, u: str, i: int) -> str:
    return v.replace(t, u, i if i >= 0 else -1)


def repeat(v: str, i: int) -> str:
    if i < 0:
        raise FluxError("strings.repeat: negative repeat count")
    return v * i


def _one_byte(name: str, test: Callable[[str], bool]) -> Callable[[str], bool]:
    """Flux's isDigit/isLetter/isLower/isUpper: a string of exactly one byte (one ASCII character)."""

    def check(v: str) -> bool:
        if len(v.encode()) != 1:
            raise FluxError(f'strings.{name}: "v" is not a valid argument: argument length is not equal to 1')
        return test(v)

    return check


def join_str(arr: Any, v: str) -> str:
    if not isinstance(arr, list) or not all(isinstance(x, str) for x in arr):
        raise FluxError('strings.joinStr: expected elements of argument "arr" to be of type string')
    return v.join(arr)


def compare(v: str, t: str) -> int:
    # Python compares code points, the order of UTF-8 bytes Go compares
    return (v > t) - (v < t)


_strings("toUpper", "v", to_upper)
_strings("toLower", "v", to_lower)
_strings("toTitle", "v", to_title)
_strings("title", "v", title)
_strings("trimSpace", "v", lambda v: v.strip())
_strings("trim", "v cutset", lambda v, cutset: trim(v, cutset))
_strings("trimLeft", "v cutset", lambda v, cutset: trim(v, cutset, right=False))
_strings("trimRight", "v cutset", lambda v, cutset: trim(v, cutset, left=False))
_strings("trimPrefix", "v prefix", lambda v, prefix: v.removeprefix(prefix))
_strings("trimSuffix", "v suffix", lambda v, suffix: v.removesuffix(suffix))
_strings("hasPrefix", "v prefix", lambda v, prefix: v.startswith(prefix))
_strings("hasSuffix", "v suffix", lambda v, suffix: v.endswith(suffix))
_strings("containsStr", "v substr", lambda v, substr: substr in v)
_strings("containsAny", "v chars", lambda v, chars: any(c in chars for c in v))
_strings("countStr", "v substr", lambda v, substr: v.count(substr))
_strings("compare", "v t", compare)
_strings("index", "v substr", index)
_strings("lastIndex", "v substr", last_index)
_strings("indexAny", "v chars", index_any)
_strings("lastIndexAny", "v chars", last_index_any)
_strings("strlen", "v", lambda v: len(v))
_strings("repeat", "v i", repeat)
_strings("replaceAll", "v t u", lambda v, t, u: v.replace(t, u))
_strings("replace", "v t u i", replace)
_strings("split", "v t", lambda v, t: split_n(v, t, -1))
_strings("splitAfter", "v t", lambda v, t: split_n(v, t, -1, after=True))
_strings("splitN", "v t i", lambda v, t, i: split_n(v, t, i))
_strings("splitAfterN", "v t i", lambda v, t, i: split_n(v, t, i, after=True))
_strings("joinStr", "arr v", join_str)
_strings("substring", "v start end", substring)
_strings("equalFold", "v t", lambda v, t: v.casefold() == t.casefold())
_strings("isDigit", "v", _one_byte("isDigit", str.isdigit))
_strings("isLetter", "v", _one_byte("isLetter", str.isalpha))
_strings("isLower", "v", _one_byte("isLower", str.islower))
_strings("isUpper", "v", _one_byte("isUpper", str.isupper))
