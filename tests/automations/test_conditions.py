"""CEL conditions as a user expects them (absent fields, has()), errors with positions, and the
Jinja sandbox: templates cannot reach Python, and event values are data, never templates."""

from __future__ import annotations

import pytest

from hookline.automations.conditions import Condition, EvalContext
from hookline.automations.errors import ExpressionError, TemplateError
from hookline.automations.templates import check_value, render, render_value


def matches(expr: str, data: object, **more: object) -> bool:
    return Condition.compile(expr).matches(EvalContext({"data": data, **more}))


@pytest.mark.parametrize(
    ("data", "set_"),
    [({}, False), ({"missed_call_reason": None}, False), ({"missed_call_reason": "no_available_agent"}, True)],
)
def test_not_null_is_true_exactly_when_the_field_is_set(data: dict[str, object], set_: bool) -> None:
    assert matches("data.missed_call_reason != null", data) is set_
    assert matches("data.missed_call_reason == null", data) is not set_
    assert matches("null != data.missed_call_reason", data) is set_


def test_nested_paths_under_an_absent_or_null_parent_read_as_null() -> None:
    for data in ({}, {"user": None}, {"user": {}}):
        assert matches("data.user.email == null", data)
        assert not matches("data.user.email != null", data)
    assert matches("data.user.email != null", {"user": {"email": "a@example.com"}})


def test_has_works_and_other_errors_are_no_match() -> None:
    assert matches("has(data.user)", {"user": {"id": 1}})
    assert not matches("has(data.user)", {})
    assert matches("has(data.user) && data.user.id > 0", {"user": {"id": 3}})
    assert not matches("data.user.id > 0", {})  # an absent field read: false, never an exception
    assert not matches("data.direction == 'inbound'", {"direction": 5})  # wrong type: false
    assert matches('data.direction == "inbound" && event == "call.created"', {"direction": "inbound"},
                   event="call.created")


def test_null_inside_string_literals_is_left_alone() -> None:
    assert matches('data.note == "x.y != null"', {"note": "x.y != null"})


def test_macros_bind_their_own_names() -> None:
    assert matches('data.tags.exists(t, t.name == "vip")', {"tags": [{"name": "vip"}]})


@pytest.mark.parametrize(
    ("expr", "line", "column", "words"),
    [
        ('data.direction == "inbound" &&', 1, 31, "Syntax error"),
        ("data.x == 1 &&\n  foo == 2", 2, 3, "unknown name 'foo'"),
        ("(data.x", 1, 8, "Syntax error"),
    ],
)
def test_compile_errors_carry_line_and_column(expr: str, line: int, column: int, words: str) -> None:
    with pytest.raises(ExpressionError) as err:
        Condition.compile(expr)
    assert (err.value.line, err.value.column) == (line, column)
    assert words in str(err.value) and f"line {line}, column {column}" in str(err.value)


def test_template_syntax_errors_carry_the_line() -> None:
    with pytest.raises(TemplateError) as err:
        check_value({"a": ["ok", "first\n{{ data.x | }}"]})
    assert err.value.line == 2 and "line 2" in str(err.value)


@pytest.mark.parametrize(
    "hostile",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ data.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.system('id') }}",
        "{% set x = data.update({'a': 1}) %}{{ x }}",
    ],
)
def test_the_sandbox_refuses_python_internals(hostile: str) -> None:
    data = {"a": 0}
    try:
        out = render(hostile, {"data": data})
    except TemplateError as exc:
        assert "unsafe" in str(exc)
    else:  # an unsafe attribute of a mapping reads as undefined: empty, nothing of Python leaked
        assert out == ""
    assert data == {"a": 0}


def test_values_from_the_event_are_data_not_templates() -> None:
    data = {"name": "{{ ''.__class__ }}", "raw_digits": "+33 1 & <b>"}
    assert render("{{ data.name }}", {"data": data}) == "{{ ''.__class__ }}"
    assert render_value({"url": "https://crm.test/?p={{ data.raw_digits | urlencode }}"}, {"data": data}) == {
        "url": "https://crm.test/?p=%2B33%201%20%26%20%3Cb%3E"
    }
    # An absent step result renders empty instead of failing the run.
    assert render("{{ steps.crm.json.company }}", {"steps": {}}) == ""


def test_a_shared_context_holds_what_every_candidate_rule_reads() -> None:
    from hookline.automations.conditions import merge_needs

    rules = [Condition.compile(e) for e in (
        'data.direction == "inbound"', "has(data.user) && data.user.id == 3", "data.missed_call_reason != null",
        'body.event == "call.created"', "size(data) == 4",
    )]
    values = {"data": {"direction": "inbound", "user": {"id": 3}, "missed_call_reason": None, "other": 1},
              "body": {"event": "call.created", "token": "***"}}
    needs = merge_needs([c.needs for c in rules[:4]])
    assert needs == {"data": frozenset({"direction", "user", "missed_call_reason"}), "body": frozenset({"event"})}
    shared = EvalContext(values, needs)
    assert [c.matches(shared) for c in rules[:4]] == [True, True, False, True]
    # A condition that uses `data` whole gets it whole.
    assert Condition.compile("size(data) == 4").needs == {"data": None}
    assert rules[4].matches(EvalContext(values, merge_needs([c.needs for c in rules])))


@pytest.mark.parametrize(
    ("expr", "guards"),
    [
        ('data.direction == "inbound" && data.id % 100 == 3', (("data", "direction", "inbound"),)),
        ("'call.created' == event && (has(data.user) || true)", (("event", None, "call.created"),)),
        ('data.a == "1&&2" && provider == "aircall"', (("data", "a", "1&&2"), ("provider", None, "aircall"))),
        ('data.direction == "inbound" || data.id == 3', ()),  # an `||` at the top: nothing is necessary
        ('data.direction == "inbound" ? true : false', ()),
        ('data.x == "a" // && data.y == "b"', ()),  # a comment: not read
        ('data.x == "a\\"b" && data.user.name == "x"', ()),  # escapes and deeper paths: left to CEL
    ],
)
def test_equality_guards_are_the_top_level_string_equalities(expr: str, guards: tuple[object, ...]) -> None:
    from hookline.automations.conditions import equality_guards

    assert equality_guards(expr) == guards


@pytest.mark.parametrize(
    "data",
    [{"direction": "inbound", "id": 3}, {"direction": "outbound", "id": 3}, {"id": 3}, {"direction": 3, "id": 3},
     {"direction": None, "id": 3}, {"direction": "inbound", "id": 4}, [1, 2], "text", None],
)
def test_a_failed_guard_means_the_condition_is_false(data: object) -> None:
    """The matcher skips a rule whose guard fails without evaluating it: only sound if CEL agrees."""
    from hookline.automations.conditions import guards_pass

    condition = Condition.compile('data.direction == "inbound" && data.id % 100 == 3')
    values = {"data": data, "event": "call.created"}
    if not guards_pass(condition.guards, values):
        assert not condition.matches(EvalContext(values))
    else:
        assert condition.matches(EvalContext(values)) == (isinstance(data, dict) and data.get("id") == 3)
