"""What an alert's templates see and what its event carries: Kapacitor's idInfo / messageInfo / detailsInfo
template data, the handlers' TemplateData, and the triggering data as InfluxDB series JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.alert.events import Level
from chalicelib.kit.gotemplate import GoDuration, GoMap, GoStruct, GoTime, Template, time_rfc3339nano

DEFAULT_ID = "{{ .Name }}:{{ .Group }}"
DEFAULT_MESSAGE = "{{ .ID }} is {{ .Level }}"
DEFAULT_DETAILS = "{{ json . }}"

_JSON = frozenset({"json", "jsonCompact"})


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """`.ServerInfo` in the templates."""

    hostname: str = ""
    cluster_id: str = ""
    server_id: str = ""

    def to_struct(self) -> GoStruct:
        return GoStruct(
            "kapacitor.serverInfo",
            {"Hostname": self.hostname, "ClusterID": self.cluster_id, "ServerID": self.server_id},
        )


@dataclass(frozen=True, slots=True)
class AlertTemplates:
    """The parsed `.id()`, `.message()` and `.details()` templates; details run as html/template does."""

    id: Template
    message: Template
    details: Template

    @classmethod
    def parse(
        cls, id: str = DEFAULT_ID, message: str = DEFAULT_MESSAGE, details: str = DEFAULT_DETAILS
    ) -> AlertTemplates:
        return cls(
            Template.parse("id", id),
            Template.parse("message", message),
            Template.parse("details", details, funcs=_JSON, html=True),
        )


def group_text(group: str) -> str:
    """`.Group`: the group id, `nil` when the data is not grouped."""
    return group if group else "nil"


def tags_value(tags: dict[str, str]) -> GoMap:
    return GoMap(dict(tags), "map[string]string", "")


def fields_value(fields: dict[str, Any]) -> GoMap:
    return GoMap(dict(fields), "map[string]interface {}", None)


def id_info(name: str, task: str, group: str, tags: dict[str, str], server: ServerInfo) -> GoStruct:
    return GoStruct(
        "kapacitor.idInfo",
        {
            "Name": name,
            "TaskName": task,
            "Group": group_text(group),
            "Tags": tags_value(tags),
            "ServerInfo": server.to_struct(),
        },
    )


def message_info(
    ident: GoStruct, id: str, fields: dict[str, Any], level: Level, time: int, duration: int
) -> GoStruct:
    return GoStruct(
        "kapacitor.messageInfo",
        {
            "idInfo": ident,
            "ID": id,
            "Fields": fields_value(fields),
            "Level": level.name,
            "Time": GoTime(time),
            "Duration": GoDuration(duration),
        },
        frozenset({"idInfo"}),
    )


def details_info(message: GoStruct, text: str) -> GoStruct:
    return GoStruct(
        "kapacitor.detailsInfo", {"messageInfo": message, "Message": text}, frozenset({"messageInfo"})
    )


def render_id(
    templates: AlertTemplates, name: str, task: str, group: str, tags: dict[str, str], server: ServerInfo
) -> str:
    return templates.id.execute(id_info(name, task, group, tags, server))


def render_message_and_details(
    templates: AlertTemplates,
    *,
    id: str,
    name: str,
    task: str,
    group: str,
    tags: dict[str, str],
    fields: dict[str, Any],
    level: Level,
    time: int,
    duration: int,
    server: ServerInfo,
) -> tuple[str, str]:
    info = message_info(id_info(name, task, group, tags, server), id, fields, level, time, duration)
    message = templates.message.execute(info)
    return message, templates.details.execute(details_info(info, message))


def handler_template_data(
    *,
    id: str,
    message: str,
    details: str,
    level: Level,
    time: int,
    duration: int,
    name: str,
    task: str,
    group: str,
    tags: dict[str, str],
    fields: dict[str, Any],
) -> GoStruct:
    """alert.TemplateData: what handler templates (post/tcp bodies, email) see."""
    return GoStruct(
        "alert.TemplateData",
        {
            "ID": id,
            "Message": message,
            "Level": level.name,
            "Time": GoTime(time),
            "Duration": GoDuration(duration),
            "Details": details,
            "Name": name,
            "TaskName": task,
            "Group": group,
            "Tags": tags_value(tags),
            "Fields": fields_value(fields),
        },
    )


def series_row(
    name: str, tags: dict[str, str], columns: list[str], values: list[list[Any]]
) -> dict[str, Any]:
    """One series of InfluxDB's JSON (models.Row), leaving out its empty members (omitempty)."""
    row: dict[str, Any] = {}
    if name:
        row["name"] = name
    if tags:
        row["tags"] = dict(tags)
    if columns:
        row["columns"] = columns
    if values:
        row["values"] = values
    return row


def point_result(name: str, tags: dict[str, str], fields: dict[str, Any], time: int) -> dict[str, Any]:
    """A point as models.Result: time first, then the fields in sorted order."""
    columns = ["time", *sorted(fields)]
    values = [[time_rfc3339nano(time), *(fields[c] for c in columns[1:])]]
    return {"series": [series_row(name, tags, columns, values)]}


def batch_result(
    name: str, tags: dict[str, str], points: list[tuple[int, dict[str, Any], dict[str, str]]]
) -> dict[str, Any]:
    """A batch as models.Result: columns from the first point's fields and its tags not on the batch,
    sorted after time; each point's value or tag, null when it has neither. `points` are
    (time, fields, tags)."""
    if not points:
        return {"series": [series_row(name, tags, [], [])]}
    _, first_fields, first_tags = points[0]
    extra = [t for t in first_tags if t not in tags]
    columns = ["time", *sorted([*first_fields, *extra])]
    values = []
    for time, fields, point_tags in points:
        row: list[Any] = [time_rfc3339nano(time)]
        for column in columns[1:]:
            row.append(fields[column] if column in fields else point_tags.get(column))
        values.append(row)
    return {"series": [series_row(name, tags, columns, values)]}
