"""The execution engine of TICKscript tasks, in event time, with all its state as JSON data.

runtime = TaskRuntime.build(pipeline, state, RuntimeConfig(task="cpu_alert"))
outputs = runtime.feed_points([Point("cpu", t, {"value": 1.0}, {"host": "a"}, "telegraf", "autogen")])
state = runtime.to_state()
"""

from __future__ import annotations

from chalicelib.tick.exec.base import RuntimeConfig
from chalicelib.tick.exec.model import Batch, BatchPoint, Point, group_id
from chalicelib.tick.exec.outputs import AlertOutput, LogLine, Outputs, WrittenPoint
from chalicelib.tick.exec.runtime import TaskRuntime

__all__ = [
    "AlertOutput",
    "Batch",
    "BatchPoint",
    "LogLine",
    "Outputs",
    "Point",
    "RuntimeConfig",
    "TaskRuntime",
    "WrittenPoint",
    "group_id",
]
