"""Flux (`/api/v2/query`) through the official `influxdb-client`, as a user would call it: plain and with
`enable_gzip=True` (the client then sends `Accept-Encoding: gzip`, and `Accept: application/json`)."""

from __future__ import annotations

import gzip
import json
import urllib.request

import pytest
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

POINTS = 120  # enough CSV (> 1400 bytes, the stage's minimum_compression_size) to be compressed


@pytest.fixture(scope="module")
def bucket(stack, onboarded):
    """A bucket holding `POINTS` points of `cpu,host=a usage=<i>.5`, one per second from t=1s."""
    with InfluxDBClient(url=onboarded.url, token=onboarded.token, org=onboarded.org_name) as client:
        bucket = client.buckets_api().create_bucket(bucket_name="flux-e2e", org=onboarded.org_name)
        points = [
            Point("cpu").tag("host", "a").field("usage", i + 0.5).time(i + 1, WritePrecision.S)
            for i in range(POINTS)
        ]
        client.write_api(write_options=SYNCHRONOUS).write(bucket=bucket.name, record=points)
    stack.drain()
    return bucket.name


def query_of(bucket: str) -> str:
    # an absolute stop: the answer is the same from one request to the next
    window = "range(start: 0, stop: 1970-01-01T01:00:00Z)"
    return f'from(bucket: "{bucket}") |> {window} |> filter(fn: (r) => r._field == "usage")'


@pytest.mark.parametrize("enable_gzip", [False, True])
def test_query_through_the_client(onboarded, bucket, enable_gzip):
    with InfluxDBClient(
        url=onboarded.url, token=onboarded.token, org=onboarded.org_name, enable_gzip=enable_gzip
    ) as client:
        tables = client.query_api().query(query_of(bucket))
        raw = client.query_api().query_raw(query_of(bucket))
        encoding = raw.headers.get("Content-Encoding")
        raw.read()
    assert len(tables) == 1
    records = tables[0].records
    assert [r.get_value() for r in records] == [i + 0.5 for i in range(POINTS)]
    assert [int(r.get_time().timestamp()) for r in records] == list(range(1, POINTS + 1))
    assert {r.values["host"] for r in records} == {"a"}
    assert encoding == ("gzip" if enable_gzip else None)


def test_gzipped_answer_is_the_exact_csv(onboarded, bucket):
    """The compressed body, with the headers influxdb-client sends, decompresses to the plain answer."""

    def post(**headers: str) -> tuple[dict, bytes]:
        body = json.dumps(
            {"query": query_of(bucket), "dialect": {"annotations": ["datatype", "group", "default"]}}
        )
        request = urllib.request.Request(
            f"{onboarded.url}/api/v2/query?org={onboarded.org_name}",
            data=body.encode(),
            method="POST",
            headers={
                **onboarded.headers,
                "Content-Type": "application/json",
                "Accept": "application/json",
                **headers,
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # urllib never decompresses
            return dict(response.headers), response.read()

    plain_headers, plain = post()
    zipped_headers, zipped = post(**{"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain_headers
    assert zipped_headers["Content-Encoding"] == "gzip"
    assert plain_headers["Content-Type"] == zipped_headers["Content-Type"] == "text/csv; charset=utf-8"
    assert len(zipped) < len(plain)
    assert gzip.decompress(zipped) == plain
    assert plain.decode().count("\r\n") == POINTS + 5  # 3 annotations, header, rows, blank line
