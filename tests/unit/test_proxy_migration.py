"""Planning and line building of the proxy's migrations (chalicelib/proxy/migration.py); the jobs run
end to end against real influxd in tests/proxy/test_proxy_migrations.py."""

from __future__ import annotations

import json

from chalicelib.proxy.config import parse_config
from chalicelib.proxy.migration import Chunk, Job, Migrations, _line
from chalicelib.proxy.ring import backend_for

CONFIG = parse_config(
    json.dumps(
        {
            "circles": [
                {
                    "name": "c1",
                    "backends": [{"name": "a", "url": "http://a"}, {"name": "b", "url": "http://b"}],
                },
                {"name": "c2", "backends": [{"name": "c", "url": "http://c"}]},
            ]
        }
    )
)


def test_a_point_of_select_star_becomes_the_line_that_wrote_it() -> None:
    columns = ["time", "host", "n", "s", "ok", "x", "missing"]
    row = [5, "a b,c=d", 3, 'say "hi"\\', True, 1.5, None]
    types = {"n": "integer", "s": "string", "ok": "boolean", "x": "float", "missing": "float"}
    line = _line("cpu load,1", columns, row, {"host"}, types)
    assert line == 'cpu\\ load\\,1,host=a\\ b\\,c\\=d n=3i,s="say \\"hi\\"\\\\",ok=true,x=1.5 5'
    assert _line("m", ["time", "host"], [1, "a"], {"host"}, {}) == ""  # no field: nothing to write


def test_plans_follow_the_ring() -> None:
    migrations = Migrations(CONFIG, backends=None, state=None)  # type: ignore[arg-type]
    a = CONFIG.circles[0].backends[0]
    for measurement in ("m1", "m2", "m3", "m4"):
        home = backend_for(CONFIG, 0, "db", measurement).url
        clear = migrations._chunk(Job("clear", circle_id=0), 0, a, "db", measurement)
        assert (clear is None) == (home == a.url)
        if clear is not None:
            assert clear == Chunk("drop", a.url, "db", measurement)
        resync = migrations._chunk(Job("resync"), 0, a, "db", measurement)
        assert resync is not None and resync.dsts == [backend_for(CONFIG, 1, "db", measurement).url]


def test_jobs_and_chunks_survive_their_json() -> None:
    job = Job("rebalance", circle_id=1, databases=("x",), removed=({"name": "n", "url": "http://n"},))
    assert Job.from_json(json.loads(json.dumps(job.to_json()))) == job
    chunk = Chunk("copy", "http://a", "db", "m", ["http://c"], stats_circle=0, seconds=60)
    assert Chunk.from_json(json.loads(json.dumps(chunk.to_json()))) == chunk


def test_plans_travel_in_pages_that_keep_the_state_small():
    from chalicelib.proxy.migration import MAX_PAGES, page_of, page_size

    assert page_size(0) == page_size(1) == page_size(MAX_PAGES) == 1  # a step per chunk
    assert page_size(MAX_PAGES + 1) == 2 and page_size(50_000) == 25
    chunks = list(range(50_001))
    size = page_size(len(chunks))
    pages = -(-len(chunks) // size)
    assert pages <= MAX_PAGES
    assert [c for p in range(pages) for c in page_of(chunks, p, size)] == chunks  # each chunk once
