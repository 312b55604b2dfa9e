"""`/kapacitor/v1/debug/vars`: Kapacitor's expvar JSON as Telegraf's kapacitor input reads it: the task
counts, one `nodes` object per task node and one `edges` object per edge of the organization's enabled
tasks, with the statistics their last runs saved (tick/execution.py), and the process's memory figures
under Go's memstats names."""

from __future__ import annotations

import gc
import resource
import sys
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.kit.time import go_duration

VERSION = "1.7.6"
_COUNTERS_NOT_VALUES = ("stats", "processed")


def debug_vars(
    tasks: Iterable[dict[str, Any]],
    stats_of: Callable[[str], dict[str, Any]],
    server_id: str,
) -> dict[str, Any]:
    """`tasks`: the org's task definitions; `stats_of(task_id)`: by node name, what the runtime saved
    (`stats`, `processed`, `collected`, `emitted`)."""
    tasks = list(tasks)
    enabled = [t for t in tasks if t.get("status") == "enabled"]
    objects: dict[str, Any] = {}
    for task in enabled:
        for node, saved in stats_of(task["id"]).items():
            values: dict[str, Any] = {
                k: v for k, v in (saved.get("stats") or {}).items() if k not in _COUNTERS_NOT_VALUES
            }
            values["avg_exec_time_ns"] = go_duration(int(values.get("avg_exec_time_ns", 0)))
            values["collected"] = saved.get("collected", 0)
            values["emitted"] = saved.get("emitted", 0)
            tags = {"task": task["id"], "node": node, "type": task["type"], "kind": _kind(node)}
            objects[_key("nodes", tags)] = {"name": "nodes", "tags": tags, "values": values}
            for child, count in (saved.get("processed") or {}).items():
                edge = {"task": task["id"], "parent": node, "child": child, "type": task["type"]}
                objects[_key("edges", edge)] = {
                    "name": "edges",
                    "tags": edge,
                    "values": {"collected": count, "emitted": count},
                }
    return {
        "cluster_id": server_id,
        "server_id": server_id,
        "host": "tickless",
        "product": "kapacitor",
        "version": VERSION,
        "platform": "tickless",
        "num_tasks": len(tasks),
        "num_enabled_tasks": len(enabled),
        "num_subscriptions": 0,
        "cmdline": list(sys.argv[:1]),
        "kapacitor": objects,
        "memstats": _memstats(),
    }


def _kind(node_name: str) -> str:
    return node_name.rstrip("0123456789")


def _key(name: str, tags: dict[str, str]) -> str:
    return ",".join([name, *(f"{k}={v}" for k, v in sorted(tags.items()))])


def _memstats() -> dict[str, Any]:
    """What Python can tell of Go's figures; the rest are zero (no Go runtime here)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    resident = usage.ru_maxrss * 1024  # kilobytes on Linux
    collections = sum(s.get("collections", 0) for s in gc.get_stats())
    names = [
        "Alloc",
        "TotalAlloc",
        "Sys",
        "Lookups",
        "Mallocs",
        "Frees",
        "HeapAlloc",
        "HeapSys",
        "HeapIdle",
        "HeapInuse",
        "HeapReleased",
        "HeapObjects",
        "StackInuse",
        "StackSys",
        "MSpanInuse",
        "MSpanSys",
        "MCacheInuse",
        "MCacheSys",
        "BuckHashSys",
        "GCSys",
        "OtherSys",
        "NextGC",
        "LastGC",
        "PauseTotalNs",
    ]
    stats: dict[str, Any] = dict.fromkeys(names, 0)
    stats.update(Sys=resident, HeapSys=resident, HeapObjects=len(gc.get_objects()), NumGC=collections)
    stats["GCCPUFraction"] = 0.0
    return stats
