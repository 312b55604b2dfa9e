"""The proxy surface without backends: unconfigured or misconfigured, every route says so in
influx-proxy's error shape (never a 500); paths and methods it lacks answer as Go's mux and
influx-proxy do. (tests/proxy runs it against real influxd backends.)"""

from __future__ import annotations

import json

import pytest

from chalicelib.api.proxy.routes import NOT_CONFIGURED


@pytest.fixture
def unconfigured(monkeypatch):
    monkeypatch.delenv("PROXY_CONFIG", raising=False)
    monkeypatch.delenv("PROXY_CONFIG_JSON", raising=False)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/proxy/ping"),
        ("post", "/proxy/write?db=x"),
        ("get", "/proxy/query?q=SHOW+DATABASES"),
        ("get", "/proxy/health"),
        ("get", "/proxy/replica?db=a&meas=b"),
        ("post", "/proxy/rebalance"),
    ],
)
def test_an_unconfigured_proxy_says_so(client, unconfigured, method, path) -> None:
    response = getattr(client.http, method)(path)
    assert (response.status_code, response.json_body) == (404, {"error": NOT_CONFIGURED})
    assert response.headers["X-Influxdb-Version"] == "2.4.7"


def test_an_invalid_config_names_the_problem(client, monkeypatch, tmp_path) -> None:
    path = tmp_path / "proxy.json"
    path.write_text(json.dumps({"circles": [{"name": "c", "backends": []}]}))
    monkeypatch.setenv("PROXY_CONFIG", str(path))
    response = client.http.get("/proxy/health")
    assert (response.status_code, response.json_body) == (400, {"error": "backends cannot be empty"})
    monkeypatch.setenv("PROXY_CONFIG", str(tmp_path / "missing.json"))
    response = client.http.get("/proxy/health")
    assert response.status_code == 503 and "missing.json" in response.json_body["error"]


def test_wrong_methods_and_plain_answers_as_influx_proxy(client, monkeypatch) -> None:
    monkeypatch.setenv(
        "PROXY_CONFIG_JSON",
        json.dumps({"circles": [{"name": "c", "backends": [{"name": "b", "url": "http://127.0.0.1:9"}]}]}),
    )
    monkeypatch.delenv("PROXY_CONFIG", raising=False)
    wrong = client.http.get("/proxy/write")
    assert (wrong.status_code, wrong.json_body) == (405, {"error": "method not allow"})
    encrypted = client.http.get("/proxy/encrypt?msg=admin", headers={"Accept": "*/*"})
    assert encrypted.body == b"YgvEyuPZlDYAH8sGDkC!Ag\n"


def test_auth_when_configured(client, monkeypatch) -> None:
    config = {
        "circles": [{"name": "c", "backends": [{"name": "b", "url": "http://127.0.0.1:9"}]}],
        "username": "admin",
        "password": "secret",
    }
    monkeypatch.setenv("PROXY_CONFIG_JSON", json.dumps(config))
    monkeypatch.delenv("PROXY_CONFIG", raising=False)
    refused = client.http.get("/proxy/replica?db=a&meas=b")
    assert (refused.status_code, refused.json_body) == (401, {"error": "authentication failed"})
    assert client.http.get("/proxy/replica?db=a&meas=b&u=admin&p=secret").status_code == 200
    basic = {"Authorization": "Basic YWRtaW46c2VjcmV0"}
    assert client.http.get("/proxy/replica?db=a&meas=b", headers=basic).status_code == 200
    assert client.http.get("/proxy/ping").status_code == 204  # ping needs no credentials
