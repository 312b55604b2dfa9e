"""Kapacitor's recordings and replays as data (services/replay/service.go, client/v1/client.go): the JSON
they show, the list endpoint's filters and errors, and the create bodies decoded as Go's json.Decoder
reads them into the client's option structs, with Kapacitor's messages."""

from __future__ import annotations

import json
import uuid

import pytest

from chalicelib.kapacitor.recordings import (
    VALID_ID,
    CreateReplay,
    RecordBatch,
    Recording,
    RecordQuery,
    RecordStream,
    Replay,
    ReplayBatch,
    ReplayQuery,
    list_json,
    new_id,
    parse_create_replay,
    parse_record_batch,
    parse_record_query,
    parse_record_stream,
    parse_replay_batch,
    parse_replay_query,
)
from chalicelib.kit.errors import TicklessError
from chalicelib.kit.gotime import parse_rfc3339
from chalicelib.tick.exec.model import GO_ZERO_TIME

T0 = parse_rfc3339("2006-01-02T15:04:05Z")
NOW = parse_rfc3339("2024-05-06T07:08:09.5Z")


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def message(call, *args) -> str:
    with pytest.raises(TicklessError) as caught:
        call(*args)
    assert caught.value.status == 400
    return caught.value.message


# --- ids ---------------------------------------------------------------------------------------------


def test_new_id_is_a_uuid4() -> None:
    assert uuid.UUID(new_id()).version == 4
    assert new_id() != new_id()


@pytest.mark.parametrize("id", ["abc", "a-b.c_d", "0123", "Ünïcødé", "日本", "x.srpl"])
def test_valid_ids(id: str) -> None:
    assert VALID_ID.fullmatch(id)


@pytest.mark.parametrize("id", ["", "x y", "a/b", "a\n", "a+b", "²", "a\u0301"])
def test_invalid_ids(id: str) -> None:
    # Go's \p{L} is letters only: no spaces, slashes, signs, other numbers or combining marks.
    assert not VALID_ID.fullmatch(id)
    assert str(VALID_ID) == r"^[-\._\p{L}0-9]+$"


# --- JSON --------------------------------------------------------------------------------------------


def test_recording_json_shape() -> None:
    recording = Recording("rec1", "stream", "running", T0 + 5)
    assert recording.to_json() == {
        "link": {"rel": "self", "href": "/kapacitor/v1/recordings/rec1"},
        "id": "rec1",
        "type": "stream",
        "size": 0,
        "date": "2006-01-02T15:04:05.000000005Z",
        "error": "",
        "status": "running",
        "progress": 0,
    }
    assert list(recording.to_json()) == ["link", "id", "type", "size", "date", "error", "status", "progress"]
    done = Recording("rec1", "batch", "failed", T0, size=42, error="boom", progress=1.0)
    shown = done.to_json()
    assert (shown["date"], shown["progress"], shown["size"], shown["error"]) == (
        "2006-01-02T15:04:05Z",
        1,
        42,
        "boom",
    )
    assert isinstance(shown["progress"], int)  # Go writes float64 1 as `1`
    assert Recording("r", "stream", "running", T0, progress=0.75).to_json()["progress"] == 0.75


def test_recording_doc_round_trip() -> None:
    recording = Recording("rec1", "batch", "finished", T0, size=9, error="", progress=1.0, task="t")
    doc = recording.to_doc()
    assert json.loads(json.dumps(doc)) == doc
    assert Recording.from_doc(doc) == recording
    assert Recording.from_doc({**doc, "status": "failed", "error": "x"}).status == "failed"


def test_replay_json_shape_running() -> None:
    replay = Replay(
        "r1", "task1", "rec1", False, "fast", "running", T0, stats={"task-stats": {"throughput": 1}}
    )
    assert replay.to_json() == {
        "link": {"rel": "self", "href": "/kapacitor/v1/replays/r1"},
        "id": "r1",
        "task": "task1",
        "recording": "rec1",
        "recording-time": False,
        "clock": "fast",
        "date": "2006-01-02T15:04:05Z",
        "error": "",
        "status": "running",
        "progress": 0,
        "stats": {},  # convertReplay copies stats only once finished
    }


def test_replay_json_stats_when_finished() -> None:
    stats = {"task-stats": {"throughput": 0}, "node-stats": {"stream0": {"collected": 8, "emitted": 8}}}
    replay = Replay("r1", "t", "", True, "real", "finished", T0, progress=1.0, stats=stats)
    shown = replay.to_json()
    assert shown["stats"] == stats
    assert (shown["recording-time"], shown["clock"], shown["recording"]) == (True, "real", "")
    # ExecutionStats' maps are `omitempty`
    empty = Replay("r1", "t", "", True, "real", "finished", T0, stats={"task-stats": {}, "node-stats": {}})
    assert empty.to_json()["stats"] == {}
    partial = Replay("r1", "t", "", True, "real", "finished", T0, stats={"task-stats": {"throughput": 2.5}})
    assert partial.to_json()["stats"] == {"task-stats": {"throughput": 2.5}}
    failed = Replay("r1", "t", "", True, "real", "failed", T0, error="e", stats=stats)
    assert failed.to_json()["stats"] == {}


def test_replay_doc_round_trip() -> None:
    replay = Replay(
        "r1", "t", "rec", True, "real", "finished", T0, "", 1.0, {"task-stats": {"throughput": 1.0}}
    )
    doc = replay.to_doc()
    assert json.loads(json.dumps(doc)) == doc
    assert Replay.from_doc(doc) == replay
    assert Replay.from_doc({**doc, "progress": 0.5}).progress == 0.5


# --- lists -------------------------------------------------------------------------------------------


def recordings() -> list[Recording]:
    return [
        Recording("b", "stream", "finished", T0 + 10 * 1_000_000_000),
        Recording("a", "batch", "running", T0),
        Recording("c", "stream", "failed", T0 + 500_000_000, error="x"),  # same second as "a"
        Recording("z/1", "batch", "finished", T0 - 1),
    ]


def ids(answer: dict, kind: str = "recordings") -> list[str]:
    return [item["id"] for item in answer[kind]]


def test_list_is_newest_first_then_id_descending_within_a_second() -> None:
    # the date index holds `<RFC 3339 date to the second>/<id>`, listed backwards
    assert ids(list_json("recordings", recordings(), {})) == ["b", "c", "a", "z/1"]


def test_list_all_fields_by_default_in_go_map_order() -> None:
    answer = list_json("recordings", [Recording("a", "batch", "running", T0)], {})
    assert answer == {
        "recordings": [
            {
                "date": "2006-01-02T15:04:05Z",
                "error": "",
                "id": "a",
                "link": {"rel": "self", "href": "/kapacitor/v1/recordings/a"},
                "progress": 0,
                "size": 0,
                "status": "running",
                "type": "batch",
            }
        ]
    }
    assert list(answer["recordings"][0]) == sorted(answer["recordings"][0])


def test_list_fields_add_id_and_link() -> None:
    answer = list_json("recordings", recordings(), {"fields": ["status", "size"]})
    assert answer["recordings"][0] == {
        "id": "b",
        "link": {"rel": "self", "href": "/kapacitor/v1/recordings/b"},
        "size": 0,
        "status": "finished",
    }
    answer = list_json("recordings", recordings(), {"fields": "error"})  # a single value as a string
    assert set(answer["recordings"][0]) == {"id", "link", "error"}


def test_list_pattern_offset_limit() -> None:
    items = recordings()
    assert ids(list_json("recordings", items, {"pattern": ["[ab]"]})) == ["b", "a"]
    assert ids(list_json("recordings", items, {"pattern": "z/*"})) == ["z/1"]
    assert ids(list_json("recordings", items, {"pattern": "*"})) == ["b", "c", "a"]  # * stops at /
    assert ids(list_json("recordings", items, {"offset": "1", "limit": "2"})) == ["c", "a"]
    assert ids(list_json("recordings", items, {"offset": "1", "pattern": "[abc]"})) == ["c", "a"]
    assert ids(list_json("recordings", items, {"limit": "0"})) == []
    assert ids(list_json("recordings", items, {"offset": "9"})) == []
    assert ids(list_json("recordings", items, {"offset": "", "limit": ""})) == ["b", "c", "a", "z/1"]


def test_list_limit_default_is_100() -> None:
    many = [Recording(f"r{i:03d}", "stream", "finished", T0) for i in range(150)]
    assert len(list_json("recordings", many, {})["recordings"]) == 100


def test_list_negative_limit_lists_everything_unfiltered() -> None:
    # IndexedStore.list skips DoListFunc, and with it the pattern, for a negative limit
    assert ids(list_json("recordings", recordings(), {"limit": "-1", "pattern": "a"})) == [
        "b",
        "c",
        "a",
        "z/1",
    ]


def test_list_negative_offset_starts_at_the_top() -> None:
    assert ids(list_json("recordings", recordings(), {"offset": "-5", "limit": "2"})) == ["b", "c"]


def test_list_malformed_pattern_matches_nothing() -> None:
    assert list_json("recordings", recordings(), {"pattern": "[a"}) == {"recordings": []}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"offset": "x"},
            'invalid offset parameter "x" must be an integer: strconv.ParseInt: parsing "x": invalid syntax',
        ),
        (
            {"limit": "1.5"},
            'invalid limit parameter "1.5" must be an integer: '
            'strconv.ParseInt: parsing "1.5": invalid syntax',
        ),
        (
            {"limit": "99999999999999999999"},
            'invalid limit parameter "99999999999999999999" must be an integer: '
            'strconv.ParseInt: parsing "99999999999999999999": value out of range',
        ),
        ({"fields": ["nope"]}, 'unsupported field "nope"'),
        ({"fields": [""]}, 'unsupported field ""'),
    ],
)
def test_list_errors(params: dict, expected: str) -> None:
    assert message(list_json, "recordings", recordings(), params) == expected


def test_list_unknown_field_only_fails_with_items() -> None:
    assert list_json("recordings", [], {"fields": ["nope"]}) == {"recordings": []}


def test_list_replays() -> None:
    replays = [
        Replay(
            "r2", "t", "rec", True, "real", "finished", T0 + 1_000_000_000, stats={"task-stats": {"x": 1}}
        ),
        Replay("r1", "t", "", False, "fast", "running", T0),
    ]
    answer = list_json("replays", replays, {})
    assert ids(answer, "replays") == ["r2", "r1"]
    assert answer["replays"][0] == {
        "clock": "real",
        "date": "2006-01-02T15:04:06Z",
        "error": "",
        "id": "r2",
        "link": {"rel": "self", "href": "/kapacitor/v1/replays/r2"},
        "progress": 0,
        "recording": "rec",
        "recording-time": True,
        "status": "finished",
        "task": "t",
    }
    assert message(list_json, "replays", replays, {"fields": ["stats"]}) == 'unsupported field "stats"'
    assert list_json("replays", replays, {"fields": ["clock"], "limit": "1"}) == {
        "replays": [
            {"clock": "real", "id": "r2", "link": {"rel": "self", "href": "/kapacitor/v1/replays/r2"}}
        ]
    }


# --- record options ----------------------------------------------------------------------------------


def test_record_stream_defaults() -> None:
    options = parse_record_stream(b'{"task": "cpu"}')
    assert isinstance(options, RecordStream)
    assert uuid.UUID(options.id).version == 4
    assert (options.task, options.stop) == ("cpu", GO_ZERO_TIME)


def test_record_stream_fields() -> None:
    options = parse_record_stream(body(id="my.rec", task="cpu", stop="2006-01-02T15:04:05+01:00"))
    assert options == RecordStream("my.rec", "cpu", T0 - 3600 * 1_000_000_000)
    # keys match without regard to case; unknown keys and trailing data are ignored; null leaves a field
    options = parse_record_stream(b'{"ID": "x", "Task": "t", "other": 1, "stop": null} trailing')
    assert options == RecordStream("x", "t", GO_ZERO_TIME)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "EOF"),
        (b"{", "unexpected EOF"),
        (b"{x}", "invalid character 'x' looking for beginning of object key string"),
        (b"[]", "json: cannot unmarshal array into Go value of type client.RecordStreamOptions"),
        (b'"s"', "json: cannot unmarshal string into Go value of type client.RecordStreamOptions"),
        (
            b'{"id": 5}',
            "json: cannot unmarshal number into Go struct field RecordStreamOptions.id of type string",
        ),
        (
            b'{"task": {"a": 1}}',
            "json: cannot unmarshal object into Go struct field RecordStreamOptions.task of type string",
        ),
        (b'{"stop": 5}', "Time.UnmarshalJSON: input is not a JSON string"),
        (
            b'{"stop": "yesterday"}',
            'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"',
        ),
        (b'{"stop": "2006-02-30T00:00:00Z"}', 'parsing time "2006-02-30T00:00:00Z": day out of range'),
        (
            b'{"id": "x y"}',
            "recording ID must contain only letters, numbers, '-', '.' and '_'. \"x y\"",
        ),
        # a time error stops the decoder at once, before a type error seen earlier is reported
        (
            b'{"id": 5, "stop": "x"}',
            'parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"',
        ),
        # a type error is reported after the whole value is read, the first one
        (
            b'{"id": 5, "task": true}',
            "json: cannot unmarshal number into Go struct field RecordStreamOptions.id of type string",
        ),
    ],
)
def test_record_stream_errors(raw: bytes, expected: str) -> None:
    assert message(parse_record_stream, raw) == expected


def test_record_stream_null_body_is_all_defaults() -> None:
    assert parse_record_stream(b"null").stop == GO_ZERO_TIME


def test_record_batch() -> None:
    options = parse_record_batch(body(task="t", start="2006-01-02T15:04:05Z"), NOW)
    assert isinstance(options, RecordBatch)
    assert (options.task, options.start, options.stop, options.cluster) == ("t", T0, NOW, "")
    options = parse_record_batch(
        body(id="b", start="2006-01-02T15:04:05Z", stop="2006-01-02T16:04:05.5Z"), NOW
    )
    assert (options.id, options.stop) == ("b", T0 + 3600 * 1_000_000_000 + 500_000_000)


def test_record_batch_errors() -> None:
    assert message(parse_record_batch, body(task="t"), NOW) == "must provide start time"
    assert message(parse_record_batch, body(start="0001-01-01T00:00:00Z"), NOW) == "must provide start time"
    assert (
        message(parse_record_batch, body(id="a b", task="t"), NOW)
        == "recording ID must contain only letters, numbers, '-', '.' and '_'. \"a b\""
    )
    assert (
        message(parse_record_batch, body(start="2006-13-01T00:00:00Z"), NOW)
        == 'parsing time "2006-13-01T00:00:00Z": month out of range'
    )


def test_record_query() -> None:
    options = parse_record_query(body(query="SELECT * FROM db.rp.cpu", type="batch", cluster="c"))
    assert isinstance(options, RecordQuery)
    assert (options.query, options.type, options.cluster) == ("SELECT * FROM db.rp.cpu", "batch", "c")
    assert parse_record_query(body(id="q", query="x", type="stream")) == RecordQuery("q", "x", "stream", "")


def test_record_query_errors() -> None:
    assert message(parse_record_query, body(type="stream")) == "must provide query"
    assert message(parse_record_query, body(query="x", type="table")) == "unknown TaskType table"
    assert (
        message(parse_record_query, body(query="x", type=1))
        == "json: cannot unmarshal number into Go struct field RecordQueryOptions.type "
        "of type client.TaskType"
    )
    # Kapacitor accepts these and leaves the recording running for ever: refused here
    assert (
        message(parse_record_query, body(query="x")) == "recording type must be stream or batch, got invalid"
    )
    assert message(parse_record_query, body(query="x", type="invalid")).endswith("got invalid")
    # the id is checked before the query
    assert message(parse_record_query, body(id="a/b")).startswith("recording ID must contain only letters")


# --- replay options ----------------------------------------------------------------------------------


def test_create_replay_defaults() -> None:
    options = parse_create_replay(body(task="t", recording="rec"))
    assert isinstance(options, CreateReplay)
    assert uuid.UUID(options.id).version == 4
    assert (options.task, options.recording, options.recording_time, options.clock) == (
        "t",
        "rec",
        False,
        "fast",
    )


def test_create_replay_fields() -> None:
    raw = body(id="r", task="t", recording="rec", clock="real", **{"recording-time": True})
    assert parse_create_replay(raw) == CreateReplay("r", "t", "rec", True, "real")
    assert parse_create_replay(b'{"clock": null}').clock == "fast"


def test_create_replay_errors() -> None:
    assert message(parse_create_replay, body(clock="slow")) == "unknown Clock slow"
    assert (
        message(parse_create_replay, body(clock=1))
        == "json: cannot unmarshal number into Go struct field CreateReplayOptions.clock of type client.Clock"
    )
    assert (
        message(parse_create_replay, body(**{"recording-time": "yes"}))
        == "json: cannot unmarshal string into Go struct field CreateReplayOptions.recording-time "
        "of type bool"
    )
    assert (
        message(parse_create_replay, body(id="x y"))
        == "replay ID must contain only letters, numbers, '-', '.' and '_'. \"x y\""
    )


def test_replay_batch() -> None:
    options = parse_replay_batch(body(task="t", start="2006-01-02T15:04:05Z", clock="real"), NOW)
    assert isinstance(options, ReplayBatch)
    assert (options.start, options.stop, options.clock, options.recording_time) == (T0, NOW, "real", False)
    # Kapacitor does not require a start here: Go's zero time
    options = parse_replay_batch(body(task="t"), NOW)
    assert (options.start, options.stop, options.clock) == (GO_ZERO_TIME, NOW, "fast")
    options = parse_replay_batch(body(start="2006-01-02T15:04:05Z", stop="2006-01-02T15:04:06Z"), NOW)
    assert options.stop == T0 + 1_000_000_000


def test_replay_batch_errors() -> None:
    assert (
        message(parse_replay_batch, body(id="x y"), NOW) == 'replay ID must match ^[-\\._\\p{L}0-9]+$ "x y"'
    )
    assert message(parse_replay_batch, body(clock="x"), NOW) == "unknown Clock x"
    assert (
        message(parse_replay_batch, body(start=[]), NOW) == "Time.UnmarshalJSON: input is not a JSON string"
    )


def test_replay_query() -> None:
    raw = body(task="t", query="SELECT 1", cluster="c", clock="real", **{"recording-time": True})
    options = parse_replay_query(raw)
    assert isinstance(options, ReplayQuery)
    assert (options.task, options.query, options.cluster, options.recording_time, options.clock) == (
        "t",
        "SELECT 1",
        "c",
        True,
        "real",
    )
    assert parse_replay_query(body(query="q")).clock == "fast"


def test_replay_query_errors() -> None:
    # Kapacitor's wording says "recording" for this replay's id
    assert (
        message(parse_replay_query, body(id="x y", query="q"))
        == 'recording ID must match ^[-\\._\\p{L}0-9]+$ "x y"'
    )
    assert message(parse_replay_query, body(task="t")) == "must provide query"
    assert (
        message(parse_replay_query, body(query=["q"]))
        == "json: cannot unmarshal array into Go struct field ReplayQueryOptions.query of type string"
    )
