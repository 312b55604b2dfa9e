"""boto3 clients, one per service and process, created on first use."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3

# By endpoint too: a client keeps the endpoint it was made with (tests point processes at new ones).
_clients: dict[tuple[str, str | None], Any] = {}
# Creating clients from boto3's default session is not thread-safe (the local stack runs shards and
# HTTP requests as threads of one process); boto3 clients themselves are.
_lock = threading.Lock()


def client(service: str) -> Any:
    key = (service, os.environ.get("AWS_ENDPOINT_URL"))
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                found = _clients[key] = boto3.client(service)
    return found
