"""The few Go standard-library parsers the override checks lean on, answering in Go's words.

Kapacitor's section validators call time.ParseDuration, net/url.Parse, net/mail.ParseAddress and
path.Join; clients compare the error texts, so these reproduce the texts of the cases that occur in
practice rather than every corner of the Go implementations."""

from __future__ import annotations

import re

from chalicelib.kit.gotemplate import go_quote
from chalicelib.kit.time import HOUR, MINUTE, SECOND

INT64_MAX = 2**63 - 1

_UNITS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC Greek mu
    "ms": 1_000_000,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}
_NUMBER = re.compile(r"([0-9]*)(?:\.([0-9]*))?")
_UNIT = re.compile(r"[^0-9.]*")


def parse_duration(text: str) -> int:
    """time.ParseDuration: nanoseconds, or ValueError carrying Go's message."""
    invalid = ValueError(f"time: invalid duration {go_quote(text)}")
    rest = text
    negative = False
    if rest[:1] in ("+", "-"):
        negative = rest[0] == "-"
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = 0
    while rest:
        if not (rest[0] == "." or (rest[0].isascii() and rest[0].isdigit())):
            raise invalid
        number = _NUMBER.match(rest)
        assert number is not None  # the pattern matches the empty string
        whole, fraction = number.group(1), number.group(2)
        if not whole and not fraction:
            raise invalid
        rest = rest[number.end() :]
        unit = _UNIT.match(rest)
        assert unit is not None
        name = unit.group(0)
        rest = rest[len(name) :]
        if not name:
            raise ValueError(f"time: missing unit in duration {go_quote(text)}")
        if name not in _UNITS:
            raise ValueError(f"time: unknown unit {go_quote(name)} in duration {go_quote(text)}")
        scale = _UNITS[name]
        value = int(whole or "0") * scale
        if fraction:
            value += int(float(int(fraction)) * (scale / 10 ** len(fraction)))
        total += value
        if total > INT64_MAX + (1 if negative else 0):
            raise invalid
    return -total if negative else total


def check_url(raw: str) -> None:
    """net/url.Parse's failures that a configured URL can hit; ValueError with Go's text."""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise ValueError(f"parse {go_quote(raw)}: net/url: invalid control character in URL")
    for index, ch in enumerate(raw):
        if ch.isascii() and ch.isalpha():
            continue
        if ch.isascii() and (ch.isdigit() or ch in "+-.") and index > 0:
            continue
        if ch == ":" and index == 0:
            raise ValueError(f"parse {go_quote(raw)}: missing protocol scheme")
        break
    for match in re.finditer(r"%(.{0,2})", raw.split("#", 1)[0], re.DOTALL):
        code = match.group(1)
        if len(code) < 2 or any(c not in "0123456789abcdefABCDEF" for c in code):
            raise ValueError(f"parse {go_quote(raw)}: invalid URL escape {go_quote(match.group(0))}")


_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*")


def check_mail_address(raw: str) -> None:
    """net/mail.ParseAddress for the plain forms (`a@b`, `Name <a@b>`); ValueError with Go's text."""
    text = raw.strip()
    if not text:
        raise ValueError("mail: no address")
    if text.endswith(">") and "<" in text:
        text = text[text.rindex("<") + 1 : -1].strip()
    elif "<" in text:
        raise ValueError("mail: unclosed angle-addr")
    if "@" not in text:
        raise ValueError("mail: missing '@' or angle-addr")
    local, _, domain = text.rpartition("@")
    if not local.strip():
        raise ValueError("mail: invalid string")
    if not domain.strip():
        raise ValueError("mail: no domain in addr-spec")
    if not _ATOM.fullmatch(domain.strip()) and not (domain.startswith("[") and domain.endswith("]")):
        raise ValueError("mail: invalid domain")


def path_join(*parts: str) -> str:
    """path.Join: the non-empty parts joined by `/` and cleaned (`.`, `..`, doubled slashes)."""
    joined = "/".join(p for p in parts if p)
    return clean(joined) if joined else ""


def clean(path: str) -> str:
    """path.Clean."""
    if not path:
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    text = "/".join(out)
    if rooted:
        return "/" + text
    return text or "."
