"""Databases and retention policies: the v1 names points are written and queried under.

Each retention policy owns a storage namespace (a 16-hex-digit ID, the shape of an InfluxDB 2 bucket
ID), so that buckets and DBRP mappings can later adopt existing data by ID without moving it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from typing import Protocol

from chalicelib.errors import INVALID, NOT_FOUND, TicklessError

DEFAULT_RP = "autogen"
HOUR = 3_600_000_000_000
DAY = 24 * HOUR
_NAME = re.compile(r"^[^\x00-\x1f/\\]{1,255}$")


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    database: str
    name: str
    namespace: str
    duration: int = 0  # ns; 0 keeps data forever
    shard_duration: int = 0
    replication: int = 1
    default: bool = False

    def cutoff(self, now: int) -> int | None:
        """Points older than this are expired (None: never)."""
        return now - self.duration if self.duration else None


class CatalogRepository(Protocol):
    def database_names(self) -> list[str]: ...

    def default_rp(self, database: str) -> str | None:
        """The database's default retention policy name, or None when the database does not exist."""

    def put_database(self, database: str, default_rp: str) -> None: ...

    def retention_policies(self, database: str) -> list[RetentionPolicy]: ...

    def put_retention_policy(self, rp: RetentionPolicy) -> None: ...

    def delete_database(self, database: str) -> None: ...


def shard_duration_for(duration: int) -> int:
    """InfluxDB 1.x's default shard group duration for a retention period."""
    if duration == 0 or duration > 180 * DAY:
        return 7 * DAY
    if duration >= 2 * DAY:
        return DAY
    return HOUR


def new_namespace() -> str:
    return secrets.token_hex(8)


class Catalog:
    def __init__(self, repository: CatalogRepository) -> None:
        self.repository = repository

    def databases(self) -> list[str]:
        return sorted(self.repository.database_names())

    def create_database(
        self,
        name: str,
        rp_name: str = DEFAULT_RP,
        duration: int = 0,
        shard_duration: int = 0,
        replication: int = 1,
    ) -> None:
        """CREATE DATABASE: creating one that exists is a no-op, as in InfluxDB 1.x."""
        _check_name(name, "database")
        _check_name(rp_name, "retention policy")
        if self.repository.default_rp(name) is not None:
            return
        rp = RetentionPolicy(
            database=name,
            name=rp_name,
            namespace=new_namespace(),
            duration=duration,
            shard_duration=shard_duration or shard_duration_for(duration),
            replication=replication,
            default=True,
        )
        self.repository.put_retention_policy(rp)
        self.repository.put_database(name, rp_name)

    def drop_database(self, name: str) -> list[RetentionPolicy]:
        """Forget the database; returns its retention policies so their data can be removed."""
        policies = self.repository.retention_policies(name)
        self.repository.delete_database(name)
        return policies

    def retention_policies(self, database: str) -> list[RetentionPolicy]:
        default = self.repository.default_rp(database)
        if default is None:
            raise database_not_found(database)
        policies = self.repository.retention_policies(database)
        return [replace(rp, default=rp.name == default) for rp in policies]

    def resolve(self, database: str, retention_policy: str | None = None) -> RetentionPolicy:
        """The retention policy points go to or come from; the database default when rp is empty."""
        if not database:
            raise TicklessError(INVALID, "database is required")
        default = self.repository.default_rp(database)
        if default is None:
            raise database_not_found(database)
        wanted = retention_policy or default
        for rp in self.repository.retention_policies(database):
            if rp.name == wanted:
                return replace(rp, default=rp.name == default)
        raise TicklessError(NOT_FOUND, f"retention policy not found: {wanted}")


def database_not_found(name: str) -> TicklessError:
    return TicklessError(NOT_FOUND, f'database not found: "{name}"')


def _check_name(name: str, what: str) -> None:
    if not name or not _NAME.match(name):
        raise TicklessError(INVALID, f"invalid {what} name: {name!r}")
