"""influx-proxy's util/cipher.go: configs and /encrypt answers written by it must round-trip here."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.proxy.cipher import check_cipher_key, decrypt, decrypt_bytes, encrypt


def test_known_vector() -> None:
    assert encrypt("admin") == "YgvEyuPZlDYAH8sGDkC!Ag"
    assert decrypt("YgvEyuPZlDYAH8sGDkC!Ag") == "admin"


def test_empty_stays_empty() -> None:
    assert encrypt("") == ""
    assert decrypt("") == ""


def test_aligned_input_gets_no_padding_block() -> None:
    assert len(encrypt("a" * 16)) == 22  # one block: 16 bytes -> 22 unpadded base64 symbols
    assert len(encrypt("a" * 17)) == 43


def test_go_base64_skips_newlines() -> None:
    assert decrypt("YgvEyuPZlDYA\nH8sGDkC!Ag\r\n") == "admin"


def test_zero_bytes_trimmed_at_both_ends() -> None:
    assert decrypt(encrypt("\x00\x00admin")) == "admin"


@pytest.mark.parametrize(
    ("msg", "message"),
    [
        ("abc", "crypto/cipher: input not full blocks"),
        ("ab=", "illegal base64 data at input byte 2"),
        ("A", "illegal base64 data at input byte 0"),
        ("AAAAA", "illegal base64 data at input byte 4"),
        ("YgvE+uPZ", "illegal base64 data at input byte 4"),
        ("YgvEyuPZlDYAH8sGDkC!Ag==", "illegal base64 data at input byte 22"),
        ("héllo", "illegal base64 data at input byte 1"),
    ],
)
def test_garbage_is_invalid_with_go_text(msg: str, message: str) -> None:
    with pytest.raises(TicklessError) as err:
        decrypt(msg)
    assert err.value.code == INVALID
    assert err.value.message == message


def test_non_utf8_plaintext_is_invalid_as_text_but_available_as_bytes() -> None:
    msg = "A" * 22  # one all-zero block: decrypts to bytes that are not UTF-8
    assert decrypt_bytes(msg) == b"\x07pG\xf2\xa3\xc0DY\xc2\xcbEm\xeao\x00\xa1"
    with pytest.raises(TicklessError, match="not valid UTF-8"):
        decrypt(msg)


def test_other_key_and_bad_key_size() -> None:
    key = "0123456789abcdef"
    assert decrypt(encrypt("root", key), key) == "root"
    assert encrypt("root", key) != encrypt("root")
    with pytest.raises(TicklessError, match="invalid key size 3"):
        encrypt("x", "abc")
    assert check_cipher_key("consistentcipher")
    assert not check_cipher_key("other")


@given(st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60))
def test_round_trip(msg: str) -> None:
    out = encrypt(msg)
    assert set(out) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_!")
    assert decrypt(out) == msg


@given(st.text(max_size=40))
def test_decrypt_never_raises_anything_else(msg: str) -> None:
    try:
        decrypt(msg)
    except TicklessError as err:
        assert err.code == INVALID
