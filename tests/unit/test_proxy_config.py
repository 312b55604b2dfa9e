"""proxy.json as influx-proxy loads it: Go's JSON decoding, defaults, checks and their exact words."""

from __future__ import annotations

import json

import pytest

from chalicelib.kit.errors import INVALID, TicklessError
from chalicelib.proxy.cipher import encrypt
from chalicelib.proxy.config import Backend, ProxyConfig, parse_config

ONE = '{"circles":[{"name":"c","backends":[{"name":"b1","url":"http://h:8086"}]}]'


def invalid(text: str | bytes) -> str:
    with pytest.raises(TicklessError) as err:
        parse_config(text)
    assert err.value.code == INVALID
    return err.value.message


# influx-proxy 2.4.7's sample proxy.json (its shape and values; the keys tickless ignores included)
SAMPLE = """{
  "circles": [
    {"name": "circle-1", "backends": [
      {"name": "influxdb-1-1", "url": "http://127.0.0.1:8086", "username": "", "password": ""},
      {"name": "influxdb-1-2", "url": "http://127.0.0.1:8087", "username": "", "password": ""}]},
    {"name": "circle-2", "backends": [
      {"name": "influxdb-2-1", "url": "http://127.0.0.1:8088", "username": "", "password": ""},
      {"name": "influxdb-2-2", "url": "http://127.0.0.1:8089", "username": "", "password": ""}]}
  ],
  "listen_addr": ":7076", "db_list": ["db1", "db2"], "data_dir": "data", "mlog_dir": "log",
  "hash_key": "idx", "vnode_size": 256, "flush_size": 10000, "flush_time": 1, "check_interval": 1,
  "rewrite_interval": 10, "write_timeout": 10, "idle_timeout": 10, "log_enabled": false,
  "username": "", "password": "", "auth_secure": false, "https_enabled": false,
  "https_cert": "", "https_key": ""
}"""


def test_sample_config_of_the_release() -> None:
    cfg = parse_config(SAMPLE)
    assert [c.name for c in cfg.circles] == ["circle-1", "circle-2"]
    assert cfg.circles[1].backends[0] == Backend("influxdb-2-1", "http://127.0.0.1:8088")
    assert cfg.db_list == ("db1", "db2")
    assert cfg.hash_key == "idx" and cfg.vnode_size == 256


def test_defaults_for_missing_zero_and_negative() -> None:
    cfg = parse_config(ONE + ',"vnode_size":0,"flush_size":-5,"listen_addr":""}')
    assert cfg == ProxyConfig(circles=cfg.circles)
    assert (cfg.listen_addr, cfg.vnode_size, cfg.flush_size, cfg.migrate_batch) == (
        ":7076",
        256,
        10000,
        25000,
    )
    assert cfg.db_list == ()


def test_unknown_keys_ignored_and_names_case_insensitive() -> None:
    cfg = parse_config(
        '{"CIRCLES":[{"Backends":[{"NAME":"x","Url":"u"}]}],"Hash_Key":"name","junk":{"a":[1]}}'
    )
    assert cfg.hash_key == "name"
    assert cfg.circles[0].backends[0] == Backend("x", "u")


def test_only_the_first_value_is_read_and_nulls_keep_zero_values() -> None:
    cfg = parse_config(ONE + ',"hash_key":null,"vnode_size":null,"db_list":null} trailing garbage')
    assert cfg.hash_key == "idx" and cfg.vnode_size == 256 and cfg.db_list == ()


def test_repeated_key_merges_into_the_same_structs() -> None:
    cfg = parse_config(
        '{"circles":[{"name":"a","backends":[{"name":"b","url":"u"}]}],"circles":[{"name":"c"}]}'
    )
    assert cfg.circles[0].name == "c" and cfg.circles[0].backends[0].name == "b"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "EOF"),
        ("{", "unexpected EOF"),
        ("{]", "invalid character ']' looking for beginning of object key string"),
        ("[]", "json: cannot unmarshal array into Go value of type backend.Proxy"),
        ("null", "circles cannot be empty"),
        ("{}", "circles cannot be empty"),
        ('{"circles":[]}', "circles cannot be empty"),
        ('{"circles":[{"name":"c"}]}', "backends cannot be empty"),
        ('{"circles":[{"backends":[{"url":"u"}]}]}', "backend name cannot be empty"),
        (
            '{"circles":[{"backends":[{"name":"a"}]},{"backends":[{"name":"a"}]}]}',
            "backend name exists: a",
        ),
        (
            ONE + ',"hash_key":"host"}',
            "invalid hash_key, require idx, exi, name, url or template containing %idx",
        ),
        (
            ONE + ',"vnode_size":"256"}',
            "json: cannot unmarshal string into Go struct field Proxy.vnode_size of type int",
        ),
        (
            ONE + ',"vnode_size":1.5}',
            "json: cannot unmarshal number 1.5 into Go struct field Proxy.vnode_size of type int",
        ),
        (
            ONE + ',"flush_size":1e3}',
            "json: cannot unmarshal number 1e3 into Go struct field Proxy.flush_size of type int",
        ),
        (
            ONE + ',"log_enabled":"true"}',
            "json: cannot unmarshal string into Go struct field Proxy.log_enabled of type bool",
        ),
        (
            ONE + ',"username":1}',
            "json: cannot unmarshal number into Go struct field Proxy.username of type string",
        ),
        (
            ONE + ',"db_list":"db"}',
            "json: cannot unmarshal string into Go struct field Proxy.db_list of type []string",
        ),
        (
            ONE + ',"db_list":[1]}',
            "json: cannot unmarshal number into Go struct field Proxy.db_list of type string",
        ),
        (
            '{"circles":{}}',
            "json: cannot unmarshal object into Go struct field Proxy.circles of type []*backend.Circle",
        ),
        (
            '{"circles":["c"]}',
            "json: cannot unmarshal string into Go struct field Proxy.circles of type backend.Circle",
        ),
        (
            '{"circles":[{"backends":[{"name":true}]}]}',
            "json: cannot unmarshal bool into Go struct field Backend.circles.backends.name of type string",
        ),
    ],
)
def test_errors_use_influx_proxy_and_go_words(text: str, message: str) -> None:
    assert invalid(text) == message


def test_type_error_wins_over_check_errors() -> None:
    assert invalid('{"circles":[],"vnode_size":"x"}').startswith("json: cannot unmarshal string")


@pytest.mark.parametrize("mode", ["idx", "exi", "name", "url", "backend-%idx"])
def test_hash_keys_accepted(mode: str) -> None:
    assert parse_config(ONE + f',"hash_key":"{mode}"}}').hash_key == mode


@pytest.mark.parametrize("flag", ["auth_secure", "auth_encrypt"])
def test_encrypted_credentials_are_decrypted_for_proxy_and_backends(flag: str) -> None:
    doc = {
        "circles": [
            {"backends": [{"name": "b", "url": "u", "username": encrypt("bob"), "password": encrypt("pw")}]}
        ],
        "username": encrypt("admin"),
        "password": encrypt("secret"),
        flag: True,
    }
    cfg = parse_config(json.dumps(doc))
    assert (cfg.username, cfg.password, cfg.auth_encrypt) == ("admin", "secret", True)
    assert cfg.circles[0].backends[0] == Backend("b", "u", "bob", "pw", auth_encrypt=True)


def test_backend_level_auth_encrypt_of_2_5() -> None:
    doc = {
        "circles": [
            {
                "backends": [
                    {"name": "p", "url": "u", "username": "plain", "password": "text"},
                    {
                        "name": "e",
                        "url": "v",
                        "username": encrypt("bob"),
                        "password": "",
                        "auth_encrypt": True,
                    },
                ]
            }
        ],
    }
    cfg = parse_config(json.dumps(doc))
    assert cfg.circles[0].backends[0].username == "plain"
    assert cfg.circles[0].backends[1].username == "bob"


def test_undecryptable_credentials_are_invalid() -> None:
    message = invalid(ONE + ',"username":"admin","auth_secure":true}')
    assert message == "invalid encrypted credentials of proxy: illegal base64 data at input byte 4"


def test_config_is_frozen_and_hashable() -> None:
    cfg = parse_config(ONE + "}")
    with pytest.raises(AttributeError):
        cfg.hash_key = "name"  # type: ignore[misc]
    assert hash(cfg) == hash(parse_config(ONE + "}"))
