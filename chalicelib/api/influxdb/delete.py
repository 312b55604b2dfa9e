"""`/api/v2/delete`: the points of a bucket in [start, stop] that an InfluxDB predicate selects."""

from __future__ import annotations

from chalice import Response

from chalicelib import compose
from chalicelib.api.influxdb.auth import authenticate
from chalicelib.api.influxdb.blueprint import influxdb
from chalicelib.api.influxdb.errors import VERSION_HEADERS, render_v2
from chalicelib.api.kit import ANY_CONTENT_TYPE, body, json_object, renders_errors
from chalicelib.influxql.conditions import ConditionError, parse_time
from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.series.predicate import parse_predicate

_BAD_JSON = "invalid request; error parsing request json"


@influxdb.route("/api/v2/delete", methods=["POST"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def delete_v2() -> Response:
    request = influxdb.current_request
    bucket = compose.tenancy().writable_bucket(authenticate(request), request.query_params or {})
    payload = json_object(body(request), _BAD_JSON)
    start, stop = (_rfc3339(payload.get(key), key) for key in ("start", "stop"))
    if start > stop:
        raise TicklessError(INVALID, f"{_BAD_JSON}: start must not be after stop")
    predicate_text = payload.get("predicate") or ""
    if not isinstance(predicate_text, str):
        raise TicklessError(INVALID, f"{_BAD_JSON}: predicate must be a string")
    compose.store().delete_selected(bucket["id"], parse_predicate(predicate_text), start, stop)
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


def _rfc3339(value: object, field: str) -> int:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse_time(value)
    except (ValueError, ConditionError) as exc:
        raise TicklessError(
            INVALID,
            f"{_BAD_JSON}: invalid RFC3339Nano for field {field}, please "
            "format your time with RFC3339Nano format, example: 2009-01-02T23:00:00Z",
        ) from exc
