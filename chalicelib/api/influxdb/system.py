"""What load balancers and clients probe: `/ping`, `/health` and `/ready` (public, as in influxd)."""

from __future__ import annotations

from datetime import UTC, datetime

from chalice import Response

from chalicelib.api.influxdb.blueprint import influxdb
from chalicelib.api.influxdb.errors import VERSION, VERSION_HEADERS
from chalicelib.api.kit import ANY_CONTENT_TYPE, json_response

_STARTED = datetime.now(UTC)


@influxdb.route("/ping", methods=["GET", "HEAD"], content_types=ANY_CONTENT_TYPE)
def ping() -> Response:
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


@influxdb.route("/health", methods=["GET"], content_types=ANY_CONTENT_TYPE)
def health() -> Response:
    return json_response(
        {
            "name": "influxdb",
            "message": "ready for queries and writes",
            "status": "pass",
            "checks": [],
            "version": VERSION,
            "commit": "tickless",
        },
        headers=VERSION_HEADERS,
    )


@influxdb.route("/ready", methods=["GET"], content_types=ANY_CONTENT_TYPE)
def ready() -> Response:
    up = datetime.now(UTC) - _STARTED
    started = _STARTED.isoformat().replace("+00:00", "Z")
    return json_response(
        {"status": "ready", "started": started, "up": f"{up.total_seconds():.0f}s"}, headers=VERSION_HEADERS
    )
