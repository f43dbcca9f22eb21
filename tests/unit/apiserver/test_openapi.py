"""OpenAPI v3 index and documents (kybernetes.apiserver._openapi and helpers)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from kybernetes.api import REGISTRY, Registry
from kybernetes.apiserver._openapi import OpenAPIv3, default_openapi
from kybernetes.apiserver._openapi_operations import PATCH_CONTENT_TYPES

POD = "io.k8s.api.core.v1.Pod"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."


def _doc(path: str) -> dict[str, Any]:
    doc = default_openapi().document(path)
    assert doc is not None
    return doc


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_index_lists_every_group_version_with_the_hash_of_its_bytes() -> None:
    api = default_openapi()
    index = orjson.loads(api.respond("/openapi/v3") or b"")
    expected = {f"apis/{g}/{v}" if g else f"api/{v}" for g, v in REGISTRY.group_versions()}
    assert set(index["paths"]) == expected
    for path, entry in index["paths"].items():
        url = entry["serverRelativeURL"]
        assert url.startswith(f"/openapi/v3/{path}?hash=")
        data = api.respond(f"/openapi/v3/{path}")
        assert data is not None
        assert url.split("hash=")[1] == hashlib.sha512(data).hexdigest().upper()


def test_hash_changes_when_the_document_changes() -> None:
    smaller = Registry([i for i in REGISTRY if i.plural != "secrets"])
    full, partial = OpenAPIv3(REGISTRY), OpenAPIv3(smaller)
    full_core, partial_core = full.get("api/v1"), partial.get("api/v1")
    assert full_core is not None and partial_core is not None
    assert full_core.hash != partial_core.hash
    # ... and only then: apps/v1 did not change.
    assert full.get("apis/apps/v1") == partial.get("apis/apps/v1")


def test_unknown_paths() -> None:
    api = default_openapi()
    assert api.respond("/openapi/v3/apis/nope/v1") is None
    assert api.respond("/openapi/v2") is None
    assert api.respond("/openapi/v3/") == api.index_bytes()


@pytest.mark.parametrize("path", ["api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1"])
def test_documents_are_openapi_3_and_self_contained(path: str) -> None:
    doc = _doc(path)
    assert doc["openapi"].startswith("3.0")
    schemas = doc["components"]["schemas"]
    for key, value in _walk(doc):
        if key == "$ref":
            assert value.startswith("#/components/schemas/")
            assert value.removeprefix("#/components/schemas/") in schemas, value
        if key == "type" and isinstance(value, (str, list)):
            # A schema's type is one string, never a list and never null. (Parameters
            # also say "type", inside their "schema".)
            assert isinstance(value, str) and value != "null"
    assert "$defs" not in orjson.dumps(doc).decode()
    op_ids = [op["operationId"] for item in doc["paths"].values() for op in _operations(item)]
    assert len(op_ids) == len(set(op_ids))


def _operations(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for k, v in item.items() if k in ("get", "put", "post", "patch", "delete")]


def test_every_patch_declares_field_validation_and_the_patch_types() -> None:
    doc = _doc("api/v1")
    patches = [item["patch"] for item in doc["paths"].values() if "patch" in item]
    assert patches
    for op in patches:
        names = {(p["name"], p["in"]) for p in op["parameters"]}
        assert ("fieldValidation", "query") in names
        assert ("fieldManager", "query") in names
        assert ("force", "query") in names
        assert set(op["requestBody"]["content"]) == set(PATCH_CONTENT_TYPES)
        assert op["x-kubernetes-action"] == "patch"


def test_pod_paths_carry_actions_and_kinds() -> None:
    paths = _doc("api/v1")["paths"]
    pod_gvk = {"group": "", "kind": "Pod", "version": "v1"}
    collection = paths["/api/v1/namespaces/{namespace}/pods"]
    assert collection["get"]["x-kubernetes-action"] == "list"
    assert collection["post"]["x-kubernetes-action"] == "post"
    assert collection["delete"]["x-kubernetes-action"] == "deletecollection"
    assert collection["get"]["x-kubernetes-group-version-kind"] == pod_gvk
    list_params = {p["name"] for p in collection["get"]["parameters"]}
    assert {"labelSelector", "fieldSelector", "limit", "continue", "watch"} <= list_params
    assert {p["name"] for p in collection["parameters"]} == {"namespace", "pretty"}
    item = paths["/api/v1/namespaces/{namespace}/pods/{name}"]
    assert {k for k in item if k != "parameters"} == {"get", "put", "patch", "delete"}
    assert item["patch"]["x-kubernetes-group-version-kind"] == pod_gvk
    assert paths["/api/v1/pods"]["get"]["x-kubernetes-action"] == "list"
    watch = paths["/api/v1/watch/namespaces/{namespace}/pods/{name}"]["get"]
    assert watch["x-kubernetes-action"] == "watch"
    eviction = paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"]
    assert eviction["x-kubernetes-group-version-kind"] == {
        "group": "policy",
        "kind": "Eviction",
        "version": "v1",
    }
    log = paths["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"]
    assert "text/plain" in log["responses"]["200"]["content"]
    assert {p["name"] for p in log["parameters"]} >= {"container", "follow", "tailLines"}
    exec_ = paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"]
    assert exec_["get"]["x-kubernetes-action"] == exec_["post"]["x-kubernetes-action"] == "connect"
    # Cluster-scoped resources have no namespace segment; namespaces cannot be
    # deleted as a collection (the registry says so).
    assert "delete" not in paths["/api/v1/namespaces"]
    assert "put" in paths["/api/v1/namespaces/{name}/finalize"]
    assert "/api/v1/nodes/{name}/status" in paths


def test_scale_subresource_speaks_autoscaling_scale() -> None:
    doc = _doc("apis/apps/v1")
    scale = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    scale_gvk = {"group": "autoscaling", "kind": "Scale", "version": "v1"}
    for method in ("get", "put", "patch"):
        assert scale[method]["x-kubernetes-group-version-kind"] == scale_gvk
    assert "io.k8s.api.autoscaling.v1.Scale" in doc["components"]["schemas"]


def test_component_schemas_are_converted_like_upstream() -> None:
    schemas = _doc("api/v1")["components"]["schemas"]
    pod = schemas[POD]
    assert pod["type"] == "object"
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    # kubernetes-validate's apiVersion/kind enums are not upstream's.
    assert "enum" not in pod["properties"]["apiVersion"]
    assert pod["properties"]["kind"]["type"] == "string"
    # A $ref with a description becomes allOf, so the description survives.
    metadata = pod["properties"]["metadata"]
    assert metadata["allOf"] == [{"$ref": f"#/components/schemas/{META}ObjectMeta"}]
    assert metadata["description"].startswith("Standard object's metadata.")
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["type"] == "array"
    assert containers["items"] == {"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-list-type"] == "map"
    assert containers["x-kubernetes-list-map-keys"] == ["name"]
    assert schemas["io.k8s.api.core.v1.PodSpec"]["required"] == ["containers"]
    int_or_string = schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert (int_or_string["type"], int_or_string["format"]) == ("string", "int-or-string")
    assert schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["type"] == "string"
    assert schemas[f"{META}Time"]["format"] == "date-time"
    # What errors, deletes and watches speak is always there.
    for name in ("Status", "DeleteOptions", "Patch", "WatchEvent"):
        assert META + name in schemas


def test_documents_only_carry_reachable_definitions() -> None:
    schemas = _doc("apis/coordination.k8s.io/v1")["components"]["schemas"]
    assert "io.k8s.api.coordination.v1.Lease" in schemas
    assert POD not in schemas
    assert "io.k8s.api.apps.v1.Deployment" not in schemas


def test_documents_are_built_once() -> None:
    api = OpenAPIv3()
    assert api.get("api/v1") is api.get("api/v1")
    assert api.index_bytes() is api.index_bytes()
