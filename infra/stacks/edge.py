"""The REST API's edge: what API Gateway does with a request before (or instead of) the app.

Chalice declares a resource and method per route; a request for anything else would get API Gateway's
`403 Missing Authentication Token`, which echoes a malformed `Authorization` header back. So every
request is brought to the app instead (`chalicelib/api/routing.py`): an ANY method on every resource,
intermediate ones included, and `{proxy+}` catch-all resources; the app answers 404 and 405 in each
surface's format (`chalicelib/api/edge.py`). The local stack routes through the same tree.

What API Gateway still answers itself (throttling, integration failures, and a 404 should a path ever
miss the tree) gets a gateway response with a fixed body: it cannot know the surface (gateway response
templates are not VTL, so they cannot branch on the path), so the body carries both formats,
`{"code", "message"}` and `{"error"}`, and nothing of the request. `REQUEST_TOO_LARGE` (413) cannot be
customized; its default body echoes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.cdk import Chalice

from chalicelib.api.routing import GREEDY, GREEDY_PARAMETER, ResourceTree

ANY_METHOD = "x-amazon-apigateway-any-method"
GATEWAY_RESPONSES = "x-amazon-apigateway-gateway-responses"
# API Gateway's default quota of resources per REST API (adjustable); the tree must stay within it.
MAX_RESOURCES = 300


def _override_path(*keys: str) -> str:
    """A CDK property override path: keys joined by dots, dots inside a key escaped."""
    return ".".join(key.replace(".", "\\.") for key in keys)


def _body(status: int, code: str, message: str) -> dict[str, Any]:
    body = json.dumps({"code": code, "message": message, "error": message}, separators=(",", ":"))
    return {
        "statusCode": str(status),
        "responseParameters": {"gatewayresponse.header.X-Platform-Error-Code": f"'{code}'"},
        "responseTemplates": {"application/json": body},
    }


def gateway_responses() -> dict[str, dict[str, Any]]:
    """Static bodies (no `$context.error.message`, no request header mapped back) for what API Gateway
    answers itself; `DEFAULT_4XX`/`DEFAULT_5XX` keep each response type's own status."""
    not_found = _body(404, "not found", "path not found")
    return {
        "MISSING_AUTHENTICATION_TOKEN": not_found,
        "RESOURCE_NOT_FOUND": not_found,
        "THROTTLED": _body(429, "too many requests", "too many requests"),
        "QUOTA_EXCEEDED": _body(429, "too many requests", "too many requests"),
        "UNSUPPORTED_MEDIA_TYPE": _body(415, "invalid", "unsupported content type or content encoding"),
        "INTEGRATION_TIMEOUT": _body(504, "unavailable", "the request timed out"),
        "DEFAULT_4XX": {
            k: v for k, v in _body(400, "invalid", "request refused").items() if k != "statusCode"
        },
        "DEFAULT_5XX": {
            k: v for k, v in _body(500, "internal error", "internal error").items() if k != "statusCode"
        },
    }


def _any_method(path: str, integration: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "consumes": ["*/*"],
        "produces": ["application/json"],
        "responses": {"200": {"description": "200 response", "schema": {"$ref": "#/definitions/Empty"}}},
        "x-amazon-apigateway-integration": integration,
    }
    names = [
        GREEDY_PARAMETER if part == GREEDY else part[1:-1] for part in path.split("/") if part.startswith("{")
    ]
    if names:
        operation["parameters"] = [
            {"name": n, "in": "path", "required": True, "type": "string"} for n in names
        ]
    return operation


def route_everything_to_the_app(chalice: Chalice, apis: dict[str, dict[str, Any]]) -> ResourceTree:
    """Adds the catch-alls and the gateway responses to the REST API Chalice generated (`apis`: the SAM
    template's `AWS::Serverless::Api` resources by logical id). Returns the resource tree."""
    if len(apis) != 1:
        raise ValueError(f"expected one REST API in the Chalice template, found {sorted(apis)}")
    [(api_id, api)] = apis.items()
    paths: dict[str, dict[str, Any]] = api["Properties"]["DefinitionBody"]["paths"]
    integrations = {
        json.dumps(op["x-amazon-apigateway-integration"], sort_keys=True)
        for ops in paths.values()
        for op in ops.values()
    }
    if len(integrations) != 1:
        raise ValueError("the routes of the REST API do not share one Lambda integration")
    integration = json.loads(integrations.pop())
    tree = ResourceTree.of(paths)
    if len(tree.resources) > MAX_RESOURCES:
        raise ValueError(f"{len(tree.resources)} API Gateway resources, over the quota of {MAX_RESOURCES}")
    resource = chalice.get_resource(api_id)
    for path in tree.resources:
        resource.add_property_override(
            _override_path("DefinitionBody", "paths", path, ANY_METHOD), _any_method(path, integration)
        )
    resource.add_property_override(_override_path("DefinitionBody", GATEWAY_RESPONSES), gateway_responses())
    return tree
