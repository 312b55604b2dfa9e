"""The escaping builtins `html`, `js` and `urlquery` share, and html/template's escaper for HTML text."""

from __future__ import annotations

from typing import Any

from chalicelib.kit.gotemplate.printf import _printable, go_sprint


def html_escape(text: str) -> str:
    """text/template's `html`."""
    return (
        text.replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\0", "\ufffd")
    )


def html_text_escape(text: str) -> str:
    """html/template's escaper for an action in HTML text: also `+`."""
    return html_escape(text).replace("+", "&#43;")


def js_escape(text: str) -> str:
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == '"':
            out.append('\\"')
        elif ch in "<>&=" or code < 0x20 or (code >= 0x80 and not _printable(ch)):
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return "".join(out)


def _eval_args(args: list[Any]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return go_sprint(["<no value>" if a is None else a for a in args])
