"""The local stack keeps its state in a data directory, like a database: restarts, SIGKILL, torn
journals, foreign directories, the lock, snapshots. Every stack runs as `python -m scripts.localstack`
in a subprocess on a temporary data directory (never the checkout's `.tickless/`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from scripts.localstack.datadir import DataDirError
from scripts.localstack.journal import FRAME, MAGIC, Journal
from tests.e2e.conftest import REPO_ROOT, Stack, _free_port, _ping, launched_stack

TOKEN = "persistence-operator-token"
ORG, BUCKET = "persist-org", "persist-bucket"
STARTUP_TIMEOUT = 90.0


# -- helpers --------------------------------------------------------------------------------------


def _options(data_dir: Path, *options: str) -> list[str]:
    return ["--data-dir", str(data_dir), "--log-level", "WARNING", *options]


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TICKLESS_PREFIX": "tlpersist-"}
    # An in-process moto of an earlier test in this worker leaves MOTO_PORT set: each stack picks its own.
    for name in ("DATA_DIR", "MOTO_PORT", "TICKLESS_AWS_ENDPOINT"):
        env.pop(name, None)
    return env


@contextmanager
def stack_on(data_dir: Path, *options: str) -> Iterator[Stack]:
    """A stack on `data_dir`; stopped with SIGINT on exit unless the test killed it."""
    port = _free_port()
    with launched_stack(_options(data_dir, *options), port=port, env=_env(), prefix="tlpersist-") as stack:
        yield stack


def kill(stack: Stack) -> None:
    stack.process.send_signal(signal.SIGKILL)
    stack.process.wait(10)


def http(
    stack: Stack, method: str, path: str, body: Any = None, *, token: str | None = TOKEN, raw: bool = False
) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Token {token}"} if token else {}
    if isinstance(body, dict | list):
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{stack.url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    if raw or not text:
        return status, text
    return status, json.loads(text)


def onboard(stack: Stack) -> dict[str, Any]:
    status, body = http(
        stack,
        "POST",
        "/api/v2/setup",
        {"username": "admin", "password": "correct-horse", "org": ORG, "bucket": BUCKET, "token": TOKEN},
        token=None,
    )
    assert status == 201, body
    return body


def write(stack: Stack, lines: str, bucket: str = BUCKET) -> None:
    status, body = http(
        stack, "POST", f"/api/v2/write?org={ORG}&bucket={bucket}&precision=s", lines.encode(), raw=True
    )
    assert status == 204, body


def query_values(stack: Stack, bucket: str = BUCKET) -> list[str]:
    flux = f'from(bucket: "{bucket}") |> range(start: 2020-01-01T00:00:00Z) |> keep(columns: ["_value"])'
    request = urllib.request.Request(
        f"{stack.url}/api/v2/query?org={ORG}",
        data=flux.encode(),
        method="POST",
        headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/vnd.flux"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        rows = [line.split(",") for line in response.read().decode().splitlines() if line.strip()]
    column = rows[0].index("_value")
    return sorted(row[column] for row in rows[1:] if row[column] != "_value")


LINES = "\n".join(f"cpu,host=h{i} usage={i} {1_700_000_000 + i}" for i in range(20))
VALUES = sorted(str(i) for i in range(20))


_OLD_HEADER = json.dumps({"moto": "0.0.1", "sequence": 3}).encode()
OLD_MOTO_SNAPSHOT = b"TLSNAP01" + len(_OLD_HEADER).to_bytes(4, "big") + _OLD_HEADER + b"pickle"


def run_failing(data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.localstack", "--port", str(_free_port()), *_options(data_dir)],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
    )


# -- durability ---------------------------------------------------------------------------------------


def test_acknowledged_write_survives_sigkill(tmp_path: Path) -> None:
    with stack_on(tmp_path) as stack:
        onboard(stack)
        write(stack, LINES)
        kill(stack)  # right after the 204: whatever the pump did or did not do yet
    with stack_on(tmp_path) as stack:
        assert "journaled changes replayed" in stack.output
        stack.drain(30)
        assert query_values(stack) == VALUES
        status, _ = http(stack, "GET", "/api/v2/buckets")
        assert status == 200  # the same token still works


def test_clean_stop_keeps_orgs_users_tokens_buckets_and_dbrps(tmp_path: Path) -> None:
    with stack_on(tmp_path) as stack:
        setup = onboard(stack)
        org_id = setup["org"]["id"]
        status, bucket = http(stack, "POST", "/api/v2/buckets", {"orgID": org_id, "name": "kept"})
        assert status == 201, bucket
        status, user = http(stack, "POST", "/api/v2/users", {"name": "reader"})
        assert status == 201, user
        status, auth = http(
            stack,
            "POST",
            "/api/v2/authorizations",
            {
                "orgID": org_id,
                "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": org_id}}],
            },
        )
        assert status == 201, auth
        status, dbrp = http(
            stack,
            "POST",
            "/api/v2/dbrps",
            {"orgID": org_id, "bucketID": bucket["id"], "database": "keptdb", "retention_policy": "autogen"},
        )
        assert status == 201, dbrp
        write(stack, LINES, bucket="kept")
        stack.drain(30)
    assert (tmp_path / "snapshot.bin").exists()
    with stack_on(tmp_path) as stack:
        assert "journaled changes replayed" not in stack.output  # a clean stop left a snapshot
        assert any(
            b["name"] == "kept" for b in http(stack, "GET", f"/api/v2/buckets?orgID={org_id}")[1]["buckets"]
        )
        assert any(u["name"] == "reader" for u in http(stack, "GET", "/api/v2/users")[1]["users"])
        assert http(stack, "GET", f"/api/v2/orgs/{org_id}")[0] == 200
        status, _ = http(stack, "GET", "/api/v2/buckets", token=auth["token"])
        assert status == 200  # the read token made before the restart
        dbrps = http(stack, "GET", f"/api/v2/dbrps?orgID={org_id}")[1]["content"]
        assert [d["database"] for d in dbrps if d["bucketID"] == bucket["id"]] == ["keptdb"]
        assert query_values(stack, "kept") == VALUES
        stack.drain(30)
        # Kinesis checkpoints were kept too: nothing consumed before the stop is delivered again.
        assert stack.stats()["totals"]["records_delivered"] == 0


def test_unconsumed_kinesis_backlog_is_consumed_after_restart(tmp_path: Path) -> None:
    with stack_on(tmp_path, "--no-pump") as stack:  # nothing consumes: the points wait on Kinesis
        onboard(stack)
        write(stack, LINES)
        kill(stack)
    with stack_on(tmp_path) as stack:
        stack.drain(30)
        assert stack.stats()["totals"]["records_succeeded"] >= 1, stack.output
        assert query_values(stack) == VALUES


# -- recovery and refusal -------------------------------------------------------------------------------


def test_torn_journal_tail_is_dropped_on_restart(tmp_path: Path) -> None:
    with stack_on(tmp_path) as stack:
        onboard(stack)
        write(stack, LINES)
        kill(stack)
    journal = tmp_path / "journal.bin"
    intact = journal.stat().st_size
    with open(journal, "ab") as handle:  # a crash in the middle of appending the next entry
        handle.write(FRAME.pack(5000, 1234) + b"half an entry")
    with stack_on(tmp_path) as stack:
        stack.drain(30)
        assert query_values(stack) == VALUES
        assert "dropped a torn last entry" in stack.output
    assert journal.stat().st_size < intact + FRAME.size  # the torn bytes are gone


def test_journal_drops_torn_or_mismatching_last_entry(tmp_path: Path) -> None:
    path = tmp_path / "journal.bin"
    journal = Journal(path)
    for payload in (b"one", b"two", b"three"):
        journal.sync(journal.append(payload))
    journal.close()
    whole = path.read_bytes()
    path.write_bytes(whole[:-2])  # the last payload cut short
    assert Journal(path).entries == [b"one", b"two"]
    path.write_bytes(whole[:-1] + b"X")  # the last payload complete but wrong
    assert Journal(path).entries == [b"one", b"two"]
    path.write_bytes(whole + FRAME.pack(9, 0)[:5])  # a torn frame header
    assert Journal(path).entries == [b"one", b"two", b"three"]


def test_journal_refuses_corruption_before_its_end(tmp_path: Path) -> None:
    path = tmp_path / "journal.bin"
    journal = Journal(path)
    for payload in (b"one", b"two"):
        journal.sync(journal.append(payload))
    journal.close()
    data = bytearray(path.read_bytes())
    data[len(MAGIC) + FRAME.size] ^= 0xFF  # flip a byte of the first entry
    path.write_bytes(bytes(data))
    with pytest.raises(DataDirError, match="corrupt"):
        Journal(path)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"notes.txt": b"my own files"}, "not a tickless data directory"),
        ({"FORMAT": b"tickless-localstack-data 99\ninstance 00\n"}, "format 99"),
        ({"FORMAT": b"\x00\xffgarbage"}, "not a tickless data directory"),
        (
            {"FORMAT": b"tickless-localstack-data 1\ninstance 00\n", "snapshot.bin": b"TLSNAP01garbage"},
            "cannot be read (bad header)",
        ),
        (
            {"FORMAT": b"tickless-localstack-data 1\ninstance 00\n", "snapshot.bin": OLD_MOTO_SNAPSHOT},
            "was written by moto 0.0.1",
        ),
        (
            {"FORMAT": b"tickless-localstack-data 1\ninstance 00\n", "journal.bin": b"not a journal"},
            "not a tickless journal",
        ),
    ],
    ids=["foreign", "newer-format", "garbage-marker", "corrupt-snapshot", "other-moto", "foreign-journal"],
)
def test_corrupt_or_foreign_data_dir_is_refused_clearly(
    tmp_path: Path, files: dict[str, bytes], message: str
) -> None:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    result = run_failing(tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_lock_prevents_a_second_stack_on_the_same_data_dir(tmp_path: Path) -> None:
    with stack_on(tmp_path) as stack:
        result = run_failing(tmp_path)
        assert result.returncode == 2
        assert "in use by another local stack" in result.stderr
        assert str(stack.process.pid) in result.stderr
        assert _ping(stack.url) == 204  # the first one is untouched


def test_snapshot_compaction_then_restart(tmp_path: Path) -> None:
    with stack_on(tmp_path, "--journal-limit-mb", "0.01") as stack:
        onboard(stack)
        write(stack, LINES)
        stack.drain(30)
        deadline = time.monotonic() + 30
        while not (tmp_path / "snapshot.bin").exists() or (tmp_path / "journal.bin").stat().st_size > 10_240:
            assert time.monotonic() < deadline, "no snapshot was taken"
            time.sleep(0.2)
        write(stack, "cpu,host=late usage=99 1700000100")  # journaled after the snapshot
        kill(stack)
    with stack_on(tmp_path) as stack:
        stack.drain(30)
        assert query_values(stack) == sorted([*VALUES, "99"])


# -- replay is exact for what moto generates ----------------------------------------------------------

_STATE_SCRIPT = r"""
import json, os, sys, time
import boto3
from scripts.localstack.motoserver import MotoServer, configure_environment

server = MotoServer(data_dir=sys.argv[1]).start()
configure_environment(server.endpoint_url)
sqs, kinesis = boto3.client("sqs"), boto3.client("kinesis")
if sys.argv[2] == "write":
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    for i in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, WaitTimeSeconds=1)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_records(StreamName="s", Records=[{"Data": b"x%d" % i, "PartitionKey": "k"} for i in range(3)])
url = sqs.get_queue_url(QueueName="q")["QueueUrl"]
attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
iterator = kinesis.get_shard_iterator(
    StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
)["ShardIterator"]
records = kinesis.get_records(ShardIterator=iterator)["Records"]
counts = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
visible = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
state = {
    "queue": {k: attributes[k] for k in counts},
    "visible": sorted(m["Body"] for m in visible),
    "records": [
        (r["SequenceNumber"], r["Data"].decode(), r["ApproximateArrivalTimestamp"].isoformat())
        for r in records
    ],
}
print(json.dumps(state), flush=True)
os._exit(0)  # no clean stop: the next start must replay the journal
"""


def test_replay_reproduces_sqs_and_kinesis_state_exactly(tmp_path: Path) -> None:
    def run(phase: str) -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, "-c", _STATE_SCRIPT, str(tmp_path), phase],
            cwd=REPO_ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    before = run("write")
    assert before["queue"] == {
        "ApproximateNumberOfMessages": "2",
        "ApproximateNumberOfMessagesNotVisible": "1",
    }
    after = run("read")  # replays the journal: same message states, sequence numbers, arrival times
    assert after["records"] == before["records"]
    assert after["queue"] == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "3",
    }
    assert len(after["visible"]) == 0 and len(before["visible"]) == 2
