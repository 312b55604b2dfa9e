"""Pause the cyclic garbage collector while a hot path builds many containers that all stay alive.

CPython runs a collection every 700 net container allocations, and every few of those walks every
tracked object in the process. Parsing a write, or decoding a Kinesis record into a dict per point,
allocates hundreds of thousands of containers that live until the batch is stored: the collector
then walks them again and again and frees nothing, which measured 35-40% of the consumer's CPU
(docs/PERFORMANCE.md). These paths make no reference cycles, so nothing is lost by not looking for
them until the batch is done; the normal schedule resumes afterwards.

Thread-safe and reentrant: the local stack runs handlers as threads of one process, so the
collector is paused while any thread is inside, and resumed (if it was enabled) when the last leaves.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_inside = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _inside, _was_enabled
    with _lock:
        if _inside == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _was_enabled:
                gc.enable()
