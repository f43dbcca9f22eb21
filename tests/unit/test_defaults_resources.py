"""Defaulting of every resource but pods, against upstream's SetDefaults_* functions."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from tests.support.strategy import create, info, template

from kybernetes.api._strategy import default


def _default(plural: str, obj: dict[str, Any], group: str = "") -> dict[str, Any]:
    return default(info(plural, group), obj)


def test_service_cluster_ip_defaults() -> None:
    svc = _default("services", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})
    spec = svc["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in spec


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"type": "NodePort", "ports": [{"port": 80}]}, {"externalTrafficPolicy": "Cluster"}),
        (
            {"type": "LoadBalancer", "ports": [{"port": 80}]},
            {"externalTrafficPolicy": "Cluster", "allocateLoadBalancerNodePorts": True},
        ),
        (
            {"sessionAffinity": "ClientIP", "ports": [{"port": 80}]},
            {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}}},
        ),
        (
            {"clusterIP": "None", "selector": {"app": "a"}},
            {"ipFamilyPolicy": "SingleStack", "clusterIPs": ["None"]},
        ),
        ({"clusterIP": "None"}, {"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv4"]}),
        ({"clusterIP": "fd00::10", "ports": [{"port": 80}]}, {"ipFamilies": ["IPv6"]}),
        (
            {"ports": [{"port": 80, "targetPort": "http"}]},
            {"ports": [{"port": 80, "targetPort": "http", "protocol": "TCP"}]},
        ),
    ],
)
def test_service_variants(spec: dict[str, Any], expected: dict[str, Any]) -> None:
    out = _default("services", {"metadata": {"name": "s"}, "spec": spec})["spec"]
    for key, value in expected.items():
        assert out[key] == value, key


def test_external_name_service_has_no_families() -> None:
    spec = {"type": "ExternalName", "externalName": "example.com"}
    out = _default("services", {"metadata": {"name": "s"}, "spec": spec})["spec"]
    assert "ipFamilies" not in out and "ipFamilyPolicy" not in out
    assert "internalTrafficPolicy" not in out


def test_deployment_defaults() -> None:
    out = _default("deployments", {"spec": {"template": template()}}, "apps")["spec"]
    assert out["replicas"] == 1
    assert out["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert out["revisionHistoryLimit"] == 10
    assert out["progressDeadlineSeconds"] == 600
    assert out["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    recreate = _default("deployments", {"spec": {"strategy": {"type": "Recreate"}}}, "apps")
    assert recreate["spec"]["strategy"] == {"type": "Recreate"}


def test_replica_sets_and_replication_controllers() -> None:
    assert _default("replicasets", {"spec": {}}, "apps")["spec"]["replicas"] == 1
    rc = _default(
        "replicationcontrollers", {"metadata": {"name": "r"}, "spec": {"template": template()}}
    )
    assert rc["spec"]["replicas"] == 1
    assert rc["spec"]["selector"] == {"app": "a"}
    assert rc["metadata"]["labels"] == {"app": "a"}
    explicit = {
        "metadata": {"labels": {"x": "y"}},
        "spec": {"selector": {"k": "v"}, "template": template()},
    }
    rc = _default("replicationcontrollers", explicit)
    assert rc["spec"]["selector"] == {"k": "v"} and rc["metadata"]["labels"] == {"x": "y"}


def test_daemon_set_defaults() -> None:
    out = _default("daemonsets", {"spec": {"template": template()}}, "apps")["spec"]
    assert out["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert out["revisionHistoryLimit"] == 10


def test_stateful_set_defaults() -> None:
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    sts = {"spec": {"template": template(), "volumeClaimTemplates": [claim]}}
    out = _default("statefulsets", sts, "apps")["spec"]
    assert out["replicas"] == 1
    assert out["podManagementPolicy"] == "OrderedReady"
    assert out["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert out["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert out["revisionHistoryLimit"] == 10
    assert out["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    assert out["volumeClaimTemplates"][0]["status"] == {"phase": "Pending"}
    # An explicit RollingUpdate without the sub-object gets no partition (as upstream).
    explicit = {"spec": {"updateStrategy": {"type": "RollingUpdate"}}}
    assert _default("statefulsets", explicit, "apps")["spec"]["updateStrategy"] == {
        "type": "RollingUpdate"
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, {"completions": 1, "parallelism": 1, "backoffLimit": 6}),
        ({"completions": 5}, {"completions": 5, "parallelism": 1}),
        ({"parallelism": 3}, {"parallelism": 3}),
        (
            {"backoffLimitPerIndex": 1, "completionMode": "Indexed", "completions": 2},
            {"backoffLimit": 2147483647},
        ),
        ({"podFailurePolicy": {"rules": []}}, {"podReplacementPolicy": "Failed"}),
    ],
)
def test_job_defaults(spec: dict[str, Any], expected: dict[str, Any]) -> None:
    spec = {**spec, "template": template(restartPolicy="Never")}
    out = _default("jobs", {"metadata": {"name": "j"}, "spec": spec}, "batch")["spec"]
    for key, value in expected.items():
        assert out[key] == value, key
    if "parallelism" in spec and "completions" not in spec:
        assert "completions" not in out
    assert out["suspend"] is False
    assert out["completionMode"] in ("NonIndexed", "Indexed")
    assert out["manualSelector"] is False


def test_job_selector_is_generated_at_create() -> None:
    job = {"metadata": {"name": "pi"}, "spec": {"template": template({}, restartPolicy="Never")}}
    stored, errors = create("jobs", job, "batch")
    assert errors == []
    uid = stored["metadata"]["uid"]
    assert stored["spec"]["selector"] == {
        "matchLabels": {"batch.kubernetes.io/controller-uid": uid}
    }
    expected_labels = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": uid,
        "job-name": "pi",
    }
    assert stored["spec"]["template"]["metadata"]["labels"] == expected_labels
    # Upstream's read-time defaulting copies the template labels onto a label-less job.
    assert stored["metadata"]["labels"] == expected_labels
    assert stored["metadata"]["generation"] == 1


def test_cron_job_defaults() -> None:
    cj = {"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template()}}}}
    out = _default("cronjobs", cj, "batch")["spec"]
    assert out["concurrencyPolicy"] == "Allow"
    assert out["suspend"] is False
    assert out["successfulJobsHistoryLimit"] == 3
    assert out["failedJobsHistoryLimit"] == 1
    job_spec = out["jobTemplate"]["spec"]
    assert "backoffLimit" not in job_spec  # Job defaults are for Job objects only
    assert job_spec["template"]["spec"]["restartPolicy"] == "Always"


def test_namespace_defaults_and_create() -> None:
    stored, errors = create("namespaces", {"metadata": {"name": "team-a"}})
    assert errors == []
    assert stored["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert stored["spec"] == {"finalizers": ["kubernetes"]}
    assert stored["status"] == {"phase": "Active"}


@pytest.mark.parametrize(
    ("plural", "group", "obj", "path", "value"),
    [
        ("persistentvolumeclaims", "", {"spec": {}}, ("spec", "volumeMode"), "Filesystem"),
        ("persistentvolumeclaims", "", {"spec": {}}, ("status", "phase"), "Pending"),
        (
            "persistentvolumes",
            "",
            {"spec": {}},
            ("spec", "persistentVolumeReclaimPolicy"),
            "Retain",
        ),
        ("persistentvolumes", "", {"spec": {}}, ("spec", "volumeMode"), "Filesystem"),
        ("persistentvolumes", "", {"spec": {}}, ("status", "phase"), "Pending"),
        ("secrets", "", {}, ("type",), "Opaque"),
        (
            "priorityclasses",
            "scheduling.k8s.io",
            {"value": 5},
            ("preemptionPolicy",),
            "PreemptLowerPriority",
        ),
        ("storageclasses", "storage.k8s.io", {"provisioner": "p"}, ("reclaimPolicy",), "Delete"),
        (
            "storageclasses",
            "storage.k8s.io",
            {"provisioner": "p"},
            ("volumeBindingMode",),
            "Immediate",
        ),
        (
            "endpoints",
            "",
            {"subsets": [{"ports": [{"port": 80}]}]},
            ("subsets", 0, "ports", 0, "protocol"),
            "TCP",
        ),
        (
            "endpointslices",
            "discovery.k8s.io",
            {"ports": [{"port": 80}]},
            ("ports", 0),
            {"port": 80, "name": "", "protocol": "TCP"},
        ),
        (
            "nodes",
            "",
            {"status": {"capacity": {"cpu": "2", "memory": "2048Ki"}}},
            ("status", "allocatable"),
            {"cpu": "2", "memory": "2Mi"},
        ),
    ],
)
def test_simple_defaults(
    plural: str, group: str, obj: dict[str, Any], path: tuple[Any, ...], value: Any
) -> None:
    node: Any = _default(plural, obj, group)
    for step in path:
        node = node[step]
    assert node == value


def test_secret_string_data_is_folded_into_data() -> None:
    secret = {
        "data": {"a": base64.b64encode(b"old").decode()},
        "stringData": {"a": "new", "b": "x"},
    }
    out = _default("secrets", secret)
    assert "stringData" not in out
    assert {k: base64.b64decode(v) for k, v in out["data"].items()} == {"a": b"new", "b": b"x"}


def test_rbac_binding_api_groups() -> None:
    binding = {
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "sa", "namespace": "default"},
        ],
    }
    out = _default("clusterrolebindings", binding, "rbac.authorization.k8s.io")
    assert out["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    assert [s["apiGroup"] for s in out["subjects"]] == [
        "rbac.authorization.k8s.io",
        "rbac.authorization.k8s.io",
        "",
    ]


def test_limit_range_container_defaults() -> None:
    item = {"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"}}
    out = _default("limitranges", {"spec": {"limits": [item]}})["spec"]["limits"][0]
    assert out["default"] == {"cpu": "2"}
    assert out["defaultRequest"] == {"cpu": "2", "memory": "64Mi"}


def test_crd_defaults() -> None:
    crd = {
        "spec": {
            "group": "example.com",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        }
    }
    out = _default("customresourcedefinitions", crd, "apiextensions.k8s.io")
    assert out["spec"]["names"]["singular"] == "widget"
    assert out["spec"]["names"]["listKind"] == "WidgetList"
    assert out["spec"]["conversion"] == {"strategy": "None"}
    assert out["status"]["storedVersions"] == ["v1"]


def test_resources_without_defaults_are_copied_unchanged() -> None:
    lease = {"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}}
    out = _default("leases", lease, "coordination.k8s.io")
    assert out == lease and out is not lease
