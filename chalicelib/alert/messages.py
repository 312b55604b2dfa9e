"""What an alert's templates see and what its event carries: Kapacitor's idInfo / messageInfo / detailsInfo
template data, the handlers' TemplateData, and the triggering data as InfluxDB series JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.alert.events import Level
from chalicelib.kit.gotemplate import GoDuration, GoMap, GoStruct, GoTime, Template, time_rfc3339nano
from chalicelib.kit.gotemplate.limits import MAX_OUTPUT, MAX_STEPS
from chalicelib.kit.gotemplate.nodes import ActionNode, FieldNode, TextNode

DEFAULT_ID = "{{ .Name }}:{{ .Group }}"
DEFAULT_MESSAGE = "{{ .ID }} is {{ .Level }}"
DEFAULT_DETAILS = "{{ json . }}"

_JSON = frozenset({"json", "jsonCompact"})
# The string fields of idInfo, and of messageInfo (which embeds idInfo), that a FastTemplate may print.
ID_STRINGS = frozenset({"Name", "TaskName", "Group"})
MESSAGE_STRINGS = ID_STRINGS | {"ID", "Level"}


class FastTemplate:
    """A text/template made only of text and `{{ .Field }}` actions on string fields: Go prints a string
    as it is (fmt's %v), so executing it is joining the text and the values. `render` answers None (the
    caller executes the template in full) when a value is not a str or the output is beyond the engine's
    limit (where the engine fails)."""

    __slots__ = ("format", "names")

    def __init__(self, format: str, names: tuple[str, ...]) -> None:
        self.format = format
        self.names = names

    @classmethod
    def compile(cls, template: Template, fields: frozenset[str]) -> FastTemplate | None:
        """The fast form of `template` when it prints only `fields` of its data; None otherwise."""
        if template.html:
            return None
        parts: list[str] = []
        names: list[str] = []
        for node in template.root:
            if type(node) is TextNode:
                parts.append(node.text.replace("{", "{{").replace("}", "}}"))
                continue
            if type(node) is not ActionNode:
                return None
            pipe = node.pipe
            if pipe.decl or len(pipe.cmds) != 1 or len(pipe.cmds[0].args) != 1:
                return None
            arg = pipe.cmds[0].args[0]
            if type(arg) is not FieldNode or len(arg.idents) != 1 or arg.idents[0] not in fields:
                return None
            parts.append("{" + arg.idents[0] + "}")
            names.append(arg.idents[0])
        # The engine counts a step per node and per action's command: beyond its budget it fails.
        if len(template.root) + len(names) > MAX_STEPS:
            return None
        return cls("".join(parts), tuple(dict.fromkeys(names)))

    def render(self, values: dict[str, Any]) -> str | None:
        for name in self.names:
            if type(values[name]) is not str:
                return None
        text = self.format.format_map(values)
        return text if len(text) <= MAX_OUTPUT else None


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
    fast_id: FastTemplate | None = field(default=None, init=False, repr=False, compare=False)
    fast_message: FastTemplate | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fast_id", FastTemplate.compile(self.id, ID_STRINGS))
        object.__setattr__(self, "fast_message", FastTemplate.compile(self.message, MESSAGE_STRINGS))

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
    fast = templates.fast_id
    if fast is not None:
        text = fast.render({"Name": name, "TaskName": task, "Group": group_text(group)})
        if text is not None:
            return text
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
    message = None
    fast = templates.fast_message
    if fast is not None:
        values = {"Name": name, "TaskName": task, "Group": group_text(group), "ID": id, "Level": level.name}
        message = fast.render(values)
    if message is None:
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
