"""What the local stack's tests share: an in-process moto server and clients pointed at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import boto3

from scripts.localstack import MotoServer, configure_environment


@contextmanager
def moto_server(prefix: str) -> Iterator[str]:
    """A moto server with this process's environment pointed at it (resource names under `prefix`);
    the environment is put back afterwards. Yields its URL."""
    saved = dict(os.environ)
    server = MotoServer().start()
    configure_environment(server.endpoint_url, prefix=prefix)
    try:
        yield server.endpoint_url
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)


def client(service: str, url: str):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1")
