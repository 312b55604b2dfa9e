"""The `option task = {...}` of a Flux task script, read and rewritten as influxd's task/options and
taskmodel packages do: read from the syntax tree alone (nothing is evaluated), checked with influxd's words.

`task_options` raises `OptionsError` with the options package's message; influxd's create and update
answers prefix it (see chalicelib.scheduler.tasks). Durations are kept as the Flux text written in the
script (`every: 1h` shows as "1h"; months and years have no fixed length)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.flux import ast
from chalicelib.flux.parser import parse
from chalicelib.flux.values import Duration, duration_of
from chalicelib.kit.errors import INVALID, TicklessError, invalid
from chalicelib.kit.time import NS_PER_UNIT, SECOND
from chalicelib.scheduler.cron import parse_cron

MAX_CONCURRENCY = 100
MAX_RETRY = 10
_MAX_GO_DURATION = (1 << 63) - 1


class OptionsError(TicklessError):
    """An error of influxd's options package (its create and update answers wrap it)."""

    def __init__(self, message: str) -> None:
        super().__init__(INVALID, message)


@dataclass(frozen=True)
class TaskOptions:
    name: str
    every: str | None  # Flux duration text, e.g. "1h"; exactly one of every and cron is set
    cron: str | None
    offset: int = 0  # ns, may be negative; 0 when absent
    concurrency: int = 1  # influxd's defaults when the script sets none
    retry: int = 1


def task_options(flux: str) -> TaskOptions:
    """The task options of a script, checked as influxd checks them on create and update."""
    obj = _task_object(_parse(flux))
    props = _properties(obj)
    name = _name(props)
    every, cron = _schedule(props)
    offset = _offset(props, flux)
    concurrency = _integer(props, "concurrency", 1)
    retry = _integer(props, "retry", 1)
    _validate(name, every, cron, offset, concurrency, retry)
    return TaskOptions(
        name=name,
        every=_text(every) if every is not None and not _zero(every) else None,
        cron=cron or None,
        offset=_go_duration_ns(offset) if offset is not None else 0,
        concurrency=concurrency,
        retry=retry,
    )


def _parse(flux: str) -> ast.File:
    try:
        return parse(flux)
    except TicklessError as e:
        raise OptionsError(e.message) from e


def _task_statements(file: ast.File) -> list[ast.VariableAssignment]:
    return [
        st.assignment
        for st in file.body
        if isinstance(st, ast.OptionStatement)
        and isinstance(st.assignment, ast.VariableAssignment)
        and st.assignment.id.name == "task"
    ]


def _task_object(file: ast.File) -> ast.ObjectExpression:
    found = _task_statements(file)
    if len(found) > 1:
        raise OptionsError("multiple task options defined")
    if not found:
        raise OptionsError("no task options defined")
    if not isinstance(found[0].init, ast.ObjectExpression):
        # influxd names the type of its nil *ObjectExpression here, whatever the value is.
        raise OptionsError('task option expected to be object literal, but found "ObjectExpression"')
    return found[0].init


def _key(prop: ast.Property) -> str:
    return prop.key.name if isinstance(prop.key, ast.Identifier) else prop.key.value


def _properties(obj: ast.ObjectExpression) -> dict[str, ast.Node | None]:
    props: dict[str, ast.Node | None] = {}
    for prop in obj.properties:
        props.setdefault(_key(prop), prop.value)  # the first one counts
    return props


def _field_error(name: str) -> OptionsError:
    return OptionsError(f"failed to parse field '{name}' in task options")


def _name(props: dict[str, ast.Node | None]) -> str:
    if "name" not in props:
        raise OptionsError("missing required option: name")
    value = props["name"]
    if not isinstance(value, ast.StringLiteral):
        raise _field_error("name")
    return value.value


def _schedule(props: dict[str, ast.Node | None]) -> tuple[ast.DurationLiteral | None, str]:
    if "cron" in props and "every" in props:
        raise OptionsError("cannot use both cron and every in task options")
    if "cron" not in props and "every" not in props:
        raise OptionsError("missing required option: cron or every")
    if "cron" in props:
        value = props["cron"]
        if not isinstance(value, ast.StringLiteral):
            raise _field_error("cron")
        return None, value.value
    every = props["every"]
    if not isinstance(every, ast.DurationLiteral):
        raise _field_error("every")
    return every, ""


def _offset(props: dict[str, ast.Node | None], flux: str) -> ast.DurationLiteral | None:
    value = props.get("offset", ...)
    if value is ...:
        return None
    if isinstance(value, ast.DurationLiteral):
        return value
    if isinstance(value, ast.UnaryExpression):
        # influxd reparses the expression's source text as a signed duration.
        try:
            parse_signed_duration(flux[value.start : value.end])
        except TicklessError as e:
            raise OptionsError(e.message) from e
        if value.operator == "-" and isinstance(value.argument, ast.DurationLiteral):
            return ast.DurationLiteral([(-m, u) for m, u in value.argument.values])
    raise _field_error("offset")


def _integer(props: dict[str, ast.Node | None], name: str, default: int) -> int:
    if name not in props:
        return default
    value = props[name]
    if not isinstance(value, ast.IntegerLiteral):
        raise _field_error(name)
    return value.value


def _validate(
    name: str, every: ast.DurationLiteral | None, cron: str, offset: ast.DurationLiteral | None, *limits: int
) -> None:
    errs = []
    if not name:
        errs.append("name required")
    has_every = every is not None and not _zero(every)
    if bool(cron) == has_every:
        errs.append("must specify exactly one of either cron or every")
    elif cron:
        try:
            parse_cron(cron)
        except TicklessError as e:
            errs.append("cron invalid: " + e.message)
    elif every is not None:
        d = _duration(every)
        if d.months <= 0 and d.ns < SECOND:
            errs.append("every option must be at least 1 second")
        elif d.ns % SECOND:
            errs.append("every option must be expressible as whole seconds")
    if offset is not None and _duration(offset).ns % SECOND:
        # influxd allows negative offsets ("maybe they're useful for forecasting").
        errs.append("offset option must be expressible as whole seconds")
    concurrency, retry = limits
    if concurrency < 1:
        errs.append("concurrency must be at least 1")
    elif concurrency > MAX_CONCURRENCY:
        errs.append(f"concurrency exceeded max of {MAX_CONCURRENCY}")
    if retry < 1:
        errs.append("retry must be at least 1")
    elif retry > MAX_RETRY:
        errs.append(f"retry exceeded max of {MAX_RETRY}")
    if errs:
        raise OptionsError("invalid options: " + ", ".join(errs))


def _zero(d: ast.DurationLiteral) -> bool:
    return all(m == 0 for m, _ in d.values)


def _duration(d: ast.DurationLiteral) -> Duration:
    return duration_of([(m, "us" if u == "µs" else u) for m, u in d.values])


def _text(d: ast.DurationLiteral) -> str:
    """Flux's formatting of a duration literal: its parts as written (a negative one prints its sign once)."""
    body = "".join(f"{abs(m)}{u}" for m, u in d.values)
    return "-" + body if any(m < 0 for m, _ in d.values) else body


def _go_duration_ns(d: ast.DurationLiteral) -> int:
    """influxd stores the offset as a Go time.Duration parsed from the literal's text, which knows no unit
    above hours: `offset: 1d` fails there (as an internal error; here as invalid input)."""
    text = _text(d)
    total = 0
    for magnitude, unit in d.values:
        if unit not in NS_PER_UNIT and unit != "µs":
            raise invalid(f'unexpected error parsing time: time: unknown unit "{unit}" in duration "{text}"')
        total += magnitude * NS_PER_UNIT["us" if unit == "µs" else unit]
    if abs(total) > _MAX_GO_DURATION:
        raise invalid(f'unexpected error parsing time: time: invalid duration "{text}"')
    return total


# -- the PATCH rewrite -------------------------------------------------------------------------------------


def parse_signed_duration(text: str) -> str:
    """A duration of a PATCH body (`every`, `offset`), checked as influxd's options.ParseSignedDuration checks
    it (digits then letters, repeated; a leading `-`); returns its text. Flux parses it later."""
    body = text[1:] if text.startswith("-") else text
    i = 0
    while i < len(body):
        j = i
        while j < len(body) and body[j].isdigit():
            j += 1
        if j == i:
            raise invalid(f"invalid duration {body[i:]}")
        k = j
        while k < len(body) and body[k].isalpha():
            k += 1
        if k == j:
            raise invalid(f"duration is missing a unit: {body[j:]}")
        i = k
    return text


def is_zero_duration(text: str) -> bool:
    """Every magnitude is zero (an empty text too), as options.Duration.IsZero."""
    return all(int(m) == 0 for m in re.findall(r"\d+", text))


def with_options(
    flux: str,
    *,
    every: str | None = None,
    cron: str | None = None,
    offset: str | None = None,
    name: str | None = None,
) -> str:
    """The script with its task option edited as influxd edits it on PATCH: a new name, every, cron or
    offset replaces the property's value; every replaces a cron property (and cron an every one); a zero
    offset removes the offset property; what is new is appended. influxd then reformats the whole script;
    this rewrites only the task option's record (one line, `key: value` joined by `, `) and keeps the rest
    of the script as written. Durations are Flux duration text; empty strings and None change nothing."""
    every = every if every and not is_zero_duration(every) else None
    if every and cron:
        raise invalid("cannot specify both cron and every")
    ops: dict[str, str] = {}
    if name:
        ops["name"] = flux_string(name)
    if every:
        ops["every"] = every
    if cron:
        ops["cron"] = flux_string(cron)
    drop_offset = offset is not None and is_zero_duration(offset)
    if offset is not None and not drop_offset:
        ops["offset"] = offset
    if not ops and not drop_offset:
        return flux
    found = _task_statements(_parse(flux))
    if not found:
        raise invalid("unable to edit option")
    obj = found[0].init
    if not isinstance(obj, ast.ObjectExpression):
        raise invalid(f"value is is {type(obj).__name__}, not an object expression")
    parts = []
    for prop in obj.properties:
        key = _key(prop)
        if key == "offset" and drop_offset:
            continue
        if key in ("name", "offset", "every", "cron") and key in ops:
            parts.append(f"{flux[prop.key.start : prop.key.end]}: {ops.pop(key)}")
        elif key == "every" and "cron" in ops:
            parts.append(f"cron: {ops.pop('cron')}")
        elif key == "cron" and "every" in ops:
            parts.append(f"every: {ops.pop('every')}")
        else:
            parts.append(flux[prop.start : prop.end])
    parts += [f"{key}: {value}" for key, value in ops.items()]
    head = f"{obj.with_.name} with " if obj.with_ is not None else ""
    return flux[: obj.start] + "{" + head + ", ".join(parts) + "}" + flux[obj.end :]


def flux_string(value: str) -> str:
    """A Flux string literal, escaped as Flux's formatter escapes one."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    return f'"{escaped}"'
