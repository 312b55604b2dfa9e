"""proxy/influxql: influx-proxy's routing of /query statements, its refusals and their messages; the
cases are influx-proxy's own (backend/influxql_test.go), plus those where 2.4.7 routes wrongly."""

from __future__ import annotations

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.proxy.influxql import (
    Merge,
    Route,
    backend_params,
    database_of,
    measurement_of,
    plan,
    scan_tokens,
    split_statements,
)

M, MERGE, EVERY, ALL = Route.MEASUREMENT, Route.MERGE, Route.EVERY_CIRCLE, Route.EVERY_BACKEND


@pytest.mark.parametrize(
    ("query", "measurement"),
    [
        ('DELETE FROM "cpu"', "cpu"),
        ("DELETE FROM \"cpu\" WHERE time < '2000-01-01T00:00:00Z'", "cpu"),
        ("DROP MEASUREMENT cpu;", "cpu"),
        ('DROP MEASUREMENT "cpu"', "cpu"),
        ("DROP SERIES FROM \"cpu\" WHERE cpu = 'cpu8'", "cpu"),
        ('DROP SERIES FROM "telegraf".."cp u" WHERE cpu = \'cpu8\'', "cp u"),
        ('DROP SERIES FROM "telegraf"."autogen"."cp u" WHERE cpu = \'cpu8\'', "cp u"),
        ("select * from cpu", "cpu"),
        ('select * from "cpu"', "cpu"),
        ('select * from "c\\"pu"', 'c"pu'),
        ("select * from 'cpu'", "cpu"),
        ('select * from "c,pu"', "c,pu"),
        ('select * from "c pu"', "c pu"),
        ("select * from db.autogen.cpu", "cpu"),
        ('select * from db.autogen."cpu.load"', "cpu.load"),
        ('select * from db."autogen"."cpu.load"', "cpu.load"),
        ('select * from "d.b"."autogen"."cpu.load"', "cpu.load"),
        ("select * from db..cpu where a = 1", "cpu"),
        ('SELECT mean("value") FROM "cpu" WHERE "region" = \'uswest\' GROUP BY time(10m) fill(0)', "cpu"),
        ("SELECT mean(value) FROM /cpu.*/", "/cpu.*/"),
        ("SELECT mean(value) FROM /cpu .*/ WHERE a = 'b'", "/cpu .*/"),
        ('SHOW FIELD KEYS FROM "cpu"', "cpu"),
        ('SHOW FIELD KEYS FROM "1h"."cpu"', "cpu"),
        ("SHOW FIELD KEYS FROM 1h.cpu", "cpu"),
        ('SHOW FIELD KEYS FROM 1h."cpu.load"', "cpu.load"),
        ('SHOW FIELD KEYS FROM "1h"."cpu" WHERE a = 1', "cpu"),  # 2.4.7: "1h"
        ('SHOW SERIES FROM "telegraf".."cp.u" WHERE cpu = \'cpu8\'', "cp.u"),
        ("SHOW TAG KEYS FROM cpu", "cpu"),
        ('SHOW TAG VALUES FROM "cpu" WITH KEY IN ("region", "host") WHERE "service" = \'redis\'', "cpu"),
        ("SELECT * FROM (SELECT max(v) FROM cpu GROUP BY host) WHERE time > now() - 1h", "cpu"),
        ("select a, b from cpu, mem", "cpu"),
        ("select * from cpu\nwhere host = 'a'", "cpu"),
    ],
)
def test_measurement_as_influx_proxy_finds_it(query: str, measurement: str) -> None:
    assert measurement_of(scan_tokens(split_statements(query)[0])) == measurement


@pytest.mark.parametrize(
    ("query", "db"),
    [
        ('ALTER RETENTION POLICY "1h.cpu" ON "mydb" DEFAULT', "mydb"),
        ('CREATE RETENTION POLICY "10m.events" ON "somedb" DURATION 60m REPLICATION 2', "somedb"),
        ('DROP RETENTION POLICY "1h.cpu" ON "mydb"', "mydb"),
        ('SHOW RETENTION POLICIES ON "mydb"', "mydb"),
        ("SHOW SERIES EXACT CARDINALITY ON mydb", "mydb"),
        ('CREATE SUBSCRIPTION "sub0" ON "my.db".autogen DESTINATIONS ALL \'udp://x:9090\'', "my.db"),
        ("CREATE SUBSCRIPTION \"sub0\" ON mydb.autogen DESTINATIONS ALL 'udp://x:9090'", "mydb"),
        ('select * from "telegraf"."autogen"."cpu"', "telegraf"),
        ('select * from "telegraf".."cpu"', "telegraf"),
        ("select * from autogen.cpu", ""),
        ("select * from cpu", ""),
        ("select * from (select * from telegraf.autogen.cpu)", "telegraf"),
    ],
)
def test_database_named_by_the_statement(query: str, db: str) -> None:
    assert database_of(scan_tokens(query)) == db


@pytest.mark.parametrize(
    ("query", "route", "db", "measurement", "merge"),
    [
        ("select * from cpu", M, "db", "cpu", None),
        ("SELECT * FROM cpu;", M, "db", "cpu", None),
        ('SELECT * FROM "other"."autogen"."cpu"', M, "other", "cpu", None),  # 2.4.7: the db parameter
        ('SHOW TAG KEYS FROM "cpu" WHERE "region" = \'uswest\'', M, "db", "cpu", None),
        ("SHOW SERIES CARDINALITY FROM cpu", M, "db", "cpu", None),
        ("show foo from cpu", M, "db", "cpu", None),  # any SHOW with FROM goes through
        ("SHOW MEASUREMENTS", MERGE, "db", "", Merge.VALUES),
        (
            "SHOW MEASUREMENTS WHERE \"region\" = 'uswest' AND \"host\" = 'serverA'",
            MERGE,
            "db",
            "",
            Merge.VALUES,
        ),
        (
            "SHOW MEASUREMENTS WITH MEASUREMENT =~ /h2o.*/",
            MERGE,
            "db",
            "",
            Merge.VALUES,
        ),  # 2.4.7: one backend
        ("SHOW MEASUREMENTS ON other", MERGE, "other", "", Merge.VALUES),
        ("SHOW SERIES", MERGE, "db", "", Merge.VALUES),
        ("SHOW DATABASES", MERGE, "", "", Merge.VALUES),
        ("SHOW FIELD KEYS", MERGE, "db", "", Merge.SERIES),
        ("SHOW TAG KEYS", MERGE, "db", "", Merge.SERIES),
        ("SHOW TAG KEYS WHERE \"host\" = 'serverA'", MERGE, "db", "", Merge.SERIES),
        ('SHOW TAG VALUES WITH KEY = "region"', MERGE, "db", "", Merge.SERIES),
        ("SHOW TAG VALUES WITH KEY !~ /.*c.*/", MERGE, "db", "", Merge.SERIES),
        ("SHOW RETENTION POLICIES", MERGE, "db", "", Merge.RETENTION_POLICIES),
        ('SHOW RETENTION POLICIES ON "mydb"', MERGE, "mydb", "", Merge.RETENTION_POLICIES),
        ("SHOW STATS", MERGE, "db", "", Merge.RESULTS),
        ('DELETE FROM "cpu"', EVERY, "db", "cpu", None),
        ('DROP MEASUREMENT "cpu"', EVERY, "db", "cpu", None),
        ("DROP SERIES FROM \"cpu\" WHERE cpu = 'cpu8'", EVERY, "db", "cpu", None),
        ('CREATE DATABASE "foo"', ALL, "foo", "", None),
        (
            'CREATE DATABASE "bar" WITH DURATION 1d REPLICATION 1 SHARD DURATION 30m NAME "myrp"',
            ALL,
            "bar",
            "",
            None,
        ),
        ('CREATE DATABASE "f\\"oo"', ALL, 'f"oo', "", None),
        ('CREATE DATABASE "f oo"', ALL, "f oo", "", None),
        ("CREATE DATABASE foo;", ALL, "foo", "", None),
        ('DROP DATABASE "mydb"', ALL, "mydb", "", None),
        (
            'CREATE RETENTION POLICY "rp" ON "somedb" DURATION 60m REPLICATION 2 DEFAULT',
            ALL,
            "somedb",
            "",
            None,
        ),
        ('ALTER RETENTION POLICY "policy1" ON "somedb" DURATION 1h REPLICATION 4', ALL, "somedb", "", None),
        ("DROP RETENTION POLICY rp", ALL, "db", "", None),
        ("CREATE DATABASE a; CREATE DATABASE b", ALL, "a", "", None),
        ("select * from cpu; select max(v) from cpu", M, "db", "cpu", None),
        ("select * from cpu where host = 'a;b'", M, "db", "cpu", None),
    ],
)
def test_routes(query: str, route: Route, db: str, measurement: str, merge: Merge | None) -> None:
    got = plan(query, "db")
    assert (got.route, got.db, got.measurement, got.merge) == (route, db, measurement, merge)


@pytest.mark.parametrize(
    ("query", "db", "message"),
    [
        ("", "db", "query not found"),
        ("   ", "db", "query not found"),
        (";", "db", "query forbidden"),
        ('SELECT mean("value") INTO "cpu_1h".:MEASUREMENT FROM /cpu.*/', "db", "query forbidden"),
        ("select 1", "db", "query forbidden"),
        ("DELETE WHERE time < '2000-01-01T00:00:00Z'", "db", "query forbidden"),
        ('DROP CONTINUOUS QUERY "myquery" ON "mydb"', "db", "query forbidden"),
        ("DROP SHARD 1", "db", "query forbidden"),
        ("CREATE USER \"jdoe\" WITH PASSWORD 'x'", "db", "query forbidden"),
        ('GRANT READ ON "mydb" TO "jdoe"', "db", "query forbidden"),
        ('REVOKE ALL PRIVILEGES FROM "jdoe"', "db", "query forbidden"),
        ("KILL QUERY 36", "db", "query forbidden"),
        ("SHOW CONTINUOUS QUERIES", "db", "query forbidden"),
        ("SHOW DIAGNOSTICS", "db", "query forbidden"),
        ("SHOW MEASUREMENT CARDINALITY", "db", "query forbidden"),
        ("SHOW FIELD KEY CARDINALITY", "db", "query forbidden"),
        ("SHOW SERIES CARDINALITY", "db", "query forbidden"),
        ("SHOW SERIES EXACT CARDINALITY ON mydb", "db", "query forbidden"),
        ('SHOW TAG VALUES CARDINALITY WITH KEY = "myTagKey"', "db", "query forbidden"),
        ("SHOW QUERIES", "db", "query forbidden"),
        ("SHOW SHARDS", "db", "query forbidden"),
        ("SHOW USERS", "db", "query forbidden"),
        ('SHOW GRANTS FOR "jdoe"', "db", "query forbidden"),
        ("show measurements; show databases", "db", "query forbidden"),
        ("select * from a; select * from b", "db", "query forbidden"),
        ("select * from a; drop measurement a", "db", "query forbidden"),
        ('select * from "cpu', "db", "query error: can't get measurement"),  # the tokens end at the quote
        ("select * from cpu", "", "database not found"),
        ("SHOW MEASUREMENTS", "", "database not found"),
        ("SHOW STATS", "", "database not found"),
        ("DROP MEASUREMENT cpu", "", "database not found"),
        ("select * from", "db", "query error: can't get measurement"),
        ("DROP SERIES FROM", "db", "query error: illegal InfluxQL"),
        ("DROP MEASUREMENT", "db", "query error: illegal InfluxQL"),
    ],
)
def test_refusals(query: str, db: str, message: str) -> None:
    got = plan(query, db)
    assert (got.route, got.status, got.message) == (Route.REFUSED, 400, message)
    err = got.error()
    assert isinstance(err, TicklessError)
    assert (err.status, err.message) == (400, message)


def test_db_list_forbids_other_databases() -> None:
    allowed = {"db"}
    assert plan("select * from cpu", "db", db_list=allowed).route is Route.MEASUREMENT
    assert plan("select * from cpu", "x", db_list=allowed).message == "database forbidden: x"
    # the database the statement names counts, not the parameter (2.4.7 let this one through)
    assert plan("select * from x.autogen.cpu", "db", db_list=allowed).message == "database forbidden: x"
    assert plan("CREATE DATABASE y", "db", db_list=allowed).message == "database forbidden: y"
    assert plan("SHOW DATABASES", "", db_list=allowed).route is Route.MERGE


def test_key_is_influx_proxys_placement_key() -> None:
    assert plan('select * from "c,pu"', "d b").key == "d b,c,pu"


def test_split_statements_respects_quotes() -> None:
    assert split_statements("select 'a;b' from x; ;show databases;") == [
        "select 'a;b' from x",
        "show databases",
    ]


def test_tokens() -> None:
    assert scan_tokens('select * from "a\\"b".c WHERE x = \'y z\';') == [
        "select",
        "*",
        "from",
        '"a"b"',
        ".",
        "c",
        "WHERE",
        "x",
        "=",
        "'y z'",
    ]
    assert scan_tokens("select (a) [b] {c} from x") == ["select", "(a)", "[b]", "{c}", "from", "x"]
    assert scan_tokens("select * from 'open") == ["select", "*", "from"]


@pytest.mark.parametrize(
    ("route", "dropped"),
    [
        (Route.MEASUREMENT, {"u", "p"}),
        (Route.MERGE, {"u", "p", "chunked"}),
        (Route.EVERY_BACKEND, {"u", "p"}),
    ],
)
def test_backend_params(route: Route, dropped: set[str]) -> None:
    params = {"q": "x", "db": "d", "u": "a", "p": "b", "epoch": "ms", "pretty": "true", "chunked": "true"}
    assert backend_params(route, params) == {k: v for k, v in params.items() if k not in dropped}
