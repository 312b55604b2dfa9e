"""Kapacitor's alert service over a store: topics collect events (each event id's last state, a collected
count), and topic handler specs are created, replaced, patched (RFC 6902) and deleted per organization.

`collect` is what a task's alert node calls: it records the event in its topic and answers the topic's
handler specs whose `match` holds for the event. A match expression sees what Kapacitor's match handler
puts in its scope: `level()`, `changed()` (the level differs from the event id's previous level in the
topic), `name()`, `taskName()`, `alertDuration()`, the identifiers OK, INFO, WARNING and CRITICAL, and the
event's tags by reference (a missing tag fails the match).

The operations answer Kapacitor's texts and statuses for the HTTP routes (services/alert/api.go)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import jsonpatch
import jsonpointer

from chalicelib.alert import handlers
from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.handler_specs import HandlerSpec, already_exists, check_update
from chalicelib.alert.topics import (
    EventState,
    TopicState,
    pattern_match,
    unknown_event,
    unknown_topic,
    unknown_topic_events,
    validate_pattern,
)
from chalicelib.kit.errors import INVALID, TicklessError, invalid, not_found
from chalicelib.kit.gojson import first_value, go_json_error, json_kind
from chalicelib.kit.gotemplate import go_quote

# -------------------------------------------------------------------------------------------- the port


class AlertStore(Protocol):
    """Topics, their events and their handler specs, per organization."""

    def topics(self, org_id: str) -> list[TopicState]:
        """Every topic of the org with its events and collected count."""
        ...

    def topic(self, org_id: str, topic_id: str) -> TopicState | None: ...

    def ensure_topic(self, org_id: str, topic_id: str) -> None:
        """Make the topic exist (a handler was registered on it) without touching its state."""
        ...

    def record(self, org_id: str, topic_id: str, state: EventState) -> EventState | None:
        """Store an event id's new state, count it as collected (creating the topic) and return the state
        it replaced, atomically per event id: two concurrent writers each see the other's state or none."""
        ...

    def delete_topic(self, org_id: str, topic_id: str) -> None:
        """Forget the topic and its events (its handler specs stay)."""
        ...

    def handlers(self, org_id: str, topic_id: str) -> list[HandlerSpec]:
        """The topic's handler specs, by ID."""
        ...

    def handler(self, org_id: str, topic_id: str, handler_id: str) -> HandlerSpec | None: ...

    def create_handler(self, org_id: str, spec: HandlerSpec) -> bool:
        """Store a new spec; False when the topic already has one with its ID."""
        ...

    def replace_handler(self, org_id: str, spec: HandlerSpec) -> None: ...

    def delete_handler(self, org_id: str, topic_id: str, handler_id: str) -> None: ...

    def all_handlers(self, org_id: str) -> list[HandlerSpec]:
        """Every handler spec of the org, those of deleted topics included, by topic and ID."""
        ...

    def restore_topic(self, org_id: str, topic: TopicState) -> None:
        """Make the topic exist with exactly this collected count and these events (a restored backup)."""
        ...


# ------------------------------------------------------------------------------------------- patches


def apply_patch(doc: dict[str, Any], raw: bytes) -> Any:
    """An RFC 6902 patch (the request body) applied with `jsonpatch` as Kapacitor's json-patch applies it:
    its errors in that library's words, `invalid patch json: ...` or `failed to apply patch: ...`."""
    problem = go_json_error(raw, stream=False)
    if problem is not None:
        raise invalid(f"invalid patch json: {problem}")
    operations = json.loads(raw)
    if operations is None:
        return doc
    if not isinstance(operations, list):
        message = f"json: cannot unmarshal {json_kind(operations)} into Go value of type jsonpatch.Patch"
        raise invalid(f"invalid patch json: {message}")
    for op in operations:
        if op is not None and not isinstance(op, dict):
            kind = json_kind(op)
            message = f"json: cannot unmarshal {kind} into Go value of type jsonpatch.Operation"
            raise invalid(f"invalid patch json: {message}")
    for op in operations:
        doc = _apply_one(doc, op or {})
    return doc


def _apply_one(doc: Any, op: dict[str, Any]) -> Any:
    kind = op.get("op")
    kind = kind if isinstance(kind, str) else "unknown"
    if kind not in ("add", "remove", "replace", "move", "test", "copy"):
        raise invalid(f"failed to apply patch: Unexpected kind: {kind}")
    path = op.get("path")
    if not isinstance(path, str):
        raise invalid(f"failed to apply patch: {kind} operation failed to decode path: missing value")
    op = {**op, "value": op.get("value")}
    if kind == "replace":
        parent, key = _parent(doc, path)
        if isinstance(parent, dict) and key not in parent:
            op["op"] = "add"  # json-patch (v4) replaces a missing object member by setting it
    try:
        return jsonpatch.JsonPatch([op]).apply(doc)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as err:
        raise invalid(f"failed to apply patch: {_go_patch_error(doc, kind, path, op, err)}") from None


def _parent(doc: Any, path: str) -> tuple[Any, str]:
    parts = path.split("/")
    if len(parts) < 2:
        return None, ""
    try:
        parent = jsonpointer.resolve_pointer(doc, "/".join(parts[:-1]))
    except jsonpointer.JsonPointerException:
        return None, ""
    return parent, parts[-1].replace("~1", "/").replace("~0", "~")


def _go_patch_error(doc: Any, kind: str, path: str, op: dict[str, Any], err: Exception) -> str:
    parent, key = _parent(doc, path)
    if kind == "test" and parent is not None:
        return f"testing value {path} failed: test failed"
    if kind in ("move", "copy"):
        source = op.get("from")
        if not isinstance(source, str) or _parent(doc, source)[0] is None:
            return f"{kind} operation does not apply: doc is missing from path: {source}: missing value"
        return f"{kind} operation does not apply: doc is missing destination path: {path}: missing value"
    if parent is None:
        if kind == "test":
            return f"test operation does not apply: is missing path: {path}: missing value"
        quoted = f'"{path}"' if kind in ("add", "remove") else path
        return f"{kind} operation does not apply: doc is missing path: {quoted}: missing value"
    where = f"error in {kind} for path: '{path}'"
    if kind == "remove" and isinstance(parent, dict):
        return f"{where}: Unable to remove nonexistent key: {key}: missing value"
    if isinstance(parent, list):
        return f"{where}: Unable to access invalid index: {key}: invalid index referenced"
    return f"{where}: {err}"


# ------------------------------------------------------------------------------------------ the service


class Matcher(Protocol):
    """Handler `match` expressions: TICKscript lambdas over an event (chalicelib.tick.matching)."""

    def compile(self, text: str) -> Any:
        """The compiled expression, or `invalid` with what is wrong."""

    def matches(self, compiled: Any, event: AlertEvent, previous_level: Level) -> bool: ...


class AlertService:
    """Alert topics and topic handlers of each organization, over an AlertStore. `service_configs` gives an
    organization's handler sections (its config overrides: checked as Kapacitor checks options when it
    creates a handler)."""

    def __init__(
        self,
        store: AlertStore,
        matcher: Matcher,
        service_configs: Callable[[str], Mapping[str, Any]] = lambda org_id: {},
    ) -> None:
        self.store = store
        self.matcher = matcher
        self.service_configs = service_configs

    # -- events

    def collect(self, org_id: str, topic_id: str, event: AlertEvent) -> list[HandlerSpec]:
        """Record `event` in its topic and return the topic's handler specs whose match holds for it, by
        ID. A spec whose match no longer compiles is skipped, as Kapacitor never registers one."""
        previous = self.store.record(org_id, topic_id, EventState.of(event))
        previous_level = previous.level if previous is not None else Level.OK
        chosen = []
        for spec in self.store.handlers(org_id, topic_id):
            if spec.match:
                try:
                    node = self.matcher.compile(spec.match)
                except TicklessError:
                    continue
                if not self.matcher.matches(node, event, previous_level):
                    continue
            chosen.append(spec)
        return chosen

    # -- topics

    def topics(self, org_id: str) -> list[TopicState]:
        return self.store.topics(org_id)

    def topic(self, org_id: str, topic_id: str) -> TopicState:
        found = self.store.topic(org_id, topic_id)
        if found is None:
            raise unknown_topic(topic_id)
        return found

    def topic_events(self, org_id: str, topic_id: str) -> TopicState:
        """The topic whose events are listed: an unknown one is a 404 (Kapacitor's 500)."""
        found = self.store.topic(org_id, topic_id)
        if found is None:
            raise unknown_topic_events(topic_id)
        return found

    def event(self, org_id: str, topic_id: str, event_id: str) -> EventState:
        found = self.store.topic(org_id, topic_id)
        if found is None or event_id not in found.events:
            raise unknown_event(topic_id, event_id)
        return found.events[event_id]

    def delete_topic(self, org_id: str, topic_id: str) -> None:
        self.store.delete_topic(org_id, topic_id)

    # -- handlers

    def handlers(self, org_id: str, topic_id: str, pattern: str = "") -> list[HandlerSpec]:
        validate_pattern(pattern)
        specs = [s for s in self.store.handlers(org_id, topic_id) if pattern_match(pattern, s.id)]
        return sorted(specs, key=lambda s: s.id)

    def handler(self, org_id: str, topic_id: str, handler_id: str) -> HandlerSpec:
        found = self.store.handler(org_id, topic_id, handler_id)
        if found is None:
            raise not_found(f"unknown handler: {go_quote(handler_id)}")
        return found

    def create_handler(self, org_id: str, topic_id: str, body: bytes) -> HandlerSpec:
        """POST .../handlers: the body decoded as Kapacitor decodes it, validated, the handler created."""
        spec = self._decode(topic_id, body, "invalid handler json")
        _validated(spec)
        try:
            self._check_creatable(org_id, spec)
            if not self.store.create_handler(org_id, spec):
                raise already_exists(spec.id)
        except TicklessError as err:
            raise _failed("failed to create handler", err) from None
        self.store.ensure_topic(org_id, topic_id)
        return spec

    def replace_handler(self, org_id: str, topic_id: str, handler_id: str, body: bytes) -> HandlerSpec:
        """PUT .../handlers/<id>: the whole spec replaced (its ID may change)."""
        old = self.handler(org_id, topic_id, handler_id)
        new = self._decode(topic_id, body, "failed to unmarshal JSON")
        _validated(new)
        return self._update(org_id, old, new)

    def patch_handler(self, org_id: str, topic_id: str, handler_id: str, body: bytes) -> HandlerSpec:
        """PATCH .../handlers/<id>: an RFC 6902 patch applied to the stored spec's JSON."""
        old = self.handler(org_id, topic_id, handler_id)
        patched = apply_patch(old.to_state(), body)
        try:
            new = HandlerSpec.from_json(topic_id, patched, patched=True)
        except TicklessError as err:
            raise TicklessError(INVALID, f"failed to unmarshal patched json: {err.message}") from None
        _validated(new)
        return self._update(org_id, old, new)

    def delete_handler(self, org_id: str, topic_id: str, handler_id: str) -> None:
        self.store.delete_handler(org_id, topic_id, handler_id)

    # -- backups (chalicelib/kapacitor/backup.py)

    def all_handlers(self, org_id: str) -> list[HandlerSpec]:
        return self.store.all_handlers(org_id)

    def check_restorable(self, spec: HandlerSpec, configs: Mapping[str, Any]) -> None:
        """What creating the handler checks, against `configs` (the handler sections a backup's
        overrides give) rather than the org's current ones."""
        _validated(spec)
        handlers.create(spec.kind, spec.options or {}, configs)
        if spec.match:
            self.matcher.compile(spec.match)

    def restore(
        self, org_id: str, topics: list[TopicState], specs: list[HandlerSpec]
    ) -> dict[str, tuple[int, int]]:
        """Make the org's topics (with their events) and handler specs exactly these: only what differs
        is written (a second restore changes nothing), what the backup lacks is deleted. Answers
        (changed, removed) for `topics` and `handler-specs`."""
        current = {t.id: _topic_key(t) for t in self.store.topics(org_id)}
        changed = 0
        for topic in topics:
            if current.pop(topic.id, None) != _topic_key(topic):
                self.store.restore_topic(org_id, topic)
                changed += 1
        for topic_id in current:
            self.store.delete_topic(org_id, topic_id)
        counts = {"topics": (changed, len(current))}
        stored = {(s.topic, s.id): s.to_state() for s in self.store.all_handlers(org_id)}
        changed = 0
        for spec in specs:
            if stored.pop((spec.topic, spec.id), None) != spec.to_state():
                self.store.replace_handler(org_id, spec)
                changed += 1
        for topic_id, handler_id in stored:
            self.store.delete_handler(org_id, topic_id, handler_id)
        counts["handler-specs"] = (changed, len(stored))
        return counts

    # -- helpers

    @staticmethod
    def _decode(topic_id: str, body: bytes, prefix: str) -> HandlerSpec:
        problem = go_json_error(body, stream=True)
        if problem is not None:
            raise invalid(f"{prefix}: {problem}")
        try:
            return HandlerSpec.from_json(topic_id, first_value(body))
        except TicklessError as err:
            raise invalid(f"{prefix}: {err.message}") from None

    def _check_creatable(self, org_id: str, spec: HandlerSpec) -> None:
        handlers.create(spec.kind, spec.options or {}, self.service_configs(org_id))
        if spec.match:
            self.matcher.compile(spec.match)

    def _update(self, org_id: str, old: HandlerSpec, new: HandlerSpec) -> HandlerSpec:
        try:
            check_update(old, new)
            self._check_creatable(org_id, new)
            if new.id == old.id:
                self.store.replace_handler(org_id, new)
            else:
                if not self.store.create_handler(org_id, new):
                    raise TicklessError(INVALID, "handler spec already exists")
                self.store.delete_handler(org_id, old.topic, old.id)
        except TicklessError as err:
            raise _failed("failed to update handler", err) from None
        self.store.ensure_topic(org_id, new.topic)
        return new


def _topic_key(topic: TopicState) -> tuple[int, list[dict[str, Any]]]:
    return topic.collected, sorted((e.to_state() for e in topic.events.values()), key=lambda e: e["id"])


def _validated(spec: HandlerSpec) -> None:
    try:
        spec.validate()
    except TicklessError as err:
        raise invalid(f"invalid handler spec: {err.message}") from None


def _failed(prefix: str, err: TicklessError) -> TicklessError:
    return TicklessError(err.code, f"{prefix}: {err.message}")
