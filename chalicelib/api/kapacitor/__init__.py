"""The Kapacitor surface: every route on the one `kapacitor` blueprint, under both of Kapacitor's
prefixes (importing this package registers them)."""

from chalicelib.api.kapacitor import (
    alerts,
    config,
    debug,
    logs,
    misc,
    ping,
    preview,
    recordings,
    service_tests,
    storage,
    tasks,
    users,
    write,
)
from chalicelib.api.kapacitor.blueprint import kapacitor

__all__ = [
    "alerts",
    "config",
    "debug",
    "kapacitor",
    "logs",
    "misc",
    "ping",
    "preview",
    "recordings",
    "service_tests",
    "storage",
    "tasks",
    "users",
    "write",
]
