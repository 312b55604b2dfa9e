"""Names in DynamoDB keys: as they are up to MAX_NAME_BYTES, else a prefix and a digest that no name
kept as it is can equal."""

from __future__ import annotations

from chalicelib.series import keys


def test_short_names_are_keys_as_they_are():
    for name in ("cpu", "", "é" * 450, "x" * keys.MAX_NAME_BYTES):
        assert keys.bounded(name) == name
        assert not keys.is_digest(keys.bounded(name))


def test_long_names_become_a_prefix_and_a_digest_longer_than_any_name_kept_as_is():
    for name in ("x" * (keys.MAX_NAME_BYTES + 1), "é" * 5_000, "a" * 65_535, "€" * 1_000 + "tail"):
        key = keys.bounded(name)
        assert keys.MAX_NAME_BYTES < keys.utf8_length(key) <= keys.MAX_NAME_BYTES + 25
        assert keys.is_digest(key)
        assert name.startswith(key.rsplit("#", 1)[0])


def test_long_names_differing_only_at_the_end_get_different_keys():
    stem = "s" * 3_000
    assert keys.bounded(stem + "a") != keys.bounded(stem + "b")
    assert keys.chunk_partition("00000000000000aa", stem + "a") != keys.chunk_partition(
        "00000000000000aa", stem + "b"
    )


def test_partitions_of_long_measurements_fit_a_compaction_mark_sort_key():
    partition = keys.chunk_partition("0123456789abcdef", "m" * 65_000)
    assert keys.utf8_length(f"{keys.block_key(0)}|{partition}") <= 1_024
