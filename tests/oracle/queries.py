"""The oracle's InfluxQL corpus: every query runs on influxd and on tickless and must answer the same.

Each entry is a `Query(q, db)`; `db=None` sends no `db` parameter. Time literals refer to the data set
in tests/oracle/data.py (2021-01-01 00:00-04:00 UTC). `sample()` is left out: it is random.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tests.oracle.data import DATABASE, TYPES_DATABASE


class Query(NamedTuple):
    q: str
    db: str | None = DATABASE

    @property
    def slug(self) -> str:
        text = self.q if self.db == DATABASE else f"[db={self.db}] {self.q}"
        return re.sub(r"\s+", " ", text)[:110]


ALL = "time >= '2021-01-01T00:00:00Z' AND time < '2021-01-01T04:00:00Z'"
HALF_HOUR = "time >= '2021-01-01T01:00:00Z' AND time < '2021-01-01T01:30:00Z'"
EARLY = "time < '2021-01-01T00:05:00Z'"
CPU0 = "host = 'server01' AND cpu = 'cpu0'"
GAP = (
    "host = 'server02' AND cpu = 'cpu1' AND time >= '2021-01-01T00:30:00Z' AND time < '2021-01-01T02:30:00Z'"
)

RAW = [
    f"SELECT * FROM cpu WHERE {CPU0} AND time < '2021-01-01T00:20:00Z'",
    f"SELECT usage_user FROM cpu WHERE {HALF_HOUR}",
    f"SELECT usage_user, host FROM cpu WHERE {HALF_HOUR} AND region = 'us-east'",
    f"SELECT * FROM cpu WHERE region = '' AND {EARLY}",
    f"SELECT * FROM cpu WHERE region != 'us-east' AND {EARLY}",
    f"SELECT * FROM cpu WHERE host =~ /0[12]$/ AND {EARLY}",
    f"SELECT * FROM cpu WHERE host !~ /server0[12]/ AND {EARLY}",
    f"SELECT * FROM cpu WHERE region =~ /west/ OR cpu = 'cpu1' AND {EARLY}",
    f"SELECT usage_user AS u, usage_system AS s FROM cpu WHERE {GAP}",
    f"SELECT usage_user + usage_system AS busy FROM cpu WHERE {CPU0} AND {EARLY}",
    "SELECT usage_user * 2 - 1, usage_user / 3, (usage_user + 1) * (usage_system - 1) FROM cpu "
    f"WHERE {CPU0} AND {EARLY}",
    f"SELECT procs % 7, procs * 2, procs / 2, procs + usage_user FROM cpu WHERE {CPU0} AND {EARLY}",
    f"SELECT procs & 255, procs | 1, procs ^ 3 FROM cpu WHERE {CPU0} AND {EARLY}",
    f"SELECT -usage_user, usage_user * -1 FROM cpu WHERE {CPU0} AND {EARLY}",
    f"SELECT usage_user FROM cpu WHERE usage_user > 90 AND {ALL}",
    f"SELECT * FROM cpu WHERE throttled = true AND {HALF_HOUR}",
    f"SELECT throttled FROM cpu WHERE {HALF_HOUR} AND host = 'server03'",
    f"SELECT usage_user, throttled FROM cpu WHERE {HALF_HOUR} AND host = 'server03'",
    f"SELECT usage_user FROM cpu WHERE usage_user > usage_system * 2 AND {CPU0} AND {HALF_HOUR}",
    f"SELECT usage_user FROM cpu WHERE {CPU0} AND (usage_user > 60 OR usage_system < 2)",
    "SELECT * FROM cpu LIMIT 5",
    "SELECT * FROM cpu LIMIT 5 OFFSET 3",
    f"SELECT usage_user FROM cpu WHERE {HALF_HOUR} GROUP BY host LIMIT 3",
    f"SELECT usage_user FROM cpu WHERE {HALF_HOUR} GROUP BY * LIMIT 2",
    f"SELECT usage_user FROM cpu WHERE {HALF_HOUR} GROUP BY * SLIMIT 2",
    f"SELECT usage_user FROM cpu WHERE {HALF_HOUR} GROUP BY * SLIMIT 2 SOFFSET 3",
    "SELECT * FROM cpu ORDER BY time DESC LIMIT 10",
    f"SELECT usage_user FROM cpu WHERE {HALF_HOUR} GROUP BY host ORDER BY time DESC LIMIT 2 OFFSET 1",
    "SELECT * FROM events WHERE message = 'started'",
    'SELECT * FROM events WHERE message =~ /café|"/',
    "SELECT message, code FROM events WHERE ok = false AND level = 'error'",
    "SELECT * FROM events WHERE code < 0",
    "SELECT code, level FROM events WHERE code = 42 OR level = 'error'",
    "SELECT message FROM events WHERE message = ''",
    "SELECT * FROM events WHERE time = '2021-01-01T00:00:00Z' OR host = 'nobody'",
    "SELECT * FROM events GROUP BY level LIMIT 2",
    "SELECT * FROM h2o_feet WHERE location = 'coyote creek' LIMIT 10",
    "SELECT * FROM h2o_feet WHERE level_description = 'below 3 feet' AND location = 'santa monica'",
    "SELECT * FROM weather WHERE city = 'São Paulo' LIMIT 5",
    "SELECT * FROM weather WHERE city = 'Oslo' AND time <= '2021-01-01T00:20:00Z'",
    "SELECT temp, rain FROM weather WHERE temp < 0 AND rain = true",
    "SELECT *::field FROM disk LIMIT 3",
    "SELECT *::tag, used FROM disk LIMIT 3",
    "SELECT used::integer, used::float, used::string, path::tag FROM disk LIMIT 3",
    f"SELECT /usage/ FROM cpu WHERE {CPU0} AND {EARLY}",
    'SELECT usage_user FROM "oracle"."autogen"."cpu" LIMIT 3',
    "SELECT usage_user FROM oracle..cpu LIMIT 3",
    "SELECT usage_user FROM autogen.cpu LIMIT 3",
    f"SELECT * FROM cpu, mem WHERE host = 'server01' AND {EARLY}",
    f"SELECT * FROM /^(mem|disk)$/ WHERE {EARLY}",
    "SELECT used FROM /.*/ LIMIT 2",
    "SELECT * FROM nonexistent",
    "SELECT nosuchfield FROM cpu",
    "SELECT usage_user FROM cpu WHERE host = server01",
    "SELECT * FROM cpu WHERE host = 'nope'",
    "SELECT * FROM cpu WHERE time > '2021-01-01T05:00:00Z'",
    "SELECT * FROM cpu WHERE time > now() - 1h",
    # The lower bound now() - 3650d reaches back before the data: every point, whatever the date.
    "SELECT usage_user FROM cpu WHERE time > now() - 3650d AND host = 'server01' LIMIT 4",
    "SELECT * FROM cpu WHERE time = '2021-01-01T00:00:03Z'",
    "SELECT * FROM cpu WHERE time >= 1609459200000000000 AND time < 1609459260000000000",
    "SELECT * FROM weather WHERE time >= '2021-01-01' AND time < '2021-01-01 00:15:00'",
    "SELECT * FROM weather WHERE time > '2021-01-01T00:00:00Z' + 10m AND time < '2021-01-01T01:00:00Z' - 20m",
    "SELECT * FROM weather WHERE time >= '2021-01-01T00:00:00.000000001Z' AND time <= '2021-01-01T00:30:00Z'",
    'SELECT "usage_user" FROM "cpu" WHERE "host" = \'server03\' LIMIT 3',
    "SELECT temp FROM weather LIMIT 2 tz('Asia/Tokyo')",
]

AGGREGATES = [
    "SELECT count(usage_user) FROM cpu",
    "SELECT count(*) FROM cpu",
    "SELECT count(throttled) FROM cpu GROUP BY host",
    "SELECT count(message) FROM events GROUP BY level",
    "SELECT count(DISTINCT code) FROM events",
    "SELECT distinct(code) FROM events",
    "SELECT distinct(message) FROM events",
    "SELECT distinct(ok) FROM events GROUP BY host",
    "SELECT mean(usage_user) FROM cpu",
    "SELECT mean(usage_user) FROM cpu GROUP BY host",
    "SELECT mean(usage_user), max(usage_user), min(usage_user) FROM cpu GROUP BY host, cpu",
    "SELECT mean(procs) FROM cpu",
    "SELECT mean(*) FROM mem",
    "SELECT mean(/used/) FROM mem GROUP BY host",
    "SELECT median(usage_user) FROM cpu GROUP BY host",
    "SELECT median(procs) FROM cpu",
    "SELECT mode(code) FROM events",
    "SELECT mode(message) FROM events",
    "SELECT mode(level_description) FROM h2o_feet GROUP BY location",
    "SELECT mode(ok) FROM events",
    "SELECT spread(usage_user) FROM cpu GROUP BY cpu",
    "SELECT spread(used) FROM disk GROUP BY path",
    "SELECT stddev(usage_user) FROM cpu GROUP BY host",
    "SELECT stddev(humidity) FROM weather",
    "SELECT sum(procs) FROM cpu GROUP BY host",
    "SELECT sum(used) FROM disk",
    "SELECT sum(latency) FROM events GROUP BY level",
    # One series each: influxd 1.6 emits several integral() series in a random order.
    "SELECT integral(water_level) FROM h2o_feet WHERE location = 'santa monica'",
    "SELECT integral(water_level, 1m) FROM h2o_feet WHERE location = 'coyote creek' GROUP BY location",
    f"SELECT integral(usage_user, 1s) FROM cpu WHERE {CPU0} AND {ALL} GROUP BY time(30m)",
    "SELECT count(usage_user), sum(usage_user), mean(usage_user) FROM cpu WHERE region = 'us-west'",
    "SELECT sum(usage_user) / count(usage_user) AS avg, mean(usage_user) * 2 FROM cpu",
    f"SELECT mean(usage_user) FROM cpu WHERE {HALF_HOUR}",
    "SELECT count(used) FROM mem WHERE host = 'server03' AND time >= '2021-01-01T02:00:00Z' "
    "AND time < '2021-01-01T02:30:00Z'",
]

SELECTORS = [
    "SELECT first(usage_user) FROM cpu GROUP BY host",
    "SELECT last(usage_user) FROM cpu GROUP BY *",
    "SELECT last(*) FROM cpu WHERE host = 'server01'",
    "SELECT first(message), last(message) FROM events",
    "SELECT max(usage_user), host FROM cpu",
    "SELECT max(usage_user), usage_system FROM cpu",
    "SELECT min(temp) FROM weather GROUP BY city",
    "SELECT min(used), max(used) FROM disk GROUP BY host",
    f"SELECT max(procs) FROM cpu WHERE {ALL} GROUP BY time(1h)",
    "SELECT top(usage_user, 3) FROM cpu",
    "SELECT top(usage_user, host, 2) FROM cpu",
    "SELECT top(usage_user, 2) FROM cpu GROUP BY host",
    "SELECT top(usage_user, 2), cpu FROM cpu",
    "SELECT bottom(water_level, 3) FROM h2o_feet",
    "SELECT bottom(water_level, location, 2) FROM h2o_feet",
    "SELECT bottom(procs, 4) FROM cpu WHERE host = 'server03'",
    "SELECT top(used, 2), path FROM disk",
    "SELECT percentile(usage_user, 95) FROM cpu GROUP BY host",
    "SELECT percentile(water_level, 50) FROM h2o_feet",
    "SELECT percentile(procs, 5) FROM cpu",
    "SELECT percentile(latency, 99.9) FROM events",
    "SELECT first(throttled), last(throttled) FROM cpu GROUP BY host",
    "SELECT max(code) FROM events WHERE level = 'error'",
    "SELECT last(ok) FROM events GROUP BY host",
    f"SELECT first(usage_user) FROM cpu WHERE {ALL} GROUP BY time(1h), host",
    f"SELECT last(water_level) FROM h2o_feet WHERE {ALL} GROUP BY time(1h) fill(none)",
]

TRANSFORMATIONS = [
    "SELECT derivative(water_level) FROM h2o_feet WHERE location = 'santa monica'",
    "SELECT derivative(water_level, 6m) FROM h2o_feet WHERE location = 'santa monica'",
    f"SELECT derivative(mean(water_level), 12m) FROM h2o_feet WHERE {ALL} GROUP BY time(12m), location",
    "SELECT non_negative_derivative(used, 1m) FROM disk GROUP BY host, path",
    f"SELECT derivative(usage_user, 1s) FROM cpu WHERE {CPU0} AND {HALF_HOUR}",
    "SELECT difference(water_level) FROM h2o_feet GROUP BY location",
    "SELECT non_negative_difference(used) FROM disk WHERE path = '/' AND host = 'server01'",
    f"SELECT difference(max(usage_user)) FROM cpu WHERE {ALL} GROUP BY time(1h), host",
    "SELECT difference(procs) FROM cpu WHERE host = 'server03' AND cpu = 'cpu0' LIMIT 5",
    "SELECT moving_average(water_level, 3) FROM h2o_feet WHERE location = 'coyote creek'",
    f"SELECT moving_average(mean(usage_user), 2) FROM cpu WHERE {ALL} GROUP BY time(30m)",
    "SELECT cumulative_sum(water_level) FROM h2o_feet WHERE location = 'santa monica'",
    f"SELECT cumulative_sum(sum(procs)) FROM cpu WHERE {ALL} GROUP BY time(1h)",
    "SELECT cumulative_sum(code) FROM events WHERE host = 'server01'",
    "SELECT elapsed(water_level) FROM h2o_feet WHERE location = 'santa monica' LIMIT 5",
    "SELECT elapsed(water_level, 1m) FROM h2o_feet WHERE location = 'santa monica' LIMIT 5",
    f"SELECT elapsed(usage_user, 1ms) FROM cpu WHERE {CPU0} LIMIT 10",
    "SELECT elapsed(message, 1s) FROM events WHERE host = 'server02' LIMIT 10",
    "SELECT exponential_moving_average(water_level, 4) FROM h2o_feet WHERE location = 'coyote creek'",
    "SELECT relative_strength_index(water_level, 4) FROM h2o_feet WHERE location = 'coyote creek'",
    "SELECT chande_momentum_oscillator(water_level, 4) FROM h2o_feet WHERE location = 'coyote creek'",
    "SELECT kaufmans_efficiency_ratio(water_level, 4) FROM h2o_feet WHERE location = 'coyote creek'",
]

MATH = [
    "SELECT abs(temp) FROM weather WHERE city = 'Oslo' LIMIT 5",
    "SELECT ceil(temp), floor(temp), round(temp) FROM weather LIMIT 5",
    "SELECT sqrt(water_level), ln(water_level), log2(water_level), log10(water_level), log(water_level, 3) "
    "FROM h2o_feet WHERE water_level > 0 LIMIT 5",
    "SELECT exp(water_level), pow(water_level, 2) FROM h2o_feet LIMIT 5",
    "SELECT sin(temp), cos(temp), tan(temp), atan(temp), atan2(temp, humidity) FROM weather LIMIT 5",
    "SELECT asin(humidity / 100), acos(humidity / 100) FROM weather LIMIT 5",
    "SELECT abs(mean(temp)) FROM weather GROUP BY city",
    f"SELECT round(mean(usage_user)) FROM cpu WHERE {ALL} GROUP BY time(1h)",
    # Not abs() of an integer field: influxd 1.6.7 returns it unchanged (abs(-17) = -17), a bug.
    "SELECT ceil(procs), floor(latency) FROM cpu, events LIMIT 3",
    "SELECT abs(latency - 40), code FROM events WHERE code < 0 LIMIT 5",
]

GROUP_BY_TIME = [
    f"SELECT mean(usage_user) FROM cpu WHERE {ALL} GROUP BY time(1h)",
    f"SELECT mean(usage_user) FROM cpu WHERE {ALL} GROUP BY time(1h, 15m)",
    f"SELECT mean(usage_user) FROM cpu WHERE {ALL} GROUP BY time(1h, -15m)",
    f"SELECT mean(usage_user) FROM cpu WHERE {ALL} GROUP BY time(7m) LIMIT 5",
    f"SELECT mean(usage_user) FROM cpu WHERE {ALL} GROUP BY time(30m), host fill(none)",
    f"SELECT mean(usage_user) FROM cpu WHERE {GAP} GROUP BY time(10m)",
    f"SELECT mean(usage_user) FROM cpu WHERE {GAP} GROUP BY time(10m) fill(null)",
    f"SELECT mean(usage_user) FROM cpu WHERE {GAP} GROUP BY time(10m) fill(none)",
    f"SELECT mean(usage_user) FROM cpu WHERE {GAP} GROUP BY time(10m) fill(0)",
    f"SELECT mean(usage_user) FROM cpu WHERE {GAP} GROUP BY time(10m) fill(-1.5)",
    f"SELECT mean(usage_user) FROM cpu WHERE {GAP} GROUP BY time(10m) fill(previous)",
    f"SELECT mean(usage_user) FROM cpu WHERE {GAP} GROUP BY time(10m) fill(linear)",
    f"SELECT count(usage_user) FROM cpu WHERE {GAP} GROUP BY time(15m)",
    f"SELECT sum(procs) FROM cpu WHERE {GAP} GROUP BY time(15m) fill(7)",
    f"SELECT mean(used) FROM mem WHERE {ALL} GROUP BY time(15m), * fill(0)",
    f"SELECT max(used) FROM mem WHERE {ALL} GROUP BY time(30m), host fill(previous)",
    f"SELECT max(usage_user) FROM cpu WHERE {ALL} GROUP BY time(1h) ORDER BY time DESC",
    f"SELECT max(usage_user) FROM cpu WHERE {ALL} GROUP BY time(1h) LIMIT 2 OFFSET 1",
    f"SELECT max(usage_user) FROM cpu WHERE {ALL} GROUP BY time(1h), host SLIMIT 1 SOFFSET 1",
    "SELECT mean(usage_user) FROM cpu WHERE time >= '2021-01-01T03:00:00Z' GROUP BY time(30m) fill(none)",
    "SELECT count(usage_user) FROM cpu WHERE time >= '2021-01-01T00:00:00Z' AND time < now() "
    "GROUP BY time(1h) fill(none)",
    f"SELECT mean(temp) FROM weather WHERE {ALL} GROUP BY time(1d) tz('America/New_York')",
    f"SELECT mean(temp) FROM weather WHERE {ALL} GROUP BY time(1h), city tz('Asia/Kolkata')",
    f"SELECT mean(usage_user) FROM cpu WHERE {ALL} GROUP BY /^h/",
    f"SELECT mean(usage_user) FROM cpu WHERE {ALL} GROUP BY host, region",
    f"SELECT mean(usage_user) FROM cpu WHERE {ALL} GROUP BY nosuchtag",
    f"SELECT count(code) FROM events WHERE {ALL} GROUP BY time(1h), level",
    f"SELECT mean(water_level), count(water_level) FROM h2o_feet WHERE {ALL} "
    "GROUP BY time(45m), location fill(0)",
    "SELECT mean(water_level) FROM h2o_feet "
    "WHERE time >= '2021-01-01T00:10:00Z' AND time <= '2021-01-01T01:10:00Z' GROUP BY time(20m)",
    f"SELECT spread(temp), stddev(temp), median(temp) FROM weather WHERE {ALL} GROUP BY time(2h), city",
    f"SELECT top(usage_user, 1) FROM cpu WHERE {ALL} GROUP BY time(1h)",
]

SOURCES_AND_SUBQUERIES = [
    f"SELECT mean(used) FROM mem, disk WHERE {ALL} GROUP BY time(2h)",
    "SELECT count(host) FROM cpu",
    "SELECT max(used) FROM /^(mem|disk)$/ GROUP BY host",
    f"SELECT mean(m) FROM (SELECT max(usage_user) AS m FROM cpu WHERE {ALL} GROUP BY time(1h), host)",
    "SELECT max(m) FROM (SELECT mean(usage_user) AS m FROM cpu GROUP BY host)",
    "SELECT sum(c) FROM (SELECT count(code) AS c FROM events GROUP BY level)",
    f"SELECT * FROM (SELECT usage_user, host FROM cpu WHERE {HALF_HOUR}) WHERE usage_user > 50 LIMIT 5",
    "SELECT mean(d) FROM (SELECT difference(water_level) AS d FROM h2o_feet GROUP BY location) "
    "GROUP BY location",
    f"SELECT top(m, 2) FROM (SELECT mean(temp) AS m FROM weather WHERE {ALL} GROUP BY time(1h), city)",
    f"SELECT m FROM (SELECT mean(usage_user) AS m FROM cpu WHERE {ALL} GROUP BY time(1h)) WHERE m > 35",
    f"SELECT max(s) FROM (SELECT usage_user + usage_system AS s FROM cpu WHERE {HALF_HOUR}) GROUP BY host",
]

SHOW = [
    Query("SHOW DATABASES", None),
    "SHOW MEASUREMENTS",
    Query("SHOW MEASUREMENTS ON oracle", None),
    "SHOW MEASUREMENTS WITH MEASUREMENT =~ /^(c|m)/",
    "SHOW MEASUREMENTS WITH MEASUREMENT = weather",
    "SHOW MEASUREMENTS WHERE host = 'server03'",
    "SHOW MEASUREMENTS WHERE region =~ /us/",
    "SHOW MEASUREMENTS LIMIT 2 OFFSET 1",
    "SHOW SERIES",
    "SHOW SERIES FROM cpu",
    "SHOW SERIES FROM cpu WHERE region = 'us-east'",
    "SHOW SERIES WHERE host = 'server01' LIMIT 3",
    "SHOW SERIES WHERE region = ''",
    Query("SHOW SERIES ON oracle FROM /^(mem|disk)$/", None),
    "SHOW SERIES LIMIT 4 OFFSET 10",
    "SHOW TAG KEYS",
    "SHOW TAG KEYS FROM cpu",
    Query("SHOW TAG KEYS ON oracle FROM weather", None),
    "SHOW TAG KEYS WHERE host = 'server03'",
    "SHOW TAG KEYS LIMIT 1",
    "SHOW TAG KEYS SLIMIT 2",
    "SHOW TAG VALUES WITH KEY = host",
    "SHOW TAG VALUES FROM cpu WITH KEY = region",
    "SHOW TAG VALUES FROM cpu WITH KEY IN (host, region)",
    "SHOW TAG VALUES WITH KEY =~ /^(loc|ci)/",
    "SHOW TAG VALUES FROM cpu WITH KEY = host WHERE region = 'us-west'",
    "SHOW TAG VALUES WITH KEY != host LIMIT 2",
    "SHOW TAG VALUES FROM events WITH KEY = level LIMIT 1 OFFSET 1",
    "SHOW FIELD KEYS",
    "SHOW FIELD KEYS FROM cpu",
    Query("SHOW FIELD KEYS ON oracle FROM events", None),
    "SHOW FIELD KEYS FROM /^(h2o|weather)/",
    "SHOW RETENTION POLICIES",
    Query("SHOW RETENTION POLICIES ON oracle", None),
    Query("SHOW RETENTION POLICIES ON nosuchdb", None),
    "SHOW SERIES CARDINALITY",
    "SHOW SERIES EXACT CARDINALITY FROM cpu",
    "SHOW MEASUREMENT EXACT CARDINALITY",
    "SHOW TAG KEY EXACT CARDINALITY FROM cpu",
    "SHOW TAG VALUES EXACT CARDINALITY WITH KEY = host",
    "SHOW FIELD KEY EXACT CARDINALITY",
]

ERRORS = [
    "SELECT FROM cpu",
    "SELECT * FROM",
    "SELEC * FROM cpu",
    "SELECT * FROM cpu WHERE",
    "SELECT * FROM cpu LIMIT -1",
    f"SELECT mean(usage_user) FROM cpu WHERE {ALL} GROUP BY time(1h) fill(bogus)",
    "SELECT * FROM cpu WHERE host = 'unterminated",
    "SELECT nosuch(usage_user) FROM cpu",
    "SELECT mean(message) FROM events",
    "SELECT sum(ok) FROM events",
    "SELECT mean(usage_user), usage_system FROM cpu",
    "SELECT usage_user FROM cpu GROUP BY time(1h)",
    f"SELECT mean(usage_user) FROM cpu WHERE {ALL} GROUP BY time(0s)",
    "SELECT derivative(usage_user, -1s) FROM cpu",
    "SELECT top(usage_user) FROM cpu",
    "SELECT top(usage_user, 0) FROM cpu",
    "SELECT percentile(usage_user) FROM cpu",
    "SELECT moving_average(usage_user) FROM cpu",
    "SELECT derivative(mean(usage_user)) FROM cpu",
    "SELECT * FROM cpu WHERE time > now() OR host = 'server01'",
    "SELECT * FROM cpu WHERE time != '2021-01-01T00:00:00Z'",
    "SELECT * FROM cpu WHERE time > 'not a time'",
    "SELECT distinct(host) FROM cpu",
    "SELECT count(usage_user) FROM cpu; SELECT count(used) FROM mem",
    # The failing statement comes last: when more follow, influxd 1.6.7 loses its error (it answers
    # `not executed` for it and drops the rest), a bug.
    "SELECT count(usage_user) FROM cpu; SELECT nosuch(x) FROM cpu",
    Query("SELECT * FROM cpu", None),
    Query("SELECT * FROM cpu", "nosuchdb"),
    Query("SHOW MEASUREMENTS", None),
    Query("SHOW FIELD KEYS", "nosuchdb"),
    "SELECT *::tag FROM cpu",
    "SELECT time FROM cpu",
    "SELECT usage_user FROM cpu GROUP BY time(1h), time(2h)",
]

# Statements that change state would leak into the other queries (both servers share one database), so
# only ALTERs that fail or leave every setting as it is: the suite keeps its data and SHOW answers.
ADMIN = [
    "ALTER RETENTION POLICY nosuchrp ON oracle DURATION 2h",
    Query("ALTER RETENTION POLICY autogen ON nosuchdb DURATION 2h", None),
    "ALTER RETENTION POLICY autogen ON oracle DURATION 30m",
    "ALTER RETENTION POLICY autogen ON oracle DURATION 2h",
    "ALTER RETENTION POLICY autogen ON oracle SHARD DURATION 2h DURATION 1h",
    "ALTER RETENTION POLICY autogen ON oracle DEFAULT; SHOW RETENTION POLICIES",
    "ALTER RETENTION POLICY autogen ON oracle DURATION INF SHARD DURATION 7d REPLICATION 1 DEFAULT; "
    "SHOW RETENTION POLICIES ON oracle",
    # CREATE RETENTION POLICY / CREATE DATABASE ... WITH: the checks, in influxd's order (name,
    # duration floor, shard duration, database, existing policy), and statements that describe what
    # already exists (no-ops)
    "CREATE RETENTION POLICY rp ON oracle DURATION 30m REPLICATION 1",
    "CREATE RETENTION POLICY rp ON oracle DURATION 59m59s REPLICATION 1 SHARD DURATION 2h DEFAULT",
    "CREATE RETENTION POLICY rp ON oracle DURATION 2h REPLICATION 1 SHARD DURATION 3h",
    "CREATE RETENTION POLICY rp ON oracle DURATION 3d REPLICATION 1 SHARD DURATION 1w",
    Query("CREATE RETENTION POLICY rp ON nosuchdb DURATION 30m REPLICATION 1", None),
    Query("CREATE RETENTION POLICY rp ON nosuchdb DURATION 2h REPLICATION 1 SHARD DURATION 3h", None),
    Query("CREATE RETENTION POLICY rp ON nosuchdb DURATION 2h REPLICATION 1", None),
    Query('CREATE RETENTION POLICY ".." ON nosuchdb DURATION 1m REPLICATION 1', None),
    'CREATE RETENTION POLICY "a/b" ON oracle DURATION 1h REPLICATION 1',
    "CREATE RETENTION POLICY autogen ON oracle DURATION 2h REPLICATION 1",
    "CREATE RETENTION POLICY autogen ON oracle DURATION INF REPLICATION 2",
    "CREATE RETENTION POLICY autogen ON oracle DURATION INF REPLICATION 1 SHARD DURATION 1d",
    "CREATE RETENTION POLICY autogen ON oracle DURATION INF REPLICATION 1 DEFAULT",
    "CREATE RETENTION POLICY autogen ON oracle DURATION 0s REPLICATION 1 SHARD DURATION 7d",
    Query("CREATE DATABASE nosuchdb WITH DURATION 30m", None),
    Query("CREATE DATABASE nosuchdb WITH DURATION 59m SHARD DURATION 2h NAME brief", None),
    Query("CREATE DATABASE nosuchdb WITH DURATION 1d SHARD DURATION 1w", None),
    Query('CREATE DATABASE nosuchdb WITH NAME "a/b"', None),
    Query('CREATE DATABASE ".."', None),
    "CREATE DATABASE oracle WITH DURATION 30m",
    "CREATE DATABASE oracle WITH DURATION 2h",
    "CREATE DATABASE oracle WITH DURATION 2h SHARD DURATION 3h",
    "CREATE DATABASE oracle WITH SHARD DURATION 30m",
    "CREATE DATABASE oracle WITH REPLICATION 2",
    "CREATE DATABASE oracle WITH NAME other",
    "CREATE DATABASE oracle WITH DURATION INF REPLICATION 1 SHARD DURATION 7d NAME autogen",
    "CREATE DATABASE oracle WITH SHARD DURATION 1w; CREATE DATABASE oracle; SHOW DATABASES; "
    "SHOW RETENTION POLICIES ON oracle",
]


# Issue 10, fidelity to influxd 1.x. A derivative, difference, elapsed or moving average of GROUP BY
# time() windows reads one window before the range (after it for ORDER BY time DESC), the other calls
# of the statement do not; `FROM_0105` starts inside a window, so that window is partial for them.
FROM_0100 = "time >= '2021-01-01T01:00:00Z' AND time < '2021-01-01T01:30:00Z'"
FROM_0105 = "time >= '2021-01-01T01:05:00Z' AND time < '2021-01-01T01:30:00Z'"
GAP_0100 = (
    "host = 'server02' AND cpu = 'cpu1' AND time >= '2021-01-01T01:00:00Z' AND time < '2021-01-01T02:30:00Z'"
)
LOOK_BACK = [
    f"SELECT derivative(mean(usage_user)) FROM cpu WHERE {CPU0} AND {FROM_0100} GROUP BY time(10m)",
    f"SELECT derivative(mean(usage_user)), mean(usage_user), count(usage_user) FROM cpu WHERE {CPU0} "
    f"AND {FROM_0105} GROUP BY time(10m)",
    f"SELECT cumulative_sum(mean(usage_user)), derivative(mean(usage_user)) FROM cpu WHERE {CPU0} "
    f"AND {FROM_0105} GROUP BY time(10m) fill(0)",
    f"SELECT moving_average(mean(usage_user), 3) FROM cpu WHERE {CPU0} AND {FROM_0100} GROUP BY time(10m)",
    f"SELECT moving_average(mean(usage_user), 5) FROM cpu WHERE {CPU0} AND time >= '2021-01-01T01:00:00Z' "
    "AND time < '2021-01-01T01:40:00Z' GROUP BY time(10m)",
    "SELECT non_negative_difference(mean(usage_user)), elapsed(mean(usage_user)), "
    f"cumulative_sum(mean(usage_user)) FROM cpu WHERE {CPU0} AND {FROM_0100} GROUP BY time(10m)",
    f"SELECT non_negative_derivative(max(usage_user), 1m), mean(usage_user) FROM cpu WHERE {CPU0} "
    f"AND {FROM_0100} GROUP BY time(10m)",
    f"SELECT derivative(mean(usage_user)), max(usage_user) FROM cpu WHERE {CPU0} "
    "AND time >= '2021-01-01T01:00:00Z' AND time < '2021-01-01T01:25:00Z' GROUP BY time(10m) "
    "ORDER BY time DESC",
    f"SELECT derivative(mean(usage_user)) FROM cpu WHERE cpu = 'cpu0' AND {FROM_0100} "
    "GROUP BY time(10m), host",
    f"SELECT difference(mean(usage_user)) FROM cpu WHERE {FROM_0100} GROUP BY time(10m), * fill(previous)",
    f"SELECT derivative(mean(usage_user)) FROM cpu WHERE {CPU0} AND {FROM_0100} AND usage_system > 5 "
    "GROUP BY time(10m)",
    "SELECT derivative(mean(*)) FROM disk, mem WHERE time >= '2021-01-01T01:00:00Z' "
    "AND time < '2021-01-01T01:40:00Z' GROUP BY time(10m)",
    *(
        f"SELECT derivative(mean(usage_user)), difference(mean(usage_user)), mean(usage_user) FROM cpu "
        f"WHERE {GAP_0100} GROUP BY time(10m) {fill}"
        for fill in ("", "fill(null)", "fill(0)", "fill(previous)", "fill(linear)", "fill(none)")
    ),
    f"SELECT derivative(mean(usage_user)) FROM cpu WHERE {CPU0} AND time < '2021-01-01T00:40:00Z' "
    "GROUP BY time(10m) ORDER BY time DESC",
]

# integral() without GROUP BY time() is stamped with the epoch: beside another call, two rows.
INTEGRAL_TIME = [
    f"SELECT integral(usage_user) FROM cpu WHERE {CPU0} AND {HALF_HOUR}",
    f"SELECT integral(usage_user), mean(usage_user) FROM cpu WHERE {CPU0} AND {HALF_HOUR}",
    f"SELECT integral(usage_user, 1m) * 2 FROM cpu WHERE {CPU0} AND time >= '2021-01-01T01:00:00Z'",
    "SELECT integral(water_level, 1m) FROM h2o_feet WHERE location = 'coyote creek' "
    "AND time >= '2021-01-01T01:00:00Z'",
]

# a wildcard call over several measurements expands to the fields of all of them
MULTI_SOURCE_WILDCARDS = [
    f"SELECT count(*) FROM cpu, mem WHERE {EARLY}",
    f"SELECT count(*) FROM /.*/ WHERE {EARLY}",
    f"SELECT count(*) FROM /^(disk|mem)$/ WHERE {EARLY}",
    f"SELECT mean(*) FROM disk, mem WHERE {EARLY}",
    f"SELECT max(*) FROM disk, mem WHERE {EARLY} GROUP BY host",
    f"SELECT count(*), mean(*) FROM disk, mem WHERE {EARLY}",
    f"SELECT count(/used/) FROM disk, mem, cpu WHERE {EARLY}",
    f"SELECT first(*) FROM disk, events WHERE {EARLY}",
    f"SELECT count(*) FROM cpu, nosuch WHERE {EARLY}",
    "SELECT count(*) FROM /^(disk|mem)$/ WHERE time < '2021-01-01T01:00:00Z' GROUP BY time(20m)",
    "SELECT count(*) FROM disk, mem WHERE time < '2021-01-01T01:00:00Z' GROUP BY time(20m) fill(0)",
]

# A field typed differently by several measurements has its lowest type (float, integer, string,
# boolean) over all of them; a measurement holding it as another type reads nothing for it (an integer
# is read as a float).
FIELD_TYPE_CONFLICTS = [
    Query(q, TYPES_DATABASE)
    for q in (
        "SELECT * FROM ma, mb, mc, md",
        "SELECT *::field FROM /m/",
        "SELECT count(*) FROM ma, mb, mc, md",
        "SELECT mean(*) FROM ma, mb, mc, md",
        "SELECT max(*), min(*) FROM ma, mb",
        "SELECT first(*) FROM /m/",
        "SELECT sum(*) FROM ma, mb",
        "SELECT f FROM ma, mc",
        "SELECT f, s FROM mb, mc",
        "SELECT g FROM /m/",
        "SELECT count(f) FROM /m/",
        "SELECT count(*) FROM mb, mc",
        "SELECT last(g), h FROM md, mc",
    )
]

# min() and max() take booleans (true is the greater); a transformation is refused for what its
# aggregate gives, and named as influxd names its iterator
BOOLEANS_AND_ITERATOR_TYPES = [
    "SELECT min(ok), max(ok) FROM events GROUP BY host",
    f"SELECT max(ok) FROM events WHERE {ALL} GROUP BY time(1h), host",
    "SELECT max(*) FROM events",
    "SELECT min(ok), code FROM events WHERE host = 'server01'",
    "SELECT max(throttled) FROM cpu GROUP BY host",
    f"SELECT min(throttled) FROM cpu WHERE {ALL} GROUP BY time(30m) fill(previous)",
    f"SELECT max(*) FROM disk, mem, events WHERE {EARLY}",
    "SELECT max(message) FROM events",
    f"SELECT derivative(count(message)) FROM events WHERE {ALL} GROUP BY time(1h)",
    f"SELECT difference(count(distinct(message))) FROM events WHERE {ALL} GROUP BY time(1h)",
    f"SELECT elapsed(first(message)) FROM events WHERE {ALL} GROUP BY time(1h)",
    f"SELECT derivative(first(message)) FROM events WHERE {ALL} GROUP BY time(1h)",
    f"SELECT derivative(max(ok)) FROM events WHERE {ALL} GROUP BY time(1h)",
    f"SELECT cumulative_sum(first(ok)) FROM events WHERE {ALL} GROUP BY time(1h)",
    "SELECT non_negative_derivative(message) FROM events",
    "SELECT moving_average(message, 2) FROM events",
    "SELECT cumulative_sum(message) FROM events",
    "SELECT non_negative_difference(ok) FROM events",
]

# Statements that change state: each query undoes what it did (a failing statement comes last and
# changes nothing), so the corpus can run in any order and more than once.
STATEFUL = [
    Query(
        "CREATE RETENTION POLICY fidelity ON oracle DURATION 2h REPLICATION 1; "
        "SHOW RETENTION POLICIES ON oracle; "
        f"SELECT count(usage_user) FROM cpu WHERE {CPU0}; DROP RETENTION POLICY fidelity ON oracle",
    ),
    Query(
        "CREATE DATABASE fidelity; CREATE RETENTION POLICY r1 ON fidelity DURATION 1d REPLICATION 1; "
        "CREATE RETENTION POLICY r2 ON fidelity DURATION 2d REPLICATION 1 DEFAULT; "
        "SHOW RETENTION POLICIES ON fidelity; DROP DATABASE fidelity",
        None,
    ),
    Query(
        "SHOW USERS; CREATE USER fidelity_u WITH PASSWORD 'pw'; "
        "CREATE USER fidelity_a WITH PASSWORD 'pw' WITH ALL PRIVILEGES; SHOW USERS; "
        "CREATE USER fidelity_u WITH PASSWORD 'pw'; SHOW GRANTS FOR fidelity_u; "
        "GRANT READ ON oracle TO fidelity_u; SHOW GRANTS FOR fidelity_u; "
        "GRANT WRITE ON oracle TO fidelity_u; SHOW GRANTS FOR fidelity_u; "
        "GRANT ALL ON oracle TO fidelity_u; SHOW GRANTS FOR fidelity_u; "
        "REVOKE READ ON oracle FROM fidelity_u; SHOW GRANTS FOR fidelity_u; "
        "GRANT ALL PRIVILEGES ON oracle TO fidelity_u; REVOKE WRITE ON oracle FROM fidelity_u; "
        "SHOW GRANTS FOR fidelity_u; SHOW GRANTS FOR fidelity_a; "
        "GRANT ALL PRIVILEGES TO fidelity_u; REVOKE ALL PRIVILEGES FROM fidelity_a; SHOW USERS; "
        "SET PASSWORD FOR fidelity_u = 'other'; DROP USER fidelity_u; DROP USER fidelity_a; SHOW USERS",
        None,
    ),
    Query("CREATE USER fidelity_e WITH PASSWORD 'a'; CREATE USER fidelity_e WITH PASSWORD 'b'", None),
    Query("DROP USER fidelity_e; DROP USER fidelity_e", None),
    Query(
        "CREATE USER fidelity_e WITH PASSWORD 'a'; "
        "CREATE USER fidelity_e WITH PASSWORD 'a' WITH ALL PRIVILEGES",
        None,
    ),
    Query("DROP USER fidelity_e; GRANT READ ON nosuchdb TO fidelity_e", None),
    Query("GRANT READ ON oracle TO nobody", None),
    Query("REVOKE ALL ON nosuchdb FROM nobody", None),
    Query("REVOKE READ ON oracle FROM nobody", None),
    Query("GRANT ALL PRIVILEGES TO nobody", None),
    Query("REVOKE ALL PRIVILEGES FROM nobody", None),
    Query("SET PASSWORD FOR nobody = 'x'", None),
    Query("SHOW GRANTS FOR nobody", None),
    Query("DROP USER nobody", None),
    Query("CREATE USER \"\" WITH PASSWORD 'x'", None),
]


def _as_query(entry: str | Query) -> Query:
    return entry if isinstance(entry, Query) else Query(entry)


CORPUS: list[Query] = [
    _as_query(entry)
    for entry in RAW + AGGREGATES + SELECTORS + TRANSFORMATIONS + MATH + GROUP_BY_TIME
    + SOURCES_AND_SUBQUERIES + SHOW + ERRORS + ADMIN + LOOK_BACK + INTEGRAL_TIME + MULTI_SOURCE_WILDCARDS
    + FIELD_TYPE_CONFLICTS + BOOLEANS_AND_ITERATOR_TYPES + STATEFUL
]  # fmt: skip
