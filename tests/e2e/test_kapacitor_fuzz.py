"""Hostile input at Kapacitor's task and handler routes of the local stack, over real HTTP: mutated valid
TICKscripts, random token soup, deep nesting, huge literals and bad vars, POSTed as tasks and PATCHed onto
one; random bodies for a topic's handlers. Whatever comes in, the answer is never a 5xx, an error is
Kapacitor's `{"error": ...}` and every answer carries the X-Kapacitor-Version header.

The runs are derandomized (the same examples every run), so a failure found in CI reproduces locally.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REQUEST_TIMEOUT = 60.0  # a request that takes longer counts as a hang
FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
DBRPS = [{"db": "kfuzz", "rp": "autogen"}]  # nothing writes there: a task enabled here never runs

SCRIPTS = [
    "stream|from().measurement('cpu').where(lambda: \"host\" != 'x')|window().period(10s).every(10s)"
    "|mean('usage')|alert().crit(lambda: \"mean\" > 90)",
    "var db = 'kfuzz'\nvar rp = 'autogen'\nvar crit = 90\nstream\n    |from()\n        .database(db)"
    "\n        .retentionPolicy(rp)\n        .measurement('cpu')\n        .groupBy(*)\n    |alert()"
    "\n        .id('{{ .Name }}:{{ index .Tags \"host\" }}')\n        .message('{{ .ID }} is {{ .Level }}')"
    "\n        .crit(lambda: \"usage\" > crit)\n        .topic('cpu')\n        .post('http://127.0.0.1:9/x')",
    'batch\n    |query(\'SELECT mean(usage) FROM "kfuzz"."autogen".cpu\')\n        .period(5m)\n'
    "        .every(1m)\n        .groupBy(time(1m), 'host')\n    |derivative('mean').unit(1s).nonNegative()"
    "\n    |httpOut('d')",
    "var a = stream|from().measurement('a')\nvar b = stream|from().measurement('b')\n"
    "a|join(b).as('a', 'b').tolerance(1s)|eval(lambda: \"a.v\" + \"b.v\").as('sum')"
    "|influxDBOut().database('kfuzz').retentionPolicy('autogen').measurement('sums')",
    'stream|from().measurement(\'m\')|stateDuration(lambda: "v" > 1.5e3 AND "s" =~ /^x.*$/)'
    "|changeDetect('v')|default().field('v', 0)|delete().tag('t')|log()",
    'dbrp "kfuzz"."autogen"\nstream|from().measurement(\'m\')|deadman(10.0, 1m)'
    "|sample(3)|shift(-5s)|flatten().on('t')|stats(10s)",
]
TEMPLATE_LIKE = "var period duration\nvar f = 'usage'\nstream|from()|window().period(period)|mean(f)"
TOKENS = [
    "stream", "batch", "|", "@", ".", "(", ")", "[", "]", "{", "}", ",", "lambda:", "var", "dbrp", "=",
    "'", '"', "\n", " ", "//", "1", "1.5", "-", "+", "*", "/", "%", "AND", "OR", "!", "==", "!=", "=~", "!~",
    "<", ">=", "TRUE", "FALSE", "10s", "1u", "5m", "/re/", "'str'", '"ref"', "from()", "window()",
    "alert()", "query('SELECT 1')", "eval", "udf", "exec", "httpOut", "groupBy(*)", "x", "__", "é", "\\",
    "{{", "}}", "0x1", "9999999999999999999999", "1e309", "-0",
]  # fmt: skip
NESTING = [
    lambda n: "stream|from()|eval(lambda: " + "(" * n + "1" + ")" * n + ").as('x')",
    lambda n: "stream|from()|eval(lambda: " + " + ".join(['"v"'] * n) + ").as('x')",
    lambda n: "stream|from()" + "|window().period(1s).every(1s)" * n,
    lambda n: "stream|from()" + ".measurement('m')" * n,
    lambda n: "stream|from()|where(lambda: " + "-" * n + "1 > 0)",
    lambda n: "stream|from()|eval(lambda: " + "abs(" * n + '"v"' + ")" * n + ").as('x')",
    lambda n: "".join(f"var v{i} = {i}\n" for i in range(n)) + "stream|from()",
    lambda n: "stream|from()|eval(" + ", ".join(["lambda: 1"] * n) + ").as(" + ", ".join(["'a'"] * n) + ")",
]
HUGE = [
    "stream|from().measurement('" + "m" * 200_000 + "')",
    "stream|from()|eval(lambda: " + "9" * 20_000 + ").as('x')",
    "stream|from()|eval(lambda: 1." + "5" * 20_000 + ").as('x')",
    "stream|from()|window().period(" + "9" * 400 + "s)",
    "stream|from()|window().period(9223372036854775807s).every(1ns)",
    "stream|from()|eval(lambda: 1e308 * 10.0).as('x')",
    "stream|from()|sample(" + "9" * 30 + ")",
    'stream|from()|where(lambda: "s" =~ /' + "(a|" * 500 + "a" + ")" * 500 + "/)",
    "var x = '" + "x" * 290_000 + "'\nstream|from()",
    "stream|from()|alert().id('" + "{{" * 5_000 + "')",
]
VAR_TYPES = ["int", "float", "string", "bool", "duration", "regex", "lambda", "star", "list"]
ID_LIKE = ["fz", "fz-1", "fz.a_b", "", "a b", "../x", "é", "x" * 300, "%2F", "ok\n"]

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def mutated(seed: str) -> st.SearchStrategy[str]:
    """`seed` with characters replaced, inserted, deleted or repeated at a few places, or cut short."""

    @st.composite
    def build(draw) -> str:
        data = list(seed)
        for _ in range(draw(st.integers(1, 6))):
            if not data:
                break
            at = draw(st.integers(0, len(data) - 1))
            action = draw(st.sampled_from(["replace", "insert", "delete", "repeat"]))
            char = draw(st.sampled_from(list(" ,=\\\"'\n\t{}()[]/*|.@:0123456789azZ-+_$!<>~%é\x00")))
            if action == "replace":
                data[at] = char
            elif action == "insert":
                data.insert(at, char)
            elif action == "delete":
                del data[at]
            else:
                data[at:at] = data[at : at + draw(st.integers(1, 30))] * draw(st.integers(1, 50))
        if draw(st.integers(0, 4)) == 0 and data:
            data = data[: draw(st.integers(0, len(data)))]
        return "".join(data)

    return build()


@st.composite
def scripts(draw) -> Any:
    kind = draw(st.sampled_from(["mutated"] * 4 + ["tokens", "tokens", "nested", "huge", "valid", "other"]))
    if kind == "mutated":
        return draw(mutated(draw(st.sampled_from([*SCRIPTS, TEMPLATE_LIKE]))))
    if kind == "tokens":
        return "".join(draw(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=40)))
    if kind == "nested":
        return draw(st.sampled_from(NESTING))(draw(st.sampled_from([10, 200, 2_000, 20_000])))
    if kind == "huge":
        return draw(st.sampled_from(HUGE))
    if kind == "valid":
        return draw(st.sampled_from(SCRIPTS))
    return draw(JSON_VALUES)  # not a string


def sometimes_wrong(right: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly `right`; one time in 25 any JSON value (Kapacitor's decoder refuses the whole body)."""
    return st.integers(0, 24).flatmap(lambda n: JSON_VALUES if n == 0 else right)


@st.composite
def task_vars(draw) -> Any:
    names = draw(st.lists(st.sampled_from(["crit", "period", "f", "db", "x", "", "1a"]), max_size=4))
    typed = {}
    for name in names:
        spec = {"type": draw(sometimes_wrong(st.sampled_from(VAR_TYPES) | st.sampled_from(["", "map"])))}
        if draw(st.integers(0, 5)) > 0:
            spec["value"] = draw(
                sometimes_wrong(
                    st.sampled_from(
                        [1, 1.5, "10s", "1x", "x", True, "/re/", "(", "*", -(2**70), 2**63, "lambda: 1",
                         "\"v\" > ", "", [{"type": "string", "value": "a"}], [{"type": "int", "value": 1}]]
                    )
                )
            )  # fmt: skip
        if draw(st.integers(0, 5)) == 0:
            spec["description"] = draw(sometimes_wrong(st.text(max_size=20)))
        typed[name] = spec
    return draw(sometimes_wrong(st.just(typed)))


@st.composite
def task_bodies(draw) -> bytes:
    if draw(st.integers(0, 19)) == 0:  # not a task at all
        return draw(st.sampled_from([b"", b"{", b"[]", b"null", b'"x"', b"{" * 5_000, b"\xff\xfe"]))
    doc: dict[str, Any] = {}
    for key, chance, strategy in (
        ("id", 8, sometimes_wrong(st.sampled_from(ID_LIKE))),
        ("type", 3, sometimes_wrong(st.sampled_from(["stream", "batch", "", "invalid"]))),
        ("dbrps", 7, sometimes_wrong(st.sampled_from([DBRPS, [], [{"db": "", "rp": ""}], [{"db": 1}]]))),
        ("script", 9, scripts()),
        ("vars", 3, task_vars()),
        ("status", 6, sometimes_wrong(st.sampled_from(["enabled", "disabled", "", "on"]))),
        ("template-id", 1, sometimes_wrong(st.sampled_from(["", "nope", "fz"]))),
    ):
        if draw(st.integers(0, 9)) < chance:
            doc[key] = draw(strategy)
    return json.dumps(doc).encode()


HANDLER_OPTIONS = {
    "post": st.fixed_dictionaries(
        {"url": st.sampled_from(["http://127.0.0.1:9/x", "", "::", "http://" + "x" * 5_000])},
        optional={"headers": st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2)},
    ),
    "log": st.fixed_dictionaries({"path": st.sampled_from(["/tmp/fz.log", "", "relative", "/" * 300])}),
    "tcp": st.fixed_dictionaries({"address": st.sampled_from(["127.0.0.1:9", "", "nope"])}),
    "publish": st.fixed_dictionaries(
        {"topics": st.lists(st.sampled_from(["x", "y", "", "x/y"]), max_size=3)}
    ),
    "aggregate": st.fixed_dictionaries(
        {"interval": st.sampled_from(["10s", "x", "-1s", 10]), "topic": st.sampled_from(["x", ""])}
    ),
    "exec": st.fixed_dictionaries({"prog": st.just("/bin/true"), "args": st.lists(st.text(max_size=5))}),
    "smtp": st.fixed_dictionaries({"to": st.lists(st.sampled_from(["a@b.c", "", "nope"]), max_size=2)}),
}


@st.composite
def handler_bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["plausible"] * 4 + ["random", "broken"]))
    if kind == "random":
        return json.dumps(draw(JSON_VALUES)).encode()
    if kind == "broken":
        return draw(mutated('{"id": "h", "kind": "post", "options": {"url": "http://x"}}')).encode()
    doc: dict[str, Any] = {}
    if draw(st.integers(0, 9)) > 0:
        doc["id"] = draw(sometimes_wrong(st.sampled_from(["h", "fz-h2", "a.b_c", *ID_LIKE])))
    handler = draw(st.sampled_from([*HANDLER_OPTIONS, "slack", "", "nope"]))
    if draw(st.integers(0, 9)) > 0:
        doc["kind"] = draw(sometimes_wrong(st.just(handler)))
    if draw(st.integers(0, 3)) > 0:
        doc["options"] = draw(sometimes_wrong(HANDLER_OPTIONS.get(handler, st.just({}))))
    if draw(st.booleans()):
        doc["match"] = draw(
            sometimes_wrong(
                mutated("changed() AND level() >= CRITICAL AND \"host\" == 'a'")
                | st.sampled_from(["(" * 3_000 + "TRUE" + ")" * 3_000, '"x" + ' * 2_000 + "1", "", "TRUE"])
            )
        )
    if draw(st.integers(0, 5)) == 0:
        doc["actions"] = draw(JSON_VALUES)
    return json.dumps(doc).encode()


@st.composite
def handler_patches(draw) -> bytes:
    """RFC 6902 operations on a handler, plausible or not."""
    if draw(st.integers(0, 5)) == 0:
        return draw(handler_bodies())
    operations = []
    for _ in range(draw(st.integers(0, 4))):
        op = {
            "op": draw(
                sometimes_wrong(st.sampled_from(["add", "replace", "remove", "move", "copy", "test", "x"]))
            )
        }
        op["path"] = draw(
            sometimes_wrong(
                st.sampled_from(["/kind", "/options/url", "/match", "/id", "/options", "", "/~2", "/a/b/c"])
            )
        )
        if draw(st.integers(0, 4)) > 0:
            op["value"] = draw(
                st.sampled_from(["post", "log", "http://x", "level() > OK", "h2"]) | JSON_VALUES
            )
        if draw(st.integers(0, 5)) == 0:
            op["from"] = draw(st.sampled_from(["/kind", "/options", "/nope"]))
        operations.append(op)
    return json.dumps(operations).encode()


@dataclass
class Answer:
    status: int
    body: bytes
    headers: Any


def send(url: str, method: str, headers: dict[str, str], body: bytes | None) -> Answer:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return Answer(response.status, response.read(), response.headers)
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read(), exc.headers)
    except (TimeoutError, socket.timeout) as exc:  # noqa: UP041 -- urllib raises either
        raise AssertionError(f"{method} {url} hung for {REQUEST_TIMEOUT} s") from exc


def check(answer: Answer, method: str, url: str, body: bytes | None) -> None:
    shown = f"{method} {url} with {body[:300]!r}" if body else f"{method} {url}"
    assert answer.status < 500, f"{shown} -> {answer.status}: {answer.body[:500]!r}"
    assert answer.headers.get("X-Kapacitor-Version"), f"{shown}: no X-Kapacitor-Version"
    if answer.status >= 400:
        doc = json.loads(answer.body)
        assert isinstance(doc, dict) and isinstance(doc.get("error"), str) and doc["error"], (shown, doc)


@pytest.fixture(scope="module")
def kapacitor(stack, onboarded):
    return {"url": f"{stack.url}/kapacitor/v1", **onboarded.headers, "Content-Type": "application/json"}


def _headers(kapacitor: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in kapacitor.items() if k != "url"}


@FUZZ
@given(body=task_bodies())
def test_mutated_task_definitions_never_5xx(kapacitor, body):
    url = f"{kapacitor['url']}/tasks"
    answer = send(url, "POST", _headers(kapacitor), body)
    check(answer, "POST", url, body)
    if answer.status == 200:  # defined: remove it, so the next example starts from the same place
        task_id = json.loads(answer.body)["id"]
        gone = send(f"{url}/{urllib.request.quote(task_id, safe='')}", "DELETE", _headers(kapacitor), None)
        assert gone.status == 204, gone.body


@FUZZ
@given(body=task_bodies())
def test_mutated_task_patches_never_5xx(kapacitor, body):
    headers = _headers(kapacitor)
    base = {"id": "fz-patched", "type": "stream", "dbrps": DBRPS, "script": SCRIPTS[0], "status": "disabled"}
    url = f"{kapacitor['url']}/tasks/fz-patched"
    created = send(f"{kapacitor['url']}/tasks", "POST", headers, json.dumps(base).encode())
    assert created.status in (200, 400), created.body  # 400: still there from the last example
    answer = send(url, "PATCH", headers, body)
    check(answer, "PATCH", url, body)
    if answer.status == 200:  # possibly renamed: remove whatever it is now
        task_id = json.loads(answer.body)["id"]
        send(f"{kapacitor['url']}/tasks/{urllib.request.quote(task_id, safe='')}", "DELETE", headers, None)


@FUZZ
@given(data=st.data(), method=st.sampled_from(["POST", "POST", "PUT", "PATCH"]))
def test_random_topic_handlers_never_5xx(kapacitor, data, method):
    body = data.draw(handler_patches() if method == "PATCH" else handler_bodies())
    headers = _headers(kapacitor)
    url = f"{kapacitor['url']}/alerts/topics/x/handlers"
    if method != "POST":
        seed = json.dumps({"id": "fz-h", "kind": "log", "options": {"path": "/tmp/fz.log"}}).encode()
        send(url, "POST", headers, seed)  # 400 when it is still there
        url = f"{url}/fz-h"
    answer = send(url, method, headers, body)
    check(answer, method, url, body)
    if answer.status in (200, 201) and method == "POST":
        handler_id = json.loads(answer.body).get("id")
        if isinstance(handler_id, str):
            send(f"{url}/{urllib.request.quote(handler_id, safe='')}", "DELETE", headers, None)
