"""The discovery endpoints (`/api/v2`, `/api/v2/resources`, `/api/v2/config`, `/api/v2/flags`) over
chalice.test.Client with the operator's token, each body validated against the response schema of the
InfluxDB OpenAPI spec."""

from __future__ import annotations

from pathlib import Path

import pytest

SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "influxdb-oss-v2.yml"


@pytest.fixture(scope="module")
def spec() -> dict:
    yaml = pytest.importorskip("yaml")
    if not SPEC.exists():
        pytest.skip(f"{SPEC} not available")
    return yaml.safe_load(SPEC.read_text())


def _resolve(node, spec: dict):
    """The schema with every local `$ref` inlined (the ones used here are not recursive)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(target, spec)
        return {k: _resolve(v, spec) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, spec) for v in node]
    return node


def response_schema(spec: dict, path: str) -> dict:
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    return _resolve(content["schema"], spec)


def get(client, path: str):
    response = client.http.get(path)
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Influxdb-Version"].startswith("v2.")
    assert response.headers["X-Influxdb-Build"] == "OSS"
    return response.json_body


@pytest.mark.parametrize("path", ["/api/v2", "/api/v2/resources", "/api/v2/config", "/api/v2/flags"])
def test_bodies_match_the_spec(client, spec, path):
    jsonschema = pytest.importorskip("jsonschema")
    # OpenAPI 3.0 schemas are a draft-4 dialect; `format: uri` is not asserted (paths are relative).
    jsonschema.Draft4Validator(response_schema(spec, path)).validate(get(client, path))


def test_routes(client):
    body = get(client, "/api/v2")
    for name in ("authorizations", "buckets", "dashboards", "variables", "me", "flags", "orgs", "setup"):
        assert body[name] == f"/api/v2/{name}"
    for name in ("signin", "signout", "sources", "tasks", "telegrafs", "users", "write"):
        assert body[name] == f"/api/v2/{name}"
    assert body["external"] == {"statusFeed": "https://www.influxdata.com/feed/json"}
    assert body["query"] == {
        "self": "/api/v2/query",
        "ast": "/api/v2/query/ast",
        "analyze": "/api/v2/query/analyze",
        "suggestions": "/api/v2/query/suggestions",
    }
    assert body["system"] == {"metrics": "/metrics", "debug": "/debug/pprof", "health": "/health"}
    assert body["plugins"] == "/api/v2/telegraf/plugins"
    assert body["swagger"] == "/api/v2/swagger.json"


def test_routes_cover_the_spec_schema(client, spec):
    body = get(client, "/api/v2")
    assert set(spec["components"]["schemas"]["Routes"]["properties"]) <= set(body)


def test_resources(client):
    body = get(client, "/api/v2/resources")
    assert body[:4] == ["authorizations", "buckets", "dashboards", "orgs"]
    assert {"dbrp", "secrets", "labels", "notificationRules", "instance"} <= set(body)
    assert len(body) == len(set(body))
    assert all(isinstance(name, str) for name in body)


def test_resources_are_types_the_spec_knows(client, spec):
    enum = set(spec["components"]["schemas"]["Resource"]["properties"]["type"]["enum"])
    body = get(client, "/api/v2/resources")
    assert set(body) <= enum
    # Only InfluxDB Cloud's types are left out.
    assert enum - set(body) == {"flows", "functions", "subscriptions"}


def test_config(client):
    body = get(client, "/api/v2/config")
    assert set(body) == {"config"}
    config = body["config"]
    assert config["storage-engine"] == "dynamodb"
    # The stage's prefix (chalice.test.Client applies the stage's environment variables).
    prefix = config["resource-prefix"]
    assert prefix.startswith("tickless-")
    assert config["storage-tables"]
    assert all(physical == prefix + name for name, physical in config["storage-tables"].items())
    assert config["write-streams"] == {
        name: prefix + name for name in ("points", "proxy-writes", "notifications")
    }
    assert config["http-default-page-size"] == 20
    assert config["http-max-page-size"] == 100
    # Nothing pretending to be an influxd option tickless does not have.
    assert not {"engine-path", "bolt-path", "http-bind-address"} & set(config)


def test_flags(client):
    assert get(client, "/api/v2/flags") == {}


@pytest.mark.parametrize("path", ["/api/v2", "/api/v2/resources", "/api/v2/config", "/api/v2/flags"])
def test_only_get(client, path):
    assert client.http.post(path, body=b"{}", headers={"Content-Type": "application/json"}).status_code == 405


@pytest.mark.parametrize("path", ["/api/v2/resources", "/api/v2/config", "/api/v2/flags"])
def test_need_credentials(anonymous, path):
    response = anonymous.http.get(path)
    assert response.status_code == 401
    assert response.json_body == {"code": "unauthorized", "message": "unauthorized access"}


def test_routes_are_public(anonymous):
    assert anonymous.http.get("/api/v2").status_code == 200
