"""Helpers for comparing tickless with a real InfluxDB 1.x `influxd` (tests/oracle, scripts/bench)."""
