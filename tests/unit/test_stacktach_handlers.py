"""Winchester pipeline handlers: logger, usage (StackTach's U0-U8 checks), publish, and run_pipeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from chalicelib.kit.errors import TicklessError
from chalicelib.stacktach.distiller import DEFAULTS, Distiller, Event
from chalicelib.stacktach.handlers import (
    FAILED,
    HANDLER_TYPES,
    USAGE_ENV_KEY,
    VERIFIED,
    WARNINGS,
    LoggerHandler,
    PublishHandler,
    UsageHandler,
    build_handlers,
    is_eod_exists,
    is_non_eod_exists,
    run_pipeline,
    stream_env,
    to_notification,
    usage_event_definitions,
)
from chalicelib.stacktach.triggers import HANDLERS, HandlerConfig, default_pipelines, load_pipelines

INSTANCE = "86def971-f2a2-4b1d-b379-fca1b0ddf0d7"
DISTILLER = Distiller.default()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def nova(event_type: str, when: str, **payload: Any) -> Event:
    """A Nova notification distilled by the shipped definitions."""
    body: dict[str, Any] = {
        "tenant_id": "408577",
        "instance_id": INSTANCE,
        "display_name": "web-1",
        "instance_type": "m1.tiny",
        "instance_flavor_id": "1",
        "memory_mb": 512,
        "state": "active",
        "launched_at": "2014-12-30 01:00:00.000000",
        "image_meta": {
            "org.openstack__1__architecture": "x64",
            "org.openstack__1__os_version": "14.04",
            "org.openstack__1__os_distro": "com.ubuntu",
        },
    }
    body.update(payload)
    body = {k: v for k, v in body.items() if v is not None}
    event = DISTILLER.to_event(
        {
            "message_id": str(uuid.uuid4()),
            "event_type": event_type,
            "timestamp": when,
            "publisher_id": "compute.host-1",
            "_context_request_id": "req-1",
            "payload": body,
        }
    )
    assert event is not None
    return event


def exists(when: str = "2014-12-31 00:05:00", apb: str = "2014-12-30 00:00:00", **payload: Any) -> Event:
    ape = payload.pop("ape", "2014-12-31 00:00:00")
    return nova(
        "compute.instance.exists", when, audit_period_beginning=apb, audit_period_ending=ape, **payload
    )


def usage(events: list[Any], env: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The usage handler's new notifications."""
    out = UsageHandler().handle(list(events), env if env is not None else {"stream_id": 7})
    assert out[: len(events)] == events
    return out[len(events) :]


def codes(new: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(n["event_type"], n["payload"].get("error_code")) for n in new]


# -- usage checks, one Nova sequence per code ------------------------------------------------------------


def test_verified_day_with_create():
    create = nova("compute.instance.create.end", "2014-12-30 01:00:01")
    audit = exists()
    env: dict[str, Any] = {"stream_id": "42"}
    (verified,) = usage([create, audit], env)
    assert env[USAGE_ENV_KEY] == [verified]
    assert verified["event_type"] == VERIFIED
    assert verified["message_id"] == str(uuid.uuid5(uuid.UUID(audit.message_id), VERIFIED))
    assert verified["timestamp"] == audit.when.isoformat()
    assert verified["publisher_id"] == "stv3"
    assert verified["_context_request_id"] == "req-1"
    payload = verified["payload"]
    assert payload["error"] == "None" and payload["error_code"] is None
    assert payload["stream_id"] == 42
    assert payload["original_message_id"] == audit.message_id
    assert (payload["bandwidth_in"], payload["bandwidth_out"], payload["rax_options"]) == (0, 0, "0")
    assert payload["audit_period_beginning"] == "2014-12-30T00:00:00+00:00"
    assert payload["launched_at"] == "2014-12-30T01:00:00+00:00"
    assert payload["instance_id"] == INSTANCE and payload["service"] == "compute"
    assert payload["image_meta"]["org.openstack__1__os_distro"] == "com.ubuntu"
    assert "message_id" not in payload and "event_type" not in payload


def test_verified_instance_launched_before_the_period():
    assert codes(usage([exists(launched_at="2014-12-01 00:00:00")])) == [(VERIFIED, None)]


def test_u0_events_after_the_last_exists():
    update = nova("compute.instance.update", "2014-12-31 03:00:00")
    (failed,) = usage([update])
    assert codes([failed]) == [(FAILED, "U0")]
    assert failed["payload"] == {
        "stream_id": 7,
        "instance_id": INSTANCE,
        "error": "Notifications, but no .exists notification found.",
        "error_code": "U0",
    }
    assert failed["timestamp"] == update.when.isoformat()
    new = usage([nova("compute.instance.create.end", "2014-12-30 01:00:01"), exists(), update])
    assert codes(new) == [(VERIFIED, None), (FAILED, "U0")]
    assert usage([]) == []


def test_u1_active_without_launched_at():
    (failed,) = usage([nova("compute.instance.update", "2014-12-30 02:00:00"), exists(launched_at="")])
    assert codes([failed]) == [(FAILED, "U1")]
    assert failed["payload"]["error"] == ".exists has no launched_at value."
    assert failed["message_id"] != str(uuid.uuid4())


def test_u2_operation_event_disagrees():
    rebuild = nova("compute.instance.rebuild.end", "2014-12-30 05:00:00", image_meta={
        "org.openstack__1__architecture": "x64",
        "org.openstack__1__os_version": "14.04",
        "org.openstack__1__os_distro": "com.redhat",
    })  # fmt: skip
    (failed,) = usage([rebuild, exists()])
    assert codes([failed]) == [(FAILED, "U2")]
    assert failed["payload"]["error"] == "Conflicting 'os_distro' values ('com.redhat' != 'com.ubuntu')"


def test_u2_only_the_last_operation_event_counts():
    old = nova("compute.instance.finish_resize.end", "2014-12-30 03:00:00", instance_flavor_id="2")
    new = nova("compute.instance.rescue.end", "2014-12-30 04:00:00")
    assert codes(usage([old, new, exists()])) == [(VERIFIED, None)]
    assert codes(usage([new, old, exists()])) == [(FAILED, "U2")]


def test_u2_delete_disagrees():
    delete = nova(
        "compute.instance.delete.end",
        "2014-12-30 06:00:00",
        state="deleted",
        deleted_at="2014-12-30 06:00:00",
    )
    audit = exists(state="deleted", deleted_at="2014-12-30 06:00:01")
    (failed,) = usage([delete, audit])
    assert codes([failed]) == [(FAILED, "U2")]
    assert failed["payload"]["error"].startswith("Conflicting 'deleted_at' values ('2014-12-30 06:00:01")


def test_delete_verified():
    delete = nova(
        "compute.instance.delete.end",
        "2014-12-30 06:00:00",
        state="deleted",
        deleted_at="2014-12-30 06:00:00",
    )
    assert codes(usage([delete, exists(state="deleted", deleted_at="2014-12-30 06:00:00")])) == [
        (VERIFIED, None)
    ]


def test_u3_deleted_at_but_not_deleted():
    audit = exists(state="stopped", deleted_at="2014-12-30 06:00:00")
    (failed,) = usage([nova("compute.instance.power_off.end", "2014-12-30 02:00:00"), audit])
    assert codes([failed]) == [(FAILED, "U3")]
    assert failed["payload"]["error"] == ".exists state not 'deleted' but .exists deleted_at is set."


def test_u4_deleted_before_launched():
    audit = exists(state="deleted", launched_at="2014-12-30 08:00:00", deleted_at="2014-12-30 06:00:00")
    (failed,) = usage([audit])
    assert codes([failed]) == [(FAILED, "U4")]
    assert failed["payload"]["error"] == ".exists deleted_at < .exists launched_at."


def test_u5_deleted_in_period_without_delete_event():
    (failed,) = usage([exists(state="deleted", deleted_at="2014-12-30 06:00:00")])
    assert codes([failed]) == [(FAILED, "U5")]
    assert failed["payload"]["error"] == (
        ".exists deleted_at in audit period, but no matching .delete event found."
    )
    # Deleted before the period: nothing to find.
    before = exists(state="deleted", launched_at="2014-12-01 00:00:00", deleted_at="2014-12-29 06:00:00")
    assert codes(usage([before])) == [(VERIFIED, None)]


def test_u6_delete_event_but_no_deleted_at():
    delete = nova("compute.instance.delete.end", "2014-12-30 06:00:00", deleted_at="2014-12-30 06:00:00")
    (failed,) = usage([delete, exists()])
    assert codes([failed]) == [(FAILED, "U6")]
    assert failed["payload"]["error"] == ".deleted events found but .exists has no deleted_at value."


def test_u7_two_deletes():
    kw = {"state": "deleted", "deleted_at": "2014-12-30 06:00:00"}
    deletes = [nova("compute.instance.delete.end", f"2014-12-30 06:00:0{i}", **kw) for i in (1, 2)]
    (failed,) = usage([*deletes, exists(**kw)])
    assert codes([failed]) == [(FAILED, "U7")]
    assert failed["payload"]["error"] == "Multiple .delete.end events"


def test_u8_launched_in_period_without_events():
    (failed,) = usage([exists(launched_at="2014-12-30 01:00:00")])
    assert codes([failed]) == [(FAILED, "U8")]
    assert failed["payload"]["error"] == ".exists launched_at in audit period, but no related events found."


def test_non_eod_exists_without_operation_warns_and_warnings_pile_up():
    first = exists("2014-12-30 05:00:00", apb="2014-12-30 00:00:00", ape="2014-12-30 05:00:00")
    second = exists("2014-12-30 06:00:00", apb="2014-12-30 05:00:00", ape="2014-12-30 06:00:00")
    new = usage([nova("compute.instance.update", "2014-12-30 02:00:00"), first, second])
    assert [n["event_type"] for n in new] == [WARNINGS, VERIFIED, WARNINGS, VERIFIED]
    warning = new[0]
    assert warning["publisher_id"] == "stv3"
    assert warning["payload"] == {
        "publisher_id": "stv3",
        "stream_id": 7,
        "instance_id": INSTANCE,
        "warnings": f"Non-EOD .exists found (msg_id: {first.message_id}) with no operation event.",
    }
    assert new[2]["payload"]["warnings"].count("Non-EOD") == 2  # Winchester never clears them in a run
    assert new[0]["message_id"] != new[2]["message_id"]


def test_non_eod_exists_after_an_operation_does_not_warn():
    resize = nova("compute.instance.finish_resize.end", "2014-12-30 04:00:00")
    audit = exists("2014-12-30 04:00:01", apb="2014-12-30 00:00:00", ape="2014-12-30 04:00:00")
    assert codes(usage([resize, audit])) == [(VERIFIED, None)]


def test_eod_predicates():
    assert is_eod_exists(exists().as_dict()) and not is_non_eod_exists(exists().as_dict())
    hourly = exists(apb="2014-12-30 01:00:00", ape="2014-12-30 02:00:00").as_dict()
    assert is_non_eod_exists(hourly) and not is_eod_exists(hourly)
    shifted = exists(apb="2014-12-30 01:00:00", ape="2014-12-31 01:00:00").as_dict()
    assert not is_eod_exists(shifted) and not is_non_eod_exists(shifted)
    assert not is_eod_exists({"event_type": "compute.instance.update"})


def test_flat_winchester_events_are_accepted():
    apb, ape = at("2014-12-30 00:00:00"), at("2014-12-31 00:00:00")
    flat = {
        "message_id": "not-a-uuid",
        "event_type": "compute.instance.exists",
        "timestamp": ape,
        "state": "active",
        "launched_at": at("2014-12-01 00:00:00"),
        "audit_period_beginning": apb,
        "audit_period_ending": ape,
    }
    (verified,) = usage([flat])
    assert verified["message_id"] == str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_OID, "not-a-uuid"), VERIFIED))


def test_a_field_on_one_side_only_fails_the_run():
    rebuild = nova("compute.instance.rebuild.end", "2014-12-30 05:00:00", instance_flavor_id=None)
    result = run_pipeline([UsageHandler()], [rebuild, exists()], {"stream_id": 1})
    assert not result.ok and "instance_flavor_id" in (result.error or "")


def test_usage_needs_a_stream_id():
    with pytest.raises(TicklessError):
        UsageHandler().handle([exists()], {})


# -- notifications fed back through the distiller --------------------------------------------------------


def test_output_distils_back_with_the_shipped_definitions():
    (verified,) = usage([nova("compute.instance.create.end", "2014-12-30 01:00:01"), exists()])
    event = DISTILLER.to_event(verified)
    assert event is not None and event.event_type == VERIFIED
    values = {k: t.value for k, t in event.traits.items()}
    assert values["instance_id"] == INSTANCE and values["os_distro"] == "com.ubuntu"
    assert values["launched_at"] == at("2014-12-30 01:00:00")
    assert values["request_id"] == "req-1"


def test_output_distils_back_to_winchester_traits_with_the_usage_definitions():
    config = yaml.safe_load(DEFAULTS.read_text()) + usage_event_definitions()
    distiller = Distiller.from_config(config)
    audit = exists(state="deleted", deleted_at="2014-12-30 06:00:00")
    failed = usage([audit])
    hourly = exists(
        "2014-12-30 05:00", apb="2014-12-30 00:00", ape="2014-12-30 05:00", launched_at="2014-12-01"
    )
    warned = usage([hourly])
    assert warned[0]["event_type"] == WARNINGS
    event = distiller.to_event(failed[0])
    assert event is not None
    values = {k: t.value for k, t in event.traits.items()}
    expected = {
        k: v for k, v in audit.as_dict().items() if k not in ("message_id", "event_type", "timestamp")
    }
    assert {k: values[k] for k in expected} == expected
    assert values["error_code"] == "U5" and values["stream_id"] == 7 and values["bandwidth_in"] == 0
    assert values["original_message_id"] == audit.message_id and values["publisher_id"] == "stv3"
    assert event.when == audit.when and event.message_id == failed[0]["message_id"]
    warning = distiller.to_event(warned[0])
    assert warning is not None and warning.traits["warnings"].value.startswith("Non-EOD")


def test_to_notification_of_an_event():
    audit = exists()
    note = to_notification(audit)
    assert note["message_id"] == audit.message_id and note["event_type"] == "compute.instance.exists"
    assert note["payload"]["audit_period_ending"] == "2014-12-31T00:00:00+00:00"
    assert to_notification(note) == note


# -- logger, publish, run_pipeline -----------------------------------------------------------------------


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []
        self.fail = fail

    def publish(self, target: str, messages: list[dict[str, Any]]) -> None:
        if self.fail:
            raise RuntimeError("down")
        self.calls.append((target, messages))


class Boom:
    def __init__(self) -> None:
        self.rolled_back = self.committed = False

    def handle(self, events: list[Any], env: dict[str, Any]) -> list[Any]:
        raise RuntimeError("boom")

    def commit(self) -> None:
        self.committed = True

    def rollback(self) -> None:
        self.rolled_back = True


def test_logger_passes_events_on(caplog: pytest.LogCaptureFixture):
    audit = exists()
    with caplog.at_level("INFO"):
        assert LoggerHandler().handle([audit], {}) == [audit]
    assert f"compute.instance.exists: {audit.message_id}" in caplog.text


def test_a_usage_pipeline_with_publish_sends_the_verdicts_on_commit():
    config = load_pipelines(
        "fire: [logger, usage, {name: publish, params: {target: 'arn:aws:sns:eu-west-1:1:usage',"
        " env_keys: [usage_notifications]}}]"
    )["fire"]
    publisher = Recorder()
    handlers = build_handlers(config, publisher=publisher)
    create = nova("compute.instance.create.end", "2014-12-30 01:00:01")
    result = run_pipeline(handlers, [create, exists()], stream_env(9, "instance_day"))
    assert result.ok and result.error is None and result.commit_errors == ()
    assert [e["event_type"] for e in result.output_events] == [VERIFIED]
    assert publisher.calls == [("arn:aws:sns:eu-west-1:1:usage", list(result.output_events))]


def test_the_default_pipeline_verifies_without_publishing():
    handlers = build_handlers(default_pipelines()["usage_fire"])
    create = nova("compute.instance.create.end", "2014-12-30 01:00:01")
    result = run_pipeline(handlers, [create, exists()], stream_env(9, "instance_day"))
    assert result.ok and [e["event_type"] for e in result.output_events] == [VERIFIED]


def test_publish_only_on_commit_and_not_after_rollback():
    publisher = Recorder()
    publish = PublishHandler(target="usage-stream", env_keys=[USAGE_ENV_KEY], publisher=publisher)
    boom = Boom()
    result = run_pipeline(
        [UsageHandler(), publish, boom], [exists(launched_at="2014-12-01")], {"stream_id": 1}
    )
    assert not result.ok and result.output_events == ()
    assert result.error == "Error in pipeline: caused by RuntimeError('boom')"
    assert boom.rolled_back and not boom.committed and publisher.calls == []
    publish.commit()
    assert publisher.calls == []


def test_publish_event_types_filter():
    publisher = Recorder()
    publish = PublishHandler(target="t", event_types=["compute.instance.*", "!compute.instance.exists"])
    events = [exists(), nova("compute.instance.create.end", "2014-12-30 01:00:01")]
    assert publish.handle(events, {"publisher": publisher}) == events
    publish.commit()
    ((target, messages),) = publisher.calls
    assert target == "t" and [m["event_type"] for m in messages] == ["compute.instance.create.end"]


def test_publish_without_target_fails_the_run_when_there_is_something_to_send():
    publish = PublishHandler(env_keys=["x"], publisher=Recorder())
    assert run_pipeline([publish], [], {"x": []}).ok
    result = run_pipeline([publish], [], {"x": [{"event_type": "a", "payload": {}}]})
    assert not result.ok and "no publisher or no target" in (result.error or "")


def test_commit_errors_are_logged_not_fatal():
    publish = PublishHandler(target="t", env_keys=[USAGE_ENV_KEY], publisher=Recorder(fail=True))
    result = run_pipeline([UsageHandler(), publish], [exists(launched_at="2014-12-01")], {"stream_id": 1})
    assert result.ok and len(result.output_events) == 1
    assert result.commit_errors == ("PublishHandler: RuntimeError('down')",)


def test_each_handler_gets_the_previous_ones_events():
    seen: list[list[Any]] = []

    class Spy(LoggerHandler):
        def handle(self, events: list[Any], env: dict[str, Any]) -> list[Any]:
            seen.append(list(events))
            return events[1:]

    a, b = exists(), nova("compute.instance.update", "2014-12-31 01:00:00")
    result = run_pipeline([Spy(), Spy()], [a, b], {})
    assert seen == [[a, b], [b]] and result.ok and result.output_events == ()


def test_build_handlers():
    assert set(HANDLER_TYPES) == set(HANDLERS)
    built = build_handlers([HandlerConfig("logger"), HandlerConfig("publish", {"target": "s"})])
    assert isinstance(built[0], LoggerHandler) and isinstance(built[1], PublishHandler)
    with pytest.raises(TicklessError, match="unknown params 'queue_name'"):
        build_handlers([HandlerConfig("publish", {"queue_name": "q"})])
    with pytest.raises(TicklessError):
        build_handlers([HandlerConfig("publish", {"target": ""})])
