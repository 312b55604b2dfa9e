"""The parse tree: the nodes of text, actions, pipelines, commands and their operands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class _Node:
    pos: int


@dataclass(slots=True)
class _Text(_Node):
    text: str


@dataclass(slots=True)
class _Dot(_Node):
    def __str__(self) -> str:
        return "."


@dataclass(slots=True)
class _Nil(_Node):
    def __str__(self) -> str:
        return "nil"


@dataclass(slots=True)
class _Bool(_Node):
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(slots=True)
class _Number(_Node):
    text: str
    value: int | float
    overflow: bool = False  # an integer literal beyond int64

    def __str__(self) -> str:
        return self.text


@dataclass(slots=True)
class _String(_Node):
    quoted: str
    value: str

    def __str__(self) -> str:
        return self.quoted


@dataclass(slots=True)
class _Field(_Node):
    idents: list[str]

    def __str__(self) -> str:
        return "".join("." + i for i in self.idents)


@dataclass(slots=True)
class _Variable(_Node):
    idents: list[str]

    def __str__(self) -> str:
        return ".".join(self.idents)


@dataclass(slots=True)
class _Identifier(_Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(slots=True)
class _Command(_Node):
    args: list[Any] = field(default_factory=list)

    def __str__(self) -> str:
        parts = []
        for arg in self.args:
            parts.append(f"({arg})" if isinstance(arg, _Pipe) else str(arg))
        return " ".join(parts)


@dataclass(slots=True)
class _Pipe(_Node):
    line: int
    decl: list[_Variable] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[_Command] = field(default_factory=list)

    def __str__(self) -> str:
        text = ""
        if self.decl:
            text = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return text + " | ".join(str(c) for c in self.cmds)


@dataclass(slots=True)
class _Chain(_Node):
    node: Any
    fields: list[str]

    def __str__(self) -> str:
        inner = f"({self.node})" if isinstance(self.node, _Pipe) else str(self.node)
        return inner + "".join("." + f for f in self.fields)


@dataclass(slots=True)
class _Action(_Node):
    line: int
    pipe: _Pipe

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass(slots=True)
class _Control(_Node):
    kind: str  # if, with, range
    pipe: _Pipe
    body: list[Any]
    orelse: list[Any] | None


@dataclass(slots=True)
class _Loop(_Node):
    kind: str  # break, continue


@dataclass(slots=True)
class _Call(_Node):
    name: str
    pipe: _Pipe | None


@dataclass(slots=True)
class _End(_Node):
    def __str__(self) -> str:
        return "{{end}}"


@dataclass(slots=True)
class _Else(_Node):
    line: int

    def __str__(self) -> str:
        return "{{else}}"


# The node kinds a caller may inspect to recognise a template's shape (alert/messages.py's fast form).
TextNode = _Text
FieldNode = _Field
ActionNode = _Action
