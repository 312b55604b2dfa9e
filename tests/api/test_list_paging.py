"""No list is silently cut: every list route either answers every item (what influxd does for labels,
authorizations, legacy authorizations, DBRP mappings and the labels, members and owners of one
resource) or pages with InfluxDB's links (orgs, users, buckets), and following `links.next` from the
first page reaches every item exactly once.

One test per list route: each kind of the registry at each path it is served at, and each sub-list
(labels, members, owners) of each kind that has it, so a new kind's lists are checked when it is added
(it needs a `make` entry below, or the test fails)."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from chalicelib.api import paging
from chalicelib.scheduler.definitions import KINDS, TASKS
from chalicelib.tenancy import registry

JSON = {"Content-Type": "application/json"}
COUNT = paging.DEFAULT_LIMIT + 5  # more than one default page
_n = itertools.count()


def _made(client, path: str, body: dict) -> dict:
    response = client.http.post(path, body=json.dumps(body), headers=JSON)
    assert response.status_code == 201, (path, response.body)
    return response.json_body


def _every_item(client, path: str, key: str) -> tuple[list[dict], int]:
    """Every item of a list, following `links.next` from the first page; and how many pages."""
    items, pages, url = [], 0, path
    while url:
        response = client.http.get(url)
        assert response.status_code == 200, (url, response.body)
        items += response.json_body[key]
        pages += 1
        url = (response.json_body.get("links") or {}).get("next")
        assert pages <= COUNT, f"{path}: the next links never end"
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), f"{path}: an item came back twice"
    return items, pages


@pytest.fixture
def org(client) -> dict:
    return _made(client, "/api/v2/orgs", {"name": f"paging-{next(_n)}"})


def _orgs(client, org) -> tuple[str, set[str]]:
    user = _made(client, "/api/v2/users", {"name": f"paging-member-{next(_n)}"})
    ids = set()
    for _ in range(COUNT):
        made = _made(client, "/api/v2/orgs", {"name": f"paging-{next(_n)}"})
        _made(client, f"/api/v2/orgs/{made['id']}/members", {"id": user["id"]})
        ids.add(made["id"])
    return f"?userID={user['id']}", ids


def _users(client, org) -> tuple[str, set[str]]:
    return "", {
        _made(client, "/api/v2/users", {"name": f"paging-user-{next(_n)}"})["id"] for _ in range(COUNT)
    }


def _buckets(client, org) -> tuple[str, set[str]]:
    made = {
        _made(client, "/api/v2/buckets", {"orgID": org["id"], "name": f"b{next(_n)}"})["id"]
        for _ in range(COUNT)
    }
    system = {
        b["id"]
        for b in client.http.get(f"/api/v2/buckets?orgID={org['id']}&name=_tasks").json_body["buckets"]
    }
    system |= {
        b["id"]
        for b in client.http.get(f"/api/v2/buckets?orgID={org['id']}&name=_monitoring").json_body["buckets"]
    }
    return f"?orgID={org['id']}", made | system


def _labels(client, org) -> tuple[str, set[str]]:
    return f"?orgID={org['id']}", {
        _made(client, "/api/v2/labels", {"orgID": org["id"], "name": f"l{next(_n)}"})["label"]["id"]
        for _ in range(COUNT)
    }


def _tokens(path: str, legacy: bool) -> Callable:
    def make(client, org) -> tuple[str, set[str]]:
        read = [{"action": "read", "resource": {"type": "buckets", "orgID": org["id"]}}]
        ids = set()
        for _ in range(COUNT):
            body = {
                "orgID": org["id"],
                "permissions": read,
                **({"token": f"paging-v1-{next(_n)}"} if legacy else {}),
            }
            ids.add(_made(client, path, body)["id"])
        return f"?orgID={org['id']}", ids

    return make


def _dbrps(client, org) -> tuple[str, set[str]]:
    ids = set()
    for _ in range(COUNT):
        bucket = _made(client, "/api/v2/buckets", {"orgID": org["id"], "name": f"b{next(_n)}"})
        body = {
            "orgID": org["id"],
            "bucketID": bucket["id"],
            "database": f"db{next(_n)}",
            "retention_policy": "rp",
        }
        ids.add(_made(client, "/api/v2/dbrps", body)["id"])  # (a mapped bucket has no virtual one)
    return f"?orgID={org['id']}", ids


def _flux() -> str:
    return f'option task = {{name: "t{next(_n)}", every: 1h}}\nfrom(bucket: "b") |> range(start: -1h)'


def _tasks(client, org) -> tuple[str, set[str]]:
    made = {_made(client, "/api/v2/tasks", {"orgID": org["id"], "flux": _flux()})["id"] for _ in range(COUNT)}
    # influxd's default page is 100 tasks: a smaller one makes the full page the test pages through
    return f"?orgID={org['id']}&limit={paging.DEFAULT_LIMIT}", made


MAKE: dict[str, Callable] = {
    "/api/v2/orgs": _orgs,
    "/api/v2/users": _users,
    "/api/v2/buckets": _buckets,
    "/api/v2/labels": _labels,
    "/api/v2/authorizations": _tokens("/api/v2/authorizations", legacy=False),
    "/private/legacy/authorizations": _tokens("/private/legacy/authorizations", legacy=True),
    "/legacy/authorizations": _tokens("/legacy/authorizations", legacy=True),
    "/api/v2/dbrps": _dbrps,
    "/api/v2/tasks": _tasks,
}
LISTS = [(kind, path) for kind in KINDS for path in kind.paths]


@pytest.mark.parametrize(("kind", "path"), LISTS, ids=[path for _, path in LISTS])
def test_a_list_is_everything_or_pages_to_everything(client, org, kind, path):
    assert path in MAKE, f"{path}: a new list route needs a `make` entry here"
    query, made = MAKE[path](client, org)
    first = client.http.get(path + query).json_body
    items, pages = _every_item(client, path + query, kind.list_key)
    ids = {item["id"] for item in items}
    if kind.paged:
        assert "next" in first["links"], f"{path}: a full page must say where the next one is"
        assert pages >= len(ids) / paging.DEFAULT_LIMIT and pages > 1
        assert made <= ids
        small = _every_item(client, f"{path}{query}{'&' if query else '?'}limit=7", kind.list_key)[0]
        assert [i["id"] for i in small] == [i["id"] for i in items]  # same order, whatever the page size
    else:
        assert pages == 1 and "next" not in (first.get("links") or {})
        assert made <= ids and len(first[kind.list_key]) >= COUNT


SPEC = Path(
    os.environ.get("TICKLESS_OPENAPI_SPEC")
    or Path(__file__).resolve().parents[3] / "shared/specs/influxdb-oss-v2.yml"
)


@pytest.mark.parametrize(("kind", "path"), LISTS, ids=[path for _, path in LISTS])
def test_lists_page_where_the_spec_lets_clients_page(kind, path):
    """A client generated from the contract can only page where it declares `limit`: anywhere else a
    cut list would be silently cut (influxdb-client's `find_authorizations()` reads one answer)."""
    if not SPEC.is_file():
        pytest.skip(f"OpenAPI spec not found at {SPEC}")
    spec = yaml.safe_load(SPEC.read_text())
    operation = spec["paths"][path.removeprefix("/private")]["get"]
    names = set()
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        names.add(parameter["name"])
    assert kind.paged == ("limit" in names)


SUBLISTS = [
    (kind, sub)
    for kind in KINDS
    for sub in (("labels",) if kind.labels else ()) + (("members", "owners") if kind.members else ())
]


@pytest.mark.parametrize(
    ("kind", "sub"), SUBLISTS, ids=[f"{kind.path}/{{id}}/{sub}" for kind, sub in SUBLISTS]
)
def test_the_labels_members_and_owners_of_a_resource_are_every_one(client, org, kind, sub):
    if kind is registry.ORGS:
        target = org["id"]
    elif kind is TASKS:
        target = _made(client, "/api/v2/tasks", {"orgID": org["id"], "flux": _flux()})["id"]
    else:
        target = _made(client, "/api/v2/buckets", {"orgID": org["id"], "name": f"b{next(_n)}"})["id"]
    assert kind in (registry.ORGS, registry.BUCKETS, TASKS), (
        f"{kind.path}: a new kind with {sub} needs a target here"
    )
    made = set()
    for _ in range(COUNT):
        if sub == "labels":
            label = _made(client, "/api/v2/labels", {"orgID": org["id"], "name": f"l{next(_n)}"})["label"]
            _made(client, f"{kind.path}/{target}/labels", {"labelID": label["id"]})
            made.add(label["id"])
        else:
            user = _made(client, "/api/v2/users", {"name": f"paging-{sub}-{next(_n)}"})
            _made(client, f"{kind.path}/{target}/{sub}", {"id": user["id"]})
            made.add(user["id"])
    key = "labels" if sub == "labels" else "users"
    response = client.http.get(f"{kind.path}/{target}/{sub}").json_body
    assert "next" not in response["links"]
    assert made <= {item["id"] for item in response[key]}
