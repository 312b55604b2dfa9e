"""Handlers that send through a service's configuration, as a Kapacitor operator sets it up: the slack
section's webhook URL set over `/kapacitor/v1/config`, a task whose alert node says `.slack()`, and
a `global` teams section every alert node also sends to; the alerts reach a local HTTP server through
the stream consumer, the alerts queue and its delivery worker."""

from __future__ import annotations

import json

import pytest
import requests

from tests.e2e.test_kapacitor_alerts_e2e import Receiver

SECOND = 1_000_000_000


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def _own_org_session(stack, onboarded, unique) -> requests.Session:
    """A session of a new organization: a `global` section sends every alert of its org, and this test's
    must not reach the alerts of tests running beside it."""
    operator = requests.Session()
    operator.headers.update(onboarded.headers)
    org = operator.post(f"{stack.url}/api/v2/orgs", data=json.dumps({"name": unique("cfg-org")})).json()
    permissions = [
        {"action": action, "resource": {"type": kind, "orgID": org["id"]}}
        for kind in ("buckets", "dbrp", "tasks")
        for action in ("read", "write")
    ]
    auth = {"orgID": org["id"], "permissions": permissions}
    token = operator.post(f"{stack.url}/api/v2/authorizations", data=json.dumps(auth)).json()["token"]
    session = requests.Session()
    session.headers.update({"Authorization": f"Token {token}"})
    return session


def _configure(session: requests.Session, url: str, path: str, options: dict) -> None:
    response = session.post(f"{url}/kapacitor/v1/config/{path}", data=json.dumps({"set": options}))
    assert response.status_code == 204, response.text


def test_slack_and_a_global_teams_section_deliver_through_their_config(stack, onboarded, unique, receiver):
    session = _own_org_session(stack, onboarded, unique)
    database = unique("kdb").replace("-", "_")
    assert session.post(f"{stack.url}/query", params={"q": f"CREATE DATABASE {database}"}).status_code == 200

    script = """stream
    |from()
        .measurement('cpu')
    |alert()
        .id('cpu')
        .message('{{ .ID }} is {{ .Level }}')
        .crit(lambda: "value" > 90)
        .slack()
            .channel('#ops')
"""
    task = {"id": unique("slack"), "script": script, "dbrps": [{"db": database, "rp": "autogen"}]}
    task["status"] = "enabled"
    response = session.post(f"{stack.url}/kapacitor/v1/tasks", data=json.dumps(task))
    assert response.status_code == 200, response.text
    # the sections change after the task is defined: Kapacitor needs no restart, neither does tickless
    _configure(session, stack.url, "slack/", {"enabled": True, "url": receiver.url + "/slack"})
    _configure(session, stack.url, "teams/", {"enabled": True, "global": True, "channel-url": receiver.url})
    shown = session.get(f"{stack.url}/kapacitor/v1/config/slack/").json()
    assert shown["options"]["url"] is True and "url" in shown["redacted"]  # a secret is never shown

    body = f"cpu value=95 {2 * SECOND}"
    assert session.post(f"{stack.url}/write", params={"db": database}, data=body).status_code == 204
    stack.drain()
    bodies = receiver.wait_for(2)
    slack = next(b for b in bodies if "attachments" in b)
    teams = next(b for b in bodies if "themeColor" in b)
    assert slack["channel"] == "#ops" and slack["username"] == "kapacitor"
    assert slack["attachments"][0]["text"] == "cpu is CRITICAL"
    assert slack["attachments"][0]["color"] == "danger"
    assert teams["text"] == "cpu is CRITICAL" and teams["title"] == "CRITICAL: [cpu]"
