"""Create/update preparation: status ownership, generation, and per-resource update rules."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.strategy import create, info, pod, stored, template, update

from kybernetes.api._jsonvalue import deep_copy
from kybernetes.api._registry import ResourceInfo
from kybernetes.api._strategy import (
    generation_changes,
    prepare_for_create,
    prepare_for_status_update,
    prepare_for_update,
    prepare_namespace_finalize,
    tracks_generation,
)

DEPLOY = info("deployments", "apps")


def _deployment(replicas: int = 1) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "labels": {"app": "a"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "a"}},
            "template": template(),
        },
    }


@pytest.mark.parametrize(
    ("plural", "group", "keeps_status"),
    [
        ("deployments", "apps", False),
        ("services", "", False),
        ("persistentvolumeclaims", "", False),
        ("nodes", "", True),
    ],
)
def test_status_on_create(plural: str, group: str, keeps_status: bool) -> None:
    obj = {"metadata": {"name": "x"}, "spec": {}, "status": {"foo": "bar"}}
    out = prepare_for_create(info(plural, group), obj)
    assert (out.get("status", {}).get("foo") == "bar") is keeps_status
    assert obj["status"] == {"foo": "bar"}


def test_pod_status_on_create() -> None:
    out, _ = create("pods", {**pod(), "status": {"phase": "Running", "podIP": "10.0.0.1"}})
    assert out["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert out["metadata"]["generation"] == 1


def test_pv_phase_transition_time() -> None:
    pv = {"metadata": {"name": "pv", "creationTimestamp": "2025-02-02T00:00:00Z"}, "spec": {}}
    out = prepare_for_create(info("persistentvolumes"), pv)
    assert out["status"] == {"phase": "Pending", "lastPhaseTransitionTime": "2025-02-02T00:00:00Z"}
    bound = deep_copy(out)
    bound["status"]["phase"] = "Bound"
    done = prepare_for_status_update(
        info("persistentvolumes"), bound, out, now="2025-03-03T00:00:00Z"
    )
    assert done["status"]["lastPhaseTransitionTime"] == "2025-03-03T00:00:00Z"


def test_main_update_ignores_status_and_bumps_generation_on_spec_change() -> None:
    old = stored("deployments", _deployment(), "apps")
    old["status"] = {"replicas": 1}
    new = deep_copy(old)
    new["status"] = {"replicas": 99}
    same, errors = update("deployments", old, new, "apps")
    assert errors == []
    assert same["status"] == {"replicas": 1}
    assert same["metadata"]["generation"] == 1
    new["spec"]["replicas"] = 3
    bumped, _ = update("deployments", old, new, "apps")
    assert bumped["metadata"]["generation"] == 2
    # Label changes are metadata: no new generation.
    relabeled = deep_copy(old)
    relabeled["metadata"]["labels"] = {"app": "a", "tier": "web"}
    assert update("deployments", old, relabeled, "apps")[0]["metadata"]["generation"] == 1


def test_status_update_ignores_spec_and_deployment_labels() -> None:
    old = stored("deployments", _deployment(), "apps")
    new = deep_copy(old)
    new["spec"]["replicas"] = 5
    new["metadata"]["labels"] = {"hijacked": "yes"}
    new["metadata"]["annotations"] = {"note": "kept"}
    new["status"] = {"replicas": 1, "readyReplicas": 1}
    out = prepare_for_status_update(DEPLOY, new, old)
    assert out["spec"] == old["spec"]
    assert out["metadata"]["labels"] == {"app": "a"}
    assert out["metadata"]["annotations"] == {"note": "kept"}
    assert out["status"] == {"replicas": 1, "readyReplicas": 1}
    assert out["metadata"]["generation"] == 1


def test_replica_set_status_update_keeps_new_labels() -> None:
    rs = info("replicasets", "apps")
    old = {"metadata": {"name": "r", "labels": {"a": "1"}}, "spec": {"replicas": 1}}
    new = {
        "metadata": {"name": "r", "labels": {"a": "2"}},
        "spec": {"replicas": 9},
        "status": {"replicas": 1},
    }
    out = prepare_for_status_update(rs, new, old)
    assert out["metadata"]["labels"] == {"a": "2"}
    assert out["spec"] == {"replicas": 1}


def test_pod_status_update_protects_owner_references_and_qos() -> None:
    old = stored("pods", pod())
    old["metadata"]["ownerReferences"] = [
        {"kind": "ReplicaSet", "name": "r", "uid": "u", "apiVersion": "apps/v1"}
    ]
    new = deep_copy(old)
    del new["metadata"]["ownerReferences"]
    new["spec"]["nodeName"] = "elsewhere"
    new["status"] = {"phase": "Running"}
    out = prepare_for_status_update(info("pods"), new, old)
    assert out["metadata"]["ownerReferences"] == old["metadata"]["ownerReferences"]
    assert "nodeName" not in out["spec"]
    assert out["status"] == {"phase": "Running", "qosClass": "BestEffort"}


def test_pod_generation_and_priority_backfill() -> None:
    old = stored("pods", pod(priorityClassName="high"))
    old["spec"]["priority"] = 1000
    new = deep_copy(old)
    del new["spec"]["priority"]
    new["spec"]["containers"][0]["image"] = "nginx:1.28"
    out, errors = update("pods", old, new)
    assert errors == []
    assert out["spec"]["priority"] == 1000
    assert out["metadata"]["generation"] == 2


def test_namespace_finalizers_only_change_through_finalize() -> None:
    old = stored("namespaces", {"metadata": {"name": "ns"}})
    new = deep_copy(old)
    new["spec"]["finalizers"] = []
    out, errors = update("namespaces", old, new)
    assert errors == [] and out["spec"]["finalizers"] == ["kubernetes"]
    finalized = prepare_namespace_finalize(new, {**old, "status": {"phase": "Terminating"}})
    assert finalized["spec"]["finalizers"] == [] and finalized["status"] == {"phase": "Terminating"}


def test_service_update_keeps_allocated_values() -> None:
    spec = {"type": "NodePort", "ports": [{"name": "http", "port": 80}], "selector": {"a": "b"}}
    old = stored("services", {"metadata": {"name": "s"}, "spec": spec})
    old["spec"].update(clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"])
    old["spec"]["ports"][0]["nodePort"] = 30080
    # A PUT of the original manifest (no clusterIP, no nodePort) must not lose them.
    out, errors = update("services", old, {"metadata": {"name": "s"}, "spec": spec})
    assert errors == []
    assert out["spec"]["clusterIP"] == "10.96.0.10"
    assert out["spec"]["clusterIPs"] == ["10.96.0.10"]
    assert out["spec"]["ports"][0]["nodePort"] == 30080


def test_daemon_set_template_generation() -> None:
    ds = {
        "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": template()},
    }
    old = stored("daemonsets", ds, "apps")
    annotation = "deprecated.daemonset.template.generation"
    assert old["metadata"]["annotations"][annotation] == "1"
    new = deep_copy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    out, errors = update("daemonsets", old, new, "apps")
    assert errors == []
    assert out["metadata"]["annotations"][annotation] == "2"
    assert out["metadata"]["generation"] == 2
    new = deep_copy(old)
    new["spec"]["minReadySeconds"] = 5
    out, _ = update("daemonsets", old, new, "apps")
    assert out["metadata"]["annotations"][annotation] == "1"
    assert out["metadata"]["generation"] == 2


@pytest.mark.parametrize(
    ("plural", "group", "tracked"),
    [
        ("pods", "", True),
        ("deployments", "apps", True),
        ("jobs", "batch", True),
        ("endpointslices", "discovery.k8s.io", True),
        ("configmaps", "", False),
        ("services", "", False),
        ("namespaces", "", False),
    ],
)
def test_tracks_generation(plural: str, group: str, tracked: bool) -> None:
    res = info(plural, group)
    assert tracks_generation(res) is tracked
    out = prepare_for_create(res, {"metadata": {"name": "x"}, "spec": {}})
    assert ("generation" in out["metadata"]) is tracked


def test_custom_resources_track_generation_outside_status() -> None:
    widget = ResourceInfo(
        "example.com", "v1", "Widget", "widgets", "widget", True, subresources={"status": ""}
    )
    old = {"metadata": {"name": "w", "generation": 4}, "spec": {"size": 1}, "status": {"ok": True}}
    assert not generation_changes(widget, {**old, "status": {"ok": False}}, old)
    assert generation_changes(widget, {**old, "spec": {"size": 2}}, old)
    assert generation_changes(widget, {**old, "data": 1}, old)
    out = prepare_for_update(widget, {**old, "spec": {"size": 2}, "status": {"ok": False}}, old)
    assert out["metadata"]["generation"] == 5 and out["status"] == {"ok": True}


def test_endpoint_slice_label_changes_bump_generation() -> None:
    res = info("endpointslices", "discovery.k8s.io")
    old = {"metadata": {"name": "e", "labels": {"a": "1"}}, "addressType": "IPv4"}
    assert generation_changes(res, {**old, "metadata": {"name": "e", "labels": {"a": "2"}}}, old)
    assert not generation_changes(
        res,
        {**old, "metadata": {"name": "e", "labels": {"a": "1"}, "annotations": {"x": "y"}}},
        old,
    )
