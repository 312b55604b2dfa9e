"""OpenAPI conformance fixtures: a local stack of its own (never the e2e suite's: onboarding happens once
per server), onboarded once, plus one known instance of every resource kind so that operations on
`{id}` paths are exercised with ids that exist as well as with ids that do not."""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import yaml

from tests.e2e.conftest import REPO_ROOT, Stack, running_stack

SPEC = Path(os.environ.get("TICKLESS_OPENAPI_SPEC") or REPO_ROOT.parent / "shared/specs/influxdb-oss-v2.yml")

# The spec serves `/legacy/authorizations*` under a path-level server `/private`; schemathesis builds
# URLs from the base URL it is given, so those operations get this prefix added to it.
PATH_SERVERS = {"/legacy/": "/private"}

KNOWN_USER, KNOWN_PASSWORD = "known-user", "known-password"

# `POST /api/v2/query` takes a raw Flux script as `application/vnd.flux`: sent as text.
schemathesis.serializer.alias("application/vnd.flux", "text/plain")

ONBOARDING = {
    "username": "conformance-admin",
    "password": "conformance-password",
    "org": "conformance",
    "bucket": "conformance-first",
    "retentionPeriodSeconds": 0,
}


def _relative_links(node: Any, trail: tuple[str, ...] = ()) -> None:
    """Links are `format: uri` in the spec, but InfluxDB (and the spec's own examples) answer
    root-relative references such as `/api/v2/buckets/{id}`: read them as `uri-reference`. Only links
    (`Link`, `Routes` and every `links` object); real URLs such as `remoteURL` stay absolute."""
    if isinstance(node, dict):
        linkish = {"Link", "Routes", "links"} & set(trail)
        if linkish and node.get("format") == "uri":
            node["format"] = "uri-reference"
        for key, value in node.items():
            _relative_links(value, (*trail, str(key)))
    elif isinstance(node, list):
        for value in node:
            _relative_links(value, trail)


def corrected_spec(raw: dict[str, Any]) -> dict[str, Any]:
    """The spec with its known errors corrected; each one is described in docs/CONFORMANCE.md."""
    schemas = raw["components"]["schemas"]
    # 1. Relative links (see _relative_links).
    _relative_links(schemas)
    # 2. InfluxQL results: `oneOf: [{required: [statement_id, error]}, {required: [statement_id, series]}]`
    #    sits on the `results` array instead of its items, where `required` never applies, so every
    #    array matches both branches and no response can validate. Its own description says all but
    #    `statement_id` may be omitted (`{"results":[{"statement_id":0}]}` for an empty result).
    schemas["InfluxqlJsonResponse"]["properties"]["results"].pop("oneOf")
    # 3. The v1 endpoints answer errors in InfluxDB 1.x's `{"error": "..."}` (the project's contract,
    #    docs/DECISIONS.md; the 1.x clients read that key), where the spec borrows the v2 `Error`.
    v1_error = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
    for path, method in (("/write", "post"), ("/query", "get"), ("/query", "post")):
        operation = raw["paths"][path].get(method)
        for status, response in (operation or {}).get("responses", {}).items():
            if (status == "default" or status.startswith(("4", "5"))) and "application/json" in response.get(
                "content", {}
            ):
                response["content"]["application/json"]["schema"] = v1_error
    # 4. Flux results: influxd answers `text/csv; charset=utf-8` (its CSV dialect's header, which the
    #    client libraries read), where the spec documents only `application/csv`.
    ok = raw["paths"]["/api/v2/query"]["post"]["responses"]["200"]["content"]
    ok["text/csv"] = ok["application/csv"]
    # 5. An unknown function name is a 404 `not found` here, never the 500 influxd answers (the
    #    project's contract: no 5xx for bad input); the spec documents only the 500.
    responses = raw["paths"]["/api/v2/query/suggestions/{name}"]["get"]["responses"]
    responses["404"] = {"$ref": "#/components/responses/ResourceNotFoundError"}
    # 6. Flux AST (`POST /api/v2/query/ast`, `extern`): see _discriminate_ast_nodes. Absent parts are
    #    null, as influxd writes flux's Go AST (no `omitempty`) and as the operation's own example shows:
    #    a File without package clause or imports, an import without alias, a parameter without default.
    _discriminate_ast_nodes(schemas)
    nullable = (("File", "package"), ("File", "imports"), ("ImportDeclaration", "as"), ("Property", "value"))
    for schema, name in nullable:
        schemas[schema]["properties"][name]["nullable"] = True
    # 7. The suggestions need a token, as every /api/v2 route but a few (influxd's no-auth list); the
    #    spec documents no 401 for `GET /api/v2/query/suggestions/{name}` (it has no `default` either).
    responses["401"] = {"$ref": "#/components/responses/AuthorizationError"}
    # 8. A task's `every` (and the other task durations) are Flux duration literals (`1h`, as its own
    #    description says and influxd answers), where `format: duration` is JSON Schema's ISO 8601.
    for prop in schemas["Task"]["properties"].values():
        if prop.get("format") == "duration":
            prop.pop("format")
    return raw


AST_UNIONS = ("Statement", "Expression", "PropertyKey", "Node")


def _discriminate_ast_nodes(schemas: dict[str, Any]) -> None:
    """The AST unions are `oneOf` over node schemas that require nothing, so every node matches several
    branches and no AST validates. Each branch's `type` is pinned to its node type (the schema's name,
    as Flux's AST JSON spells it), which makes the branches exclusive; nothing else changes."""
    unions = [schemas[name]["oneOf"] for name in AST_UNIONS]
    unions.append(schemas["OptionStatement"]["properties"]["assignment"]["oneOf"])
    for branches in unions:
        for branch in branches:
            name = branch["$ref"].rsplit("/", 1)[1]
            if name not in AST_UNIONS:
                schemas[name]["properties"]["type"] = {"type": "string", "enum": [name]}


@functools.cache
def load_schema() -> schemathesis.schemas.BaseSchema:
    """The contract, corrected (`corrected_spec`) and loaded once per process."""
    if not SPEC.is_file():
        pytest.skip(f"OpenAPI spec not found at {SPEC} (set TICKLESS_OPENAPI_SPEC)", allow_module_level=True)
    with SPEC.open() as f:
        raw = yaml.safe_load(f)
    return schemathesis.openapi.from_dict(corrected_spec(raw))


def base_url_for(url: str, path: str) -> str:
    """The base URL for an operation of the spec, honouring its path-level `servers`."""
    for prefix, server in PATH_SERVERS.items():
        if path.startswith(prefix):
            return url + server
    return url


def basic(username: str, password: str) -> str:
    """The value of `Authorization: Basic ...` for these credentials."""
    return base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass
class Conformance:
    """The stack under test, the operator's credentials and the ids of resources known to exist."""

    url: str
    token: str
    onboarding: dict[str, Any]
    setup_response: schemathesis.Response
    ids: dict[str, str] = field(default_factory=dict)
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    def headers_for(self, path: str) -> dict[str, str]:
        """Credentials for an operation: the operator's token, except that sign-in takes Basic
        credentials (the known user's)."""
        if path == "/api/v2/signin":
            return {"Authorization": "Basic " + basic(KNOWN_USER, KNOWN_PASSWORD)}
        return self.headers

    def base_url(self, path: str) -> str:
        return base_url_for(self.url, path)

    def request(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        """A plain API call for test set-up; fails the test unless it answers `expect`."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = self.session.request(method, self.url + path, headers=headers, timeout=30, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    # -- resource factories, each returning the created document ----------------------------------

    def org(self, name: str) -> dict:
        return self.request("POST", "/api/v2/orgs", 201, json={"name": name})

    def bucket(self, org_id: str, name: str) -> dict:
        body = {"orgID": org_id, "name": name, "retentionRules": []}
        return self.request("POST", "/api/v2/buckets", 201, json=body)

    def label(self, org_id: str, name: str) -> dict:
        body = {"orgID": org_id, "name": name, "properties": {"color": "ffb3b3"}}
        return self.request("POST", "/api/v2/labels", 201, json=body)["label"]

    def user(self, name: str, password: str | None = None) -> dict:
        user = self.request("POST", "/api/v2/users", 201, json={"name": name, "status": "active"})
        if password is not None:
            self.request("POST", f"/api/v2/users/{user['id']}/password", 204, json={"password": password})
        return user

    def authorization(self, org_id: str, bucket_id: str) -> dict:
        permissions = [{"action": "read", "resource": {"type": "buckets", "id": bucket_id, "orgID": org_id}}]
        body = {"orgID": org_id, "description": "conformance", "permissions": permissions}
        return self.request("POST", "/api/v2/authorizations", 201, json=body)

    def legacy_authorization(self, org_id: str, bucket_id: str, token: str) -> dict:
        permissions = [{"action": "read", "resource": {"type": "buckets", "id": bucket_id, "orgID": org_id}}]
        body = {"orgID": org_id, "token": token, "description": "conformance", "permissions": permissions}
        return self.request("POST", "/private/legacy/authorizations", 201, json=body)

    def task(self, org_id: str, name: str) -> dict:
        flux = f'option task = {{name: "{name}", every: 1h}}\nfrom(bucket: "b") |> range(start: -1h)'
        return self.request("POST", "/api/v2/tasks", 201, json={"orgID": org_id, "flux": flux})

    def dbrp(self, org_id: str, bucket_id: str, database: str) -> dict:
        body = {
            "orgID": org_id,
            "bucketID": bucket_id,
            "database": database,
            "retention_policy": "autogen",
            "default": True,
        }
        return self.request("POST", "/api/v2/dbrps", 201, json=body)


@pytest.fixture(scope="session")
def conformance_stack() -> Iterator[Stack]:
    """A local stack of its own, so the e2e suite's onboarding and data never meet this one's."""
    with running_stack("tickless-conformance-", {"LOG_LEVEL": "WARNING"}) as info:
        yield info


@pytest.fixture(scope="session")
def conformance(conformance_stack: Stack) -> Conformance:
    """Onboard the stack once, through the spec's own `POST /api/v2/setup`, and create the known
    resources the fuzzer mixes into `{id}` path parameters."""
    operation = load_schema()["/api/v2/setup"]["POST"]
    case = operation.Case(body=dict(ONBOARDING), media_type="application/json")
    response = case.call(base_url=conformance_stack.url)
    assert response.status_code == 201, response.text
    onboarding = response.json()
    state = Conformance(conformance_stack.url, onboarding["auth"]["token"], onboarding, response)

    org = state.org("conformance-known")
    bucket = state.bucket(org["id"], "known-bucket")
    label = state.label(org["id"], "known-label")
    user = state.user(KNOWN_USER, password=KNOWN_PASSWORD)
    auth = state.authorization(org["id"], bucket["id"])
    legacy = state.legacy_authorization(org["id"], bucket["id"], "known-legacy")
    dbrp = state.dbrp(org["id"], bucket["id"], "known_db")
    task = state.task(org["id"], "known-task")
    # v1 /write and /query resolve databases in the caller's (the operator's) org.
    state.dbrp(onboarding["org"]["id"], onboarding["bucket"]["id"], "conformance_v1")
    state.ids.update(
        orgID=org["id"],
        bucketID=bucket["id"],
        labelID=label["id"],
        userID=user["id"],
        authID=auth["id"],
        legacyAuthID=legacy["id"],
        dbrpID=dbrp["id"],
        taskID=task["id"],
        orgName=org["name"],
        bucketName=bucket["name"],
        database="conformance_v1",
        name="sum",  # a Flux function: GET /api/v2/query/suggestions/{name}
    )
    return state


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Under pytest 9 Schemathesis' generated tests (`test_fuzz[GET /api/v2]`) all get the node id of
    # their function. pytest-xdist schedules by node id, so all but one would silently not run: put
    # the operation back into the id (pytest's structured node id, `Node._id`).
    for item in items:
        if (
            item.name != item.originalname
            and item.nodeid == f"{item.path.relative_to(config.rootpath).as_posix()}::{item.originalname}"
        ):
            item._id = item._id.with_params(item.name.partition("[")[2].removesuffix("]"))
