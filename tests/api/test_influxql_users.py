"""InfluxQL user statements over legacy (v1) authorizations: answers and error texts as influxd 1.6.7
gives them (checked against a real one, see tests/oracle), and the privileges enforced on /query and
/write for the user's v1 credentials."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.api.conftest import query
from tests.api.test_tenancy import unique

OK = {"results": [{"statement_id": 0}]}


def error(client, q: str, **params) -> str | None:
    return query(client, q, **params)["results"][0].get("error")


def users(client) -> dict[str, bool]:
    series = query(client, "SHOW USERS")["results"][0]["series"][0]
    assert series["columns"] == ["user", "admin"]
    return {name: admin for name, admin in series.get("values", [])}


def grants(client, name: str) -> list[list]:
    series = query(client, f"SHOW GRANTS FOR {name}")["results"][0]["series"][0]
    assert series["columns"] == ["database", "privilege"]
    return series.get("values", [])


def as_user(anonymous, name: str, password: str, q: str, db: str = "") -> dict:
    response = anonymous.http.get("/query?" + urlencode({"q": q, "db": db, "u": name, "p": password}))
    return {"status": response.status_code, **(response.json_body or {})}


@pytest.fixture
def user(client) -> str:
    name = unique("u")
    assert query(client, f"CREATE USER {name} WITH PASSWORD 'secret-1'") == OK
    return name


def test_create_show_and_drop(client, user):
    admin = unique("admin")
    assert query(client, f"CREATE USER {admin} WITH PASSWORD 'pw' WITH ALL PRIVILEGES") == OK
    listed = users(client)
    assert listed[user] is False and listed[admin] is True
    # the same user again is a no-op; other settings are an error, as in influxd
    assert query(client, f"CREATE USER {user} WITH PASSWORD 'secret-1'") == OK
    assert error(client, f"CREATE USER {user} WITH PASSWORD 'other'") == "user already exists"
    assert error(client, f"CREATE USER {user} WITH PASSWORD 'secret-1' WITH ALL PRIVILEGES") == (
        "user already exists"
    )
    assert error(client, "CREATE USER \"\" WITH PASSWORD 'x'") == "username required"
    assert query(client, f"DROP USER {admin}") == OK
    assert admin not in users(client)
    assert error(client, f"DROP USER {admin}") == "user not found"


def test_user_is_a_legacy_authorization(client, user, onboarding):
    org_id = onboarding["org"]["id"]
    listed = client.http.get(f"/private/legacy/authorizations?orgID={org_id}").json_body["authorizations"]
    (auth,) = [a for a in listed if a["token"] == user]
    assert auth["permissions"] == [] and "password" not in auth


def test_grant_and_revoke(client, user, database):
    assert grants(client, user) == []
    assert query(client, f"GRANT READ ON {database} TO {user}") == OK
    assert grants(client, user) == [[database, "READ"]]
    assert query(client, f"GRANT WRITE ON {database} TO {user}") == OK  # replaces, as influxd
    assert grants(client, user) == [[database, "WRITE"]]
    assert query(client, f"GRANT ALL ON {database} TO {user}") == OK
    assert grants(client, user) == [[database, "ALL PRIVILEGES"]]
    assert query(client, f"REVOKE READ ON {database} FROM {user}") == OK
    assert grants(client, user) == [[database, "WRITE"]]
    assert query(client, f"REVOKE ALL PRIVILEGES ON {database} FROM {user}") == OK
    assert grants(client, user) == []
    assert error(client, f"GRANT READ ON nosuchdb TO {user}") == "database not found: nosuchdb"
    assert error(client, f"REVOKE ALL ON nosuchdb FROM {user}") == "database not found: nosuchdb"
    assert error(client, f"GRANT READ ON {database} TO nobody") == "user not found"
    assert error(client, "SHOW GRANTS FOR nobody") == "user not found"
    assert error(client, "SET PASSWORD FOR nobody = 'x'") == "user not found"
    assert error(client, "GRANT ALL PRIVILEGES TO nobody") == "user not found"


def test_admin_flag(client, user):
    assert query(client, f"GRANT ALL PRIVILEGES TO {user}") == OK
    assert users(client)[user] is True
    assert query(client, f"REVOKE ALL PRIVILEGES FROM {user}") == OK
    assert users(client)[user] is False


def test_privileges_are_enforced(client, anonymous, user, database):
    select = "SELECT * FROM cpu"
    denied = as_user(anonymous, user, "secret-1", select, database)
    assert "error" in denied or "error" in denied["results"][0]
    assert query(client, f"GRANT READ ON {database} TO {user}") == OK
    assert as_user(anonymous, user, "secret-1", select, database) == {"status": 200, **OK}
    write = anonymous.http.post(
        "/write?" + urlencode({"db": database, "u": user, "p": "secret-1"}), body=b"cpu v=1"
    )
    assert write.status_code == 403
    # user statements need an admin
    refused = as_user(anonymous, user, "secret-1", "CREATE USER someone WITH PASSWORD 'x'")
    assert "unauthorized" in refused["results"][0]["error"]
    assert query(client, f"GRANT ALL PRIVILEGES TO {user}") == OK
    assert user in {
        row[0]
        for row in as_user(anonymous, user, "secret-1", "SHOW USERS")["results"][0]["series"][0]["values"]
    }


def test_set_password(client, anonymous, user):
    assert query(client, f"GRANT ALL PRIVILEGES TO {user}") == OK
    assert query(client, f"SET PASSWORD FOR {user} = 'secret-2'") == OK
    assert as_user(anonymous, user, "secret-1", "SHOW USERS")["status"] == 401
    assert as_user(anonymous, user, "secret-2", "SHOW USERS")["status"] == 200
    assert query(client, f"DROP USER {user}") == OK
    assert as_user(anonymous, user, "secret-2", "SHOW USERS")["status"] == 401
