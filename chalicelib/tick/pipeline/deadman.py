"""The deadman's switch: its configuration (Kapacitor's [deadman] section) and the condition it alerts on."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.kit.gofloat import format_float
from chalicelib.kit.time import SECOND
from chalicelib.tick.values import Lambda

NODE_NAME_MARKER = "NODE_NAME"
INTERVAL_MARKER = "INTERVAL"
DEFAULT_ID = "{{ .Group }}:NODE_NAME for task '{{ .TaskName }}'"
DEFAULT_MESSAGE = (
    '{{ .ID }} is {{ if eq .Level "OK" }}alive{{ else }}dead{{ end }}: '
    '{{ index .Fields "emitted" | printf "%0.3f" }} points/INTERVAL.'
)


@dataclass(frozen=True, slots=True)
class DeadmanConfig:
    interval: int = 10 * SECOND
    threshold: float = 0.0
    id: str = DEFAULT_ID
    message: str = DEFAULT_MESSAGE
    global_: bool = False  # add a deadman to every task's source


@dataclass(frozen=True, slots=True)
class DeadmanCondition:
    """The deadman alert's crit expression: `"emitted" <= threshold AND extra...`.

    Kapacitor builds this as a syntax tree; here it is data the executor evaluates itself."""

    threshold: float
    extra: tuple[Lambda, ...] = ()

    def text(self) -> str:
        number = format_float(self.threshold)
        if "." not in number and number.lstrip("-").isdigit():
            number += ".0"
        text = f'"emitted" <= {number}'
        for condition in self.extra:
            text = f"{text} AND ({condition.text})"
        return text

    def as_lambda(self) -> Lambda:
        return Lambda(self, self.text())
