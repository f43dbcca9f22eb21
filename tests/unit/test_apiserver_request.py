"""Paths to targets, bodies to objects, Accept headers to output formats, query options."""

from __future__ import annotations

import pytest

from kybernetes.api import REGISTRY
from kybernetes.apiserver._errors import APIError
from kybernetes.apiserver._options import parse_delete_options, parse_list_options
from kybernetes.apiserver._request import (
    Output,
    check_kind,
    decode,
    decode_object,
    negotiate,
    parse_target,
)

PODS = REGISTRY.get("", "v1", "pods")


@pytest.mark.parametrize(
    ("group", "version", "path", "expected"),
    [
        ("", "v1", "pods", ("pods", None, "", "", False)),
        ("", "v1", "namespaces/ns/pods", ("pods", "ns", "", "", False)),
        ("", "v1", "namespaces/ns/pods/p/status", ("pods", "ns", "p", "status", False)),
        ("", "v1", "namespaces", ("namespaces", None, "", "", False)),
        ("", "v1", "namespaces/ns", ("namespaces", None, "ns", "", False)),
        ("", "v1", "namespaces/ns/finalize", ("namespaces", None, "ns", "finalize", False)),
        ("", "v1", "namespaces/ns/status", ("namespaces", None, "ns", "status", False)),
        ("", "v1", "watch/namespaces/ns/pods", ("pods", "ns", "", "", True)),
        ("", "v1", "nodes/n1", ("nodes", None, "n1", "", False)),
        (
            "apps",
            "v1",
            "namespaces/x/deployments/d/scale",
            ("deployments", "x", "d", "scale", False),
        ),
    ],
)
def test_parse_target(
    group: str, version: str, path: str, expected: tuple[str, str | None, str, str, bool]
) -> None:
    t = parse_target(REGISTRY, group, version, path)
    assert (t.info.plural, t.namespace, t.name, t.subresource, t.watch) == expected


@pytest.mark.parametrize(
    ("group", "version", "path"),
    [
        ("", "v1", "foos"),
        ("", "v2", "pods"),
        ("", "v1", "pods/p"),  # a namespaced object needs its namespace
        ("", "v1", "namespaces/ns/nodes"),  # cluster-scoped under a namespace
        ("", "v1", "namespaces/ns/pods/p/nosuch"),
        ("", "v1", "namespaces/ns/pods/p/status/extra"),
        ("apps", "v1", "namespaces/ns/status"),
    ],
)
def test_unknown_targets_are_404(group: str, version: str, path: str) -> None:
    with pytest.raises(APIError) as e:
        parse_target(REGISTRY, group, version, path)
    assert e.value.code == 404
    assert e.value.message == "the server could not find the requested resource"


def test_decode_json_and_yaml() -> None:
    assert decode(b'{"a": 1}', "") == {"a": 1}
    # Timestamps stay strings, as JSON would have them.
    doc = decode(b"metadata:\n  creationTimestamp: 2024-01-01T00:00:00Z\n", "application/yaml")
    assert doc == {"metadata": {"creationTimestamp": "2024-01-01T00:00:00Z"}}


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"{bad", "application/json", 400),
        (b"", "", 400),
        (b"a: [", "application/yaml", 400),
        (b"[1, 2]", "application/json", 400),
        (b"\x0a\x0b", "application/vnd.kubernetes.protobuf", 415),
        (b"x", "text/plain", 415),
    ],
)
def test_bad_bodies(body: bytes, content_type: str, code: int) -> None:
    with pytest.raises(APIError) as e:
        decode_object(body, content_type)
    assert e.value.code == code


def test_check_kind() -> None:
    obj: dict[str, object] = {"metadata": {}}
    check_kind(obj, "Pod", "v1")
    assert (obj["kind"], obj["apiVersion"]) == ("Pod", "v1")
    with pytest.raises(APIError) as e:
        check_kind({"kind": "Service", "apiVersion": "v1"}, "Pod", "v1")
    assert e.value.code == 400
    with pytest.raises(APIError):
        check_kind({"kind": "Deployment", "apiVersion": "apps/v1beta9"}, "Deployment", "apps/v1")


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, Output()),
        ("application/json, */*", Output()),
        ("application/vnd.kubernetes.protobuf,application/json", Output()),
        (
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
            "g=meta.k8s.io,application/json",
            Output(table="v1"),
        ),
        ("application/json;as=Table;v=v1beta1;g=meta.k8s.io", Output(table="v1beta1")),
        ("application/yaml", Output(yaml=True)),
    ],
)
def test_negotiate(accept: str | None, expected: Output) -> None:
    assert negotiate(accept) == expected


def test_negotiate_refuses_what_we_cannot_speak() -> None:
    with pytest.raises(APIError) as e:
        negotiate("application/vnd.kubernetes.protobuf")
    assert e.value.code == 406


def test_list_options() -> None:
    opts = parse_list_options(
        PODS,
        {"labelSelector": "app in (a,b)", "fieldSelector": "spec.nodeName=n1", "limit": "5"},
    )
    assert opts.limit == 5 and not opts.watch and not opts.selects_everything
    assert parse_list_options(PODS, {"watch": "1"}).watch


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"labelSelector": "a in"}, 400),
        ({"fieldSelector": "spec.foo=1"}, 400),
        ({"resourceVersionMatch": "Exact"}, 422),
        ({"resourceVersion": "0", "resourceVersionMatch": "Exact"}, 422),
        ({"resourceVersion": "abc"}, 400),
        ({"sendInitialEvents": "true"}, 422),
        ({"limit": "x"}, 400),
        ({"continue": "abc", "resourceVersion": "5"}, 400),
    ],
)
def test_bad_list_options(query: dict[str, str], code: int) -> None:
    with pytest.raises(APIError) as e:
        parse_list_options(PODS, query)
    assert e.value.code == code


def test_delete_options_from_body_and_query() -> None:
    opts = parse_delete_options(
        {"gracePeriodSeconds": "5", "propagationPolicy": "Orphan"},
        {"kind": "DeleteOptions", "preconditions": {"uid": "u1"}, "dryRun": ["All"]},
    )
    assert opts.grace_period_seconds == 5
    assert opts.propagation_policy == "Orphan"
    assert opts.precondition_uid == "u1" and opts.dry_run
    body_wins = parse_delete_options({"gracePeriodSeconds": "5"}, {"gracePeriodSeconds": 0})
    assert body_wins.grace_period_seconds == 0
    assert parse_delete_options({"gracePeriodSeconds": "-3"}, None).grace_period_seconds == 1
    with pytest.raises(APIError) as e:
        parse_delete_options({"propagationPolicy": "Sometimes"}, None)
    assert e.value.code == 422
