"""The proxy's fan-out, backlog and health (chalicelib/proxy/fanout.py) and its write records, over
in-memory ports: every line reaches its backend in every circle, a failing backend's lines wait in its
backlog in order and reach it once it answers, data a backend refuses is dropped and said."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.proxy import records
from chalicelib.proxy.config import parse_config
from chalicelib.proxy.fanout import ProxyFanout, WriteBatch
from chalicelib.proxy.ports import BackendUnavailable, BacklogEntry
from chalicelib.proxy.ring import backend_for

CONFIG = parse_config(
    json.dumps(
        {
            "circles": [
                {
                    "name": "c1",
                    "backends": [{"name": "a", "url": "http://a"}, {"name": "b", "url": "http://b"}],
                },
                {
                    "name": "c2",
                    "backends": [{"name": "c", "url": "http://c"}, {"name": "d", "url": "http://d"}],
                },
            ],
            "flush_size": 2,
        }
    )
)


class Backends:
    def __init__(self) -> None:
        self.down: set[str] = set()
        self.refusing: set[str] = set()
        self.written: dict[str, list[bytes]] = {}

    def write(self, backend, db, rp, precision, lines) -> None:
        if backend.url in self.down:
            raise BackendUnavailable(f"{backend.url} is down")
        if backend.url in self.refusing:
            raise ValueError("field type conflict")
        self.written.setdefault(backend.url, []).extend(lines.split(b"\n"))

    def ping(self, backend) -> bool:
        return backend.url not in self.down


class State:
    def __init__(self) -> None:
        self.backlogs: dict[str, list[BacklogEntry]] = {}
        self.healths: dict[str, dict] = {}
        self.serial = 0

    def append(self, url, entries) -> None:
        for db, rp, precision, lines in entries:
            self.serial += 1
            self.backlogs.setdefault(url, []).append(
                BacklogEntry(f"{self.serial:06d}", db, rp, precision, lines)
            )

    def waiting(self, url) -> bool:
        return bool(self.backlogs.get(url))

    def oldest(self, url, limit):
        return self.backlogs.get(url, [])[:limit]

    def remove(self, url, key) -> None:
        self.backlogs[url] = [e for e in self.backlogs.get(url, []) if e.key != key]

    def health(self):
        return {url: dict(values) for url, values in self.healths.items()}

    def set_health(self, url, **values) -> None:
        self.healths.setdefault(url, {}).update(values)


def _fanout():
    backends, state, logs = Backends(), State(), []
    return ProxyFanout(CONFIG, backends, state, state, log=lambda *e: logs.append(e)), backends, state, logs


def _batch(measurements: list[str]) -> WriteBatch:
    return WriteBatch("db", "", "ns", [(m, f"{m} v={i} {i}".encode()) for i, m in enumerate(measurements)])


def test_every_line_reaches_its_backend_in_every_circle() -> None:
    fanout, backends, _, _ = _fanout()
    names = [f"m{i}" for i in range(20)]
    fanout.deliver([_batch(names)])
    for i, name in enumerate(names):
        line = f"{name} v={i} {i}".encode()
        homes = {backend_for(CONFIG, c, "db", name).url for c in range(2)}
        assert {url for url, lines in backends.written.items() if line in lines} == homes


def test_a_failing_backend_keeps_its_lines_in_order_until_it_answers() -> None:
    fanout, backends, state, logs = _fanout()
    names = [f"m{i}" for i in range(20)]
    down = backend_for(CONFIG, 0, "db", "m0").url
    backends.down.add(down)
    fanout.deliver([_batch(names)])
    fanout.deliver([_batch(names[:3])])  # later lines queue behind the first ones
    assert state.healths[down]["active"] is False and state.waiting(down)
    assert down not in backends.written
    assert fanout.rewrite() == 0  # still down: nothing sent, nothing lost
    backends.down.clear()
    waiting = len(state.backlogs[down])
    assert fanout.rewrite() == waiting and not state.waiting(down)
    mine = [n for n in names if backend_for(CONFIG, 0, "db", n).url == down]
    again = [n for n in names[:3] if backend_for(CONFIG, 0, "db", n).url == down]
    expected = [f"{n} v={names.index(n)} {names.index(n)}".encode() for n in [*mine, *again]]
    assert backends.written[down] == expected
    assert state.healths[down] == {"active": True, "rewrite": False}
    assert any(message == "backend write failed, kept in its backlog" for _, message, _ in logs)


def test_data_a_backend_refuses_is_dropped_and_said() -> None:
    fanout, backends, state, logs = _fanout()
    refusing = backend_for(CONFIG, 1, "db", "m0").url
    backends.refusing.add(refusing)
    fanout.deliver([_batch(["m0"])])
    assert not state.waiting(refusing) and refusing not in backends.written
    assert [(level, message) for level, message, _ in logs] == [("error", "backend refused the write")]


def test_check_records_who_answers() -> None:
    fanout, backends, state, _ = _fanout()
    backends.down.add("http://c")
    assert fanout.check() == {"http://a": True, "http://b": True, "http://c": False, "http://d": True}
    assert state.healths["http://c"] == {"active": False}


@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=20).filter(lambda m: "\n" not in m),
            st.binary(max_size=200).filter(lambda b: b"\n" not in b),
        ),
        max_size=50,
    )
)
def test_records_carry_every_line_whole(lines: list[tuple[str, bytes]]) -> None:
    batch = WriteBatch("db", "rp", "ns", lines)
    decoded = [records.decode(data) for data in records.encode(batch)]
    assert [pair for part in decoded for pair in part.lines] == lines
    assert all(part.db == "db" and part.rp == "rp" for part in decoded)


def test_a_large_write_is_several_records_under_kinesis_limit() -> None:
    line = b"m " + b"x" * 10_000
    batch = WriteBatch("db", "", "ns", [("m", line)] * 300)
    encoded = records.encode(batch)
    assert len(encoded) > 1 and all(len(data) <= 1_000_000 for data in encoded)
    assert sum(len(records.decode(d).lines) for d in encoded) == 300
