"""The handlers a task's alert nodes declare in its script (`.post()`, `.slack().channel()`, ...) as the
handler kinds' options (chalicelib.alert): the pipeline keeps each handler's calls, the alert package's
table says what each call sets. Checked when the task is defined, as Kapacitor checks them when it
starts the task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.alert.handler_tick import finish_tick_handler, start_tick_handler
from chalicelib.alert.handlers import HandlerConfig
from chalicelib.tick.pipeline import AlertNode, Pipeline


def handler_configs(
    pipeline: Pipeline, service_configs: Mapping[str, Any] | None = None
) -> dict[str, list[HandlerConfig]]:
    """By alert node name, its handlers' configurations, in the script's order."""
    configs: dict[str, list[HandlerConfig]] = {}
    for node in pipeline.nodes:
        if isinstance(node, AlertNode):
            configs[node.name] = [_config(handler, service_configs) for handler in node.handlers]
    return configs


def _config(handler: Any, service_configs: Mapping[str, Any] | None) -> HandlerConfig:
    call = start_tick_handler(handler.kind, handler.args)
    for name, args in handler.calls:
        call.set_property(name, args)
    return finish_tick_handler(call, service_configs)
