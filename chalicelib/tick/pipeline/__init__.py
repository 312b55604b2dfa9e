"""The TICKscript pipeline model: what a script's evaluation builds, node by node, and its DOT graphs.

pipeline = Pipeline()
node = pipeline.source("stream")             # or "batch"
result = invoke(receiver, kind, name, args)  # kind: "chain" | "property" | "dynamic"
pipeline.validate()
"""

from __future__ import annotations

from chalicelib.tick.pipeline.alert import AlertDataView, AlertNode, Inhibitor
from chalicelib.tick.pipeline.base import BATCH, NO_EDGE, STREAM, Node, Receiver
from chalicelib.tick.pipeline.deadman import DeadmanCondition, DeadmanConfig
from chalicelib.tick.pipeline.dot import dot, executing_dot
from chalicelib.tick.pipeline.handlers import Handler
from chalicelib.tick.pipeline.invoke import CHAIN, DYNAMIC, PROPERTY, invoke
from chalicelib.tick.pipeline.pipeline import Pipeline

__all__ = [
    "BATCH",
    "CHAIN",
    "DYNAMIC",
    "NO_EDGE",
    "PROPERTY",
    "STREAM",
    "AlertDataView",
    "AlertNode",
    "DeadmanCondition",
    "DeadmanConfig",
    "Handler",
    "Inhibitor",
    "Node",
    "Pipeline",
    "Receiver",
    "dot",
    "executing_dot",
    "invoke",
]
