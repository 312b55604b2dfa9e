"""Kapacitor's AlertNode state machine, checked against its integration tests' expectations."""

from __future__ import annotations

import json

import pytest

from chalicelib.alert.events import Level
from chalicelib.alert.levels import LevelRules, level_name, parse_level
from chalicelib.alert.messages import AlertTemplates, ServerInfo
from chalicelib.alert.state import (
    AlertBatch,
    AlertNode,
    AlertPoint,
    AlertSettings,
    AlertState,
    BatchPoint,
)
from chalicelib.kit.errors import TicklessError

S = 10**9
T1971 = 31_536_000 * S  # 1971-01-01T00:00:00Z, where Kapacitor's replayed test data starts


def below(field: str, limit: float):
    return lambda p: p.fields[field] < limit


def above(field: str, limit: float):
    return lambda p: p.fields[field] > limit


def stream(node: AlertNode, values: list[float], tags: dict[str, str] | None = None, group: str = ""):
    state = node.new_state()
    outcomes = []
    for i, value in enumerate(values):
        point = AlertPoint(
            "cpu", group, tags or {"host": "serverA", "type": "idle"}, {"value": value}, T1971 + i * S
        )
        outcomes.append(node.point(state, point))
    return state, outcomes


# the points of TestStream_AlertFlapping, TestStream_AlertStateChangesOnly(Expired)
IDLE = [97.1, 92.6, 95.6, 93.1, 92.6, 95.8, 92.7, 96.0, 93.4, 95.3, 92.4, 95.1]


def test_flapping_drops_alerts_as_kapacitor() -> None:
    rules = LevelRules(
        {
            Level.INFO: below("value", 95),
            Level.WARNING: below("value", 94),
            Level.CRITICAL: below("value", 93),
        }
    )
    node = AlertNode(
        "t", "alert2", rules, settings=AlertSettings(use_flapping=True, flap_low=0.25, flap_high=0.5)
    )
    _, outcomes = stream(node, IDLE)
    assert sum(o.event is not None for o in outcomes) == 9  # TestStream_AlertFlapping


def test_state_changes_only() -> None:
    rules = LevelRules({Level.CRITICAL: below("value", 93)})
    node = AlertNode("t", "alert2", rules, settings=AlertSettings(state_changes_only=True))
    _, outcomes = stream(node, IDLE)
    assert sum(o.event is not None for o in outcomes) == 8  # TestStream_AlertStateChangesOnly


def test_state_changes_only_with_interval() -> None:
    # TestStream_AlertStateChangesOnlyExpired: crit below 97, .stateChangesOnly(2s), details('').
    values = [97.1, 92.6, 95.6, 93.1, 92.6, 95.8, 92.7, 96.0, 93.4, 95.3, 98.4, 97.1]
    rules = LevelRules({Level.CRITICAL: below("value", 97)})
    node = AlertNode(
        "t",
        "alert2",
        rules,
        AlertTemplates.parse(details=""),
        AlertSettings(state_changes_only=True, state_changes_only_max_interval=2 * S),
    )
    _, outcomes = stream(node, values)
    events = [o.event for o in outcomes if o.event]
    got = [(e.time - T1971, e.duration, e.level, e.previous_level, e.message) for e in events]
    assert got == [
        (1 * S, 0, Level.CRITICAL, Level.OK, "cpu:nil is CRITICAL"),
        (3 * S, 2 * S, Level.CRITICAL, Level.CRITICAL, "cpu:nil is CRITICAL"),
        (5 * S, 4 * S, Level.CRITICAL, Level.CRITICAL, "cpu:nil is CRITICAL"),
        (7 * S, 6 * S, Level.CRITICAL, Level.CRITICAL, "cpu:nil is CRITICAL"),
        (9 * S, 8 * S, Level.CRITICAL, Level.CRITICAL, "cpu:nil is CRITICAL"),
        (10 * S, 9 * S, Level.OK, Level.CRITICAL, "cpu:nil is OK"),
    ]
    assert all(e.details == "" for e in events)


def test_levels_with_resets() -> None:
    # TestStream_Alert_WithReset_0 (host serverA).
    values = [45.0, 40.0, 30.0, 9.0, 45.0, 61.0, 30.0, 19.0, 45.0, 61.0, 81.0, 29.0]
    rules = LevelRules(
        {
            Level.INFO: above("value", 40),
            Level.WARNING: above("value", 60),
            Level.CRITICAL: above("value", 80),
        },
        {
            Level.INFO: below("value", 10),
            Level.WARNING: below("value", 20),
            Level.CRITICAL: below("value", 30),
        },
    )
    node = AlertNode(
        "t",
        "alert2",
        rules,
        AlertTemplates.parse(id='kapacitor/{{ .Name }}/{{ index .Tags "host" }}', details="details"),
        AlertSettings(id_field="id", id_tag="id", level_field="level", level_tag="level"),
    )
    _, outcomes = stream(node, values, {"host": "serverA", "type": "usage"}, "host=serverA")
    events = [o.event for o in outcomes if o.event]
    got = [(e.time - T1971, e.duration // S, e.level.name, e.previous_level.name) for e in events]
    assert got == [
        (0, 0, "INFO", "OK"),
        (1 * S, 1, "INFO", "INFO"),
        (2 * S, 2, "INFO", "INFO"),
        (3 * S, 3, "OK", "INFO"),
        (4 * S, 0, "INFO", "OK"),
        (5 * S, 1, "WARNING", "INFO"),
        (6 * S, 2, "WARNING", "WARNING"),
        (7 * S, 3, "OK", "WARNING"),
        (8 * S, 0, "INFO", "OK"),
        (9 * S, 1, "WARNING", "INFO"),
        (10 * S, 2, "CRITICAL", "WARNING"),
        (11 * S, 3, "OK", "CRITICAL"),
    ]
    first = events[0]
    assert first.id == "kapacitor/cpu/serverA"
    assert first.message == "kapacitor/cpu/serverA is INFO"
    assert first.details == "details"
    assert first.data == {
        "series": [
            {
                "name": "cpu",
                "tags": {"host": "serverA", "type": "usage"},
                "columns": ["time", "value"],
                "values": [["1971-01-01T00:00:00Z", 45.0]],
            }
        ]
    }
    last = outcomes[-1].output
    assert isinstance(last, AlertPoint)
    assert last.tags == {"host": "serverA", "type": "usage", "level": "OK", "id": "kapacitor/cpu/serverA"}
    assert last.fields == {"value": 29.0, "level": "OK", "id": "kapacitor/cpu/serverA"}


def test_ok_points_without_change_send_nothing_and_forward_nothing() -> None:
    node = AlertNode("t", "alert2", LevelRules({Level.CRITICAL: above("value", 90)}))
    _, outcomes = stream(node, [10.0, 95.0, 96.0, 10.0, 11.0])
    assert [o.event.level.name if o.event else None for o in outcomes] == [
        None,
        "CRITICAL",
        "CRITICAL",
        "OK",
        None,
    ]
    assert outcomes[0].output is None and outcomes[1].output is not None


def test_no_recoveries() -> None:
    node = AlertNode(
        "t",
        "alert2",
        LevelRules({Level.CRITICAL: above("value", 90)}),
        settings=AlertSettings(no_recoveries=True),
    )
    _, outcomes = stream(node, [95.0, 10.0, 95.0])
    events = [o.event for o in outcomes]
    assert events[1] is None and outcomes[1].output is None
    assert events[0] and events[0].recoverable is False
    # the recovery still ends the incident: the next alert starts a new one
    assert events[2] and events[2].duration == 0 and events[2].previous_level == Level.CRITICAL


def test_default_templates_and_details() -> None:
    node = AlertNode(
        "cpu_alert",
        "alert2",
        LevelRules({Level.CRITICAL: above("count", 8)}),
        AlertTemplates.parse(
            id='kapacitor/{{ .Name }}/{{ index .Tags "host" }}', message="{{ .Level }} alert for {{ .ID }}"
        ),
        server=ServerInfo("host1", "c1", "s1"),
    )
    state = node.new_state()
    out = node.point(
        state, AlertPoint("cpu", "host=serverA", {"host": "serverA"}, {"count": 10.0}, T1971 + 10 * S)
    )
    assert out.event is not None
    expected = (
        '{"Name":"cpu","TaskName":"cpu_alert","Group":"host=serverA","Tags":{"host":"serverA"},'
        '"ServerInfo":{"Hostname":"host1","ClusterID":"c1","ServerID":"s1"},"ID":"kapacitor/cpu/serverA",'
        '"Fields":{"count":10},"Level":"CRITICAL","Time":"1971-01-01T00:00:10Z","Duration":0,'
        '"Message":"CRITICAL alert for kapacitor/cpu/serverA"}\n'
    )
    assert out.event.details == expected.replace('"', "&#34;")  # TestStream_AlertPagerDuty
    assert out.event.message == "CRITICAL alert for kapacitor/cpu/serverA"
    assert AlertNode("t", "a", LevelRules()).event_id("cpu", "", {}) == "cpu:nil"


def test_duration_field_and_message_field() -> None:
    node = AlertNode(
        "t",
        "alert2",
        LevelRules({Level.WARNING: above("value", 50)}),
        settings=AlertSettings(duration_field="duration", message_field="msg"),
    )
    _, outcomes = stream(node, [60.0, 70.0])
    out = outcomes[1].output
    assert isinstance(out, AlertPoint)
    assert out.fields == {"value": 70.0, "duration": S, "msg": "cpu:nil is WARNING"}


def batch(points: list[tuple[int, float]], time: int) -> AlertBatch:
    return AlertBatch(
        "cpu", "host=serverA", {"host": "serverA"}, T1971 + time * S,
        [BatchPoint(T1971 + t * S, {"value": v}, {"host": "serverA"}) for t, v in points],
    )  # fmt: skip


def test_batch_takes_highest_level_point() -> None:
    rules = LevelRules({Level.WARNING: above("value", 50), Level.CRITICAL: above("value", 90)})
    node = AlertNode("t", "alert2", rules, AlertTemplates.parse(message="{{ .Fields.value }}"))
    state = node.new_state()
    out = node.batch(state, batch([(1, 60.0), (2, 95.0), (3, 96.0), (4, 10.0)], 5))
    assert out.event is not None
    assert out.event.level == Level.CRITICAL
    assert out.event.time == T1971 + 2 * S  # the first point at the highest level
    assert out.event.message == "95"
    assert out.event.data["series"][0]["values"][3] == ["1971-01-01T00:00:04Z", 10.0]
    assert out.output is not None
    # recovery: stamped with the batch time
    out = node.batch(state, batch([(6, 1.0)], 7))
    assert out.event and out.event.level == Level.OK and out.event.time == T1971 + 7 * S
    assert node.batch(state, batch([], 8)) == type(out)()


def test_batch_all_takes_lowest_level() -> None:
    rules = LevelRules({Level.CRITICAL: above("value", 90)})
    node = AlertNode("t", "alert2", rules, settings=AlertSettings(all=True))
    state = node.new_state()
    assert node.batch(state, batch([(1, 95.0), (2, 10.0)], 3)).event is None
    out = node.batch(state, batch([(4, 95.0), (5, 99.0)], 6))
    assert out.event and out.event.level == Level.CRITICAL and out.event.time == T1971 + 6 * S


def test_batch_decorates_points_and_group_tags() -> None:
    node = AlertNode(
        "t",
        "alert2",
        LevelRules({Level.CRITICAL: above("value", 90)}),
        settings=AlertSettings(level_tag="lvl"),
    )
    out = node.batch(node.new_state(), batch([(1, 95.0)], 2))
    assert isinstance(out.output, AlertBatch)
    assert out.output.tags == {"host": "serverA", "lvl": "CRITICAL"}
    assert out.output.points[0].tags == {"host": "serverA", "lvl": "CRITICAL"}


def test_predicate_errors_do_not_match() -> None:
    def broken(_: object) -> bool:
        raise TicklessError("invalid", "no field")

    seen: list[str] = []
    rules = LevelRules({Level.CRITICAL: broken, Level.WARNING: above("value", 1)})
    assert rules.determine(
        AlertPoint("m", "", {}, {"value": 5}, 0), Level.OK, lambda m, e: seen.append(m)
    ) == (Level.WARNING)
    assert seen == ["error evaluating expression for level CRITICAL"]


def test_state_round_trips_through_json() -> None:
    node = AlertNode("t", "alert2", LevelRules({Level.CRITICAL: above("value", 90)}))
    state, _ = stream(node, [95.0, 96.0])
    restored = AlertState.from_state(json.loads(json.dumps(state.to_state())))
    assert restored == state
    out = node.point(restored, AlertPoint("cpu", "", {}, {"value": 10.0}, T1971 + 5 * S))
    assert out.event and out.event.duration == 5 * S and out.event.previous_level == Level.CRITICAL
    shorter = AlertState.from_state(state.to_state(), AlertSettings(history=5))
    assert len(shorter.history) == 5 and shorter.level == Level.CRITICAL


def test_restored_state_continues_the_incident() -> None:
    settings = AlertSettings()
    state = AlertState.restored(settings, Level.WARNING, T1971, T1971 + 100 * S)
    node = AlertNode("t", "alert2", LevelRules({Level.WARNING: above("value", 50)}), settings=settings)
    out = node.point(state, AlertPoint("cpu", "", {}, {"value": 60.0}, T1971 + 101 * S))
    assert out.event and out.event.duration == 101 * S and out.event.previous_level == Level.WARNING


def test_settings_validation_and_history_floor() -> None:
    with pytest.raises(TicklessError) as info:
        AlertSettings(use_flapping=True, flap_low=0.2, flap_high=1.5)
    assert info.value.message == "alert flap thresholds are percentages and should be between 0 and 1"
    assert len(AlertState.new(AlertSettings(history=0)).history) == 2


@pytest.mark.parametrize(
    ("text", "level"),
    [("", Level.OK), ("ok", Level.OK), ("Info", Level.INFO), ("WARNING", Level.WARNING),
     ("critical", Level.CRITICAL), ("OKINFO", Level.OK)],
)  # fmt: skip
def test_parse_level(text: str, level: Level) -> None:
    assert parse_level(text) == level


def test_parse_level_errors() -> None:
    with pytest.raises(TicklessError) as info:
        parse_level("nfo")
    assert info.value.message == "unknown alert level 'NFO'"
    assert level_name(7) == "unknown"
