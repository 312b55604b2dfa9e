"""The runtime's alert nodes over chalicelib.alert's state machine: levels, resets, templates and the
alert settings of one node, with each group's state as plain data."""

from __future__ import annotations

from typing import Any

from chalicelib.alert.events import AlertEvent, Level
from chalicelib.alert.levels import LevelRules
from chalicelib.alert.messages import AlertTemplates, ServerInfo
from chalicelib.alert.state import AlertBatch, AlertNode, AlertPoint, AlertSettings, AlertState
from chalicelib.alert.state import BatchPoint as AlertBatchPoint
from chalicelib.tick.exec.alerting import AlertSpec, ErrorSink
from chalicelib.tick.exec.model import Batch, BatchPoint, Point


class AlertStateMachine:
    """chalicelib.alert.state.AlertNode as the runtime's AlertMachine."""

    def __init__(self, spec: AlertSpec) -> None:
        self.node = AlertNode(
            spec.task,
            spec.node,
            LevelRules(
                {Level(k): f for k, f in spec.predicates.items()},
                {Level(k): f for k, f in spec.resets.items()},
            ),
            AlertTemplates.parse(spec.id, spec.message, spec.details),
            AlertSettings(**spec.settings),
            spec.server or ServerInfo(),
        )

    def new_state(self) -> AlertState:
        return self.node.new_state()

    def dump_state(self, state: AlertState) -> dict[str, Any]:
        return state.to_state()

    def load_state(self, data: dict[str, Any]) -> AlertState:
        return AlertState.from_state(data, self.node.settings)

    def point(
        self, state: AlertState, p: Point, on_error: ErrorSink
    ) -> tuple[AlertEvent | None, Point | None]:
        outcome = self.node.point(state, AlertPoint(p.name, p.group, p.tags, p.fields, p.time), on_error)
        out = outcome.output
        return outcome.event, None if out is None else p.copy(tags=out.tags, fields=out.fields)

    def batch(
        self, state: AlertState, b: Batch, on_error: ErrorSink
    ) -> tuple[AlertEvent | None, Batch | None]:
        points = [AlertBatchPoint(bp.time, bp.fields, bp.tags) for bp in b.points]
        outcome = self.node.batch(state, AlertBatch(b.name, b.group, b.tags, b.tmax, points), on_error)
        out = outcome.output
        if not isinstance(out, AlertBatch):
            return outcome.event, None
        return outcome.event, b.copy(
            tags=out.tags, points=[BatchPoint(p.time, p.fields, p.tags) for p in out.points]
        )
