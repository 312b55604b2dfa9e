"""The StackDistiller-format distiller: definition matching, traits, types, plugins, the Nova defaults."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.stacktach.distiller import Distiller, Event, Trait, TraitType, parse_datetime
from chalicelib.stacktach.distiller_plugins import Bitfield, Split

NOW = datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

IMAGE_META = {
    "org.openstack__1__architecture": "x64",
    "org.openstack__1__os_distro": "com.ubuntu",
    "org.openstack__1__os_version": "12.04",
    "base_image_ref": "5b5d5aba-0c0b-4b8c-9b46-0b4a1fa0f5b8",
}


def nova(event_type: str, message_id: str, timestamp: str, **payload: Any) -> dict[str, Any]:
    """A Nova notification envelope as oslo.messaging (v1 "unpacked") delivers it."""
    base = {
        "tenant_id": "408577",
        "user_id": "863985",
        "instance_id": "86def971-f2a2-4b1d-b379-fca1b0ddf0d7",
        "display_name": "Instance_358720",
        "instance_type": "512MB Standard Instance",
        "instance_type_id": 2,
        "instance_flavor_id": "2",
        "memory_mb": 512,
        "disk_gb": 20,
        "root_gb": 20,
        "ephemeral_gb": 0,
        "vcpus": 1,
        "state": "active",
        "state_description": "",
        "host": "compute-0042",
        "image_meta": dict(IMAGE_META),
        "image_ref_url": "http://glance:9292/images/5b5d5aba-0c0b-4b8c-9b46-0b4a1fa0f5b8",
        "launched_at": "2015-02-27 15:31:24.473932",
        "deleted_at": "",
        "terminated_at": "",
        "created_at": "2015-02-27 15:27:18+00:00",
    }
    base.update(payload)
    return {
        "event_type": event_type,
        "message_id": message_id,
        "priority": "INFO",
        "publisher_id": "compute.compute-0042",
        "timestamp": timestamp,
        "_context_request_id": "req-028c51c6-e26e-4fd7-9347-bc1b2a7eb11a",
        "_context_tenant": "408577",
        "_context_project_id": "408577",
        "_context_user_id": "863985",
        "_context_timestamp": "2015-02-27T15:27:10.000000",
        "payload": base,
    }


CREATE_END = nova(
    "compute.instance.create.end",
    "379cbd38-cae6-44cd-ae8e-5fb05777d1e0",
    "2015-02-27 15:33:56.771932",
    message="Success",
    fixed_ips=[{"address": "10.0.0.3", "type": "fixed", "version": 4}],
)
EXISTS = nova(
    "compute.instance.exists",
    "a16aa892-6e62-47fd-8aee-5183ef71d605",
    "2015-02-28 00:27:18.603932",
    audit_period_beginning="2015-02-27 00:00:00",
    audit_period_ending="2015-02-28 00:00:00",
    bandwidth={"public": {"bw_in": 1024, "bw_out": 2048}},
)
DELETE_END = nova(
    "compute.instance.delete.end",
    "e1c5ec1c-946d-422f-a890-3248fdf58cc0",
    "2015-03-01T10:00:00.123456Z",
    state="deleted",
    deleted_at="2015-03-01T09:59:58.000000",
    terminated_at="2015-03-01T09:59:57.000000",
)
UPDATE = nova(
    "compute.instance.update",
    "b920513c-4dae-474c-b164-71e23349d131",
    "2015-03-04 22:31:08.131441",
    state="rescued",
    state_description="unrescuing",
    old_state="rescued",
    old_task_state=None,
    new_task_state="unrescuing",
    audit_period_beginning="2015-03-04T00:00:00.000000",
    audit_period_ending="2015-03-04T22:31:08.000000",
)


def values(event: Event | None) -> dict[str, Any]:
    assert event is not None
    return {name: trait.value for name, trait in event.traits.items()}


def distill(yaml_text: str, notification: dict[str, Any], **kw: Any) -> Event | None:
    return Distiller.from_yaml(yaml_text, now=lambda: NOW, **kw).to_event(notification)


def refused(yaml_text: str) -> str:
    with pytest.raises(TicklessError) as err:
        Distiller.from_yaml(yaml_text)
    assert err.value.code == INVALID
    return err.value.message


# --- the shipped Nova definitions -------------------------------------------------------------------


def test_default_create_end():
    event = Distiller.default().to_event(CREATE_END)
    assert event is not None
    assert event.message_id == "379cbd38-cae6-44cd-ae8e-5fb05777d1e0"
    assert event.event_type == "compute.instance.create.end"
    assert event.when == datetime(2015, 2, 27, 15, 33, 56, 771932, tzinfo=UTC)
    assert values(event) == {
        "service": "compute",
        "host": "compute-0042",
        "request_id": "req-028c51c6-e26e-4fd7-9347-bc1b2a7eb11a",
        "tenant_id": "408577",
        "user_id": "863985",
        "instance_id": "86def971-f2a2-4b1d-b379-fca1b0ddf0d7",
        "display_name": "Instance_358720",
        "message": "Success",
        "instance_type": "512MB Standard Instance",
        "instance_flavor": "512MB Standard Instance",
        "instance_flavor_id": "2",
        "instance_type_id": 2,
        "memory_mb": 512,
        "disk_gb": 20,
        "root_gb": 20,
        "ephemeral_gb": 0,
        "vcpus": 1,
        "state": "active",
        "state_description": "",
        "os_architecture": "x64",
        "os_version": "12.04",
        "os_distro": "com.ubuntu",
        "image_ref_url": "http://glance:9292/images/5b5d5aba-0c0b-4b8c-9b46-0b4a1fa0f5b8",
        "launched_at": datetime(2015, 2, 27, 15, 31, 24, 473932, tzinfo=UTC),
    }
    assert "deleted_at" not in event.traits  # Nova's '' for an unset date is no trait
    assert event.traits["memory_mb"] == Trait("memory_mb", TraitType.INT, 512)
    assert event.traits["launched_at"].type is TraitType.DATETIME
    assert event.traits["state"].type is TraitType.TEXT


def test_default_exists_has_the_audit_period():
    got = values(Distiller.default().to_event(EXISTS))
    assert got["audit_period_beginning"] == datetime(2015, 2, 27, tzinfo=UTC)
    assert got["audit_period_ending"] == datetime(2015, 2, 28, tzinfo=UTC)
    assert got["instance_id"] == "86def971-f2a2-4b1d-b379-fca1b0ddf0d7"
    assert got["launched_at"] == datetime(2015, 2, 27, 15, 31, 24, 473932, tzinfo=UTC)


def test_default_other_instance_events_have_no_audit_period():
    got = values(Distiller.default().to_event(CREATE_END))
    assert "audit_period_beginning" not in got


def test_default_delete_end_takes_deleted_at_first():
    event = Distiller.default().to_event(DELETE_END)
    assert event is not None
    assert event.when == datetime(2015, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert values(event)["deleted_at"] == datetime(2015, 3, 1, 9, 59, 58, tzinfo=UTC)
    assert values(event)["state"] == "deleted"
    only_terminated = copy.deepcopy(DELETE_END)
    only_terminated["payload"]["deleted_at"] = None
    assert values(Distiller.default().to_event(only_terminated))["deleted_at"] == datetime(
        2015, 3, 1, 9, 59, 57, tzinfo=UTC
    )


def test_default_update_has_state_changes():
    got = values(Distiller.default().to_event(UPDATE))
    assert got["state_description"] == "unrescuing"
    assert got["old_state"] == "rescued"
    assert got["new_task_state"] == "unrescuing"
    assert "old_task_state" not in got  # null
    assert got["audit_period_ending"] == datetime(2015, 3, 4, 22, 31, 8, tzinfo=UTC)


def test_default_resize_names_the_new_flavor():
    n = nova("compute.instance.resize.prep.start", "m-resize", "2015-03-04 22:31:08", new_instance_type="1GB")
    n["payload"]["new_instance_type_id"] = 3
    got = values(Distiller.default().to_event(n))
    assert (got["new_instance_type"], got["new_instance_type_id"]) == ("1GB", 3)


def test_default_drops_other_services():
    n = {"event_type": "image.upload", "message_id": "m", "timestamp": "2015-01-01", "payload": {}}
    assert Distiller.default().to_event(n) is None


def test_default_is_loaded_once():
    assert Distiller.default() is Distiller.default()


def test_event_as_dict_is_the_api_shape():
    event = Distiller.default().to_event(EXISTS)
    assert event is not None
    flat = event.as_dict()
    assert flat["message_id"] == EXISTS["message_id"]
    assert flat["event_type"] == "compute.instance.exists"
    assert flat["timestamp"] == event.when
    assert flat["vcpus"] == 1


# --- which definition ------------------------------------------------------------------------------

GENERAL_THEN_SPECIFIC = """
- event_type: compute.instance.*
  traits:
    which: {fields: payload.general}
- event_type: compute.instance.exists
  traits:
    which: {fields: payload.specific}
"""


def test_last_matching_definition_wins():
    n = {
        "event_type": "compute.instance.exists",
        "message_id": "m",
        "payload": {"general": "g", "specific": "s"},
    }
    assert values(distill(GENERAL_THEN_SPECIFIC, n))["which"] == "s"
    n["event_type"] = "compute.instance.update"
    assert values(distill(GENERAL_THEN_SPECIFIC, n))["which"] == "g"


def test_specific_first_is_hidden_by_a_later_wildcard():
    text = """
- event_type: compute.instance.exists
  traits: {which: {fields: payload.specific}}
- event_type: compute.instance.*
  traits: {which: {fields: payload.general}}
"""
    n = {
        "event_type": "compute.instance.exists",
        "message_id": "m",
        "payload": {"general": "g", "specific": "s"},
    }
    assert values(distill(text, n))["which"] == "g"


def test_exclusions():
    text = """
- event_type: ["compute.instance.*", "!compute.instance.exists", "!*.start"]
  traits: {}
"""
    d = Distiller.from_yaml(text)
    for event_type, taken in [
        ("compute.instance.update", True),
        ("compute.instance.exists", False),
        ("compute.instance.create.start", False),
        ("compute.instance.create.end", True),
        ("image.upload", False),
    ]:
        assert (d.to_event({"event_type": event_type, "message_id": "m"}) is not None) is taken, event_type


def test_only_exclusions_match_everything_else():
    d = Distiller.from_yaml("- {event_type: '!compute.*', traits: {}}")
    assert d.to_event({"event_type": "image.upload", "message_id": "m"}) is not None
    assert d.to_event({"event_type": "compute.instance.update", "message_id": "m"}) is None


def test_an_excluding_definition_falls_through_to_an_earlier_one():
    text = """
- event_type: "*"
  traits: {which: {fields: payload.a}}
- event_type: ["compute.*", "!compute.instance.exists"]
  traits: {which: {fields: payload.b}}
"""
    payload = {"a": "a", "b": "b"}
    assert (
        values(distill(text, {"event_type": "compute.x", "message_id": "m", "payload": payload}))["which"]
        == "b"
    )
    exists = {"event_type": "compute.instance.exists", "message_id": "m", "payload": payload}
    assert values(distill(text, exists))["which"] == "a"


def test_globs_are_shell_globs_and_case_sensitive():
    d = Distiller.from_yaml("- {event_type: ['compute.instance.?e*.end', 'volume.[abc]*'], traits: {}}")
    assert d.to_event({"event_type": "compute.instance.delete.end", "message_id": "m"}) is not None
    assert d.to_event({"event_type": "compute.instance.create.end", "message_id": "m"}) is None
    assert d.to_event({"event_type": "volume.attach", "message_id": "m"}) is not None
    assert d.to_event({"event_type": "Compute.instance.delete.end", "message_id": "m"}) is None


def test_unmatched_is_dropped_unless_catchall():
    n = {
        "event_type": "bogus.from.mars",
        "message_id": "m",
        "publisher_id": "mars.cydonia",
        "payload": {"x": 1},
    }
    text = "- {event_type: compute.*, traits: {}}"
    assert distill(text, n) is None
    event = distill(text, n, catchall=True)
    assert event is not None
    assert values(event) == {"service": "mars.cydonia"}  # only the default traits
    assert Distiller.from_yaml("[]").to_event(n) is None
    assert Distiller.from_yaml("[]", catchall=True).to_event(n) is not None


# --- traits ----------------------------------------------------------------------------------------


def test_default_traits_and_their_paths():
    n = {
        "event_type": "x",
        "message_id": "m",
        "publisher_id": "compute.host-1",
        "_context_request_id": "req-1",
        "_context_tenant": "ctx-tenant",
        "payload": {},
    }
    text = "- {event_type: x, traits: {}}"
    assert values(distill(text, n)) == {
        "service": "compute.host-1",
        "request_id": "req-1",
        "tenant_id": "ctx-tenant",
    }
    n["payload"] = {"tenant_id": "payload-tenant"}
    assert values(distill(text, n))["tenant_id"] == "payload-tenant"  # the payload's first
    assert values(distill(text, {"event_type": "x", "message_id": "m"})) == {}


def test_a_definition_redefines_a_default_trait():
    text = "- {event_type: x, traits: {service: {fields: publisher_id, plugin: split}}}"
    n = {"event_type": "x", "message_id": "m", "publisher_id": "compute.host-1"}
    assert values(distill(text, n)) == {"service": "compute"}


def test_fields_list_first_non_null_wins():
    text = """
- event_type: x
  traits:
    instance_id: {fields: [payload.instance_uuid, payload.instance_id, payload.nested.id]}
"""

    def got(payload: dict[str, Any]) -> Any:
        return values(distill(text, {"event_type": "x", "message_id": "m", "payload": payload})).get(
            "instance_id"
        )

    assert got({"instance_uuid": "u", "instance_id": "i"}) == "u"
    assert got({"instance_uuid": None, "instance_id": "i"}) == "i"
    assert got({"instance_id": "i"}) == "i"
    assert got({"nested": {"id": "n"}}) == "n"
    assert got({"instance_uuid": None, "nested": {"id": None}}) is None
    assert got({"instance_uuid": "", "instance_id": "i"}) == ""  # '' is a value for text


def test_jsonpath_syntax():
    text = """
- event_type: x
  traits:
    quoted: {fields: "payload.image_meta.'org.openstack__1__os_distro'"}
    bracket: {fields: "payload[host]"}
    index: {fields: "payload.fixed_ips[0].address"}
    wildcard: {fields: "payload.bandwidth.*.bw_in", type: int}
"""
    payload = {
        "image_meta": IMAGE_META,
        "host": "h1",
        "fixed_ips": [{"address": "10.0.0.3"}, {"address": "10.0.0.4"}],
        "bandwidth": {"public": {"bw_in": "1024"}},
    }
    got = values(distill(text, {"event_type": "x", "message_id": "m", "payload": payload}))
    assert got == {"quoted": "com.ubuntu", "bracket": "h1", "index": "10.0.0.3", "wildcard": 1024}


@pytest.mark.parametrize(
    ("trait_type", "raw", "expected"),
    [
        ("text", "abc", "abc"),
        ("text", 12, "12"),
        ("text", 1.5, "1.5"),
        ("text", True, "True"),
        ("text", "", ""),
        ("int", 20, 20),
        ("int", "20", 20),
        ("int", " 20 ", 20),
        ("int", 20.9, 20),
        ("int", "", None),
        ("float", "1.5", 1.5),
        ("float", 3, 3.0),
        ("float", "", None),
        ("datetime", "2013-08-08 21:06:37.803826", datetime(2013, 8, 8, 21, 6, 37, 803826, tzinfo=UTC)),
        ("datetime", "2013-08-08T21:06:37Z", datetime(2013, 8, 8, 21, 6, 37, tzinfo=UTC)),
        ("datetime", "2013-08-08T23:06:37+02:00", datetime(2013, 8, 8, 21, 6, 37, tzinfo=UTC)),
        ("datetime", "2013-08-08", datetime(2013, 8, 8, tzinfo=UTC)),
        ("datetime", "", None),
    ],
)
def test_types(trait_type: str, raw: Any, expected: Any):
    text = f"- {{event_type: x, traits: {{t: {{fields: payload.v, type: {trait_type}}}}}}}"
    got = values(distill(text, {"event_type": "x", "message_id": "m", "payload": {"v": raw}})).get("t")
    assert got == expected
    if expected is not None:
        assert type(got) is type(expected)


@pytest.mark.parametrize(
    ("trait_type", "raw"),
    [
        ("int", "abc"),
        ("int", "1.5"),
        ("int", [1]),
        ("float", "x"),
        ("float", "nan"),
        ("datetime", "yesterday"),
        ("datetime", 1424999999),
        ("datetime", "2015-02-30"),
    ],
)
def test_a_value_its_type_cannot_take_refuses_the_notification(trait_type: str, raw: Any):
    text = f"- {{event_type: x, traits: {{t: {{fields: payload.v, type: {trait_type}}}}}}}"
    with pytest.raises(TicklessError) as err:
        distill(text, {"event_type": "x", "message_id": "m-1", "payload": {"v": raw}})
    assert err.value.code == INVALID
    assert "m-1" in err.value.message
    assert "'t'" in err.value.message


def test_iso8601_forms():
    assert parse_datetime("2015") == datetime(2015, 1, 1, tzinfo=UTC)
    assert parse_datetime("2015-3") == datetime(2015, 3, 1, tzinfo=UTC)
    assert parse_datetime("20150304") == datetime(2015, 3, 4, tzinfo=UTC)
    assert parse_datetime("2015-03-04T05") == datetime(2015, 3, 4, 5, tzinfo=UTC)
    assert parse_datetime("2015-03-04T0506") == datetime(2015, 3, 4, 5, 6, tzinfo=UTC)
    assert parse_datetime("2015-03-04 05:06:07,5") == datetime(2015, 3, 4, 5, 6, 7, 500000, tzinfo=UTC)
    assert parse_datetime("2015-03-04T05:06:07.1234569") == datetime(2015, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    assert parse_datetime("2015-03-04T05:06-0130") == datetime(2015, 3, 4, 6, 36, tzinfo=UTC)
    assert parse_datetime("2015-03-04T05:06:07+05") == datetime(2015, 3, 4, 0, 6, 7, tzinfo=UTC)
    assert parse_datetime("2015-03-04T05:06:07+05").tzinfo is UTC
    for bad in [
        "201503",
        "15-03-04",
        "2015-03-04T5:06",
        "2015-03-04t05:06",
        " 2015-03-04",
        "2015-03-04T05:06:07 Z",
    ]:
        with pytest.raises(ValueError):
            parse_datetime(bad)


# --- when and the envelope -------------------------------------------------------------------------

ANY_X = "- {event_type: x, traits: {}}"


def test_when_prefers_timestamp_then_context_timestamp_then_now():
    at = datetime(2015, 2, 27, 15, 27, 18, 603932, tzinfo=UTC)
    ctx = "2015-02-27T16:00:00"
    base = {"event_type": "x", "message_id": "m"}
    assert (
        distill(ANY_X, {**base, "timestamp": "2015-02-27 15:27:18.603932", "_context_timestamp": ctx}).when
        == at
    )
    assert distill(ANY_X, {**base, "_context_timestamp": ctx}).when == datetime(2015, 2, 27, 16, tzinfo=UTC)
    assert distill(ANY_X, base).when == NOW
    # A `timestamp` key that is null or empty means now, not the context's.
    assert distill(ANY_X, {**base, "timestamp": None, "_context_timestamp": ctx}).when == NOW
    assert distill(ANY_X, {**base, "timestamp": "", "_context_timestamp": ctx}).when == NOW
    offset = distill(ANY_X, {**base, "timestamp": "2015-02-27T10:27:18.603932-05:00"}).when
    assert offset == at and offset.tzinfo is UTC


def test_default_clock_is_utc_now():
    before = datetime.now(UTC)
    event = Distiller.from_yaml(ANY_X).to_event({"event_type": "x", "message_id": "m"})
    assert event is not None and before <= event.when <= datetime.now(UTC) + timedelta(seconds=1)
    assert event.when.tzinfo is UTC


@pytest.mark.parametrize(
    "notification",
    [
        {"message_id": "m"},
        {"event_type": 7, "message_id": "m"},
        {"event_type": "x"},
        {"event_type": "x", "message_id": ""},
        {"event_type": "x", "message_id": 12},
        {"event_type": "x", "message_id": "m", "timestamp": "not a date"},
        {"event_type": "x", "message_id": "m", "timestamp": 1424999999},
        ["not", "an", "object"],
    ],
)
def test_malformed_notifications_are_refused(notification: Any):
    with pytest.raises(TicklessError) as err:
        Distiller.from_yaml(ANY_X).to_event(notification)
    assert err.value.code == INVALID


def test_missing_message_id_is_refused_even_when_nothing_matches():
    with pytest.raises(TicklessError):
        Distiller.from_yaml(ANY_X).to_event({"event_type": "unmatched"})


# --- plugins ---------------------------------------------------------------------------------------


def test_split_plugin():
    text = """
- event_type: x
  traits:
    service: {fields: publisher_id, plugin: split}
    host:
      fields: publisher_id
      plugin: {name: split, parameters: {segment: 1, max_split: 1}}
    last:
      fields: publisher_id
      plugin: {name: split, parameters: {separator: "-", segment: -1}}
    missing:
      fields: publisher_id
      plugin: {name: split, parameters: {segment: 5}}
    number:
      type: int
      fields: payload.version
      plugin: {name: split, parameters: {segment: 0}}
"""
    n = {
        "event_type": "x",
        "message_id": "m",
        "publisher_id": "compute.host-1.example.com",
        "payload": {"version": 2.5},
    }
    got = values(distill(text, n))
    assert got["service"] == "compute"
    assert got["host"] == "host-1.example.com"
    assert got["last"] == "1.example.com"
    assert "missing" not in got
    assert got["number"] == 2  # str(2.5) split on "."


def test_split_unit():
    assert Split().trait_value([]) is None
    assert Split(separator=None, segment=1).trait_value([("p", "a  b c")]) == "b"
    assert Split(segment=-4).trait_value([("p", "a.b.c")]) is None


def test_bitfield_plugin():
    text = """
- event_type: x
  traits:
    flags:
      type: int
      fields: [payload.state, payload.image_meta.*, "payload.fixed_ips[0].address"]
      plugin:
        name: bitfield
        parameters:
          initial_bitfield: 256
          flags:
            - {path: payload.state, bit: 0, value: active}
            - {path: payload.state, bit: 1, value: deleted}
            - {path: payload.image_meta.org.openstack__1__os_distro, bit: 2}
            - {path: "payload.fixed_ips.[0].address", bit: "3"}
            - {path: payload.nothere, bit: 4}
"""
    n = {
        "event_type": "x",
        "message_id": "m",
        "payload": {"state": "active", "image_meta": IMAGE_META, "fixed_ips": [{"address": "10.0.0.3"}]},
    }
    assert values(distill(text, n))["flags"] == 256 | 1 | 4 | 8
    bare = {"event_type": "x", "message_id": "m"}
    assert values(distill(text, bare))["flags"] == 256  # a plugin runs even when nothing matched


def test_bitfield_unit():
    plugin = Bitfield.from_parameters({"flags": [{"path": "a", "bit": 1, "value": None}]})
    assert plugin.trait_value([("a", 5)]) == 0
    assert Bitfield.from_parameters({}).trait_value([("a", 1)]) == 0


def test_a_plugin_returning_nothing_drops_the_trait():
    text = "- {event_type: x, traits: {t: {fields: payload.absent, plugin: split}}}"
    assert "t" not in values(distill(text, {"event_type": "x", "message_id": "m"}))


# --- invalid definition files ----------------------------------------------------------------------


P = "- {event_type: x, traits: {a: {fields: p, plugin: "  # a trait with a plugin, up to the plugin


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("- event_type: x\n  traits: {a: [unclosed\n", "line"),
        ("", "list"),
        ("{event_type: x, traits: {}}", "list"),
        ("- [x]", "mapping"),
        ("- {traits: {}}", "'event_type' is required"),
        ("- {event_type: x}", "'traits' is required"),
        ("- {event_type: x, traits: [a]}", "'traits' must be a mapping"),
        ("- {event_type: [x, 3], traits: {}}", "'event_type'"),
        ("- {event_type: x, traits: {a: payload.a}}", "trait 'a'"),
        ("- {event_type: x, traits: {a: {type: int}}}", "'fields' is required"),
        ("- {event_type: x, traits: {a: {fields: []}}}", "'fields'"),
        ("- {event_type: x, traits: {a: {fields: 'payload.[['}}}", "bad jsonpath"),
        ("- {event_type: x, traits: {a: {fields: p, type: date}}}", "unknown type 'date'"),
        ("- {event_type: x, traits: {a: {fields: p, plugin: upper}}}", "no plugin named 'upper'"),
        ("- {event_type: x, traits: {a: {fields: p, plugin: {parameters: {}}}}}", "'name'"),
        ("- {event_type: x, traits: {a: {fields: p, plugin: {name: split, parameters: [1]}}}}", "parameters"),
        (P + "{name: split, parameters: {segment: a}}}}}", "segment"),
        (P + "{name: split, parameters: {separator: ''}}}}}", "separator"),
        (P + "{name: bitfield, parameters: {flags: [{bit: 1}]}}}}}", "path"),
        (P + "{name: bitfield, parameters: {flags: [{path: p, bit: -1}]}}}}}", "bit"),
        (P + "{name: bitfield, parameters: {flags: 3}}}}}", "flags"),
    ],
)
def test_invalid_definitions_are_refused_naming_the_problem(text: str, says: str):
    assert says in refused(text)


def test_the_refusal_says_where():
    text = """
- event_type: compute.instance.*
  traits: {ok: {fields: payload.ok}}
- event_type: compute.instance.exists
  traits:
    launched_at: {fields: payload.launched_at, type: timestamp}
"""
    message = refused(text)
    assert "event definition 2 (compute.instance.exists)" in message
    assert "trait 'launched_at'" in message


def test_yaml_merge_keys():
    text = """
- event_type: a.*
  traits: &base
    one: {fields: payload.one}
- event_type: a.b
  traits:
    <<: *base
    two: {fields: payload.two}
"""
    got = values(distill(text, {"event_type": "a.b", "message_id": "m", "payload": {"one": "1", "two": "2"}}))
    assert (got["one"], got["two"]) == ("1", "2")


# --- robustness ------------------------------------------------------------------------------------

json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
maybe_date = (
    st.sampled_from(["", "2015-02-27 15:27:18.603932", "2015-02-30", "20150227T1527+0100"]) | json_value
)
payload_fields = st.fixed_dictionaries(
    {},
    optional={
        key: maybe_date if key.endswith("_at") or key.startswith("audit") else json_value
        for key in [
            "tenant_id",
            "instance_id",
            "memory_mb",
            "vcpus",
            "state",
            "launched_at",
            "deleted_at",
            "terminated_at",
            "audit_period_beginning",
            "audit_period_ending",
            "image_meta",
            "new_instance_type_id",
        ]
    },
)
# A realistic Nova payload with some fields replaced, some fields alone, or any JSON.
payload = (
    st.builds(lambda extra: {**EXISTS["payload"], **extra}, payload_fields) | payload_fields | json_value
)
NOVA_TYPES = ["compute.instance.create.end", "compute.instance.exists", "compute.instance.update"]
envelope = {
    "timestamp": maybe_date,
    "_context_timestamp": maybe_date,
    "publisher_id": json_value,
    "_context_request_id": json_value,
    "_context_tenant": json_value,
    "payload": payload,
}
# Well-formed envelopes, so most examples reach the traits.
notification = st.fixed_dictionaries(
    {
        "event_type": st.sampled_from([*NOVA_TYPES, "image.upload"]),
        "message_id": st.text(min_size=1, max_size=8),
    },
    optional=envelope,
)
# Anything in the envelope too.
any_notification = (
    st.fixed_dictionaries({}, optional={"event_type": json_value, "message_id": json_value, **envelope})
    | json_value
)


@settings(max_examples=300, deadline=None)
@given(notification | any_notification)
def test_any_notification_gives_a_clean_result(n: Any):
    try:
        event = Distiller.default().to_event(n)
    except TicklessError as err:
        assert err.code == INVALID
        return
    if event is None:
        return
    assert isinstance(event.message_id, str) and event.message_id
    assert event.when.tzinfo is UTC
    python_types = {
        TraitType.TEXT: str,
        TraitType.INT: int,
        TraitType.FLOAT: float,
        TraitType.DATETIME: datetime,
    }
    for name, trait in event.traits.items():
        assert trait.name == name
        assert type(trait.value) is python_types[trait.type]
        if trait.type is TraitType.DATETIME:
            assert trait.value.tzinfo is UTC


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_any_definition_text_loads_or_is_refused_cleanly(text: str):
    try:
        Distiller.from_yaml(text)
    except TicklessError as err:
        assert err.code == INVALID
