"""IDs, API tokens and password hashes for InfluxDB v2 tenancy (stdlib only).

- IDs are InfluxDB platform IDs: 16 hex characters of a non-zero 64-bit number. InfluxDB parses them
  with `strconv.ParseUint(s, 16, 64)` (so upper case parses too) and always prints lower case.
- Tokens are what influxd's token generator makes: 64 random bytes, `base64.URLEncoding` (URL-safe
  alphabet, `=` padded), i.e. 88 characters ending in `==`.
- Passwords are hashed with scrypt (influxd uses bcrypt, which is not in the stdlib) into a
  self-describing string `scrypt$<n>$<r>$<p>$<salt b64>$<key b64>`, so the cost can change later
  (`needs_rehash`).
- Password policy is InfluxDB 2.7.6+'s: 8 to 72 bytes (72 is bcrypt's input limit), and with the
  optional `--strong-passwords` mode also three of four character classes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets

from chalicelib.kit.errors import INVALID, TicklessError

ID_LENGTH = 16
TOKEN_BYTES = 64

# scrypt cost: ~16 MiB and a few tens of milliseconds per hash.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
_SCHEME = "scrypt"
# Bounds on parameters read back from a stored hash, so a tampered record cannot make us burn memory.
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16

# InfluxDB 2.7.6+ (kit/platform/errors: MinPasswordLen, MaxPasswordLen, SpecialChars).
MIN_PASSWORD_LEN = 8
MAX_PASSWORD_LEN = 72
SPECIAL_CHARS = "!@#$%^&*()_+"
PASSWORD_LENGTH_MESSAGE = (
    f"passwords must be between {MIN_PASSWORD_LEN} and {MAX_PASSWORD_LEN} characters long"
)
PASSWORD_CHARS_MESSAGE = (
    "passwords must contain at least three of the following character types: "
    f"uppercase, lowercase, numbers, and special characters: {SPECIAL_CHARS}"
)


# --- IDs ------------------------------------------------------------------------------------------


def new_id() -> str:
    """A new random platform ID: 16 lower-case hex characters, never all zeros (the invalid ID)."""
    while True:
        value = secrets.randbits(64)
        if value:
            return f"{value:016x}"


def parse_id(value: object) -> str | None:
    """The canonical (lower-case) form of a platform ID, or None when `value` is not a valid one.

    Valid means what InfluxDB's `ID.Decode` accepts: a string of exactly 16 hex digits, not all zero.
    """
    if not isinstance(value, str) or len(value) != ID_LENGTH:
        return None
    try:
        number = int(value, 16)
    except ValueError:
        return None
    # int() also takes "0x", "_" separators, signs and surrounding spaces; ParseUint takes none of these.
    if number == 0 or not all(c in "0123456789abcdefABCDEF" for c in value):
        return None
    return value.lower()


def is_valid_id(value: object) -> bool:
    return parse_id(value) is not None


# influxd's `platform.ID.Decode` messages (kit/platform/id.go).
ID_LENGTH_MESSAGE = "id must have a length of 16 bytes"
INVALID_ID_MESSAGE = "invalid ID"


def decode_id(value: object, context: str = "") -> str:
    """The canonical form of an ID a request gives (URL, query parameter or body), or influxd's
    `400 invalid` for a malformed one: `id must have a length of 16 bytes` when it is not 16
    characters long, else `invalid ID`. `context` prefixes the message as some influxd handlers
    do (`invalid bucket ID "x": invalid ID`)."""
    parsed = parse_id(value)
    if parsed is not None:
        return parsed
    if not isinstance(value, str):
        raise TicklessError(INVALID, f"{context}: {INVALID_ID_MESSAGE}" if context else INVALID_ID_MESSAGE)
    reason = ID_LENGTH_MESSAGE if len(value) != ID_LENGTH else INVALID_ID_MESSAGE
    if context:  # as Go's %q quotes it
        reason = f"{context} {json.dumps(value, ensure_ascii=False)}: {reason}"
    raise TicklessError(INVALID, reason)


# --- tokens ---------------------------------------------------------------------------------------


def new_token() -> str:
    """A new API token: 64 random bytes, URL-safe base64 with padding (88 characters, ends in `==`)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii")


# --- passwords ------------------------------------------------------------------------------------


def check_password_policy(password: str, *, strong: bool = False) -> None:
    """Raise `TicklessError(INVALID, ...)` with InfluxDB's message when `password` is not acceptable.

    Length is counted in UTF-8 bytes, as Go's `len(password)` does. With `strong` (influxd's
    `--strong-passwords`), the password must also mix three of: upper case, lower case, digits and
    the special characters `!@#$%^&*()_+`.
    """
    size = len(password.encode("utf-8", "surrogatepass"))
    if size < MIN_PASSWORD_LEN or size > MAX_PASSWORD_LEN:
        raise TicklessError(INVALID, PASSWORD_LENGTH_MESSAGE)
    if strong:
        classes = (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(c in SPECIAL_CHARS for c in password),
        )
        if sum(classes) < 3:
            raise TicklessError(INVALID, PASSWORD_CHARS_MESSAGE)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=dklen,
        maxmem=128 * n * r * p + 2**20,
    )


def hash_password(password: str) -> str:
    """Hash `password` with a fresh salt into `scrypt$16384$8$1$<salt b64>$<key b64>`."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = stored.split("$") if isinstance(stored, str) else []
    if len(parts) != 6 or parts[0] != _SCHEME:
        return None
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, key = _unb64(parts[4]), _unb64(parts[5])
    except (ValueError, binascii.Error):
        return None
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
        return None
    if not salt or not 16 <= len(key) <= 64:
        return None
    return n, r, p, salt, key


def is_password_hash(stored: object) -> bool:
    """Whether `stored` is a hash `verify_password` can check (a restored backup's users)."""
    return isinstance(stored, str) and _parse(stored) is not None


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash made by `hash_password`; False for malformed hashes."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(key)), key)


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with other parameters than today's (rehash on next sign-in)."""
    parsed = _parse(stored)
    if parsed is None:
        return True
    n, r, p, salt, key = parsed
    return (n, r, p, len(salt), len(key)) != (SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES, KEY_BYTES)
