"""InfluxDB's two error formats: v2 `{"code","message"}` with X-Platform-Error-Code, and the 1.x
`{"error"}` the v1 compatibility endpoints answer with."""

from __future__ import annotations

from chalice import Response

from chalicelib.api.kit import json_response
from chalicelib.kit.errors import TicklessError

VERSION = "v2.7.11"
BUILD = "OSS"
VERSION_HEADERS = {"X-Influxdb-Version": VERSION, "X-Influxdb-Build": BUILD}


def render_v2(error: TicklessError) -> Response:
    return json_response(
        {"code": error.code, "message": error.message},
        error.status,
        {**VERSION_HEADERS, "X-Platform-Error-Code": error.code},
    )


def render_v1(error: TicklessError) -> Response:
    return json_response({"error": error.message}, error.status, VERSION_HEADERS)
