"""The InfluxDB 1.x backends of the proxy, over HTTP: gzipped writes, queries passed through, pings.
A backend's own credentials go as Basic auth, as influx-proxy sends them (the caller's `u`/`p` never)."""

from __future__ import annotations

import base64
import gzip
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from chalicelib.proxy.ports import Answer, BackendUnavailable

_MAX_ANSWER_BYTES = 256 * 1024 * 1024


class InfluxdBackends:
    """proxy.ports.Backends."""

    def __init__(self, write_timeout: float = 10.0, query_timeout: float = 60.0, ping_timeout: float = 2.0):
        self.write_timeout = write_timeout
        self.query_timeout = query_timeout
        self.ping_timeout = ping_timeout

    def write(self, backend: Any, db: str, rp: str, precision: str, lines: bytes) -> None:
        params = {"db": db, "precision": precision}
        if rp:
            params["rp"] = rp
        request = urllib.request.Request(
            _url(backend, "/write", params),
            data=gzip.compress(lines, compresslevel=1),
            headers={
                "Content-Encoding": "gzip",
                "Content-Type": "text/plain; charset=utf-8",
                **_auth(backend),
            },
            method="POST",
        )
        answer = self._send(request, self.write_timeout)
        if answer.status >= 500:
            raise BackendUnavailable(f"{backend.url} answered {answer.status}: {answer.body[:300]!r}")
        if answer.status >= 300:
            raise ValueError(
                f"{backend.url} answered {answer.status}: {answer.body[:300].decode(errors='replace')}"
            )

    def query(self, backend: Any, params: Mapping[str, str], method: str = "GET") -> Answer:
        if method == "POST":
            body = urllib.parse.urlencode(_without_auth(params)).encode()
            request = urllib.request.Request(
                f"{backend.url.rstrip('/')}/query",
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", **_auth(backend)},
                method="POST",
            )
        else:
            request = urllib.request.Request(_url(backend, "/query", params), headers=_auth(backend))
        return self._send(request, self.query_timeout)

    def ping(self, backend: Any) -> bool:
        request = urllib.request.Request(f"{backend.url.rstrip('/')}/ping", headers=_auth(backend))
        try:
            return self._send(request, self.ping_timeout).status == 204
        except BackendUnavailable:
            return False

    @staticmethod
    def _send(request: urllib.request.Request, timeout: float) -> Answer:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, dict(response.headers), response.read(_MAX_ANSWER_BYTES))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, dict(exc.headers or {}), exc.read(_MAX_ANSWER_BYTES))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise BackendUnavailable(f"{request.full_url.split('?', 1)[0]}: {exc}") from exc


def _auth(backend: Any) -> dict[str, str]:
    if not (getattr(backend, "username", "") or getattr(backend, "password", "")):
        return {}
    pair = f"{backend.username}:{backend.password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


def _without_auth(params: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if k not in ("u", "p")}


def _url(backend: Any, path: str, params: Mapping[str, str]) -> str:
    return f"{backend.url.rstrip('/')}{path}?{urllib.parse.urlencode(_without_auth(params))}"
