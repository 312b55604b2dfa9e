"""Kapacitor's config overrides (`/kapacitor/v1/config`) per organization, over a storage port.

The effective configuration is the file configuration (`base`) with the organization's stored
overrides applied in id order, as Kapacitor's config service and override package compute it; GET
shows it with secrets redacted, POST edits one override and saves it only if the result applies and
validates, and `resolved` hands the unredacted values to the alert handlers."""

from __future__ import annotations

import copy
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.kit.errors import FORBIDDEN, INTERNAL, TicklessError, invalid, not_found
from chalicelib.kit.gotemplate import go_quote
from chalicelib.overrides.gotext import path_join
from chalicelib.overrides.options import CopyError, convert, from_file, json_type, resolved, shown
from chalicelib.overrides.sections import SECTIONS, Element, default_base

BASE_PATH = "/kapacitor/v1/config"
_VALID_NAME = re.compile(r"[-\w+]+", re.ASCII)


class OverrideStore(Protocol):
    """Stored overrides of one organization, by Kapacitor's id (`section/element`, `smtp/`).

    A document is `{"id": str, "options": dict, "create": bool}`; `create` marks an element added
    through the API (only those disappear when their override is removed)."""

    def get(self, org_id: str, id: str) -> dict | None: ...

    def list(self, org_id: str) -> list[dict]: ...

    def put(self, org_id: str, doc: dict) -> None: ...

    def delete(self, org_id: str, id: str) -> None: ...


class _Failure(Exception):
    """An error on the way to a response, in Go's words; the caller adds its prefix and status."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _Action:
    """The decoded POST body (Kapacitor's updateAction)."""

    set: dict[str, Any] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)
    add: dict[str, Any] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)


class ConfigService:
    """The config override API's logic for every organization, sharing one file configuration."""

    def __init__(
        self, store: OverrideStore, base: Mapping[str, list[dict]] | None = None, *, enabled: bool = True
    ) -> None:
        self._store = store
        self._enabled = enabled
        self._base = _normalize_base(base)

    # --- GET -------------------------------------------------------------------------------------------

    def get(self, org_id: str, rest: str) -> dict[str, Any]:
        """GET `/kapacitor/v1/config` + `rest` ("", "/smtp", "/smtp/", "/influxdb/remote")."""
        self._check_enabled()
        section, element, has_section, has_element = _split(rest)
        config = self.config(org_id)
        if has_section and section == "":
            raise invalid("section not specified, do you have an extra trailing '/'?")
        if not has_section:
            return config
        found = config["sections"].get(section)
        if found is None:
            raise not_found(f"unknown section: {section}")
        if not has_element:
            return found
        key = SECTIONS[section].element_key
        for entry in found["elements"] or ():
            if (element == "" and key == "") or (key != "" and entry["options"].get(key) == element):
                return entry
        raise not_found(f"unknown section/element: {section}/{element}")

    def config(self, org_id: str) -> dict[str, Any]:
        """Every section with its elements, secrets redacted: the body of GET /kapacitor/v1/config."""
        sections = self._current(org_id)
        return {
            "link": _link(BASE_PATH),
            "sections": {name: self._section_json(name, sections[name]) for name in sorted(sections)},
        }

    def section(self, org_id: str, name: str) -> dict[str, Any]:
        """GET /kapacitor/v1/config/<name>."""
        return self.get(org_id, f"/{name}")

    def element(self, org_id: str, name: str, element: str) -> dict[str, Any]:
        """GET /kapacitor/v1/config/<name>/<element> ("" for a section that is not a list)."""
        return self.get(org_id, f"/{name}/{element}")

    def resolved(self, org_id: str) -> dict[str, Any]:
        """The effective configuration unredacted, for the handlers: options by section, a list of
        them for list sections; durations in nanoseconds, nil lists and maps as empty ones."""
        return _resolved(self._current(org_id))

    # --- backups (chalicelib/kapacitor/backup.py) --------------------------------------------------------

    def overrides(self, org_id: str) -> list[dict]:
        """The organization's stored overrides, by id, as stored (secrets in the clear)."""
        return self._stored(org_id)

    def check_restorable(self, docs: list[Any]) -> dict[str, Any]:
        """Overrides as a backup holds them, checked as POST leaves them (well-formed, one per id, all
        applying to the file configuration together); answers the configuration they resolve to, as
        `resolved` would once they are stored."""
        seen: set[str] = set()
        for doc in docs:
            problem = _malformed(doc)
            if problem:
                name = doc.get("id") if isinstance(doc, dict) and isinstance(doc.get("id"), str) else "?"
                raise invalid(f"override {name}: {problem}")
            if doc["id"] in seen:
                raise invalid(f"override {doc['id']}: duplicate id")
            seen.add(doc["id"])
        try:
            return _resolved(self._apply(sorted(docs, key=lambda o: o["id"])))
        except _Failure as err:
            raise invalid(f"failed to apply configuration overrides: {err.message}") from None

    def restore(self, org_id: str, docs: list[dict]) -> tuple[int, int]:
        """Make the organization's overrides exactly `docs` (checked by `check_restorable`): only what
        differs is written. Answers (changed, removed)."""
        current = {o["id"]: o for o in self._store.list(org_id)}
        changed = 0
        for doc in docs:
            if current.pop(doc["id"], None) != doc:
                self._store.put(org_id, copy.deepcopy(doc))
                changed += 1
        for id_ in current:
            self._store.delete(org_id, id_)
        return changed, len(current)

    # --- POST ------------------------------------------------------------------------------------------

    def update(self, org_id: str, rest: str, body: Any) -> None:
        """POST `/kapacitor/v1/config` + `rest` with the decoded JSON body: 204 when this returns."""
        self._check_enabled()
        section, element, has_section, has_element = _split(rest)
        if not has_section:
            raise invalid("no section specified")
        try:
            action = _decode(body)
        except _Failure as err:
            raise invalid(f"failed to decode JSON:{err.message}") from None
        try:
            overrides, save = self._overrides_for_update(org_id, section, element, has_element, action)
        except _Failure as err:
            raise invalid(f"failed to apply update: {err.message}") from None
        try:
            self._apply(overrides)
        except _Failure as err:
            raise invalid(err.message) from None
        save()

    def _overrides_for_update(
        self, org_id: str, section: str, element: str, has_element: bool, action: _Action
    ) -> tuple[list[dict], Callable[[], None]]:
        """The organization's overrides as they would be after the action, and how to save it."""
        _validate_action(section, element, has_element, action)
        if action.remove:
            removed = [_to_id(section, name) for name in action.remove]
            gone = set(removed)
            kept = [o for o in self._stored(org_id) if o["id"] not in gone]

            def save_removal() -> None:
                for id_ in removed:
                    self._store.delete(org_id, id_)

            return kept, save_removal
        if action.add:
            spec = SECTIONS.get(section)
            if spec is None:
                raise _Failure(f"unknown section {go_quote(section)}")
            if not spec.is_list:
                raise _Failure(f"section {go_quote(section)} is not a list, cannot add new element")
            if spec.element_key not in action.add:
                raise _Failure(f'missing key {go_quote(spec.element_key)} in "add" map')
            value = action.add[spec.element_key]
            if not isinstance(value, str):
                raise _Failure(
                    f"expected {go_quote(spec.element_key)} key to be a string, got {json_type(value)}"
                )
            element = value
        id_ = _to_id(section, element)
        existing = self._store.get(org_id, id_)
        if existing is not None and action.add:
            raise _Failure(f"cannot add new override, override already exists for {id_}")
        doc = copy.deepcopy(existing) if existing is not None else {"id": id_, "options": {}, "create": False}
        if action.add:
            doc["options"] = copy.deepcopy(action.add)
            doc["create"] = True
        else:
            doc["options"].update(copy.deepcopy(action.set))
            for name in action.delete:
                doc["options"].pop(name, None)
        overrides = [doc if o["id"] == id_ else o for o in self._stored(org_id)]
        if not any(o["id"] == id_ for o in overrides):
            overrides.append(doc)
        return overrides, lambda: self._store.put(org_id, doc)

    # --- applying overrides ----------------------------------------------------------------------------

    def _stored(self, org_id: str) -> list[dict]:
        return sorted(self._store.list(org_id), key=lambda o: o["id"])

    def _current(self, org_id: str) -> dict[str, list[Element]]:
        try:
            return self._apply(self._stored(org_id))
        except _Failure as err:
            message = (
                f"failed to resolve current config:failed to apply configuration overrides: {err.message}"
            )
            raise TicklessError(INTERNAL, message) from None

    def _apply(self, overrides: list[dict]) -> dict[str, list[Element]]:
        """Kapacitor's OverrideConfig: every override onto a copy of the file configuration, then
        each list section checked for duplicate elements and sorted by element key."""
        sections = copy.deepcopy(self._base)
        for doc in overrides:
            section, _, element = doc["id"].partition("/")
            create = bool(doc.get("create"))
            if create:
                element = ""
            try:
                _apply_one(sections, section, element, doc.get("options") or {}, create)
            except _Failure as err:
                raise _Failure(
                    f"failed to override configuration {section}/{element}: {err.message}"
                ) from None
        for name, elements in sections.items():
            key = SECTIONS[name].element_key
            if not key:
                continue
            seen: set[str] = set()
            for e in elements:
                if e[key] in seen:
                    raise _Failure(
                        "failed to read sections from configuration object: "
                        f"section {go_quote(name)} has duplicate elements: {go_quote(e[key])}"
                    )
                seen.add(e[key])
            elements.sort(key=lambda e, k=key: e[k])
        return sections

    def _section_json(self, name: str, elements: list[Element]) -> dict[str, Any]:
        spec = SECTIONS[name]
        out = []
        for e in elements:
            element_id = e[spec.element_key] if spec.is_list else ""
            redacted = [o.name for o in spec.options if o.redact]
            out.append(
                {
                    "link": _element_link(name, element_id),
                    "options": {
                        o.name: shown(o, e[o.name]) for o in sorted(spec.options, key=lambda o: o.name)
                    },
                    "redacted": redacted or None,
                }
            )
        return {"link": _link(path_join(BASE_PATH + "/", name)), "elements": out or None}

    def _check_enabled(self) -> None:
        if not self._enabled:
            raise TicklessError(FORBIDDEN, "config override service is not enabled")


def _resolved(sections: dict[str, list[Element]]) -> dict[str, Any]:
    """Options by section (a list of them for list sections), unredacted, as the handlers read them."""
    out: dict[str, Any] = {}
    for name, elements in sections.items():
        spec = SECTIONS[name]
        values = [{o.name: resolved(o, e[o.name]) for o in spec.options} for e in elements]
        out[name] = values if spec.is_list else values[0]
    return out


def _malformed(doc: Any) -> str:
    """What is wrong with a stored override's shape (`{"id", "options", "create"}`), "" if nothing."""
    if not isinstance(doc, dict) or set(doc) - {"id", "options", "create"}:
        return "not an override object"
    id_, options = doc.get("id"), doc.get("options")
    if not isinstance(id_, str) or "/" not in id_:
        return "id must be section/element"
    if not isinstance(options, dict) or not isinstance(doc.get("create", False), bool):
        return "options must be an object and create a boolean"
    section, _, element = id_.partition("/")
    if not _VALID_NAME.fullmatch(section) or (element and not _VALID_NAME.fullmatch(element)):
        return "invalid section or element name"
    return ""


def _apply_one(
    sections: dict[str, list[Element]], name: str, element: str, options: dict, create: bool
) -> None:
    """One override (Kapacitor's applyOverride), mutating `sections`; _Failure in Go's words."""
    if name == "":
        raise _Failure("invalid override: section cannot be empty")
    spec = SECTIONS.get(name)
    if spec is None:
        if options:
            raise _Failure(f"unknown options {_go_list(options)} in section {name}")
        raise _Failure(f"unknown section {name}")
    elements = sections[name]
    key = spec.element_key
    used: set[str] = set()
    if create:
        if not key:
            raise _Failure(
                "cannot create new element, no element key found. An element key must be specified via"
                ' the `override:",element-key=<field name>"` struct tag'
            )
        value = options.get(key)
        if key not in options:
            raise _Failure(f"element key {go_quote(key)} not present in options")
        if not isinstance(value, str):
            raise _Failure(f"type of element key must be a string, got {json_type(value)} ")
        created = spec.created_element()
        created[key] = value
        elements.append(created)
        used.add(key)
        element = value
    last: Element | None
    if key and element == "":
        targets = elements  # no element named: Kapacitor's walker applies the options to every element
        last = None
    elif key:
        targets = [e for e in elements if e[key] == element]
        last = targets[-1] if targets else None
    else:
        targets = elements if element == "" else []
        last = elements[0]
    for target in targets:
        for option in spec.options:
            if option.name not in options:
                continue
            if not create and option.name == key:
                raise _Failure(f"cannot override element key {key}")
            try:
                target[option.name] = convert(option.kind, options[option.name], target[option.name])
            except CopyError as err:
                raise _Failure(f"cannot set option {option.name}: {err.message}") from None
            used.add(option.name)
    unused = [n for n in options if n not in used]
    if unused:
        raise _Failure(f"unknown options {_go_list(unused)} in section {name}")
    try:
        if last is not None and spec.validate is not None:
            spec.validate(last)
        elif last is None and spec.validate_list is not None:
            spec.validate_list(elements)
    except ValueError as err:
        raise _Failure(f"failed validation: {err}") from None


def _go_list(names: Any) -> str:
    """%v of a []string (sorted: Go's order is its map's iteration order)."""
    return "[" + " ".join(sorted(names)) + "]"


def _validate_action(section: str, element: str, has_element: bool, action: _Action) -> None:
    def fail(message: str) -> _Failure:
        return _Failure(f"invalid update action: {message}")

    if section == "":
        raise fail("must provide section name")
    if not _VALID_NAME.fullmatch(section):
        raise fail(f"invalid section name {go_quote(section)}")
    if element != "" and not _VALID_NAME.fullmatch(element):
        raise fail(f"invalid element name {go_quote(element)}")
    set_or_delete = bool(action.set) or bool(action.delete)
    if set_or_delete and (action.add or action.remove):
        raise fail("cannot provide both set/delete and add/remove actions in the same update")
    if action.add and element != "":
        raise fail("must not provide an element name when adding an a new override")
    if action.remove and element != "":
        raise fail("must not provide element when removing an override")
    if not action.remove and not action.add and not has_element:
        raise fail("element not specified, are you missing a trailing '/'?")


_GO_JSON_KINDS = {bool: "bool", numbers.Number: "number", str: "string", list: "array", dict: "object"}


def _json_kind(value: Any) -> str:
    return next((name for t, name in _GO_JSON_KINDS.items() if isinstance(value, t)), "value")


def _decode(body: Any) -> _Action:
    """encoding/json into Kapacitor's updateAction: keys match case-insensitively, unknown keys are
    ignored, null leaves a field empty, the first type error is reported."""
    action = _Action()
    if body is None:
        return action
    if not isinstance(body, dict):
        raise _Failure(f"json: cannot unmarshal {_json_kind(body)} into Go value of type config.updateAction")
    errors: list[str] = []
    for raw_key, value in body.items():
        key = raw_key.lower() if isinstance(raw_key, str) else raw_key
        if key in ("set", "add"):
            if value is None:
                setattr(action, key, {})
            elif isinstance(value, dict):
                getattr(action, key).update(value)  # Go decodes into the existing map
            else:
                errors.append(_field_error(value, key, "map[string]interface {}"))
        elif key in ("delete", "remove"):
            if value is None:
                setattr(action, key, [])
            elif isinstance(value, list):
                items: list[str] = []
                for item in value:
                    if item is None or isinstance(item, str):
                        items.append(item or "")
                    else:
                        errors.append(_field_error(item, key, "string"))
                        items.append("")
                setattr(action, key, items)
            else:
                errors.append(_field_error(value, key, "[]string"))
    if errors:
        raise _Failure(errors[0])
    return action


def _field_error(value: Any, name: str, go_type: str) -> str:
    kind = _json_kind(value)
    return f"json: cannot unmarshal {kind} into Go struct field updateAction.{name} of type {go_type}"


# --- paths and links -----------------------------------------------------------------------------------


def _split(rest: str) -> tuple[str, str, bool, bool]:
    """Kapacitor's sectionAndElementFromPath on the path after /kapacitor/v1/config: section, element,
    whether a section was given (a `/` follows), whether an element was (a trailing `/` counts)."""
    if not rest.startswith("/"):
        return "", "", False, False
    section, _, element = rest[1:].partition("/")
    return section, element, True, element != "" or (section != "" and rest.endswith("/"))


def _to_id(section: str, element: str) -> str:
    id_ = path_join(section, element)
    return id_ + "/" if element == "" else id_


def _link(href: str) -> dict[str, str]:
    return {"rel": "self", "href": href}


def _element_link(section: str, element: str) -> dict[str, str]:
    href = path_join(BASE_PATH + "/", section, element)
    return _link(href + "/" if element == "" else href)


def _normalize_base(base: Mapping[str, list[dict]] | None) -> dict[str, list[Element]]:
    """The file configuration, each element filled from its section's NewConfig defaults."""
    out = default_base()
    if base is None:
        return out
    for name, elements in base.items():
        spec = SECTIONS.get(name)
        if spec is None:
            raise ValueError(f"unknown configuration section {name!r}")
        if not spec.is_list and len(elements) != 1:
            raise ValueError(f"section {name!r} is not a list, it takes exactly one element")
        filled: list[Element] = []
        for raw in elements:
            element = spec.default_element()
            for option_name, value in raw.items():
                option = spec.option(option_name)
                if option is None:
                    raise ValueError(f"unknown option {option_name!r} in section {name!r}")
                element[option_name] = from_file(option, value)
            filled.append(element)
        out[name] = filled
    return out
