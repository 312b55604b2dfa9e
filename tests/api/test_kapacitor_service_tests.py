"""`/kapacitor/v1/service-tests` over HTTP: Kapacitor's shapes (services/servicetest), and tests that
really send through the organization's sections: to a local HTTP receiver, a local SMTP server and an SNS
topic on the local AWS endpoint; failures (disabled section, unreachable URL, refused answer) come back
as `success: false` with the service's words. Also `/sideload/reload`, `/debug/pprof` and `/:routes`."""

from __future__ import annotations

import itertools
import json
import socket
import socketserver
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
import requests

_ids = itertools.count()
TESTS = "/kapacitor/v1/service-tests"
CONFIG = "/kapacitor/v1/config"
ALL = ["httppost", "influxdb", "opsgenie2", "pagerduty2", "slack", "smtp", "sns", "teams", "telegram"]


def _post(client, path: str, doc) -> object:
    body = doc if isinstance(doc, bytes) else json.dumps(doc)
    return client.http.post(path, body=body, headers={"Content-Type": "application/json"})


def _own_org(client, actions: tuple[str, ...] = ("read", "write")) -> object:
    """A client of a new organization: service tests read that organization's sections."""
    org = _post(client, "/api/v2/orgs", {"name": f"st{next(_ids)}"}).json_body["id"]
    permissions = [{"action": a, "resource": {"type": "tasks", "orgID": org}} for a in actions]
    token = _post(client, "/api/v2/authorizations", {"orgID": org, "permissions": permissions})
    return client.with_token(token.json_body["token"])


def _configure(client, path: str, options: dict) -> None:
    response = _post(client, f"{CONFIG}/{path}", {"set": options})
    assert response.status_code == 204, response.body


def _test(client, name: str, options: dict | bytes | None = None) -> dict:
    response = _post(client, f"{TESTS}/{name}", b"{}" if options is None else options)
    assert response.status_code == 200, response.body
    assert set(response.json_body) == {"success", "message"}
    return response.json_body


class Receiver:
    """A local HTTP endpoint keeping each request (path, headers, body), answering `status`."""

    def __init__(self, status: int = 200, answer: bytes = b"") -> None:
        self.requests: list[tuple[str, dict, bytes]] = []
        self.status, self.answer = status, answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def json(self, index: int = -1) -> dict:
        return json.loads(self.requests[index][2])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


class SmtpServer:
    """Just enough SMTP (no TLS, no auth) to take mail and keep it: (from, recipients, data)."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], bytes]] = []
        mails = self.mails

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 test ESMTP\r\n")
                sender, recipients = "", []
                while line := self.rfile.readline():
                    command = line.decode().strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.wfile.write(b"250 test\r\n")
                    elif verb == "MAIL":
                        sender = command.split(":", 1)[1].strip("<> ")
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == "RCPT":
                        recipients.append(command.split(":", 1)[1].strip("<> "))
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == "DATA":
                        self.wfile.write(b"354 go on\r\n")
                        data = b"".join(iter(self.rfile.readline, b".\r\n"))
                        mails.append((sender, recipients, data))
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]


def _closed_port() -> int:
    """A local port nothing listens on: a request to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- shapes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/kapacitor/v1", "/kapacitor/v1preview"])
def test_the_list_in_kapacitors_shape(client, prefix):
    mine = _own_org(client)
    response = mine.http.get(f"{prefix}/service-tests")
    assert response.status_code == 200 and response.headers["X-Kapacitor-Version"]
    body = response.json_body
    assert body["link"] == {"rel": "self", "href": TESTS}
    assert [s["name"] for s in body["services"]] == ALL
    for service in body["services"]:
        assert service["link"] == {"rel": "self", "href": f"{TESTS}/{service['name']}"}
    slack = next(s for s in body["services"] if s["name"] == "slack")
    assert slack["options"] == {
        "workspace": "",
        "channel": "",
        "message": "test slack message",
        "level": "CRITICAL",
        "username": "",
        "icon-emoji": "",
    }
    smtp = next(s for s in body["services"] if s["name"] == "smtp")
    assert smtp["options"] == {"to": None, "subject": "test subject", "body": "test body"}


def test_the_list_filters_by_pattern(client):
    mine = _own_org(client)
    names = [s["name"] for s in mine.http.get(f"{TESTS}?pattern=s*").json_body["services"]]
    assert names == ["slack", "smtp", "sns"]
    assert mine.http.get(f"{TESTS}?pattern=nothing").json_body["services"] is None  # Go's nil slice
    bad = mine.http.get(f"{TESTS}?pattern=%5B")
    assert (bad.status_code, bad.json_body) == (400, {"error": "bad pattern: syntax error in pattern"})


def test_one_test_and_its_defaults_read_from_the_section(client):
    mine = _own_org(client)
    _configure(mine, "slack/", {"channel": "#ops"})
    _configure(mine, "smtp/", {"to": ["oncall@example.com"]})
    slack = mine.http.get(f"{TESTS}/slack")
    assert slack.status_code == 200
    assert slack.json_body["link"] == {"rel": "self", "href": f"{TESTS}/slack"}
    assert slack.json_body["name"] == "slack" and slack.json_body["options"]["channel"] == "#ops"
    assert mine.http.get(f"{TESTS}/smtp").json_body["options"]["to"] == ["oncall@example.com"]
    httppost = mine.http.get(f"{TESTS}/httppost").json_body["options"]
    assert httppost == {
        "endpoint": "example",
        "url": "http://localhost:3000/",
        "headers": {"Auth": "secret"},
        "timeout": 0,
    }


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_service_is_404(client, method):
    mine = _own_org(client)
    response = getattr(mine.http, method)(f"{TESTS}/nope")
    assert (response.status_code, response.json_body) == (404, {"error": 'service "nope" not found'})


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "failed to decode JSON body:EOF"),
        (b"{", "failed to decode JSON body:unexpected EOF"),
        (
            b"[1]",
            "failed to decode JSON body:json: cannot unmarshal array into Go value of type slack.testOptions",
        ),
        (b'{"nope": 1}', 'failed to decode JSON body:json: unknown field "nope"'),
        (
            b'{"channel": 5}',
            "failed to decode JSON body:json: cannot unmarshal number into Go struct field "
            "testOptions.channel of type string",
        ),
        (b'{"level": "critical"}', "failed to decode JSON body:unknown alert level 'critical'"),
    ],
    ids=["empty", "cut", "array", "unknown-option", "wrong-type", "bad-level"],
)
def test_options_kapacitor_cannot_decode_are_400(client, body, error):
    response = _post(_own_org(client), f"{TESTS}/slack", body)
    assert (response.status_code, response.json_body) == (400, {"error": error})


def test_credentials(client, anonymous):
    refused = anonymous.http.get(TESTS)
    assert (refused.status_code, refused.json_body) == (
        401,
        {"error": "unable to parse authentication credentials"},
    )
    assert _post(anonymous, f"{TESTS}/slack", {}).status_code == 401
    reader = _own_org(client, ("read",))
    assert reader.http.get(TESTS).status_code == 200
    forbidden = _post(reader, f"{TESTS}/slack", {})
    assert (forbidden.status_code, forbidden.json_body) == (
        403,
        {"error": "insufficient permissions to write tasks"},
    )


# -- tests that send ---------------------------------------------------------------------------------------


def test_a_disabled_section_sends_nothing(client):
    mine = _own_org(client)
    for name in ("slack", "pagerduty2", "telegram", "teams", "sns"):
        assert _test(mine, name) == {"success": False, "message": "service is not enabled"}, name
    assert _test(mine, "smtp", {"to": ["a@example.com"]}) == {
        "success": False,
        "message": "service is not enabled",
    }
    assert _test(mine, "opsgenie2") == {
        "success": False,
        "message": "failed to prepare API request: service is not enabled",
    }


def test_slack_posts_to_the_configured_url(client, receiver):
    mine = _own_org(client)
    _configure(mine, "slack/", {"enabled": True, "url": receiver.url + "/hook", "channel": "#ops"})
    result = _test(mine, "slack", {"message": "hello from a test", "level": "WARNING", "username": "me"})
    assert result == {"success": True, "message": ""}
    path, headers, _ = receiver.requests[-1]
    assert path == "/hook" and headers["Content-Type"] == "application/json"
    body = receiver.json()
    assert (body["channel"], body["username"], body["text"]) == ("#ops", "me", "")
    assert body["attachments"][0]["text"] == "hello from a test"
    assert body["attachments"][0]["color"] == "warning"


def test_a_refused_answer_is_the_services_message(client):
    mine = _own_org(client)
    refusing = Receiver(status=403, answer=b'{"error": "invalid_token"}')
    try:
        _configure(mine, "slack/", {"enabled": True, "url": refusing.url})
        assert _test(mine, "slack") == {"success": False, "message": "invalid_token"}
    finally:
        refusing.server.shutdown()


def test_an_unreachable_url_fails_with_the_reason(client):
    mine = _own_org(client)
    url = f"http://127.0.0.1:{_closed_port()}/hook"
    _configure(mine, "slack/", {"enabled": True, "url": url})
    result = _test(mine, "slack")
    assert result["success"] is False
    assert result["message"].startswith(f'Post "{url}": ') and "refused" in result["message"]

    unreachable = _test(mine, "httppost", {"url": url})
    assert unreachable["success"] is False
    assert unreachable["message"].startswith(f'failed to POST alert data: Post "{url}": ')


def test_httppost_posts_an_empty_alert_to_the_url_or_the_endpoint(client, receiver):
    mine = _own_org(client)
    result = _test(mine, "httppost", {"url": receiver.url + "/direct", "headers": {"X-Test": "1"}})
    assert result == {"success": True, "message": ""}
    path, headers, _ = receiver.requests[-1]
    assert (path, headers["X-Test"], headers["Auth"]) == ("/direct", "1", "secret")  # headers merge
    assert receiver.json() == {
        "id": "",
        "message": "",
        "details": "",
        "time": "0001-01-01T00:00:00Z",
        "duration": 0,
        "level": "OK",
        "data": {"series": None},
        "previousLevel": "OK",
        "recoverable": False,
    }
    endpoint = {"endpoint": "hooks", "url": receiver.url + "/configured", "headers": {"Y": "2"}}
    assert _post(mine, f"{CONFIG}/httppost", {"add": endpoint}).status_code == 204
    assert _test(mine, "httppost", {"endpoint": "hooks", "url": ""})["success"] is True
    path, headers, _ = receiver.requests[-1]
    assert (path, headers["Y"]) == ("/configured", "2")


def test_httppost_passes_whatever_the_endpoint_answers(client):
    """Kapacitor's httppost test only fails when the request does."""
    failing = Receiver(status=500)
    try:
        assert _test(_own_org(client), "httppost", {"url": failing.url}) == {"success": True, "message": ""}
    finally:
        failing.server.shutdown()


def test_pagerduty2_opsgenie2_telegram_and_teams_send_their_requests(client, receiver):
    mine = _own_org(client)
    _configure(mine, "pagerduty2/", {"enabled": True, "url": receiver.url + "/pd", "routing-key": "rk"})
    assert _test(mine, "pagerduty2", {"event_data": {"Tags": {"host": "h1"}}})["success"] is True
    pd = receiver.json()
    assert (pd["routing_key"], pd["dedup_key"], pd["event_action"]) == ("rk", "testAlertID", "trigger")
    assert pd["payload"]["source"] == "h1" and pd["payload"]["summary"] == "test pagerduty2 message"
    assert pd["payload"]["timestamp"] == "2014-11-12T11:45:26.371000000Z"
    assert pd["links"] == [
        {"href": "https://example.com/a", "text": "a"},
        {"href": "https://example.com/b", "text": "b"},
    ]

    _configure(mine, "opsgenie2/", {"enabled": True, "url": receiver.url + "/og", "api-key": "k"})
    receiver.status = 202
    assert _test(mine, "opsgenie2", {"teams": ["ops"]})["success"] is True
    path, headers, _ = receiver.requests[-1]
    assert (path, headers["Authorization"]) == ("/og", "GenieKey k")
    og = receiver.json()
    assert (og["message"], og["entity"], og["priority"]) == ("test opsgenie message", "testEntityID", "P1")
    assert og["responders"] == [{"name": "ops", "type": "team"}]
    assert _test(mine, "opsgenie2", {"message-type": "nope"}) == {
        "success": False,
        "message": "unknown alert level 'NOPE'",
    }

    receiver.status = 200
    _configure(
        mine, "telegram/", {"enabled": True, "url": receiver.url + "/bot", "token": "T", "chat-id": "42"}
    )
    assert _test(mine, "telegram")["success"] is True
    assert receiver.requests[-1][0] == "/botT/sendMessage"
    assert receiver.json() == {"chat_id": "42", "text": "test telegram message"}

    _configure(mine, "teams/", {"enabled": True, "channel-url": receiver.url + "/teams"})
    assert _test(mine, "teams")["success"] is True
    card = receiver.json()
    assert card["title"] == "CRITICAL: [foo/bar/bat]" and card["text"] == "test teams message"


def test_opsgenie2_refused_answer(client):
    mine = _own_org(client)
    refusing = Receiver(status=422, answer=b'{"message": "Key format is not valid!"}')
    try:
        _configure(mine, "opsgenie2/", {"enabled": True, "url": refusing.url, "api-key": "k"})
        assert _test(mine, "opsgenie2") == {
            "success": False,
            "message": "opsgenie error: Key format is not valid!",
        }
        _configure(mine, "opsgenie2/", {"url": f"http://127.0.0.1:{_closed_port()}/"})
        unreachable = _test(mine, "opsgenie2")
        assert unreachable["message"].startswith("failed to execute API request: Post ")
    finally:
        refusing.server.shutdown()


def test_smtp_sends_a_mail_to_the_configured_server(client):
    mine = _own_org(client)
    server = SmtpServer()
    try:
        options = {"enabled": True, "host": "127.0.0.1", "port": server.port, "from": "kapacitor@example.com"}
        _configure(mine, "smtp/", options)
        assert _test(mine, "smtp") == {
            "success": False,
            "message": "not sending email, no recipients defined",
        }
        result = _test(mine, "smtp", {"to": ["oncall@example.com"], "subject": "Hi", "body": "<b>test</b>"})
        assert result == {"success": True, "message": ""}
        [(sender, recipients, data)] = server.mails
        assert (sender, recipients) == ("kapacitor@example.com", ["oncall@example.com"])
        assert b"Subject: Hi" in data and b"text/html" in data and b"<b>test</b>" in data
    finally:
        server.server.shutdown()
    _configure(mine, "smtp/", {"port": _closed_port()})
    refused = _test(mine, "smtp", {"to": ["oncall@example.com"]})
    assert refused["success"] is False and "refused" in refused["message"]


def test_sns_publishes_to_the_topic(client, aws):
    mine = _own_org(client)
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name=f"st-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"st-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    _configure(mine, "sns/", {"enabled": True, "topic-arn": topic})
    assert _test(mine, "sns", {"message": "sns test"}) == {"success": True, "message": ""}
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages") or []
    assert [json.loads(m["Body"])["message"] for m in messages] == ["sns test"]


def test_influxdb_pings_a_cluster(client, receiver):
    mine = _own_org(client)
    assert _test(mine, "influxdb") == {
        "success": False,
        "message": 'cluster "" is not enabled or does not exist',
    }
    assert _test(mine, "influxdb", {"cluster": "default"}) == {"success": True, "message": ""}  # the store
    receiver.status = 204
    added = {"add": {"name": "remote", "urls": [receiver.url]}}
    assert _post(mine, f"{CONFIG}/influxdb", added).status_code == 204
    assert _test(mine, "influxdb", {"cluster": "remote"}) == {  # an added element starts disabled
        "success": False,
        "message": 'cluster "remote" is not enabled or does not exist',
    }
    _configure(mine, "influxdb/remote", {"enabled": True})
    assert _test(mine, "influxdb", {"cluster": "remote"}) == {"success": True, "message": ""}
    assert receiver.requests[-1][0] == "/ping"
    receiver.status = 500
    failed = _test(mine, "influxdb", {"cluster": "remote"})
    assert failed["success"] is False
    assert failed["message"].startswith('failed to ping the influxdb cluster "remote": ')


# -- sideload, pprof, :routes --------------------------------------------------------------------------


def test_sideload_reload_has_nothing_to_reload(client, anonymous):
    mine = _own_org(client)
    response = mine.http.post("/kapacitor/v1/sideload/reload")
    assert response.status_code == 204 and response.headers["X-Kapacitor-Version"]
    assert anonymous.http.post("/kapacitor/v1/sideload/reload").status_code == 401
    assert _own_org(client, ("read",)).http.post("/kapacitor/v1/sideload/reload").status_code == 403


@pytest.mark.parametrize(
    "path", ["/debug/pprof", "/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile"]
)
def test_pprof_is_not_available(anonymous, path):
    response = anonymous.http.get("/kapacitor/v1" + path)
    assert response.status_code == 501
    assert "profiling is not available" in response.json_body["error"]


def test_routes_lists_kapacitors_routes(http, onboarding):
    headers = {"Authorization": f"Token {onboarding['auth']['token']}"}
    for prefix in ("/kapacitor/v1", "/kapacitor/v1preview"):
        response = requests.get(f"{http}{prefix}/:routes", headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["X-Kapacitor-Version"]
        routes = response.json()
        assert routes["/kapacitor/v1/:routes"] == ["GET"]
        assert routes["/kapacitor/v1/ping"] == ["GET", "HEAD"]
        assert routes["/kapacitor/v1/service-tests"] == ["GET"]
        assert routes["/kapacitor/v1/service-tests/"] == ["GET", "POST"]
        assert set(routes["/kapacitor/v1/tasks/"]) >= {"DELETE", "GET", "PATCH"}
        assert not any(key.startswith("/api/") or "{" in key for key in routes)
        assert response.text.startswith('{\n    "/kapacitor/v1')  # indented as Kapacitor writes it
    assert requests.get(f"{http}/kapacitor/v1/:routes").status_code == 401
    assert requests.post(f"{http}/kapacitor/v1/:routes", headers=headers).status_code == 404
