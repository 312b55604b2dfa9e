"""Graphviz DOT of a task as Kapacitor's task API shows it: the plain graph of a task not executing, and
the graph annotated with statistics (task.EDot) of an executing one.

`stats` given to `executing_dot` maps a node's name to
    {"stats": {stat name: int | float | str}, "processed": {child node name: points or batches sent}}
Missing stats read as zero; `avg_exec_time_ns` is in nanoseconds and printed as a Go duration (`1.5µs`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.kit.gofloat import format_float
from chalicelib.tick.pipeline.base import BATCH, Node
from chalicelib.tick.pipeline.pipeline import Pipeline
from chalicelib.tick.values import go_duration

ATTRIBUTES = "attributes"
LABELS = "labels"

AVG_EXEC_TIME = "avg_exec_time_ns"
_COMMON = (AVG_EXEC_TIME, "errors", "working_cardinality")
_ALERT = (
    "alerts_triggered",
    "alerts_inhibited",
    "oks_triggered",
    "infos_triggered",
    "warns_triggered",
    "crits_triggered",
)
_AUTOSCALE = ("increase_events", "decrease_events", "cooldown_drops")
# Statistics every executing node of a type reports, beyond the common ones.
TYPE_STATS: dict[str, tuple[str, ...]] = {
    "alert": _ALERT,
    "query": ("batches_queried", "points_queried"),
    "queryFlux": ("batches_queried", "points_queried"),
    "default": ("fields_defaulted", "tags_defaulted"),
    "delete": ("fields_deleted", "tags_deleted"),
    "influxDBOut": ("points_written", "write_errors"),
    "kapacitorLoopback": ("points_written",),
    "k8sAutoscale": _AUTOSCALE,
    "swarmAutoscale": _AUTOSCALE,
    "ec2Autoscale": _AUTOSCALE,
}


def _hidden(node: Node) -> bool:
    # Kapacitor's batch source draws nothing: no edges to its queries, no statistics.
    return node.type == BATCH and node in node.pipeline.sources


def dot(task_id: str, pipeline: Pipeline) -> str:
    lines = [f"digraph {task_id} {{\n"]
    for node in pipeline.sorted_nodes():
        if not _hidden(node):
            lines.extend(f"{node.name} -> {child.name};\n" for child in node.children)
    lines.append("}")
    return "".join(lines)


def default_stats(node: Node) -> dict[str, Any]:
    """The statistics a node reports before it has processed anything."""
    return {name: 0 for name in _COMMON + TYPE_STATS.get(node.type, ())}


def _value(name: str, value: Any) -> str:
    if name == AVG_EXEC_TIME and isinstance(value, int):
        return go_duration(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float(value)
    return str(value)


def executing_dot(
    task_id: str,
    pipeline: Pipeline,
    stats: Mapping[str, Mapping[str, Any]],
    view: str = ATTRIBUTES,
    *,
    throughput: float = 0.0,
) -> str:
    labels = view == LABELS
    unit = "batches" if pipeline.kind == BATCH else "points"
    out = [f"digraph {task_id} {{\n"]
    if labels:
        out.append(
            f'graph [label="Throughput: {throughput:0.2f} {unit}/s" forcelabels=true pad="0.8,0.5"];\n'
        )
    else:
        out.append(f'graph [throughput="{throughput:0.2f} {unit}/s"];\n')
    for node in pipeline.sorted_nodes():
        if _hidden(node):
            continue
        given = stats.get(node.name, {})
        values = {**default_stats(node), **given.get("stats", {})}
        processed = given.get("processed", {})
        pairs = [(key, _value(key, values[key])) for key in sorted(values)]
        if labels:
            text = "\\r".join(f"{key}={value}" for key, value in pairs)
            out.append(f'\n{node.name} [xlabel="{text}"];\n')
            out.extend(
                f'{node.name} -> {child.name} [label="processed={processed.get(child.name, 0)}"];\n'
                for child in node.children
            )
        else:
            text = "".join(f'{key}="{value}" ' for key, value in pairs)
            out.append(f"\n{node.name} [{text}];\n")
            out.extend(
                f'{node.name} -> {child.name} [processed="{processed.get(child.name, 0)}"];\n'
                for child in node.children
            )
    out.append("}")
    return "".join(out)
