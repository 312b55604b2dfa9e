"""The garbage collector pause: nested and concurrent pauses resume it exactly once, when the last
one ends, and never enable a collector that was disabled before."""

from __future__ import annotations

import gc
import threading

import pytest

from chalicelib.kit import collector


@pytest.fixture(autouse=True)
def restore_gc():
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_nested_pauses_resume_once_the_outer_one_ends():
    gc.enable()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


def test_an_exception_still_resumes_it():
    gc.enable()
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_overlapping_threads_leave_it_enabled():
    gc.enable()
    inside = threading.Barrier(8)
    seen = []

    def work():
        with collector.paused():
            inside.wait(5)
            seen.append(gc.isenabled())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [False] * 8
    assert gc.isenabled()
