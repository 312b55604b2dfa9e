"""The metadata read cache: fresh answers from memory, writes through it empty it, copies protect it."""

from __future__ import annotations

import copy

from chalicelib.adapters.readcache import ReadCache
from tests.unit.clock import Clock


class Repository:
    def __init__(self) -> None:
        self.docs: dict[str, dict] = {"a": {"name": "first", "tags": ["x"]}}
        self.reads = 0

    def get(self, id: str) -> dict | None:
        self.reads += 1
        return copy.deepcopy(self.docs.get(id))

    def save(self, id: str, doc: dict) -> None:
        self.docs[id] = doc


def test_fresh_answers_come_from_memory_until_the_ttl_passes():
    repo, clock = Repository(), Clock()
    cache = ReadCache(repo, ("get",), ttl=2.0, clock=clock)
    assert cache.get("a") == {"name": "first", "tags": ["x"]}
    assert cache.get("a") == {"name": "first", "tags": ["x"]}
    assert repo.reads == 1
    repo.docs["a"] = {"name": "changed elsewhere"}  # another container's write
    clock.now += 1.9
    assert cache.get("a")["name"] == "first"
    clock.now += 0.2
    assert cache.get("a")["name"] == "changed elsewhere"
    assert repo.reads == 2


def test_a_write_through_the_cache_is_seen_at_once():
    repo = Repository()
    cache = ReadCache(repo, ("get",), ttl=60.0)
    assert cache.get("b") is None  # absent answers are kept too
    cache.save("b", {"name": "new"})
    assert cache.get("b") == {"name": "new"}


def test_callers_get_copies():
    cache = ReadCache(Repository(), ("get",), ttl=60.0)
    cache.get("a")["tags"].append("edited")
    assert cache.get("a")["tags"] == ["x"]


def test_arguments_are_part_of_the_key_and_ttl_zero_turns_it_off():
    repo = Repository()
    cache = ReadCache(repo, ("get",), ttl=0)
    cache.get("a")
    cache.get("a")
    assert repo.reads == 2
    cached = ReadCache(repo, ("get",), ttl=60.0)
    cached.get("a")
    cached.get(id="a")
    cached.get("z")
    assert repo.reads == 5


def test_a_read_overlapping_a_write_is_not_kept():
    repo = Repository()
    cache = ReadCache(repo, ("get",), ttl=60.0)
    original_get = repo.get

    def racing_get(id):
        answer = original_get(id)  # the old document, read before the write lands
        cache.save(id, {"name": "written meanwhile"})
        return answer

    repo.get = racing_get
    assert cache.get("a")["name"] == "first"
    repo.get = original_get
    assert cache.get("a")["name"] == "written meanwhile"
