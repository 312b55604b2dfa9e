"""`/kapacitor/v1/alerts/topics`: alert topics, their events and their handlers (chalicelib/alert/service.py),
under both of Kapacitor's prefixes, scoped to the caller's organization like tasks."""

from __future__ import annotations

from urllib.parse import quote

from chalice import Response

from chalicelib import compose
from chalicelib.alert.levels import parse_level
from chalicelib.alert.topics import event_json, events_json, list_topics_json, topic_json
from chalicelib.api.kapacitor.auth import task_manager
from chalicelib.api.kapacitor.blueprint import VERSION_HEADERS, kapacitor, route
from chalicelib.api.kit import body, json_response

TOPICS = "/alerts/topics"
TOPIC = TOPICS + "/{topic}"


def _org(action: str) -> str:
    return task_manager(kapacitor.current_request, action).org_id  # type: ignore[return-value]


def _query(name: str) -> str:
    return (kapacitor.current_request.query_params or {}).get(name, "")


def _prefix() -> str:
    path = kapacitor.current_request.context.get("resourcePath", "")
    return "/kapacitor/v1preview" if path.startswith("/kapacitor/v1preview") else "/kapacitor/v1"


def _self_href(path: str) -> str:
    """The request URL as Kapacitor echoes it (r.URL.String()): the path and the query as sent, each value
    escaped as Go's url.QueryEscape does."""
    query = kapacitor.current_request.query_params
    if not query:
        return _prefix() + path
    pairs = [f"{_escape(k)}={_escape(v)}" for k in query for v in query.getlist(k)]
    return f"{_prefix()}{path}?{'&'.join(pairs)}"


def _escape(text: str) -> str:
    return quote(text, safe="", encoding="utf-8").replace("%20", "+")


def _answer(payload: object) -> Response:
    return json_response(payload, headers=VERSION_HEADERS)


def _no_content() -> Response:
    return Response(body="", status_code=204, headers=VERSION_HEADERS)


def _body() -> bytes:
    return body(kapacitor.current_request)


@route(TOPICS, methods=["GET"], name="list_topics")
def list_topics() -> Response:
    topics = compose.alert_service().topics(_org("read"))
    return _answer(list_topics_json(topics, _query("pattern"), _query("min-level"), _self_href(TOPICS)))


@route(TOPIC, methods=["GET"], name="get_topic")
def get_topic(topic: str) -> Response:
    return _answer(topic_json(compose.alert_service().topic(_org("read"), topic)))


@route(TOPIC, methods=["DELETE"], name="delete_topic")
def delete_topic(topic: str) -> Response:
    compose.alert_service().delete_topic(_org("write"), topic)
    return _no_content()


@route(TOPIC + "/events", methods=["GET"], name="list_topic_events")
def list_topic_events(topic: str) -> Response:
    org = _org("read")
    min_level = _query("min-level")
    parse_level(min_level)  # a bad level is answered before an unknown topic
    return _answer(events_json(compose.alert_service().topic_events(org, topic), min_level))


@route(TOPIC + "/events/{event}", methods=["GET"], name="get_topic_event")
def get_topic_event(topic: str, event: str) -> Response:
    state = compose.alert_service().event(_org("read"), topic, event)
    return _answer(event_json(topic, state))


@route(TOPIC + "/handlers", methods=["GET"], name="list_topic_handlers")
def list_topic_handlers(topic: str) -> Response:
    specs = compose.alert_service().handlers(_org("read"), topic, _query("pattern"))
    href = _self_href(f"{TOPICS}/{topic}/handlers")
    handlers = [spec.to_json() for spec in specs]
    return _answer({"link": {"rel": "self", "href": href}, "topic": topic, "handlers": handlers})


@route(TOPIC + "/handlers", methods=["POST"], name="create_topic_handler")
def create_topic_handler(topic: str) -> Response:
    org = _org("write")
    return _answer(compose.alert_service().create_handler(org, topic, _body()).to_json())


@route(TOPIC + "/handlers/{handler}", methods=["GET"], name="get_topic_handler")
def get_topic_handler(topic: str, handler: str) -> Response:
    return _answer(compose.alert_service().handler(_org("read"), topic, handler).to_json())


@route(TOPIC + "/handlers/{handler}", methods=["PUT"], name="replace_topic_handler")
def replace_topic_handler(topic: str, handler: str) -> Response:
    org = _org("write")
    return _answer(compose.alert_service().replace_handler(org, topic, handler, _body()).to_json())


@route(TOPIC + "/handlers/{handler}", methods=["PATCH"], name="patch_topic_handler")
def patch_topic_handler(topic: str, handler: str) -> Response:
    org = _org("write")
    return _answer(compose.alert_service().patch_handler(org, topic, handler, _body()).to_json())


@route(TOPIC + "/handlers/{handler}", methods=["DELETE"], name="delete_topic_handler")
def delete_topic_handler(topic: str, handler: str) -> Response:
    compose.alert_service().delete_handler(_org("write"), topic, handler)
    return _no_content()
