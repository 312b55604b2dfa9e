"""InfluxDB v2 discovery endpoints: the top-level routes map (`GET /api/v2`), resource types
(`/api/v2/resources`), runtime configuration (`/api/v2/config`) and feature flags (`/api/v2/flags`)."""

from __future__ import annotations

from chalice import Response

from chalicelib import compose, declarations
from chalicelib.api import paging
from chalicelib.api.influxdb.auth import authenticate
from chalicelib.api.influxdb.blueprint import influxdb
from chalicelib.api.influxdb.errors import VERSION, VERSION_HEADERS, render_v2
from chalicelib.api.kit import ANY_CONTENT_TYPE, MAX_BODY_BYTES, json_response, renders_errors
from chalicelib.tenancy.permissions import OSS_RESOURCE_TYPES

# InfluxDB 2.x's `apiLinks`, verbatim (keys sorted, as Go's JSON encoder writes a map). Some routes are
# not served by tickless yet; the map still says where InfluxDB clients will look for them.
ROUTES: dict = {
    "authorizations": "/api/v2/authorizations",
    "backup": "/api/v2/backup",
    "buckets": "/api/v2/buckets",
    "checks": "/api/v2/checks",
    "dashboards": "/api/v2/dashboards",
    "delete": "/api/v2/delete",
    "external": {"statusFeed": "https://www.influxdata.com/feed/json"},
    "flags": "/api/v2/flags",
    "labels": "/api/v2/labels",
    "me": "/api/v2/me",
    "notificationEndpoints": "/api/v2/notificationEndpoints",
    "notificationRules": "/api/v2/notificationRules",
    "orgs": "/api/v2/orgs",
    "plugins": "/api/v2/telegraf/plugins",
    "query": {
        "analyze": "/api/v2/query/analyze",
        "ast": "/api/v2/query/ast",
        "self": "/api/v2/query",
        "suggestions": "/api/v2/query/suggestions",
    },
    "restore": "/api/v2/restore",
    "scrapers": "/api/v2/scrapers",
    "setup": "/api/v2/setup",
    "signin": "/api/v2/signin",
    "signout": "/api/v2/signout",
    "sources": "/api/v2/sources",
    "swagger": "/api/v2/swagger.json",
    "system": {"debug": "/debug/pprof", "health": "/health", "metrics": "/metrics"},
    "tasks": "/api/v2/tasks",
    "telegrafs": "/api/v2/telegrafs",
    "users": "/api/v2/users",
    "variables": "/api/v2/variables",
    "write": "/api/v2/write",
}


# Feature flags: InfluxDB answers the flags its UI reads, each with its value; the UI falls back to its
# own defaults for any flag missing here, and tickless overrides none, so the map is empty.
FLAGS: dict = {}


def runtime_config() -> dict:
    """What tickless actually runs with. Keys name tickless's own settings: it has no influxd options
    (no engine path, bolt path or bind address: API Gateway and Lambda stand in for the server)."""
    return {
        "build": "tickless",
        "influxdb-compatibility": VERSION,
        "resource-prefix": declarations.prefix(),
        "storage-engine": "dynamodb",
        "storage-tables": {t.name: t.physical_name for t in declarations.TABLES},
        "write-streams": {s.name: s.physical_name for s in declarations.STREAMS},
        "http-max-body-size": MAX_BODY_BYTES,
        "http-default-page-size": paging.DEFAULT_LIMIT,
        "http-max-page-size": paging.MAX_LIMIT,
        **compose.query_limits().shown(),  # query-timeout, query-memory-bytes, max-select-*, ...
    }


@influxdb.route("/api/v2", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def get_routes() -> Response:
    # Public in InfluxDB, like /ping, /health, /ready, setup, signin and signout.
    return json_response(ROUTES, headers=VERSION_HEADERS)


@influxdb.route("/api/v2/resources", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def get_resources() -> Response:
    authenticate(influxdb.current_request)
    return json_response(list(OSS_RESOURCE_TYPES), headers=VERSION_HEADERS)


@influxdb.route("/api/v2/config", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def get_config() -> Response:
    # InfluxDB serves its configuration to operators only.
    authenticate(influxdb.current_request).require("read", "orgs")  # every org: an operator
    return json_response({"config": runtime_config()}, headers=VERSION_HEADERS)


@influxdb.route("/api/v2/flags", methods=["GET"], content_types=ANY_CONTENT_TYPE)
@renders_errors(render_v2)
def get_flags() -> Response:
    authenticate(influxdb.current_request)
    return json_response(FLAGS, headers=VERSION_HEADERS)
