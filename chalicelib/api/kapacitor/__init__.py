"""The Kapacitor surface: every route on the one `kapacitor` blueprint, under both of Kapacitor's
prefixes (importing this package registers them)."""

from chalicelib.api.kapacitor import alerts, config, debug, ping, tasks, write
from chalicelib.api.kapacitor.blueprint import kapacitor

__all__ = ["alerts", "config", "debug", "kapacitor", "ping", "tasks", "write"]
