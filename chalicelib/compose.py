"""The composition root: wires domain services to their AWS adapters, once per Lambda container."""

from __future__ import annotations

import copy
from functools import cache

from chalicelib.adapters.deadletters import DynamoDeadLetters
from chalicelib.adapters.kinesis import KinesisPublisher
from chalicelib.adapters.readcache import ReadCache
from chalicelib.adapters.resources import DynamoResources, DynamoSessions
from chalicelib.adapters.series import DynamoCompactionLog, DynamoIndex, DynamoSegments
from chalicelib.declarations import POINTS
from chalicelib.influxql.engine.context import Services
from chalicelib.ingest.fieldtypes import FieldTypeGuard
from chalicelib.ingest.writer import PointWriter
from chalicelib.series.store import SeriesStore
from chalicelib.tenancy.dbrp import Catalog
from chalicelib.tenancy.service import Tenancy


@cache
def index() -> DynamoIndex:
    # the index's answers are lists of immutable entries, dicts of strings: a shallow copy protects them
    reads = ("measurements", "series", "field_types")
    return ReadCache(DynamoIndex(), reads, copier=copy.copy)  # type: ignore[return-value]


@cache
def store() -> SeriesStore:
    return SeriesStore(DynamoSegments(), index(), DynamoCompactionLog(), on_forget=field_guard().forget)


@cache
def tenancy() -> Tenancy:
    resources = ReadCache(DynamoResources(), ("get", "list", "find", "related", "referring", "has_flag"))
    sessions = ReadCache(DynamoSessions(), ("user",))
    # a removed bucket's points and index entries go with it
    return Tenancy(resources, sessions, on_namespace_removed=lambda ns: store().purge(ns))  # type: ignore[arg-type]


@cache
def catalog() -> Catalog:
    return Catalog(tenancy())


@cache
def field_guard() -> FieldTypeGuard:
    return FieldTypeGuard(index())


@cache
def writer() -> PointWriter:
    return PointWriter(KinesisPublisher(POINTS.physical_name), field_guard())


@cache
def influxql() -> Services:
    return Services(catalog=catalog(), series=store(), store=store(), writer=writer())


@cache
def dead_letters() -> DynamoDeadLetters:
    return DynamoDeadLetters()
