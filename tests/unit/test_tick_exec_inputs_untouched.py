"""No node changes the fields or tags of what it receives: the task consumer hands the same decoded
record rows to every task of the org and to a run retried on a newer state, sharing a series' tags
between its points. Points whose dicts refuse any change run through every kind of node: the outputs
are those of plain dicts, and nothing failed."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from chalicelib.kit.time import SECOND
from chalicelib.tick.evaluate import evaluate
from chalicelib.tick.exec import Point, RuntimeConfig, TaskRuntime
from chalicelib.tick.exec.alert_machine import AlertStateMachine
from chalicelib.tick.parser import parse

S = SECOND


class Frozen(dict):
    """A dict that refuses every change (json still writes it: the state is saved as usual)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError("a node changed the fields or tags it received")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _refuse


SCRIPTS = [
    "stream|from().groupBy('host')|window().period(4s).every(2s)|mean('usage')|httpOut('o')",
    "stream|from()|default().field('usage', 0.0).tag('dc', 'x')|delete().field('other').tag('cpu')"
    "|httpOut('o')",
    "stream|from()|shift(5s)|sample(2)|httpOut('o')",
    "stream|from().groupBy('host')|changeDetect('usage')|httpOut('o')",
    "stream|from().groupBy('host')|derivative('usage').as('d')|httpOut('o')",
    "stream|from().groupBy('host')|difference('usage')|httpOut('o')",
    "stream|from().groupBy('host')|movingAverage('usage', 2)|httpOut('o')",
    "stream|from().groupBy('host')|cumulativeSum('usage')|httpOut('o')",
    "stream|from().groupBy('host')|elapsed('usage', 1s)|httpOut('o')",
    "stream|from()|eval(lambda: \"usage\" * 2.0, lambda: string(\"usage\")).as('d', 's').tags('s')"
    ".keep()|httpOut('o')",
    'stream|from()|stateDuration(lambda: "usage" > 50).unit(1s)|stateCount(lambda: "usage" > 50)'
    "|httpOut('o')",
    "stream|from()|window().period(4s).every(4s)|flatten().on('host')|httpOut('o')",
    "stream|from()|combine(lambda: \"host\" == 'a', lambda: \"host\" == 'b').as('a', 'b')|httpOut('o')",
    "var a = stream|from().measurement('cpu').groupBy('host')\n"
    "var b = stream|from().measurement('mem').groupBy('host')\n"
    "a|join(b).as('a', 'b').tolerance(1s).fill(0.0)|httpOut('o')",
    "var a = stream|from().measurement('cpu')\nvar b = stream|from().measurement('mem')\n"
    "a|union(b)|window().period(4s).every(4s)|top(2, 'usage', 'host')|httpOut('o')",
    "stream|from()|window().period(4s).every(4s)|percentile('usage', 50.0)|httpOut('o')",
    "stream|from()|window().period(6s).every(6s)|holtWinters('usage', 2, 0, 1s)|httpOut('o')",
    "stream|from().groupBy('host')|alert().id('{{ .Name }}').crit(lambda: \"usage\" > 50).levelTag('l')"
    ".idField('i').messageField('m').durationField('dur')|httpOut('o')",
    "stream|from()|log()|influxDBOut().database('d').tag('via', 'x')",
]


def _points(wrap: type[dict]) -> list[Point]:
    out = []
    tags_of = {host: wrap({"host": host, "cpu": "cpu-total"}) for host in "ab"}
    for i in range(24):
        host = "ab"[i % 2]
        fields = wrap({"usage": float(i * 7 % 100), "other": i})
        out.append(Point("cpu" if i % 3 else "mem", i * S, fields, tags_of[host], "db", "rp"))
    return out


def _run(script: str, wrap: type[dict]) -> str:
    config = RuntimeConfig(task="t", alerts=AlertStateMachine)
    runtime = TaskRuntime.build(evaluate(parse(script), "stream").pipeline, None, config)
    outputs = runtime.feed_points(_points(wrap))
    for node in outputs.stats.values():
        node["stats"].pop("avg_exec_time_ns", None)
        assert node["stats"].get("errors", 0) == 0, node
    return repr(outputs)


@pytest.mark.parametrize("script", SCRIPTS)
def test_no_node_changes_what_it_receives(script: str) -> None:
    assert _run(script, Frozen) == _run(script, dict)


def test_the_frozen_dicts_refuse_changes() -> None:
    frozen = Frozen({"a": 1})
    for change in (lambda: frozen.__setitem__("b", 2), lambda: frozen.pop("a"), lambda: frozen.update(b=2)):
        with pytest.raises(AssertionError):
            change()
    assert frozen == {"a": 1}
