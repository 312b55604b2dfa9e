"""Kapacitor's alerting: levels, per-group alert state (history, flapping, durations), events, topics and
the handler kinds as one registry. Pure domain; delivery goes through a port."""
