"""The task state store on DynamoDB (adapters/taskstate.py): a state larger than an item spreads over
parts written with its head in one transaction; a save is conditioned on the version read; a smaller
state replaces the parts of the larger one, which go in the same transaction."""

from __future__ import annotations

import os

import pytest

from chalicelib.adapters.taskstate import DynamoTaskStates, TaskStateItem
from chalicelib.tick.execution import StateTooLarge


def _items(org: str, task: str) -> list[str]:
    return sorted(i.sk for i in TaskStateItem.query(f"{org}|{task}", consistent_read=True))


def test_a_large_state_spreads_over_parts_and_a_smaller_one_replaces_them(aws):
    store = DynamoTaskStates()
    big = {"runtime": os.urandom(400_000).hex()}  # hex of random bytes: about 400 KB compressed, 2 parts
    assert store.save("o", "big", big, None) is True
    assert store.load("o", "big").state == big
    assert len(_items("o", "big")) == 2
    assert store.save("o", "big", {"runtime": "small"}, 1) is True
    assert _items("o", "big") == ["head"]  # the old parts went with the save
    fresh = DynamoTaskStates()  # another Lambda container, without the head this one remembers
    assert fresh.load("o", "big").state == {"runtime": "small"}
    assert fresh.save("o", "big", big, 2) is True and len(_items("o", "big")) == 2
    assert DynamoTaskStates().save("o", "big", {"runtime": "x"}, 3) is True  # reads the head it replaces
    assert _items("o", "big") == ["head"]


def test_a_save_on_a_version_no_longer_there_loses(aws):
    first, second = DynamoTaskStates(), DynamoTaskStates()
    assert first.save("o", "race", {"n": 1}, None) is True
    assert second.save("o", "race", {"n": 2}, None) is False  # created meanwhile
    assert second.load("o", "race").version == 1
    assert first.save("o", "race", {"n": 3}, 1) is True
    assert second.save("o", "race", {"n": 4}, 1) is False
    assert first.load("o", "race").state == {"n": 3}


def test_a_state_beyond_one_transaction_is_refused(aws):
    with pytest.raises(StateTooLarge):
        DynamoTaskStates().save("o", "huge", {"runtime": os.urandom(4_000_000).hex()}, None)
    store = DynamoTaskStates()
    store.save("o", "gone", {"n": 1}, None)
    store.delete("o", "gone")
    assert store.load("o", "gone") is None and _items("o", "gone") == []
