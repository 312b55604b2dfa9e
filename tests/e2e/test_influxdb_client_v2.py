"""The InfluxDB 2.x API through the official `influxdb-client` library, used exactly as a user would:
health, onboarding, buckets, writes (synchronous, batched, gzip), authorizations, sessions, orgs, users,
members and labels.

Flux (`/api/v2/query`) is not implemented yet, so written points are read back through the v1
`/query` endpoint with a token: the bucket is named `db/rp` or has an explicit DBRP mapping."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import requests
from influxdb_client import (
    AddResourceMemberRequestBody,
    BucketRetentionRules,
    BucketsService,
    DBRPCreate,
    DBRPsService,
    InfluxDBClient,
    LabelMapping,
    OnboardingRequest,
    OrganizationsService,
    Permission,
    PermissionResource,
    Point,
    SetupService,
    WriteOptions,
    WritePrecision,
)
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

DAY = 24 * 3600


# -- helpers ------------------------------------------------------------------------------------------


def error_of(exc: ApiException) -> dict:
    """The `{"code", "message"}` body of an InfluxDB v2 error."""
    return json.loads(exc.body)


def v1_query(url: str, token: str | None, db: str, q: str, rp: str | None = None) -> requests.Response:
    params = {"db": db, "q": q, "epoch": "ns"}
    if rp:
        params["rp"] = rp
    headers = {"Authorization": f"Token {token}"} if token else {}
    return requests.get(f"{url}/query", params=params, headers=headers, timeout=30)


def rows_of(response: requests.Response) -> list[dict]:
    """The rows of every series of the first statement, tags included as columns."""
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert "error" not in result, result
    return [
        {**series.get("tags", {}), **dict(zip(series["columns"], values, strict=True))}
        for series in result.get("series", [])
        for values in series["values"]
    ]


def wait_rows(url: str, token: str, db: str, q: str, count: int, rp: str | None = None) -> list[dict]:
    """Points become readable once the stream consumer has stored them (seconds, locally)."""
    deadline = time.monotonic() + 30
    while True:
        rows = rows_of(v1_query(url, token, db, q, rp))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def bucket_permissions(actions, *, org_id: str, bucket_id: str | None = None) -> list[Permission]:
    resource = {"type": "buckets", "org_id": org_id}
    if bucket_id:
        resource["id"] = bucket_id
    return [Permission(action=action, resource=PermissionResource(**resource)) for action in actions]


@pytest.fixture(scope="module")
def client(onboarded):
    with InfluxDBClient(url=onboarded.url, token=onboarded.token, org=onboarded.org_name) as client:
        yield client


@pytest.fixture
def db_bucket(client, onboarded, unique):
    """A bucket named `<db>/autogen`: v1 sees it as database `<db>`, retention policy `autogen`."""
    db = unique("v2db").replace("-", "_")
    bucket = client.buckets_api().create_bucket(bucket_name=f"{db}/autogen", org=onboarded.org_name)
    return db, bucket


# -- health and onboarding ------------------------------------------------------------------------------


def test_ping_health_ready(client):
    assert client.ping() is True
    assert client.version().startswith("v2.")
    assert client.build() == "OSS"
    with pytest.warns(DeprecationWarning):
        health = client.health()
    assert health.status == "pass"
    assert health.name == "influxdb"
    ready = client.ready()
    assert ready.status == "ready"
    assert ready.started is not None


def test_onboarding_happens_only_once(stack, onboarded):
    with InfluxDBClient(url=stack.url) as anonymous:
        setup = SetupService(anonymous.api_client)
        assert setup.get_setup().allowed is False
        with pytest.raises(ApiException) as err:
            setup.post_setup(
                OnboardingRequest(username="again", password="again-pw-123", org="again", bucket="again")
            )
    assert err.value.status == 422
    assert error_of(err.value) == {"code": "conflict", "message": "onboarding has already been completed"}


def test_onboarding_created_the_org_bucket_and_token(client, onboarded):
    assert (onboarded.org_name, onboarded.bucket_name, onboarded.username) == (
        "e2e-org",
        "e2e-bucket",
        "admin",
    )
    org = client.organizations_api().find_organization(onboarded.org_id)
    assert org.name == "e2e-org"
    bucket = client.buckets_api().find_bucket_by_id(onboarded.bucket_id)
    assert (bucket.name, bucket.org_id, bucket.type) == ("e2e-bucket", onboarded.org_id, "user")
    names = {b.name for b in client.buckets_api().find_buckets(org_id=onboarded.org_id).buckets}
    assert {"e2e-bucket", "_tasks", "_monitoring"} <= names
    auth = client.authorizations_api().find_authorization_by_id(onboarded.auth_id)
    assert auth.token == onboarded.token
    assert auth.user_id == onboarded.user_id
    assert auth.status == "active"


# -- buckets --------------------------------------------------------------------------------------------


def test_bucket_lifecycle(client, onboarded, unique):
    api = client.buckets_api()
    name = unique("bucket")
    created = api.create_bucket(
        bucket_name=name,
        org=onboarded.org_name,  # by name: the client looks the org up
        retention_rules=BucketRetentionRules(type="expire", every_seconds=DAY),
        description="first",
    )
    assert created.name == name
    assert created.org_id == onboarded.org_id
    assert created.description == "first"
    assert created.type == "user"
    [rule] = created.retention_rules
    assert (rule.type, rule.every_seconds, rule.shard_group_duration_seconds) == ("expire", DAY, 3600)
    assert created.links._self == f"/api/v2/buckets/{created.id}"

    found = api.find_bucket_by_name(name)
    assert (found.id, found.name) == (created.id, name)
    assert api.find_bucket_by_id(created.id).name == name
    assert api.find_bucket_by_name(unique("no-such-bucket")) is None

    created.name = unique("renamed")
    created.description = "second"
    created.retention_rules = [BucketRetentionRules(type="expire", every_seconds=7 * DAY)]
    updated = api.update_bucket(created)
    assert (updated.id, updated.name, updated.description) == (created.id, created.name, "second")
    assert updated.retention_rules[0].every_seconds == 7 * DAY
    assert api.find_bucket_by_name(name) is None
    assert api.find_bucket_by_name(created.name).id == created.id

    api.delete_bucket(created)
    with pytest.raises(ApiException) as err:
        api.find_bucket_by_id(created.id)
    assert err.value.status == 404
    assert error_of(err.value) == {"code": "not found", "message": "bucket not found"}
    with pytest.raises(ApiException) as err:
        api.delete_bucket(created.id)
    assert err.value.status == 404


def test_duplicate_bucket_name_conflicts(client, onboarded, unique):
    api = client.buckets_api()
    name = unique("dup-bucket")
    api.create_bucket(bucket_name=name, org=onboarded.org_name)
    with pytest.raises(ApiException) as err:
        api.create_bucket(bucket_name=name, org=onboarded.org_name)
    assert err.value.status == 422
    assert error_of(err.value) == {"code": "conflict", "message": f"bucket with name {name} already exists"}
    # Names are unique per organization only.
    other = client.organizations_api().create_organization(name=unique("dup-org"))
    assert api.create_bucket(bucket_name=name, org=other.id).org_id == other.id


def test_invalid_bucket_names_are_refused(client, onboarded):
    with pytest.raises(ApiException) as err:
        client.buckets_api().create_bucket(bucket_name="_mine", org=onboarded.org_name)
    assert err.value.status == 400
    assert error_of(err.value) == {
        "code": "invalid",
        "message": 'bucket name "_mine" is invalid. Buckets may not start with underscore',
    }


def test_paging_through_buckets(client, unique):
    org = client.organizations_api().create_organization(name=unique("paging-org"))
    api = client.buckets_api()
    mine = {api.create_bucket(bucket_name=unique("page"), org=org.id).name for _ in range(3)}
    everything = mine | {"_tasks", "_monitoring"}

    pages = []
    for offset in (0, 2, 4):
        page = api.find_buckets(org_id=org.id, limit=2, offset=offset)
        pages.append(page)
        assert f"offset={offset}" in page.links._self
        assert "limit=2" in page.links._self
        assert f"orgID={org.id}" in page.links._self
    assert [len(p.buckets) for p in pages] == [2, 2, 1]
    names = [b.name for p in pages for b in p.buckets]
    assert sorted(names) == sorted(everything)

    first, middle, last = (p.links for p in pages)
    assert first.prev is None and "offset=2" in first.next
    assert "offset=0" in middle.prev and "offset=4" in middle.next
    assert "offset=2" in last.prev and last.next is None

    # The client's iterator pages with `after` until a page comes back short.
    iterated = [b.name for b in api.find_buckets_iter(org_id=org.id, limit=2)]
    assert sorted(iterated) == sorted(everything)

    # The client refuses limit > 100 itself; the server does too.
    response = requests.get(
        f"{client.url}/api/v2/buckets",
        params={"orgID": org.id, "limit": "101"},
        headers={"Authorization": f"Token {client.token}"},
    )
    assert response.status_code == 400, response.text
    assert response.json() == {"code": "invalid", "message": "limit must be between 1 and 100"}


# -- writes -----------------------------------------------------------------------------------------


def test_synchronous_writes_of_every_record_kind(client, onboarded, db_bucket):
    db, bucket = db_bucket
    write_api = client.write_api(write_options=SYNCHRONOUS)
    base = 1_700_000_000_000_000_000
    point = (
        Point("kinds")
        .tag("source", "point")
        .field("f", 21.5)
        .field("i", 7)
        .field("b", True)
        .field("s", 'said "hi"')
        .time(base, WritePrecision.NS)
    )
    record = {
        "measurement": "kinds",
        "tags": {"source": "dict"},
        "fields": {"f": -0.25, "i": -9223372036854775807, "b": False, "s": "ünïcode ✓"},
        "time": base + 1,
    }
    write_api.write(bucket=bucket.name, org=onboarded.org_name, record=[point, record])
    write_api.write(
        bucket=bucket.name,
        org=onboarded.org_id,
        record='kinds,source=line f=1e-7,i=0i,b=t,s="" ' + str(base + 2),
    )
    write_api.write(
        bucket=bucket.name,
        org=onboarded.org_name,
        record=[b'kinds,source=seconds f=2,i=3i,b=false,s="x" 1700000003'],
        write_precision=WritePrecision.S,
    )
    write_api.write(
        bucket=bucket.name,
        org=onboarded.org_name,
        record=Point("kinds").tag("source", "ms").field("f", 5.0).time(1_700_000_004_000, WritePrecision.MS),
    )
    rows = wait_rows(onboarded.url, onboarded.token, db, "SELECT * FROM kinds", 5)
    assert rows == [
        {"time": base, "b": True, "f": 21.5, "i": 7, "s": 'said "hi"', "source": "point"},
        {
            "time": base + 1,
            "b": False,
            "f": -0.25,
            "i": -9223372036854775807,
            "s": "ünïcode ✓",
            "source": "dict",
        },
        {"time": base + 2, "b": True, "f": 1e-7, "i": 0, "s": "", "source": "line"},
        {"time": base + 3 * 10**9, "b": False, "f": 2.0, "i": 3, "s": "x", "source": "seconds"},
        {"time": base + 4 * 10**9, "b": None, "f": 5.0, "i": None, "s": None, "source": "ms"},
    ]
    # The same database through its retention policy name.
    assert (
        len(rows_of(v1_query(onboarded.url, onboarded.token, db, "SELECT f FROM kinds", rp="autogen"))) == 5
    )


def test_unsigned_integers_read_back_as_integers(client, onboarded, db_bucket):
    db, bucket = db_bucket
    client.write_api(write_options=SYNCHRONOUS).write(
        bucket=bucket.name, org=onboarded.org_name, record="uns u=18446744073709551615u,small=3u 1"
    )
    rows = wait_rows(onboarded.url, onboarded.token, db, "SELECT * FROM uns", 1)
    assert rows == [{"time": 1, "u": 18446744073709551615, "small": 3}]


def test_write_errors(client, onboarded, db_bucket, unique):
    _, bucket = db_bucket
    write_api = client.write_api(write_options=SYNCHRONOUS)
    with pytest.raises(ApiException) as err:
        write_api.write(bucket=unique("missing"), org=onboarded.org_name, record="m v=1 1")
    assert err.value.status == 404
    assert error_of(err.value)["code"] == "not found"
    with pytest.raises(ApiException) as err:
        write_api.write(bucket=bucket.name, org=onboarded.org_name, record="m v= 1")
    assert err.value.status == 400
    assert error_of(err.value)["code"] == "invalid"
    write_api.write(bucket=bucket.name, org=onboarded.org_name, record="typed v=1.5 1")
    with pytest.raises(ApiException) as err:
        write_api.write(bucket=bucket.name, org=onboarded.org_name, record="typed v=2i 2")
    assert err.value.status == 422
    assert error_of(err.value)["code"] == "unprocessable entity"


def test_batched_writes(client, onboarded, db_bucket):
    db, bucket = db_bucket
    written, failed = [], []
    options = WriteOptions(batch_size=5, flush_interval=200, max_retries=0)
    with client.write_api(
        write_options=options,
        success_callback=lambda conf, data: written.append(data),
        error_callback=lambda conf, data, exc: failed.append(exc),
    ) as write_api:
        for i in range(12):
            write_api.write(
                bucket=bucket.name,
                org=onboarded.org_name,
                record=Point("batched").tag("n", str(i % 3)).field("i", i).time(i + 1, WritePrecision.S),
            )
    assert failed == []
    lines = [
        line for data in written for line in (data.decode() if isinstance(data, bytes) else data).split("\n")
    ]
    assert len(lines) == 12
    rows = wait_rows(onboarded.url, onboarded.token, db, "SELECT i FROM batched", 12)
    assert [row["i"] for row in rows] == list(range(12))
    assert [row["time"] for row in rows] == [(i + 1) * 10**9 for i in range(12)]


def test_gzip_writes(onboarded, db_bucket):
    db, bucket = db_bucket
    with InfluxDBClient(
        url=onboarded.url, token=onboarded.token, org=onboarded.org_name, enable_gzip=True
    ) as gz:
        gz.write_api(write_options=SYNCHRONOUS).write(
            bucket=bucket.name,
            record=[Point("gz").field("v", i).time(i, WritePrecision.NS) for i in range(1, 101)],
        )
    rows = wait_rows(onboarded.url, onboarded.token, db, "SELECT v FROM gz", 100)
    assert rows == [{"time": i, "v": i} for i in range(1, 101)]


def test_dbrp_mapping_makes_a_bucket_visible_to_v1(client, onboarded, unique):
    bucket = client.buckets_api().create_bucket(bucket_name=unique("plain"), org=onboarded.org_name)
    db = unique("mapped").replace("-", "_")
    dbrps = DBRPsService(client.api_client)
    # Without a mapping the bucket is database `<bucket name>`, not `db`.
    assert (
        v1_query(onboarded.url, onboarded.token, db, "SELECT * FROM m").json()["results"][0].get("series")
        is None
    )
    mapping = dbrps.post_dbrp(
        DBRPCreate(
            org_id=onboarded.org_id, bucket_id=bucket.id, database=db, retention_policy="rp1", default=True
        )
    )
    assert (mapping.database, mapping.retention_policy, mapping.bucket_id) == (db, "rp1", bucket.id)
    assert mapping.default is True
    listed = dbrps.get_dbr_ps(org_id=onboarded.org_id, db=db).content
    assert [(m.id, m.bucket_id, m.retention_policy) for m in listed] == [(mapping.id, bucket.id, "rp1")]

    client.write_api(write_options=SYNCHRONOUS).write(
        bucket=bucket.name, org=onboarded.org_name, record="mapped,host=a v=1i 10\nmapped,host=b v=2i 20"
    )
    rows = wait_rows(onboarded.url, onboarded.token, db, "SELECT v, host FROM mapped", 2)
    assert rows == [{"time": 10, "v": 1, "host": "a"}, {"time": 20, "v": 2, "host": "b"}]
    assert (
        rows_of(v1_query(onboarded.url, onboarded.token, db, "SELECT v, host FROM mapped", rp="rp1")) == rows
    )

    dbrps.delete_dbrpid(mapping.id, org_id=onboarded.org_id)
    assert dbrps.get_dbr_ps(org_id=onboarded.org_id, db=db).content == []


# -- authorizations -------------------------------------------------------------------------------------


def test_authorization_lifecycle(client, onboarded, unique):
    api = client.authorizations_api()
    bucket = client.buckets_api().create_bucket(bucket_name=unique("auth-bucket"), org=onboarded.org_name)
    created = api.create_authorization(
        org_id=onboarded.org_id,
        permissions=bucket_permissions(["read", "write"], org_id=onboarded.org_id, bucket_id=bucket.id),
    )
    assert created.token and created.token != onboarded.token
    assert created.status == "active"
    assert created.org_id == onboarded.org_id
    assert created.user_id == onboarded.user_id  # created by the admin's token: the admin's
    assert [(p.action, p.resource.type, p.resource.id) for p in created.permissions] == [
        ("read", "buckets", bucket.id),
        ("write", "buckets", bucket.id),
    ]

    assert created.id in {a.id for a in api.find_authorizations()}
    assert created.id in {a.id for a in api.find_authorizations_by_user_id(onboarded.user_id)}
    assert created.id in {a.id for a in api.find_authorizations_by_user_name("admin")}
    assert created.id in {a.id for a in api.find_authorizations_by_org_id(onboarded.org_id)}
    assert created.id in {a.id for a in api.find_authorizations_by_org_name(onboarded.org_name)}
    other = client.organizations_api().create_organization(name=unique("auth-org"))
    assert created.id not in {a.id for a in api.find_authorizations_by_org_id(other.id)}
    assert api.find_authorization_by_id(created.id).token == created.token

    created.status = "inactive"
    created.description = "switched off"
    updated = api.update_authorization(created)
    assert (updated.id, updated.status, updated.description) == (created.id, "inactive", "switched off")
    assert api.find_authorization_by_id(created.id).status == "inactive"

    api.delete_authorization(created)
    with pytest.raises(ApiException) as err:
        api.find_authorization_by_id(created.id)
    assert err.value.status == 404
    assert error_of(err.value) == {"code": "not found", "message": "authorization not found"}


def test_read_only_token_cannot_write(stack, client, onboarded, db_bucket):
    db, bucket = db_bucket
    client.write_api(write_options=SYNCHRONOUS).write(
        bucket=bucket.name, org=onboarded.org_name, record="ro v=1i 1"
    )
    reader = client.authorizations_api().create_authorization(
        org_id=onboarded.org_id,
        permissions=bucket_permissions(["read"], org_id=onboarded.org_id, bucket_id=bucket.id),
    )
    with InfluxDBClient(url=onboarded.url, token=reader.token, org=onboarded.org_name) as ro:
        with pytest.raises(ApiException) as err:
            ro.write_api(write_options=SYNCHRONOUS).write(bucket=bucket.name, record="ro v=2i 2")
        assert err.value.status == 403
        assert error_of(err.value) == {"code": "forbidden", "message": "insufficient permissions for write"}
        assert ro.buckets_api().find_bucket_by_id(bucket.id).name == bucket.name
    # v1 writes are refused the same way; reads are allowed.
    response = requests.post(
        f"{onboarded.url}/write",
        params={"db": db},
        data=b"ro v=3i 3",
        headers={"Authorization": f"Token {reader.token}"},
    )
    assert response.status_code == 403, response.text
    assert wait_rows(onboarded.url, reader.token, db, "SELECT v FROM ro", 1) == [{"time": 1, "v": 1}]
    stack.drain()
    assert rows_of(v1_query(onboarded.url, reader.token, db, "SELECT v FROM ro")) == [{"time": 1, "v": 1}]


def test_write_only_token_cannot_read(client, onboarded, db_bucket):
    db, bucket = db_bucket
    writer = client.authorizations_api().create_authorization(
        org_id=onboarded.org_id,
        permissions=bucket_permissions(["write"], org_id=onboarded.org_id, bucket_id=bucket.id),
    )
    with InfluxDBClient(url=onboarded.url, token=writer.token, org=onboarded.org_name) as wo:
        wo.write_api(write_options=SYNCHRONOUS).write(
            bucket=bucket.id, org=onboarded.org_id, record="wo v=1i 1"
        )
    assert wait_rows(onboarded.url, onboarded.token, db, "SELECT v FROM wo", 1) == [{"time": 1, "v": 1}]
    response = v1_query(onboarded.url, writer.token, db, "SELECT v FROM wo")
    # InfluxQL reports it as the statement's error.
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert "series" not in result
    assert "unauthorized" in result["error"], result


def test_token_of_another_org_cannot_touch_the_first_orgs_bucket(stack, client, onboarded, db_bucket, unique):
    db, bucket = db_bucket
    client.write_api(write_options=SYNCHRONOUS).write(
        bucket=bucket.name, org=onboarded.org_name, record="mine v=1i 1"
    )
    other_org = client.organizations_api().create_organization(name=unique("other-org"))
    other_db = unique("otherdb").replace("-", "_")
    other_bucket = client.buckets_api().create_bucket(bucket_name=f"{other_db}/autogen", org=other_org.id)
    outsider = client.authorizations_api().create_authorization(
        org_id=other_org.id, permissions=bucket_permissions(["read", "write"], org_id=other_org.id)
    )
    with InfluxDBClient(url=onboarded.url, token=outsider.token, org=other_org.id) as theirs:
        write_api = theirs.write_api(write_options=SYNCHRONOUS)
        # Its own org's bucket is fine.
        write_api.write(bucket=other_bucket.name, org=other_org.id, record="theirs v=2i 2")
        # The first org's bucket, by ID or by org and bucket name: refused.
        with pytest.raises(ApiException) as err:
            write_api.write(bucket=bucket.name, org=onboarded.org_id, record="intruder v=1i 1")
        assert err.value.status in (401, 403, 404), err.value.body
        with pytest.raises(ApiException) as err:
            theirs.buckets_api().find_bucket_by_id(bucket.id)
        assert err.value.status == 401
        assert error_of(err.value) == {
            "code": "unauthorized",
            "message": f"read:orgs/{onboarded.org_id}/buckets/{bucket.id} is unauthorized",
        }
        visible = {b.id for b in theirs.buckets_api().find_buckets().buckets}
        assert other_bucket.id in visible
        assert bucket.id not in visible and onboarded.bucket_id not in visible
    assert wait_rows(onboarded.url, outsider.token, other_db, "SELECT v FROM theirs", 1) == [
        {"time": 2, "v": 2}
    ]
    # v1 names resolve within the token's own org: the first org's database does not exist for it.
    response = v1_query(onboarded.url, outsider.token, db, "SELECT * FROM mine")
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert "series" not in result
    assert result["error"].startswith("database not found: "), result
    v1_write = requests.post(
        f"{onboarded.url}/write",
        params={"db": db},
        data=b"intruder v=1i 1",
        headers={"Authorization": f"Token {outsider.token}"},
    )
    assert v1_write.status_code == 404, v1_write.text
    assert v1_write.json() == {"error": f'database not found: "{db}"'}
    stack.drain()
    assert rows_of(v1_query(onboarded.url, onboarded.token, db, "SELECT * FROM intruder")) == []


def test_inactive_token_is_unauthorized(client, onboarded, db_bucket):
    db, bucket = db_bucket
    api = client.authorizations_api()
    auth = api.create_authorization(
        org_id=onboarded.org_id, permissions=bucket_permissions(["read", "write"], org_id=onboarded.org_id)
    )
    with InfluxDBClient(url=onboarded.url, token=auth.token, org=onboarded.org_name) as user:
        write_api = user.write_api(write_options=SYNCHRONOUS)
        write_api.write(bucket=bucket.name, record="toggle v=1i 1")
        auth.status = "inactive"
        api.update_authorization(auth)
        with pytest.raises(ApiException) as err:
            write_api.write(bucket=bucket.name, record="toggle v=2i 2")
        assert err.value.status == 401
        assert error_of(err.value)["code"] == "unauthorized"
        with pytest.raises(ApiException) as err:
            user.buckets_api().find_buckets()
        assert err.value.status == 401
        assert v1_query(onboarded.url, auth.token, db, "SELECT * FROM toggle").status_code == 401
        auth.status = "active"
        api.update_authorization(auth)
        write_api.write(bucket=bucket.name, record="toggle v=3i 3")
    rows = wait_rows(onboarded.url, onboarded.token, db, "SELECT v FROM toggle", 2)
    assert rows == [{"time": 1, "v": 1}, {"time": 3, "v": 3}]


def test_deleted_token_and_no_token_are_unauthorized(client, onboarded, db_bucket):
    _, bucket = db_bucket
    auth = client.authorizations_api().create_authorization(
        org_id=onboarded.org_id, permissions=bucket_permissions(["write"], org_id=onboarded.org_id)
    )
    client.authorizations_api().delete_authorization(auth.id)
    with InfluxDBClient(url=onboarded.url, token=auth.token, org=onboarded.org_name) as deleted:
        with pytest.raises(ApiException) as err:
            deleted.write_api(write_options=SYNCHRONOUS).write(bucket=bucket.name, record="gone v=1i 1")
        assert err.value.status == 401
    with InfluxDBClient(url=onboarded.url, org=onboarded.org_name) as nobody:
        with pytest.raises(ApiException) as err:
            nobody.write_api(write_options=SYNCHRONOUS).write(bucket=bucket.name, record="anon v=1i 1")
        assert err.value.status == 401
        assert error_of(err.value) == {"code": "unauthorized", "message": "unauthorized access"}
        with pytest.raises(ApiException) as err:
            nobody.buckets_api().find_buckets()
        assert err.value.status == 401
        assert error_of(err.value) == {"code": "unauthorized", "message": "unauthorized access"}


def test_a_token_cannot_grant_more_than_it_holds(client, onboarded, unique):
    bucket = client.buckets_api().create_bucket(bucket_name=unique("subset"), org=onboarded.org_name)
    narrow = client.authorizations_api().create_authorization(
        org_id=onboarded.org_id,
        permissions=[
            *bucket_permissions(["read"], org_id=onboarded.org_id, bucket_id=bucket.id),
            Permission(
                action="write", resource=PermissionResource(type="authorizations", org_id=onboarded.org_id)
            ),
        ],
    )
    wider = bucket_permissions(["write"], org_id=onboarded.org_id)
    with (
        InfluxDBClient(url=onboarded.url, token=narrow.token) as limited,
        pytest.raises(ApiException) as err,
    ):
        limited.authorizations_api().create_authorization(org_id=onboarded.org_id, permissions=wider)
    assert err.value.status == 403
    assert error_of(err.value) == {
        "code": "forbidden",
        "message": f"permission write:orgs/{onboarded.org_id}/buckets is not allowed: "
        f"write:orgs/{onboarded.org_id}/buckets is unauthorized",
    }


# -- sessions -------------------------------------------------------------------------------------------


def test_username_and_password_sign_in(onboarded, db_bucket):
    db, bucket = db_bucket
    with InfluxDBClient(
        url=onboarded.url, username="admin", password="correct-horse", org=onboarded.org_name
    ) as session:
        assert session.api_client.cookie is None
        names = {b.name for b in session.buckets_api().find_buckets(org_id=onboarded.org_id).buckets}
        assert {bucket.name, "e2e-bucket"} <= names
        assert "influxdb-oss-session=" in session.api_client.cookie
        me = session.users_api().me()
        assert (me.id, me.name, me.status) == (onboarded.user_id, "admin", "active")
        session.write_api(write_options=SYNCHRONOUS).write(bucket=bucket.name, record="session v=1i 1")
    assert wait_rows(onboarded.url, onboarded.token, db, "SELECT v FROM session", 1) == [{"time": 1, "v": 1}]


def test_wrong_password_cannot_sign_in(onboarded):
    with (
        InfluxDBClient(
            url=onboarded.url, username="admin", password="wrong-horse", org=onboarded.org_name
        ) as bad,
        pytest.raises(ApiException) as err,
    ):
        bad.buckets_api().find_buckets()
    assert err.value.status == 401
    with (
        InfluxDBClient(url=onboarded.url, username="nobody", password="correct-horse") as unknown,
        pytest.raises(ApiException) as err,
    ):
        unknown.users_api().me()
    assert err.value.status == 401


def test_session_cookie_over_http(onboarded):
    signin = requests.post(f"{onboarded.url}/api/v2/signin", auth=("admin", "correct-horse"))
    assert signin.status_code == 204, signin.text
    cookie = signin.cookies.get("influxdb-oss-session")
    assert cookie
    me = requests.get(f"{onboarded.url}/api/v2/me", cookies={"influxdb-oss-session": cookie})
    assert me.status_code == 200, me.text
    assert me.json()["name"] == "admin"
    assert "password" not in me.json()
    signout = requests.post(f"{onboarded.url}/api/v2/signout", cookies={"influxdb-oss-session": cookie})
    assert signout.status_code == 204, signout.text
    after = requests.get(f"{onboarded.url}/api/v2/me", cookies={"influxdb-oss-session": cookie})
    assert after.status_code == 401, after.text
    assert requests.get(f"{onboarded.url}/api/v2/me").status_code == 401
    wrong = requests.post(f"{onboarded.url}/api/v2/signin", auth=("admin", "wrong-horse"))
    assert wrong.status_code == 401, wrong.text


def test_me_with_the_operator_token(client, onboarded):
    me = client.users_api().me()
    assert (me.id, me.name) == (onboarded.user_id, "admin")


# -- orgs, users, members, labels --------------------------------------------------------------------


def test_orgs_users_members_and_owners(client, onboarded, unique):
    orgs = client.organizations_api()
    org = orgs.create_organization(name=unique("team"))
    assert org.id and org.name.startswith("team-")
    assert [o.id for o in orgs.find_organizations(org=org.name)] == [org.id]
    assert orgs.find_organization(org.id).name == org.name
    org.description = "the team"
    assert orgs.update_organization(org).description == "the team"
    # The admin created it, so the admin owns it.
    orgs_service = OrganizationsService(client.api_client)
    assert onboarded.user_id in {u.id for u in orgs_service.get_orgs_id_owners(org.id).users}

    users = client.users_api()
    user = users.create_user(unique("member"))
    assert user.status == "active"
    assert [u.id for u in users.find_users(name=user.name).users] == [user.id]

    added = orgs_service.post_orgs_id_members(org.id, AddResourceMemberRequestBody(id=user.id))
    assert (added.id, added.name, added.role) == (user.id, user.name, "member")
    members = orgs_service.get_orgs_id_members(org.id).users
    assert [(m.id, m.role) for m in members] == [(user.id, "member")]
    assert org.id in {o.id for o in orgs.find_organizations(user_id=user.id)}

    buckets_service = BucketsService(client.api_client)
    bucket = client.buckets_api().create_bucket(bucket_name=unique("owned"), org=org.id)
    owner = buckets_service.post_buckets_id_owners(bucket.id, AddResourceMemberRequestBody(id=user.id))
    assert (owner.id, owner.role) == (user.id, "owner")
    assert [(o.id, o.role) for o in buckets_service.get_buckets_id_owners(bucket.id).users] == [
        (user.id, "owner")
    ]

    buckets_service.delete_buckets_id_owners_id(user.id, bucket.id)
    assert buckets_service.get_buckets_id_owners(bucket.id).users == []
    orgs_service.delete_orgs_id_members_id(user.id, org.id)
    assert orgs_service.get_orgs_id_members(org.id).users == []

    user.status = "inactive"
    assert users.update_user(user).status == "inactive"
    users.delete_user(user)
    assert users.find_users(name=user.name).users == []

    orgs.delete_organization(org.id)
    with pytest.raises(ApiException) as err:
        orgs.find_organization(org.id)
    assert err.value.status == 404
    with pytest.raises(ApiException) as err:
        client.buckets_api().find_bucket_by_id(bucket.id)
    assert err.value.status == 404


def test_org_member_signs_in_and_reads_the_orgs_buckets(client, unique):
    """influxd gives a session its user's org permissions: members read the org, owners write it."""
    org = client.organizations_api().create_organization(name=unique("members-org"))
    bucket = client.buckets_api().create_bucket(bucket_name=unique("members-bucket"), org=org.id)
    user = client.users_api().create_user(unique("reader"))
    client.users_api().update_password(user, "reader-password")
    OrganizationsService(client.api_client).post_orgs_id_members(
        org.id, AddResourceMemberRequestBody(id=user.id)
    )
    with InfluxDBClient(
        url=client.url, username=user.name, password="reader-password", org=org.id
    ) as session:
        assert session.users_api().me().name == user.name
        names = {b.name for b in session.buckets_api().find_buckets(org_id=org.id).buckets}
        assert bucket.name in names
        with pytest.raises(ApiException) as err:
            session.buckets_api().create_bucket(bucket_name=unique("not-allowed"), org=org.id)
        assert err.value.status == 401


def test_labels_on_buckets(client, onboarded, unique):
    labels = client.labels_api()
    name = unique("label")
    label = labels.create_label(name, onboarded.org_id, {"color": "ffb3b3", "description": "hot"})
    assert (label.name, label.org_id, label.properties) == (
        name,
        onboarded.org_id,
        {"color": "ffb3b3", "description": "hot"},
    )
    assert label.id in {lb.id for lb in labels.find_labels()}
    assert label.id in {lb.id for lb in labels.find_label_by_org(onboarded.org_id)}
    assert labels.find_label_by_id(label.id).name == name

    label.name = unique("relabel")
    label.properties = {"color": "00ff00"}
    updated = labels.update_label(label)
    assert updated.name == label.name
    assert updated.properties == {"color": "00ff00", "description": "hot"}

    buckets_service = BucketsService(client.api_client)
    bucket = client.buckets_api().create_bucket(bucket_name=unique("labelled"), org=onboarded.org_name)
    attached = buckets_service.post_buckets_id_labels(bucket.id, LabelMapping(label_id=label.id))
    assert attached.label.id == label.id
    assert [lb.id for lb in buckets_service.get_buckets_id_labels(bucket.id).labels] == [label.id]
    with pytest.raises(ApiException) as err:
        buckets_service.post_buckets_id_labels(bucket.id, LabelMapping(label_id=label.id))
    assert err.value.status == 422

    buckets_service.delete_buckets_id_labels_id(bucket.id, label.id)
    assert buckets_service.get_buckets_id_labels(bucket.id).labels == []
    labels.delete_label(label)
    with pytest.raises(ApiException) as err:
        labels.find_label_by_id(label.id)
    assert err.value.status == 404


def test_timestamps_are_rfc3339(client, unique):
    org = client.organizations_api().create_organization(name=unique("stamped"))
    assert isinstance(org.created_at, datetime)
    assert org.created_at.tzinfo is not None
    assert abs((datetime.now(UTC) - org.created_at).total_seconds()) < 300
