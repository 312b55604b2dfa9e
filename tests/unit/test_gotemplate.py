"""Go text/template as Kapacitor runs it: outputs and error texts as Go produces them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.kit.errors import TicklessError
from chalicelib.kit.gotemplate import (
    GoDuration,
    GoMap,
    GoStruct,
    GoTime,
    Template,
    TemplateError,
    go_float,
    go_sprintf,
    json_encode,
    time_format,
    time_string,
)
from chalicelib.kit.syntax import ParseError

T1971 = 31_536_000 * 10**9  # 1971-01-01T00:00:00Z

DATA = GoStruct(
    "kapacitor.messageInfo",
    {
        "idInfo": GoStruct(
            "kapacitor.idInfo",
            {"Name": "cpu", "TaskName": "task", "Group": "host=serverA", "Tags": GoMap({"host": "serverA"})},
        ),
        "ID": "kapacitor/cpu/serverA",
        "Fields": GoMap({"count": 10.0, "n": 3, "s": "x"}, "map[string]interface {}", None),
        "Level": "CRITICAL",
        "Time": GoTime(T1971 + 10 * 10**9),
        "Duration": GoDuration(90 * 10**9),
    },
    frozenset({"idInfo"}),
)


def run(text: str, data: object = DATA, **kw: object) -> str:
    return Template.parse("message", text, **kw).execute(data)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ .Name }}:{{ .Group }}", "cpu:host=serverA"),
        ('kapacitor/{{ .Name }}/{{ index .Tags "host" }}', "kapacitor/cpu/serverA"),
        ("{{ .Level }} alert for {{ .ID }}", "CRITICAL alert for kapacitor/cpu/serverA"),
        ("{{ .Fields.count }} {{ .Fields.n }}", "10 3"),
        ("{{ .Fields }}", "map[count:10 n:3 s:x]"),
        ("{{ .Tags }}", "map[host:serverA]"),
        ("{{ .Time }}", "1971-01-01 00:00:10 +0000 UTC"),
        ("{{ .Duration }}", "1m30s"),
        ("{{ .Time.Unix }} {{ .Duration.Seconds }}", "31536010 90"),
        ('{{ .Time.Format "2006-01-02 15:04:05 Mon Jan _2" }}', "1971-01-01 00:00:10 Fri Jan  1"),
        (
            '{{ .Fields.missing }}|{{ index .Fields "missing" }}|{{ index .Tags "missing" }}|',
            "<no value>|<no value>||",
        ),
        ('{{ if eq .Level "CRITICAL" }}c{{ else if eq .Level "OK" }}o{{ else }}x{{ end }}', "c"),
        ('{{ if ne .Level "CRITICAL" }}c{{ else }}not{{ end }}', "not"),
        ("{{ range $k, $v := .Tags }}{{ $k }}={{ $v }};{{ end }}", "host=serverA;"),
        ("{{ range .Fields }}{{ . }},{{ end }}", "10,3,x,"),
        ("{{ range $i, $e := .Missing2 }}x{{ else }}empty{{ end }}", "empty"),
        ("{{ range 3 }}{{ . }}{{ end }}", "012"),
        (
            "{{ range $i := 4 }}{{ if eq $i 1 }}{{ continue }}{{ end }}"
            "{{ if eq $i 3 }}{{ break }}{{ end }}{{ $i }}{{ end }}",
            "02",
        ),
        ("{{ with .Name }}[{{ . }}]{{ end }}{{ with .Fields.none }}x{{ else }}none{{ end }}", "[cpu]none"),
        ("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"),
        ("{{ $ := 5 }}", ""),
        ("{{- .Name -}}  x  {{- .Name }}", "cpuxcpu"),
        ("a {{/* a comment */}} b", "a  b"),
        ("a {{- /* trimmed */ -}} b", "ab"),
        ('{{ printf "%.2f|%5d|%-5s|%q|%v" .Fields.count 42 "ab" "q" 1e6 }}', '10.00|   42|ab   |"q"|1e+06'),
        ('{{ .Name | printf "%s!" }}', "cpu!"),
        ('{{ print 1 2 "a" 3 "b" "c" }}', "1 2a3bc"),
        ('{{ println 1 "a" }}', "1 a\n"),
        ('{{ len .Tags }} {{ len "héllo" }}', "1 6"),
        ('{{ html "<a&\'b\\">" }}', "&lt;a&amp;&#39;b&#34;&gt;"),
        ('{{ js "a\'b<=" }}', "a\\'b\\u003C\\u003D"),
        ('{{ urlquery "a b&c/é" }}', "a+b%26c%2F%C3%A9"),
        ('{{ not 0 }} {{ or 0 "" 3 }} {{ and 1 0 }} {{ and 1 2 }}', "true 3 0 2"),
        ('{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }}', "true true true false"),
        ("{{ eq .Fields.n 1 2 3 }}", "true"),
        ('{{ slice "hello" 1 3 }}', "el"),
        (
            "{{ 1e3 }} {{ 0x1F }} {{ 'a' }} {{ 017 }} {{ 1_000 }} {{ -3 }} {{ 1.5 }}",
            "1000 31 97 15 1000 -3 1.5",
        ),
        ('{{ true }} {{ "s" }} {{ `raw\\n` }}', "true s raw\\n"),
        ('{{ (index .Tags "host") }}', "serverA"),
        ("{{ .Missing2.Deeper }}", "<no value>"),
        ("{{ .ServerInfo }}", "<no value>"),
    ],
)
def test_execution(text: str, expected: str) -> None:
    if (
        text.startswith("{{ .Missing2.Deeper")
        or text.startswith("{{ range $i, $e := .Missing2")
        or text == "{{ .ServerInfo }}"
    ):
        data: object = GoMap({"Missing2": None}, "map[string]interface {}", None)
        assert run(text, data) == expected
        return
    assert run(text) == expected


def test_whole_struct_prints_as_go_does() -> None:
    assert run("{{ . }}") == (
        "{{cpu task host=serverA map[host:serverA]} kapacitor/cpu/serverA map[count:10 n:3 s:x] CRITICAL "
        "1971-01-01 00:00:10 +0000 UTC 1m30s}"
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{{ foo }}", 'template: message:1: function "foo" not defined'),
        ("{{ json . }}", 'template: message:1: function "json" not defined'),
        ("{{ if }}", "template: message:1: missing value for if"),
        ("{{ }}", "template: message:1: missing value for command"),
        ("{{ end }}", "template: message:1: unexpected {{end}}"),
        ("{{ else }}", "template: message:1: unexpected {{else}}"),
        ("{{ if .X }}", "template: message:1: unexpected EOF"),
        ("line1\n{{", "template: message:2: unclosed action"),
        ("{{\n\n", "template: message:3: unclosed action started at message:1"),
        ("{{/*}}", "template: message:1: unclosed comment"),
        ("{{/* x */ .X}}", "template: message:1: comment ends before closing delimiter"),
        ("{{ $a }}", 'template: message:1: undefined variable "$a"'),
        ("{{ break }}", "template: message:1: {{break}} outside {{range}}"),
        ("{{ 12 | false }}", "template: message:1: non executable command in pipeline stage 2"),
        ("{{ ( ) }}", "template: message:1: missing value for parenthesized pipeline"),
        ("{{ true.any }}", 'template: message:1: unexpected . after term "true"'),
        ('{{ "a }}', "template: message:1: unterminated quoted string"),
        ("{{ 'a }}", "template: message:1: unterminated character constant"),
        ("{{ `a }}", "template: message:1: unterminated raw quoted string"),
        ("{{ 0xi }}", 'template: message:1: illegal number syntax: "0xi"'),
        ("{{ a# }}", "template: message:1: bad character U+0023 '#'"),
        ("{{ .X#}}", "template: message:1: bad character U+0023 '#'"),
        ("{{ .X (1 2 3 }}", "template: message:1: unclosed left paren"),
        ("{{ .X 1 2 3 ) }}", "template: message:1: unexpected right paren"),
        ("{{ $a,$b,$c := 23 }}", "template: message:1: too many declarations in command"),
        ("{{ range $k, 123 := . }}{{ end }}", "template: message:1: range can only initialize variables"),
        ("{{ .X | 3 }}", "template: message:1: non executable command in pipeline stage 2"),
        ('{{ "\\q" }}', "template: message:1: invalid syntax"),
    ],
)
def test_parse_errors(text: str, error: str) -> None:
    with pytest.raises(ParseError) as info:
        Template.parse("message", text)
    assert info.value.message == error


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "{{ .Nope }}",
            'template: message:1:3: executing "message" at <.Nope>: '
            "can't evaluate field Nope in type kapacitor.messageInfo",
        ),
        (
            "{{ .idInfo }}",
            'template: message:1:3: executing "message" at <.idInfo>: '
            "idInfo is an unexported field of struct type kapacitor.messageInfo",
        ),
        (
            "{{ .Name.Foo }}",
            'template: message:1:3: executing "message" at <.Name.Foo>: '
            "can't evaluate field Foo in type string",
        ),
        (
            "{{ index .Tags 5 }}",
            'template: message:1:3: executing "message" at <index .Tags 5>: '
            "error calling index: value has type int; should be string",
        ),
        (
            "{{ eq 1 1.5 }}",
            'template: message:1:3: executing "message" at <eq 1 1.5>: '
            "error calling eq: incompatible types for comparison: int and float64",
        ),
        (
            "{{ lt true false }}",
            'template: message:1:3: executing "message" at <lt true false>: '
            "error calling lt: invalid type for comparison",
        ),
        (
            "{{ len 3 }}",
            'template: message:1:3: executing "message" at <len 3>: error calling len: len of type int',
        ),
        (
            "{{ not }}",
            'template: message:1:3: executing "message" at <not>: wrong number of args for not: want 1 got 0',
        ),
        (
            "{{ printf 5 }}",
            'template: message:1:10: executing "message" at <5>: expected string; found 5',
        ),
        (
            "{{ 99999999999999999999 }}",
            'template: message:1:3: executing "message" at <99999999999999999999>: '
            "99999999999999999999 overflows int",
        ),
        (
            "{{ range .Name }}{{ end }}",
            'template: message:1:9: executing "message" at <.Name>: range can\'t iterate over cpu',
        ),
        ("{{ nil }}", 'template: message:1:3: executing "message" at <nil>: nil is not a command'),
        (
            "x\n  {{ .Level 1 }}",
            'template: message:2:5: executing "message" at <.Level>: '
            "Level has arguments but cannot be invoked as function",
        ),
    ],
)
def test_execution_errors(text: str, error: str) -> None:
    with pytest.raises(TemplateError) as info:
        run(text)
    assert info.value.message == error


def test_kapacitor_default_details_is_html_escaped_json() -> None:
    # TestStream_AlertPagerDuty: the details are html.EscapeString of the JSON (with its newline).
    details = Template.parse("details", "{{ json . }}", funcs={"json"}, html=True)
    data = GoStruct(
        "kapacitor.detailsInfo",
        {
            "messageInfo": DATA,
            "Message": "CRITICAL alert for kapacitor/cpu/serverA",
        },
        frozenset({"messageInfo"}),
    )
    expected = (
        '{"Name":"cpu","TaskName":"task","Group":"host=serverA","Tags":{"host":"serverA"},'
        '"ID":"kapacitor/cpu/serverA","Fields":{"count":10,"n":3,"s":"x"},"Level":"CRITICAL",'
        '"Time":"1971-01-01T00:00:10Z","Duration":90000000000,'
        '"Message":"CRITICAL alert for kapacitor/cpu/serverA"}\n'
    )
    assert details.execute(data) == expected.replace('"', "&#34;")


def test_html_mode_escapes_actions_not_text() -> None:
    tmpl = Template.parse("details", '<b>{{ .A }}</b>{{ "1+1" }}', html=True)
    assert tmpl.execute({"A": "<x & 'y'>"}) == "<b>&lt;x &amp; &#39;y&#39;&gt;</b>1&#43;1"


def test_json_compact_and_text_json() -> None:
    body = Template.parse("body", "{{ jsonCompact . }}|{{ json .A }}", funcs={"json", "jsonCompact"})
    assert (
        body.execute({"b": [1, 2.5, None], "A": "<&>"})
        == '{"A":"\\u003c\\u0026\\u003e","b":[1,2.5,null]}|"\\u003c\\u0026\\u003e"\n'
    )


def test_json_of_nan_writes_nothing() -> None:
    body = Template.parse("body", "[{{ json . }}]", funcs={"json"})
    assert body.execute({"x": float("nan")}) == "[]"


def test_define_and_template() -> None:
    text = '{{ define "t" }}<{{ . }}>{{ end }}{{ template "t" .Name }}{{ block "b" 1 }}[{{ . }}]{{ end }}'
    assert run(text) == "<cpu>[1]"


@pytest.mark.parametrize(
    ("fmt", "args", "expected"),
    [
        ("%d %s", [1], "1 %!s(MISSING)"),
        ("%d", [1, 2], "1%!(EXTRA int=2)"),
        ("%s", [5], "%!s(int=5)"),
        ("%d", ["x"], "%!d(string=x)"),
        ("%v %v", [None, True], "<nil> true"),
        (
            "%05.1f|%+d|%x|%X|%o|%#x|%b|%c|%U",
            [3.14159, 5, 255, 255, 8, 255, 5, 65, 65],
            "003.1|+5|ff|FF|10|0xff|101|A|U+0041",
        ),
        ("%e|%g|%G|%.3g", [1234.5678, 0.00001, 1e21, 1234.5678], "1.234568e+03|1e-05|1E+21|1.23e+03"),
        ("%10.3s|%-4d|%%", ["abcdef", 7], "       abc|7   |%"),
        ("%q", ['a"b\n'], '"a\\"b\\n"'),
        ("%x", ["hi"], "6869"),
        ("%t", [False], "false"),
        ("%s", [GoDuration(1500 * 10**6)], "1.5s"),
        ("%d", [GoDuration(5)], "5"),
        ("%v", [[1, "a"]], "[1 a]"),
        ("%", [], "%!(NOVERB)"),
    ],
)
def test_sprintf(fmt: str, args: list[object], expected: str) -> None:
    assert go_sprintf(fmt, args) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (10.0, "10"),
        (0.1, "0.1"),
        (100000.0, "100000"),
        (1e6, "1e+06"),
        (123456789.0, "1.23456789e+08"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5, "-2.5"),
        (0.0, "0"),
        (-0.0, "-0"),
        (float("inf"), "+Inf"),
        (float("nan"), "NaN"),
    ],
)
def test_floats_print_as_fmt_v(value: float, expected: str) -> None:
    assert go_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1e21, "1e+21"), (1e20, "100000000000000000000"), (1e-7, "1e-7"), (0.000001, "0.000001"), (3.0, "3")],
)
def test_json_floats(value: float, expected: str) -> None:
    assert json_encode(value) == expected


def test_times() -> None:
    assert time_string(T1971 + 1_500_000_000) == "1971-01-01 00:00:01.5 +0000 UTC"
    layout = "Mon Jan 2 15:04:05.000 MST 2006 PM -07:00 Z07:00 .999"
    assert time_format(T1971 + 13 * 3600 * 10**9 + 5_000_000, layout) == (
        "Fri Jan 1 13:00:00.005 UTC 1971 PM +00:00 Z .005"
    )
    assert time_string(-62_135_596_800 * 10**9) == "0001-01-01 00:00:00 +0000 UTC"


def test_unknown_extra_function_names_are_refused() -> None:
    with pytest.raises(TicklessError):
        Template.parse("x", "", funcs={"exec"})


def test_hostile_templates_are_bounded() -> None:
    with pytest.raises(ParseError):
        Template.parse("m", "{{ " + "(" * 500 + "1" + ")" * 500 + " }}")
    with pytest.raises(ParseError):
        Template.parse("m", "{{ if 1 }}" * 500 + "{{ end }}" * 500)
    loop = Template.parse("m", "{{ range 100000 }}{{ range 100000 }}x{{ end }}{{ end }}")
    with pytest.raises(TemplateError):
        loop.execute(None)
    grow = Template.parse("m", '{{ range 5000 }}{{ printf "%1000000d" 1 }}{{ end }}')
    with pytest.raises(TemplateError):
        grow.execute(None)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}-/*.$ :=|()\"'`\\abeifnd0123xX,\n\t")), max_size=60))
def test_fuzz_never_crashes(text: str) -> None:
    try:
        tmpl = Template.parse("fuzz", text, funcs={"json"})
    except ParseError as err:
        assert err.message.startswith("template: fuzz:")
        return
    try:
        out = tmpl.execute(DATA)
    except TemplateError as err:
        assert err.message.startswith("template: fuzz")
        return
    assert isinstance(out, str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_fuzz_plain_text_passes_through(text: str) -> None:
    if "{{" in text:
        return
    assert Template.parse("t", text).execute(None) == text
