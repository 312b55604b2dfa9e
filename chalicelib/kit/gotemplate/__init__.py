"""Go's text/template as Kapacitor users write it in alert ids, messages, details and handler templates.

A template is parsed once (`Template.parse`) and executed against data (`Template.execute`). Data is plain
Python: None is Go's nil, str/bool/int/float the basic kinds, list a slice, dict a map (printed and ranged in
sorted key order), and `GoStruct`, `GoTime`, `GoDuration` stand for Go structs, time.Time and time.Duration.
Output is written as Go's fmt writes it; errors read as Go words them (`template: message:1: ...`).
Execution is bounded (steps, output size, nesting) so a hostile template cannot run away."""

from chalicelib.kit.gotemplate.errors import TemplateError
from chalicelib.kit.gotemplate.jsonenc import json_encode
from chalicelib.kit.gotemplate.parser import KAPACITOR_JSON_FUNCS
from chalicelib.kit.gotemplate.printf import go_float, go_quote, go_sprintf
from chalicelib.kit.gotemplate.template import Template
from chalicelib.kit.gotemplate.timefmt import time_format, time_rfc3339nano, time_string
from chalicelib.kit.gotemplate.values import GoDuration, GoMap, GoStruct, GoTime

__all__ = [
    "KAPACITOR_JSON_FUNCS",
    "GoDuration",
    "GoMap",
    "GoStruct",
    "GoTime",
    "Template",
    "TemplateError",
    "go_float",
    "go_quote",
    "go_sprintf",
    "json_encode",
    "time_format",
    "time_rfc3339nano",
    "time_string",
]
