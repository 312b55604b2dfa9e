"""Placement must agree with influx-proxy's stathat consistent rings bit for bit."""

from __future__ import annotations

import binascii

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.kit.errors import TicklessError
from chalicelib.proxy.config import parse_config
from chalicelib.proxy.ring import Placement, Ring, backend_for, hash_key, key_of, member_of


def reference_get(members: list[str], vnodes: int, key: str) -> str:
    """Brute force: every virtual point in add order (later overwrite), then the smallest point strictly
    above the key's hash, else the smallest point of all."""
    points: dict[int, str] = {}
    for m in members:
        for i in range(vnodes):
            points[binascii.crc32((str(i) + m).encode())] = m
    h = binascii.crc32(key.encode())
    above = [p for p in points if p > h]
    return points[min(above) if above else min(points)]


KEYS = ["db1,cpu", "db1,mem", "db2,cpu", "telegraf,disk", "a,b", "x,y"]


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        (["0", "1"], ["0", "1", "0", "0", "0", "0"]),
        (["0", "1", "2"], ["2", "1", "0", "0", "2", "0"]),
        (["|0", "|1", "|2"], ["|2", "|1", "|1", "|1", "|0", "|1"]),
    ],
)
def test_vectors(members: list[str], expected: list[str]) -> None:
    ring = Ring(members, 256)
    assert [ring.get(k) for k in KEYS] == expected
    assert [reference_get(members, 256, k) for k in KEYS] == expected


def test_hash_is_crc32_ieee() -> None:
    assert hash_key("db1,cpu") == 2496467285 == binascii.crc32(b"db1,cpu")
    assert hash_key("0") == 4108050209


def test_single_vnode_by_hand() -> None:
    a, b = binascii.crc32(b"0a"), binascii.crc32(b"0b")
    lo, hi = ("a", "b") if a < b else ("b", "a")
    ring = Ring(["a", "b"], 1)
    # Strictly greater: a key hashing exactly onto a point goes to the next one.
    probe = {binascii.crc32(k.encode()): k for k in (f"k{i}" for i in range(5000))}
    low, high = min(a, b), max(a, b)
    for h, k in probe.items():
        want = hi if low <= h < high else lo
        assert ring.get(k) == want


def test_later_member_overwrites_colliding_point() -> None:
    # eltKey("1", 11) == eltKey("11", 1) == "111": the later-added member owns the point.
    members = [str(i) for i in range(12)]
    ring = Ring(members, 256)
    for k in KEYS + [f"db,m{i}" for i in range(300)]:
        assert ring.get(k) == reference_get(members, 256, k)
    h = binascii.crc32(b"111")
    idx = ring._hashes.index(h)
    assert ring._owners[idx] == "11"


def test_empty_ring() -> None:
    with pytest.raises(TicklessError, match="empty circle"):
        Ring([], 256).get("x")


def test_key_of_and_members() -> None:
    assert key_of("db", "cpu load") == "db,cpu load"
    cfg = parse_config(
        '{"circles":[{"backends":[{"name":"a","url":"http://a"},{"name":"b","url":"http://b"}]}],'
        '"hash_key":"node-%idx"}'
    )
    b = cfg.circles[0].backends[1]
    assert member_of("idx", 1, b) == "1"
    assert member_of("exi", 1, b) == "|1"
    assert member_of("name", 1, b) == "b"
    assert member_of("url", 1, b) == "http://b"
    assert member_of(cfg.hash_key, 1, b) == "node-1"


@pytest.mark.parametrize("mode", ["idx", "exi", "name", "url"])
def test_backend_for_follows_hash_key(mode: str) -> None:
    def circle(prefix: str) -> str:
        items = ",".join(f'{{"name":"{prefix}{i}","url":"http://{prefix}{i}:8086"}}' for i in range(4))
        return f'{{"backends":[{items}]}}'

    cfg = parse_config(f'{{"circles":[{circle("n")},{circle("m")}],"hash_key":"{mode}","vnode_size":64}}')
    members = [member_of(mode, i, b) for i, b in enumerate(cfg.circles[0].backends)]
    for meas in ("cpu", "mem", "disk io", "net"):
        want = reference_get(members, 64, f"telegraf,{meas}")
        got = backend_for(cfg, 0, "telegraf", meas)
        assert member_of(mode, cfg.circles[0].backends.index(got), got) == want
        both = Placement(cfg).backends_for("telegraf", meas)
        assert both[0] == got and both[1] in cfg.circles[1].backends


def test_duplicate_url_maps_to_last_backend() -> None:
    cfg = parse_config(
        '{"circles":[{"backends":[{"name":"a","url":"u"},{"name":"b","url":"u"}]}],"hash_key":"url"}'
    )
    assert backend_for(cfg, 0, "db", "cpu").name == "b"


names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(names, min_size=1, max_size=6, unique=True), names, st.lists(names, min_size=1, max_size=30))
def test_adding_a_member_moves_keys_only_to_it(members: list[str], new: str, keys: list[str]) -> None:
    if new in members:
        return
    before, after = Ring(members, 32), Ring([*members, new], 32)
    for k in keys:
        assert after.get(k) in (before.get(k), new)


@settings(max_examples=60, deadline=None)
@given(st.lists(names, min_size=1, max_size=6, unique=True), names)
def test_get_is_stable_and_matches_reference(members: list[str], key: str) -> None:
    first = Ring(members, 16).get(key)
    assert Ring(members, 16).get(key) == first == Ring(members, 16).get(key)
    assert first == reference_get(members, 16, key)
