"""The composition root: wires domain services to their AWS adapters, once per Lambda container."""

from __future__ import annotations

from functools import cache

from chalicelib.adapters.dynamodb import DynamoDeadLetters, DynamoIndex, DynamoSegments
from chalicelib.adapters.kinesis import KinesisPublisher
from chalicelib.adapters.resources import DynamoResources, DynamoSessions
from chalicelib.catalog import Catalog
from chalicelib.declarations import physical_name
from chalicelib.storage.store import SeriesStore
from chalicelib.tenancy.service import Tenancy
from chalicelib.writes import FieldTypeGuard, PointWriter


@cache
def index() -> DynamoIndex:
    return DynamoIndex()


@cache
def store() -> SeriesStore:
    return SeriesStore(DynamoSegments(), index())


@cache
def tenancy() -> Tenancy:
    return Tenancy(DynamoResources(), DynamoSessions(), on_bucket_removed=purge_namespace)


def purge_namespace(namespace: str) -> None:
    """Remove every point and index entry stored under a namespace (a removed bucket)."""
    for measurement in index().measurements(namespace):
        store().delete(namespace, measurement)
    field_guard().forget(namespace)


@cache
def catalog() -> Catalog:
    return Catalog(tenancy())


@cache
def field_guard() -> FieldTypeGuard:
    return FieldTypeGuard(index())


@cache
def writer() -> PointWriter:
    return PointWriter(KinesisPublisher(physical_name("points")), field_guard())


@cache
def dead_letters() -> DynamoDeadLetters:
    return DynamoDeadLetters()
