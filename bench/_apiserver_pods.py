"""The pods bench/apiserver.py writes, and the served form the ceiling answers with.

A pod like one a Deployment makes (labels, one container with a port, env and resource
requests/limits): about 1 KiB as sent, about 1.5 KiB as served once defaulted.
"""

from __future__ import annotations

from typing import Any

IMAGE = "registry.invalid/bench/app:1.0"


def _spec() -> dict[str, Any]:
    return {
        "containers": [
            {
                "name": "app",
                "image": IMAGE,
                "ports": [{"name": "http", "containerPort": 8080}],
                "env": [{"name": "MODE", "value": "bench"}, {"name": "LOG", "value": "info"}],
                "resources": {
                    "requests": {"cpu": "100m", "memory": "64Mi"},
                    "limits": {"cpu": "200m", "memory": "128Mi"},
                },
            }
        ]
    }


def pod(
    namespace: str, *, name: str = "", generate_name: str = "", labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """A pod to create or PUT (``name``) or to create with ``generateName``."""
    meta: dict[str, Any] = {
        "namespace": namespace,
        "labels": {"app": "bench", "tier": "web", **(labels or {})},
        "annotations": {"bench.kybernetes.dev/purpose": "load"},
    }
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate_name
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": _spec()}


def served_pod(name: str, namespace: str) -> dict[str, Any]:
    """Roughly what the API server answers for :func:`pod`: defaults and system metadata."""
    obj = pod(namespace, name=name)
    obj["metadata"] |= {
        "uid": "0b7d2c1e-1d0e-4b1f-9d55-0d4f5e0c3a11",
        "resourceVersion": "123456",
        "creationTimestamp": "2025-01-01T00:00:00Z",
        "generation": 1,
    }
    container = obj["spec"]["containers"][0]
    container["ports"][0]["protocol"] = "TCP"
    container |= {
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    obj["spec"] |= {
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "enableServiceLinks": True,
        "priority": 0,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    obj["status"] = {"phase": "Pending", "qosClass": "Burstable"}
    return obj
