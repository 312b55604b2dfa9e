"""Winchester trigger definitions: loading, matching, distinguishing, expiry and fire criteria."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.stacktach.timex import TimeRange
from chalicelib.stacktach.triggers import (
    HandlerConfig,
    default_pipelines,
    default_triggers,
    load_pipelines,
    load_triggers,
    unknown_pipelines,
)

INSTANCE = "86def971-f2a2-4b1d-b379-fca1b0ddf0d7"


@dataclass(frozen=True)
class Trait:
    value: Any


@dataclass(frozen=True)
class Event:
    event_type: str
    when: datetime
    traits: dict[str, Any] = field(default_factory=dict)
    message_id: str = "m"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def nova(event_type: str, when: str, **traits: Any) -> Event:
    values = {"instance_id": INSTANCE, "tenant_id": "408577", "memory_mb": 512, "os_distro": "com.ubuntu"}
    values.update(traits)
    return Event(event_type, at(when), {k: Trait(v) for k, v in values.items()})


TRIGGERS = """
- name: instance_day
  distinguished_by:
  - instance_id
  - timestamp: "day"
  expiration: "$last + 1h"
  fire_delay: 30
  fire_pipeline: usage_fire
  expire_pipeline: usage_expire
  match_criteria:
  - event_type:
    - compute.instance.*
    - "!compute.instance.exists"
  - event_type: compute.instance.exists
    map_distinguished_by:
      timestamp: audit_period_beginning
  fire_criteria:
  - event_type: compute.instance.exists
"""


@pytest.fixture
def trigger():
    (definition,) = load_triggers(TRIGGERS)
    return definition


def test_loads_winchester_yaml(trigger) -> None:
    assert trigger.name == "instance_day"
    assert [d.trait for d in trigger.distinguished_by] == ["instance_id", "timestamp"]
    assert trigger.fire_pipeline == "usage_fire"
    assert trigger.expire_pipeline == "usage_expire"
    assert trigger.fire_delay == 30
    assert trigger.config["expiration"] == "$last + 1h"


def test_event_type_globs_and_exclusions(trigger) -> None:
    assert trigger.match(nova("compute.instance.update", "2015-02-27T15:27:18"))
    assert trigger.match(nova("compute.instance.create.end", "2015-02-27T15:33:56"))
    assert not trigger.match(nova("image.upload", "2015-02-27T15:27:18"))
    # excluded by the first criteria, matched by the second
    exists = nova("compute.instance.exists", "2015-02-28T00:27:18", audit_period_beginning=at("2015-02-27"))
    assert trigger.matching_criteria(exists) is trigger.match_criteria[1]


def test_distinguishing_traits_with_day_range(trigger) -> None:
    traits = trigger.distinguishing(nova("compute.instance.update", "2015-02-27T15:27:18.603932"))
    assert traits == {
        "instance_id": INSTANCE,
        "timestamp": TimeRange(at("2015-02-27T00:00:00"), at("2015-02-28T00:00:00")),
    }
    assert traits["timestamp"].to_json() == {
        "__type__": "timex.TimeRange",
        "begin": "2015-02-27T00:00:00",
        "end": "2015-02-28T00:00:00",
    }


def test_map_distinguished_by_files_the_audit_under_its_day(trigger) -> None:
    update = nova("compute.instance.update", "2015-02-27T15:27:18")
    exists = nova("compute.instance.exists", "2015-02-28T00:27:18", audit_period_beginning=at("2015-02-27"))
    assert trigger.distinguishing(exists) == trigger.distinguishing(update)


def test_missing_distinguishing_trait_skips_the_event(trigger) -> None:
    event = Event("compute.instance.update", at("2015-02-27T15:27:18"), {"tenant_id": Trait("1")})
    assert trigger.distinguishing(event) is None
    assert not trigger.match(event)
    # the mapped trait missing: Winchester would fail on it, the event is skipped instead
    exists = nova("compute.instance.exists", "2015-02-28T00:27:18")
    assert trigger.distinguishing(exists) is None


def test_flat_winchester_events_are_accepted(trigger) -> None:
    flat = {"event_type": "compute.instance.update", "timestamp": at("2015-02-27T01:00"), "instance_id": "i"}
    assert trigger.distinguishing(flat)["instance_id"] == "i"


def test_expiration_is_recomputed_from_last(trigger) -> None:
    first = at("2015-02-27T15:27:18")
    assert trigger.expiration(first, first) == at("2015-02-27T16:27:18")
    assert trigger.expiration(first, at("2015-02-28T00:27:18")) == at("2015-02-28T01:27:18")


def test_fire_criteria_and_delay(trigger) -> None:
    update = nova("compute.instance.update", "2015-02-27T15:27:18")
    exists = nova("compute.instance.exists", "2015-02-28T00:27:18", audit_period_beginning=at("2015-02-27"))
    assert not trigger.should_fire([update, update])
    assert trigger.should_fire([update, exists])
    assert trigger.fire_hits(update) == (0,)
    assert trigger.fire_hits(exists) == (1,)
    assert trigger.fire_timestamp(at("2015-02-28T00:30:00")) == at("2015-02-28T00:30:30")


def test_fire_criteria_number() -> None:
    (definition,) = load_triggers(
        """
- name: three_updates
  distinguished_by: [instance_id]
  expiration: "$first + 1d"
  fire_pipeline: p
  match_criteria: [{event_type: compute.instance.*}]
  fire_criteria:
  - {event_type: compute.instance.update, number: 3}
  - {event_type: compute.instance.create.end}
"""
    )
    update = nova("compute.instance.update", "2015-02-27T15:27:18")
    end = nova("compute.instance.create.end", "2015-02-27T15:33:56")
    assert not definition.should_fire([update, update, end])
    assert not definition.should_fire([update, update, update])
    assert definition.should_fire([update, end, update, update])
    assert definition.counts_fire([3, 1])
    assert not definition.counts_fire([3, 0])
    assert definition.expiration(at("2015-02-27T10:00"), at("2015-02-27T11:00")) == at("2015-02-28T10:00")


TYPED = """
- name: typed
  expiration: "$last + 1h"
  fire_pipeline: p
  fire_criteria: []
  match_criteria:
  - event_type: compute.instance.*
    traits:
      os_distro: com.ubuntu
      memory_mb: {int: "> 4096"}
      vcpus: {int: ">= 2"}
      disk_gb: {int: 20}
      ratio: {float: "< 0.5"}
      state: {string: active}
      launched_at: {datetime: "$timestamp - 1d to $timestamp"}
"""


def typed_event(**changes: Any) -> Event:
    traits = {
        "memory_mb": 8192,
        "vcpus": 2,
        "disk_gb": 20,
        "ratio": 0.25,
        "state": "active",
        "launched_at": at("2015-02-27T12:00:00"),
    }
    traits.update(changes)
    return nova("compute.instance.update", "2015-02-27T15:00:00", **traits)


@pytest.mark.parametrize(
    ("changes", "matches"),
    [
        ({}, True),
        ({"os_distro": "org.centos"}, False),
        ({"memory_mb": 4096}, False),
        ({"memory_mb": "8192"}, False),  # typed: a string is not greater than a number
        ({"vcpus": 1}, False),
        ({"disk_gb": 40}, False),
        ({"ratio": 0.5}, False),
        ({"state": "building"}, False),
        ({"launched_at": at("2015-02-25T12:00:00")}, False),
        ({"launched_at": "2015-02-27T12:00:00"}, False),
    ],
)
def test_typed_trait_criteria(changes: dict[str, Any], matches: bool) -> None:
    (definition,) = load_triggers(TYPED)
    assert definition.match(typed_event(**changes)) is matches
    assert definition.should_fire([])  # no fire criteria: nothing to wait for


def test_missing_trait_does_not_match() -> None:
    (definition,) = load_triggers(TYPED)
    event = typed_event()
    del event.traits["vcpus"]
    assert not definition.match(event)


def test_timestamp_condition_on_criteria() -> None:
    (definition,) = load_triggers(
        """
- name: late_audit
  expiration: "$last + 1h"
  expire_pipeline: p
  fire_criteria: []
  match_criteria:
  - event_type: compute.instance.exists
    timestamp: "$audit_period_ending to $audit_period_ending + 1h"
"""
    )
    ending = {"audit_period_ending": at("2015-02-28T00:00:00")}
    assert definition.match(nova("compute.instance.exists", "2015-02-28T00:27:18", **ending))
    assert not definition.match(nova("compute.instance.exists", "2015-02-28T02:00:00", **ending))
    # the expression names a trait the event lacks: no match
    assert not definition.match(nova("compute.instance.exists", "2015-02-28T00:27:18"))


@pytest.mark.parametrize(
    ("yaml_text", "fragment"),
    [
        ("- {expiration: '$last + 1h'}", "'name'"),
        ("- {name: t, fire_pipeline: p, match_criteria: [], fire_criteria: []}", "'expiration'"),
        ("- {name: t, expiration: '$last', match_criteria: [], fire_criteria: []}", "fire_pipeline"),
        ("- {name: t, expiration: '$last', fire_pipeline: p, fire_criteria: []}", "'match_criteria'"),
        (
            "- {name: t, expiration: '$last +', fire_pipeline: p, match_criteria: [], fire_criteria: []}",
            "expiration",
        ),
        (
            "- {name: t, expiration: '$last', fire_pipeline: p, match_criteria: [], fire_criteria: [],"
            " distinguished_by: [{a: day, b: day}]}",
            "distinguished_by",
        ),
        (
            "- {name: t, expiration: '$last', fire_pipeline: p, fire_criteria: [],"
            " match_criteria: [{traits: {m: {numeric: '> 1'}}}]}",
            "match_criteria[0].traits.m",
        ),
        (
            "- {name: t, expiration: '$last', fire_pipeline: p, fire_criteria: [],"
            " match_criteria: [{traits: {m: {int: '~ 1'}}}]}",
            "comparison",
        ),
        (
            "- {name: t, expiration: '$last', fire_pipeline: p, match_criteria: [],"
            " fire_criteria: [{number: 0}]}",
            "fire_criteria[0].number",
        ),
        (
            "- {name: t, expiration: '$last', fire_pipeline: p, match_criteria: [], fire_criteria: [],"
            " fire_delay: -1}",
            "fire_delay",
        ),
        ("[a, b", "YAML"),
        ("name: t", "list"),
    ],
)
def test_invalid_definitions_name_trigger_and_field(yaml_text: str, fragment: str) -> None:
    with pytest.raises(TicklessError) as err:
        load_triggers(yaml_text)
    assert err.value.code == "invalid"
    assert fragment in err.value.message
    if "name: t" in yaml_text and "{" in yaml_text:
        assert "trigger 't'" in err.value.message


def test_duplicate_trigger_names() -> None:
    one = "{name: t, expiration: '$last', fire_pipeline: p, match_criteria: [], fire_criteria: []}"
    with pytest.raises(TicklessError, match="defined twice"):
        load_triggers(f"- {one}\n- {one}")


def test_empty_file() -> None:
    assert load_triggers("") == []


def test_pipelines() -> None:
    pipelines = load_pipelines("fire:\n  - logger\n  - name: publish\n    params: {env_keys: [a]}\n")
    assert pipelines == {"fire": (HandlerConfig("logger"), HandlerConfig("publish", {"env_keys": ["a"]}))}
    with pytest.raises(TicklessError, match="unknown handler 'notabene'"):
        load_pipelines("fire: [notabene]")
    with pytest.raises(TicklessError, match="handler name missing"):
        load_pipelines("fire: [{params: {}}]")


def test_defaults_load_and_agree() -> None:
    triggers, pipelines = default_triggers(), default_pipelines()
    assert [t.name for t in triggers] == ["instance_day"]
    assert unknown_pipelines(triggers, pipelines) == []
    assert {h.name for steps in pipelines.values() for h in steps} == {"logger", "usage"}
    (instance_day,) = triggers
    start = nova("compute.instance.create.start", "2015-02-27T15:33:22")
    exists = nova("compute.instance.exists", "2015-02-28T00:27:18", audit_period_beginning=at("2015-02-27"))
    assert instance_day.distinguishing(start) == instance_day.distinguishing(exists)
    assert instance_day.should_fire([start, exists])
    assert instance_day.expiration(start.when, exists.when) == exists.when + timedelta(hours=1)
    # the usage handler's events, fed back through ingest, join no stream
    for kind in ("compute.instance.exists.verified", "compute.instance.exists.failed"):
        assert not instance_day.match(nova(kind, "2015-02-28T00:30:00"))


def test_works_with_the_distillers_events() -> None:
    from chalicelib.stacktach import distiller

    (definition,) = load_triggers(TRIGGERS)
    trait = distiller.Trait("instance_id", distiller.TraitType("text"), INSTANCE)
    event = distiller.Event(
        "id-1", "compute.instance.update", at("2015-02-27T15:27:18"), {"instance_id": trait}
    )
    assert definition.distinguishing(event) == {
        "instance_id": INSTANCE,
        "timestamp": TimeRange(at("2015-02-27T00:00:00"), at("2015-02-28T00:00:00")),
    }
