"""Durable moto: journal every AWS mutation before answering it, replay the journal at start.

`Persistence(data_dir)` opens the data directory, restores the snapshot, replays the journal through
moto's WSGI app, and `wrap(app)` returns the WSGI app the moto server serves:

* a read (Get*, Describe*, List*, Query, Scan, BatchGet*, S3 GET/HEAD, ...) goes straight to moto;
* a mutation runs under one lock, so journal order is execution order: moto executes it, the request
  is appended to the journal, the lock is released, and the answer waits until the entry is fsync'd
  (writers arriving meanwhile share that fsync: group commit). Answers moto refused with a 4xx changed
  nothing and are not journaled.
* SQS ReceiveMessage changes state (receive counts, visibility, redrive to the dead-letter queue) and
  long-polls: it runs with no wait under the lock, and is retried here until messages arrive or its
  WaitTimeSeconds pass, so a long poll never holds the lock.

Each mutation runs deterministically from its entry: moto's random generator is seeded from the
entry's number (message ids, receipt handles), and moto's clock (`moto.core.utils.utcnow`/`unix_time`)
reads the time journaled with it (visibility timeouts, arrival timestamps), the first time and at
replay. Step Functions executions are not re-run on replay (their effects are journaled entries of
their own); see docs/LOCAL_STACK.md.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import logging
import pickle
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from moto.moto_api._internal import mock_random
from werkzeug.wsgi import get_input_stream

from . import snapshot
from .datadir import DataDir, DataDirError, write_atomically
from .journal import MAGIC, Journal

logger = logging.getLogger("tickless.localstack.persistence")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
READ_PREFIXES = ("Get", "Describe", "List", "Query", "Scan", "BatchGet", "TransactGet", "Head")
NOT_READS = {"GetActivityTask"}  # claims a task
# Request environ kept in the journal: enough for moto to dispatch and parse the request again.
KEPT_ENVIRON = {
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "REQUEST_URI",
    "RAW_URI",
    "CONTENT_TYPE",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
}
DEFAULT_COMPACT_BYTES = 64 << 20
READ, WRITE, RECEIVE = "read", "write", "receive"


# -- what a request does ---------------------------------------------------------------------------


def _is_form(environ: dict[str, Any]) -> bool:
    return environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")


def _action(environ: dict[str, Any], body: bytes | None) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    if "Action" in query:
        return query["Action"]
    if body is not None and _is_form(environ):
        return dict(parse_qsl(body.decode("latin-1"))).get("Action")
    return None


def classify(environ: dict[str, Any], body: bytes | None) -> str:
    """READ, WRITE or RECEIVE (SQS ReceiveMessage). `body` is needed only for form-encoded requests."""
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api/"):
        return WRITE if path.startswith("/moto-api/reset") else READ
    action = _action(environ, body)
    if action == "ReceiveMessage":
        return RECEIVE
    if action is not None:
        return READ if action.startswith(READ_PREFIXES) and action not in NOT_READS else WRITE
    return READ if environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD", "OPTIONS") else WRITE


def _wakes_receivers(environ: dict[str, Any], body: bytes) -> bool:
    """An SQS request: it may have made messages receivable (other mutations wake no long poll)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.startswith("AmazonSQS.")
    return _is_form(environ) and (_action(environ, body) or "").startswith(("SendMessage", "ChangeMessage"))


def _without_wait(environ: dict[str, Any], body: bytes) -> tuple[bytes, float]:
    """ReceiveMessage's body with WaitTimeSeconds 0, and the wait it asked for."""
    if _is_form(environ):
        fields = [(k, v) for k, v in parse_qsl(body.decode("latin-1")) if k != "WaitTimeSeconds"]
        wait = dict(parse_qsl(body.decode("latin-1"))).get("WaitTimeSeconds", "0")
        return urlencode([*fields, ("WaitTimeSeconds", "0")]).encode("latin-1"), float(wait)
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return body, 0.0
    wait = float(request.get("WaitTimeSeconds") or 0)
    request["WaitTimeSeconds"] = 0
    return json.dumps(request).encode(), wait


def _received(body: bytes) -> bool:
    if body.lstrip().startswith(b"{"):
        try:
            return bool(json.loads(body).get("Messages"))
        except ValueError:
            return True
    return b"<Message>" in body


def _sqs_fingerprint() -> Any:
    """Message counts per queue: an empty receive that moved messages to a DLQ changed them."""
    try:
        from moto.sqs.models import sqs_backends

        return tuple(
            (account, region, name, len(queue._messages))
            for account, regions in dict.items(sqs_backends)
            for region, backend in dict.items(regions)
            for name, queue in backend.queues.items()
        )
    except Exception:  # moto's internals moved: journal every receive
        return object()


# -- running a request -------------------------------------------------------------------------------


def _with_body(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    environ = dict(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = False
    return environ


def _run(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call a WSGI app and collect its whole answer."""
    answer: dict[str, Any] = {}
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer["status"], answer["headers"] = status, headers
        return written.append

    result = app(environ, start_response)
    try:
        written.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], b"".join(written)


def _replay_environ(kept: dict[str, str], body: bytes) -> dict[str, Any]:
    return _with_body(
        {
            **kept,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REMOTE_ADDR": "127.0.0.1",
        },
        body,
    )


class _Clock(threading.local):
    """The time moto's clock reads in this thread while a mutation runs: the time journaled with it."""

    moment: float | None = None

    def read(self) -> float | None:
        return self.moment

    @contextlib.contextmanager
    def at(self, moment: float) -> Iterator[None]:
        self.moment = moment
        try:
            yield
        finally:
            self.moment = None


_tickless_clock = _Clock()


def _utcnow() -> datetime.datetime:
    # Becomes the code of moto.core.utils.utcnow, so it runs with that module's globals, where
    # install_clock() puts `_tickless_clock` (`datetime` is the datetime module there as here).
    moment = _tickless_clock.read()
    if moment is None:
        return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).replace(tzinfo=None)


def install_clock() -> None:
    """Make moto's `utcnow` (and `unix_time`, which calls it) read `_tickless_clock` when set.

    moto modules import `utcnow` by name, some lazily; swapping the function's code reaches them all."""
    import moto.core.utils as utils

    if getattr(utils, "_tickless_clock", None) is _tickless_clock:
        return
    utils._tickless_clock = _tickless_clock  # type: ignore[attr-defined]
    utils.utcnow.__code__ = _utcnow.__code__


@contextlib.contextmanager
def _no_executions() -> Iterator[None]:
    """Replayed StartExecution records the execution but runs nothing: what its states did is journaled."""
    try:
        from moto.stepfunctions.parser.api import ExecutionStatus
        from moto.stepfunctions.parser.backend.execution import Execution
    except ImportError:  # pragma: no cover
        yield
        return
    start = Execution.start

    def abort(self: Any) -> None:
        self.exec_status = ExecutionStatus.ABORTED
        self.stop_date = datetime.datetime.now(datetime.UTC)

    Execution.start = abort  # type: ignore[method-assign]
    try:
        yield
    finally:
        Execution.start = start  # type: ignore[method-assign]


# -- the persistent store ------------------------------------------------------------------------------


class Persistence:
    """Open `data_dir` (validate, lock), restore its state into moto, and journal what follows.

    `compact_bytes`: snapshot and empty the journal once it grows past this (checked every second)."""

    def __init__(self, data_dir: str | Path, *, compact_bytes: int = DEFAULT_COMPACT_BYTES) -> None:
        self.dir = DataDir(data_dir)
        install_clock()
        self.compact_bytes = compact_bytes
        self._lock = threading.Lock()  # serializes mutations (and snapshots)
        self._changed = threading.Condition(self._lock)
        self.sequence = 0  # number of the last journaled mutation, over the directory's life
        self.replayed = 0
        self.snapshots = 0
        self._stop = threading.Event()
        self._compactor: threading.Thread | None = None
        try:
            if self.dir.snapshot_path.exists():
                self.sequence, state = snapshot.load(
                    self.dir.snapshot_path.read_bytes(), str(self.dir.snapshot_path)
                )
                snapshot.restore(state)
            self.journal = Journal(self.dir.journal_path)
        except OSError as exc:
            self.dir.close()
            raise DataDirError(f"cannot use data directory {self.dir.path}: {exc}") from None
        except BaseException:
            self.dir.close()
            raise

    @property
    def path(self) -> Path:
        return self.dir.path

    def _seed(self, sequence: int) -> str:
        return f"{self.dir.instance}:{sequence}"

    def recover(self, app: WSGIApp) -> int:
        """Replay the journal's entries newer than the snapshot into moto; how many were replayed."""
        try:
            entries = [pickle.loads(payload) for payload in self.journal.entries]
        except Exception as exc:
            raise DataDirError(f"{self.journal.path} holds an unreadable entry ({exc})") from None
        with _no_executions():
            for sequence, started, kept, body in entries:
                if sequence <= self.sequence:
                    continue  # already in the snapshot
                mock_random.seed(self._seed(sequence))
                with _tickless_clock.at(started):
                    status, _, answer = _run(app, _replay_environ(kept, body))
                if not status.startswith(("2", "3")):
                    logger.warning("replaying entry %d answered %s: %s", sequence, status, answer[:200])
                self.sequence = sequence
                self.replayed += 1
        if self.replayed:
            logger.info("replayed %d journaled AWS mutations from %s", self.replayed, self.journal.path)
            self.compact()
        return self.replayed

    def wrap(self, app: WSGIApp) -> WSGIApp:
        """The WSGI app to serve: `app` with mutations journaled before they are answered."""

        def journaling_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            body: bytes | None = None
            if environ.get("REQUEST_METHOD") not in ("GET", "HEAD", "OPTIONS") or _is_form(environ):
                body = get_input_stream(environ).read()
                environ = _with_body(environ, body)
            kind = classify(environ, body)
            if kind == READ:
                return app(environ, start_response)
            assert body is not None
            if kind == RECEIVE:
                status, headers, answer = self._receive(app, environ, body)
            else:
                status, headers, answer = self._mutate(app, environ, body)
            start_response(status, headers)
            return [answer]

        return journaling_app

    def _log(self, environ: dict[str, Any], body: bytes, started: float) -> int:
        """Append a mutation moto just executed (lock held); its journal entry number."""
        kept = {k: v for k, v in environ.items() if k in KEPT_ENVIRON or k.startswith("HTTP_")}
        self.sequence += 1
        number = self.journal.append(pickle.dumps((self.sequence, started, kept, body), protocol=5))
        if _wakes_receivers(environ, body):
            self._changed.notify_all()
        return number

    def _execute(
        self, app: WSGIApp, environ: dict[str, Any], body: bytes
    ) -> tuple[float, tuple[str, Any, bytes]]:
        started = time.time()
        mock_random.seed(self._seed(self.sequence + 1))
        with _tickless_clock.at(started):  # what moto stores is what replay will store
            return started, _run(app, _with_body(environ, body))

    def _mutate(self, app: WSGIApp, environ: dict[str, Any], body: bytes) -> tuple[str, Any, bytes]:
        with self._lock:
            started, (status, headers, answer) = self._execute(app, environ, body)
            number = None if status.startswith("4") else self._log(environ, body, started)
        if number is not None:
            self.journal.sync(number)
        return status, headers, answer

    def _receive(self, app: WSGIApp, environ: dict[str, Any], body: bytes) -> tuple[str, Any, bytes]:
        body, wait = _without_wait(environ, body)
        deadline = time.monotonic() + wait
        while True:
            with self._lock:
                before = _sqs_fingerprint()
                started, (status, headers, answer) = self._execute(app, environ, body)
                number = None
                if not status.startswith("4") and (_received(answer) or _sqs_fingerprint() != before):
                    number = self._log(environ, body, started)
                remaining = deadline - time.monotonic()
                if number is None and remaining > 0 and status.startswith("2"):
                    # Woken by the next mutation (a SendMessage), or soon for visibility timeouts.
                    self._changed.wait(min(remaining, 0.2))
                    continue
            if number is not None:
                self.journal.sync(number)
            return status, headers, answer

    # -- snapshots -----------------------------------------------------------------------------

    def compact(self) -> None:
        """Snapshot moto's state and empty the journal (blocks mutations meanwhile)."""
        with self._lock:
            for attempt in range(3):
                try:
                    data = snapshot.dump(self.sequence)
                    break
                except RuntimeError:  # a Step Functions thread changed a dict under the pickler
                    if attempt == 2:
                        raise
            write_atomically(self.dir.snapshot_path, data)
            self.journal.reset()
            self.snapshots += 1
        logger.info("snapshot of %d bytes written to %s", len(data), self.dir.snapshot_path)

    def start_compactor(self, interval: float = 1.0) -> None:
        def run() -> None:
            while not self._stop.wait(interval):
                if self.journal.size > self.compact_bytes:
                    try:
                        self.compact()
                    except Exception:
                        logger.exception("snapshot failed; the journal keeps growing")

        self._compactor = threading.Thread(target=run, name="localstack-compactor", daemon=True)
        self._compactor.start()

    def close(self, *, snapshot_now: bool = True) -> None:
        """Stop compacting; snapshot (a clean stop restarts without replay); release the directory."""
        self._stop.set()
        if self._compactor is not None:
            self._compactor.join()
        try:
            if snapshot_now and self.journal.size > len(MAGIC):
                self.compact()
        finally:
            self.journal.close()
            self.dir.close()
