"""v1 databases and retention policies, as InfluxDB 2 serves them: DBRP mappings onto buckets.

A (database, retention policy) pair resolves, within the caller's organization, to a bucket through
an explicit DBRP mapping or a virtual one derived from the bucket's name (`db/rp`, or `db` for its
`autogen` default). The bucket's ID is the storage namespace its points live under.

The mappings themselves are the DBRP kind of the registry (`registry.DBRPS`: its rules, such as a
database's one default mapping and the virtual mappings, are declared there); `Catalog` is the v1
view of them, made of the generic `Tenancy` operations only.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.ingest.records import Destination
from chalicelib.kit.errors import CONFLICT, INVALID, NOT_FOUND, TicklessError
from chalicelib.kit.time import HOUR, SECOND
from chalicelib.tenancy import registry
from chalicelib.tenancy.kinds import Doc
from chalicelib.tenancy.principal import Principal
from chalicelib.tenancy.registry import DEFAULT_RP as DEFAULT_RP
from chalicelib.tenancy.registry import virtual_mapping as virtual_mapping
from chalicelib.tenancy.service import Tenancy
from chalicelib.tenancy.v1users import Users

# influxd 1.6.7's meta errors, word for word
INVALID_NAME = "invalid name"
DURATION_TOO_LOW = "retention policy duration must be at least 1h0m0s"
INCOMPATIBLE_DURATIONS = "retention policy duration must be greater than the shard duration"
POLICY_EXISTS = "retention policy already exists"
POLICY_CONFLICT = "retention policy conflicts with an existing policy"


def valid_name(name: str) -> bool:
    """influxd's `meta.ValidName` for database and retention policy names."""
    return name.isprintable() and name not in ("", ".", "..") and "/" not in name and "\\" not in name


def normalised_shard_duration(shard: int, duration: int) -> int:
    """influxd's `normalisedShardDuration` (ns): 0 derives it from the duration, under 1h is 1h."""
    if not shard:
        return registry.shard_group_seconds(duration // SECOND) * SECOND
    return max(shard, HOUR)


def _check_durations(duration: int, shard: int) -> None:
    if 0 < duration < shard:
        raise TicklessError(INVALID, INCOMPATIBLE_DURATIONS)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    database: str
    name: str
    namespace: str  # the bucket ID
    org_id: str = ""
    duration: int = 0  # ns; 0 keeps data forever
    shard_duration: int = 0
    replication: int = 1
    default: bool = False

    def cutoff(self, now: int) -> int | None:
        """Points older than this are expired (None: never)."""
        return now - self.duration if self.duration else None

    @property
    def destination(self) -> Destination:
        """Where points written to it go: its bucket, named as this database and policy for the
        stream's other consumers."""
        return Destination(self.namespace, self.database, self.name, self.org_id or None)


class DatabaseNotFound(TicklessError):
    """influxd words this one differently per endpoint: `/write` quotes the name, queries do not."""

    def __init__(self, name: str) -> None:
        super().__init__(NOT_FOUND, f'database not found: "{name}"')
        self.query_message = f"database not found: {name}"


def database_not_found(name: str) -> DatabaseNotFound:
    return DatabaseNotFound(name)


def policy(bucket: Doc, mapping: Doc) -> RetentionPolicy:
    rules = bucket.get("retentionRules") or []
    every = int(rules[0]["everySeconds"]) if rules else 0
    shard = int(rules[0].get("shardGroupDurationSeconds") or 0) if rules else 0
    shard = shard or registry.shard_group_seconds(every)
    return RetentionPolicy(
        database=mapping["database"],
        name=mapping["retention_policy"],
        namespace=bucket["id"],
        org_id=bucket["orgID"],
        duration=every * SECOND,
        shard_duration=shard * SECOND,
        default=bool(mapping.get("default")),
    )


def bucket_policy(bucket: Doc) -> RetentionPolicy:
    """A bucket as the retention policy of its virtual mapping: how v2 writes and Flux's `to()` name it."""
    return policy(bucket, virtual_mapping(bucket))


class Catalog:
    def __init__(self, tenancy: Tenancy) -> None:
        self.tenancy = tenancy

    @property
    def users(self) -> Users:
        """The org's 1.x users (legacy authorizations), for the InfluxQL user statements."""
        return Users(self.tenancy)

    def _buckets(self, org_id: str) -> dict[str, Doc]:
        return {b["id"]: b for b in self.tenancy.documents(registry.BUCKETS, org_id)}

    def _mappings(self, org_id: str) -> list[Doc]:
        """The org's mappings, explicit and virtual, as /api/v2/dbrps lists them (unchecked)."""
        return self.tenancy.documents(registry.DBRPS, org_id)

    @staticmethod
    def _org(principal: Principal) -> str:
        if not principal.org_id:
            raise TicklessError(INVALID, "the credentials are not scoped to an organization")
        return principal.org_id

    def create_mapping(self, body: Doc, org_id: str, principal: Principal) -> Doc:
        """A DBRP mapping in the org (the kind's rules apply: the bucket must exist, one default)."""
        return self.tenancy.create(registry.DBRPS, body, principal, {"orgID": org_id})

    # -- v1 names -----------------------------------------------------------------------------------

    def resolve(
        self, principal: Principal, database: str, retention_policy: str | None = None
    ) -> RetentionPolicy:
        """The retention policy (bucket) a v1 request means; the database default when rp is empty."""
        mapping, bucket = self._lookup(principal, database, retention_policy)
        return policy(bucket, mapping)

    def _lookup(self, principal: Principal, database: str, retention_policy: str | None) -> tuple[Doc, Doc]:
        """The mapping and the bucket of a v1 (database, retention policy)."""
        if not database:
            raise TicklessError(INVALID, "database is required")
        org_id = self._org(principal)
        mappings = [m for m in self._mappings(org_id) if m["database"] == database]
        if not mappings:
            raise database_not_found(database)
        if retention_policy:
            chosen = next((m for m in mappings if m["retention_policy"] == retention_policy), None)
            if chosen is None:
                raise TicklessError(NOT_FOUND, f"retention policy not found: {retention_policy}")
        else:
            chosen = next((m for m in mappings if m["default"]), mappings[0])
        bucket = self.tenancy.find(registry.BUCKETS, chosen["bucketID"])
        if bucket is None:
            raise database_not_found(database)
        return chosen, bucket

    def databases(self, principal: Principal) -> list[str]:
        org_id = self._org(principal)
        return sorted(
            {
                m["database"]
                for m in self._mappings(org_id)
                if principal.can("read", "buckets", id=m["bucketID"], org_id=org_id)
            }
        )

    def retention_policies(self, principal: Principal, database: str) -> list[RetentionPolicy]:
        org_id = self._org(principal)
        buckets = self._buckets(org_id)
        found = [
            policy(buckets[m["bucketID"]], m)
            for m in self._mappings(org_id)
            if m["database"] == database and m["bucketID"] in buckets
        ]
        if not found:
            raise database_not_found(database)
        return found

    def create_database(
        self,
        principal: Principal,
        name: str,
        rp_name: str = "",
        duration: int | None = None,
        shard_duration: int = 0,
        replication: int | None = None,
        with_policy: bool = False,
    ) -> None:
        """CREATE DATABASE [WITH ...], as influxd 1.6.7 (`CreateDatabaseWithRetentionPolicy`): a new
        database gets a bucket `<db>/<rp>` and its default mapping. An existing one is left alone,
        except that a WITH clause must then describe its default policy (None: option not given),
        or the statement fails."""
        org_id = self._org(principal)
        rp_name = rp_name or DEFAULT_RP
        if not valid_name(name) or not valid_name(rp_name):
            raise TicklessError(INVALID, INVALID_NAME)
        if duration is not None and 0 < duration < HOUR:
            raise TicklessError(INVALID, DURATION_TOO_LOW)
        existing = [m for m in self._mappings(org_id) if m["database"] == name]
        if not existing:
            self._new_policy(principal, name, rp_name, duration or 0, shard_duration, default=True)
            return
        if not with_policy:
            return
        buckets = self._buckets(org_id)
        current = next(
            (
                policy(buckets[m["bucketID"]], m)
                for m in existing
                if m["retention_policy"] == rp_name and m["bucketID"] in buckets
            ),
            None,
        )
        if (
            current is None
            or (duration is not None and duration != current.duration)
            or (replication is not None and replication != current.replication)
            or normalised_shard_duration(shard_duration, current.duration) != current.shard_duration
            or not current.default
        ):
            raise TicklessError(CONFLICT, POLICY_CONFLICT)

    def create_retention_policy(
        self,
        principal: Principal,
        database: str,
        rp_name: str,
        duration: int = 0,
        shard_duration: int = 0,
        default: bool = False,
        replication: int = 1,
    ) -> None:
        """CREATE RETENTION POLICY, checked in influxd 1.6.7's order (meta `CreateRetentionPolicy`):
        the name, the duration's 1h floor, the shard duration against the duration, the database; an
        existing policy of that name is an error unless the statement describes it exactly."""
        if not valid_name(rp_name):
            raise TicklessError(INVALID, INVALID_NAME)
        if 0 < duration < HOUR:
            raise TicklessError(INVALID, DURATION_TOO_LOW)
        shard = normalised_shard_duration(shard_duration, duration)
        _check_durations(duration, shard)
        org_id = self._org(principal)
        mappings = [m for m in self._mappings(org_id) if m["database"] == database]
        if not mappings:
            raise database_not_found(database)
        buckets = self._buckets(org_id)
        for mapping in mappings:
            if mapping["retention_policy"] != rp_name or mapping["bucketID"] not in buckets:
                continue
            current = policy(buckets[mapping["bucketID"]], mapping)
            if (current.duration, current.shard_duration, current.replication) != (
                duration,
                shard,
                replication,
            ):
                raise TicklessError(CONFLICT, POLICY_EXISTS)
            if default and not current.default:
                raise TicklessError(CONFLICT, POLICY_CONFLICT)
            return
        if not default:
            self._materialise_default(principal, mappings)
        self._new_policy(principal, database, rp_name, duration, shard_duration, default)

    def _materialise_default(self, principal: Principal, mappings: list[Doc]) -> None:
        """Make a virtual default mapping explicit. The DBRP kind makes a database's first explicit
        mapping its default (as /api/v2/dbrps does), so without this a policy created without DEFAULT
        on a database known only from its bucket's name would take the default from `autogen`;
        influxd never moves the default unless asked."""
        current = next((m for m in mappings if m["default"]), None)
        if current is not None and current.get("virtual"):
            fields = ("orgID", "bucketID", "database", "retention_policy")
            body = {**{k: current[k] for k in fields}, "default": True}
            self.create_mapping(body, current["orgID"], principal)

    def _new_policy(
        self,
        principal: Principal,
        database: str,
        rp_name: str,
        duration: int,
        shard_duration: int,
        default: bool,
    ) -> None:
        """A bucket `<db>/<rp>` with the policy's retention rule, and its DBRP mapping."""
        shard = normalised_shard_duration(shard_duration, duration)
        _check_durations(duration, shard)
        org_id = self._org(principal)
        rules = []
        if duration or shard_duration:
            rules.append(
                {
                    "type": "expire",
                    "everySeconds": duration // SECOND,
                    "shardGroupDurationSeconds": shard // SECOND,
                }
            )
        bucket = self.tenancy.create(
            registry.BUCKETS,
            {"name": f"{database}/{rp_name}", "retentionRules": rules},
            principal,
            {"orgID": org_id},
        )
        self.create_mapping(
            {
                "orgID": org_id,
                "bucketID": bucket["id"],
                "database": database,
                "retention_policy": rp_name,
                "default": default,
            },
            org_id,
            principal,
        )

    def alter_retention_policy(
        self,
        principal: Principal,
        database: str,
        rp_name: str,
        duration: int | None = None,
        shard_duration: int | None = None,
        default: bool = False,
    ) -> RetentionPolicy:
        """ALTER RETENTION POLICY, checked in influxd 1.x's order (meta `UpdateRetentionPolicy`):
        DURATION and SHARD DURATION rewrite the bucket's retention rule, DEFAULT makes the mapping the
        database's default. Durations are ns, None when not given; 0 is INF (duration) or "derive it
        from the duration" (shard duration)."""
        mapping, bucket = self._lookup(principal, database, rp_name)
        current = policy(bucket, mapping)
        if duration is not None and 0 < duration < HOUR:
            raise TicklessError(INVALID, DURATION_TOO_LOW)
        new_duration = current.duration if duration is None else duration
        if duration is not None or shard_duration is not None:
            bound = current.shard_duration if shard_duration is None else shard_duration
            _check_durations(new_duration, bound)
            new_shard = current.shard_duration
            if shard_duration is not None:
                new_shard = normalised_shard_duration(shard_duration, new_duration)
            rule = {
                "type": "expire",
                "everySeconds": new_duration // SECOND,
                "shardGroupDurationSeconds": new_shard // SECOND,
            }
            bucket = self.tenancy.update(
                registry.BUCKETS, bucket["id"], {"retentionRules": [rule]}, principal
            )
        if default and not mapping["default"]:
            if mapping.get("virtual"):
                fields = ("orgID", "bucketID", "database", "retention_policy")
                body = {**{k: mapping[k] for k in fields}, "default": True}
                mapping = self.create_mapping(body, mapping["orgID"], principal)
            else:
                mapping = self.tenancy.update(registry.DBRPS, mapping["id"], {"default": True}, principal)
        return policy(bucket, mapping)

    def drop_database(self, principal: Principal, name: str) -> list[RetentionPolicy]:
        """Remove the database's buckets and mappings; returns the policies so their data can go too."""
        org_id = self._org(principal)
        dropped = []
        buckets = self._buckets(org_id)
        for mapping in self._mappings(org_id):
            if mapping["database"] != name or mapping["bucketID"] not in buckets:
                continue
            bucket = buckets[mapping["bucketID"]]
            dropped.append(policy(bucket, mapping))
            self.tenancy.delete(registry.BUCKETS, bucket["id"], principal)
        return dropped

    def drop_retention_policy(self, principal: Principal, database: str, rp_name: str) -> RetentionPolicy:
        rp = self.resolve(principal, database, rp_name)
        self.tenancy.delete(registry.BUCKETS, rp.namespace, principal)
        return rp

    def expiring(self) -> list[tuple[str, int]]:
        """(namespace, retention in ns) of every bucket with a finite retention, for the sweeper."""
        out = []
        for bucket in self.tenancy.documents(registry.BUCKETS):
            rules = bucket.get("retentionRules") or []
            if rules and rules[0]["everySeconds"]:
                out.append((bucket["id"], int(rules[0]["everySeconds"]) * SECOND))
        return out
