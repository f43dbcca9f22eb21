"""managedFields kept by the generic registry on every write, over an in-memory store, and
the request pieces of server-side apply (body decoding, PATCH options). No HTTP."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.support.memstore import MemoryStore

from kybernetes.api import REGISTRY
from kybernetes.apiserver._admission import Chain
from kybernetes.apiserver._apply import check_patch_options
from kybernetes.apiserver._apply_body import decode_apply_body, strict_yaml_message
from kybernetes.apiserver._apply_scale import scale_managed_fields, workload_managed_fields
from kybernetes.apiserver._errors import APIError
from kybernetes.apiserver._managed import manager_name, tracker_for
from kybernetes.apiserver._options import WriteOptions
from kybernetes.apiserver._storage import SCALE, STATUS, ResourceStorage
from kybernetes.apiserver._strategy import strategy_for

NOW, LATER = 1_700_000_000.0, 1_700_000_100.0
T_NOW, T_LATER = "2023-11-14T22:13:20Z", "2023-11-14T22:15:00Z"
APPLY = "application/apply-patch+yaml"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _storage(group: str, plural: str, clock: Clock) -> ResourceStorage:
    info = REGISTRY.get(group, "v1", plural)
    assert info is not None
    return ResourceStorage(MemoryStore(), strategy_for(info), Chain([]), clock=clock)


def _tracker(storage: ResourceStorage, manager: str, subresource: str = "") -> Any:
    return tracker_for(storage.info, subresource, manager, None)


def _entries(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e for e in obj["metadata"].get("managedFields", [])}


def _pod(name: str, image: str = "busybox") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "a"}},
        "spec": {"containers": [{"name": "c", "image": image}]},
        "status": {"phase": "Running"},
    }


async def test_create_records_the_creator_with_its_defaults() -> None:
    pods = _storage("", "pods", Clock())
    created = await pods.create("default", _pod("p"), fields=_tracker(pods, "kubectl-create"))
    entry = _entries(created)["kubectl-create"]
    assert (entry["operation"], entry["apiVersion"], entry["time"]) == ("Update", "v1", T_NOW)
    fields = entry["fieldsV1"]
    assert fields["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}
    # Defaults are applied before ownership is recorded, as upstream decodes with defaults.
    assert {"f:restartPolicy", "f:dnsPolicy", "f:containers"} <= set(fields["f:spec"])
    container = fields["f:spec"]["f:containers"]['k:{"name":"c"}']
    assert {"f:image", "f:imagePullPolicy", "f:terminationMessagePath"} <= set(container)
    # Status is reset on the main resource of a kind with a status subresource.
    assert "f:status" not in fields
    assert created["status"]["phase"] == "Pending"


async def test_creates_of_one_shape_share_the_field_set_but_no_objects() -> None:
    pods = _storage("", "pods", Clock())
    fields = _tracker(pods, "replicaset-controller")
    a = await pods.create("default", _pod("a"), fields=fields)
    b = await pods.create("default", _pod("b"), fields=fields)
    c = await pods.create("default", _pod("c", image="nginx"), fields=fields)
    assert a["metadata"]["managedFields"] == b["metadata"]["managedFields"]
    assert a["metadata"]["managedFields"] is not b["metadata"]["managedFields"]
    a["metadata"]["managedFields"][0]["fieldsV1"].clear()
    assert b["metadata"]["managedFields"][0]["fieldsV1"]
    assert c["metadata"]["managedFields"] == b["metadata"]["managedFields"]  # same fields
    other = await pods.create("default", _pod("d"), fields=_tracker(pods, "someone-else"))
    assert [e["manager"] for e in other["metadata"]["managedFields"]] == ["someone-else"]


async def test_updates_move_ownership_and_no_ops_write_nothing() -> None:
    clock = Clock()
    cms = _storage("", "configmaps", clock)
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    created = await cms.create("default", copy.deepcopy(cm), fields=_tracker(cms, "creator"))
    clock.now = LATER
    changed = copy.deepcopy(cm)
    changed["data"] = {"a": "2", "b": "3"}
    updated, _ = await cms.update("default", "c", changed, fields=_tracker(cms, "editor"))
    entries = _entries(updated)
    assert entries["editor"]["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    assert entries["editor"]["time"] == T_LATER
    assert entries["creator"] == {**_entries(created)["creator"], "fieldsV1": {"f:data": {}}}

    # Writing what is already there changes no owner, no timestamp, and is not written.
    same, _ = await cms.update("default", "c", copy.deepcopy(changed), fields=_tracker(cms, "x"))
    assert same["metadata"]["resourceVersion"] == updated["metadata"]["resourceVersion"]
    assert same["metadata"]["managedFields"] == updated["metadata"]["managedFields"]


async def test_status_and_scale_writes_are_recorded_with_their_subresource() -> None:
    deployments = _storage("apps", "deployments", Clock())
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "d"}},
            "template": {
                "metadata": {"labels": {"app": "d"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    created = await deployments.create("default", deployment, fields=_tracker(deployments, "me"))

    def with_status(current: dict[str, Any]) -> dict[str, Any]:
        return {**current, "spec": {**current["spec"], "replicas": 7}, "status": {"replicas": 1}}

    status, _ = await deployments.guaranteed_update(
        "default",
        "d",
        with_status,
        subresource=STATUS,
        fields=_tracker(deployments, "controller", STATUS),
    )
    assert status["spec"]["replicas"] == 1  # spec is reset on /status, and never owned there
    entry = _entries(status)["controller"]
    assert (entry["subresource"], entry["fieldsV1"]) == ("status", {"f:status": {"f:replicas": {}}})

    def scaled(current: dict[str, Any]) -> dict[str, Any]:
        return {**current, "spec": {**current["spec"], "replicas": 3}}

    after, _ = await deployments.guaranteed_update(
        "default", "d", scaled, fields=_tracker(deployments, "hpa", SCALE)
    )
    entries = _entries(after)
    assert (entries["hpa"]["subresource"], entries["hpa"]["apiVersion"]) == ("scale", "apps/v1")
    assert entries["hpa"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in entries["me"]["fieldsV1"]["f:spec"]
    assert "f:replicas" in _entries(created)["me"]["fieldsV1"]["f:spec"]


async def test_writes_without_a_tracker_keep_managed_fields_as_computed() -> None:
    cms = _storage("", "configmaps", Clock())
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    created = await cms.create("default", cm, fields=_tracker(cms, "creator"))
    bumped, _ = await cms.guaranteed_update("default", "c", lambda cur: {**cur, "data": {"a": "2"}})
    assert bumped["metadata"]["managedFields"] == created["metadata"]["managedFields"]


def test_manager_name_falls_back_to_the_user_agent() -> None:
    assert manager_name("mine", "kubectl/v1.33.0 (linux/amd64)") == "mine"
    assert manager_name("", "kubectl/v1.33.0 (linux/amd64)") == "kubectl"
    assert manager_name("", "OpenAPI-Generator/33.1.0/python") == "OpenAPI-Generator"
    assert manager_name("", None) == ""


# -- apply request pieces -------------------------------------------------------------------


def test_decode_apply_body_yaml_json_and_duplicates() -> None:
    value, dups = decode_apply_body(b"a: 1\nb:\n  c: x\n  c: y\na: 2\n", find_duplicates=True)
    assert value == {"a": 2, "b": {"c": "y"}}
    assert dups == ['line 4: key "c" already set in map', 'line 5: key "a" already set in map']
    assert decode_apply_body(b"a: 1\na: 2\n", find_duplicates=False) == ({"a": 2}, [])
    # JSON (what kubectl sends) takes the JSON decoder; its duplicates are still found.
    assert decode_apply_body(b'{"x": 1.5e3, "when": "2024-01-01"}', find_duplicates=True) == (
        {"x": 1500.0, "when": "2024-01-01"},
        [],
    )
    value, dups = decode_apply_body(b'{"a": 1,\n "a": 2}', find_duplicates=True)
    assert value == {"a": 2} and dups == ['line 2: key "a" already set in map']
    # YAML timestamps stay strings, as Go's YAML-to-JSON conversion keeps them.
    assert decode_apply_body(b"t: 2024-01-01\n", find_duplicates=True)[0] == {"t": "2024-01-01"}
    assert decode_apply_body(b"  \n", find_duplicates=True) == ({}, [])
    assert strict_yaml_message(['line 2: key "a" already set in map']) == (
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n"
        '  line 2: key "a" already set in map'
    )


@pytest.mark.parametrize("raw", [b"a: [unclosed", b"? [a, b]\n: 1\n", b"a: !!binary aGk=\n"])
def test_decode_apply_body_refuses_what_is_not_json(raw: bytes) -> None:
    with pytest.raises(APIError) as e:
        decode_apply_body(raw, find_duplicates=True)
    assert e.value.code == 400 and e.value.message.startswith("error decoding YAML: ")


def test_patch_options() -> None:
    check_patch_options(APPLY, {}, WriteOptions(field_manager="kubectl"))
    check_patch_options("application/merge-patch+json", {}, WriteOptions())
    with pytest.raises(APIError) as e:
        check_patch_options(APPLY, {}, WriteOptions())
    assert (e.value.code, e.value.message) == (
        422,
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
        "is required for apply patch",
    )
    with pytest.raises(APIError) as e:
        check_patch_options("application/merge-patch+json", {"force": "false"}, WriteOptions())
    assert e.value.code == 422 and "force: Forbidden" in e.value.message
    with pytest.raises(APIError) as e:
        check_patch_options(APPLY, {}, WriteOptions(field_manager="bad\x07name"))
    assert e.value.code == 422 and "invalid character U+0007 (at position 3)" in e.value.message


def test_scale_view_and_back() -> None:
    def entry(manager: str, op: str, fields: dict[str, Any], sub: str = "") -> dict[str, Any]:
        out = {"manager": manager, "operation": op, "apiVersion": "apps/v1", "time": T_NOW}
        out |= {"fieldsType": "FieldsV1", "fieldsV1": fields}
        return out | ({"subresource": sub} if sub else {})

    spec = {"f:spec": {"f:replicas": {}, "f:paused": {}}}
    workload = {
        "metadata": {
            "managedFields": [
                entry("deployer", "Apply", spec),
                entry("labeler", "Update", {"f:metadata": {"f:labels": {"f:a": {}}}}),
            ]
        }
    }
    view = scale_managed_fields(workload)
    assert view == [
        {
            "manager": "deployer",
            "operation": "Apply",
            "apiVersion": "autoscaling/v1",
            "time": T_NOW,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}},
        }
    ]
    # The view after "hpa" forced replicas away from the deployer:
    scaled = {
        "metadata": {
            "managedFields": [
                {**view[0], "manager": "hpa", "subresource": "scale", "time": T_LATER},
            ]
        }
    }
    back = workload_managed_fields(workload, scaled, "apps/v1")
    assert back is not None
    by_manager = {e["manager"]: e for e in back}
    assert by_manager["deployer"]["fieldsV1"] == {"f:spec": {"f:paused": {}}}
    assert by_manager["labeler"] == workload["metadata"]["managedFields"][1]
    assert by_manager["hpa"] == entry("hpa", "Apply", {"f:spec": {"f:replicas": {}}}, "scale") | {
        "time": T_LATER
    }
    # Nobody losing anything: the workload's entries come back as they were.
    assert (
        workload_managed_fields(workload, {"metadata": {"managedFields": view}}, "apps/v1")
        == (workload["metadata"]["managedFields"])
    )
