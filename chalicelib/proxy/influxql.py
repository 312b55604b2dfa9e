"""Where influx-proxy sends an InfluxQL query: `plan(query, db)` reads the statement as influx-proxy
does, with its tokens rather than a parse, so that odd text is accepted or refused as influx-proxy
accepts or refuses it, and answers with the messages of its /query handler.

Placement follows the writes: a measurement lives on the backend of `"<db>,<measurement>"` in each
circle, so a read must find the same db and measurement the writer used. Where 2.4.7 finds a wrong
one (`FROM rp.cpu WHERE ...` gives `rp`, `WITH MEASUREMENT =~` gives `=~`) we take 2.5's rule.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.kit.errors import INVALID, TicklessError

# The /query handler's refusals (all 400, written as `{"error": ...}`).
QUERY_NOT_FOUND = "query not found"
QUERY_FORBIDDEN = "query forbidden"
DATABASE_NOT_FOUND = "database not found"
# Failures while routing, prefixed as the handler prefixes Query's errors (also 400).
ILLEGAL_INFLUXQL = "query error: illegal InfluxQL"
CANT_GET_MEASUREMENT = "query error: can't get measurement"
CIRCLES_UNAVAILABLE = "query error: circles unavailable"


def database_forbidden(db: str) -> str:
    return f"database forbidden: {db}"


def circle_not_healthy(circle_id: int) -> str:
    """Refusal of a statement for every backend while a circle has an inactive backend."""
    return f"query error: circle {circle_id} not health"


class Route(StrEnum):
    MEASUREMENT = "measurement"  # the measurement's backend in one healthy, non-migrating circle
    MERGE = "merge"  # every backend of one healthy circle; answers merged (see Merge)
    EVERY_CIRCLE = "every_circle"  # the measurement's backend in every circle (delete, drop)
    EVERY_BACKEND = "every_backend"  # every backend of every circle; all circles must be healthy
    REFUSED = "refused"


class Merge(StrEnum):
    VALUES = "values"  # SHOW MEASUREMENTS / SERIES / DATABASES: one column, de-duplicated
    SERIES = "series"  # SHOW FIELD KEYS / TAG KEYS / TAG VALUES: series by measurement
    RETENTION_POLICIES = "retention_policies"  # rows appended, first of a name kept
    RESULTS = "results"  # SHOW STATS: each backend's result in turn


@dataclass(frozen=True)
class QueryPlan:
    route: Route
    db: str = ""  # placement and db_list database; "" for SHOW DATABASES
    measurement: str = ""  # MEASUREMENT and EVERY_CIRCLE
    merge: Merge | None = None  # MERGE
    status: int = 200
    message: str = ""  # REFUSED

    @property
    def key(self) -> str:
        """The placement key of the ring (influx-proxy's GetKey)."""
        return f"{self.db},{self.measurement}"

    def error(self) -> TicklessError:
        return TicklessError(INVALID, self.message, status=self.status)


def refused(message: str) -> QueryPlan:
    return QueryPlan(Route.REFUSED, status=400, message=message)


# Statements influx-proxy accepts, by their first two or three words (2.4.7 plus 2.5's RP statements).
_SUPPORTED = frozenset(
    {
        "show measurements",
        "show series",
        "show field keys",
        "show tag keys",
        "show tag values",
        "show retention policies",
        "show stats",
        "show databases",
        "create database",
        "drop database",
        "create retention policy",
        "alter retention policy",
        "drop retention policy",
        "delete from",
        "drop series from",
        "drop measurement",
    }
)
_RP_STATEMENTS = frozenset({"create retention policy", "alter retention policy", "drop retention policy"})
_MERGES = {
    "show measurements": Merge.VALUES,
    "show series": Merge.VALUES,
    "show databases": Merge.VALUES,
    "show field keys": Merge.SERIES,
    "show tag keys": Merge.SERIES,
    "show tag values": Merge.SERIES,
    "show retention policies": Merge.RETENTION_POLICIES,
    "show stats": Merge.RESULTS,
}
_SPACE = " \t\r\n"


def plan(query: str, db: str, *, db_list: Collection[str] = ()) -> QueryPlan:
    """Route `query` (the `q` parameter) with `db` (the `db` parameter); `db_list` is the proxy's
    allowed databases, empty for all. Several statements go together only to one place."""
    text = query.strip()
    if not text:
        return refused(QUERY_NOT_FOUND)
    statements = split_statements(text)
    if not statements:
        return refused(QUERY_FORBIDDEN)
    plans = [_plan_statement(statement, db, db_list) for statement in statements]
    for each in plans:
        if each.route is Route.REFUSED:
            return each
    return _combine(plans)


def backend_params(route: Route, params: Mapping[str, str]) -> dict[str, str]:
    """The parameters a backend gets: the proxy's credentials never; `chunked` not for a merge, whose
    answer is one JSON document (epoch, pretty, chunked and the rest pass through otherwise)."""
    dropped = {"u", "p", "chunked"} if route is Route.MERGE else {"u", "p"}
    return {k: v for k, v in params.items() if k not in dropped}


def _combine(plans: list[QueryPlan]) -> QueryPlan:
    first = plans[0]
    if len(plans) == 1:
        return first
    if first.route is Route.EVERY_BACKEND and all(p.route is Route.EVERY_BACKEND for p in plans):
        return first
    if first.route in (Route.MEASUREMENT, Route.EVERY_CIRCLE) and all(
        p.route is first.route and p.key == first.key for p in plans
    ):
        return first
    return refused(QUERY_FORBIDDEN)


def _plan_statement(statement: str, db_param: str, db_list: Collection[str]) -> QueryPlan:
    tokens = scan_tokens(statement)
    if not tokens or not _supported(tokens):
        return refused(QUERY_FORBIDDEN)
    head2, head3 = _head(tokens, 2), _head(tokens, 3)
    show_databases = head2 == "show databases"
    alter_database = head2 in ("create database", "drop database")
    if alter_database:
        db = _database_name(tokens[2:]) if len(tokens) > 2 else ""
    elif show_databases:
        db = ""
    else:
        db = database_of(tokens) or db_param
    if not show_databases:
        if not db:
            return refused(DATABASE_NOT_FOUND)
        if db_list and db not in db_list:
            return refused(database_forbidden(db))
    first = tokens[0].lower()
    if first in ("select", "show"):
        return _plan_read(tokens, db, head2, head3)
    if head2 in ("delete from", "drop measurement", "drop series"):
        measurement = measurement_of(tokens)
        if not measurement:
            return refused(ILLEGAL_INFLUXQL)
        return QueryPlan(Route.EVERY_CIRCLE, db, measurement)
    if alter_database or head3 in _RP_STATEMENTS:
        return QueryPlan(Route.EVERY_BACKEND, db)
    return refused(QUERY_FORBIDDEN)


def _plan_read(tokens: list[str], db: str, head2: str, head3: str) -> QueryPlan:
    if _index_of(tokens, "from") is not None:
        measurement = measurement_of(tokens)
        if not measurement:
            return refused(CANT_GET_MEASUREMENT)
        return QueryPlan(Route.MEASUREMENT, db, measurement)
    if "cardinality" in (t.lower() for t in tokens[:5]):
        # Per-backend counts cannot be merged by value: 2.4.7 panics on SHOW SERIES CARDINALITY.
        return refused(QUERY_FORBIDDEN)
    merge = _MERGES.get(head2) or _MERGES.get(head3)
    if merge is None:
        return refused(QUERY_FORBIDDEN)
    return QueryPlan(Route.MERGE, db, merge=merge)


def _supported(tokens: list[str]) -> bool:
    """influx-proxy's CheckQuery: SELECT with FROM and no INTO, any SHOW with FROM, or a listed head."""
    first = tokens[0].lower()
    if first == "select":
        for token in tokens[1:]:
            word = token.lower()
            if word == "into":
                return False
            if word == "from":
                return True
        return False
    if first == "show" and _index_of(tokens, "from") is not None:
        return True
    return _head(tokens, 2) in _SUPPORTED or _head(tokens, 3) in _SUPPORTED


def _head(tokens: list[str], n: int) -> str:
    return " ".join(tokens[:n]).lower()


def _index_of(tokens: list[str], word: str) -> int | None:
    for i, token in enumerate(tokens):
        if token.lower() == word:
            return i
    return None


# ---- the tokens -----------------------------------------------------------------------------------


def split_statements(text: str) -> list[str]:
    """The statements of a query, split at `;` outside quotes; empty ones dropped."""
    statements: list[str] = []
    start = i = 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            i = _quote_end(text, i)[0]
            continue
        if ch == ";":
            statements.append(text[start:i])
            start = i + 1
        i += 1
    statements.append(text[start:])
    return [s.strip() for s in statements if s.strip(_SPACE)]


def scan_tokens(statement: str) -> list[str]:
    """influx-proxy's tokens (2.5's ScanToken): quoted names keep their quotes with `\\"` undone,
    `(...)` `[...]` `{...}` are one token, `.` and `,` are tokens of their own. A token influx-proxy
    cannot end (an open quote or parenthesis) ends the list, as its scanner stops there. Any
    whitespace separates tokens (influx-proxy splits at spaces only, refusing multi-line queries)."""
    text = statement.strip().rstrip("; ")
    tokens: list[str] = []
    i = 0
    while True:
        while i < len(text) and text[i] in _SPACE:
            i += 1
        if i >= len(text):
            return tokens
        token, i = _token(text, i, tokens[-1].lower() if tokens else "")
        if token is None:
            return tokens
        tokens.append(token)


def _token(text: str, i: int, previous: str) -> tuple[str | None, int]:
    ch = text[i]
    if ch in "\"'":
        end, token = _quote_end(text, i)
        return (token if end <= len(text) and token.endswith(ch) and len(token) > 1 else None), end
    if ch == "(":
        depth = 0
        for j in range(i, len(text)):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            if depth == 0:
                return text[i : j + 1], j + 1
        return None, len(text)
    if ch in "[{":
        j = text.find("]" if ch == "[" else "}", i)
        return (None, len(text)) if j < 0 else (text[i : j + 1], j + 1)
    if ch in ".,":
        return ch, i + 1
    if ch == "/" and previous in ("from", ","):
        j = i + 1
        while j < len(text) and text[j] != "/":
            j += 2 if text[j] == "\\" else 1
        return text[i : j + 1], j + 1
    j = i
    while j < len(text) and text[j] not in _SPACE and text[j] not in '.,"':
        j += 1
    return text[i:j], j


def _quote_end(text: str, start: int) -> tuple[int, str]:
    """The end of the quoted text at `start`, and the text with its quotes and `\\<quote>` undone to
    the quote; past the end of `text` when unclosed."""
    quote = text[start]
    out = [quote]
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == quote:
            out.append(ch)
            return i + 1, "".join(out)
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
            i += 1
            ch = text[i]
        out.append(ch)
        i += 1
    return len(text) + 1, "".join(out)


# ---- names ----------------------------------------------------------------------------------------


def measurement_of(tokens: list[str]) -> str:
    """The measurement after the first FROM (or DROP MEASUREMENT's name); a subquery's own FROM; a
    regex as its text, `/cpu.*/`, so that it goes to one backend as in influx-proxy. "" if none."""
    if _head(tokens, 2) == "drop measurement":
        rest = tokens[2:]
    else:
        at = _index_of(tokens, "from")
        rest = tokens[at + 1 :] if at is not None else []
    if not rest:
        return ""
    first = rest[0]
    if first.startswith("("):
        inner = first[1:-1]
        return measurement_of(scan_tokens(inner)) if _is_select(inner) else first
    if first.startswith("/"):
        return first
    if len(rest) >= 5 and rest[1] == "." and rest[3] == ".":
        name = rest[4]  # db.rp.m
    elif len(rest) >= 4 and rest[1] == "." and rest[2] == ".":
        name = rest[3]  # db..m
    elif len(rest) >= 3 and rest[1] == ".":
        name = rest[2]  # rp.m
    else:
        name = first
    return _unquote(name)


def database_of(tokens: list[str]) -> str:
    """The database a statement names: after ON or DATABASE, or the db of `FROM db.rp.m` / `db..m`
    (a subquery's); "" when the first of these keywords names none (then the db parameter counts)."""
    for i, token in enumerate(tokens):
        word = token.lower()
        if word not in ("on", "database", "from") or i + 1 >= len(tokens):
            continue
        rest = tokens[i + 1 :]
        if word != "from":
            return _database_name(rest)
        if rest[0].startswith("(") and _is_select(rest[0][1:-1]):
            return database_of(scan_tokens(rest[0][1:-1]))
        qualified = (len(rest) >= 4 and rest[1] == "." and rest[3] == ".") or (
            len(rest) >= 3 and rest[1] == "." and rest[2] == "."
        )
        return _unquote(rest[0]) if qualified else ""
    return ""


def _database_name(rest: list[str]) -> str:
    first = rest[0]
    if first.startswith("("):
        return ""
    return _unquote(first)


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] in "\"'" and name[-1] == name[0]:
        return name[1:-1]
    return name


def _is_select(text: str) -> bool:
    return text.lstrip("( ").lower().startswith("select ")
