"""InfluxDB's two error formats: v2 `{"code","message"}` with X-Platform-Error-Code, and the 1.x
`{"error"}` the v1 compatibility endpoints answer with; both with the version headers."""

from __future__ import annotations

from chalicelib.api.kit import code_and_message, error_only

VERSION = "v2.7.11"
BUILD = "OSS"
VERSION_HEADERS = {"X-Influxdb-Version": VERSION, "X-Influxdb-Build": BUILD}

render_v2 = code_and_message(VERSION_HEADERS)
render_v1 = error_only(VERSION_HEADERS)
