"""influx-proxy's proxy.json: decoded as Go's encoding/json fills the v2.4.7 `Proxy` struct, then
defaulted and checked as SetDefaultConfig and CheckConfig do, so a config influx-proxy accepts is
accepted here and a rejected one fails with the same words.

2.5 additions accepted: hash_key `exi` and `%idx` templates, and `auth_encrypt` (the name 2.5 gives
2.4.7's `auth_secure`), also per backend. Encrypted credentials are decrypted once, here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.kit.gojson import go_json_error

from .cipher import decrypt

HASH_KEYS = ("idx", "exi", "name", "url")
HASH_KEY_VAR_IDX = "%idx"
_BAD_HASH_KEY = "invalid hash_key, require idx, exi, name, url or template containing %idx"  # 2.5 wording


@dataclass(frozen=True)
class Backend:
    name: str
    url: str
    username: str = ""
    password: str = ""
    # True when the config held ciphertexts; username and password above are already plaintext.
    auth_encrypt: bool = False


@dataclass(frozen=True)
class Circle:
    name: str
    backends: tuple[Backend, ...]


@dataclass(frozen=True)
class ProxyConfig:
    circles: tuple[Circle, ...]
    listen_addr: str = ":7076"
    db_list: tuple[str, ...] = ()
    data_dir: str = "data"
    mlog_dir: str = "log"
    hash_key: str = "idx"
    vnode_size: int = 256
    flush_size: int = 10000
    flush_time: int = 1
    check_interval: int = 1
    rewrite_interval: int = 10
    write_timeout: int = 10
    idle_timeout: int = 10
    log_enabled: bool = False
    username: str = ""
    password: str = ""
    auth_encrypt: bool = False
    https_enabled: bool = False
    https_cert: str = ""
    https_key: str = ""
    migrate_cpus: int = 1
    migrate_batch: int = 25000


def parse_config(text: str | bytes) -> ProxyConfig:
    """LoadConfig: decode, default, check, then decrypt credentials. Errors are INVALID, worded as Go's."""
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    syntax = go_json_error(raw, stream=True)
    if syntax is not None:
        raise TicklessError(INVALID, syntax)
    doc = _first_value(raw)
    state: dict[str, Any] = {}
    if doc is not None:
        if not isinstance(doc, _Obj):
            message = f"json: cannot unmarshal {_kind(doc)} into Go value of type backend.Proxy"
            raise TicklessError(INVALID, message)
        try:
            _decode_struct(doc, state, _PROXY, "Proxy", ())
        except _TypeError as err:
            raise TicklessError(INVALID, str(err)) from None
    _set_defaults(state)
    _check(state)
    return _build(state)


# --- decoding --------------------------------------------------------------------------------------------


class _Num(str):
    """A JSON number kept as written: Go decides int-ness from the literal (1.0 and 1e3 are not ints)."""


class _Obj(list):
    """A JSON object as its (key, value) pairs in order: Go honours duplicates in sequence."""


def _first_value(raw: bytes) -> Any:
    text = raw.decode("utf-8", "replace")
    decoder = json.JSONDecoder(parse_int=_Num, parse_float=_Num, object_pairs_hook=_Obj)
    value, _ = decoder.raw_decode(text, len(text) - len(text.lstrip()))
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, _Num):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, _Obj) else "array"


class _TypeError(Exception):
    def __init__(self, value: str, struct: str, path: tuple[str, ...], gotype: str) -> None:
        field = f"{struct}.{'.'.join(path)}"
        super().__init__(f"json: cannot unmarshal {value} into Go struct field {field} of type {gotype}")


# A field decoder: (json value, current value, struct name, field path) -> new value.
_Decoder = Callable[[Any, Any, str, tuple[str, ...]], Any]


def _string(value: Any, current: Any, struct: str, path: tuple[str, ...]) -> Any:
    if value is None:  # null leaves a Go scalar as it was
        return "" if current is None else current
    if isinstance(value, str) and not isinstance(value, _Num):
        return str(value)
    raise _TypeError(_kind(value), struct, path, "string")


def _bool(value: Any, current: Any, struct: str, path: tuple[str, ...]) -> Any:
    if value is None:  # null leaves a Go scalar as it was
        return False if current is None else current
    if isinstance(value, bool):
        return value
    raise _TypeError(_kind(value), struct, path, "bool")


def _int(value: Any, current: Any, struct: str, path: tuple[str, ...]) -> Any:
    if value is None:  # null leaves a Go scalar as it was
        return 0 if current is None else current
    if isinstance(value, _Num):
        digits = value[1:] if value.startswith("-") else value
        if digits.isdigit() and -(2**63) <= int(value) < 2**63:
            return int(value)
        raise _TypeError(f"number {value}", struct, path, "int")
    raise _TypeError(_kind(value), struct, path, "int")


def _strings(value: Any, current: Any, struct: str, path: tuple[str, ...]) -> Any:
    if value is None:
        return None
    if not isinstance(value, list) or isinstance(value, _Obj):
        raise _TypeError(_kind(value), struct, path, "[]string")
    old = current or []
    return [_string(v, old[i] if i < len(old) else "", struct, path) for i, v in enumerate(value)]


def _structs(fields: dict[str, _Decoder], name: str, gotype: str) -> _Decoder:
    """A slice of struct pointers: Go reuses the structs already there, so a repeated key merges."""

    def decode(value: Any, current: Any, struct: str, path: tuple[str, ...]) -> Any:
        if value is None:
            return None
        if not isinstance(value, list) or isinstance(value, _Obj):
            raise _TypeError(_kind(value), struct, path, f"[]*{gotype}")
        old = current or []
        out: list[dict[str, Any] | None] = []
        for i, item in enumerate(value):
            if item is None:
                out.append(None)
                continue
            if not isinstance(item, _Obj):
                raise _TypeError(_kind(item), struct, path, gotype)
            prior = old[i] if i < len(old) else None
            target = prior if prior is not None else {}
            _decode_struct(item, target, fields, name, path)
            out.append(target)
        return out

    return decode


def _decode_struct(
    obj: _Obj, state: dict[str, Any], fields: dict[str, _Decoder], name: str, path: tuple[str, ...]
) -> None:
    for key, value in obj:
        field = key if key in fields else next((f for f in fields if f == key.casefold()), None)
        if field is not None:  # Go ignores unknown keys and matches the others case-insensitively
            state[field] = fields[field](value, state.get(field), name, (*path, field))


_BACKEND: dict[str, _Decoder] = {
    "name": _string,
    "url": _string,
    "username": _string,
    "password": _string,
    "auth_secure": _bool,
    "auth_encrypt": _bool,
}
_CIRCLE: dict[str, _Decoder] = {"name": _string, "backends": _structs(_BACKEND, "Backend", "backend.Backend")}
_PROXY: dict[str, _Decoder] = {
    "circles": _structs(_CIRCLE, "Circle", "backend.Circle"),
    "listen_addr": _string,
    "db_list": _strings,
    "data_dir": _string,
    "mlog_dir": _string,
    "hash_key": _string,
    "vnode_size": _int,
    "flush_size": _int,
    "flush_time": _int,
    "check_interval": _int,
    "rewrite_interval": _int,
    "write_timeout": _int,
    "idle_timeout": _int,
    "log_enabled": _bool,
    "username": _string,
    "password": _string,
    "auth_secure": _bool,
    "auth_encrypt": _bool,
    "https_enabled": _bool,
    "https_cert": _string,
    "https_key": _string,
    "migrate_cpus": _int,
    "migrate_batch": _int,
}

# --- SetDefaultConfig, CheckConfig -----------------------------------------------------------------------

_DEFAULT_STRINGS = {"listen_addr": ":7076", "data_dir": "data", "mlog_dir": "log", "hash_key": "idx"}
_DEFAULT_INTS = {
    "vnode_size": 256,
    "flush_size": 10000,
    "flush_time": 1,
    "check_interval": 1,
    "rewrite_interval": 10,
    "write_timeout": 10,
    "idle_timeout": 10,
    "migrate_cpus": 1,
    "migrate_batch": 25000,
}


def _set_defaults(state: dict[str, Any]) -> None:
    for key, default in _DEFAULT_STRINGS.items():
        if not state.get(key):
            state[key] = default
    for key, default in _DEFAULT_INTS.items():
        if state.get(key, 0) <= 0:
            state[key] = default


def _check(state: dict[str, Any]) -> None:
    circles = state.get("circles") or []
    if not circles:
        raise TicklessError(INVALID, "circles cannot be empty")
    seen: set[str] = set()
    for circle in circles:
        # Go would crash on a null circle or backend; here they read as empty.
        if not (circle or {}).get("backends"):
            raise TicklessError(INVALID, "backends cannot be empty")
        for backend in circle["backends"]:
            name = (backend or {}).get("name", "")
            if not name:
                raise TicklessError(INVALID, "backend name cannot be empty")
            if name in seen:
                raise TicklessError(INVALID, f"backend name exists: {name}")
            seen.add(name)
    hash_key = state["hash_key"]
    if hash_key not in HASH_KEYS and HASH_KEY_VAR_IDX not in hash_key:
        raise TicklessError(INVALID, _BAD_HASH_KEY)


def _build(state: dict[str, Any]) -> ProxyConfig:
    encrypted = bool(state.get("auth_secure") or state.get("auth_encrypt"))
    circles = tuple(
        Circle(name=c.get("name", ""), backends=tuple(_backend(b, encrypted) for b in c["backends"]))
        for c in state["circles"]
    )
    skip = ("circles", "db_list", "auth_secure", "auth_encrypt")
    scalars = {k: v for k, v in state.items() if k not in skip}
    username, password = _credentials(state, encrypted, "proxy")
    scalars.update(username=username, password=password)
    return ProxyConfig(
        circles=circles, db_list=tuple(state.get("db_list") or ()), auth_encrypt=encrypted, **scalars
    )


def _backend(state: dict[str, Any], proxy_encrypted: bool) -> Backend:
    # 2.4.7 applies the proxy's auth_secure to every backend; 2.5 lets a backend say auth_encrypt itself.
    encrypted = proxy_encrypted or bool(state.get("auth_secure") or state.get("auth_encrypt"))
    username, password = _credentials(state, encrypted, f"backend {state['name']}")
    url = state.get("url", "")
    return Backend(state["name"], url, username, password, auth_encrypt=encrypted)


def _credentials(state: dict[str, Any], encrypted: bool, owner: str) -> tuple[str, str]:
    username, password = state.get("username", ""), state.get("password", "")
    if not encrypted:
        return username, password
    try:
        return decrypt(username), decrypt(password)
    except TicklessError as err:
        raise TicklessError(INVALID, f"invalid encrypted credentials of {owner}: {err.message}") from None
