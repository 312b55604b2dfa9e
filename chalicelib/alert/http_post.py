"""The request of a task's httpPost node, made when the alert queue's worker sends it: to the node's URL,
or to the `[[httppost]]` endpoint the node names, as the organization's config has it then (URL template,
headers, basic auth, row template). Kapacitor's URL and row templates run on its mapped row: `.Name`,
`.Tags` and `.Values`, one map of column to value per row value."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from chalicelib.alert import handler_services
from chalicelib.alert.delivery import Delivery, DeliveryError
from chalicelib.alert.handler_json import go_json
from chalicelib.alert.handler_templates import POST_FUNCS, go_template
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.gotemplate import GoMap, GoStruct
from chalicelib.kit.gotemplate.printf import go_quote


def http_post_delivery(message: Mapping[str, Any], endpoints: Any) -> Delivery:
    """`message` as the task's outbox has it (url or endpoint, headers, body `{"series": [row]}`,
    timeout); `endpoints` the org's `httppost` section. Raises DeliveryError for what never sends."""
    row = message["body"]["series"][0]
    endpoint = None
    if message.get("endpoint"):
        endpoint = handler_services.httppost_endpoint(endpoints, message["endpoint"])
        if endpoint is None:
            raise DeliveryError(f"endpoint '{message['endpoint']}' does not exist")
        if endpoint["row-template-file"]:
            raise DeliveryError(f"failed to read template file {go_quote(endpoint['row-template-file'])}")
        url_template, row_template = endpoint["url"], endpoint["row-template"]
    else:
        url_template, row_template = message["url"], ""
    mapped = _mapped_row(row)
    if row_template:
        body = _render(row_template, mapped, "failed to execute template").encode()
    else:
        body = go_json(message["body"], newline=True).encode()
    url = _render(url_template, mapped, "failed to execute url template")
    headers: dict[str, str] = {}
    if endpoint is not None:
        auth = endpoint.get("basic-auth") or {}
        if auth.get("username") and auth.get("password"):
            pair = f"{auth['username']}:{auth['password']}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        headers.update({k: str(v) for k, v in (endpoint.get("headers") or {}).items()})
    if not row_template:
        headers["Content-Type"] = "application/json"
    headers.update(message.get("headers") or {})
    params = {"timeout": message["timeout"] / 1e9} if message.get("timeout") else {}
    return Delivery("http", url, body, headers=headers, params=params, kind="httpPost")


def _mapped_row(row: Mapping[str, Any]) -> GoStruct:
    columns = list(row.get("columns") or [])
    values = [
        GoMap(dict(zip(columns, value, strict=False)), "map[string]interface {}", None)
        for value in row.get("values") or []
    ]
    tags = GoMap(dict(row.get("tags") or {}), "map[string]string", "")
    return GoStruct("httppost.mappedRow", {"Name": row.get("name", ""), "Tags": tags, "Values": values})


def _render(text: str, data: Any, failure: str) -> str:
    try:
        return go_template(text, data, name="body", funcs=POST_FUNCS)
    except TicklessError as err:
        raise DeliveryError(f"{failure}: {err.message}") from None
