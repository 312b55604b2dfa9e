"""API Gateway's resource tree for the app's routes (chalicelib/api/routing.py): what infra declares and the
local stack routes through. It must be a tree API Gateway accepts and one no request falls out of."""

from __future__ import annotations

import random
import string

import pytest

from chalicelib.api.routing import GREEDY, ResourceTree

ROUTES = [
    "/ping",
    "/write",
    "/api/v2/write",
    "/api/v2/buckets",
    "/api/v2/buckets/{bucketID}",
    "/api/v2/buckets/{bucketID}/labels/{labelID}",
    "/kapacitor/v1/write",
]


@pytest.fixture(scope="module")
def tree() -> ResourceTree:
    return ResourceTree.of(ROUTES)


def test_routes_and_their_parents_are_resources(tree):
    assert set(ROUTES) <= set(tree.resources)
    assert {
        "/",
        "/api",
        "/api/v2",
        "/kapacitor",
        "/kapacitor/v1",
        "/api/v2/buckets/{bucketID}/labels",
    } <= set(tree.resources)
    assert set(tree.catch_alls) == set(tree.resources) - set(ROUTES)


def test_api_gateway_accepts_the_tree(tree):
    """One variable child per resource at most, and nothing under a greedy one."""
    for resource, kids in tree.children.items():
        assert len([kid for kid in kids if kid.startswith("{")]) <= 1, resource
        if resource.endswith(GREEDY):
            assert kids == []


def test_greedy_children_only_where_no_variable_child(tree):
    assert "/api/v2/buckets/{proxy+}" not in tree.resources  # {bucketID} takes any one segment there
    assert {"/{proxy+}", "/api/v2/{proxy+}", "/api/v2/buckets/{bucketID}/{proxy+}"} <= set(tree.resources)


@pytest.mark.parametrize(
    ("path", "resource", "parameters"),
    [
        ("/", "/", {}),
        ("/ping", "/ping", {}),
        ("/ping/", "/ping", {}),
        ("/api/v2/buckets/b1", "/api/v2/buckets/{bucketID}", {"bucketID": "b1"}),
        (
            "/api/v2/buckets/b1/labels/l1",
            "/api/v2/buckets/{bucketID}/labels/{labelID}",
            {"bucketID": "b1", "labelID": "l1"},
        ),
        (
            "/api/v2/buckets/b1/owners",
            "/api/v2/buckets/{bucketID}/{proxy+}",
            {"bucketID": "b1", "proxy": "owners"},
        ),
        ("/api/v2/nope/a/b", "/api/v2/{proxy+}", {"proxy": "nope/a/b"}),
        ("/kapacitor", "/kapacitor", {}),
        ("/writes", "/{proxy+}", {"proxy": "writes"}),
    ],
)
def test_match_as_api_gateway_routes(tree, path, resource, parameters):
    assert tree.match(path) == (resource, parameters)


def test_no_path_falls_out_of_the_tree(tree):
    rng = random.Random(7)
    segments = ["api", "v2", "buckets", "labels", "write", "kapacitor", "v1", "{x}", "", "x"]
    for _ in range(2000):
        parts = [
            rng.choice([*segments, rng.choice(string.ascii_lowercase)]) for _ in range(rng.randint(0, 7))
        ]
        resource, _ = tree.match("/" + "/".join(parts))
        assert resource in tree.children
