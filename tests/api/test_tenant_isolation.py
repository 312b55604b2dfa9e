"""No tenant reaches another: every InfluxDB route the app serves (read off the Chalice app's own route
table, so a new route is walked without anyone listing it here) is called with a second org's
all-access token against the first org's objects: their ids in the path, in query parameters and in
request bodies, and the second org's own objects in the path with the first org's ids in the body.

Nothing may come back that reads, changes or reveals the first org's data:
- no 5xx;
- no answer (any status) shows one of the first org's names, tokens, label properties or points;
- no 2xx shows one of its ids the request did not carry;
- after each route that may change something (and after the walk), the first org's objects (as the
  operator sees them) are what they were, its points and credentials are unchanged, and none of the
  second org's objects names one of them; the second org's token still works (else the walk would
  prove nothing).

The first org's ids are known to be reachable: the operator's token gets them from every GET route
that takes an id (a control, so the walk cannot pass because the ids were wrong)."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest

from tests.api.conftest import query

_n = itertools.count()
JSON = {"Content-Type": "application/json"}
SURFACE_PREFIXES = ("/api/v2", "/private/legacy", "/legacy", "/write", "/query", "/ping", "/health", "/ready")


@dataclass
class Tenant:
    """An org onboarded through /api/v2/setup/user (user, org, bucket, all-access token) and the
    objects it made with that token."""

    tag: str
    user: dict
    org: dict
    bucket: dict
    token: str
    auth: dict
    password: str
    label: dict = field(default_factory=dict)
    second_auth: dict = field(default_factory=dict)
    legacy: dict = field(default_factory=dict)
    dbrp: dict = field(default_factory=dict)
    task: dict = field(default_factory=dict)
    database: str = ""
    measurement: str = ""

    @property
    def names(self) -> set[str]:
        """What must never appear in an answer to the other org (unless the request carried it)."""
        return {
            self.org["name"],
            self.user["name"],
            self.bucket["name"],
            self.label["name"],
            *self.label["properties"].values(),
            self.legacy["token"],
            self.database,
            self.dbrp["retention_policy"],
            self.measurement,
            self.task["name"],
            f"{self.tag}host",
            self.token,
            self.second_auth["token"],
        }

    @property
    def ids(self) -> set[str]:
        return {
            self.org["id"],
            self.user["id"],
            self.bucket["id"],
            self.label["id"],
            self.auth["id"],
            self.second_auth["id"],
            self.legacy["id"],
            self.dbrp["id"],
            self.task["id"],
        }

    def path_ids(self, template: str) -> dict[str, str]:
        """A value for each URL parameter the app's routes use (legacy paths name legacy ids)."""
        legacy = "legacy/authorizations" in template
        return {
            "orgID": self.org["id"],
            "bucketID": self.bucket["id"],
            "labelID": self.label["id"],
            "userID": self.user["id"],
            "authID": self.legacy["id"] if legacy else self.auth["id"],
            "dbrpID": self.dbrp["id"],
            "taskID": self.task["id"],
            "name": "sum",  # a Flux function (query suggestions): not an id
        }


def _post(http, path: str, body: dict):
    return http.post(path, body=json.dumps(body), headers=JSON)


def _onboard(client, pump, tag: str) -> Tenant:
    uid = next(_n)
    password = f"{tag}-password-{uid}"
    onboarded = _post(
        client.http,
        "/api/v2/setup/user",
        {
            "username": f"{tag}-user-{uid}",
            "password": password,
            "org": f"{tag}-org-{uid}",
            "bucket": f"{tag}bucket{uid}",
        },
    )
    assert onboarded.status_code == 201, onboarded.body
    made = onboarded.json_body
    tenant = Tenant(
        tag, made["user"], made["org"], made["bucket"], made["auth"]["token"], made["auth"], password
    )
    own = client.with_token(tenant.token).http
    org_id, bucket_id = tenant.org["id"], tenant.bucket["id"]
    label = _post(
        own,
        "/api/v2/labels",
        {"orgID": org_id, "name": f"{tag}-label-{uid}", "properties": {"color": f"{tag}-property-{uid}"}},
    )
    assert label.status_code == 201, label.body
    tenant.label = label.json_body["label"]
    assert (
        _post(own, f"/api/v2/buckets/{bucket_id}/labels", {"labelID": tenant.label["id"]}).status_code == 201
    )
    # an all-access token reads its org but may not change it: the operator labels it, adds a member
    assert _post(client.http, f"/api/v2/orgs/{org_id}/members", {"id": tenant.user["id"]}).status_code == 201
    assert (
        _post(client.http, f"/api/v2/orgs/{org_id}/labels", {"labelID": tenant.label["id"]}).status_code
        == 201
    )
    for role in ("members", "owners"):
        assert _post(own, f"/api/v2/buckets/{bucket_id}/{role}", {"id": tenant.user["id"]}).status_code == 201
    read_bucket = [{"action": "read", "resource": {"type": "buckets", "id": bucket_id, "orgID": org_id}}]
    second = _post(own, "/api/v2/authorizations", {"orgID": org_id, "permissions": read_bucket})
    assert second.status_code == 201, second.body
    tenant.second_auth = second.json_body
    legacy = _post(
        own,
        "/private/legacy/authorizations",
        {"orgID": org_id, "token": f"{tag}-v1-{uid}", "permissions": read_bucket},
    )
    assert legacy.status_code == 201, legacy.body
    tenant.legacy = legacy.json_body
    assert (
        _post(
            own, f"/private/legacy/authorizations/{tenant.legacy['id']}/password", {"password": password}
        ).status_code
        == 204
    )
    tenant.database = f"{tag}db{uid}"
    dbrp = _post(
        own,
        "/api/v2/dbrps",
        {
            "orgID": org_id,
            "bucketID": bucket_id,
            "database": tenant.database,
            "retention_policy": f"{tag}rp{uid}",
        },
    )
    assert dbrp.status_code == 201, dbrp.body
    tenant.dbrp = dbrp.json_body
    flux = f'option task = {{name: "{tag}-task-{uid}", every: 1h}}\nfrom(bucket: "b") |> range(start: -1h)'
    task = _post(own, "/api/v2/tasks", {"orgID": org_id, "flux": flux})
    assert task.status_code == 201, task.body
    tenant.task = task.json_body
    tasked = f"/api/v2/tasks/{tenant.task['id']}"
    assert _post(own, f"{tasked}/labels", {"labelID": tenant.label["id"]}).status_code == 201
    for role in ("members", "owners"):
        assert _post(own, f"{tasked}/{role}", {"id": tenant.user["id"]}).status_code == 201
    tenant.measurement = f"{tag}_measurement_{uid}"
    written = own.post(
        f"/api/v2/write?{urlencode({'orgID': org_id, 'bucket': bucket_id})}",
        body=f"{tenant.measurement},host={tag}host value=42 1000000000".encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert written.status_code == 204, written.body
    pump.drain()
    return tenant


# -- what the walk sends -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict | None = None

    @property
    def text(self) -> str:
        return self.path + (json.dumps(self.body) if self.body is not None else "")


def _routes(app) -> list[tuple[str, str]]:
    """(path template, method) of every InfluxDB route the app serves, deletions last (so the objects
    a deletion would wrongly remove are still there for the other routes)."""
    routes = [
        (path, method)
        for path, methods in app.routes.items()
        if path.startswith(SURFACE_PREFIXES)
        for method in methods
    ]
    return sorted(routes, key=lambda r: (r[1] == "DELETE", r[0], r[1]))


def _params(template: str) -> list[str]:
    return [part[1:-1] for part in template.split("/") if part.startswith("{") and part.endswith("}")]


def _fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def _paths(template: str, method: str, victim: Tenant, caller: Tenant) -> Iterator[str]:
    """The victim's ids in every URL parameter; then the caller's own resource with the victim's ids
    below it (`/buckets/<mine>/labels/<theirs>`); then, for requests with a body, the caller's own
    resource alone (the body then carries the victim's ids). An unknown parameter (a route added
    later) gets each of the victim's ids in turn."""
    params = _params(template)
    theirs, mine = victim.path_ids(template), caller.path_ids(template)
    unknown = [p for p in params if p not in theirs]
    if unknown:
        for value in sorted(victim.ids):
            yield _fill(template, {**theirs, **{p: value for p in unknown}})
        return
    yield _fill(template, theirs)
    if len(params) > 1:
        yield _fill(template, {**theirs, params[0]: mine[params[0]]})
    if params and method in ("POST", "PUT", "PATCH") and params[0] in mine:
        yield _fill(template, mine)


def _queries(victim: Tenant, caller: Tenant) -> dict[str, list[dict[str, str]]]:
    """Query parameters naming the victim's objects, one way at a time, by what reads them: the org
    (every route), the bucket (writes, deletes, Flux), list filters, and v1 databases."""
    v, c = victim, caller
    return {
        "org": [{}, {"orgID": v.org["id"]}, {"org": v.org["name"]}, {"org": v.org["id"]}],
        "bucket": [
            {"orgID": v.org["id"], "bucket": v.bucket["name"]},
            {"org": v.org["name"], "bucket": v.bucket["id"]},
            {"orgID": c.org["id"], "bucket": v.bucket["id"]},
            {"orgID": c.org["id"], "bucketID": v.bucket["id"]},
            {"orgID": v.org["id"], "bucketID": v.bucket["id"]},
        ],
        "filters": [
            {"userID": v.user["id"]},
            {"user": v.user["name"]},
            {"name": v.bucket["name"]},
            {"name": v.user["name"]},
            {"token": v.token},
            {"authID": v.legacy["id"]},
            {"orgID": v.org["id"], "db": v.database},
            *({"id": i} for i in sorted(v.ids)),
        ],
        "v1": [
            {"db": v.database, "q": f"SELECT * FROM {v.measurement}"},
            {"db": v.bucket["name"], "q": f"SELECT * FROM {v.measurement}"},
            {"q": "SHOW DATABASES"},
            {"q": f"SHOW MEASUREMENTS ON {v.database}"},
        ],
    }


def _base_body(caller: Tenant) -> dict:
    """A body the caller may send for its own objects, with names no other call uses (so a conflict
    never hides what a call would have done)."""
    c, n = caller, next(_n)
    return {
        "orgID": c.org["id"],
        "org": c.org["name"],
        "name": f"{c.tag}-made-{n}",
        "username": f"{c.tag}-made-user-{n}",
        "description": "walk",
        "bucketID": c.bucket["id"],
        "bucket": c.bucket["name"],
        "labelID": c.label["id"],
        "id": c.user["id"],
        "userID": c.user["id"],
        "database": f"{c.tag}madedb{n}",
        "retention_policy": "walk",
        "token": f"{c.tag}-made-v1-{n}",
        "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": c.org["id"]}}],
        "password": f"{c.tag}-password-made",
        "properties": {"walk": "yes"},
        "query": "buckets()",
        "start": "1970-01-01T00:00:00Z",
        "stop": "2100-01-01T00:00:00Z",
        "predicate": "",
    }


def _overrides(victim: Tenant, caller: Tenant) -> list[dict]:
    """One field of the base body naming the victim's objects instead (None: the field left out)."""
    v, c = victim, caller
    theirs_in_mine = {"type": "buckets", "id": v.bucket["id"], "orgID": c.org["id"]}
    return [
        {"orgID": v.org["id"]},
        {"org": v.org["name"], "orgID": None},
        {"org": v.org["id"], "orgID": None},
        {"bucketID": v.bucket["id"]},
        {"bucket": v.bucket["name"]},
        {"labelID": v.label["id"]},
        {"id": v.user["id"]},
        {"userID": v.user["id"]},
        {"permissions": [{"action": "read", "resource": theirs_in_mine}]},
        {"permissions": [{"action": "read", "resource": {"type": "buckets", "id": v.bucket["id"]}}]},
        {"permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": v.org["id"]}}]},
        {"permissions": [{"action": "read", "resource": {"type": "orgs", "id": v.org["id"]}}]},
        {"query": f'from(bucket: "{v.bucket["name"]}") |> range(start: 0)'},
        {"query": f'from(bucketID: "{v.bucket["id"]}") |> range(start: 0)'},
    ]


def _body(caller: Tenant, override: dict | None = None) -> dict:
    return {k: v for k, v in {**_base_body(caller), **(override or {})}.items() if v is not None}


def _calls(template: str, method: str, victim: Tenant, caller: Tenant) -> Iterator[Call]:
    """The org-naming query variants everywhere; the bucket-naming and v1 ones on routes without an id
    in the path (writes, deletes, queries), the list filters on reads without one (lists). Body
    variants go alone; those whose Flux names the victim's bucket also with the victim's org."""
    with_body = method in ("POST", "PUT", "PATCH")
    groups = _queries(victim, caller)
    if _params(template):
        queries = groups["org"]
    elif method in ("GET", "HEAD"):
        queries = [q for group in groups.values() for q in group]
    else:
        queries = groups["org"] + groups["bucket"] + groups["v1"]
    for path in _paths(template, method, victim, caller):
        for params in queries:
            yield Call(
                method,
                f"{path}?{urlencode(params)}" if params else path,
                _body(caller) if with_body else None,
            )
        for override in _overrides(victim, caller) if with_body else []:
            yield Call(method, path, _body(caller, override))
            if "query" in override:  # Flux naming the victim's bucket, run in the victim's org
                yield Call(
                    method, f"{path}?{urlencode({'orgID': victim.org['id']})}", _body(caller, override)
                )


def _send(raw, token: str, call: Call):
    headers = {"Authorization": f"Token {token}"}
    body = b""
    if call.body is not None:
        headers.update(JSON)
        body = json.dumps(call.body).encode()
    return raw.http.request(call.method, call.path, headers=headers, body=body)


def _problems(call: Call, response, victim: Tenant) -> list[str]:
    text = (
        response.body.decode("utf-8", "replace") if isinstance(response.body, bytes) else str(response.body)
    )
    status = response.status_code
    where = f"{call.method} {call.path} {json.dumps(call.body) if call.body else ''}".strip()
    found = []
    if status >= 500:
        found.append(f"{status} for {where}: {text[:200]}")
    shown = [s for s in victim.names if s in text and s not in call.text]
    if 200 <= status < 300:
        shown += [i for i in victim.ids if i in text and i not in call.text]
    if shown:
        found.append(f"{status} for {where} shows {sorted(shown)}: {text[:300]}")
    return found


# -- what must not change ----------------------------------------------------------------------------


def _state(client, victim: Tenant, caller: Tenant, *, signin: bool = False) -> dict:
    """The victim's objects as the operator sees them, its points and credentials (its password with
    `signin`: a password hash costs); the caller's objects (which must name none of the victim's)."""
    http = client.http

    def get(path: str):
        response = http.get(path)
        assert response.status_code == 200, (path, response.body)
        return response.json_body

    def org_view(tenant: Tenant) -> dict:
        org_id, bucket_id = tenant.org["id"], tenant.bucket["id"]
        view = {
            "org": get(f"/api/v2/orgs/{org_id}"),
            "buckets": get(f"/api/v2/buckets?orgID={org_id}&limit=100"),
            "labels": get(f"/api/v2/labels?orgID={org_id}"),
            "authorizations": get(f"/api/v2/authorizations?orgID={org_id}"),
            "legacy": get(f"/private/legacy/authorizations?orgID={org_id}"),
            "dbrps": get(f"/api/v2/dbrps?orgID={org_id}"),
            "user": get(f"/api/v2/users/{tenant.user['id']}"),
        }
        for sub in ("members", "owners", "labels"):
            view[f"org {sub}"] = get(f"/api/v2/orgs/{org_id}/{sub}")
            view[f"bucket {sub}"] = get(f"/api/v2/buckets/{bucket_id}/{sub}")
        return view

    victim_view = org_view(victim)
    own = client.with_token(victim.token)
    points = query(own, f"SELECT * FROM {victim.measurement}", db=victim.database, epoch="ns")
    basic = base64.b64encode(f"{victim.user['name']}:{victim.password}".encode()).decode()
    anonymous = client.with_token(None).http
    signed_in = (
        anonymous.post("/api/v2/signin", headers={"Authorization": f"Basic {basic}"}) if signin else None
    )
    caller_me = client.with_token(caller.token).http.get("/api/v2/me")
    return {
        "victim": victim_view,
        "points": points,
        "victim signs in": signed_in.status_code if signed_in else None,
        "victim token": own.http.get("/api/v2/me").status_code,
        "caller token": caller_me.status_code,
        "caller": org_view(caller),
    }


def _state_problems(before: dict, after: dict, victim: Tenant, route: str) -> list[str]:
    found = []
    for key in ("victim", "points", "victim signs in", "victim token"):
        if after[key] is not None and before[key] != after[key]:
            found.append(f"{route} changed the first org's {key}: {before[key]} -> {after[key]}")
    if after["caller token"] != 200:
        found.append(f"{route}: the second org's token stopped working (the walk would prove nothing)")
    before_text, caller_text = json.dumps(before["caller"]), json.dumps(after["caller"])
    for named in sorted(s for s in victim.names | victim.ids if s in caller_text and s not in before_text):
        at = caller_text.index(named)
        found.append(
            f"{route}: the second org's objects now name the first org's {named}: "
            f"...{caller_text[max(0, at - 300) : at + 100]}..."
        )
    return found


# -- the walk --------------------------------------------------------------------------------------------


@pytest.fixture
def tenants(client, pump) -> tuple[Tenant, Tenant]:
    return _onboard(client, pump, "alpha"), _onboard(client, pump, "bravo")


def test_every_route_with_another_orgs_token_reaches_nothing(app_module, client, pump, tenants):
    victim, caller = tenants
    raw = client.raw
    routes = _routes(app_module.app)
    assert len(routes) >= 80 and ("POST", "/api/v2/buckets/{bucketID}/labels") in {(m, p) for p, m in routes}
    problems: list[str] = []
    before = initial = _state(client, victim, caller, signin=True)
    controls = 0
    for template, method in routes:
        if method == "GET" and any(p != "name" for p in _params(template)):
            # Control: the operator reaches the victim's object there, so the ids are right.
            control = Call("GET", _fill(template, victim.path_ids(template)))
            seen = _send(raw, client.http.token, control)
            text = seen.body.decode("utf-8", "replace")
            shown = (victim.names | victim.ids) - set(control.path.split("/"))
            if seen.status_code != 200 or not any(s in text for s in shown):
                problems.append(f"control: the operator does not reach {control.path}: {text[:200]}")
            controls += 1
        for call in _calls(template, method, victim, caller):
            problems += _problems(call, _send(raw, caller.token, call), victim)
        if method in ("GET", "HEAD"):
            continue  # reads change nothing: their effects, if any, show at the next check
        pump.drain()
        after = _state(client, victim, caller)
        problems += _state_problems(before, after, victim, f"{method} {template}")
        before = after  # report each change once, at the route that made it
    after = _state(client, victim, caller, signin=True)
    problems += _state_problems(
        {**before, "victim signs in": initial["victim signs in"]}, after, victim, "the walk"
    )
    assert controls >= 14  # every GET route that takes an id
    assert not problems, "\n".join(problems)


# -- the cases, one by one ------------------------------------------------------------------------------


def _error(response) -> tuple[int, dict]:
    return response.status_code, response.json_body


def test_mapping_another_orgs_label_is_unauthorized(client, tenants):
    """Case: `POST /api/v2/buckets/{id}/labels` with another org's `labelID` answered 201 and showed the
    label. influxd reads the label first: `read:orgs/<its org>/labels/<id> is unauthorized`."""
    victim, caller = tenants
    label, path = victim.label["id"], f"/api/v2/buckets/{caller.bucket['id']}/labels"
    refused = _post(client.with_token(caller.token).http, path, {"labelID": label})
    message = f"read:orgs/{victim.org['id']}/labels/{label} is unauthorized"
    assert _error(refused) == (401, {"code": "unauthorized", "message": message})
    # whoever may read both orgs still cannot put one org's label on another's resource
    for across in (path, f"/api/v2/orgs/{caller.org['id']}/labels"):
        assert _error(_post(client.http, across, {"labelID": label})) == (
            404,
            {"code": "not found", "message": "label not found"},
        )
    own = client.with_token(caller.token).http.get(f"/api/v2/buckets/{caller.bucket['id']}/labels")
    assert [lb["id"] for lb in own.json_body["labels"]] == [caller.label["id"]]


@pytest.mark.parametrize("path", ["/api/v2/authorizations", "/private/legacy/authorizations"])
def test_authorization_for_another_orgs_user_is_unauthorized(client, tenants, path):
    """Case: `POST /api/v2/authorizations` for another org's user answered 201 and showed the user's
    name. influxd needs the right to write the user: `write:users/<id> is unauthorized`; a user that
    does not exist is `unable to create token`."""
    victim, caller = tenants
    body = {
        "orgID": caller.org["id"],
        "userID": victim.user["id"],
        "token": f"case-{next(_n)}",
        "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": caller.org["id"]}}],
    }
    refused = _post(client.with_token(caller.token).http, path, body)
    message = f"write:users/{victim.user['id']} is unauthorized"
    assert _error(refused) == (401, {"code": "unauthorized", "message": message})
    nobody = _post(client.http, path, {**body, "userID": "0000000000000001"})
    assert _error(nobody) == (400, {"code": "invalid", "message": "unable to create token"})


@pytest.mark.parametrize("role", ["members", "owners"])
def test_member_or_owner_from_another_org_is_unauthorized(client, tenants, role):
    """A member or owner is a user the caller may read: adding one must not show a stranger's name."""
    victim, caller = tenants
    path = f"/api/v2/buckets/{caller.bucket['id']}/{role}"
    refused = _post(client.with_token(caller.token).http, path, {"id": victim.user["id"]})
    message = f"read:users/{victim.user['id']} is unauthorized"
    assert _error(refused) == (401, {"code": "unauthorized", "message": message})
    listed = client.http.get(path).json_body["users"]
    assert victim.user["id"] not in {u["id"] for u in listed}


def test_dbrp_mapping_onto_another_orgs_bucket_is_unauthorized(client, tenants):
    """A DBRP mapping names a bucket of its own org the caller may write (else v1 writes through the
    mapping would land in another org's bucket)."""
    victim, caller = tenants
    body = {
        "orgID": caller.org["id"],
        "bucketID": victim.bucket["id"],
        "database": "x",
        "retention_policy": "y",
    }
    refused = _post(client.with_token(caller.token).http, "/api/v2/dbrps", body)
    message = f"write:orgs/{victim.org['id']}/buckets/{victim.bucket['id']} is unauthorized"
    assert _error(refused) == (401, {"code": "unauthorized", "message": message})
    across = _post(client.http, "/api/v2/dbrps", body)
    assert _error(across) == (404, {"code": "not found", "message": "bucket not found"})


def test_permission_for_another_orgs_bucket_is_invalid(client, tenants):
    """A token's permission may not name another org's resource, even under the token's own org id
    (influxd would let the id alone match it later)."""
    victim, caller = tenants
    named = {"type": "buckets", "id": victim.bucket["id"], "orgID": caller.org["id"]}
    body = {"orgID": caller.org["id"], "permissions": [{"action": "read", "resource": named}]}
    refused = _post(client.with_token(caller.token).http, "/api/v2/authorizations", body)
    org = caller.org["id"]
    message = f"permission read:orgs/{org}/buckets/{victim.bucket['id']} is not for org id {org}"
    assert _error(refused) == (400, {"code": "invalid", "message": message})
