"""influx-proxy's credentials cipher (util/cipher.go), byte for byte.

AES-CBC with the key doubling as IV, zero-byte padding (none when already aligned) and unpadded base64
whose last two symbols are `_` and `!`. Configs written for influx-proxy carry such ciphertexts, so the
scheme is reproduced exactly, weaknesses included.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from chalicelib.kit.errors import INVALID, TicklessError

DEFAULT_KEY = "consistentcipher"
_BLOCK = 16
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_!"
_TO_PROXY = bytes.maketrans(b"+/", b"_!")
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}


def check_cipher_key(key: str) -> bool:
    """/decrypt answers only to the proxy's own key (HandlerDecrypt: 400 `invalid key`)."""
    return key == DEFAULT_KEY


def encrypt(msg: str, key: str = DEFAULT_KEY) -> str:
    """AesEncrypt: the empty string stays empty."""
    if not msg:
        return ""
    data = msg.encode("utf-8", "surrogateescape")
    data += b"\x00" * (-len(data) % _BLOCK)
    enc = _cipher(key).encryptor()
    raw = enc.update(data) + enc.finalize()
    return base64.b64encode(raw).translate(_TO_PROXY).rstrip(b"=").decode("ascii")


def decrypt_bytes(msg: str, key: str = DEFAULT_KEY) -> bytes:
    """AesDecrypt as bytes. Where Go returns its error text as if it were the plaintext, this raises
    INVALID with that very text (`illegal base64 data at input byte N`, `crypto/cipher: input not full
    blocks`) so a surface can choose to echo it as influx-proxy's /decrypt does (200, text + newline)."""
    if not msg:
        return b""
    raw = _go_b64decode(msg.encode("utf-8", "surrogateescape"))
    if len(raw) % _BLOCK:
        raise TicklessError(INVALID, "crypto/cipher: input not full blocks")
    dec = _cipher(key).decryptor()
    # bytes.Trim: zero bytes go from both ends, not only the padding.
    return (dec.update(raw) + dec.finalize()).strip(b"\x00")


def decrypt(msg: str, key: str = DEFAULT_KEY) -> str:
    """AesDecrypt as text; a plaintext that is not UTF-8 is garbage in, so it is INVALID too."""
    plain = decrypt_bytes(msg, key)
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TicklessError(INVALID, "decrypted text is not valid UTF-8") from err


def _cipher(key: str) -> Cipher:
    kb = key.encode("utf-8", "surrogateescape")
    if len(kb) not in (16, 24, 32):
        raise TicklessError(INVALID, f"crypto/aes: invalid key size {len(kb)}")
    return Cipher(algorithms.AES(kb), modes.CBC(kb[:_BLOCK]))


def _go_b64decode(src: bytes) -> bytes:
    """encoding/base64 without padding, non-strict: CR and LF are skipped, a lone trailing symbol and
    any other byte (`=` included) fail at Go's byte offset, stray low bits of the last symbol pass."""
    out = bytearray()
    quantum: list[int] = []
    for pos, c in enumerate(src):
        if c in (0x0A, 0x0D):
            continue
        val = _DECODE.get(c)
        if val is None:
            raise TicklessError(INVALID, f"illegal base64 data at input byte {pos}")
        quantum.append(val)
        if len(quantum) == 4:
            n = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3]
            out += n.to_bytes(3, "big")
            quantum.clear()
    if len(quantum) == 1:
        raise TicklessError(INVALID, f"illegal base64 data at input byte {len(src) - 1}")
    if quantum:
        n = 0
        for v in quantum + [0] * (4 - len(quantum)):
            n = n << 6 | v
        out += n.to_bytes(3, "big")[: len(quantum) - 1]
    return bytes(out)
