"""`/kapacitor/v1/ping`: 204 with Kapacitor's version header, as clients check the server they talk to
(`kapacitor` CLI, Chronograf); it needs no credentials, as Kapacitor's does not."""

from __future__ import annotations

from chalice import Response

from chalicelib.api.kapacitor.blueprint import VERSION_HEADERS, route


@route("/ping", methods=["GET", "HEAD"], name="ping")
def ping() -> Response:
    return Response(body="", status_code=204, headers=VERSION_HEADERS)
