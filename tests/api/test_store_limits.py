"""Nothing lost: whatever the write edge accepts (series keys up to 65,535 bytes, string fields up to
1 MiB, any number of new fields) is stored and read back exactly, names included, however DynamoDB's
key and item limits compare; what InfluxDB refuses is refused at the edge with InfluxDB's own errors."""

from __future__ import annotations

import random
import threading
import time

from tests.api.conftest import query, series_values
from tests.api.test_write_api import write_v1, write_v2

KEY_LIMIT = 65_535
STRING_LIMIT = 1_048_576


def _rows(client, q: str, database: str) -> list:
    """Every value row of every series of a single-statement query."""
    result = query(client, q, db=database, epoch="ns")["results"][0]
    assert "error" not in result, result
    return [row for series in result.get("series", []) for row in series["values"]]


def _text(size: int, seed: int) -> str:
    """Printable text that compresses poorly, as user data may."""
    rng = random.Random(seed)
    alphabet = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\\\"'")
    return "".join(rng.choices(alphabet, k=size))


def test_a_tag_key_over_1024_bytes_is_stored_and_listed(client, pump, database):
    key = "k" * 1_100
    assert write_v1(client, f"tk,{key}=v f=1 1", db=database).status_code == 204
    pump.drain()
    assert series_values(client, "SELECT * FROM tk", database) == [[1, 1, "v"]]
    assert _rows(client, "SHOW TAG KEYS FROM tk", database) == [[key]]
    assert _rows(client, "SHOW SERIES FROM tk", database) == [[f"tk,{key}=v"]]


def test_a_tag_value_over_2048_bytes_is_stored_and_listed(client, pump, database):
    long_value, short_value = "v" * 2_100, "w" * 2_100 + "x"
    body = f"tv,t={long_value} f=1 1\ntv,t={short_value} f=2 2\ntv,t=plain f=3 3"
    assert write_v1(client, body, db=database).status_code == 204
    pump.drain()
    assert _rows(client, 'SHOW TAG VALUES FROM tv WITH KEY = "t"', database) == [
        ["t", "plain"],
        ["t", long_value],
        ["t", short_value],
    ]
    assert series_values(client, f"SELECT f FROM tv WHERE t = '{long_value}'", database) == [[1, 1]]
    assert _rows(client, "SHOW SERIES FROM tv", database) == [
        ["tv,t=plain"],
        [f"tv,t={long_value}"],
        [f"tv,t={short_value}"],
    ]


def test_a_3000_byte_measurement_is_stored_listed_compacted_and_dropped(client, pump, database, app_module):
    from chalicelib import compose

    name = "m" * 3_000
    assert write_v1(client, f"{name},h=a f=1 1\n{name},h=b f=2 2", db=database).status_code == 204
    assert write_v1(client, f"{name},h=a f=3 3", db=database).status_code == 204
    pump.drain()
    assert [name] == [m for m in _rows(client, "SHOW MEASUREMENTS", database) for m in m if m == name]
    assert compose.store().compact_dirty(quiet_seconds=0) >= 2  # its marks name its partition
    assert series_values(client, f"SELECT f, h FROM {name}", database) == [
        [1, 1, "a"],
        [2, 2, "b"],
        [3, 3, "a"],
    ]
    assert _rows(client, f"SHOW FIELD KEYS FROM {name}", database) == [["f", "float"]]
    assert query(client, f"DROP MEASUREMENT {name}", db=database)["results"] == [{"statement_id": 0}]
    assert [name] not in _rows(client, "SHOW MEASUREMENTS", database)
    assert query(client, f"SELECT * FROM {name}", db=database)["results"] == [{"statement_id": 0}]


def test_a_field_key_over_1024_bytes_is_stored_and_listed(client, pump, database):
    field = "f" * 1_100
    assert write_v1(client, f"fk {field}=1i,g=2i 1", db=database).status_code == 204
    pump.drain()
    assert _rows(client, "SHOW FIELD KEYS FROM fk", database) == [[field, "integer"], ["g", "integer"]]
    assert series_values(client, f"SELECT {field}, g FROM fk", database) == [[1, 1, 2]]
    response = write_v1(client, f"fk {field}=1.5 2", db=database)  # its type is known by its full name
    assert response.status_code == 400
    assert "is type float, already exists as type integer dropped=1" in response.json_body["error"]


def test_a_600_kb_string_field_is_stored_over_several_items_and_read_back(client, pump, database):
    from chalicelib.adapters.series import ChunkItem

    text = _text(600_000, seed=1)
    assert write_v1(client, f'big,h=a s="{text}",n=1i 5\nbig,h=b n=2i 6', db=database).status_code == 204
    pump.drain()
    assert series_values(client, "SELECT s, n FROM big", database) == [[5, text, 1], [6, None, 2]]
    assert series_values(client, "SELECT s FROM big WHERE h = 'a'", database) == [[5, text]]
    buckets = client.http.get(f"/api/v2/buckets?name={database}/autogen").json_body["buckets"]
    items = list(ChunkItem.query(f"{buckets[0]['id']}|big"))
    assert any("+" in i.sk for i in items)  # a continuation item holds the rest of the segment
    assert all(len(i.data) < 400_000 for i in items)


def test_the_longest_series_key_and_string_influxdb_takes_are_stored(client, pump, database):
    measurement = "edge"
    tag_value = "v" * (KEY_LIMIT - 4 - len("s") - len(f"{measurement},t="))
    key = f"{measurement},t={tag_value}"
    assert len(key) + 4 + len("s") == KEY_LIMIT  # influxd bounds the series key plus each field key
    text = _text(STRING_LIMIT - 2, seed=2) + "é"  # 1,048,576 bytes in UTF-8
    assert len(text.encode()) == STRING_LIMIT
    assert write_v1(client, f'{key} s="{text}" 7', db=database).status_code == 204
    pump.drain()
    assert series_values(client, f"SELECT s FROM {measurement}", database) == [[7, text]]
    assert _rows(client, f"SHOW SERIES FROM {measurement}", database) == [[key]]
    assert _rows(client, f'SHOW TAG VALUES FROM {measurement} WITH KEY = "t"', database) == [["t", tag_value]]


def test_a_series_key_over_65535_bytes_is_refused_as_influxdb_does(client, database):
    line = "k,t=" + "v" * (KEY_LIMIT - 3) + " f=1"
    for response in (
        write_v1(client, line, db=database),
        write_v2(client, line, bucket=f"{database}/autogen", org="acme"),
    ):
        assert response.status_code == 400
        message = response.json_body.get("error") or response.json_body["message"]
        assert message == f"unable to parse '{line}': max key length exceeded: 65536 > 65535"


def test_a_string_field_over_1_mib_is_a_partial_write_as_influxdb_does(client, pump, database):
    text = "x" * (STRING_LIMIT + 1)
    body = f'long,h=a n=1i 1\nlong,h=a s="{text}",n=2i 2\nlong,h=a n=3i 3'
    response = write_v1(client, body, db=database)
    assert response.status_code == 400
    too_long = f"is too long, {STRING_LIMIT + 1} > {STRING_LIMIT} dropped=1"
    assert response.json_body == {"error": f'partial write: input field "s" on measurement "long" {too_long}'}
    v2 = write_v2(client, body.replace("long,", "long2,"), bucket=f"{database}/autogen", org="acme")
    assert v2.status_code == 422
    assert v2.json_body == {
        "code": "unprocessable entity",
        "message": "failure writing points to database: partial write: "
        f'input field "s" on measurement "long2" {too_long}',
    }
    pump.drain()
    assert series_values(client, "SELECT * FROM long", database) == [[1, "a", 1], [3, "a", 3]]
    assert _rows(client, "SHOW FIELD KEYS FROM long", database) == [["n", "integer"]]


def test_a_string_of_1_mib_in_utf8_but_fewer_characters_is_measured_in_bytes(client, database):
    text = "é" * (STRING_LIMIT // 2 + 1)  # 524,289 characters, 1,048,578 bytes
    response = write_v1(client, f'utf m="{text}" 1', db=database)
    assert response.status_code == 400
    assert response.json_body["error"].endswith(f"is too long, {STRING_LIMIT + 2} > {STRING_LIMIT} dropped=1")


def test_10000_new_fields_of_one_point_are_claimed_at_once(client, pump, database):
    from chalicelib.adapters.series import SeriesIndexItem

    line = "wide " + ",".join(f"f{i}={i}i" for i in range(10_000)) + " 1"
    started = time.perf_counter()
    assert write_v1(client, line, db=database).status_code == 204
    elapsed = time.perf_counter() - started
    assert elapsed < 10, elapsed  # one conditional put per field took about 50 s
    buckets = client.http.get(f"/api/v2/buckets?name={database}/autogen").json_body["buckets"]
    assert len(list(SeriesIndexItem.query(f"{buckets[0]['id']}|f|wide"))) == 1  # one claim
    pump.drain()
    fields = _rows(client, "SHOW FIELD KEYS FROM wide", database)
    assert len(fields) == 10_000 and ["f9999", "integer"] in fields
    assert series_values(client, "SELECT f0, f9999 FROM wide", database) == [[1, 0, 9999]]
    response = write_v1(client, "wide f5=1.5,g=true 2", db=database)
    assert (
        response.status_code == 400
        and "is type float, already exists as type integer" in response.body.decode()
    )


def test_concurrent_claims_of_new_fields_agree_on_every_type(aws):
    from chalicelib.adapters.series import DynamoIndex

    namespace, types = f"{random.getrandbits(64):016x}", ["float", "integer", "string", "boolean"]
    fields = [f"c{i}" for i in range(300)]
    start = threading.Barrier(8)
    answers: list[dict[str, str]] = []

    def claim(writer: int) -> None:
        mine = {f: types[(writer + i) % len(types)] for i, f in enumerate(fields[writer * 20 :] + fields)}
        start.wait()
        answers.append(DynamoIndex().claim_fields(namespace, "race", mine))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorded = DynamoIndex().field_types(namespace, "race")
    assert len(answers) == 8 and sorted(recorded) == sorted(fields)
    assert all(answer == {f: recorded[f] for f in answer} for answer in answers)
