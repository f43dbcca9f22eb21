"""The metav1.LabelSelector object form: conversion, validation, formatting (as upstream)."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api import (
    LabelSelector,
    SelectorError,
    format_label_selector,
    label_selector_from_api,
    label_selector_to_api,
    parse_label_selector,
    validate_label_selector,
)

_QNAME_RULE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def test_null_selector_matches_nothing_empty_selector_matches_everything() -> None:
    nothing = label_selector_from_api(None)
    assert nothing == LabelSelector.nothing()
    assert not nothing.matches({}) and not nothing.matches({"app": "web"})
    for empty in ({}, {"matchLabels": {}}, {"matchExpressions": []}, {"matchLabels": None}):
        sel = label_selector_from_api(empty)
        assert sel.empty and sel.matches({}) and sel.matches({"app": "web"})


@pytest.mark.parametrize(
    ("obj", "canonical"),
    [
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                    {"key": "env", "operator": "NotIn", "values": ["dev"]},
                    {"key": "canary", "operator": "DoesNotExist"},
                    {"key": "app", "operator": "Exists", "values": []},
                ],
            },
            "app=web,app,!canary,env notin (dev),tier in (be,fe)",
        ),
    ],
)
def test_from_api_builds_the_upstream_selector(obj: dict[str, Any], canonical: str) -> None:
    sel = label_selector_from_api(obj)
    assert str(sel) == canonical
    # The string form is what /scale reports as status.selector; it must parse back.
    assert parse_label_selector(str(sel)).matches({"app": "web", "tier": "fe"}) == sel.matches(
        {"app": "web", "tier": "fe"}
    )


def test_from_api_matching() -> None:
    sel = label_selector_from_api(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}],
        }
    )
    assert sel.matches({"app": "web", "tier": "be"})
    assert not sel.matches({"app": "web", "tier": "db"})
    assert not sel.matches({"tier": "be"})


def test_from_api_does_not_touch_its_input() -> None:
    obj = {"matchExpressions": [{"key": "a", "operator": "In", "values": ["y", "x"]}]}
    label_selector_from_api(obj)
    assert obj == {"matchExpressions": [{"key": "a", "operator": "In", "values": ["y", "x"]}]}


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
            '"Gt" is not a valid label selector operator',
        ),
        ({"matchExpressions": [{"key": "a"}]}, '"" is not a valid label selector operator'),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set "
            "can't be empty",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            'values: Invalid value: []string{"x"}: values set must be empty for exists and does '
            "not exist",
        ),
        ({"matchLabels": {"a b": "c"}}, f'key: Invalid value: "a b": {_QNAME_RULE}'),
        ({"matchLabels": {"a": "c d"}}, f'values[0][a]: Invalid value: "c d": {_VALUE_RULE}'),
    ],
)
def test_from_api_errors(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectorError) as info:
        label_selector_from_api(obj)
    assert str(info.value) == message


def test_validate_valid_and_null() -> None:
    assert validate_label_selector(None, "spec.selector") == []
    assert validate_label_selector({}, "spec.selector") == []
    ok = {
        "matchLabels": {"example.com/app": "web", "empty": ""},
        "matchExpressions": [
            {"key": "tier", "operator": "NotIn", "values": ["a", ""]},
            {"key": "x", "operator": "DoesNotExist"},
        ],
    }
    assert validate_label_selector(ok, "spec.selector") == []


def test_validate_reports_every_problem_with_its_path() -> None:
    bad = {
        "matchLabels": {"bad key": "ok", "k": "bad value"},
        "matchExpressions": [
            {"key": "a", "operator": "In"},
            {"key": "b", "operator": "Exists", "values": ["x"]},
            {"key": "c", "operator": "Gt", "values": ["1"]},
            {"key": "-d", "operator": "NotIn", "values": ["ok", "no!"]},
        ],
    }
    errs = validate_label_selector(bad, "spec.selector")
    assert [(e.field, e.body()) for e in errs] == [
        ("spec.selector.matchLabels", f'Invalid value: "bad key": {_QNAME_RULE}'),
        ("spec.selector.matchLabels", f'Invalid value: "bad value": {_VALUE_RULE}'),
        (
            "spec.selector.matchExpressions[0].values",
            "Required value: must be specified when `operator` is 'In' or 'NotIn'",
        ),
        (
            "spec.selector.matchExpressions[1].values",
            "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        ),
        (
            "spec.selector.matchExpressions[2].operator",
            'Invalid value: "Gt": not a valid selector operator',
        ),
        ("spec.selector.matchExpressions[3].key", f'Invalid value: "-d": {_QNAME_RULE}'),
        ("spec.selector.matchExpressions[3].values[1]", f'Invalid value: "no!": {_VALUE_RULE}'),
    ]


def test_validate_errors_render_and_become_status_causes() -> None:
    errs = validate_label_selector(
        {"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]}, "spec.selector"
    )
    assert [str(e) for e in errs] == [
        "spec.selector.matchExpressions[0].values: Required value: must be specified when "
        "`operator` is 'In' or 'NotIn'"
    ]
    assert errs[0].to_cause() == {
        "reason": "FieldValueRequired",
        "message": "Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "field": "spec.selector.matchExpressions[0].values",
    }


def test_validate_key_errors_are_one_per_message() -> None:
    errs = validate_label_selector({"matchExpressions": [{"operator": "Exists"}]}, "sel")
    assert [(e.field, e.body()) for e in errs] == [
        ("sel.matchExpressions[0].key", 'Invalid value: "": name part must be non-empty'),
        ("sel.matchExpressions[0].key", f'Invalid value: "": {_QNAME_RULE}'),
    ]


def test_format_label_selector() -> None:
    assert format_label_selector(None) == "<none>"
    assert format_label_selector({}) == "<none>"
    assert format_label_selector({"matchLabels": {"app": "web"}}) == "app=web"
    bad = {"matchExpressions": [{"key": "a", "operator": "Nope"}]}
    assert format_label_selector(bad) == "<error>"


def test_to_api_round_trips_through_from_api() -> None:
    sel = parse_label_selector("app=web,tier in (fe,be),env notin (dev),canary,!legacy")
    obj = label_selector_to_api(sel)
    assert obj == {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "canary", "operator": "Exists"},
            {"key": "env", "operator": "NotIn", "values": ["dev"]},
            {"key": "legacy", "operator": "DoesNotExist"},
            {"key": "tier", "operator": "In", "values": ["be", "fe"]},
        ],
    }
    assert validate_label_selector(obj, "s") == []
    assert str(label_selector_from_api(obj)) == str(sel)
    assert label_selector_to_api(LabelSelector()) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a!=b", '"!=" is not a valid label selector operator'),
        ("a>1", '"gt" isn\'t supported in label selectors'),
        ("a<1", '"lt" isn\'t supported in label selectors'),
    ],
)
def test_to_api_rejects_what_the_object_form_cannot_say(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        label_selector_to_api(parse_label_selector(text))
    assert str(info.value) == message
    with pytest.raises(SelectorError):
        label_selector_to_api(LabelSelector.nothing())


def test_duplicate_values_render_once_so_the_string_parses_back() -> None:
    sel = label_selector_from_api(
        {"matchExpressions": [{"key": "a", "operator": "In", "values": ["", "", "x", "x"]}]}
    )
    assert str(sel) == "a in (,x)"
    assert parse_label_selector(str(sel)).matches({"a": ""})
