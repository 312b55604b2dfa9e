"""An alert event as the Go templates of handlers see it (post url and alert-template, pagerduty2 links,
smtp to-field, the aggregate message), built from the template engine's values (chalicelib.kit.gotemplate),
and that engine as the default way to run them.

The event carries its triggering data as query results; Kapacitor's Name, Tags, Fields and Group are read
off the first series (exact for stream alerts; for a batch alert, its first group's)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from chalicelib.alert.events import AlertEvent
from chalicelib.kit.gotemplate import KAPACITOR_JSON_FUNCS, GoDuration, GoMap, GoStruct, GoTime, Template

# render_template(text, data, *, name=..., funcs=...) -> str; funcs names `json` / `jsonCompact` when
# the template may call them (Kapacitor's httppost templates).
RenderTemplate = Callable[..., str]

NO_FUNCS: frozenset[str] = frozenset()
POST_FUNCS: frozenset[str] = KAPACITOR_JSON_FUNCS


@lru_cache(maxsize=512)
def parse(text: str, name: str = "body", funcs: frozenset[str] = NO_FUNCS) -> Template:
    """A parsed template (cached: handlers run the same few templates for every event); raises the
    engine's ParseError worded as Go's (`template: body:1: unclosed action`)."""
    return Template.parse(name, text, funcs=funcs)


def go_template(text: str, data: Any, *, name: str = "body", funcs: frozenset[str] = NO_FUNCS) -> str:
    """The default RenderTemplate: Go's text/template."""
    return parse(text, name, funcs).execute(data)


@dataclass(frozen=True, slots=True)
class TaggedStruct(GoStruct):
    """A Go struct with JSON tags: `fields` are keyed by JSON name (so `{{ json . }}` writes Kapacitor's
    keys) and templates reach them by Go field name through `go_names`."""

    go_names: Mapping[str, str] = field(default_factory=dict)  # Go field name -> JSON name

    def lookup(self, name: str) -> tuple[bool, Any]:
        tag = self.go_names.get(name)
        if tag is None:
            return False, None
        return True, self.fields.get(tag)


def first_series(event: AlertEvent) -> dict[str, Any]:
    series = event.data.get("series") if isinstance(event.data, Mapping) else None
    if isinstance(series, list) and series and isinstance(series[0], Mapping):
        return dict(series[0])
    return {}


def event_name(event: AlertEvent) -> str:
    return str(first_series(event).get("name", ""))


def event_tags(event: AlertEvent) -> dict[str, str]:
    tags = first_series(event).get("tags")
    return {str(k): str(v) for k, v in sorted(tags.items())} if isinstance(tags, Mapping) else {}


def event_fields(event: AlertEvent) -> dict[str, Any]:
    """The alerting point's fields: the first row of the first series, without its time."""
    row = first_series(event)
    columns, values = row.get("columns") or [], row.get("values") or []
    if not values or not isinstance(values[0], list):
        return {}
    return {str(c): v for c, v in zip(columns, values[0], strict=False) if c != "time"}


def event_group(event: AlertEvent) -> str:
    tags = event_tags(event)
    return ",".join(f"{k}={v}" for k, v in tags.items()) if tags else "nil"


def _tags(event: AlertEvent) -> GoMap:
    return GoMap(event_tags(event))


def _fields(event: AlertEvent) -> GoMap:
    return GoMap(event_fields(event), "map[string]interface {}", None)


_ROW_NAMES = {"Name": "name", "Tags": "tags", "Columns": "columns", "Values": "values", "Partial": "partial"}


def result(data: Any) -> TaggedStruct:
    """models.Result: `{"series": [...]}` with each row a models.Row (its JSON keys in Go's order)."""
    series = data.get("series") if isinstance(data, Mapping) else None
    rows = []
    for row in series if isinstance(series, list) else []:
        if not isinstance(row, Mapping):
            continue
        fields: dict[str, Any] = {"name": row.get("name", "")}
        if row.get("tags"):
            fields["tags"] = GoMap({str(k): v for k, v in row["tags"].items()})
        fields["columns"] = list(row.get("columns") or [])
        fields["values"] = list(row.get("values") or [])
        if row.get("partial"):
            fields["partial"] = True
        rows.append(TaggedStruct("models.Row", fields, go_names=_ROW_NAMES))
    return TaggedStruct("models.Result", {"series": rows}, go_names={"Series": "series"})


_ALERT_DATA_NAMES = {
    "ID": "id",
    "Message": "message",
    "Details": "details",
    "Time": "time",
    "Duration": "duration",
    "Level": "level",
    "Data": "data",
    "PreviousLevel": "previousLevel",
    "Recoverable": "recoverable",
}


def alert_data(event: AlertEvent) -> TaggedStruct:
    """alert.Data: what the post handler's url and alert-template run against."""
    fields = {
        "id": event.id,
        "message": event.message,
        "details": event.details,
        "time": GoTime(event.time),
        "duration": GoDuration(event.duration),
        "level": event.level.name,
        "data": result(event.data),
        "previousLevel": event.previous_level.name,
        "recoverable": event.recoverable,
    }
    return TaggedStruct("alert.Data", fields, go_names=_ALERT_DATA_NAMES)


def template_data(event: AlertEvent) -> GoStruct:
    """alert.TemplateData: what pagerduty2 link templates run against."""
    fields = {
        "ID": event.id,
        "Message": event.message,
        "Level": event.level.name,
        "Time": GoTime(event.time),
        "Duration": GoDuration(event.duration),
        "Details": event.details,
        "Name": event_name(event),
        "TaskName": event.task,
        "Group": event_group(event),
        "Tags": _tags(event),
        "Fields": _fields(event),
    }
    return GoStruct("alert.TemplateData", fields)


def event_data(event: AlertEvent) -> GoStruct:
    """alert.EventData: what smtp to-field templates run against."""
    fields = {
        "Name": event_name(event),
        "TaskName": event.task,
        "Category": event.category,
        "Group": event_group(event),
        "Tags": _tags(event),
        "Fields": _fields(event),
        "Recoverable": event.recoverable,
        "Result": result(event.data),
    }
    return GoStruct("alert.EventData", fields)


def aggregate_message_data(count: int, interval: int) -> GoStruct:
    return GoStruct("alert.aggregateMessageData", {"Count": count, "Interval": GoDuration(interval)})


AGGREGATE_MESSAGE_ERROR = "failed to evaluate message template with aggregate message data: "
