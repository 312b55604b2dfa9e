"""Winchester pipeline handlers: `logger`, `usage` (Nova exists verification) and `publish`.

A pipeline runs its handlers in order on a stream's events (oldest first), each getting the list the
previous one returned; any exception rolls every handler back and the run fails, otherwise every handler
commits (side effects, such as publishing, happen only there; a commit error is logged, not fatal), as
Winchester's `Pipeline.handle_events` does. The events a run adds (message_ids not among its input) are
its output, to be fed back through ingest.

Handlers take events as the distiller's `Event`s or as Winchester's flat mappings, and add new events as
OpenStack notifications: `message_id`, `event_type`, `timestamp` (ISO 8601) and `publisher_id` at the top,
the Winchester event's traits flat in `payload` (datetimes as ISO 8601), with `image_meta` nested as Nova
sends it. The shipped definitions' `compute.instance.*` distils such a notification back into its instance
traits; `usage_event_definitions()` adds the rest (audit period, error, error_code, stream_id...).

`UsageHandler` is Winchester's: per `compute.instance.exists`, the events since the previous one are
checked against it and a `compute.instance.exists.verified` or `.failed` event (StackTach's codes U0-U8)
follows, after a `.warnings` event when warnings were collected.
"""

from __future__ import annotations

import fnmatch
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from chalicelib.kit.errors import invalid
from chalicelib.stacktach.triggers import Event, HandlerConfig, event_view

logger = logging.getLogger(__name__)

EXISTS = "compute.instance.exists"
VERIFIED = "compute.instance.exists.verified"
FAILED = "compute.instance.exists.failed"
WARNINGS = "compute.instance.exists.warnings"
USAGE_ENV_KEY = "usage_notifications"  # where UsageHandler leaves its new events for `publish`
PUBLISHER_ID = "stv3"

_ENVELOPE = ("message_id", "event_type", "timestamp")
_IMAGE_META = {
    "os_architecture": "org.openstack__1__architecture",
    "os_version": "org.openstack__1__os_version",
    "os_distro": "org.openstack__1__os_distro",
    "rax_options": "org.rackspace__1__options",
}


class Handler(Protocol):
    """A pipeline step; a new instance per run, since it keeps what it will do on commit."""

    def handle(self, events: list[Event], env: dict[str, Any]) -> list[Event]:
        """The events for the next handler (new ones added as notifications); no side effects."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Publisher(Protocol):
    """The port messages leave by: `target` is an SNS topic ARN or a Kinesis stream name."""

    def publish(self, target: str, messages: list[dict[str, Any]]) -> None: ...


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def to_notification(event: Event) -> dict[str, Any]:
    """An event as an OpenStack notification (see the module docstring); one already shaped so (with a
    `payload` mapping) is returned as it is."""
    if isinstance(event, Mapping) and isinstance(event.get("payload"), Mapping):
        return dict(event)
    view = event_view(event)
    payload = {k: _json_value(v) for k, v in view.items() if k not in _ENVELOPE}
    image_meta = {key: payload[trait] for trait, key in _IMAGE_META.items() if payload.get(trait) is not None}
    if image_meta and "image_meta" not in payload:
        payload["image_meta"] = image_meta
    notification: dict[str, Any] = {
        "message_id": str(view.get("message_id") or uuid.uuid4()),
        "event_type": view.get("event_type"),
        "timestamp": _json_value(view.get("timestamp") or datetime.now(UTC)),
        "publisher_id": view.get("publisher_id") or PUBLISHER_ID,
        "payload": payload,
    }
    if view.get("request_id") is not None:
        notification["_context_request_id"] = view["request_id"]
    return notification


_DATETIME_TRAITS = ("launched_at", "deleted_at", "audit_period_beginning", "audit_period_ending")
_INT_TRAITS = (
    "stream_id",
    "bandwidth_in",
    "bandwidth_out",
    "instance_type_id",
    "memory_mb",
    "disk_gb",
    "root_gb",
    "ephemeral_gb",
    "vcpus",
)
_TEXT_TRAITS = (
    "tenant_id",
    "user_id",
    "instance_id",
    "display_name",
    "host",
    "service",
    "request_id",
    "message",
    "instance_type",
    "instance_flavor",
    "instance_flavor_id",
    "state",
    "state_description",
    "os_architecture",
    "os_version",
    "os_distro",
    "image_ref_url",
    "rax_options",
    "original_message_id",
    "publisher_id",
    "error",
    "error_code",
)


def usage_event_definitions() -> list[dict[str, Any]]:
    """StackDistiller definitions (to append to a definition list) distilling the usage handler's
    notifications back into exactly the traits Winchester gives its events."""

    def traits(names: Iterable[str], kind: str) -> dict[str, Any]:
        return {name: {"type": kind, "fields": f"payload.{name}"} for name in names}

    result = {**traits(_TEXT_TRAITS, "text"), **traits(_INT_TRAITS, "int")}
    result.update(traits(_DATETIME_TRAITS, "datetime"))
    warnings = {
        **traits(("instance_id", "publisher_id", "warnings"), "text"),
        **traits(("stream_id",), "int"),
    }
    warnings["service"] = {"fields": "publisher_id"}
    return [
        {"event_type": [VERIFIED, FAILED], "traits": result},
        {"event_type": WARNINGS, "traits": warnings},
    ]


class LoggerHandler:
    """Winchester's LoggingHandler: logs the events' types and ids, passes them on."""

    def handle(self, events: list[Event], env: dict[str, Any]) -> list[Event]:
        views = [event_view(e) for e in events]
        listing = ", ".join(f"{v.get('event_type')}: {v.get('message_id')}" for v in views)
        logger.info("Received %s events: \n%s", len(events), listing)
        return events

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass


class UsageError(Exception):
    """A failed usage check; `code` is StackTach's (U0-U8)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _audit_period(event: Mapping[str, Any]) -> tuple[Any, Any]:
    return event.get("audit_period_beginning"), event.get("audit_period_ending")


def _is_exists(event: Mapping[str, Any]) -> bool:
    return event.get("event_type") == EXISTS


def is_non_eod_exists(event: Mapping[str, Any]) -> bool:
    """An exists whose audit period does not end the day after it begins (one sent by an operation)."""
    apb, ape = _audit_period(event)
    return bool(_is_exists(event) and apb and ape and ape.date() != apb.date() + timedelta(days=1))


def is_eod_exists(event: Mapping[str, Any]) -> bool:
    """The end-of-day exists: an audit period from one midnight to the next."""
    apb, ape = _audit_period(event)
    return bool(
        _is_exists(event)
        and apb
        and ape
        and apb.time() == time(0, 0, 0)
        and ape.time() == time(0, 0, 0)
        and ape.date() == apb.date() + timedelta(days=1)
    )


def _uuid5_id(original_message_id: Any, event_type: str) -> str:
    """Deterministic from the exists' id, so a re-run's events deduplicate (Winchester's uuid5)."""
    if not original_message_id:
        logger.error("Generating %s, but original message missing original_message_id.", event_type)
        return str(uuid.uuid4())
    try:
        namespace = uuid.UUID(str(original_message_id))
    except ValueError:  # tickless accepts any message id; Winchester would crash here
        namespace = uuid.uuid5(uuid.NAMESPACE_OID, str(original_message_id))
    return str(uuid.uuid5(namespace, event_type))


class UsageHandler:
    """Winchester's UsageHandler: verifies each exists against the events before it.

    Needs `env["stream_id"]`. Returns its input followed by the new notifications, which it also leaves
    in `env["usage_notifications"]` for `publish` (the key Winchester's pipelines name)."""

    INTERESTING = (
        "compute.instance.rebuild.end",
        "compute.instance.finish_resize.end",
        "compute.instance.rescue.end",
    )
    DELETE_FIELDS = ("launched_at", "deleted_at")

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.stream_id: Any = None

    def core_fields(self) -> list[str]:
        """The traits an operation event must agree on with the exists that follows it."""
        return [
            "launched_at",
            "instance_flavor_id",
            "tenant_id",
            "os_architecture",
            "os_version",
            "os_distro",
        ]

    @staticmethod
    def extract_launched_at(exists: Mapping[str, Any]) -> Any:
        if not exists.get("launched_at"):
            raise UsageError("U1", ".exists has no launched_at value.")
        return exists["launched_at"]

    @staticmethod
    def verify_fields(this: Mapping[str, Any], that: Mapping[str, Any], fields: Iterable[str]) -> None:
        """U2 when a field differs; a field one side lacks fails the run, as Winchester's KeyError does."""
        for name in fields:
            if name not in this and name not in that:
                continue
            if name not in this or name not in that:
                raise invalid(f"usage check: {name!r} is on only one of the events compared")
            if this[name] != that[name]:
                raise UsageError("U2", f"Conflicting '{name}' values ('{this[name]}' != '{that[name]}')")

    def confirm_delete(
        self, exists: Mapping[str, Any], delete_events: Sequence[Mapping[str, Any]], fields: Iterable[str]
    ) -> None:
        deleted_at = exists.get("deleted_at")
        state = exists.get("state")
        apb, ape = _audit_period(exists)
        if not deleted_at and delete_events:
            raise UsageError("U6", ".deleted events found but .exists has no deleted_at value.")
        if deleted_at and state != "deleted":
            raise UsageError("U3", ".exists state not 'deleted' but .exists deleted_at is set.")
        if deleted_at and not delete_events:
            launched_at = exists.get("launched_at")
            if launched_at is None:  # Winchester compares anyway and fails the run
                raise invalid("usage check: .exists has deleted_at but no launched_at to compare it with")
            if deleted_at < launched_at:
                raise UsageError("U4", ".exists deleted_at < .exists launched_at.")
            if apb and ape and apb <= deleted_at <= ape:
                raise UsageError(
                    "U5", ".exists deleted_at in audit period, but no matching .delete event found."
                )
        if len(delete_events) > 1:
            raise UsageError("U7", "Multiple .delete.end events")
        if delete_events:
            self.verify_fields(exists, delete_events[-1], fields)

    def confirm_launched_at(self, block: Sequence[Mapping[str, Any]], exists: Mapping[str, Any]) -> None:
        if exists.get("state") != "active":
            return
        apb, ape = _audit_period(exists)
        launched_at = self.extract_launched_at(exists)
        if apb and ape and apb <= launched_at <= ape and len(block) == 0:
            raise UsageError("U8", ".exists launched_at in audit period, but no related events found.")

    def do_checks(self, block: Sequence[Mapping[str, Any]], exists: Mapping[str, Any]) -> None:
        self.confirm_launched_at(block, exists)
        last_interesting = None
        for event in block:
            if event.get("event_type") in self.INTERESTING:
                last_interesting = event
        if last_interesting is not None:
            self.verify_fields(last_interesting, exists, self.core_fields())
        elif is_non_eod_exists(exists):
            self.warnings.append(
                f"Non-EOD .exists found (msg_id: {exists.get('message_id')}) with no operation event."
            )
        deleted = [e for e in block if e.get("event_type") == "compute.instance.delete.end"]
        self.confirm_delete(exists, deleted, self.DELETE_FIELDS)

    def _process_block(self, block: list[Mapping[str, Any]], exists: Mapping[str, Any]) -> list[dict]:
        error: UsageError | None = None
        try:
            self.do_checks(block, exists)
            event_type = VERIFIED
        except UsageError as err:
            error = err
            event_type = FAILED
            apb, ape = _audit_period(exists)
            logger.warning("Stream %s UsageException: (%s) %s", self.stream_id, err.code, err)
            logger.warning(
                "Stream %s deleted_at: %s, launched_at: %s, state: %s, APB: %s, APE: %s, #events: %s",
                self.stream_id,
                exists.get("deleted_at"),
                exists.get("launched_at"),
                exists.get("state"),
                apb,
                ape,
                len(block),
            )
        if len(block) > 1:
            logger.warning("%s - events (stream: %s)", event_type, self.stream_id)
            for event in block:
                logger.warning("^Event: %s - %s", event.get("timestamp"), event.get("event_type"))
        when = exists.get("timestamp") or datetime.now(UTC)
        out: list[dict] = []
        if self.warnings:  # warnings pile up over the run's blocks, as in Winchester
            out.append(
                {
                    "event_type": WARNINGS,
                    "publisher_id": PUBLISHER_ID,
                    "message_id": _uuid5_id(exists.get("message_id", ""), WARNINGS),
                    "timestamp": when,
                    "stream_id": self.stream_id,
                    "instance_id": exists.get("instance_id", "n/a"),
                    "warnings": ", ".join(self.warnings),
                }
            )
        new = dict(exists)
        new.setdefault("bandwidth_in", 0)
        new.setdefault("bandwidth_out", 0)
        new.setdefault("rax_options", "0")
        new["original_message_id"] = exists.get("message_id", "")
        new.update(
            message_id=_uuid5_id(new["original_message_id"], event_type),
            event_type=event_type,
            publisher_id=PUBLISHER_ID,
            timestamp=when,
            stream_id=self.stream_id,
            error=str(error),
            error_code=error.code if error else None,
        )
        out.append(new)
        return out

    def handle(self, events: list[Event], env: dict[str, Any]) -> list[Event]:
        if "stream_id" not in env:
            raise invalid("usage handler: the pipeline env has no stream_id")
        self.stream_id = _stream_id(env["stream_id"])
        self.warnings = []
        new_events: list[dict] = []
        block: list[Mapping[str, Any]] = []
        for event in events:
            view = event_view(event)
            if _is_exists(view):
                new_events.extend(self._process_block(block, view))
                block = []
            else:
                block.append(view)
        if block:  # events after the last exists: nothing audits them
            new_events.append(
                {
                    "event_type": FAILED,
                    # deterministic (Winchester: random), so a pipeline run again adds no duplicate
                    "message_id": _uuid5_id(f"stream {self.stream_id} {block[0].get('message_id')}", FAILED),
                    "timestamp": block[0].get("timestamp") or datetime.now(UTC),
                    "stream_id": self.stream_id,
                    "instance_id": block[0].get("instance_id"),
                    "error": "Notifications, but no .exists notification found.",
                    "error_code": "U0",
                }
            )
        notifications = [to_notification(e) for e in new_events]
        env[USAGE_ENV_KEY] = notifications
        return [*events, *notifications]

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass


def _stream_id(value: Any) -> Any:
    """Winchester's integer stream id; tickless ids that are not numbers stay as they are."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


class PublishHandler:
    """Publishes on commit: the notifications under `env_keys` in the env (Winchester's Notabene), then
    the passing events whose type matches `event_types` (globs, `!` excludes; none: no events).

    `target` and the publisher come from the constructor or else from `env["publish_target"]` and
    `env["publisher"]`; a run with something to publish and either missing fails."""

    def __init__(
        self,
        target: str | None = None,
        env_keys: Sequence[str] = (),
        event_types: str | Sequence[str] | None = None,
        publisher: Publisher | None = None,
    ) -> None:
        if target is not None and (not isinstance(target, str) or not target):
            raise invalid("publish handler: 'target' must be an SNS topic ARN or a Kinesis stream name")
        keys = [env_keys] if isinstance(env_keys, str) else list(env_keys)
        if not all(isinstance(k, str) for k in keys):
            raise invalid("publish handler: 'env_keys' must be a list of names")
        types = [event_types] if isinstance(event_types, str) else list(event_types or ())
        if not all(isinstance(t, str) for t in types):
            raise invalid("publish handler: 'event_types' must be a glob or a list of globs")
        self.target = target
        self.env_keys = keys
        self.included = [t for t in types if not t.startswith("!")] or (["*"] if types else [])
        self.excluded = [t[1:] for t in types if t.startswith("!")]
        self.publisher = publisher
        self.pending: list[dict[str, Any]] = []
        self._resolved: tuple[Publisher, str] | None = None

    def match_type(self, event_type: str) -> bool:
        return any(fnmatch.fnmatchcase(event_type, t) for t in self.included) and not any(
            fnmatch.fnmatchcase(event_type, t) for t in self.excluded
        )

    def handle(self, events: list[Event], env: dict[str, Any]) -> list[Event]:
        pending = [to_notification(n) for key in self.env_keys for n in env.get(key) or ()]
        pending += [
            to_notification(e) for e in events if self.match_type(str(event_view(e).get("event_type")))
        ]
        self.pending, self._resolved = pending, None
        if pending:
            publisher = self.publisher or env.get("publisher")
            target = self.target or env.get("publish_target")
            if publisher is None or not target:
                raise invalid("publish handler: no publisher or no target to publish to")
            self._resolved = (publisher, target)
        return events

    def commit(self) -> None:
        if self._resolved is None or not self.pending:
            return
        publisher, target = self._resolved
        for message in self.pending:
            logger.info("Publishing '%s' to '%s'", message.get("event_type"), target)
        publisher.publish(target, list(self.pending))
        self.pending = []

    def rollback(self) -> None:
        self.pending, self._resolved = [], None


HANDLER_TYPES: dict[str, type] = {"logger": LoggerHandler, "usage": UsageHandler, "publish": PublishHandler}

_PARAMS: dict[str, frozenset[str]] = {
    "logger": frozenset(),
    "usage": frozenset(),
    "publish": frozenset({"target", "env_keys", "event_types"}),
}


def build_handlers(configs: Iterable[HandlerConfig], *, publisher: Publisher | None = None) -> list[Handler]:
    """Fresh handlers for one run of a pipeline (`load_pipelines`' entries); unknown params are refused."""
    handlers: list[Handler] = []
    for conf in configs:
        if conf.name not in HANDLER_TYPES:
            raise invalid(f"unknown handler {conf.name!r}")
        if unknown := sorted(set(conf.params) - _PARAMS[conf.name]):
            raise invalid(f"handler {conf.name!r}: unknown params {', '.join(map(repr, unknown))}")
        if conf.name == "publish":
            handlers.append(PublishHandler(**dict(conf.params), publisher=publisher))
        else:
            handlers.append(HANDLER_TYPES[conf.name]())
    return handlers


def stream_env(stream_id: Any, stream_name: str) -> dict[str, Any]:
    """The env Winchester gives a stream's pipeline."""
    return {"stream_id": stream_id, "stream_name": stream_name}


@dataclass(frozen=True, slots=True)
class PipelineResult:
    """`output_events`: the notifications the run added, to feed back through ingest (empty unless ok)."""

    ok: bool
    output_events: tuple[dict[str, Any], ...] = ()
    error: str | None = None
    commit_errors: tuple[str, ...] = ()


def _message_id(event: Event) -> Any:
    return event_view(event).get("message_id")


def run_pipeline(handlers: Sequence[Handler], events: Iterable[Event], env: dict[str, Any]) -> PipelineResult:
    """Winchester's Pipeline.handle_events: chain the handlers; an exception rolls all of them back
    (errors there logged), else all commit (errors there logged and listed, the run still ok)."""
    current: list[Event] = list(events)
    seen = {_message_id(e) for e in current}
    try:
        for handler in handlers:
            current = handler.handle(current, env)
    except Exception as err:
        logger.exception("Error processing pipeline")
        for handler in handlers:
            try:
                handler.rollback()
            except Exception:
                logger.exception("Rollback error on handler %s", type(handler).__name__)
        return PipelineResult(False, (), f"Error in pipeline: caused by {err!r}")
    new = tuple(to_notification(e) for e in current if _message_id(e) not in seen)
    errors: list[str] = []
    for handler in handlers:
        try:
            handler.commit()
        except Exception as err:
            logger.exception("Commit error on handler %s", type(handler).__name__)
            errors.append(f"{type(handler).__name__}: {err!r}")
    return PipelineResult(True, new, None, tuple(errors))
