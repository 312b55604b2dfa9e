"""influxDBOut into a real InfluxDB: a stream task on tickless whose `.cluster('remote')` names an
`influxdb` config element pointing at the private influxd 1.6.7; its points arrive there as Kapacitor's
InfluxDB client writes them (gzip, precision), through the alert queue's worker."""

from __future__ import annotations

import json
import time

from tests.oracle.conftest import Oracle

SECOND = 1_000_000_000


def test_influxdbout_writes_into_the_configured_influxd(oracle: Oracle) -> None:
    influxd, tickless = oracle.influxd, oracle.tickless
    status, _ = influxd.query("CREATE DATABASE kapacitor_out")
    assert status == 200
    status, _ = tickless.query("CREATE DATABASE kin")
    assert status == 200

    def post(path: str, doc: dict) -> None:
        response = tickless.session.post(
            f"{tickless.url}{path}", data=json.dumps(doc), headers=tickless.headers, timeout=30
        )
        assert response.status_code in (200, 204), response.text

    post("/kapacitor/v1/config/influxdb", {"add": {"name": "remote", "urls": [influxd.url]}})
    script = """stream
    |from()
        .measurement('cpu')
    |eval(lambda: "value" * 2.0)
        .as('double')
    |influxDBOut()
        .cluster('remote')
        .database('kapacitor_out')
        .retentionPolicy('autogen')
        .measurement('doubled')
        .precision('s')
        .tag('via', 'tickless')
"""
    post(
        "/kapacitor/v1/tasks",
        {
            "id": "remote_out",
            "script": script,
            "dbrps": [{"db": "kin", "rp": "autogen"}],
            "status": "enabled",
        },
    )
    tickless.write("kin", f"cpu,host=a value=1.5 {10 * SECOND}\ncpu,host=b value=4 {11 * SECOND + 7}")

    deadline = time.monotonic() + 60
    while True:
        status, body = influxd.query("SELECT * FROM doubled GROUP BY *", db="kapacitor_out", epoch="s")
        series = body["results"][0].get("series") or []
        if len(series) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    rows = {s["tags"]["host"]: (s["tags"]["via"], s["values"]) for s in series}
    assert rows == {"a": ("tickless", [[10, 3.0]]), "b": ("tickless", [[11, 8.0]])}
