"""StackTach's reads on the real store, in pages as small as three items: queries on an indexed trait
(instance_id, request_id, tenant_id) or an event name read their index, time windows start and stop
where the events are, and either way the answers are exactly what filtering every event would give,
through marks in both directions and counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

BASE = datetime.now(UTC) - timedelta(minutes=40)
if BASE.date() != (BASE + timedelta(minutes=30)).date():
    BASE = (BASE + timedelta(minutes=30)).replace(hour=0, minute=0, second=0, microsecond=0)
TYPES = ("compute.instance.update", "compute.instance.power_off.end")


@pytest.fixture(scope="module")
def world(aws):
    """Fifteen events: three instances of two tenants, two types, a minute apart."""
    from chalicelib import compose

    tenants = [f"tenant-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    instances = [str(uuid.uuid4()) for _ in range(3)]
    tag = f"web-{uuid.uuid4().hex[:8]}"
    sent = []
    for i in range(15):
        when = BASE + timedelta(minutes=i)
        sent.append(
            {
                "message_id": str(uuid.uuid4()),
                "event_type": TYPES[i % 2],
                "timestamp": when.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "_context_request_id": f"req-{i % 4}-{tenants[0]}",
                "payload": {
                    "instance_id": instances[i % 3],
                    "tenant_id": tenants[i % 3 == 2],
                    "memory_mb": 512 if i % 5 else 1024,
                    "display_name": tag,
                },
            }
        )
    result = compose.stacktach().ingest(sent)
    assert result.stored == 15
    return {"sent": sent, "instances": instances, "tenants": tenants, "tag": tag}


@pytest.fixture
def small_pages(monkeypatch):
    from chalicelib.stacktach import service

    monkeypatch.setattr(service, "_PAGE", 3)


def _ids(answer: list[dict]) -> list[str]:
    return [e["message_id"] for e in answer]


def _expected(world, keep, newest_first: bool = True) -> list[str]:
    chosen = [n["message_id"] for n in world["sent"] if keep(n)]
    return list(reversed(chosen)) if newest_first else chosen


def _when(n: dict) -> datetime:
    return datetime.fromisoformat(n["timestamp"]).replace(tzinfo=UTC)


def _all_pages(client, query: str, limit: int, ascending: bool = False) -> list[str]:
    """Every page of a query, following `_mark` (with `+` oldest first)."""
    seen: list[str] = []
    mark = "+" if ascending else None
    for _ in range(20):
        suffix = f"&mark={mark.replace('+', '%2B')}" if mark else ""
        answer = client.http.get(f"/v1/events?{query}&limit={limit}{suffix}")
        assert answer.status_code == 200, answer.body
        page = answer.json_body
        if not page:
            return seen
        seen += _ids(page)
        mark = page[-1]["_mark"]
    raise AssertionError("paging did not end")


@pytest.mark.usefixtures("small_pages")
@pytest.mark.parametrize("ascending", [False, True])
def test_indexed_trait_queries_page_exactly_like_a_full_filter(client, world, ascending) -> None:
    instance, tenant = world["instances"][1], world["tenants"][0]
    cases = {
        f"traits=instance_id:{instance}": lambda n: n["payload"]["instance_id"] == instance,
        f"traits=tenant_id:{tenant}": lambda n: n["payload"]["tenant_id"] == tenant,
        f"traits=tenant_id:{tenant};instance_id:{instance}": lambda n: (
            n["payload"]["tenant_id"] == tenant and n["payload"]["instance_id"] == instance
        ),
        f"event_name={TYPES[1]}&traits=request_id:req-1-{tenant}": lambda n: (
            n["event_type"] == TYPES[1] and n["_context_request_id"] == f"req-1-{tenant}"
        ),
        # not indexed: every event is read, with the same answer
        f"traits=memory_mb:1024;tenant_id:{tenant}": lambda n: (
            n["payload"]["memory_mb"] == 1024 and n["payload"]["tenant_id"] == tenant
        ),
    }
    for query, keep in cases.items():
        expected = _expected(world, keep, newest_first=not ascending)
        assert expected, query
        assert _all_pages(client, query, 2, ascending) == expected, query
        count = client.http.get(f"/v1/events/count?{query}").json_body
        assert count == [{"count": len(expected)}], query


@pytest.mark.usefixtures("small_pages")
def test_an_event_name_query_reads_its_index(client, world) -> None:
    tenant = world["tenants"][1]
    query = f"event_name={TYPES[0]}&traits=tenant_id:{tenant}"
    expected = _expected(world, lambda n: n["event_type"] == TYPES[0] and n["payload"]["tenant_id"] == tenant)
    assert _all_pages(client, query, 1) == expected


@pytest.mark.usefixtures("small_pages")
@pytest.mark.parametrize("ascending", [False, True])
def test_time_windows_start_and_stop_where_their_events_are(client, world, ascending) -> None:
    start, end = BASE + timedelta(minutes=3), BASE + timedelta(minutes=11)
    fmt = "%Y-%m-%dT%H:%M:%S.%f"
    window = f"from_datetime={start.strftime(fmt)}&to_datetime={end.strftime(fmt)}"
    instance = world["instances"][0]
    cases = {  # display_name is not indexed: these read every event, from the window's start to its end
        f"{window}&traits=display_name:{world['tag']}": lambda n: start < _when(n) <= end,
        f"{window}&traits=instance_id:{instance}": lambda n: (
            start < _when(n) <= end and n["payload"]["instance_id"] == instance
        ),
    }
    for query, keep in cases.items():
        expected = _expected(world, keep, newest_first=not ascending)
        assert _all_pages(client, query, 2, ascending) == expected, query
    # the bounds themselves: from excludes, to includes
    assert [_when(n) for n in world["sent"]].count(start) == 1
    # one request, more items than a page: the reads go on to the window's end and no further
    answer = client.http.get(f"/v1/events?{window}&traits=display_name:{world['tag']}&limit=100")
    assert _ids(answer.json_body) == _expected(world, cases[f"{window}&traits=display_name:{world['tag']}"])
    upward = client.http.get(f"/v1/events?{window}&traits=display_name:{world['tag']}&limit=100&mark=%2B")
    everything = _ids(upward.json_body)
    assert world["sent"][3]["message_id"] not in everything and world["sent"][11]["message_id"] in everything
    assert len(everything) == 8


@pytest.mark.usefixtures("small_pages")
def test_streams_by_a_distinguishing_trait_read_their_index(client, world) -> None:
    instance = world["instances"][2]
    answer = client.http.get(f"/v1/streams?distinguishing_traits=instance_id:{instance}")
    [stream] = answer.json_body
    assert stream["distinguishing_traits"]["instance_id"] == instance
    assert client.http.get(f"/v1/streams/count?distinguishing_traits=instance_id:{instance}").json_body == [
        {"count": 1}
    ]
    assert client.http.delete(f"/v1/streams/{stream['id']}").status_code == 204
    assert client.http.get(f"/v1/streams?distinguishing_traits=instance_id:{instance}").json_body == []
