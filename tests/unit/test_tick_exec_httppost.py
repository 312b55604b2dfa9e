"""The httpPost node: every point or batch goes on unchanged and leaves a request for the node's URL with
the row as InfluxDB's JSON; what needs Kapacitor's inline post or its config is refused."""

from __future__ import annotations

import pytest

from chalicelib.kit.errors import TicklessError
from chalicelib.tick.evaluate import evaluate
from chalicelib.tick.exec import Point, RuntimeConfig, TaskRuntime
from chalicelib.tick.outbox import outbox_of
from chalicelib.tick.parser import parse

SECOND = 1_000_000_000


def _runtime(script: str) -> TaskRuntime:
    pipeline = evaluate(parse(script), "stream").pipeline
    return TaskRuntime.build(pipeline, None, RuntimeConfig(task="t"))


def test_points_are_posted_as_rows_and_go_on() -> None:
    script = (
        "stream|from().measurement('cpu')|httpPost('http://h/x').header('k', 'v').timeout(5s)|httpOut('o')"
    )
    runtime = _runtime(script)
    outputs = runtime.feed_points([Point("cpu", 2 * SECOND, {"v": 1.5}, {"host": "a"})])
    [post] = outputs.posts
    assert (post.url, post.headers, post.timeout) == ("http://h/x", {"k": "v"}, 5 * SECOND)
    assert post.body == {
        "series": [
            {
                "name": "cpu",
                "tags": {"host": "a"},
                "columns": ["time", "v"],
                "values": [["1970-01-01T00:00:02Z", 1.5]],
            }
        ]
    }
    assert outputs.http["o"]["series"][0]["values"] == [["1970-01-01T00:00:02Z", 1.5]]  # passed on
    [message] = outbox_of(runtime.pipeline, outputs)
    assert message["type"] == "request" and message["url"] == "http://h/x" and message["body"] == post.body


def test_an_inline_answer_is_refused() -> None:
    with pytest.raises(TicklessError, match="httpPost's codeField is not supported"):
        _runtime("stream|from()|httpPost('http://h').codeField('code')")


def test_a_named_endpoint_goes_out_by_name() -> None:
    runtime = _runtime("stream|from()|httpPost().endpoint('conf').header('X-A', 'b')")
    outputs = runtime.feed_points([Point("cpu", 2 * SECOND, {"v": 1.5}, {"host": "a"})])
    [message] = outbox_of(runtime.pipeline, outputs)
    assert (message["url"], message["endpoint"], message["headers"]) == ("", "conf", {"X-A": "b"})
