"""Topic handler specs as the API takes, stores and shows them (`/alerts/topics/<topic>/handlers`).

`HandlerSpec.from_json` and `validate` raise what Kapacitor answers with 400 after "invalid handler
json: " / "invalid handler spec: "; `check_update` and `already_exists` what it answers after
"failed to update handler: " / "failed to create handler: " (400 here, 500 in Kapacitor)."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.kit.errors import INVALID, TicklessError, invalid
from chalicelib.kit.gotemplate import go_quote

_JSON_KINDS = {str: "string", bool: "bool", int: "number", float: "number", list: "array", dict: "object"}


@dataclass(slots=True)
class HandlerSpec:
    """A topic handler as the API stores and shows it; `match` stays text (evaluated elsewhere)."""

    id: str
    topic: str
    kind: str
    options: dict[str, Any] | None = None
    match: str = ""

    @classmethod
    def from_json(cls, topic: str, body: Any, *, patched: bool = False) -> HandlerSpec:
        """Decoded request JSON as Go decodes it into a HandlerSpec: unknown keys ignored, nulls left empty.
        A created or PUT spec takes the URL's topic; a `patched` one (the stored spec's JSON with the
        patch applied) keeps a topic the patch set, which `check_update` then refuses."""
        if not isinstance(body, Mapping):
            raise invalid(
                f"json: cannot unmarshal {_json_kind(body)} into Go value of type alert.HandlerSpec"
            )
        values: dict[str, Any] = {"id": "", "kind": "", "match": "", "options": None}
        for name in ("id", "topic", "kind", "options", "match"):
            key = name if name in body else next((k for k in body if k.lower() == name), None)
            if key is None or body[key] is None:
                continue
            value = body[key]
            if name == "options":
                if not isinstance(value, Mapping):
                    raise _unmarshal_error(value, name, "map[string]interface {}")
                values[name] = dict(value)
            elif not isinstance(value, str):
                raise _unmarshal_error(value, name, "string")
            elif name != "topic":
                values[name] = value
            elif patched:
                topic = value
        return cls(values["id"], topic, values["kind"], values["options"], values["match"])

    def validate(self) -> None:
        if not _valid_name(self.topic, allow_colon=True):
            raise invalid(
                f"handler topic must contain only letters, numbers, '-', '.' and '_'. {go_quote(self.id)}"
            )
        if not _valid_name(self.id, allow_colon=False):
            raise invalid(
                f"handler ID must contain only letters, numbers, '-', '.' and '_'. {go_quote(self.id)}"
            )
        if self.kind == "":
            raise invalid("handler Kind must not be empty")

    @property
    def link(self) -> dict[str, str]:
        href = posixpath.normpath(f"/kapacitor/v1/alerts/topics/{self.topic}/handlers/{self.id}")
        return {"rel": "self", "href": href}

    def to_json(self) -> dict[str, Any]:
        """The API's shape (client.TopicHandler)."""
        return {
            "link": self.link,
            "id": self.id,
            "kind": self.kind,
            "options": self.options,
            "match": self.match,
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "kind": self.kind,
            "options": self.options,
            "match": self.match,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> HandlerSpec:
        return cls(state["id"], state["topic"], state["kind"], state.get("options"), state.get("match", ""))


def check_update(old: HandlerSpec, new: HandlerSpec) -> None:
    """What Kapacitor refuses when it replaces a handler (400 after "failed to update handler: ")."""
    new.validate()
    if new.topic != old.topic:
        raise TicklessError(INVALID, "cannot change topic in update")


def already_exists(handler_id: str) -> TicklessError:
    """Creating a handler whose ID the topic already has (400 after "failed to create handler: ")."""
    return TicklessError(
        INVALID, f"cannot register handler, handler with ID {go_quote(handler_id)} already exists"
    )


def _json_kind(value: Any) -> str:
    return _JSON_KINDS.get(type(value), "null" if value is None else "value")


def _unmarshal_error(value: Any, name: str, go_type: str) -> TicklessError:
    what = _json_kind(value)
    return invalid(f"json: cannot unmarshal {what} into Go struct field HandlerSpec.{name} of type {go_type}")


def _valid_name(text: str, *, allow_colon: bool) -> bool:
    extra = "-._:" if allow_colon else "-._"
    return text != "" and all(c.isalpha() or c in "0123456789" or c in extra for c in text)
