"""FieldError rendering: the exact texts upstream puts in Status causes and messages."""

from __future__ import annotations

import pytest

from kybernetes.api._errors import (
    OMITTED,
    ErrorType,
    FieldError,
    StructValue,
    aggregate_message,
    duplicate,
    forbidden,
    go_json,
    go_quote,
    go_value,
    internal_error,
    invalid,
    invalid_message,
    not_found,
    not_supported,
    required,
    status_causes,
    too_long,
    too_many,
    type_invalid,
)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (required("spec.containers[0].image"), "spec.containers[0].image: Required value"),
        (
            required("metadata.name", "name or generateName is required"),
            "metadata.name: Required value: name or generateName is required",
        ),
        (
            invalid("metadata.name", "Foo", "a lowercase RFC 1123 subdomain must consist of x"),
            'metadata.name: Invalid value: "Foo": a lowercase RFC 1123 subdomain must consist of x',
        ),
        (
            invalid("spec.replicas", -1, "must be >= 0"),
            "spec.replicas: Invalid value: -1: must be >= 0",
        ),
        (invalid("spec.x", True), "spec.x: Invalid value: true"),
        (invalid("spec.x", None, "bad"), "spec.x: Invalid value: null: bad"),
        (invalid("spec.x", OMITTED, "bad"), "spec.x: Invalid value: bad"),
        (
            invalid("metadata.finalizers", ["orphan", "foregroundDeletion"], "both"),
            'metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: both',
        ),
        (
            not_supported("spec.restartPolicy", "Sometimes", ["Always", "OnFailure", "Never"]),
            'spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
            '"Always", "OnFailure", "Never"',
        ),
        (not_supported("x", "y"), 'x: Unsupported value: "y"'),
        (
            too_long("metadata.annotations", 262144),
            "metadata.annotations: Too long: may not be more than 262144 bytes",
        ),
        (too_long("x", 1), "x: Too long: may not be more than 1 byte"),
        (
            type_invalid(
                "spec.replicas", "string", 'spec.replicas in body must be of type integer: "string"'
            ),
            'spec.replicas: Invalid value: "string": spec.replicas in body must be of type '
            'integer: "string"',
        ),
        (duplicate("spec.ports[1]", "TCP/80"), 'spec.ports[1]: Duplicate value: "TCP/80"'),
        (
            forbidden("metadata.namespace", "not allowed on this type"),
            "metadata.namespace: Forbidden: not allowed on this type",
        ),
        (not_found("spec.volumes[0]", "x"), 'spec.volumes[0]: Not found: "x"'),
        (too_many("spec.items", 5, 4), "spec.items: Too many: 5: must have at most 4 items"),
        (internal_error("spec", "boom"), "spec: Internal error: boom"),
    ],
)
def test_render_matches_upstream(error: FieldError, text: str) -> None:
    assert error.render() == text
    assert str(error) == text
    assert error.body() == text.split(": ", 1)[1]


def test_field_error_is_frozen_and_comparable() -> None:
    a = required("spec.x")
    assert a == required("spec.x")
    assert a != required("spec.y")
    assert a.type is ErrorType.REQUIRED and str(a.type) == "FieldValueRequired"
    with pytest.raises(AttributeError):
        a.field = "z"  # type: ignore[misc]
    assert {a, required("spec.x")} == {a}


def test_to_cause_and_status_causes() -> None:
    err = invalid("metadata.name", "Foo", "bad")
    assert err.to_cause() == {
        "reason": "FieldValueInvalid",
        "message": 'Invalid value: "Foo": bad',
        "field": "metadata.name",
    }
    assert status_causes([err, required("a")])[1]["reason"] == "FieldValueRequired"


def test_aggregate_and_invalid_message() -> None:
    one = required("spec.containers[0].image")
    two = invalid("metadata.name", "Foo", "bad")
    assert aggregate_message([one]) == "spec.containers[0].image: Required value"
    assert aggregate_message([one, two, one]) == (
        '[spec.containers[0].image: Required value, metadata.name: Invalid value: "Foo": bad]'
    )
    assert aggregate_message([one, one]) == "spec.containers[0].image: Required value"
    assert aggregate_message([]) == ""
    assert invalid_message("", "Pod", "x", [one]) == (
        'Pod "x" is invalid: spec.containers[0].image: Required value'
    )
    assert invalid_message("apps", "Deployment", "web", [one, two]).startswith(
        'Deployment.apps "web" is invalid: [spec.containers[0].image: Required value, '
    )
    assert invalid_message("", "Pod", "x", []) == 'Pod "x" is invalid'


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", '"plain"'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
        ("a\nb\tc\x00\x7f", '"a\\nb\\tc\\x00\\x7f"'),
        ("héllo ✓", '"héllo ✓"'),
        ("\u200b\u00a0", '"\\u200b\\u00a0"'),
        ("\U000e0001", '"\\U000e0001"'),
    ],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.5, "0.5"),
        (100000.0, "100000"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5, "-2.5"),
        (3, "3"),
        (False, "false"),
        ({"b": 1, "a": [1, "x"]}, '{"a":[1,"x"],"b":1}'),
        ("<&>", '"<&>"'),
        ({"k": "<&>"}, '{"k":"\\u003c\\u0026\\u003e"}'),
    ],
)
def test_go_value(value: object, shown: str) -> None:
    assert go_value(value) == shown


def test_go_json_struct_keeps_field_order_and_floats_follow_encoding_json() -> None:
    assert (
        go_json(StructValue(kind="Event", apiVersion="v1")) == '{"kind":"Event","apiVersion":"v1"}'
    )
    assert go_json([1e21, 1e-7, 0.5, None]) == "[1e+21,1e-7,0.5,null]"
