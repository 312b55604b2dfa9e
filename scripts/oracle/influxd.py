"""Start a private InfluxDB 1.x `influxd` on loopback ports, and talk to it (or to tickless) over HTTP.

`Influxd` writes a throw-away config into a temporary directory (meta, data and WAL inside it), binds
the HTTP API and the RPC (backup) service to free 127.0.0.1 ports, turns off authentication, usage
reporting, the `_internal` monitor database, continuous queries and every UDP/TCP input, runs
`influxd run -config <file>` as a child process, waits until `GET /ping` answers 204 and, on `stop()`
(or leaving the `with` block), terminates it and removes the directory. It never touches
/etc/influxdb or /var/lib/influxdb, so a system `influxdb` service (which Debian enables on install)
can keep running on 8086/8088 without colliding.

`Server` is a small HTTP client for the 1.x API shared by both sides: `query()` returns the status and
the parsed JSON body, `write()` posts line protocol (optionally gzipped). `onboard_tickless()` runs
`POST /api/v2/setup` on a fresh tickless stack and returns a `Server` carrying the operator token.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

STARTUP_TIMEOUT = 30.0


def influxd_binary() -> str | None:
    """Path of `influxd` (the INFLUXD environment variable wins over PATH), or None."""
    explicit = os.environ.get("INFLUXD")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("influxd")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def influxd_version(binary: str) -> str:
    """`influxd version`, e.g. `InfluxDB v1.6.7~rc0 (git: unknown unknown)`."""
    done = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=10, check=False)
    return (done.stdout or done.stderr).strip()


CONFIG = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{root}/meta"
  logging-enabled = false

[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  log-queries-after = "0s"

[retention]
  enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  auth-enabled = false
  log-enabled = false
  write-tracing = false
  pprof-enabled = false
  max-body-size = 0

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false
"""


@dataclass
class Server:
    """An InfluxDB 1.x HTTP API: a real influxd or tickless (then `headers` carries the token)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def query(
        self, q: str, db: str | None = None, epoch: str | None = "ns", timeout: float = 120.0
    ) -> tuple[int, Any]:
        """POST /query (form-encoded, as the 1.x clients do); returns (HTTP status, parsed JSON body)."""
        data = {"q": q}
        if db:
            data["db"] = db
        if epoch:
            data["epoch"] = epoch
        response = self.session.post(f"{self.url}/query", data=data, headers=self.headers, timeout=timeout)
        try:
            body = response.json()
        except ValueError:
            body = {"non-json body": response.text}
        return response.status_code, body

    def write(self, db: str, lines: str | bytes, precision: str = "ns", compress: bool = False) -> None:
        payload = lines.encode() if isinstance(lines, str) else lines
        headers = dict(self.headers)
        if compress:
            payload = gzip.compress(payload, 1)
            headers["Content-Encoding"] = "gzip"
        response = self.session.post(
            f"{self.url}/write",
            params={"db": db, "precision": precision},
            data=payload,
            headers=headers,
            timeout=300,
        )
        if response.status_code != 204:
            raise RuntimeError(f"write to {self.url} failed: {response.status_code} {response.text[:500]}")


class Influxd:
    """A private influxd on loopback ports in a temporary directory; use as a context manager."""

    def __init__(self, binary: str | None = None) -> None:
        found = binary or influxd_binary()
        if not found:
            raise FileNotFoundError("influxd is not on PATH (Debian/Ubuntu: apt-get install influxdb)")
        self.binary = found
        self.root: Path | None = None
        self.process: subprocess.Popen | None = None
        self.http_port = 0
        self.rpc_port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log_path(self) -> Path:
        assert self.root is not None
        return self.root / "influxd.log"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def start(self) -> Server:
        self.root = Path(tempfile.mkdtemp(prefix="tickless-influxd-"))
        self.http_port, self.rpc_port = free_port(), free_port()
        config = self.root / "influxdb.conf"
        config.write_text(CONFIG.format(root=self.root, http_port=self.http_port, rpc_port=self.rpc_port))
        return self._run()

    def kill(self) -> None:
        """Stop the process, keeping its data and ports: `revive()` starts it again as it was."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def revive(self) -> Server:
        return self._run()

    def _run(self) -> Server:
        assert self.root is not None
        config = self.root / "influxdb.conf"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "run", "-config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "INFLUXDB_CONFIG_PATH": str(config)},
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                if requests.get(f"{self.url}/ping", timeout=1).status_code == 204:
                    return Server(self.url)
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise RuntimeError(f"influxd did not answer /ping on {self.url}; log:\n{tail}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def onboard_tickless(
    url: str,
    username: str = "oracle",
    password: str = "oracle-password",
    org: str = "oracle-org",
    bucket: str = "oracle-bucket",
) -> Server:
    """`POST /api/v2/setup` on a fresh tickless stack; a `Server` using the operator token."""
    response = requests.post(
        f"{url}/api/v2/setup",
        json={"username": username, "password": password, "org": org, "bucket": bucket},
        timeout=60,
    )
    if response.status_code != 201:
        raise RuntimeError(f"onboarding {url} failed: {response.status_code} {response.text[:500]}")
    token = response.json()["auth"]["token"]
    return Server(url, headers={"Authorization": f"Token {token}"})


def drain(url: str, timeout: float = 120.0) -> None:
    """Wait until the local stack's consumer stored everything written so far (204)."""
    response = requests.post(
        f"{url}/_localstack/drain", params={"timeout": str(timeout)}, timeout=timeout + 30
    )
    if response.status_code != 204:
        raise RuntimeError(f"local stack did not drain: {response.status_code} {response.text[:500]}")
