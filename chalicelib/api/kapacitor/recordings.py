"""`/kapacitor/v1/recordings` and `/kapacitor/v1/replays`: Kapacitor's recordings and replays, each a Step
Functions execution (chalicelib/kapacitor/recorder.py, replayer.py). Creating answers 201 at once; a
recording or replay under way answers 202, a finished or failed one 200."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib import compose
from chalicelib.api.kapacitor.auth import task_manager
from chalicelib.api.kapacitor.blueprint import VERSION_HEADERS, kapacitor, list_query, route
from chalicelib.api.kit import body, json_response


def _org(action: str) -> str:
    return task_manager(kapacitor.current_request, action).org_id  # type: ignore[return-value]


def _body() -> bytes:
    return body(kapacitor.current_request)


def _answer(payload: Any, status: int = 200) -> Response:
    return json_response(payload, status=status, headers=VERSION_HEADERS)


def _shown(item: Any) -> Response:
    return _answer(item.to_json(), 202 if item.status == "running" else 200)


# -- recordings -------------------------------------------------------------------------------------------


@route("/recordings", methods=["GET"], name="list_recordings")
def list_recordings() -> Response:
    return _answer(compose.recordings().list(_org("read"), list_query()))


@route("/recordings/stream", methods=["POST"], name="record_stream")
def record_stream() -> Response:
    org = _org("write")
    return _answer(compose.recordings().record_stream(org, _body()).to_json(), 201)


@route("/recordings/batch", methods=["POST"], name="record_batch")
def record_batch() -> Response:
    org = _org("write")
    return _answer(compose.recordings().record_batch(org, _body()).to_json(), 201)


@route("/recordings/query", methods=["POST"], name="record_query")
def record_query() -> Response:
    org = _org("write")
    return _answer(compose.recordings().record_query(org, _body()).to_json(), 201)


@route("/recordings/{recording_id}", methods=["GET"], name="get_recording")
def get_recording(recording_id: str) -> Response:
    return _shown(compose.recordings().get(_org("read"), recording_id))


@route("/recordings/{recording_id}", methods=["DELETE"], name="delete_recording")
def delete_recording(recording_id: str) -> Response:
    compose.recordings().delete(_org("write"), recording_id)
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


# -- replays ----------------------------------------------------------------------------------------------


@route("/replays", methods=["GET"], name="list_replays")
def list_replays() -> Response:
    return _answer(compose.replays().list(_org("read"), list_query()))


@route("/replays", methods=["POST"], name="create_replay")
def create_replay() -> Response:
    org = _org("write")
    return _answer(compose.replays().create(org, _body()).to_json(), 201)


@route("/replays/batch", methods=["POST"], name="replay_batch")
def replay_batch() -> Response:
    org = _org("write")
    return _answer(compose.replays().create_batch(org, _body()).to_json(), 201)


@route("/replays/query", methods=["POST"], name="replay_query")
def replay_query() -> Response:
    org = _org("write")
    return _answer(compose.replays().create_query(org, _body()).to_json(), 201)


@route("/replays/{replay_id}", methods=["GET"], name="get_replay")
def get_replay(replay_id: str) -> Response:
    return _shown(compose.replays().get(_org("read"), replay_id))


@route("/replays/{replay_id}", methods=["DELETE"], name="delete_replay")
def delete_replay(replay_id: str) -> Response:
    compose.replays().delete(_org("write"), replay_id)
    return Response(body="", status_code=204, headers=VERSION_HEADERS)
