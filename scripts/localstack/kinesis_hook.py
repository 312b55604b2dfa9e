"""Tell the event pump the moment records land on a moto Kinesis stream served in this process.

Lambda polls a shard about once a second, so on AWS a point becomes readable up to a second or so
after its write was acknowledged (docs/DEPLOY.md). Locally that wait buys nothing, and a developer
writing then querying at once would not see the point: moto's `PutRecord`/`PutRecords` are wrapped
to call the listeners registered here, which wake the pump's idle shard pollers. Nothing is polled
more often, so an idle stack costs no more CPU than before.

moto keeps its backends in module globals, so the hook sees every put made to a moto server running
in this process, whoever the client is (the app's write path, a handler, a test's boto3 client). With
moto in another process (`--aws-endpoint`) it never fires, and the pump falls back to its idle poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("tickless.localstack.kinesis_hook")

Listener = Callable[[str], None]  # called with the stream's name after records were put on it

_lock = threading.Lock()
_listeners: list[Listener] = []
_installed = False


def subscribe(listener: Listener) -> None:
    """Call `listener(stream_name)` after every successful PutRecord(s) to moto in this process."""
    _install()
    with _lock:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def notify(stream_name: str) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(stream_name)
        except Exception:  # a listener must never fail moto's put
            logger.exception("kinesis put listener failed")


def _stream_name(stream_arn: str | None, stream_name: str | None) -> str:
    return stream_name or (stream_arn or "").rsplit("/", 1)[-1]


def _install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    from moto.kinesis.models import KinesisBackend  # moto only where the local stack runs

    def then_notify(put: Callable[..., Any]) -> Callable[..., Any]:
        def put_then_notify(
            self: KinesisBackend, stream_arn: str, stream_name: str, *args: Any, **kwargs: Any
        ) -> Any:
            result = put(self, stream_arn, stream_name, *args, **kwargs)
            notify(_stream_name(stream_arn, stream_name))
            return result

        return put_then_notify

    KinesisBackend.put_record = then_notify(KinesisBackend.put_record)  # type: ignore[method-assign]
    KinesisBackend.put_records = then_notify(KinesisBackend.put_records)  # type: ignore[method-assign]
