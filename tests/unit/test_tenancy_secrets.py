"""Tenancy secrets: platform IDs, API tokens, scrypt password hashes and InfluxDB's password policy."""

from __future__ import annotations

import base64
import re

import pytest

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.tenancy import secrets as s


def test_new_id_shape_and_uniqueness():
    ids = {s.new_id() for _ in range(500)}
    assert len(ids) == 500
    for i in ids:
        assert re.fullmatch(r"[0-9a-f]{16}", i)
        assert i != "0" * 16
        assert s.is_valid_id(i)


def test_new_id_skips_zero(monkeypatch):
    values = iter([0, 0, 1])
    monkeypatch.setattr(s.secrets, "randbits", lambda _bits: next(values))
    assert s.new_id() == "0000000000000001"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0123456789abcdef", "0123456789abcdef"),
        ("0123456789ABCDEF", "0123456789abcdef"),
        ("ffffffffffffffff", "ffffffffffffffff"),
        ("0000000000000001", "0000000000000001"),
        ("0000000000000000", None),  # zero is the invalid ID
        ("0123456789abcde", None),  # too short
        ("0123456789abcdef0", None),  # too long
        ("0123456789abcdeg", None),  # not hex
        ("0x23456789abcdef", None),
        ("+123456789abcdef", None),
        (" 123456789abcdef", None),
        ("0123_56789abcdef", None),
        ("", None),
        (None, None),
        (1234567890123456, None),
    ],
)
def test_parse_id(value, expected):
    assert s.parse_id(value) == expected
    assert s.is_valid_id(value) is (expected is not None)


@pytest.mark.parametrize(
    ("value", "context", "message"),
    [
        ("zz", "", "id must have a length of 16 bytes"),  # influxd's ErrInvalidIDLength
        ("", "", "id must have a length of 16 bytes"),
        ("0123456789abcdef0", "", "id must have a length of 16 bytes"),
        ("zzzzzzzzzzzzzzzz", "", "invalid ID"),  # influxd's ErrInvalidID: 16 bytes, not hex
        ("0000000000000000", "", "invalid ID"),
        ("+123456789abcdef", "", "invalid ID"),
        (12, "", "invalid ID"),
        ("zz", "invalid org ID", 'invalid org ID "zz": id must have a length of 16 bytes'),
        ("gggggggggggggggg", "invalid bucket ID", 'invalid bucket ID "gggggggggggggggg": invalid ID'),
    ],
)
def test_decode_id_refuses_malformed_ids_with_influxds_messages(value, context, message):
    with pytest.raises(TicklessError) as raised:
        s.decode_id(value, context)
    assert (raised.value.code, raised.value.message, raised.value.status) == (INVALID, message, 400)


def test_decode_id_gives_the_canonical_id():
    assert s.decode_id("0123456789ABCDEF") == "0123456789abcdef"


def test_new_token_shape():
    tokens = {s.new_token() for _ in range(100)}
    assert len(tokens) == 100
    for t in tokens:
        assert len(t) == 88
        assert t.endswith("==")
        assert re.fullmatch(r"[A-Za-z0-9_-]{86}==", t)
        assert len(base64.urlsafe_b64decode(t)) == 64


def test_hash_format():
    stored = s.hash_password("correct horse")
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(key)) == 32
    assert not s.needs_rehash(stored)


def test_hashes_are_salted():
    assert s.hash_password("same password") != s.hash_password("same password")


STORED = s.hash_password("correct horse battery")


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("correct horse battery", True),
        ("correct horse batterY", False),
        ("correct horse battery ", False),
        ("", False),
        ("correct horse", False),
    ],
)
def test_verify(password, ok):
    assert s.verify_password(password, STORED) is ok


def test_verify_unicode():
    stored = s.hash_password("pässwörd-☃")
    assert s.verify_password("pässwörd-☃", stored)
    assert not s.verify_password("passwort-☃", stored)


def _tamper(stored: str, index: int, value: str) -> str:
    parts = stored.split("$")
    parts[index] = value
    return "$".join(parts)


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


# The stored hash has a random salt: explicit ids keep collection identical across xdist workers.
@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(_tamper(STORED, 5, _flip(STORED.split("$")[5])), id="key-changed"),
        pytest.param(_tamper(STORED, 4, _flip(STORED.split("$")[4])), id="salt-changed"),
        pytest.param(_tamper(STORED, 1, "8192"), id="cost-changed"),
        pytest.param(_tamper(STORED, 2, "4"), id="block-size-changed"),
        pytest.param(_tamper(STORED, 0, "bcrypt"), id="other-scheme"),
        pytest.param(_tamper(STORED, 1, "1000"), id="cost-not-power-of-two"),
        pytest.param(_tamper(STORED, 1, str(2**30)), id="cost-too-expensive"),
        pytest.param(_tamper(STORED, 3, "0"), id="zero-parallelism"),
        pytest.param(_tamper(STORED, 5, "not base64!"), id="key-not-base64"),
        pytest.param(_tamper(STORED, 5, ""), id="key-empty"),
        pytest.param(_tamper(STORED, 4, ""), id="salt-empty"),
        pytest.param(STORED + "$extra", id="extra-field"),
        pytest.param(STORED.rsplit("$", 1)[0], id="missing-key"),
        pytest.param("", id="empty"),
        pytest.param("plaintext", id="plaintext"),
        pytest.param("$2a$10$abcdefghijklmnopqrstuv", id="bcrypt-hash"),
    ],
)
def test_verify_rejects_tampered_or_malformed(stored):
    assert s.verify_password("correct horse battery", stored) is False


def test_needs_rehash():
    assert s.needs_rehash("garbage")
    assert s.needs_rehash(_tamper(STORED, 1, "8192"))
    assert not s.needs_rehash(STORED)


def test_hashes_are_made_at_the_interactive_cost():
    # scrypt's cost is memory-hard mixing of 128 * N * r bytes: N=2^14, r=8, p=1 (16 MiB, about 50 ms
    # per sign-in) is the interactive setting. Checked on what a hash records, not timed.
    scheme, n, r, p, *_salt_and_key = s.hash_password("a fresh password").split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
    assert 128 * int(n) * int(r) == 16 * 2**20


@pytest.mark.parametrize(
    "password",
    ["12345678", "a" * 8, "a" * 72, "ä" * 36, "correct horse battery staple"],
)
def test_password_policy_accepts(password):
    s.check_password_policy(password)


@pytest.mark.parametrize(
    "password",
    ["", "short", "1234567", "a" * 73, "ä" * 37, "☃☃"],  # lengths count UTF-8 bytes, as Go's len()
)
def test_password_policy_rejects_length(password):
    with pytest.raises(TicklessError) as err:
        s.check_password_policy(password)
    assert err.value.code == INVALID
    assert err.value.status == 400
    assert err.value.message == "passwords must be between 8 and 72 characters long"


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("abcdefgh", False),  # lower only
        ("abcdEFGH", False),  # two classes
        ("abcd1234", False),
        ("abcdEF12", True),  # three classes
        ("abcd12!!", True),
        ("ABCD12@@", True),
        ("Ab1!Ab1!", True),
        ("abcd12~~", False),  # "~" is not one of influxd's special characters
    ],
)
def test_strong_password_policy(password, ok):
    s.check_password_policy(password)  # the default policy checks length only
    if ok:
        s.check_password_policy(password, strong=True)
    else:
        with pytest.raises(TicklessError) as err:
            s.check_password_policy(password, strong=True)
        assert err.value.code == INVALID
        assert err.value.message == (
            "passwords must contain at least three of the following character types: "
            "uppercase, lowercase, numbers, and special characters: !@#$%^&*()_+"
        )
