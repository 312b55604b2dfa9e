"""`/kapacitor/v1/service-tests`: list the services a handler sends through, show a test's default options,
and run a test with options (chalicelib/alert/service_tests.py). A test sends within the request, as
Kapacitor's does, in the caller's organization's configuration; running one needs `write` on its tasks."""

from __future__ import annotations

from chalice import Response

from chalicelib import compose
from chalicelib.api.kapacitor.auth import task_manager
from chalicelib.api.kapacitor.blueprint import VERSION_HEADERS, kapacitor, route
from chalicelib.api.kit import body, json_response

TESTS = "/service-tests"


def _org(action: str) -> str:
    return task_manager(kapacitor.current_request, action).org_id or ""


def _answer(payload: object) -> Response:
    return json_response(payload, headers=VERSION_HEADERS)


@route(TESTS, methods=["GET"], name="list_service_tests")
def list_service_tests() -> Response:
    org = _org("read")
    pattern = (kapacitor.current_request.query_params or {}).get("pattern", "")
    return _answer(compose.service_tests().list(org, pattern))


@route(TESTS + "/{service}", methods=["GET"], name="get_service_test")
def get_service_test(service: str) -> Response:
    return _answer(compose.service_tests().get(_org("read"), service))


@route(TESTS + "/{service}", methods=["POST"], name="run_service_test")
def run_service_test(service: str) -> Response:
    org = _org("write")
    return _answer(compose.service_tests().run(org, service, body(kapacitor.current_request)))
