"""ALTER RETENTION POLICY on the v1 /query endpoint: answers and error texts as influxd 1.6.7 gives
them (checked against a real one), the change seen by SHOW RETENTION POLICIES, /api/v2/buckets and
/api/v2/dbrps. Then the same checks for CREATE RETENTION POLICY and CREATE DATABASE ... WITH, and the
shard group duration a retention period gets by default."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from tests.api.conftest import query
from tests.api.test_tenancy import as_token, bucket_permission, new_bucket, new_token, unique
from tests.api.test_write_api import write_v1

OK = {"results": [{"statement_id": 0}]}
TOO_SHORT = "retention policy duration must be at least 1h0m0s"
INCOMPATIBLE = "retention policy duration must be greater than the shard duration"


@pytest.fixture
def org_id(onboarding) -> str:
    return onboarding["org"]["id"]


@pytest.fixture
def with_rp2(client, database) -> str:
    """`database` with autogen (INF, default) and rp2 (3d, shard 1d)."""
    assert query(client, f"CREATE RETENTION POLICY rp2 ON {database} DURATION 3d REPLICATION 1") == OK
    return database


def policies(client, database: str) -> list[list]:
    return query(client, f"SHOW RETENTION POLICIES ON {database}")["results"][0]["series"][0]["values"]


def error(client, q: str) -> str:
    return query(client, q)["results"][0]["error"]


def bucket(client, org_id: str, name: str) -> dict:
    (found,) = client.http.get(f"/api/v2/buckets?orgID={org_id}&name={name}").json_body["buckets"]
    return found


def test_duration_and_shard_duration(client, with_rp2, org_id):
    db = with_rp2
    assert query(client, f"ALTER RETENTION POLICY rp2 ON {db} DURATION 10h SHARD DURATION 3h") == OK
    assert policies(client, db) == [
        ["autogen", "0s", "168h0m0s", 1, True],
        ["rp2", "10h0m0s", "3h0m0s", 1, False],
    ]
    rules = bucket(client, org_id, f"{db}/rp2")["retentionRules"]
    assert rules == [{"type": "expire", "everySeconds": 36000, "shardGroupDurationSeconds": 10800}]
    # DURATION alone keeps the shard duration; INF keeps data forever
    assert query(client, f"ALTER RETENTION POLICY rp2 ON {db} DURATION INF") == OK
    assert policies(client, db)[1] == ["rp2", "0s", "3h0m0s", 1, False]
    assert bucket(client, org_id, f"{db}/rp2")["retentionRules"][0]["everySeconds"] == 0


@pytest.mark.parametrize(
    "options, duration, shard",
    [
        ("SHARD DURATION 2h", "72h0m0s", "2h0m0s"),
        ("SHARD DURATION 30m", "72h0m0s", "1h0m0s"),  # raised to 1h
        ("SHARD DURATION 0s", "72h0m0s", "24h0m0s"),  # derived from the duration
        ("SHARD DURATION 72h", "72h0m0s", "72h0m0s"),  # equal to the duration is fine
        ("DURATION 2h SHARD DURATION 0s", "2h0m0s", "1h0m0s"),  # derived from the new duration
        ("DURATION INF SHARD DURATION 0s", "0s", "168h0m0s"),
    ],
)
def test_shard_duration_is_normalised(client, with_rp2, options, duration, shard):
    assert query(client, f"ALTER RETENTION POLICY rp2 ON {with_rp2} {options}") == OK
    assert policies(client, with_rp2)[1] == ["rp2", duration, shard, 1, False]


def test_default_moves_to_the_altered_policy(client, with_rp2, org_id, pump):
    db = with_rp2
    assert query(client, f"ALTER RETENTION POLICY rp2 ON {db} DEFAULT") == OK
    assert [(name, default) for name, *_, default in policies(client, db)] == [
        ("autogen", False),
        ("rp2", True),
    ]
    mappings = client.http.get(f"/api/v2/dbrps?orgID={org_id}&db={db}").json_body["content"]
    assert {m["retention_policy"]: m["default"] for m in mappings} == {"autogen": False, "rp2": True}
    # a write without rp lands in the new default
    now = time.time_ns()
    assert write_v1(client, f"m v=1 {now}", db=db).status_code == 204
    pump.drain()
    got = query(client, "SELECT v FROM m", db=db, rp="rp2", epoch="ns")
    assert got["results"][0]["series"][0]["values"] == [[now, 1]]
    assert query(client, f"ALTER RETENTION POLICY autogen ON {db} DEFAULT") == OK
    assert query(client, f"ALTER RETENTION POLICY autogen ON {db} DEFAULT") == OK  # already: a no-op
    assert [(name, default) for name, *_, default in policies(client, db)] == [
        ("autogen", True),
        ("rp2", False),
    ]


def test_every_option_at_once_then_show(client, database):
    q = (
        f"ALTER RETENTION POLICY autogen ON {database} DURATION 5h DEFAULT REPLICATION 2 SHARD DURATION 1h; "
        f"SHOW RETENTION POLICIES ON {database}"
    )
    results = query(client, q)["results"]
    assert results[0] == {"statement_id": 0}
    # REPLICATION is accepted and not kept: a bucket has no replicas (replicaN stays 1)
    assert results[1]["series"][0]["values"] == [["autogen", "5h0m0s", "1h0m0s", 1, True]]


def test_replication_alone_is_accepted(client, with_rp2):
    assert query(client, f"ALTER RETENTION POLICY rp2 ON {with_rp2} REPLICATION 3") == OK
    assert policies(client, with_rp2)[1] == ["rp2", "72h0m0s", "24h0m0s", 1, False]


def test_virtual_mappings(client, org_id):
    """Buckets named `db` and `db/rp` map without DBRP documents; ALTER works on them too."""
    db = unique("vdb")
    new_bucket(client, org_id, db)
    new_bucket(client, org_id, f"{db}/rp2", retentionRules=[{"type": "expire", "everySeconds": 7200}])
    assert query(client, f"ALTER RETENTION POLICY rp2 ON {db} DEFAULT") == OK
    assert policies(client, db) == [
        ["autogen", "0s", "168h0m0s", 1, False],
        ["rp2", "2h0m0s", "1h0m0s", 1, True],
    ]
    assert query(client, f"ALTER RETENTION POLICY autogen ON {db} DURATION 0s SHARD DURATION 2h") == OK
    assert bucket(client, org_id, db)["retentionRules"] == [
        {"type": "expire", "everySeconds": 0, "shardGroupDurationSeconds": 7200}
    ]


@pytest.mark.parametrize(
    "q, message",
    [
        ("ALTER RETENTION POLICY nope ON {db} DURATION 2h", "retention policy not found: nope"),
        ("ALTER RETENTION POLICY nope ON {db} DURATION 30m", "retention policy not found: nope"),
        ("ALTER RETENTION POLICY default ON {db} DURATION 2h", "retention policy not found: default"),
        ("ALTER RETENTION POLICY autogen ON nosuchdb DURATION 2h", "database not found: nosuchdb"),
        ("ALTER RETENTION POLICY nope ON nosuchdb DEFAULT", "database not found: nosuchdb"),
        ("ALTER RETENTION POLICY rp2 ON {db} DURATION 30m", TOO_SHORT),
        ("ALTER RETENTION POLICY rp2 ON {db} DURATION 59m59s SHARD DURATION 1h", TOO_SHORT),
        ("ALTER RETENTION POLICY autogen ON {db} DURATION 2h", INCOMPATIBLE),  # shard stays 168h
        ("ALTER RETENTION POLICY rp2 ON {db} DURATION 1h", INCOMPATIBLE),
        ("ALTER RETENTION POLICY rp2 ON {db} SHARD DURATION 4d", INCOMPATIBLE),
        ("ALTER RETENTION POLICY rp2 ON {db} DURATION 2h SHARD DURATION 3h", INCOMPATIBLE),
    ],
)
def test_errors_change_nothing(client, with_rp2, q, message):
    before = policies(client, with_rp2)
    assert error(client, q.format(db=with_rp2)) == message
    assert policies(client, with_rp2) == before


EOF_MESSAGE = "found EOF, expected DURATION, REPLICATION, SHARD, DEFAULT, FUTURE, PAST at line 1, char 38"


@pytest.mark.parametrize(
    "q, message",
    [
        # influxd 1.6.7 expects DURATION, REPLICATION, SHARD, DEFAULT only: the parser follows the latest
        # influxql, which added FUTURE LIMIT and PAST LIMIT
        ("ALTER RETENTION POLICY autogen ON d1", EOF_MESSAGE),
        (
            "ALTER RETENTION POLICY autogen ON d1 DURATION 5h DURATION 2h",
            "found duplicate DURATION option at line 1, char 50",
        ),
        (
            "ALTER RETENTION POLICY autogen ON d1 REPLICATION 0",
            "invalid value 0: must be 1 <= n <= 2147483647 at line 1, char 50",
        ),
        (
            "ALTER RETENTION POLICY autogen ON d1 SHARD DURATION INF",
            "invalid duration INF for shard duration at line 1, char 53",
        ),
        (
            "ALTER RETENTION POLICY autogen ON d1 DURATION -1h",
            "found -, expected duration at line 1, char 47",
        ),
    ],
)
def test_parse_errors(client, q, message):
    response = client.http.get("/query?" + urlencode({"q": q}))
    assert response.status_code == 400
    assert response.json_body == {"error": f"error parsing query: {message}"}


def test_needs_write_permission_on_the_orgs_buckets(client, org_id, database):
    """As CREATE DATABASE / RETENTION POLICY: write on one bucket is not enough."""
    autogen = bucket(client, org_id, f"{database}/autogen")
    token = new_token(
        client, org_id, [bucket_permission("read", autogen), bucket_permission("write", autogen)]
    )
    caller = as_token(client, token["token"])
    assert error(caller, f"ALTER RETENTION POLICY autogen ON {database} DURATION 2d SHARD DURATION 1d") == (
        f"write:orgs/{org_id}/buckets is unauthorized"
    )
    assert policies(client, database) == [["autogen", "0s", "168h0m0s", 1, True]]


# -- CREATE RETENTION POLICY / CREATE DATABASE WITH: the same checks, as influxd 1.6.7 answers them -----

EXISTS = "retention policy already exists"
CONFLICT = "retention policy conflicts with an existing policy"


def databases(client) -> list[str]:
    return [name for (name,) in query(client, "SHOW DATABASES")["results"][0]["series"][0]["values"]]


@pytest.mark.parametrize(
    "duration, shown, shard",
    [
        ("1h", "1h0m0s", "1h0m0s"),
        ("47h59m", "47h59m0s", "1h0m0s"),
        ("2d", "48h0m0s", "24h0m0s"),
        ("179d23h", "4319h0m0s", "24h0m0s"),
        ("180d", "4320h0m0s", "168h0m0s"),  # influxd: from 180 days on, 7-day shard groups
        ("181d", "4344h0m0s", "168h0m0s"),
        ("INF", "0s", "168h0m0s"),
        ("0s", "0s", "168h0m0s"),
    ],
)
def test_create_derives_the_shard_duration(client, database, duration, shown, shard):
    assert query(client, f"CREATE RETENTION POLICY rp ON {database} DURATION {duration} REPLICATION 1") == OK
    assert policies(client, database)[1] == ["rp", shown, shard, 1, False]


def test_bucket_of_180_days_gets_7_day_shard_groups(client, org_id):
    made = new_bucket(
        client, org_id, unique("half-year"), retentionRules=[{"type": "expire", "everySeconds": 180 * 86400}]
    )
    assert made["retentionRules"][0]["shardGroupDurationSeconds"] == 7 * 86400


@pytest.mark.parametrize(
    "options, duration, shard",
    [
        ("DURATION 2h REPLICATION 1 SHARD DURATION 2h", "2h0m0s", "2h0m0s"),  # equal is fine
        ("DURATION 2h REPLICATION 1 SHARD DURATION 30m", "2h0m0s", "1h0m0s"),  # raised to 1h
        ("DURATION 1h REPLICATION 1 SHARD DURATION 1ns", "1h0m0s", "1h0m0s"),
        ("DURATION INF REPLICATION 1 SHARD DURATION 30m", "0s", "1h0m0s"),
        ("DURATION 0s REPLICATION 1 SHARD DURATION 3d", "0s", "72h0m0s"),
        ("DURATION 2h REPLICATION 1 SHARD DURATION 0s", "2h0m0s", "1h0m0s"),  # derived
    ],
)
def test_create_shard_duration_is_normalised(client, database, options, duration, shard):
    assert query(client, f"CREATE RETENTION POLICY rp ON {database} {options}") == OK
    assert policies(client, database)[1] == ["rp", duration, shard, 1, False]


@pytest.mark.parametrize(
    "q, message",
    [
        ("CREATE RETENTION POLICY rp ON {db} DURATION 30m REPLICATION 1", TOO_SHORT),
        ("CREATE RETENTION POLICY rp ON {db} DURATION 59m59s REPLICATION 1 DEFAULT", TOO_SHORT),
        ("CREATE RETENTION POLICY rp ON {db} DURATION 1s REPLICATION 1 SHARD DURATION 2h", TOO_SHORT),
        ("CREATE RETENTION POLICY rp ON {db} DURATION 2h REPLICATION 1 SHARD DURATION 3h", INCOMPATIBLE),
        ("CREATE RETENTION POLICY rp ON {db} DURATION 3d REPLICATION 1 SHARD DURATION 1w", INCOMPATIBLE),
        # the durations are checked before the database
        ("CREATE RETENTION POLICY rp ON nosuchdb DURATION 30m REPLICATION 1", TOO_SHORT),
        ("CREATE RETENTION POLICY rp ON nosuchdb DURATION 2h REPLICATION 1 SHARD DURATION 3h", INCOMPATIBLE),
        ("CREATE RETENTION POLICY rp ON nosuchdb DURATION 2h REPLICATION 1", "database not found: nosuchdb"),
        ('CREATE RETENTION POLICY rp ON "" DURATION 2h REPLICATION 1', "database not found: "),
        # and the name before them
        ('CREATE RETENTION POLICY ".." ON nosuchdb DURATION 1m REPLICATION 1', "invalid name"),
        ('CREATE RETENTION POLICY "a/b" ON {db} DURATION 1h REPLICATION 1', "invalid name"),
        ('CREATE RETENTION POLICY "" ON {db} DURATION 1h REPLICATION 1', "invalid name"),
        # an existing policy: the same settings are a no-op, others an error
        ("CREATE RETENTION POLICY rp2 ON {db} DURATION 2d REPLICATION 1", EXISTS),
        ("CREATE RETENTION POLICY rp2 ON {db} DURATION 3d REPLICATION 2", EXISTS),
        ("CREATE RETENTION POLICY rp2 ON {db} DURATION 3d REPLICATION 1 SHARD DURATION 2d", EXISTS),
        ("CREATE RETENTION POLICY rp2 ON {db} DURATION 3d REPLICATION 1 DEFAULT", CONFLICT),
        ("CREATE RETENTION POLICY rp2 ON {db} DURATION 30m REPLICATION 1", TOO_SHORT),
        ("CREATE RETENTION POLICY rp2 ON {db} DURATION 3d REPLICATION 1 SHARD DURATION 4d", INCOMPATIBLE),
    ],
)
def test_create_errors_change_nothing(client, with_rp2, q, message):
    before = policies(client, with_rp2)
    assert error(client, q.format(db=with_rp2)) == message
    assert policies(client, with_rp2) == before
    assert "nosuchdb" not in databases(client)


@pytest.mark.parametrize(
    "q",
    [
        "CREATE RETENTION POLICY rp2 ON {db} DURATION 3d REPLICATION 1",
        "CREATE RETENTION POLICY rp2 ON {db} DURATION 72h REPLICATION 1 SHARD DURATION 1d",
        "CREATE RETENTION POLICY rp2 ON {db} DURATION 3d REPLICATION 1 SHARD DURATION 0s",
        "CREATE RETENTION POLICY autogen ON {db} DURATION INF REPLICATION 1 DEFAULT",
        "CREATE RETENTION POLICY autogen ON {db} DURATION 0s REPLICATION 1 SHARD DURATION 7d",
    ],
)
def test_create_an_identical_policy_is_a_no_op(client, with_rp2, q):
    before = policies(client, with_rp2)
    assert query(client, q.format(db=with_rp2)) == OK
    assert policies(client, with_rp2) == before


def test_create_with_shard_under_an_hour_matches_its_normalised_self(client, database):
    create = f"CREATE RETENTION POLICY rp ON {database} DURATION 2h REPLICATION 1 SHARD DURATION"
    assert query(client, f"{create} 30m") == OK
    assert query(client, f"{create} 59m") == OK
    assert query(client, f"{create} 1h") == OK
    assert error(client, f"{create} 2h") == EXISTS
    assert policies(client, database)[1] == ["rp", "2h0m0s", "1h0m0s", 1, False]


@pytest.mark.parametrize(
    "options, message",
    [
        ("WITH DURATION 30m", TOO_SHORT),
        ("WITH DURATION 59m NAME brief", TOO_SHORT),
        ("WITH DURATION 2h SHARD DURATION 3h", INCOMPATIBLE),
        ("WITH DURATION 1d SHARD DURATION 1w", INCOMPATIBLE),
        ('WITH NAME "a/b"', "invalid name"),
    ],
)
def test_create_database_with_a_bad_policy_creates_nothing(client, options, message):
    name = unique("baddb")
    assert error(client, f"CREATE DATABASE {name} {options}") == message
    assert name not in databases(client)


@pytest.mark.parametrize(
    "name", ['""', '"."', '".."', '"a/b"', '"a\\\\b"', '"a\tb"', '"a/b" WITH DURATION 1m']
)
def test_create_database_errors_on_names(client, name):
    assert error(client, f"CREATE DATABASE {name}") == "invalid name"


@pytest.mark.parametrize(
    "options, policy",
    [
        ("WITH DURATION 1h", ["autogen", "1h0m0s", "1h0m0s", 1, True]),
        ("WITH SHARD DURATION 30m", ["autogen", "0s", "1h0m0s", 1, True]),
        ("WITH DURATION 2h SHARD DURATION 30m NAME two", ["two", "2h0m0s", "1h0m0s", 1, True]),
        ("WITH DURATION 180d NAME r", ["r", "4320h0m0s", "168h0m0s", 1, True]),
        ('WITH NAME ""', ["autogen", "0s", "168h0m0s", 1, True]),
    ],
)
def test_create_database_with_a_policy(client, options, policy):
    name = unique("withdb")
    assert query(client, f"CREATE DATABASE {name} {options}") == OK
    assert policies(client, name) == [policy]


@pytest.mark.parametrize(
    "options",
    [
        "",
        "WITH DURATION 0s",
        "WITH DURATION INF REPLICATION 1 SHARD DURATION 7d NAME autogen",
        "WITH SHARD DURATION 1w",
        "WITH REPLICATION 1",
        "WITH NAME autogen",
    ],
)
def test_create_existing_database_that_matches_its_default_policy(client, with_rp2, options):
    before = policies(client, with_rp2)
    assert query(client, f"CREATE DATABASE {with_rp2} {options}") == OK
    assert policies(client, with_rp2) == before


@pytest.mark.parametrize(
    "options, message",
    [
        ("WITH DURATION 30m", TOO_SHORT),
        ("WITH DURATION 2h", CONFLICT),
        ("WITH DURATION 2h SHARD DURATION 3h", CONFLICT),  # the existing policy is compared first
        ("WITH SHARD DURATION 30m", CONFLICT),
        ("WITH REPLICATION 2", CONFLICT),
        ("WITH NAME other", CONFLICT),
        ("WITH DURATION 3d NAME rp2", CONFLICT),  # rp2 matches but is not the default
    ],
)
def test_create_existing_database_with_another_policy(client, with_rp2, options, message):
    before = policies(client, with_rp2)
    assert error(client, f"CREATE DATABASE {with_rp2} {options}") == message
    assert policies(client, with_rp2) == before
