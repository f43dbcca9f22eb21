"""Validation of services, namespaces, config, storage, nodes and the smaller API groups."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from tests.support.strategy import create_errors, info, stored, update

from kybernetes.api._jsonvalue import deep_copy
from kybernetes.api._strategy import validate_update

RBAC = "rbac.authorization.k8s.io"


def _svc(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web"}, "spec": {"selector": {"app": "a"}, **spec}}


@pytest.mark.parametrize(
    ("svc", "expected"),
    [
        (_svc(ports=[{"port": 80}]), []),
        (_svc(), ["spec.ports: Required value"]),
        (_svc(clusterIP="None"), []),
        (_svc(type="ExternalName", externalName="example.com"), []),
        (_svc(type="ExternalName"), ["spec.externalName: Required value"]),
        (
            _svc(ports=[{"port": 80}, {"port": 81}]),
            ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"],
        ),
        (
            _svc(ports=[{"port": 80, "name": "a"}, {"port": 81, "name": "a"}]),
            ['spec.ports[1].name: Duplicate value: "a"'],
        ),
        (
            _svc(ports=[{"port": 0}]),
            [
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                # The target port was defaulted from the port.
                "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, "
                "inclusive",
            ],
        ),
        (
            _svc(ports=[{"port": 80, "name": "a"}, {"port": 80, "name": "b"}]),
            ['spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}'],
        ),
        (
            _svc(type="Balanced", ports=[{"port": 80}]),
            [
                'spec.type: Unsupported value: "Balanced": supported values: '
                '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'
            ],
        ),
        (
            _svc(ports=[{"port": 80, "nodePort": 30001}]),
            ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
        ),
        (
            _svc(type="NodePort", clusterIP="None", ports=[{"port": 80}]),
            [
                "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for "
                "NodePort services"
            ],
        ),
        (
            _svc(clusterIP="10.0.0.300", ports=[{"port": 80}]),
            [
                'spec.clusterIPs[0]: Invalid value: "10.0.0.300": '
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
            ],
        ),
        (
            _svc(ports=[{"port": 80}], selector={"app": "a b"}),
            [
                'spec.selector: Invalid value: "a b": a valid label must be an empty string or '
                "consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
                "an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
                "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            ],
        ),
    ],
)
def test_service_errors(svc: dict[str, Any], expected: list[str]) -> None:
    assert create_errors("services", svc) == expected


def test_service_name_is_a_dns1035_label() -> None:
    errors = create_errors(
        "services", {"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}}
    )
    assert errors == [
        'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case '
        "alphanumeric characters or '-', start with an alphabetic character, and end with an "
        "alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
        "'[a-z]([-a-z0-9]*[a-z0-9])?')"
    ]


def test_service_cluster_ip_is_immutable() -> None:
    old = stored("services", _svc(ports=[{"port": 80}], clusterIP="10.96.0.5"))
    new = deep_copy(old)
    new["spec"]["clusterIP"] = "10.96.0.6"
    new["spec"]["clusterIPs"] = ["10.96.0.6"]
    assert update("services", old, new)[1] == [
        'spec.clusterIPs[0]: Invalid value: ["10.96.0.6"]: may not change once set'
    ]
    to_external = deep_copy(old)
    to_external["spec"] = {"type": "ExternalName", "externalName": "example.com"}
    assert update("services", old, to_external)[1] == []


def test_namespace_name_and_finalizers() -> None:
    assert create_errors("namespaces", {"metadata": {"name": "a.b"}})[0].startswith(
        'metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label'
    )
    odd = {"metadata": {"name": "ns"}, "spec": {"finalizers": ["custom"]}}
    assert create_errors("namespaces", odd) == [
        'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name '
        "nor is it fully qualified"
    ]
    assert create_errors("namespaces", {"metadata": {"name": "ns", "namespace": "x"}}) == [
        "metadata.namespace: Forbidden: not allowed on this type"
    ]


def test_config_map_keys_and_size() -> None:
    cm = {
        "metadata": {"name": "c"},
        "data": {"ok.key": "v", "bad/key": "v"},
        "binaryData": {"ok.key": "AA=="},
    }
    errors = create_errors("configmaps", cm)
    assert (
        errors[0] == 'data[ok.key]: Invalid value: "ok.key": duplicate of key present in binaryData'
    )
    assert errors[1].startswith(
        'data[bad/key]: Invalid value: "bad/key": a valid config key must consist'
    )
    assert len(errors) == 2
    big = {"metadata": {"name": "c"}, "data": {"a": "x" * (1024 * 1024 + 1)}}
    assert create_errors("configmaps", big) == [": Too long: may not be more than 1048576 bytes"]


@pytest.mark.parametrize(("plural", "field"), [("configmaps", "data"), ("secrets", "data")])
def test_immutable_config(plural: str, field: str) -> None:
    value = "djE=" if plural == "secrets" else "v1"
    old = stored(plural, {"metadata": {"name": "c"}, field: {"k": value}, "immutable": True})
    new = deep_copy(old)
    new[field] = {"k": "djI=" if plural == "secrets" else "v2"}
    assert update(plural, old, new)[1] == [
        f"{field}: Forbidden: field is immutable when `immutable` is set"
    ]
    new = deep_copy(old)
    new["immutable"] = False
    assert update(plural, old, new)[1] == [
        "immutable: Forbidden: field is immutable when `immutable` is set"
    ]
    # Metadata stays editable.
    new = deep_copy(old)
    new["metadata"]["labels"] = {"a": "b"}
    assert update(plural, old, new)[1] == []


def test_secret_types() -> None:
    tls = {"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "AA=="}}
    assert create_errors("secrets", tls) == ["data[tls.key]: Required value"]
    sa = {"metadata": {"name": "s"}, "type": "kubernetes.io/service-account-token"}
    assert create_errors("secrets", sa) == [
        "metadata.annotations[kubernetes.io/service-account.name]: Required value"
    ]
    old = stored("secrets", {"metadata": {"name": "s"}, "stringData": {"a": "b"}})
    assert old["data"] == {"a": base64.b64encode(b"b").decode()}
    new = deep_copy(old)
    new["type"] = "kubernetes.io/basic-auth"
    new["data"]["username"] = "dQ=="
    assert update("secrets", old, new)[1] == [
        'type: Invalid value: "kubernetes.io/basic-auth": field is immutable'
    ]


def _pvc(**spec: Any) -> dict[str, Any]:
    base = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    base.update(spec)
    return {"metadata": {"name": "data"}, "spec": base}


@pytest.mark.parametrize(
    ("pvc", "expected"),
    [
        (_pvc(), []),
        (
            _pvc(accessModes=[]),
            ["spec.accessModes: Required value: at least 1 access mode is required"],
        ),
        (
            _pvc(accessModes=["ReadWriteSometimes"]),
            [
                'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: '
                '"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'
            ],
        ),
        (_pvc(resources={}), ["spec.resources[storage]: Required value"]),
        (
            _pvc(resources={"requests": {"storage": "0"}}),
            ['spec.resources[storage]: Invalid value: "0": must be greater than zero'],
        ),
    ],
)
def test_pvc_errors(pvc: dict[str, Any], expected: list[str]) -> None:
    assert create_errors("persistentvolumeclaims", pvc) == expected


def test_pvc_update_rules() -> None:
    old = stored("persistentvolumeclaims", _pvc())
    old["status"] = {"phase": "Bound", "capacity": {"storage": "1Gi"}}
    grown = deep_copy(old)
    grown["spec"]["resources"]["requests"]["storage"] = "2Gi"
    grown["spec"]["volumeName"] = "pv-1"
    assert update("persistentvolumeclaims", old, grown)[1] == []
    shrunk = deep_copy(old)
    shrunk["spec"]["resources"]["requests"]["storage"] = "512Mi"
    assert update("persistentvolumeclaims", old, shrunk)[1] == [
        "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"
    ]
    changed = deep_copy(old)
    changed["spec"]["accessModes"] = ["ReadWriteMany"]
    assert update("persistentvolumeclaims", old, changed)[1] == [
        "spec: Forbidden: spec is immutable after creation except resources.requests for bound "
        "claims"
    ]


def test_persistent_volume() -> None:
    pv = {
        "metadata": {"name": "pv"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": "1Gi"},
            "hostPath": {"path": "/d"},
        },
    }
    assert create_errors("persistentvolumes", pv) == []
    no_source = deep_copy(pv)
    del no_source["spec"]["hostPath"]
    assert create_errors("persistentvolumes", no_source) == [
        "spec: Required value: must specify a volume type"
    ]
    old = stored("persistentvolumes", pv)
    new = deep_copy(old)
    new["spec"]["hostPath"]["path"] = "/e"
    assert update("persistentvolumes", old, new)[1] == [
        "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after "
        "creation"
    ]


def test_node_taints() -> None:
    taint = {"key": "k", "value": "v", "effect": "NoSchedule"}
    node = {"metadata": {"name": "n1"}, "spec": {"taints": [taint, dict(taint), {"key": "x"}]}}
    assert create_errors("nodes", node) == [
        'spec.taints[1]: Duplicate value: {"key":"k","value":"v","effect":"NoSchedule"}: '
        "taints must be unique by key and effect pair",
        "spec.taints[2].effect: Required value",
    ]
    old = stored("nodes", {"metadata": {"name": "n1"}, "spec": {"podCIDR": "10.244.0.0/24"}})
    new = deep_copy(old)
    new["spec"]["podCIDR"] = "10.244.1.0/24"
    assert update("nodes", old, new)[1] == [
        'spec.podCIDR: Forbidden: node updates may not change podCIDR except from "" to valid'
    ]


def test_lease() -> None:
    lease = {"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0, "leaseTransitions": -1}}
    assert create_errors("leases", lease, "coordination.k8s.io") == [
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
        "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
    ]


def test_rbac() -> None:
    role = {
        "metadata": {"name": "system:reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"]}],
    }
    assert create_errors("roles", role, RBAC) == [
        "rules[0].verbs: Required value: verbs must contain at least one value"
    ]
    cluster_role = {
        "metadata": {"name": "r"},
        "rules": [{"verbs": ["get"], "nonResourceURLs": ["/x"]}],
    }
    assert create_errors("clusterroles", cluster_role, RBAC) == []
    binding = {
        "metadata": {"name": "b"},
        "roleRef": {"kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "sa"}, {"kind": "Robot", "name": "x"}],
    }
    assert create_errors("clusterrolebindings", binding, RBAC) == [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        "subjects[0].namespace: Required value",
        'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", '
        '"User", "Group"',
    ]
    ok = {"metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "view"}}
    old = stored("rolebindings", ok, RBAC)
    new = deep_copy(old)
    new["roleRef"]["name"] = "edit"
    assert update("rolebindings", old, new, RBAC)[1] == [
        "roleRef: Invalid value: "
        '{"kind":"ClusterRole","name":"edit","apiGroup":"rbac.authorization.k8s.io"}: '
        "cannot change roleRef"
    ]


def test_priority_class() -> None:
    group = "scheduling.k8s.io"
    assert create_errors(
        "priorityclasses", {"metadata": {"name": "high"}, "value": 2_000_000_000}, group
    ) == ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
    assert create_errors(
        "priorityclasses", {"metadata": {"name": "system-mine"}, "value": 1}, group
    ) == [
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for "
        "system use only. error: system-mine is not a known system priority class"
    ]
    old = stored("priorityclasses", {"metadata": {"name": "high"}, "value": 10}, group)
    new = {**deep_copy(old), "value": 11}
    assert update("priorityclasses", old, new, group)[1] == [
        "value: Forbidden: may not be changed in an update."
    ]


def test_pod_disruption_budget() -> None:
    pdb = {"metadata": {"name": "p"}, "spec": {"minAvailable": 1, "maxUnavailable": 1}}
    errors = create_errors("poddisruptionbudgets", pdb, "policy")
    assert errors == [
        'spec: Invalid value: {"minAvailable":1,"maxUnavailable":1}: '
        "minAvailable and maxUnavailable cannot be both set"
    ]


def test_endpoint_slice_address_type() -> None:
    group = "discovery.k8s.io"
    eps = {"metadata": {"name": "e"}, "addressType": "IPv4", "endpoints": [{"addresses": []}]}
    assert create_errors("endpointslices", eps, group) == [
        "endpoints[0].addresses: Required value: must contain at least 1 address"
    ]
    old = stored("endpointslices", {"metadata": {"name": "e"}, "addressType": "IPv4"}, group)
    new = {**deep_copy(old), "addressType": "IPv6"}
    assert update("endpointslices", old, new, group)[1] == [
        'addressType: Invalid value: "IPv6": field is immutable'
    ]


def test_storage_class_parameters_are_immutable() -> None:
    group = "storage.k8s.io"
    old = stored(
        "storageclasses", {"metadata": {"name": "fast"}, "provisioner": "example.com/ssd"}, group
    )
    new = {**deep_copy(old), "parameters": {"type": "gp3"}}
    assert update("storageclasses", old, new, group)[1] == [
        "parameters: Forbidden: updates to parameters are forbidden."
    ]


def test_generic_resources_get_metadata_validation_only() -> None:
    assert create_errors("serviceaccounts", {"metadata": {"name": "builder"}}) == []
    assert create_errors("serviceaccounts", {"metadata": {"name": "Builder"}})[0].startswith(
        'metadata.name: Invalid value: "Builder": a lowercase RFC 1123 subdomain'
    )
    old = stored("serviceaccounts", {"metadata": {"name": "builder"}})
    new = deep_copy(old)
    new["metadata"]["uid"] = "other"
    # The update helper restores the uid as the API server does, so ask the validator directly.
    raw = [e.render() for e in validate_update(info("serviceaccounts"), new, old)]
    assert raw == ['metadata.uid: Invalid value: "other": field is immutable']


def test_quota_and_limit_range() -> None:
    quota = {
        "metadata": {"name": "q"},
        "spec": {"hard": {"pods": "1.5", "cpu": "-1", "bananas": "3"}},
    }
    assert create_errors("resourcequotas", quota) == [
        'spec.hard[pods]: Invalid value: "1500m": must be an integer',
        'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0',
        'spec.hard[bananas]: Invalid value: "bananas": must be a standard resource type or fully '
        "qualified",
    ]
    lr = {"metadata": {"name": "l"}, "spec": {"limits": [{"type": "Galaxy"}]}}
    assert create_errors("limitranges", lr) == [
        'spec.limits[0].type: Unsupported value: "Galaxy": supported values: '
        '"Pod", "Container", "PersistentVolumeClaim"'
    ]
