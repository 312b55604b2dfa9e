"""OpenAPI conformance: tickless against InfluxDB's own contract (`influxdb-oss-v2.yml`).

Four parts, all validated by schemathesis against the spec (no 5xx, documented status, response body
conforms to the schema, documented content type):

- `test_valid_request`: one hand-written valid request per served operation, with ids that exist, so
  the success responses (and found `{id}` paths) are always checked.
- `test_onboarding` / `test_signin_signout`: the operations that change global state, called once.
- `test_edge_case`: requests the deep (coverage phase) run found problems with, replayed every run.
- `test_fuzz`: property-based requests for every served operation except those two; `{id}` path
  parameters are either generated (not found) or one of the known resources' ids (found).

See docs/CONFORMANCE.md for what is covered, how to run it and the deviations allowed."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import hypothesis
import pytest
import requests
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conformance.conftest import (
    KNOWN_PASSWORD,
    KNOWN_USER,
    ONBOARDING,
    Conformance,
    base_url_for,
    basic,
    load_schema,
)

pytestmark = pytest.mark.e2e

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Every operation of the spec tickless serves, as (method, path) exactly as the spec spells it. Anything
# else in the spec (delete, task runs and logs, dashboards, checks, ...) is not served yet and excluded.
IMPLEMENTED: tuple[tuple[str, str], ...] = (
    ("GET", "/ping"),
    ("HEAD", "/ping"),
    ("GET", "/health"),
    ("GET", "/ready"),
    ("POST", "/write"),
    ("GET", "/query"),
    ("GET", "/api/v2"),
    ("GET", "/api/v2/resources"),
    ("GET", "/api/v2/config"),
    ("GET", "/api/v2/flags"),
    ("GET", "/api/v2/setup"),
    ("POST", "/api/v2/setup"),
    ("POST", "/api/v2/signin"),
    ("POST", "/api/v2/signout"),
    ("GET", "/api/v2/me"),
    ("PUT", "/api/v2/me/password"),
    ("POST", "/api/v2/write"),
    ("GET", "/api/v2/users"),
    ("POST", "/api/v2/users"),
    ("GET", "/api/v2/users/{userID}"),
    ("PATCH", "/api/v2/users/{userID}"),
    ("DELETE", "/api/v2/users/{userID}"),
    ("POST", "/api/v2/users/{userID}/password"),
    ("PUT", "/api/v2/users/{userID}/password"),
    ("GET", "/api/v2/orgs"),
    ("POST", "/api/v2/orgs"),
    ("GET", "/api/v2/orgs/{orgID}"),
    ("PATCH", "/api/v2/orgs/{orgID}"),
    ("DELETE", "/api/v2/orgs/{orgID}"),
    ("GET", "/api/v2/orgs/{orgID}/members"),
    ("POST", "/api/v2/orgs/{orgID}/members"),
    ("DELETE", "/api/v2/orgs/{orgID}/members/{userID}"),
    ("GET", "/api/v2/orgs/{orgID}/owners"),
    ("POST", "/api/v2/orgs/{orgID}/owners"),
    ("DELETE", "/api/v2/orgs/{orgID}/owners/{userID}"),
    ("GET", "/api/v2/buckets"),
    ("POST", "/api/v2/buckets"),
    ("GET", "/api/v2/buckets/{bucketID}"),
    ("PATCH", "/api/v2/buckets/{bucketID}"),
    ("DELETE", "/api/v2/buckets/{bucketID}"),
    ("GET", "/api/v2/buckets/{bucketID}/labels"),
    ("POST", "/api/v2/buckets/{bucketID}/labels"),
    ("DELETE", "/api/v2/buckets/{bucketID}/labels/{labelID}"),
    ("GET", "/api/v2/buckets/{bucketID}/members"),
    ("POST", "/api/v2/buckets/{bucketID}/members"),
    ("DELETE", "/api/v2/buckets/{bucketID}/members/{userID}"),
    ("GET", "/api/v2/buckets/{bucketID}/owners"),
    ("POST", "/api/v2/buckets/{bucketID}/owners"),
    ("DELETE", "/api/v2/buckets/{bucketID}/owners/{userID}"),
    ("GET", "/api/v2/labels"),
    ("POST", "/api/v2/labels"),
    ("GET", "/api/v2/labels/{labelID}"),
    ("PATCH", "/api/v2/labels/{labelID}"),
    ("DELETE", "/api/v2/labels/{labelID}"),
    ("GET", "/api/v2/authorizations"),
    ("POST", "/api/v2/authorizations"),
    ("GET", "/api/v2/authorizations/{authID}"),
    ("PATCH", "/api/v2/authorizations/{authID}"),
    ("DELETE", "/api/v2/authorizations/{authID}"),
    ("GET", "/api/v2/dbrps"),
    ("POST", "/api/v2/dbrps"),
    ("GET", "/api/v2/dbrps/{dbrpID}"),
    ("PATCH", "/api/v2/dbrps/{dbrpID}"),
    ("DELETE", "/api/v2/dbrps/{dbrpID}"),
    ("GET", "/api/v2/tasks"),
    ("POST", "/api/v2/tasks"),
    ("GET", "/api/v2/tasks/{taskID}"),
    ("PATCH", "/api/v2/tasks/{taskID}"),
    ("DELETE", "/api/v2/tasks/{taskID}"),
    ("GET", "/api/v2/tasks/{taskID}/labels"),
    ("POST", "/api/v2/tasks/{taskID}/labels"),
    ("DELETE", "/api/v2/tasks/{taskID}/labels/{labelID}"),
    ("GET", "/api/v2/tasks/{taskID}/members"),
    ("POST", "/api/v2/tasks/{taskID}/members"),
    ("DELETE", "/api/v2/tasks/{taskID}/members/{userID}"),
    ("GET", "/api/v2/tasks/{taskID}/owners"),
    ("POST", "/api/v2/tasks/{taskID}/owners"),
    ("DELETE", "/api/v2/tasks/{taskID}/owners/{userID}"),
    ("GET", "/legacy/authorizations"),
    ("POST", "/legacy/authorizations"),
    ("GET", "/legacy/authorizations/{authID}"),
    ("PATCH", "/legacy/authorizations/{authID}"),
    ("DELETE", "/legacy/authorizations/{authID}"),
    ("POST", "/legacy/authorizations/{authID}/password"),
    ("POST", "/api/v2/query"),
    ("POST", "/api/v2/query/analyze"),
    ("POST", "/api/v2/query/ast"),
    ("GET", "/api/v2/query/suggestions"),
    ("GET", "/api/v2/query/suggestions/{name}"),
)

# Global state: onboarding can happen once per server, and signing out needs a session. Each gets one
# explicit, valid call instead (test_onboarding, test_signin_signout).
NOT_FUZZED = frozenset({("POST", "/api/v2/setup"), ("POST", "/api/v2/signout")})
FUZZED = frozenset(IMPLEMENTED) - NOT_FUZZED

# The default run stays around two minutes; TICKLESS_CONFORMANCE_DEEP=1 adds schemathesis's coverage
# phase (boundary values, missing parameters, unexpected methods) and more examples (~6+ minutes).
DEEP = os.environ.get("TICKLESS_CONFORMANCE_DEEP") == "1"
MAX_EXAMPLES = 50 if DEEP else 15
# The coverage phase of an operation whose body carries a Flux AST (`extern`, a deep recursive schema)
# makes thousands of cases: ~10 minutes each for the two Flux query operations, in schemathesis itself.
FUZZ_TIMEOUT = 1200 if DEEP else 300

schema = load_schema()
fuzz_schema = schema.include(lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in FUZZED)
fuzz_schema.config.phases.update(
    phases=["examples", "coverage", "fuzzing"] if DEEP else ["examples", "fuzzing"]
)
# Not TRACE/QUERY: the local stack's HTTP server (not the app; API Gateway when deployed) answers them 501.
fuzz_schema.config.phases.coverage.unexpected_methods = {"get", "put", "post", "delete", "options", "patch"}
fuzz_schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")

# Ids of resources that exist on the stack under test, filled in once the `conformance` fixture has
# created them; the path-parameter hook below reads it when hypothesis draws.
KNOWN: dict[str, str] = {}


def known_path_parameters(path: str, generated: dict[str, Any]) -> dict[str, Any] | None:
    """`generated` with every id parameter replaced by the id of a resource that exists."""
    replaced = dict(generated)
    for name in generated:
        key = "legacyAuthID" if name == "authID" and path.startswith("/legacy/") else name
        if key not in KNOWN:
            return None
        replaced[name] = KNOWN[key]
    return replaced


@fuzz_schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the draws use existing ids (found), half the generated ones (not found). DELETE keeps the
    generated ids: deleting the known resources would turn the rest of the run into not-found cases;
    test_valid_request deletes resources of its own."""
    operation = context.operation
    if not path_parameters or operation is None or operation.method.upper() == "DELETE":
        return st.just(path_parameters)
    known = known_path_parameters(operation.path, path_parameters)
    return st.just(path_parameters) if known is None else st.sampled_from([path_parameters, known])


@fuzz_schema.hook
def map_headers(context, headers):
    """The HTTP client computes Content-Length (`POST /api/v2/write` declares it as a parameter): a
    generated one that disagrees with the body only exercises the local stack's development server
    (`chalice local` drops the connection on a non-numeric one), never the app."""
    if headers:
        for name in [n for n in headers if n.lower() == "content-length"]:
            del headers[name]
    return headers


@pytest.fixture(scope="module")
def fuzz_session(conformance: Conformance) -> requests.Session:
    """A keep-alive session that never stores cookies (a fuzzed sign-in must not authenticate later
    requests)."""
    KNOWN.update(conformance.ids)
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


def test_allow_list_matches_spec() -> None:
    """Every allow-listed operation exists in the spec as spelled (a typo would silently skip it)."""
    in_spec = {(r.ok().method.upper(), r.ok().path) for r in schema.get_all_operations()}
    assert set(IMPLEMENTED) - in_spec == set()
    fuzzed = {(r.ok().method.upper(), r.ok().path) for r in fuzz_schema.get_all_operations()}
    assert fuzzed == FUZZED


# -- one valid request per operation ------------------------------------------------------------------

_unique = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_unique)}"


@dataclass(frozen=True)
class Valid:
    """A valid request: `prepare` returns `Case` keyword arguments (creating what the call needs)."""

    method: str
    path: str
    expect: int
    prepare: Callable[[Conformance], dict[str, Any]]

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _json(body: Any, **kwargs: Any) -> dict[str, Any]:
    return {"body": body, "media_type": "application/json", **kwargs}


def _ids(*names: str) -> Callable[[Conformance], dict[str, Any]]:
    return lambda c: {"path_parameters": {name: c.ids[name] for name in names}}


_ID_NAMES = {"orgs": "orgID", "buckets": "bucketID", "tasks": "taskID"}
_TASK_FLUX = 'option task = {name: "made", every: 1h}\nfrom(bucket: "b") |> range(start: -1h)'


def _task_label(c: Conformance) -> dict[str, Any]:
    label = c.label(c.ids["orgID"], unique("task-assigned"))
    c.request("POST", f"/api/v2/tasks/{c.ids['taskID']}/labels", 201, json={"labelID": label["id"]})
    return {"path_parameters": {"taskID": c.ids["taskID"], "labelID": label["id"]}}


def _member_of(kind: str, role: str) -> Callable[[Conformance], dict[str, Any]]:
    """Path parameters of a membership that exists: a fresh user added to the known org or bucket."""
    id_name = _ID_NAMES[kind]

    def prepare(c: Conformance) -> dict[str, Any]:
        user = c.user(unique("member"))
        c.request("POST", f"/api/v2/{kind}/{c.ids[id_name]}/{role}", 201, json={"id": user["id"]})
        return {"path_parameters": {id_name: c.ids[id_name], "userID": user["id"]}}

    return prepare


def _bucket_label(c: Conformance) -> dict[str, Any]:
    label = c.label(c.ids["orgID"], unique("assigned"))
    c.request("POST", f"/api/v2/buckets/{c.ids['bucketID']}/labels", 201, json={"labelID": label["id"]})
    return {"path_parameters": {"bucketID": c.ids["bucketID"], "labelID": label["id"]}}


def _new_member(kind: str) -> Callable[[Conformance], dict[str, Any]]:
    id_name = _ID_NAMES[kind]
    return lambda c: _json({"id": c.user(unique("member"))["id"]}, path_parameters={id_name: c.ids[id_name]})


def _permissions(c: Conformance) -> list[dict[str, Any]]:
    resource = {"type": "buckets", "id": c.ids["bucketID"], "orgID": c.ids["orgID"]}
    return [{"action": "read", "resource": resource}, {"action": "write", "resource": resource}]


VALID: tuple[Valid, ...] = (
    Valid("GET", "/ping", 204, lambda c: {}),
    Valid("HEAD", "/ping", 204, lambda c: {}),
    Valid("GET", "/health", 200, lambda c: {}),
    Valid("GET", "/ready", 200, lambda c: {}),
    Valid(
        "POST",
        "/write",
        204,
        lambda c: {
            "query": {"db": c.ids["database"], "precision": "s"},
            "body": "cpu,host=a usage=0.5 1700000000\n",
            "media_type": "text/plain",
        },
    ),
    Valid("GET", "/query", 200, lambda c: {"query": {"db": c.ids["database"], "q": "SHOW MEASUREMENTS"}}),
    Valid("GET", "/api/v2", 200, lambda c: {}),
    Valid("GET", "/api/v2/resources", 200, lambda c: {}),
    Valid("GET", "/api/v2/config", 200, lambda c: {}),
    Valid("GET", "/api/v2/flags", 200, lambda c: {}),
    Valid("GET", "/api/v2/setup", 200, lambda c: {}),
    Valid("GET", "/api/v2/me", 200, lambda c: {}),
    Valid("PUT", "/api/v2/me/password", 204, lambda c: _json({"password": ONBOARDING["password"]})),
    Valid(
        "POST",
        "/api/v2/write",
        204,
        lambda c: {
            "query": {"org": c.ids["orgName"], "bucket": c.ids["bucketName"], "precision": "s"},
            "body": "cpu,host=a usage=0.5 1700000000\n",
            "media_type": "text/plain",
        },
    ),
    # users
    Valid("GET", "/api/v2/users", 200, lambda c: {}),
    Valid("POST", "/api/v2/users", 201, lambda c: _json({"name": unique("user"), "status": "active"})),
    Valid("GET", "/api/v2/users/{userID}", 200, _ids("userID")),
    Valid(
        "PATCH",
        "/api/v2/users/{userID}",
        200,
        lambda c: {**_ids("userID")(c), **_json({"name": KNOWN_USER})},
    ),
    Valid(
        "DELETE",
        "/api/v2/users/{userID}",
        204,
        lambda c: {"path_parameters": {"userID": c.user(unique("doomed"))["id"]}},
    ),
    Valid(
        "POST",
        "/api/v2/users/{userID}/password",
        204,
        lambda c: {**_ids("userID")(c), **_json({"password": KNOWN_PASSWORD})},
    ),
    Valid(
        "PUT",
        "/api/v2/users/{userID}/password",
        204,
        lambda c: {**_ids("userID")(c), **_json({"password": KNOWN_PASSWORD})},
    ),
    # orgs
    Valid("GET", "/api/v2/orgs", 200, lambda c: {}),
    Valid("POST", "/api/v2/orgs", 201, lambda c: _json({"name": unique("org"), "description": "made"})),
    Valid("GET", "/api/v2/orgs/{orgID}", 200, _ids("orgID")),
    Valid(
        "PATCH", "/api/v2/orgs/{orgID}", 200, lambda c: {**_ids("orgID")(c), **_json({"description": "x"})}
    ),
    Valid(
        "DELETE",
        "/api/v2/orgs/{orgID}",
        204,
        lambda c: {"path_parameters": {"orgID": c.org(unique("doomed"))["id"]}},
    ),
    Valid("GET", "/api/v2/orgs/{orgID}/members", 200, _ids("orgID")),
    Valid("POST", "/api/v2/orgs/{orgID}/members", 201, _new_member("orgs")),
    Valid("DELETE", "/api/v2/orgs/{orgID}/members/{userID}", 204, _member_of("orgs", "members")),
    Valid("GET", "/api/v2/orgs/{orgID}/owners", 200, _ids("orgID")),
    Valid("POST", "/api/v2/orgs/{orgID}/owners", 201, _new_member("orgs")),
    Valid("DELETE", "/api/v2/orgs/{orgID}/owners/{userID}", 204, _member_of("orgs", "owners")),
    # buckets
    Valid("GET", "/api/v2/buckets", 200, lambda c: {"query": {"orgID": c.ids["orgID"]}}),
    Valid(
        "POST",
        "/api/v2/buckets",
        201,
        lambda c: _json(
            {
                "orgID": c.ids["orgID"],
                "name": unique("bucket"),
                "retentionRules": [{"type": "expire", "everySeconds": 86400}],
            }
        ),
    ),
    Valid("GET", "/api/v2/buckets/{bucketID}", 200, _ids("bucketID")),
    Valid(
        "PATCH",
        "/api/v2/buckets/{bucketID}",
        200,
        lambda c: {**_ids("bucketID")(c), **_json({"description": "patched"})},
    ),
    Valid(
        "DELETE",
        "/api/v2/buckets/{bucketID}",
        204,
        lambda c: {"path_parameters": {"bucketID": c.bucket(c.ids["orgID"], unique("doomed"))["id"]}},
    ),
    Valid("GET", "/api/v2/buckets/{bucketID}/labels", 200, _ids("bucketID")),
    Valid(
        "POST",
        "/api/v2/buckets/{bucketID}/labels",
        201,
        lambda c: {
            **_ids("bucketID")(c),
            **_json({"labelID": c.label(c.ids["orgID"], unique("label"))["id"]}),
        },
    ),
    Valid("DELETE", "/api/v2/buckets/{bucketID}/labels/{labelID}", 204, _bucket_label),
    Valid("GET", "/api/v2/buckets/{bucketID}/members", 200, _ids("bucketID")),
    Valid("POST", "/api/v2/buckets/{bucketID}/members", 201, _new_member("buckets")),
    Valid("DELETE", "/api/v2/buckets/{bucketID}/members/{userID}", 204, _member_of("buckets", "members")),
    Valid("GET", "/api/v2/buckets/{bucketID}/owners", 200, _ids("bucketID")),
    Valid("POST", "/api/v2/buckets/{bucketID}/owners", 201, _new_member("buckets")),
    Valid("DELETE", "/api/v2/buckets/{bucketID}/owners/{userID}", 204, _member_of("buckets", "owners")),
    # labels
    Valid("GET", "/api/v2/labels", 200, lambda c: {"query": {"orgID": c.ids["orgID"]}}),
    Valid(
        "POST",
        "/api/v2/labels",
        201,
        lambda c: _json({"orgID": c.ids["orgID"], "name": unique("label"), "properties": {"color": "fff"}}),
    ),
    Valid("GET", "/api/v2/labels/{labelID}", 200, _ids("labelID")),
    Valid(
        "PATCH",
        "/api/v2/labels/{labelID}",
        200,
        lambda c: {**_ids("labelID")(c), **_json({"properties": {"color": "00ff00"}})},
    ),
    Valid(
        "DELETE",
        "/api/v2/labels/{labelID}",
        204,
        lambda c: {"path_parameters": {"labelID": c.label(c.ids["orgID"], unique("doomed"))["id"]}},
    ),
    # authorizations
    Valid("GET", "/api/v2/authorizations", 200, lambda c: {"query": {"orgID": c.ids["orgID"]}}),
    Valid(
        "POST",
        "/api/v2/authorizations",
        201,
        lambda c: _json({"orgID": c.ids["orgID"], "description": "made", "permissions": _permissions(c)}),
    ),
    Valid("GET", "/api/v2/authorizations/{authID}", 200, _ids("authID")),
    Valid(
        "PATCH",
        "/api/v2/authorizations/{authID}",
        200,
        lambda c: {**_ids("authID")(c), **_json({"status": "active", "description": "patched"})},
    ),
    Valid(
        "DELETE",
        "/api/v2/authorizations/{authID}",
        204,
        lambda c: {"path_parameters": {"authID": c.authorization(c.ids["orgID"], c.ids["bucketID"])["id"]}},
    ),
    # DBRP mappings
    Valid("GET", "/api/v2/dbrps", 200, lambda c: {"query": {"orgID": c.ids["orgID"]}}),
    Valid(
        "POST",
        "/api/v2/dbrps",
        201,
        lambda c: _json(
            {
                "orgID": c.ids["orgID"],
                "bucketID": c.ids["bucketID"],
                "database": unique("db"),
                "retention_policy": "autogen",
                "default": True,
            }
        ),
    ),
    Valid(
        "GET",
        "/api/v2/dbrps/{dbrpID}",
        200,
        lambda c: {**_ids("dbrpID")(c), "query": {"orgID": c.ids["orgID"]}},
    ),
    Valid(
        "PATCH",
        "/api/v2/dbrps/{dbrpID}",
        200,
        lambda c: {**_ids("dbrpID")(c), "query": {"orgID": c.ids["orgID"]}, **_json({"default": True})},
    ),
    Valid(
        "DELETE",
        "/api/v2/dbrps/{dbrpID}",
        204,
        lambda c: {
            "path_parameters": {"dbrpID": c.dbrp(c.ids["orgID"], c.ids["bucketID"], unique("doomed"))["id"]},
            "query": {"orgID": c.ids["orgID"]},
        },
    ),
    # task definitions
    Valid("GET", "/api/v2/tasks", 200, lambda c: {"query": {"orgID": c.ids["orgID"], "limit": 10}}),
    Valid("POST", "/api/v2/tasks", 201, lambda c: _json({"orgID": c.ids["orgID"], "flux": _TASK_FLUX})),
    Valid("GET", "/api/v2/tasks/{taskID}", 200, _ids("taskID")),
    Valid(
        "PATCH",
        "/api/v2/tasks/{taskID}",
        200,
        lambda c: {**_ids("taskID")(c), **_json({"every": "2h", "description": "patched"})},
    ),
    Valid(
        "DELETE",
        "/api/v2/tasks/{taskID}",
        204,
        lambda c: {"path_parameters": {"taskID": c.task(c.ids["orgID"], unique("doomed"))["id"]}},
    ),
    Valid("GET", "/api/v2/tasks/{taskID}/labels", 200, _ids("taskID")),
    Valid(
        "POST",
        "/api/v2/tasks/{taskID}/labels",
        201,
        lambda c: _json(
            {"labelID": c.label(c.ids["orgID"], unique("task-label"))["id"]},
            path_parameters={"taskID": c.ids["taskID"]},
        ),
    ),
    Valid("DELETE", "/api/v2/tasks/{taskID}/labels/{labelID}", 204, _task_label),
    Valid("GET", "/api/v2/tasks/{taskID}/members", 200, _ids("taskID")),
    Valid("POST", "/api/v2/tasks/{taskID}/members", 201, _new_member("tasks")),
    Valid("DELETE", "/api/v2/tasks/{taskID}/members/{userID}", 204, _member_of("tasks", "members")),
    Valid("GET", "/api/v2/tasks/{taskID}/owners", 200, _ids("taskID")),
    Valid("POST", "/api/v2/tasks/{taskID}/owners", 201, _new_member("tasks")),
    Valid("DELETE", "/api/v2/tasks/{taskID}/owners/{userID}", 204, _member_of("tasks", "owners")),
    # legacy (v1) authorizations, served under /private
    Valid("GET", "/legacy/authorizations", 200, lambda c: {}),
    Valid(
        "POST",
        "/legacy/authorizations",
        201,
        lambda c: _json(
            {
                "orgID": c.ids["orgID"],
                "token": unique("v1user"),
                "description": "made",
                "permissions": _permissions(c),
            }
        ),
    ),
    Valid(
        "GET",
        "/legacy/authorizations/{authID}",
        200,
        lambda c: {"path_parameters": {"authID": c.ids["legacyAuthID"]}},
    ),
    Valid(
        "PATCH",
        "/legacy/authorizations/{authID}",
        200,
        lambda c: {"path_parameters": {"authID": c.ids["legacyAuthID"]}, **_json({"status": "active"})},
    ),
    Valid(
        "DELETE",
        "/legacy/authorizations/{authID}",
        204,
        lambda c: {
            "path_parameters": {
                "authID": c.legacy_authorization(c.ids["orgID"], c.ids["bucketID"], unique("doomed"))["id"]
            }
        },
    ),
    Valid(
        "POST",
        "/legacy/authorizations/{authID}/password",
        204,
        lambda c: {"path_parameters": {"authID": c.ids["legacyAuthID"]}, **_json({"password": "v1-secret"})},
    ),
    # Flux
    Valid(
        "POST",
        "/api/v2/query",
        200,
        lambda c: {
            "query": {"orgID": c.ids["orgID"]},
            **_json(
                {
                    "query": 'import "array"\narray.from(rows: [{_time: 2020-01-01T00:00:00Z, _value: 1.5}])',
                    "extern": {"type": "File", "body": []},
                    "type": "flux",
                    "dialect": {"annotations": ["datatype", "group", "default"]},
                }
            ),
        },
    ),
    Valid("POST", "/api/v2/query/analyze", 200, lambda c: _json({"query": "from(", "type": "flux"})),
    Valid(
        "POST",
        "/api/v2/query/ast",
        200,
        lambda c: _json({"query": 'from(bucket: "b") |> range(start: -5m) |> filter(fn: (r) => r.x == 1)'}),
    ),
    Valid("GET", "/api/v2/query/suggestions", 200, lambda c: {}),
    Valid("GET", "/api/v2/query/suggestions/{name}", 200, lambda c: {"path_parameters": {"name": "sum"}}),
)


def test_valid_requests_cover_the_fuzzed_operations() -> None:
    assert {(v.method, v.path) for v in VALID} == FUZZED - {("POST", "/api/v2/signin")}


@pytest.mark.parametrize("valid", VALID, ids=lambda v: v.id)
def test_valid_request(valid: Valid, conformance: Conformance) -> None:
    """A valid request with ids that exist succeeds and its response conforms to the spec."""
    case = schema[valid.path][valid.method].Case(**valid.prepare(conformance))
    response = case.call(base_url=conformance.base_url(valid.path), headers=conformance.headers)
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == valid.expect, response.text


# -- operations that change global state: one explicit call each -----------------------------------


def test_onboarding(conformance: Conformance) -> None:
    """The session's one `POST /api/v2/setup` (made by the fixture) conforms; a second one is refused
    with InfluxDB's 422 conflict, which the spec documents only as the `default` error response."""
    operation = schema["/api/v2/setup"]["POST"]
    first = operation.Case(body=dict(ONBOARDING), media_type="application/json")
    first.validate_response(conformance.setup_response, checks=CHECKS)

    again = operation.Case(
        body={**ONBOARDING, "org": "other", "bucket": "other"}, media_type="application/json"
    )
    response = again.call(base_url=conformance.url)
    again.validate_response(response, checks=CHECKS)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "conflict"

    allowed = schema["/api/v2/setup"]["GET"].Case()
    response = allowed.call(base_url=conformance.url)
    allowed.validate_response(response, checks=CHECKS)
    assert response.json() == {"allowed": False}


def test_signin_signout(conformance: Conformance) -> None:
    """Sign in with Basic credentials, use the session, sign out, and the session is gone."""
    name, password = unique("session-user"), "session-password"
    conformance.user(name, password=password)
    signin = schema["/api/v2/signin"]["POST"].Case(
        headers={"Authorization": "Basic " + basic(name, password)}
    )
    response = signin.call(base_url=conformance.url)
    signin.validate_response(response, checks=CHECKS)
    assert response.status_code == 204, response.text
    session: dict[str, str] = {}
    for header in response.headers.get("set-cookie", []):
        key, _, value = header.split(";", 1)[0].partition("=")
        session[key.strip()] = value.strip()
    assert session, "sign-in set no session cookie"

    me = schema["/api/v2/me"]["GET"].Case()
    response = me.call(base_url=conformance.url, cookies=session)
    me.validate_response(response, checks=CHECKS)
    assert response.status_code == 200 and response.json()["name"] == name

    signout = schema["/api/v2/signout"]["POST"].Case()
    response = signout.call(base_url=conformance.url, cookies=session)
    signout.validate_response(response, checks=CHECKS)
    assert response.status_code == 204, response.text

    response = me.call(base_url=conformance.url, cookies=session)
    me.validate_response(response, checks=CHECKS)
    assert response.status_code == 401, response.text

    # Signing out an expired session again: InfluxDB's handler does not promise 401 here, so only
    # the response's conformance is checked (204 and 401 are both documented).
    response = signout.call(base_url=conformance.url, cookies=session)
    signout.validate_response(response, checks=CHECKS)


# -- requests the deep fuzzing run found problems with, replayed on every run ----------------------


@dataclass(frozen=True)
class Edge:
    """A request (no operator token: its own credentials) and the status InfluxDB answers it with."""

    name: str
    method: str
    path: str
    expect: int
    prepare: Callable[[Conformance], dict[str, Any]]


EDGES: tuple[Edge, ...] = (
    # A v1 password without a user name (`p` alone, or Basic `:password`) is wrong credentials: 401.
    Edge(
        "v1 write, p without u",
        "POST",
        "/write",
        401,
        lambda c: {
            "query": {"db": c.ids["database"], "p": "not-a-password"},
            "body": "cpu usage=1\n",
            "media_type": "text/plain",
        },
    ),
    Edge(
        "v1 query, p without u",
        "GET",
        "/query",
        401,
        lambda c: {"query": {"db": c.ids["database"], "q": "SHOW DATABASES", "p": "not-a-password"}},
    ),
    Edge(
        "v1 write, Basic without user name",
        "POST",
        "/write",
        401,
        lambda c: {
            "query": {"db": c.ids["database"]},
            "headers": {"Authorization": "Basic " + basic("", "not-a-password")},
            "body": "cpu usage=1\n",
            "media_type": "text/plain",
        },
    ),
    Edge(
        "signin, Basic without user name",
        "POST",
        "/api/v2/signin",
        401,
        lambda c: {"headers": {"Authorization": "Basic " + basic("", "not-a-password")}},
    ),
    Edge(
        "signin, unknown user",
        "POST",
        "/api/v2/signin",
        401,
        lambda c: {"headers": {"Authorization": "Basic " + basic("nobody", "not-a-password")}},
    ),
    Edge(
        "me/password, Basic without user name",
        "PUT",
        "/api/v2/me/password",
        401,
        lambda c: {
            "headers": {"Authorization": "Basic " + basic("", "not-a-password")},
            **_json({"password": "a-new-password"}),
        },
    ),
)


@pytest.mark.parametrize("edge", EDGES, ids=lambda e: e.name)
def test_edge_case(edge: Edge, conformance: Conformance) -> None:
    case = schema[edge.path][edge.method].Case(**edge.prepare(conformance))
    response = case.call(base_url=conformance.base_url(edge.path))
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == edge.expect, response.text


# -- property-based requests -------------------------------------------------------------------------


@pytest.mark.timeout(FUZZ_TIMEOUT)
@fuzz_schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_fuzz(case, conformance: Conformance, fuzz_session: requests.Session) -> None:
    case.call_and_validate(
        base_url=base_url_for(conformance.url, case.operation.path),
        headers=conformance.headers_for(case.operation.path),
        session=fuzz_session,
        checks=CHECKS,
    )
