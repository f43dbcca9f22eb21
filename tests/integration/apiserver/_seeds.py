"""One small valid object per resource of the registry, for tests that need something to hit.

:func:`seed_manifest` returns a fresh manifest (never shared) for ``(group, plural)``; the
object is named :data:`SEED_NAME` (CRDs excepted: their name is fixed by their spec). The
manifests are the least that passes validation, so generated requests aimed at them reach
the update, patch and delete paths instead of stopping at "not found".
"""

from __future__ import annotations

import copy
import re
from typing import Any

SEED_NAME = "fz"
_LABELS = {"app": "fz"}
_CONTAINERS = [{"name": "c", "image": "busybox"}]
_TEMPLATE = {"metadata": {"labels": _LABELS}, "spec": {"containers": _CONTAINERS}}
_JOB_TEMPLATE = {"spec": {"restartPolicy": "Never", "containers": _CONTAINERS}}
_CRD_NAME = "fuzzes.fuzz.example.com"

#: (group, plural) -> the fields besides apiVersion, kind and metadata.
_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("", "pods"): {"spec": {"containers": _CONTAINERS}},
    ("", "nodes"): {},
    ("", "namespaces"): {},
    ("", "services"): {"spec": {"ports": [{"port": 80}]}},
    ("", "endpoints"): {},
    ("", "configmaps"): {"data": {"a": "b"}},
    ("", "secrets"): {"data": {"a": "Yg=="}},
    ("", "serviceaccounts"): {},
    ("", "events"): {
        "involvedObject": {"kind": "Pod", "name": "x", "apiVersion": "v1"},
        "reason": "Fuzzed",
        "message": "a seed event",
        "type": "Normal",
        "source": {"component": "fz"},
    },
    ("", "replicationcontrollers"): {
        "spec": {"replicas": 0, "selector": _LABELS, "template": _TEMPLATE}
    },
    ("", "persistentvolumes"): {
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/tmp/fz"},
        }
    },
    ("", "persistentvolumeclaims"): {
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    },
    ("", "limitranges"): {"spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}}]}},
    ("", "resourcequotas"): {"spec": {"hard": {"pods": "100"}}},
    ("apps", "deployments"): {
        "spec": {"replicas": 0, "selector": {"matchLabels": _LABELS}, "template": _TEMPLATE}
    },
    ("apps", "replicasets"): {
        "spec": {"replicas": 0, "selector": {"matchLabels": _LABELS}, "template": _TEMPLATE}
    },
    ("apps", "daemonsets"): {"spec": {"selector": {"matchLabels": _LABELS}, "template": _TEMPLATE}},
    ("apps", "statefulsets"): {
        "spec": {
            "replicas": 0,
            "serviceName": "fz",
            "selector": {"matchLabels": _LABELS},
            "template": _TEMPLATE,
        }
    },
    ("apps", "controllerrevisions"): {"revision": 1, "data": {}},
    ("batch", "jobs"): {"spec": {"suspend": True, "template": _JOB_TEMPLATE}},
    ("batch", "cronjobs"): {
        "spec": {
            "schedule": "*/5 * * * *",
            "suspend": True,
            "jobTemplate": {"spec": {"template": _JOB_TEMPLATE}},
        }
    },
    ("coordination.k8s.io", "leases"): {"spec": {"holderIdentity": "fz"}},
    ("discovery.k8s.io", "endpointslices"): {"addressType": "IPv4", "endpoints": []},
    ("events.k8s.io", "events"): {
        "eventTime": "2024-01-01T00:00:00.000000Z",
        "reportingController": "example.com/fz",
        "reportingInstance": "fz",
        "action": "Fuzz",
        "reason": "Fuzzed",
        "type": "Normal",
        "regarding": {"kind": "Pod", "name": "x", "apiVersion": "v1"},
    },
    ("policy", "poddisruptionbudgets"): {
        "spec": {"minAvailable": 1, "selector": {"matchLabels": _LABELS}}
    },
    ("rbac.authorization.k8s.io", "roles"): {"rules": []},
    ("rbac.authorization.k8s.io", "rolebindings"): {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "fz"},
        "subjects": [],
    },
    ("rbac.authorization.k8s.io", "clusterroles"): {"rules": []},
    ("rbac.authorization.k8s.io", "clusterrolebindings"): {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "fz"},
        "subjects": [],
    },
    ("storage.k8s.io", "storageclasses"): {"provisioner": "example.com/fz"},
    ("scheduling.k8s.io", "priorityclasses"): {"value": 1000},
    ("apiextensions.k8s.io", "customresourcedefinitions"): {
        "spec": {
            "group": "fuzz.example.com",
            "names": {
                "plural": "fuzzes",
                "singular": "fuzz",
                "kind": "Fuzz",
                "listKind": "FuzzList",
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                }
            ],
        }
    },
}


def seed_name(group: str, plural: str) -> str:
    return _CRD_NAME if plural == "customresourcedefinitions" else SEED_NAME


def seed_namespace(prefix: str, group: str, plural: str) -> str:
    """A namespace of the resource's own, so a quota or limit seed touches nothing else."""
    label = re.sub(r"[^a-z0-9]+", "-", f"{prefix}-{group}-{plural}".lower()).strip("-")
    return label[:63].rstrip("-")


def seed_manifest(
    group: str, version: str, kind: str, plural: str, name: str = ""
) -> dict[str, Any] | None:
    """A fresh valid manifest for the resource, or None when there is none here."""
    body = _BODIES.get((group, plural))
    if body is None:
        return None
    api_version = f"{group}/{version}" if group else version
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name or seed_name(group, plural)},
        **copy.deepcopy(body),
    }
