"""Name, label, annotation and metadata validation with upstream's exact messages."""

from __future__ import annotations

import pytest

from kybernetes.api._errors import ErrorType, FieldError
from kybernetes.api._names import (
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    is_valid_path_segment_name,
    is_valid_path_segment_prefix,
    name_is_dns1035_label,
    name_is_dns_label,
    name_is_dns_subdomain,
    regex_error,
    validate_annotations,
    validate_finalizers,
    validate_labels,
    validate_managed_fields,
    validate_object_meta,
    validate_object_meta_update,
    validate_owner_references,
    validate_path_segment_name,
)

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
NAME_PART_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def test_regex_error_keeps_upstreams_spacing() -> None:
    assert regex_error("m", "re") == "m (regex used for validation is 're')"
    assert (
        regex_error("m", "re", "a", "b")
        == "m (e.g. 'a',  or 'b', regex used for validation is 're')"
    )


@pytest.mark.parametrize("good", ["a", "example.com", "a-b.c-d", "0", "1.2.3", "x" * 253])
def test_dns1123_subdomain_accepts(good: str) -> None:
    assert is_dns1123_subdomain(good) == []


@pytest.mark.parametrize("bad", ["", "Foo", "a_b", "-a", "a-", "a..b", ".a", "a.", "é", "a\n"])
def test_dns1123_subdomain_rejects(bad: str) -> None:
    assert is_dns1123_subdomain(bad) == [SUBDOMAIN_MSG]


def test_dns1123_subdomain_length_is_in_bytes() -> None:
    assert is_dns1123_subdomain("a" * 254) == ["must be no more than 253 characters"]
    assert is_dns1123_subdomain("é" * 127) == ["must be no more than 253 characters", SUBDOMAIN_MSG]


def test_dns1123_label() -> None:
    assert is_dns1123_label("my-name") == []
    assert is_dns1123_label("123-abc") == []
    assert is_dns1123_label("a.b") == [LABEL_MSG]
    assert is_dns1123_label("A") == [LABEL_MSG]
    assert is_dns1123_label("a" * 64) == ["must be no more than 63 characters"]


def test_dns1035_label() -> None:
    assert is_dns1035_label("my-svc") == []
    assert is_dns1035_label("1abc") == [DNS1035_MSG]
    assert is_dns1035_label("a" * 64) == ["must be no more than 63 characters"]


def test_qualified_name() -> None:
    for good in ["app", "App_1.x", "example.com/MyName", "a/b", "k8s.io/x-y_z.0"]:
        assert is_qualified_name(good) == [], good
    assert is_qualified_name("-bad") == [NAME_PART_MSG]
    assert is_qualified_name("/name") == ["prefix part must be non-empty"]
    assert is_qualified_name("example.com/") == ["name part must be non-empty", NAME_PART_MSG]
    assert is_qualified_name("Example.com/x") == ["prefix part " + SUBDOMAIN_MSG]
    assert is_qualified_name("a" * 64) == ["name part must be no more than 63 characters"]
    assert is_qualified_name("a/b/c") == [
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
        "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
    ]


def test_label_value() -> None:
    assert is_valid_label_value("") == []
    assert is_valid_label_value("v1.2_3-x") == []
    assert is_valid_label_value("-x") == [LABEL_VALUE_MSG]
    assert is_valid_label_value("a" * 64) == ["must be no more than 63 characters"]


def test_path_segment_names() -> None:
    assert is_valid_path_segment_name("ok:name") == []
    assert is_valid_path_segment_name(".") == ["may not be '.'"]
    assert is_valid_path_segment_name("..") == ["may not be '..'"]
    assert is_valid_path_segment_name("a/b%c") == ["may not contain '/'", "may not contain '%'"]
    assert is_valid_path_segment_prefix("..") == []
    assert validate_path_segment_name(".", True) == []
    assert validate_path_segment_name(".", False) == ["may not be '.'"]


def test_name_validators_mask_a_trailing_dash_of_generate_name() -> None:
    assert name_is_dns_subdomain("web-", True) == []
    assert name_is_dns_subdomain("web-", False) == [SUBDOMAIN_MSG]
    assert name_is_dns_label("web-", True) == []
    assert name_is_dns1035_label("web-", True) == []
    # upstream replaces the last two characters: "a-" becomes "a", "--" becomes "a"
    assert name_is_dns_subdomain("--", True) == []
    assert name_is_dns_subdomain("-", True) == [SUBDOMAIN_MSG]


def texts(errors: list[FieldError]) -> list[str]:
    return [e.render() for e in errors]


def test_validate_object_meta_accepts_a_normal_object() -> None:
    meta = {
        "name": "web-1",
        "namespace": "default",
        "labels": {"app": "web", "example.com/tier": ""},
        "annotations": {"Example.com/Note": "anything at all"},
        "finalizers": ["example.com/cleanup"],
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web",
                "uid": "u1",
                "controller": True,
            }
        ],
        "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1"}],
        "generation": 3,
    }
    assert validate_object_meta(meta, namespaced=True) == []


def test_validate_object_meta_name_and_namespace() -> None:
    assert texts(
        validate_object_meta({"name": "Foo", "namespace": "default"}, namespaced=True)
    ) == ['metadata.name: Invalid value: "Foo": ' + SUBDOMAIN_MSG]
    assert texts(validate_object_meta({}, namespaced=True)) == [
        "metadata.name: Required value: name or generateName is required",
        "metadata.namespace: Required value",
    ]
    assert texts(validate_object_meta({"name": "n", "namespace": "x"}, namespaced=False)) == [
        "metadata.namespace: Forbidden: not allowed on this type"
    ]
    assert texts(validate_object_meta({"name": "n", "namespace": "a.b"}, namespaced=True)) == [
        'metadata.namespace: Invalid value: "a.b": ' + LABEL_MSG
    ]
    errs = validate_object_meta(
        {"name": "x-abcde", "generateName": "Bad-", "namespace": "d"}, namespaced=True
    )
    assert texts(errs) == ['metadata.generateName: Invalid value: "Bad-": ' + SUBDOMAIN_MSG]
    errs = validate_object_meta(
        {"name": "my.svc", "namespace": "d"}, namespaced=True, name_validator=name_is_dns1035_label
    )
    assert texts(errs) == ['metadata.name: Invalid value: "my.svc": ' + DNS1035_MSG]
    errs = validate_object_meta({"name": "n", "generation": -1}, namespaced=False)
    assert texts(errs) == [
        "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
    ]


def test_labels_and_annotations() -> None:
    assert texts(validate_labels({"-k": "v", "k": "-v"}, "metadata.labels")) == [
        'metadata.labels: Invalid value: "-k": ' + NAME_PART_MSG,
        'metadata.labels: Invalid value: "-v": ' + LABEL_VALUE_MSG,
    ]
    assert texts(validate_annotations({"a b": "x"}, "metadata.annotations")) == [
        'metadata.annotations: Invalid value: "a b": ' + NAME_PART_MSG
    ]
    big = {"a": "x" * (256 * 1024 - 1)}
    assert validate_annotations(big, "metadata.annotations") == []
    big["b"] = ""
    assert texts(validate_annotations(big, "metadata.annotations")) == [
        "metadata.annotations: Too long: may not be more than 262144 bytes"
    ]
    # sizes count UTF-8 bytes
    assert validate_annotations({"a": "é" * (128 * 1024)}, "m")[0].type is ErrorType.TOO_LONG


def test_finalizers() -> None:
    assert validate_finalizers(["kubernetes", "example.com/x"], "metadata.finalizers") == []
    assert texts(validate_finalizers(["a/b/c"], "metadata.finalizers"))[0].startswith(
        'metadata.finalizers: Invalid value: "a/b/c": a qualified name must consist'
    )
    assert texts(validate_finalizers(["orphan", "foregroundDeletion"], "metadata.finalizers")) == [
        'metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan '
        "and foregroundDeletion cannot be both set"
    ]


def test_owner_references() -> None:
    assert texts(validate_owner_references([{}], "metadata.ownerReferences")) == [
        'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
        'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty',
        'metadata.ownerReferences.name: Invalid value: "": name must not be empty',
        'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
    ]
    event = {"apiVersion": "v1", "kind": "Event", "name": "e", "uid": "u"}
    assert texts(validate_owner_references([event], "metadata.ownerReferences")) == [
        'metadata.ownerReferences: Invalid value: {"apiVersion":"v1","kind":"Event","name":"e",'
        '"uid":"u"}: /v1, Kind=Event is disallowed from being an owner'
    ]
    a = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": True}
    b = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "2", "controller": True}
    (err,) = validate_owner_references([a, b], "metadata.ownerReferences")
    assert err.message == (
        'Only one reference can have Controller set to true. Found "true" in references for '
        "ReplicaSet/a and ReplicaSet/b"
    )
    assert err.body().startswith('Invalid value: [{"apiVersion":"apps/v1","kind":"ReplicaSet"')
    bad_version = {"apiVersion": "a/b/c", "kind": "K", "name": "n", "uid": "u"}
    assert texts(validate_owner_references([bad_version], "m")) == [
        'm.apiVersion: Invalid value: "a/b/c": version must not be empty'
    ]


def test_managed_fields() -> None:
    entries = [
        {"manager": "m", "operation": "Patch", "fieldsType": "FieldsV2"},
        {"manager": "x" * 129, "operation": "Apply", "subresource": "s" * 257},
        {"manager": "bell\x07", "operation": "Update"},
    ]
    assert texts(validate_managed_fields(entries, "metadata.managedFields")) == [
        'metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`',
        'metadata.managedFields[0].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
        "metadata.managedFields[1].manager: Too long: may not be more than 128 bytes",
        "metadata.managedFields[1].subresource: Too long: may not be more than 256 bytes",
        'metadata.managedFields[2].manager: Invalid value: "bell\\a": invalid character U+0007 '
        "(at position 4)",
    ]


def test_validate_object_meta_update() -> None:
    old = {
        "name": "a",
        "namespace": "d",
        "uid": "u1",
        "resourceVersion": "5",
        "generation": 2,
        "creationTimestamp": "2024-01-01T00:00:00Z",
    }
    assert validate_object_meta_update(dict(old), old) == []
    new = dict(old, name="b", uid="u2", generation=1, resourceVersion="")
    assert texts(validate_object_meta_update(new, old)) == [
        'metadata.resourceVersion: Invalid value: "": must be specified for an update',
        "metadata.generation: Invalid value: 1: must not be decremented",
        'metadata.name: Invalid value: "b": field is immutable',
        'metadata.uid: Invalid value: "u2": field is immutable',
    ]
    deleting = dict(old, deletionTimestamp="2024-02-01T00:00:00Z", finalizers=["a"])
    new = dict(deleting, finalizers=["a", "c", "b"])
    assert texts(validate_object_meta_update(new, deleting)) == [
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being "
        'deleted, found new finalizers []string{"b", "c"}'
    ]
    new = dict(old, deletionGracePeriodSeconds=30)
    assert texts(validate_object_meta_update(new, old)) == [
        "metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable"
    ]
    new = {k: v for k, v in old.items() if k != "creationTimestamp"}
    assert texts(validate_object_meta_update(new, old)) == [
        "metadata.creationTimestamp: Invalid value: null: field is immutable"
    ]
    assert texts(validate_object_meta_update(dict(old, labels={"-": "x"}), old))[0].startswith(
        'metadata.labels: Invalid value: "-": name part'
    )
