"""CREATE RETENTION POLICY without DEFAULT leaves the database's default where it is (influxd 1.6.7),
also for a database known only from a v2 bucket's name (its `autogen` default mapping is virtual)."""

from __future__ import annotations

import pytest

from tests.api.conftest import query
from tests.api.test_tenancy import new_bucket, unique

OK = {"results": [{"statement_id": 0}]}


@pytest.fixture
def org_id(onboarding) -> str:
    return onboarding["org"]["id"]


def policies(client, database: str) -> list[list]:
    return query(client, f"SHOW RETENTION POLICIES ON {database}")["results"][0]["series"][0]["values"]


def test_new_policy_on_a_bucket_database_is_not_the_default(client, org_id):
    db = unique("vdb")
    new_bucket(client, org_id, db)  # database `db`, policy autogen: a virtual default mapping
    assert query(client, f"CREATE RETENTION POLICY rp2 ON {db} DURATION 3d REPLICATION 1") == OK
    assert policies(client, db) == [
        ["autogen", "0s", "168h0m0s", 1, True],
        ["rp2", "72h0m0s", "24h0m0s", 1, False],
    ]


def test_new_policy_on_a_created_database_is_not_the_default(client, database):
    assert query(client, f"CREATE RETENTION POLICY rp2 ON {database} DURATION 3d REPLICATION 1") == OK
    assert [p[4] for p in policies(client, database)] == [True, False]


def test_default_policy_takes_the_default(client, org_id):
    db = unique("vdb")
    new_bucket(client, org_id, db)
    assert query(client, f"CREATE RETENTION POLICY rp2 ON {db} DURATION 3d REPLICATION 1 DEFAULT") == OK
    assert [p[4] for p in policies(client, db)] == [False, True]
