"""InfluxQL tokenizer/parser/AST rendering, checked against InfluxDB 1.x behaviour."""

from __future__ import annotations

import pytest

from chalicelib.influxql import ParseError, parse, parse_expr, parse_statement
from chalicelib.influxql import ast as a
from chalicelib.influxql.generator import generate, quote_ident
from chalicelib.influxql.tokens import format_duration, parse_duration

# query -> its InfluxDB rendering (None: renders exactly as written)
VALID: list[tuple[str, str | None]] = [
    # Grafana / Chronograf
    (
        'SELECT mean("value") FROM "cpu" WHERE ("host" =~ /^a$/) AND time >= now() - 6h '
        'GROUP BY time(1m), "host" fill(null)',
        "SELECT mean(value) FROM cpu WHERE (host =~ /^a$/) AND time >= now() - 6h GROUP BY time(1m), host",
    ),
    (
        'SELECT mean("usage_idle") FROM "telegraf"."autogen"."cpu" WHERE time >= now() - 1h '
        "GROUP BY time(10s) fill(none)",
        "SELECT mean(usage_idle) FROM telegraf.autogen.cpu WHERE time >= now() - 1h "
        "GROUP BY time(10s) fill(none)",
    ),
    (
        'SELECT non_negative_derivative(mean("bytes_recv"), 1s) * 8 AS "bits" FROM "net" '
        "WHERE time > 1600000000000ms and time < 1600003600000ms GROUP BY time(1m), * fill(0)",
        "SELECT non_negative_derivative(mean(bytes_recv), 1s) * 8 AS bits FROM net "
        "WHERE time > 1600000000s AND time < 1600003600s GROUP BY time(1m), * fill(0)",
    ),
    ("SHOW DATABASES", None),
    ("SHOW RETENTION POLICIES ON telegraf", None),
    ("SHOW MEASUREMENTS LIMIT 100", None),
    (
        "SHOW MEASUREMENTS WITH MEASUREMENT =~ /cpu/ LIMIT 100",
        "SHOW MEASUREMENTS WITH MEASUREMENT =~ /cpu/ LIMIT 100",
    ),
    ('SHOW TAG KEYS FROM "cpu"', "SHOW TAG KEYS FROM cpu"),
    ('SHOW TAG VALUES FROM "cpu" WITH KEY = "host"', "SHOW TAG VALUES FROM cpu WITH KEY = host"),
    (
        'SHOW TAG VALUES FROM "cpu" WITH KEY = "host" WHERE "region" =~ /^us$/',
        "SHOW TAG VALUES FROM cpu WITH KEY = host WHERE region =~ /^us$/",
    ),
    ('SHOW FIELD KEYS FROM "cpu"', "SHOW FIELD KEYS FROM cpu"),
    ("SHOW FIELD KEYS ON telegraf FROM cpu", None),
    (
        'SHOW TAG VALUES ON "telegraf" WITH KEY IN ("host", "cpu") LIMIT 10',
        "SHOW TAG VALUES ON telegraf WITH KEY IN (host, cpu) LIMIT 10",
    ),
    ("SELECT last(value) FROM cpu GROUP BY host", None),
    ("SELECT * FROM cpu WHERE time > now() - 5m ORDER BY time DESC LIMIT 10", None),
    # SELECT fields
    ("SELECT * FROM myseries", None),
    ("SELECT *, field1 FROM myseries GROUP BY *", None),
    ('SELECT "foo.bar.baz" AS foo FROM myseries', None),
    ("SELECT field1 AS f, field2 FROM cpu", None),
    ("SELECT a + b * c - d / e % f FROM m", None),
    ("SELECT a & b | c ^ d FROM m", None),
    ("SELECT (a + b) * c FROM m", None),
    ("SELECT -value FROM m", "SELECT -1 * value FROM m"),
    ("SELECT -mean(value) FROM m", "SELECT -1 * mean(value) FROM m"),
    ("SELECT -2 * 3, 1.5, -0.25, 10 FROM m", "SELECT -2 * 3, 1.500, -0.250, 10 FROM m"),
    ("SELECT MEAN(value) FROM m", "SELECT mean(value) FROM m"),
    ("SELECT derivative(mean(x), 1s) FROM m GROUP BY time(1m)", None),
    ("SELECT derivative(field1, 1h) / derivative(field2, 1h) FROM myseries", None),
    ("SELECT holt_winters_with_fit(first(field1), 3, 1) FROM m GROUP BY time(1h)", None),
    ("SELECT percentile(value, 95.5) FROM m", "SELECT percentile(value, 95.500) FROM m"),
    ("SELECT top(value, host, 3), bottom(value, 2) FROM cpu", None),
    ("SELECT count(*) FROM cpu", None),
    ("SELECT mean(/usage/) FROM cpu", None),
    ("SELECT /^usage/ FROM cpu", None),
    ("SELECT value::float, host::tag, v::field, i::integer FROM m", None),
    ("SELECT *::field FROM m", None),
    ("SELECT *::tag, *::field FROM m", None),
    ("SELECT DISTINCT value FROM cpu", None),
    ("SELECT distinct(value) FROM cpu", None),
    ("SELECT count(DISTINCT value) FROM cpu", None),
    ("SELECT count(distinct(value)) FROM cpu", None),
    ('SELECT "cpu load" FROM "my series"', None),
    ('SELECT "cpu\\"load" FROM myseries', None),
    ('SELECT "select", "from" FROM "where"', None),
    ("SELECT sample(field1, 100) FROM myseries", None),
    ("SELECT mean(value) FROM cpu WHERE time > now() - 1d GROUP BY time(1h, 15m) fill(previous)", None),
    ("SELECT mean(value) FROM cpu GROUP BY time(1h, now()) fill(linear)", None),
    ("SELECT mean(value) FROM cpu GROUP BY time(5m) fill(-1)", None),
    ("SELECT mean(value) FROM cpu GROUP BY time(5m) fill(1.5)", None),
    ("SELECT mean(value) FROM cpu GROUP BY /^h/", None),
    ("SELECT mean(value) FROM cpu GROUP BY host, region", None),
    ("SELECT value FROM cpu ORDER BY time ASC", None),
    ("SELECT value FROM cpu ORDER BY DESC", None),
    ("SELECT value FROM cpu LIMIT 10 OFFSET 5 SLIMIT 2 SOFFSET 1", None),
    ("SELECT value FROM cpu tz('Europe/Paris')", "SELECT value FROM cpu TZ('Europe/Paris')"),
    (
        "SELECT value FROM cpu WHERE time > now() - 1h tz('America/New_York')",
        "SELECT value FROM cpu WHERE time > now() - 1h TZ('America/New_York')",
    ),
    # FROM
    ("SELECT value FROM cpu, mem", None),
    ("SELECT value FROM /^cpu.*/", None),
    ("SELECT value FROM db../^c/", None),
    ("SELECT value FROM db.rp./^c/", None),
    ("SELECT value FROM rp./^c/", None),
    ('SELECT value FROM "db"."rp"."m"', "SELECT value FROM db.rp.m"),
    ("SELECT value FROM db..m", None),
    ("SELECT value FROM rp.m", None),
    ('SELECT value FROM "\\"ugly\\" db"."rp"."m x"', 'SELECT value FROM "\\"ugly\\" db".rp."m x"'),
    ("SELECT max(mean) FROM (SELECT mean(value) FROM cpu GROUP BY time(1m)) WHERE time > now() - 1h", None),
    ("SELECT * FROM (SELECT a FROM x), (SELECT b FROM y)", None),
    # INTO
    ("SELECT mean(value) INTO cpu_mean FROM cpu GROUP BY time(1h)", None),
    ("SELECT * INTO db.rp.copy FROM cpu GROUP BY *", None),
    ("SELECT * INTO rp.copy FROM cpu", None),
    ("SELECT * INTO db..:MEASUREMENT FROM /.*/ GROUP BY *", None),
    # WHERE
    ("SELECT * FROM cpu WHERE host = 'a' AND (region = 'b' OR region = 'c')", None),
    ("SELECT * FROM cpu WHERE host <> 'a'", "SELECT * FROM cpu WHERE host != 'a'"),
    (
        "SELECT * FROM cpu WHERE host !~ /^a/ and value >= 10 or value <= -1",
        "SELECT * FROM cpu WHERE host !~ /^a/ AND value >= 10 OR value <= -1",
    ),
    ("SELECT * FROM cpu WHERE host =~ /http\\:\\/\\/www\\.example\\.com/", None),
    ("SELECT * FROM cpu WHERE url=~/a\\/b/", "SELECT * FROM cpu WHERE url =~ /a\\/b/"),
    ("SELECT * FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND time <= '2020-01-02 00:00:00'", None),
    ("SELECT * FROM cpu WHERE s = 'it\\'s' AND t = 'a\\\\b'", None),
    ("SELECT * FROM cpu WHERE b = true AND c = false", None),
    ("SELECT * FROM cpu WHERE time > now() - 1h30m", "SELECT * FROM cpu WHERE time > now() - 90m"),
    ("SELECT * FROM cpu WHERE time > 10u AND time < 5µ", "SELECT * FROM cpu WHERE time > 10u AND time < 5u"),
    ("SELECT * FROM cpu WHERE time > 1w AND time < 2d + 3ns", None),
    ("select * from cpu where HOST = 'x'", "SELECT * FROM cpu WHERE HOST = 'x'"),
    (
        "SELECT * FROM cpu WHERE \"host\"::tag = 'a' AND value::field > 1",
        "SELECT * FROM cpu WHERE host::tag = 'a' AND value::field > 1",
    ),
    # SHOW
    ("SHOW MEASUREMENTS ON db WITH MEASUREMENT = cpu WHERE host = 'a' LIMIT 10 OFFSET 1", None),
    ("SHOW MEASUREMENTS ON *.*", None),
    ('SHOW MEASUREMENTS WITH MEASUREMENT = "and/or"', None),
    ("SHOW SERIES", None),
    ("SHOW SERIES ON db FROM cpu, mem WHERE host = 'a' LIMIT 1 OFFSET 2", None),
    ("SHOW TAG KEYS ON db FROM cpu WHERE host = 'a' LIMIT 1 OFFSET 2 SLIMIT 3 SOFFSET 4", None),
    ("SHOW TAG KEYS WITH KEY =~ /^h/", None),
    ("SHOW TAG VALUES WITH KEY != host", None),
    ("SHOW TAG VALUES WITH KEY !~ /^h/", None),
    ('SHOW TAG VALUES WITH KEY IN ("a long name", short)', None),
    ("SHOW SERIES CARDINALITY", None),
    ("SHOW SERIES EXACT CARDINALITY ON db FROM cpu WHERE a = 'b' GROUP BY host LIMIT 1 OFFSET 2", None),
    ("SHOW MEASUREMENT CARDINALITY", None),
    ("SHOW MEASUREMENT EXACT CARDINALITY ON db", None),
    ("SHOW TAG KEY CARDINALITY FROM cpu", None),
    ("SHOW TAG KEY EXACT CARDINALITY", None),
    ("SHOW TAG VALUES CARDINALITY WITH KEY = host", None),
    ("SHOW TAG VALUES EXACT CARDINALITY ON db FROM cpu WITH KEY IN (a, b)", None),
    ("SHOW FIELD KEY CARDINALITY ON db", None),
    ("SHOW FIELD KEY EXACT CARDINALITY", None),
    ("SHOW QUERIES", None),
    ("SHOW USERS", None),
    ("SHOW DIAGNOSTICS", None),
    ("SHOW DIAGNOSTICS FOR 'build'", None),
    ("SHOW STATS", None),
    ("SHOW STATS FOR 'cluster'", None),
    ("SHOW SHARDS", None),
    ("SHOW SHARD GROUPS", None),
    ("SHOW SUBSCRIPTIONS", None),
    ("SHOW CONTINUOUS QUERIES", None),
    ('SHOW GRANTS FOR "user with spaces"', None),
    # Administration
    ("CREATE DATABASE mydb", None),
    ('CREATE DATABASE "db with spaces"', None),
    ("CREATE DATABASE db WITH DURATION 1d REPLICATION 1 SHARD DURATION 1h NAME rp", None),
    ("CREATE DATABASE db WITH NAME rp", None),
    ("CREATE DATABASE db WITH DURATION INF", "CREATE DATABASE db WITH DURATION 0s"),
    ('DROP DATABASE "!"', None),
    ('CREATE RETENTION POLICY "my rp" ON "a database" DURATION 1d REPLICATION 1', None),
    ("CREATE RETENTION POLICY rp ON db DURATION 2w REPLICATION 3 SHARD DURATION 30m DEFAULT", None),
    ('ALTER RETENTION POLICY "my rp" ON "a database" DEFAULT', None),
    ("ALTER RETENTION POLICY rp ON db DURATION 1h REPLICATION 2 SHARD DURATION 10m DEFAULT", None),
    (
        "ALTER RETENTION POLICY default ON db DURATION 1h",
        'ALTER RETENTION POLICY "default" ON db DURATION 1h',
    ),
    ('DROP RETENTION POLICY "my rp" ON "a database"', None),
    ("DROP MEASUREMENT cpu", None),
    ("DROP SERIES FROM cpu WHERE host = 'a'", None),
    ("DROP SERIES WHERE host = 'a'", None),
    ("DELETE FROM cpu WHERE time < '2020-01-01'", None),
    ("DELETE WHERE host = 'x'", None),
    ("DELETE FROM cpu", None),
    ("KILL QUERY 12", None),
    ("KILL QUERY 12 ON host1", None),
    (
        "CREATE USER bob WITH PASSWORD 'x' WITH ALL PRIVILEGES",
        "CREATE USER bob WITH PASSWORD [REDACTED] WITH ALL PRIVILEGES",
    ),
    ("SET PASSWORD FOR bob = 'y'", "SET PASSWORD FOR bob = [REDACTED]"),
    ('DROP USER "user with spaces"', None),
    ("GRANT READ ON db TO bob", None),
    ("GRANT ALL TO bob", "GRANT ALL PRIVILEGES TO bob"),
    ('GRANT ALL PRIVILEGES ON "db with spaces" TO "user with spaces"', None),
    ("REVOKE WRITE ON db FROM bob", None),
    ("REVOKE ALL PRIVILEGES FROM bob", None),
    (
        "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(value) INTO cpu_1h FROM cpu "
        "GROUP BY time(1h) END",
        None,
    ),
    (
        "CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 1m FOR 2h BEGIN SELECT mean(value) INTO m "
        "FROM cpu GROUP BY time(1h) END",
        None,
    ),
    ('DROP CONTINUOUS QUERY "my query" ON "my database"', None),
    (
        "CREATE SUBSCRIPTION s ON db.rp DESTINATIONS ANY 'udp://h:1', 'udp://h:2'",
        None,
    ),
    ('DROP SUBSCRIPTION "ugly \\"subscription\\" name" ON "\\"my\\" db"."\\"my\\" rp"', None),
    ("DROP SHARD 3", None),
    ("EXPLAIN SELECT * FROM cpu", None),
    ("EXPLAIN ANALYZE SELECT * FROM cpu", None),
    # Lexical details
    ("select  *\n\tfrom   cpu  -- a comment", "SELECT * FROM cpu"),
    ("SELECT value /* inline */ FROM cpu", "SELECT value FROM cpu"),
    ("SELECT value FROM cpu WHERE time > now()-5m", "SELECT value FROM cpu WHERE time > now() - 5m"),
    ("SELECT 1+2-3 FROM m", "SELECT 1 + 2 - 3 FROM m"),
    ("SELECT .5, 100. FROM m", "SELECT 0.500, 100.000 FROM m"),
    ("SELECT 9223372036854775808 FROM m", None),
    ("SELECT value FROM cpu\r\nWHERE a = 1", "SELECT value FROM cpu WHERE a = 1"),
]


@pytest.mark.parametrize(("query", "rendered"), VALID)
def test_valid_queries_render_and_reparse(query: str, rendered: str | None) -> None:
    (stmt,) = parse(query)
    text = generate(stmt)
    assert text == (rendered or query)
    if not isinstance(stmt, a.CreateUserStatement | a.SetPasswordUserStatement):
        (again,) = parse(text)
        assert again == stmt


def test_corpus_is_broad() -> None:
    assert len(VALID) >= 60


# Exact AST ----------------------------------------------------------------------------------------


def test_select_ast() -> None:
    stmt = parse_statement(
        "SELECT mean(field1), sum(field2), count(field3) AS field_x FROM myseries "
        "WHERE host = 'hosta.influxdb.org' and time > '2020-01-01T00:00:00Z' "
        "GROUP BY time(10h) ORDER BY DESC LIMIT 20 OFFSET 10;"
    )
    assert stmt == a.SelectStatement(
        fields=[
            a.Field(a.Call("mean", [a.VarRef("field1")])),
            a.Field(a.Call("sum", [a.VarRef("field2")])),
            a.Field(a.Call("count", [a.VarRef("field3")]), "field_x"),
        ],
        sources=[a.Measurement(name="myseries")],
        condition=a.BinaryExpr(
            "AND",
            a.BinaryExpr("=", a.VarRef("host"), a.StringLiteral("hosta.influxdb.org")),
            a.BinaryExpr(">", a.VarRef("time"), a.StringLiteral("2020-01-01T00:00:00Z")),
        ),
        dimensions=[a.Dimension(a.Call("time", [a.DurationLiteral(10 * 3600 * 10**9)]))],
        sort_fields=[a.SortField(ascending=False)],
        limit=20,
        offset=10,
        is_raw_query=False,
    )


def test_sources_ast() -> None:
    stmt = parse_statement('SELECT * FROM "db"."rp"."m", db..m2, rp.m3, /re/, db../re2/, (SELECT a FROM b)')
    assert isinstance(stmt, a.SelectStatement)
    assert stmt.is_raw_query
    assert stmt.sources == [
        a.Measurement("db", "rp", "m"),
        a.Measurement("db", "", "m2"),
        a.Measurement(retention_policy="rp", name="m3"),
        a.Measurement(regex=a.RegexLiteral("re")),
        a.Measurement(database="db", regex=a.RegexLiteral("re2")),
        a.SubQuery(a.SelectStatement(fields=[a.Field(a.VarRef("a"))], sources=[a.Measurement(name="b")])),
    ]


def test_fill_and_location() -> None:
    stmt = parse_statement("SELECT mean(v) FROM m GROUP BY time(1m, -30s) fill(0) tz('Europe/Paris')")
    assert isinstance(stmt, a.SelectStatement)
    assert (stmt.fill, stmt.fill_value, stmt.location) == ("number", 0, "Europe/Paris")
    assert stmt.group_by_interval() == (60 * 10**9, -30 * 10**9)
    assert parse_statement("SELECT mean(v) FROM m fill(2.5)").fill_value == 2.5  # type: ignore[attr-defined]
    assert parse_statement("SELECT v FROM m").group_by_interval() == (0, 0)  # type: ignore[attr-defined]


def test_target_ast() -> None:
    stmt = parse_statement("SELECT * INTO db..:MEASUREMENT FROM /.*/")
    assert isinstance(stmt, a.SelectStatement)
    assert stmt.target == a.Target(a.Measurement(database="db", is_target=True))


@pytest.mark.parametrize(
    ("text", "expr"),
    [
        ("100.0", a.NumberLiteral(100.0)),
        ("100", a.IntegerLiteral(100)),
        ("9223372036854775808", a.UnsignedLiteral(9223372036854775808)),
        ("-9223372036854775808", a.IntegerLiteral(-9223372036854775808)),
        ("-100.", a.NumberLiteral(-100.0)),
        ("-.23", a.NumberLiteral(-0.23)),
        ("1s", a.DurationLiteral(10**9)),
        ("-1s", a.DurationLiteral(-(10**9))),
        ("1h30m", a.DurationLiteral(90 * 60 * 10**9)),
        ("'foo bar'", a.StringLiteral("foo bar")),
        ("true", a.BooleanLiteral(True)),
        ("FALSE", a.BooleanLiteral(False)),
        ("my_ident", a.VarRef("my_ident")),
        ('"a"."b"', a.VarRef("a.b")),
        ("x::tag", a.VarRef("x", "tag")),
        ("now()", a.Call("now")),
        (
            "1 * 2 + 3",
            a.BinaryExpr(
                "+", a.BinaryExpr("*", a.IntegerLiteral(1), a.IntegerLiteral(2)), a.IntegerLiteral(3)
            ),
        ),
        (
            "1 + 2 * 3",
            a.BinaryExpr(
                "+", a.IntegerLiteral(1), a.BinaryExpr("*", a.IntegerLiteral(2), a.IntegerLiteral(3))
            ),
        ),
        (
            "1 * 2 * 3",
            a.BinaryExpr(
                "*", a.BinaryExpr("*", a.IntegerLiteral(1), a.IntegerLiteral(2)), a.IntegerLiteral(3)
            ),
        ),
        (
            "(1 + 2) * 3",
            a.BinaryExpr(
                "*",
                a.ParenExpr(a.BinaryExpr("+", a.IntegerLiteral(1), a.IntegerLiteral(2))),
                a.IntegerLiteral(3),
            ),
        ),
        ("-(-4)", a.BinaryExpr("*", a.IntegerLiteral(-1), a.ParenExpr(a.IntegerLiteral(-4)))),
        (
            "time>now()-5m",
            a.BinaryExpr(
                ">", a.VarRef("time"), a.BinaryExpr("-", a.Call("now"), a.DurationLiteral(5 * 60 * 10**9))
            ),
        ),
        (
            "url =~ /http\\:\\/\\/www\\.example\\.com/",
            a.BinaryExpr("=~", a.VarRef("url"), a.RegexLiteral("http\\://www\\.example\\.com")),
        ),
        (
            "a = 1 OR b = 2 AND c = 3",
            a.BinaryExpr(
                "OR",
                a.BinaryExpr("=", a.VarRef("a"), a.IntegerLiteral(1)),
                a.BinaryExpr(
                    "AND",
                    a.BinaryExpr("=", a.VarRef("b"), a.IntegerLiteral(2)),
                    a.BinaryExpr("=", a.VarRef("c"), a.IntegerLiteral(3)),
                ),
            ),
        ),
    ],
)
def test_parse_expr(text: str, expr: a.Expr) -> None:
    assert parse_expr(text) == expr


def test_value_rendering() -> None:
    assert generate(a.StringLiteral("it's\n\\")) == "'it\\'s\\n\\\\'"
    assert generate(a.TimeLiteral(1_500_000_000_123_000_000)) == "'2017-07-14T02:40:00.123Z'"
    assert quote_ident("db", "", "m") == '"db"..m'
    assert quote_ident("cpu") == "cpu"
    assert quote_ident("select") == '"select"'
    assert quote_ident("1abc") == '"1abc"'


@pytest.mark.parametrize(
    ("text", "ns", "rendered"),
    [
        ("10u", 10_000, "10u"),
        ("10µ", 10_000, "10u"),
        ("10ms", 10_000_000, "10ms"),
        ("10s", 10 * 10**9, "10s"),
        ("5m", 300 * 10**9, "5m"),
        ("1h", 3600 * 10**9, "1h"),
        ("1d", 86400 * 10**9, "1d"),
        ("1w", 7 * 86400 * 10**9, "1w"),
        ("1h30m", 5400 * 10**9, "90m"),
        ("7d", 7 * 86400 * 10**9, "1w"),
        ("15ns", 15, "15ns"),
    ],
)
def test_durations(text: str, ns: int, rendered: str) -> None:
    assert parse_duration(text) == ns
    assert format_duration(ns) == rendered


def test_multiple_statements() -> None:
    assert [generate(s) for s in parse("SELECT a FROM b; SELECT c FROM d")] == [
        "SELECT a FROM b",
        "SELECT c FROM d",
    ]
    assert len(parse("SELECT value FROM cpu;")) == 1
    assert len(parse(";;SELECT value FROM cpu;;")) == 1
    assert parse("") == []
    assert parse("  -- nothing\n") == []


def test_comments_are_skipped() -> None:
    query = """SELECT * FROM cpu; -- read from cpu database

/* create continuous query */
CREATE CONTINUOUS QUERY cq0 ON db0 BEGIN
	SELECT mean(*) INTO db1..:MEASUREMENT FROM cpu GROUP BY time(5m)
END;

/* just a multline comment
what is this doing here?
**/

-- should ignore the trailing multiline comment /*
SELECT mean(value) FROM gpu;
-- trailing comment at the end"""
    assert len(parse(query)) == 3


# Errors (messages and positions verified against InfluxDB 1.x) -----------------------------------

STATEMENTS = "SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL"

ERRORS: list[tuple[str, str]] = [
    ("SELECT * FROM", "found EOF, expected identifier at line 1, char 15"),
    (
        "DROP",
        "found EOF, expected CONTINUOUS, DATABASE, MEASUREMENT, RETENTION, SERIES, SHARD, SUBSCRIPTION, USER "
        "at line 1, char 6",
    ),
    ("SELECT", "found EOF, expected identifier, string, number, bool at line 1, char 8"),
    ("SELECT *", "found EOF, expected FROM at line 1, char 9"),
    (
        "blah blah",
        f"found blah, expected {STATEMENTS} at line 1, char 1",
    ),
    ("SELECT field1 X", "found X, expected FROM at line 1, char 15"),
    (
        'SELECT field1 FROM "series" WHERE X +;',
        "found ;, expected identifier, string, number, bool at line 1, char 38",
    ),
    ("SELECT field1 FROM myseries GROUP", "found EOF, expected BY at line 1, char 35"),
    ("SELECT field1 FROM myseries LIMIT", "found EOF, expected integer at line 1, char 35"),
    ("SELECT field1 FROM myseries LIMIT 10.5", "found 10.5, expected integer at line 1, char 35"),
    ("SELECT field1 FROM myseries OFFSET", "found EOF, expected integer at line 1, char 36"),
    ("SELECT field1 FROM myseries ORDER", "found EOF, expected BY at line 1, char 35"),
    ("SELECT field1 FROM myseries ORDER BY", "found EOF, expected identifier, ASC, DESC at line 1, char 38"),
    ("SELECT field1 FROM myseries ORDER BY /", "found /, expected identifier, ASC, DESC at line 1, char 38"),
    ("SELECT field1 FROM myseries ORDER BY 1", "found 1, expected identifier, ASC, DESC at line 1, char 38"),
    ("SELECT field1 FROM myseries ORDER BY time ASC,", "found EOF, expected identifier at line 1, char 47"),
    ("SELECT field1 FROM myseries ORDER BY time, field1", "only ORDER BY time supported at this time"),
    ("SELECT field1 AS", "found EOF, expected identifier at line 1, char 18"),
    ("SELECT field1 FROM 12", "found 12, expected identifier at line 1, char 20"),
    ("SELECT 1" + "0" * 40 + " FROM myseries", "unable to parse integer at line 1, char 8"),
    ("SELECT 10.5h FROM myseries", "found h, expected FROM at line 1, char 12"),
    ("SELECT distinct FROM myseries", "found FROM, expected identifier at line 1, char 17"),
    ("SELECT count(distinct) FROM myseries", "found ), expected (, identifier at line 1, char 22"),
    (
        "SELECT field1 from myseries WHERE host =~ 'asd' LIMIT 1",
        "found asd, expected regex at line 1, char 42",
    ),
    (
        "SELECT value > 2 FROM cpu",
        "invalid operator > in SELECT clause at line 1, char 8; operator is intended for WHERE clause",
    ),
    (
        "SELECT value = 2 FROM cpu",
        "invalid operator = in SELECT clause at line 1, char 8; operator is intended for WHERE clause",
    ),
    (
        "SELECT s =~ /foo/ FROM cpu",
        "invalid operator =~ in SELECT clause at line 1, char 8; operator is intended for WHERE clause",
    ),
    ("SELECT mean(value) FROM cpu FILL + value", "fill must be a function call"),
    ("SELECT mean(value) FROM cpu fill(foo)", "expected number argument in fill()"),
    (
        "SELECT mean(value) FROM cpu fill()",
        "fill requires an argument, e.g.: 0, null, none, previous, linear",
    ),
    ("SELECT value FROM cpu tz('Nowhere/Land')", "unable to find time zone Nowhere/Land"),
    ("SELECT value FROM cpu tz(1)", "expected string argument in tz()"),
    (
        "SELECT a::foo FROM m",
        "found foo, expected float, integer, unsigned, string, boolean, field, tag at line 1, char 11",
    ),
    ("SELECT *::float FROM m", "found float, expected field, tag at line 1, char 11"),
    ("SELECT * FROM a.b.c.d", 'too many segments in "a"."b"."c".d at line 1, char 1'),
    (
        "SELECT * FROM cpu WHERE a =~ /(/",
        "error parsing regexp: missing ), unterminated subpattern: `(` at line 1, char 29",
    ),
    ("SELECT * FROM cpu WHERE a =~ /abc", "bad regex: abc at line 1, char 29"),
    ("SELECT 'a\\x' FROM m", "found \\x, expected identifier, string, number, bool at line 1, char 11"),
    ("SELECT * FROM cpu WHERE x = 1s2", "invalid duration"),
    ("SELECT * FROM cpu foo", "found foo, expected ; at line 1, char 19"),
    (
        "SELECT * FROM cpu WHERE a = @",
        "found @, expected identifier, string, number, bool at line 1, char 29",
    ),
    ("SELECT * FROM cpu WHERE a ! b", "found !, expected ; at line 1, char 27"),
    # Like InfluxDB, a `/` where a regex may follow a source starts a regex, even `/*`.
    ("SELECT * FROM cpu /* unterminated", "bad regex: * unterminated at line 1, char 18"),
    ("SELECT * FROM cpu WHERE a = 1 /* unterminated", "found ILLEGAL, expected ; at line 1, char 31"),
    ("SELECT * FROM cpu\nWHERE", "found EOF, expected identifier, string, number, bool at line 2, char 7"),
    (
        "SELECT * FROM cpu\nWHERE host = 'a'\n  GROUP BY",
        "found EOF, expected identifier, string, number, bool at line 3, char 12",
    ),
    (
        "-+1",
        f"found -, expected {STATEMENTS} at line 1, char 1",
    ),
    ("DELETE", "found EOF, expected FROM, WHERE at line 1, char 8"),
    ("DELETE FROM", "found EOF, expected identifier at line 1, char 13"),
    ("DELETE FROM &foo.myseries", "found &, expected identifier at line 1, char 13"),
    ("DELETE FROM myseries WHERE", "found EOF, expected identifier, string, number, bool at line 1, char 28"),
    ("DELETE FROM foo..myseries", "database not supported at line 1, char 1"),
    ("DROP MEASUREMENT", "found EOF, expected identifier at line 1, char 18"),
    ("DROP SERIES", "found EOF, expected FROM, WHERE at line 1, char 13"),
    ("DROP SERIES FROM", "found EOF, expected identifier at line 1, char 18"),
    ('DROP SERIES FROM "foo".myseries', "retention policy not supported at line 1, char 1"),
    ("DROP SERIES FROM foo..myseries", "database not supported at line 1, char 1"),
    ("SHOW CONTINUOUS", "found EOF, expected QUERIES at line 1, char 17"),
    ("SHOW RETENTION", "found EOF, expected POLICIES at line 1, char 16"),
    ("SHOW RETENTION ON", "found ON, expected POLICIES at line 1, char 16"),
    ("SHOW RETENTION POLICIES ON", "found EOF, expected identifier at line 1, char 28"),
    ("SHOW SHARD", "found EOF, expected GROUPS at line 1, char 12"),
    (
        "SHOW FOO",
        "found FOO, expected CONTINUOUS, DATABASES, DIAGNOSTICS, FIELD, GRANTS, MEASUREMENT, MEASUREMENTS, "
        "QUERIES, RETENTION, SERIES, SHARD, SHARDS, STATS, SUBSCRIPTIONS, TAG, USERS at line 1, char 6",
    ),
    ("SHOW STATS FOR", "found EOF, expected string at line 1, char 16"),
    ("SHOW DIAGNOSTICS FOR", "found EOF, expected string at line 1, char 22"),
    ("SHOW GRANTS", "found EOF, expected FOR at line 1, char 13"),
    ("SHOW TAG VALUES", "found EOF, expected WITH at line 1, char 17"),
    ("SHOW TAG VALUES WITH KEY", "found EOF, expected IN, =, =~ at line 1, char 26"),
    ("SHOW TAG VALUES WITH KEY =~ host", "found host, expected regex at line 1, char 29"),
    ("SHOW TAG KEY", "found EOF, expected EXACT, CARDINALITY at line 1, char 14"),
    ("SHOW MEASUREMENTS WITH MEASUREMENT != cpu", "found !=, expected =, =~ at line 1, char 36"),
    ("DROP CONTINUOUS QUERY myquery", "found EOF, expected ON at line 1, char 31"),
    ("CREATE CONTINUOUS", "found EOF, expected QUERY at line 1, char 19"),
    (
        "CREATE CONTINUOUS QUERY cq ON db RESAMPLE FOR 5s BEGIN SELECT mean(value) INTO cpu_mean FROM cpu "
        "GROUP BY time(10s) END",
        "FOR duration must be >= GROUP BY time duration: must be a minimum of 10s, got 5s",
    ),
    (
        "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(value) FROM cpu GROUP BY time(10s) END",
        "found FROM, expected INTO at line 1, char 59",
    ),
    (
        "DROP FOO",
        "found FOO, expected CONTINUOUS, DATABASE, MEASUREMENT, RETENTION, SERIES, SHARD, SUBSCRIPTION, USER "
        "at line 1, char 6",
    ),
    (
        "CREATE FOO",
        "found FOO, expected CONTINUOUS, DATABASE, USER, RETENTION, SUBSCRIPTION at line 1, char 8",
    ),
    ("CREATE DATABASE", "found EOF, expected identifier at line 1, char 17"),
    (
        'CREATE DATABASE "testdb" WITH',
        "found EOF, expected DURATION, NAME, REPLICATION, SHARD, FUTURE, PAST at line 1, char 31",
    ),
    ('CREATE DATABASE "testdb" WITH DURATION', "found EOF, expected duration at line 1, char 40"),
    ('CREATE DATABASE "testdb" WITH REPLICATION', "found EOF, expected integer at line 1, char 43"),
    ('CREATE DATABASE "testdb" WITH NAME', "found EOF, expected identifier at line 1, char 36"),
    ('CREATE DATABASE "testdb" WITH SHARD', "found EOF, expected DURATION at line 1, char 37"),
    ("DROP DATABASE", "found EOF, expected identifier at line 1, char 15"),
    ('DROP RETENTION POLICY "1h.cpu"', "found EOF, expected ON at line 1, char 31"),
    ('DROP SUBSCRIPTION "name"', "found EOF, expected ON at line 1, char 25"),
    ('DROP SUBSCRIPTION "name" ON ', "found EOF, expected identifier at line 1, char 30"),
    ('DROP SUBSCRIPTION "name" ON "db"', "found EOF, expected . at line 1, char 33"),
    (
        'CREATE SUBSCRIPTION "name" ON "db"."rp" DESTINATIONS',
        "found EOF, expected ALL, ANY at line 1, char 54",
    ),
    ("CREATE USER testuser", "found EOF, expected WITH at line 1, char 22"),
    (
        "CREATE USER testuser WITH PASSWORD 'pwd' WITH ALL",
        "found EOF, expected PRIVILEGES at line 1, char 51",
    ),
    ("GRANT", "found EOF, expected READ, WRITE, ALL [PRIVILEGES] at line 1, char 7"),
    ("GRANT READ TO", "found TO, expected ON at line 1, char 12"),
    ("GRANT ALL PRIVILEGES FROM", "found FROM, expected ON, TO at line 1, char 22"),
    ("REVOKE ALL ON testdb TO", "found TO, expected FROM at line 1, char 22"),
    ("REVOKE READ FROM", "found FROM, expected ON at line 1, char 13"),
    ("KILL", "found EOF, expected QUERY at line 1, char 6"),
    ("KILL QUERY 10s", "found 10s, expected integer at line 1, char 12"),
    ("KILL QUERY 4 ON 'host'", "found host, expected identifier at line 1, char 16"),
    ("CREATE RETENTION POLICY policy1 ON testdb", "found EOF, expected DURATION at line 1, char 43"),
    (
        "CREATE RETENTION POLICY policy1 ON testdb DURATION bad",
        "found bad, expected duration at line 1, char 52",
    ),
    (
        "CREATE RETENTION POLICY policy1 ON testdb DURATION 1h",
        "found EOF, expected REPLICATION at line 1, char 54",
    ),
    (
        "CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION 0",
        "invalid value 0: must be 1 <= n <= 2147483647 at line 1, char 67",
    ),
    (
        "CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION 2 SHARD DURATION INF",
        "invalid duration INF for shard duration at line 1, char 84",
    ),
    ("ALTER", "found EOF, expected RETENTION at line 1, char 7"),
    ("ALTER RETENTION POLICY policy1 ON", "found EOF, expected identifier at line 1, char 35"),
    (
        "ALTER RETENTION POLICY policy1 ON testdb",
        "found EOF, expected DURATION, REPLICATION, SHARD, DEFAULT, FUTURE, PAST at line 1, char 42",
    ),
    (
        "ALTER RETENTION POLICY policy1 ON testdb REPLICATION 1 REPLICATION 2",
        "found duplicate REPLICATION option at line 1, char 56",
    ),
    (
        "ALTER RETENTION POLICY policy1 ON testdb DURATION 15251w",
        "overflowed duration 15251w: choose a smaller duration or INF at line 1, char 51",
    ),
    ("SET PASSWORD FOR dejan", "found EOF, expected = at line 1, char 24"),
    ("SET PASSWORD FOR dejan = bla", "found bla, expected string at line 1, char 26"),
    ("CREATE DATABASE foo CREATE DATABASE bar", "found CREATE, expected ; at line 1, char 21"),
    (
        "$SHOW$DATABASES",
        f"found $SHOW, expected {STATEMENTS} at line 1, char 1",
    ),
    ('SELECT * FROM cpu WHERE "tagkey" = $$', "empty bound parameter"),
    ("SELECT * FROM cpu WHERE host = $host", "missing parameter: host"),
]


@pytest.mark.parametrize(("query", "message"), ERRORS)
def test_errors(query: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(query)
    assert str(info.value) == message
    assert info.value.message == message


def test_empty_statement() -> None:
    with pytest.raises(ParseError) as info:
        parse_statement("")
    assert str(info.value) == f"found EOF, expected {STATEMENTS} at line 1, char 1"


def test_error_attributes() -> None:
    with pytest.raises(ParseError) as info:
        parse("SELECT *")
    err = info.value
    assert (err.position.line, err.position.column) == (1, 9)
    assert (err.found, err.expected, err.reason) == ("EOF", ["FROM"], "found EOF, expected FROM")
    assert err.code == "invalid"
    with pytest.raises(ParseError) as info:
        parse("SELECT * FROM cpu WHERE host = $host")
    assert info.value.position is None


def test_parse_expr_errors() -> None:
    with pytest.raises(
        ParseError, match=r"^found \+, expected identifier, number, duration, \( at line 1, char 2$"
    ):
        parse_expr("-+1")
    with pytest.raises(ParseError, match=r"^constant -9223372036854775809 underflows int64$"):
        parse_expr("-9223372036854775809")


# Bound parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "params", "rendered"),
    [
        ("SELECT * FROM cpu WHERE host = $host", {"host": "a'b"}, "SELECT * FROM cpu WHERE host = 'a\\'b'"),
        ("SELECT * FROM cpu WHERE value > $v", {"v": 10}, "SELECT * FROM cpu WHERE value > 10"),
        ("SELECT * FROM cpu WHERE value > $v", {"v": 1.5}, "SELECT * FROM cpu WHERE value > 1.500"),
        ("SELECT * FROM cpu WHERE ok = $b", {"b": True}, "SELECT * FROM cpu WHERE ok = true"),
        (
            "SELECT * FROM cpu WHERE time > now() - $d",
            {"d": {"duration": "1h"}},
            "SELECT * FROM cpu WHERE time > now() - 1h",
        ),
        (
            "SELECT * FROM cpu WHERE host =~ $re",
            {"re": {"regex": "^a/b"}},
            "SELECT * FROM cpu WHERE host =~ /^a\\/b/",
        ),
        (
            "SELECT count($value) FROM $m",
            {"value": {"identifier": "my_value"}, "m": {"identifier": "my m"}},
            'SELECT count(my_value) FROM "my m"',
        ),
        (
            "SELECT * FROM $m LIMIT $limit",
            {"m": {"identifier": "shapes"}, "limit": 10},
            "SELECT * FROM shapes LIMIT 10",
        ),
        ("SELECT * FROM m LIMIT $limit", {"limit": {"integer": "10"}}, "SELECT * FROM m LIMIT 10"),
        ("CREATE DATABASE $db", {"db": {"identifier": "mydb"}}, "CREATE DATABASE mydb"),
        ('SELECT * FROM cpu WHERE "host" = $"h x"', {"h x": "a"}, "SELECT * FROM cpu WHERE host = 'a'"),
    ],
)
def test_bound_parameters(query: str, params: dict[str, object], rendered: str) -> None:
    assert [generate(s) for s in parse(query, params)] == [rendered]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"p": [1, 2]}, "unable to bind parameter with type []interface {}"),
        ({"p": {"a": 1, "b": 2}}, "bound object parameter value must have exactly one entry"),
        ({"p": {"nope": 1}}, "unknown bind object type: nope"),
        ({"q": 1}, "missing parameter: p"),
    ],
)
def test_bound_parameter_errors(params: dict[str, object], message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse("SELECT * FROM cpu WHERE a = $p", params)
    assert str(info.value) == message


def test_limit_parameter_must_not_be_negative() -> None:
    with pytest.raises(ParseError, match=r"^LIMIT must be >= 0 at line 1, char 23$"):
        parse("SELECT * FROM m LIMIT $limit", {"limit": -1})


def test_string_parameter_is_not_an_identifier() -> None:
    with pytest.raises(ParseError, match=r"^found cpu, expected identifier at line 1, char 15$"):
        parse("SELECT * FROM $m", {"m": "cpu"})


# Helpers on the tree ------------------------------------------------------------------------------


def test_field_names_and_walk() -> None:
    stmt = parse_statement('SELECT mean(v) AS m, "user" / total, max(x) + 1, v FROM cpu')
    assert isinstance(stmt, a.SelectStatement)
    assert [f.name() for f in stmt.fields] == ["m", "user_total", "max", "v"]
    refs = [n.val for n in a.walk(stmt.fields[1]) if isinstance(n, a.VarRef)]
    assert refs == ["user", "total"]


def test_show_tag_values_key_matching() -> None:
    stmt = parse_statement("SHOW TAG VALUES WITH KEY =~ /^h/")
    assert isinstance(stmt, a.ShowTagValuesStatement)
    assert stmt.key_matches("host") and not stmt.key_matches("region")
    stmt = parse_statement("SHOW TAG VALUES WITH KEY IN (a, b)")
    assert isinstance(stmt, a.ShowTagValuesStatement)
    assert stmt.key_matches("b") and not stmt.key_matches("c")
    stmt = parse_statement("SHOW TAG VALUES WITH KEY != a")
    assert isinstance(stmt, a.ShowTagValuesStatement)
    assert stmt.key_matches("b") and not stmt.key_matches("a")
