"""Discovery documents and Accept negotiation (kybernetes.apiserver._discovery)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from kybernetes.api import Registry, ResourceInfo
from kybernetes.apiserver._discovery import (
    Discovery,
    content_type_for,
    default_discovery,
    negotiate_discovery,
    version_info,
    version_info_bytes,
)

V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
KUBECTL_ACCEPT = f"{V2},{V2BETA1},application/json"


def test_version_reports_1_33_with_every_field_the_python_client_requires() -> None:
    info = version_info()
    assert info["major"] == "1"
    assert info["minor"] == "33"
    assert info["gitVersion"].startswith("v1.33.")
    required = ("buildDate", "compiler", "gitCommit", "gitTreeState", "goVersion", "platform")
    for field in required:
        assert isinstance(info[field], str)
    assert "/" in info["platform"]
    assert orjson.loads(version_info_bytes()) == info


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (KUBECTL_ACCEPT, "v2"),
        (f"{V2BETA1},application/json", "v2beta1"),
        # Protobuf ranges cannot be served; the JSON aggregated one after them can.
        (
            "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;"
            f"as=APIGroupDiscoveryList,{V2},application/json",
            "v2",
        ),
        # q-values outrank header order.
        (f"{V2};q=0.5,{V2BETA1};q=0.9,application/json;q=0.1", "v2beta1"),
        # Parameters are case- and space-tolerant.
        ("Application/JSON; g=apidiscovery.k8s.io ; v=v2 ; as=APIGroupDiscoveryList", "v2"),
    ],
)
def test_negotiation_picks_aggregated_discovery(accept: str, expected: str) -> None:
    assert negotiate_discovery(accept) == (expected, content_type_for(expected))


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "application/json",
        "*/*",
        "application/json, */*",
        # Plain JSON preferred by q-value.
        f"{V2};q=0.2,application/json",
        # A version we do not serve, or q=0, is skipped.
        "application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json",
        f"{V2};q=0,application/json",
        # Asking for something else (a Table) is not asking for aggregated discovery.
        "application/json;as=Table;v=v1;g=meta.k8s.io",
        "application/vnd.kubernetes.protobuf",
    ],
)
def test_negotiation_falls_back_to_legacy(accept: str | None) -> None:
    assert negotiate_discovery(accept) is None


def _json(answer: tuple[bytes, str] | None) -> tuple[dict[str, Any], str]:
    assert answer is not None
    return orjson.loads(answer[0]), answer[1]


def _resource(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in doc["resources"] if r["name"] == name)


def test_legacy_api_and_apis() -> None:
    disc = Discovery(server_address="127.0.0.1:6443")
    api, content_type = _json(disc.respond("/api", "application/json"))
    assert content_type == "application/json"
    assert api["kind"] == "APIVersions"
    assert api["versions"] == ["v1"]
    assert api["serverAddressByClientCIDRs"] == [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
    ]
    apis, _ = _json(disc.respond("/apis"))
    assert apis["kind"] == "APIGroupList"
    groups = {g["name"]: g for g in apis["groups"]}
    assert "" not in groups
    assert groups["apps"]["versions"] == [{"groupVersion": "apps/v1", "version": "v1"}]
    assert groups["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    assert {"batch", "rbac.authorization.k8s.io", "policy"} <= set(groups)
    group, _ = _json(disc.respond("/apis/apps"))
    assert group["kind"] == "APIGroup"
    assert group["name"] == "apps"
    # No server address: the field is still there (the Python client requires it).
    assert default_discovery().api_versions()["serverAddressByClientCIDRs"] == []


def test_legacy_resource_list_of_core_with_subresources() -> None:
    doc, _ = _json(default_discovery().respond("/api/v1"))
    assert doc["kind"] == "APIResourceList"
    assert doc["groupVersion"] == "v1"
    names = [r["name"] for r in doc["resources"]]
    assert names == sorted(names)
    pods = _resource(doc, "pods")
    assert pods["singularName"] == "pod"
    assert pods["namespaced"] is True
    assert pods["kind"] == "Pod"
    assert pods["shortNames"] == ["po"]
    assert pods["categories"] == ["all"]
    assert set(pods["verbs"]) == {
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    }
    assert pods["storageVersionHash"]
    # kubectl drain looks for pods/eviction here: policy/v1 Eviction, create only.
    eviction = _resource(doc, "pods/eviction")
    assert eviction == {
        "name": "pods/eviction",
        "singularName": "",
        "namespaced": True,
        "group": "policy",
        "version": "v1",
        "kind": "Eviction",
        "verbs": ["create"],
    }
    assert _resource(doc, "pods/log")["verbs"] == ["get"]
    assert _resource(doc, "pods/log")["kind"] == "Pod"
    assert "group" not in _resource(doc, "pods/status")
    assert _resource(doc, "pods/exec")["verbs"] == ["create", "get"]
    assert _resource(doc, "namespaces/finalize")["verbs"] == ["update"]
    assert _resource(doc, "nodes")["namespaced"] is False
    assert "deletecollection" not in _resource(doc, "namespaces")["verbs"]
    assert "shortNames" not in _resource(doc, "secrets")


def test_legacy_resource_list_of_a_group_names_scale_as_autoscaling() -> None:
    doc, _ = _json(default_discovery().respond("/apis/apps/v1"))
    assert doc["groupVersion"] == "apps/v1"
    scale = _resource(doc, "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    assert scale["verbs"] == ["get", "patch", "update"]


@pytest.mark.parametrize(
    "path", ["/api/v2", "/apis/nope", "/apis/nope/v1", "/apis/apps/v9", "/healthz", "/api/v1/pods"]
)
def test_unknown_paths_are_not_discovery(path: str) -> None:
    assert default_discovery().respond(path, KUBECTL_ACCEPT) is None


def test_aggregated_core_discovery() -> None:
    doc, content_type = _json(default_discovery().respond("/api", KUBECTL_ACCEPT))
    assert content_type == V2
    assert doc["kind"] == "APIGroupDiscoveryList"
    assert doc["apiVersion"] == "apidiscovery.k8s.io/v2"
    [core] = doc["items"]
    assert core["metadata"] == {}
    [v1] = core["versions"]
    assert v1["version"] == "v1"
    assert v1["freshness"] == "Current"
    pods = next(r for r in v1["resources"] if r["resource"] == "pods")
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert pods["scope"] == "Namespaced"
    assert pods["singularResource"] == "pod"
    assert pods["shortNames"] == ["po"]
    subs = {s["subresource"]: s for s in pods["subresources"]}
    assert subs["eviction"]["responseKind"] == {
        "group": "policy",
        "version": "v1",
        "kind": "Eviction",
    }
    assert subs["exec"] == {
        "subresource": "exec",
        "responseKind": {"group": "", "version": "v1", "kind": "PodExecOptions"},
        "verbs": ["create", "get"],
    }
    assert subs["status"]["verbs"] == ["get", "patch", "update"]
    assert subs["binding"]["verbs"] == ["create"]
    nodes = next(r for r in v1["resources"] if r["resource"] == "nodes")
    assert nodes["scope"] == "Cluster"
    secrets = next(r for r in v1["resources"] if r["resource"] == "secrets")
    assert "shortNames" not in secrets
    assert "subresources" not in secrets


def test_aggregated_groups_in_v2beta1() -> None:
    accept = f"{V2BETA1},application/json"
    doc, content_type = _json(default_discovery().respond("/apis", accept))
    assert content_type == V2BETA1
    assert doc["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    groups = {item["metadata"]["name"]: item for item in doc["items"]}
    assert "" not in groups
    deployments = next(
        r for r in groups["apps"]["versions"][0]["resources"] if r["resource"] == "deployments"
    )
    assert deployments["categories"] == ["all"]
    scale = next(s for s in deployments["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}


def test_documents_are_serialized_once() -> None:
    disc = Discovery()
    first = disc.respond("/apis", KUBECTL_ACCEPT)
    second = disc.respond("/apis", KUBECTL_ACCEPT)
    assert first is not None and second is not None
    assert first[0] is second[0]


def test_a_registry_with_only_some_resources() -> None:
    only = Registry(
        [ResourceInfo("example.com", "v1", "Widget", "widgets", "widget", namespaced=False)]
    )
    disc = Discovery(only)
    api, _ = _json(disc.respond("/api"))
    assert api["versions"] == []
    aggregated, _ = _json(disc.respond("/api", KUBECTL_ACCEPT))
    assert aggregated["items"] == []
    doc, _ = _json(disc.respond("/apis/example.com/v1"))
    assert [r["name"] for r in doc["resources"]] == ["widgets"]
    with pytest.raises(ValueError, match="not served"):
        disc.aggregated("apis", "v3")


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/api", "V1APIVersions"),
        ("/apis", "V1APIGroupList"),
        ("/apis/apps", "V1APIGroup"),
        ("/api/v1", "V1APIResourceList"),
        ("/apis/apps/v1", "V1APIResourceList"),
    ],
)
def test_the_python_client_accepts_legacy_documents(path: str, model: str) -> None:
    # The official client validates required fields when it builds its models.
    from kubernetes.client import ApiClient

    answer = default_discovery().respond(path, "application/json")
    assert answer is not None
    client = ApiClient()
    try:
        parsed = client.deserialize(answer[0].decode(), model, answer[1])
        version = client.deserialize(version_info_bytes().decode(), "VersionInfo", answer[1])
    finally:
        client.close()
    assert type(parsed).__name__ == model
    assert version.minor == "33"
