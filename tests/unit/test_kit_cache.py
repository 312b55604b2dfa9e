"""The in-process cache of the series store and the field type guard: expiry, bound, and safety under
the concurrent invocations one local stack process serves."""

from __future__ import annotations

import sys
import threading

from chalicelib.kit.cache import TimedCache
from tests.unit.clock import Clock


def test_entries_expire_after_the_ttl():
    clock = Clock(0.0)
    cache: TimedCache[str, int] = TimedCache(10, 100, clock)
    cache.put("a", 1)
    clock.now = 9.9
    assert cache.get("a") == 1
    clock.now = 10.0
    assert cache.get("a") is None
    assert len(cache) == 0


def test_the_least_recently_stored_go_beyond_the_bound():
    cache: TimedCache[int, int] = TimedCache(60, 3)
    for n in range(5):
        cache.put(n, n)
    assert [cache.get(n) for n in range(5)] == [None, None, 2, 3, 4]


def test_forget_drops_matching_keys():
    cache: TimedCache[tuple[str, str], bool] = TimedCache(60, 100)
    for key in [("ns1", "a"), ("ns1", "b"), ("ns2", "a")]:
        cache.put(key, True)
    cache.forget(lambda key: key[0] == "ns1")
    assert (cache.get(("ns1", "a")), cache.get(("ns2", "a"))) == (None, True)


def test_concurrent_puts_gets_and_forgets_never_fail():
    """Unlocked, the same hammering raises `dictionary changed size during iteration` or a KeyError."""
    cache: TimedCache[tuple[int, int], int] = TimedCache(60, 500)
    errors: list[BaseException] = []

    def hammer(worker: int) -> None:
        try:
            for n in range(5_000):
                cache.put((worker, n), n)
                cache.get((worker, n - 1))
                if n % 50 == 0:
                    cache.forget(lambda key, w=worker: key[0] == w)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(w,)) for w in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so unsafe interleavings happen in every run
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert len(cache) <= 500
