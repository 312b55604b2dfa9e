"""The configuration sections of the services behind the handler kinds (chalicelib/overrides), read as the
handlers read them.

A section arrives as its options keyed as in kapacitor.conf (`{"enabled": true, "url": ...}`); `slack`
and `httppost` are lists of such sections (one per workspace / endpoint), a lone dict counts as a list of
one. `sns` is tickless's own (Kapacitor has no SNS service)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.kit.errors import invalid
from chalicelib.overrides.sections import resolved_defaults

# The options of every section a handler kind sends through, as the config overrides define them.
DEFAULTS: dict[str, dict[str, Any]] = {
    name: resolved_defaults(name)
    for name in ("slack", "pagerduty2", "opsgenie2", "telegram", "teams", "smtp", "httppost", "sns")
}

# Sections that are lists in kapacitor.conf ([[slack]], [[httppost]]).
LISTS = frozenset({"slack", "httppost"})


def section(name: str, raw: Any) -> dict[str, Any]:
    """One section (the default workspace for `slack`) with the defaults filled in."""
    if name in LISTS:
        entries = sections(name, raw)
        if name == "slack":
            return _default_workspace(entries) or dict(DEFAULTS[name])
        return entries[0] if entries else dict(DEFAULTS[name])
    return _merge(name, raw)


def sections(name: str, raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    items = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(items, list | tuple):
        raise invalid(f"invalid [{name}] configuration")
    merged = [_merge(name, item) for item in items]
    if name == "slack" and len(merged) == 1:
        merged[0]["default"] = True  # a lone workspace is the default one
    return merged


def slack_workspace(raw: Any, workspace: str) -> dict[str, Any]:
    """The slack section a handler's `workspace` names ("" for the default), answering as Kapacitor does."""
    entries = sections("slack", raw)
    if not entries:
        raise invalid("no slack configuration found")
    if workspace == "":
        found = _default_workspace(entries)
    else:
        found = next((e for e in entries if e["workspace"] == workspace), None)
    if found is None:
        raise invalid("workspace id not found")
    return found


def httppost_endpoint(raw: Any, endpoint: str) -> dict[str, Any] | None:
    return next((e for e in sections("httppost", raw) if e["endpoint"] == endpoint), None)


def _default_workspace(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    for entry in entries:
        if entry["default"] or (entry["workspace"] == "" and len(entries) == 1):
            return entry
    return next((e for e in entries if e["workspace"] == ""), None)


def _merge(name: str, raw: Any) -> dict[str, Any]:
    merged = {
        k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
        for k, v in DEFAULTS[name].items()
    }
    if raw is None:
        return merged
    if not isinstance(raw, Mapping):
        raise invalid(f"invalid [{name}] configuration")
    merged.update(raw)
    return merged
