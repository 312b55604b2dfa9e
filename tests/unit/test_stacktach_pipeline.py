"""The pipeline configuration checks the worker relies on, and the usage verdicts' distillation."""

from __future__ import annotations

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.stacktach.distiller import Distiller
from chalicelib.stacktach.handlers import VERIFIED, usage_event_definitions
from chalicelib.stacktach.pipeline import check_pipelines, kinesis_targets
from chalicelib.stacktach.triggers import default_pipelines, default_triggers, load_pipelines


def test_the_shipped_configuration_passes() -> None:
    check_pipelines(default_triggers(), default_pipelines())


@pytest.mark.parametrize(
    ("pipelines", "says"),
    [
        ("usage_fire: [logger]", "pipelines that are not defined: usage_expire"),
        ("usage_fire: [{name: usage, params: {x: 1}}]\nusage_expire: []", "unknown params 'x'"),
        ("usage_fire: [publish]\nusage_expire: []", "publish needs a 'target'"),
        ("usage_fire: [{name: publish, params: {target: ''}}]\nusage_expire: []", "'target' must be"),
    ],
)
def test_configurations_whose_streams_could_not_run_are_refused(pipelines: str, says: str) -> None:
    with pytest.raises(TicklessError) as raised:
        check_pipelines(default_triggers(), load_pipelines(pipelines))
    assert says in raised.value.message


def test_added_definitions_win_for_the_verdicts_only() -> None:
    plain = Distiller.default()
    grown = plain.with_definitions(usage_event_definitions())
    verdict = {
        "message_id": "m1",
        "event_type": VERIFIED,
        "timestamp": "2026-01-02T00:05:00",
        "payload": {"instance_id": "i", "error_code": "U2", "stream_id": 7},
    }
    assert "error_code" not in plain.to_event(verdict).traits  # the shipped compute.instance.* takes it
    event = grown.to_event(verdict)
    assert event.traits["error_code"].value == "U2" and event.traits["stream_id"].value == 7
    create = {
        "message_id": "m2",
        "event_type": "compute.instance.create.end",
        "payload": {"instance_id": "i"},
    }
    assert grown.to_event(create).traits.keys() == plain.to_event(create).traits.keys()


def test_the_kinesis_streams_a_deployment_must_allow() -> None:
    def publish(target: str) -> str:
        return f"{{name: publish, params: {{target: '{target}'}}}}"

    pipelines = load_pipelines(
        f"a: [{publish('verdicts')}, {publish('arn:aws:sns:eu-west-1:1:t')}]\n"
        f"b: [logger, {publish('verdicts')}, {publish('other')}]\n"
    )
    assert kinesis_targets(pipelines) == {"verdicts", "other"}
    assert kinesis_targets(default_pipelines()) == set()
