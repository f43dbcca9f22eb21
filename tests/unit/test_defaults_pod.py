"""Pod defaulting matches upstream's core/v1 defaults and the pod admission plugins."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.strategy import create, info, pod

from kybernetes.api._defaults_pod import default_tolerations, image_tag
from kybernetes.api._qos import canonical_quantity, pod_qos_class
from kybernetes.api._strategy import default

POD = info("pods")


def test_pod_spec_defaults() -> None:
    out = default(POD, pod())
    spec = out["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["securityContext"] == {}
    assert spec["enableServiceLinks"] is True
    assert spec["priority"] == 0
    assert spec["preemptionPolicy"] == "PreemptLowerPriority"
    container = spec["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["resources"] == {}


def test_defaulting_copies_and_is_idempotent() -> None:
    original = pod()
    once = default(POD, original)
    assert "restartPolicy" not in original["spec"]  # the input is never mutated
    assert default(POD, once) == once


def test_explicit_values_are_kept() -> None:
    out = default(
        POD,
        pod(restartPolicy="Never", terminationGracePeriodSeconds=0, enableServiceLinks=False),
    )
    assert out["spec"]["restartPolicy"] == "Never"
    assert out["spec"]["terminationGracePeriodSeconds"] == 0
    assert out["spec"]["enableServiceLinks"] is False


@pytest.mark.parametrize(
    ("image", "tag", "policy"),
    [
        ("nginx", "latest", "Always"),
        ("nginx:latest", "latest", "Always"),
        ("nginx:1.27", "1.27", "IfNotPresent"),
        ("registry.local:5000/team/app", "latest", "Always"),
        ("registry.local:5000/team/app:v2", "v2", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "", "IfNotPresent"),
        ("nginx:1.2@sha256:" + "a" * 64, "1.2", "IfNotPresent"),
        ("Not/A/Valid:Ref!", "", "IfNotPresent"),
    ],
)
def test_image_pull_policy(image: str, tag: str, policy: str) -> None:
    assert image_tag(image) == tag
    out = default(POD, pod(containers=[{"name": "c", "image": image}]))
    assert out["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_ports_probes_env_and_lifecycle() -> None:
    container = {
        "name": "c",
        "image": "i:1",
        "ports": [{"containerPort": 80}],
        "livenessProbe": {"httpGet": {"port": 80}},
        "readinessProbe": {"grpc": {"port": 9000}, "periodSeconds": 5},
        "lifecycle": {"preStop": {"httpGet": {"port": 8080, "path": "/stop"}}},
        "env": [
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
        ],
    }
    c = default(POD, pod(containers=[container]))["spec"]["containers"][0]
    assert c["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert c["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert c["readinessProbe"]["periodSeconds"] == 5
    assert c["readinessProbe"]["grpc"] == {"port": 9000, "service": ""}
    assert c["lifecycle"]["preStop"]["httpGet"] == {"port": 8080, "path": "/stop", "scheme": "HTTP"}
    assert c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
    assert c["env"][1]["valueFrom"]["resourceFieldRef"]["divisor"] == "0"


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        ({"name": "v"}, {"name": "v", "emptyDir": {}}),
        (
            {"name": "v", "configMap": {"name": "cm"}},
            {"name": "v", "configMap": {"name": "cm", "defaultMode": 420}},
        ),
        (
            {"name": "v", "secret": {"secretName": "s", "defaultMode": 256}},
            {"name": "v", "secret": {"secretName": "s", "defaultMode": 256}},
        ),
        (
            {"name": "v", "hostPath": {"path": "/data"}},
            {"name": "v", "hostPath": {"path": "/data", "type": ""}},
        ),
        (
            {"name": "v", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
            {
                "name": "v",
                "projected": {
                    "sources": [{"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}],
                    "defaultMode": 420,
                },
            },
        ),
    ],
)
def test_volume_defaults(volume: dict[str, Any], expected: dict[str, Any]) -> None:
    out = default(POD, pod(volumes=[volume]))
    assert out["spec"]["volumes"] == [expected]


def test_requests_default_to_limits_for_pods_only() -> None:
    limits = {"cpu": "500m", "memory": "64Mi"}
    c = {"name": "c", "image": "i:1", "resources": {"limits": limits, "requests": {"cpu": "100m"}}}
    out = default(POD, pod(containers=[c]))
    assert out["spec"]["containers"][0]["resources"]["requests"] == {
        "cpu": "100m",
        "memory": "64Mi",
    }
    # A pod template (inside a deployment) does not get that pod-only default.
    deploy = {"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [c]}}}}
    out = default(info("deployments", "apps"), deploy)
    tspec = out["spec"]["template"]["spec"]
    assert tspec["containers"][0]["resources"]["requests"] == {"cpu": "100m"}
    assert "enableServiceLinks" not in tspec and "priority" not in tspec
    assert tspec["restartPolicy"] == "Always"


def test_host_network_defaults_host_ports() -> None:
    c = {"name": "c", "image": "i:1", "ports": [{"containerPort": 8080}]}
    out = default(POD, pod(hostNetwork=True, containers=[c]))
    assert out["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("0.5", "500m"), ("1000m", "1"), ("1536Mi", "1536Mi"), ("0.0001", "1m"), (2, "2"), ("x", "x")],
)
def test_resource_quantities_are_canonical(raw: Any, stored: Any) -> None:
    assert canonical_quantity(raw) == stored


def test_system_priority_classes_resolve_without_lookup() -> None:
    out = default(POD, pod(priorityClassName="system-node-critical"))
    assert out["spec"]["priority"] == 2000001000
    custom = default(POD, pod(priorityClassName="high"))
    assert "priority" not in custom["spec"]


@pytest.mark.parametrize(
    ("tolerations", "added"),
    [
        ([], ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]),
        (
            [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}],
            ["node.kubernetes.io/unreachable"],
        ),
        ([{"operator": "Exists"}], []),
        (
            [
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                }
            ],
            ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"],
        ),
    ],
)
def test_default_tolerations(tolerations: list[dict[str, Any]], added: list[str]) -> None:
    original = pod(tolerations=tolerations)
    out = default_tolerations(original)
    new = out["spec"]["tolerations"][len(tolerations) :]
    assert [t["key"] for t in new] == added
    for t in new:
        assert t == {
            "key": t["key"],
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        }
    assert original["spec"]["tolerations"] == tolerations


@pytest.mark.parametrize(
    ("containers", "qos"),
    [
        ([{"name": "a"}], "BestEffort"),
        ([{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}], "Guaranteed"),
        (
            [
                {
                    "name": "a",
                    "resources": {
                        "requests": {"cpu": "1000m", "memory": "1Gi"},
                        "limits": {"cpu": "1", "memory": "1024Mi"},
                    },
                }
            ],
            "Guaranteed",
        ),
        ([{"name": "a", "resources": {"limits": {"cpu": "1"}}}], "Burstable"),
        (
            [
                {"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
                {"name": "b"},
            ],
            "Burstable",
        ),
        ([{"name": "a", "resources": {"requests": {"nvidia.com/gpu": "1"}}}], "BestEffort"),
    ],
)
def test_qos_class(containers: list[dict[str, Any]], qos: str) -> None:
    for c in containers:
        c["image"] = "i:1"
    stored, _ = create("pods", pod(containers=containers))
    assert stored["status"] == {"phase": "Pending", "qosClass": qos}
    assert pod_qos_class(stored) == qos
