"""Schema-driven unknown/duplicate field detection, pruning and JSON type checks."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from kybernetes.api import load_schema
from kybernetes.api._errors import ErrorType
from kybernetes.api._fields import (
    check_fields,
    decode_strict,
    prune_unknown,
    strict_decoding_message,
    strict_errors,
    type_errors,
    unknown_fields,
)
from kybernetes.api._schema import SchemaNode


def kind(group: str, version: str, name: str) -> SchemaNode:
    node = load_schema().for_kind(group, version, name)
    assert node is not None
    return node


POD = kind("", "v1", "Pod")
DEPLOYMENT = kind("apps", "v1", "Deployment")


def pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "labels": {"app": "web"},
            "managedFields": [
                {
                    "manager": "kubectl",
                    "operation": "Update",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:anything": {}}},
                }
            ],
        },
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx",
                    "ports": [{"containerPort": 80}],
                    "resources": {"limits": {"cpu": "500m", "memory": 1e9}},
                    "livenessProbe": {"httpGet": {"port": "http"}},
                }
            ],
            "nodeSelector": {"disk": "ssd"},
            "volumes": [{"name": "d", "emptyDir": {}}],
        },
        "status": {"phase": "Pending"},
    }


def test_a_valid_pod_has_no_findings() -> None:
    assert check_fields(pod(), POD) == ([], [])
    assert unknown_fields(pod(), POD) == []
    assert strict_errors(pod(), POD) == []


def test_unknown_fields_use_upstreams_paths_in_document_order() -> None:
    obj = pod()
    obj["spec"]["containers"][0]["imagePullPolice"] = "Always"
    obj["spec"]["foo"] = 1
    obj["metadata"]["labelz"] = {}
    obj["bar"] = None
    obj["spec"]["volumes"][0]["emptyDir"]["x"] = 1
    assert unknown_fields(obj, POD) == [
        "metadata.labelz",
        "spec.containers[0].imagePullPolice",
        "spec.volumes[0].emptyDir.x",
        "spec.foo",
        "bar",
    ]
    assert strict_errors(obj, POD)[0] == 'unknown field "metadata.labelz"'
    assert strict_decoding_message(strict_errors(obj, POD)[:2]) == (
        'strict decoding error: unknown field "metadata.labelz", '
        'unknown field "spec.containers[0].imagePullPolice"'
    )


def test_free_form_fields_and_maps_accept_any_keys() -> None:
    revision = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {"name": "r"},
        "data": {"spec": {"whatever": [1, {"deep": True}]}},
        "revision": 1,
    }
    assert check_fields(revision, kind("apps", "v1", "ControllerRevision")) == ([], [])
    obj = pod()
    obj["metadata"]["annotations"] = {"any/key": "v"}
    assert unknown_fields(obj, POD) == []


def test_maps_of_structs_report_keys_with_a_dot() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {
            "versions": [
                {
                    "name": "v1",
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": {"type": "object", "typo": 1}},
                        }
                    },
                }
            ]
        },
    }
    node = kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
    assert unknown_fields(crd, node) == [
        "spec.versions[0].schema.openAPIV3Schema.properties.spec.typo"
    ]


def test_empty_structs_know_no_fields() -> None:
    obj = {"apiVersion": "internal.apiserver.k8s.io/v1alpha1", "spec": {"x": 1}}
    node = kind("internal.apiserver.k8s.io", "v1alpha1", "StorageVersion")
    assert unknown_fields(obj, node) == ["spec.x"]


def test_type_errors_follow_the_schema() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"n": 5}},
        "spec": {
            "replicas": "3",
            "paused": "true",
            "selector": [],
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1.5}},
            "template": {
                "spec": {
                    "containers": {"name": "x"},
                    "terminationGracePeriodSeconds": 30.0,
                    "volumes": [
                        {"name": "v", "emptyDir": {"sizeLimit": True}},
                        {"name": "w", "emptyDir": {"sizeLimit": 1.5}},
                    ],
                }
            },
            "revisionHistoryLimit": 2**31,
            "progressDeadlineSeconds": None,
        },
    }
    errors = type_errors(deployment, DEPLOYMENT)
    assert [e.render() for e in errors] == [
        'metadata.labels.n: Invalid value: "integer": metadata.labels.n in body must be of type '
        'string: "integer"',
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: '
        '"string"',
        'spec.paused: Invalid value: "string": spec.paused in body must be of type boolean: '
        '"string"',
        'spec.selector: Invalid value: "array": spec.selector in body must be of type object: '
        '"array"',
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "number": '
        "spec.strategy.rollingUpdate.maxUnavailable in body must be of type string,integer: "
        '"number"',
        'spec.template.spec.containers: Invalid value: "object": spec.template.spec.containers '
        'in body must be of type array: "object"',
        'spec.template.spec.terminationGracePeriodSeconds: Invalid value: "number": '
        "spec.template.spec.terminationGracePeriodSeconds in body must be of type integer: "
        '"number"',
        'spec.template.spec.volumes[0].emptyDir.sizeLimit: Invalid value: "boolean": '
        "spec.template.spec.volumes[0].emptyDir.sizeLimit in body must be of type "
        'string,number: "boolean"',
        "spec.revisionHistoryLimit: Invalid value: 2147483648: spec.revisionHistoryLimit in body "
        "should be less than or equal to 2147483647",
    ]
    assert errors[0].type is ErrorType.TYPE_INVALID
    assert errors[-1].type is ErrorType.INVALID


def test_byte_fields_must_be_base64() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "data": {"ok": "aGVsbG8=", "wrapped": "aGVs\nbG8=", "bad": "hello!", "empty": ""},
    }
    (err,) = type_errors(secret, kind("", "v1", "Secret"))
    assert err.field == "data.bad"
    assert err.message == 'data.bad in body must be of type byte: "hello!"'


def test_prune_unknown_copies_without_unknown_fields() -> None:
    obj = pod()
    obj["spec"]["containers"][0]["imagePullPolice"] = "Always"
    obj["spec"]["foo"] = {"a": 1}
    obj["metadata"]["managedFields"][0]["fieldsV1"]["f:x"] = {"k": 1}
    original = copy.deepcopy(obj)
    pruned = prune_unknown(obj, POD)
    assert obj == original  # the input is untouched
    expected = copy.deepcopy(original)
    del expected["spec"]["containers"][0]["imagePullPolice"]
    del expected["spec"]["foo"]
    assert pruned == expected
    assert unknown_fields(pruned, POD) == []
    # a deep copy: changing it leaves the input alone
    pruned["metadata"]["managedFields"][0]["fieldsV1"]["f:x"]["k"] = 2
    pruned["metadata"]["labels"]["app"] = "other"
    assert obj == original


def test_decode_strict_reports_duplicates_and_unknowns_in_document_order() -> None:
    raw = (
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","labels":{"x":"1","x":"2"}},'
        b'"spec":{"foo":1,"containers":[{"name":"a","image":"b","image":"c","bar":{"x":1,"x":2}}],'
        b'"foo":2,"containers":[{"name":"z"}]}}'
    )
    obj, errors = decode_strict(raw, POD)
    assert errors == [
        'duplicate field "metadata.labels.x"',
        'unknown field "spec.foo"',
        'duplicate field "spec.containers[0].image"',
        'unknown field "spec.containers[0].bar"',
        'duplicate field "spec.containers"',
    ]
    # the last duplicate wins, as upstream
    assert obj["metadata"]["labels"] == {"x": "2"}
    assert obj["spec"]["containers"] == [{"name": "z"}]


def test_decode_strict_without_duplicates_and_with_free_form_duplicates() -> None:
    obj, errors = decode_strict(orjson.dumps(pod()), POD)
    assert obj == pod() and errors == []
    raw = b'{"kind":"ControllerRevision","data":{"a":1,"a":2},"revision":1}'
    assert decode_strict(raw, kind("apps", "v1", "ControllerRevision"))[1] == []
    with pytest.raises(ValueError):
        decode_strict(b'{"spec": NaN}', POD)
    with pytest.raises(ValueError):
        decode_strict(b"{", POD)


def test_strict_errors_are_deduplicated_and_capped() -> None:
    obj = {"spec": {"containers": [{"name": str(i), "x": 1} for i in range(150)]}}
    errors = strict_errors(obj, POD)
    assert len(errors) == 100
    assert errors[0] == 'unknown field "spec.containers[0].x"'
    many = b'{"spec":{' + b",".join(b'"y":1' for _ in range(5)) + b"}}"
    assert decode_strict(many, POD)[1] == ['unknown field "spec.y"']


def test_inline_schema_nodes_work_too() -> None:
    schema = load_schema()
    raw = {"type": "object", "properties": {"a": {"type": "integer"}}}
    node = SchemaNode(schema, raw)
    assert check_fields({"a": "x", "b": 1}, node)[0] == ["b"]
    assert type_errors({"a": "x"}, node)[0].field == "a"
    preserve = SchemaNode(schema, {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    assert unknown_fields({"anything": 1}, preserve) == []
