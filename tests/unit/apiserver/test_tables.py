"""Table conversion: shape, ages, and the columns of non-pod kinds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.apiserver._printers_cluster import access_modes
from kybernetes.apiserver._printers_core import format_endpoints, service_ports
from kybernetes.apiserver._tables import column_definitions, human_duration, to_table

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def info(group: str, plural: str) -> ResourceInfo:
    found = REGISTRY.get(group, "v1", plural)
    assert found is not None
    return found


def cells(group: str, plural: str, obj: dict[str, Any]) -> list[Any]:
    [row] = to_table(info(group, plural), [obj], now=NOW)["rows"]
    return list(row["cells"])


def meta(name: str = "x", age: timedelta = timedelta(minutes=5), **more: Any) -> dict[str, Any]:
    created = (NOW - age).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"name": name, "namespace": "default", "creationTimestamp": created, **more}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1.5, "0s"),
        (0, "0s"),
        (59.9, "59s"),
        (119, "119s"),
        (120, "2m"),
        (200, "3m20s"),
        (599, "9m59s"),
        (600, "10m"),
        (179 * 60 + 59, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 5 * 60 + 30, "3h5m"),
        (8 * 3600 + 59 * 60, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (51 * 3600, "2d3h"),
        (8 * 86400, "8d"),
        (45 * 86400, "45d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        ((3 * 365 + 12) * 86400, "3y12d"),
        (8 * 365 * 86400 + 86400, "8y"),
    ],
)
def test_human_duration_matches_upstream(seconds: float, text: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == text


def test_table_shape_and_object_modes() -> None:
    pods = info("", "pods")
    obj = {"metadata": meta("a", uid="u1"), "spec": {"containers": [{"name": "c"}]}}
    table = to_table(
        pods,
        [obj],
        now=NOW,
        list_metadata={"resourceVersion": "42", "continue": "", "remainingItemCount": 3},
    )
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "42", "remainingItemCount": 3}
    assert table["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj["metadata"],
    }
    full = to_table(pods, [obj], include_object="Object", now=NOW)
    assert full["rows"][0]["object"] == obj
    bare = to_table(pods, [obj], include_object="None", now=NOW, with_column_definitions=False)
    assert "object" not in bare["rows"][0]
    assert bare["columnDefinitions"] == []
    assert to_table(pods, [], now=NOW)["rows"] == []
    with pytest.raises(ValueError, match="includeObject"):
        to_table(pods, [obj], include_object="metadata")  # type: ignore[arg-type]
    naive = to_table(pods, [obj], now=NOW.replace(tzinfo=None))
    assert naive["rows"][0]["cells"][4] == "5m"
    # The input is left alone.
    assert obj == {"metadata": meta("a", uid="u1"), "spec": {"containers": [{"name": "c"}]}}


@pytest.mark.parametrize("resource", list(REGISTRY), ids=lambda i: i.group_resource)
def test_every_resource_fills_every_column_even_from_a_bare_object(resource: ResourceInfo) -> None:
    columns = column_definitions(resource)
    assert columns[0]["format"] == "name" or resource.kind == "Event"
    for obj in ({}, {"metadata": meta()}):
        [row] = to_table(resource, [obj], now=NOW)["rows"]
        assert len(row["cells"]) == len(columns)
    for column in columns:
        assert set(column) == {"name", "type", "format", "description", "priority"}


def test_unknown_kinds_get_name_and_age() -> None:
    widget = ResourceInfo("example.com", "v1", "Widget", "widgets", "widget", namespaced=True)
    table = to_table(widget, [{"metadata": meta("w", age=timedelta(days=2, hours=3))}], now=NOW)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    assert table["rows"][0]["cells"] == ["w", "2d3h"]
    # The Name column's description comes from the schema, as upstream's does.
    assert table["columnDefinitions"][0]["description"].startswith("Name must be unique")


def test_missing_creation_time_reads_unknown() -> None:
    assert cells("", "configmaps", {"metadata": {"name": "c"}}) == ["c", 0, "<unknown>"]


def svc(kind: str = "ClusterIP", **spec: Any) -> dict[str, Any]:
    return {"metadata": meta("s"), "spec": {"type": kind, "clusterIPs": ["10.96.0.1"], **spec}}


def test_service_ports() -> None:
    ports = [
        {"port": 80, "protocol": "TCP"},
        {"port": 443, "nodePort": 30443, "protocol": "TCP"},
        {"port": 53, "protocol": "UDP"},
    ]
    assert service_ports(svc(ports=ports)) == "80/TCP,443:30443/TCP,53/UDP"
    assert service_ports(svc()) == "<none>"


def test_service_rows() -> None:
    assert cells(
        "", "services", svc(ports=[{"port": 80, "protocol": "TCP"}], selector={"b": "2", "a": "1"})
    ) == ["s", "ClusterIP", "10.96.0.1", "<none>", "80/TCP", "5m", "a=1,b=2"]
    headless = svc(clusterIPs=["None"], externalIPs=["1.2.3.4"])
    assert cells("", "services", headless)[2:4] == ["None", "1.2.3.4"]
    pending = svc("LoadBalancer")
    assert cells("", "services", pending)[3] == "<pending>"
    balanced = {
        **svc("LoadBalancer", externalIPs=["9.9.9.9"]),
        "status": {"loadBalancer": {"ingress": [{"ip": "5.5.5.5"}, {"hostname": "lb.example"}]}},
    }
    assert cells("", "services", balanced)[3] == "5.5.5.5,lb.example,9.9.9.9"
    external = svc("ExternalName", externalName="db.example.com", clusterIPs=[])
    assert cells("", "services", external)[2:4] == ["<none>", "db.example.com"]


def test_endpoints_show_three_and_count_the_rest() -> None:
    addresses = [{"ip": f"10.0.0.{i}"} for i in range(1, 4)]
    subsets = [{"addresses": addresses, "ports": [{"port": 80}, {"port": 443}]}]
    assert (
        format_endpoints({"subsets": subsets}) == "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more..."
    )
    assert format_endpoints({"subsets": [{"addresses": addresses[:2]}]}) == "10.0.0.1,10.0.0.2"
    assert format_endpoints(
        {"subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 8}]}]}
    ) == ("[fd00::1]:8")
    assert format_endpoints({}) == "<none>"


def test_event_rows() -> None:
    event = {
        "metadata": meta("p.17a"),
        "involvedObject": {"kind": "Pod", "name": "p", "fieldPath": "spec.containers{c}"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container\n",
        "type": "Warning",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2024-05-01T11:00:00Z",
        "lastTimestamp": "2024-05-01T11:58:00Z",
        "count": 12,
    }
    columns = [c["name"] for c in column_definitions(info("", "events"))]
    assert columns[:4] == ["Last Seen", "Type", "Reason", "Object"]
    assert cells("", "events", event) == [
        "2m",
        "Warning",
        "BackOff",
        "pod/p",
        "spec.containers{c}",
        "kubelet, node-1",
        "Back-off restarting failed container",
        "60m",
        12,
        "p.17a",
    ]
    # The events.k8s.io shape: a series and the new field names.
    new_style = {
        "metadata": meta("e"),
        "regarding": {"kind": "Node", "name": "n"},
        "note": "rebooted",
        "reason": "Rebooted",
        "type": "Normal",
        "reportingController": "kubelet",
        "eventTime": "2024-05-01T11:30:00.000000Z",
        "series": {"count": 4, "lastObservedTime": "2024-05-01T11:59:30.000000Z"},
    }
    assert cells("events.k8s.io", "events", new_style) == [
        "30s",
        "Normal",
        "Rebooted",
        "node/n",
        "",
        "kubelet",
        "rebooted",
        "30m",
        4,
        "e",
    ]


def test_configuration_and_small_kinds() -> None:
    cm = {"metadata": meta("c"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert cells("", "configmaps", cm) == ["c", 3, "5m"]
    secret = {"metadata": meta("s"), "type": "Opaque", "data": {"k": "dg=="}}
    assert cells("", "secrets", secret) == ["s", "Opaque", 1, "5m"]
    assert cells("", "serviceaccounts", {"metadata": meta("default")}) == ["default", 0, "5m"]
    ns = {"metadata": meta("team"), "status": {"phase": "Active"}}
    assert cells("", "namespaces", ns) == ["team", "Active", "5m"]
    lease = {"metadata": meta("l"), "spec": {"holderIdentity": "node-1"}}
    assert cells("coordination.k8s.io", "leases", lease) == ["l", "node-1", "5m"]


def test_storage_rows() -> None:
    assert access_modes(["ReadWriteMany", "ReadWriteOnce"]) == "RWO,RWX"
    pvc = {
        "metadata": meta("data"),
        "spec": {"volumeName": "pv-1", "storageClassName": "fast"},
        "status": {
            "phase": "Bound",
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
        },
    }
    assert cells("", "persistentvolumeclaims", pvc) == [
        "data",
        "Bound",
        "pv-1",
        "1Gi",
        "RWO",
        "fast",
        "<unset>",
        "5m",
        "<unset>",
    ]
    unbound = {
        "metadata": meta("w", deletionTimestamp="x"),
        "spec": {},
        "status": {"phase": "Pending"},
    }
    assert cells("", "persistentvolumeclaims", unbound)[1:5] == ["Terminating", "", "", ""]
    pv = {
        "metadata": meta("pv-1"),
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadOnlyMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "default", "name": "data"},
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound"},
    }
    assert cells("", "persistentvolumes", pv) == [
        "pv-1",
        "1Gi",
        "ROX",
        "Retain",
        "Bound",
        "default/data",
        "",
        "<unset>",
        "",
        "5m",
        "Filesystem",
    ]
    sc = {
        "metadata": meta(
            "local", annotations={"storageclass.kubernetes.io/is-default-class": "true"}
        ),
        "provisioner": "kyb.io/local",
    }
    assert cells("storage.k8s.io", "storageclasses", sc) == [
        "local (default)",
        "kyb.io/local",
        "Delete",
        "Immediate",
        False,
        "5m",
    ]


def test_rbac_quota_and_priority_rows() -> None:
    binding = {
        "metadata": meta("b"),
        "roleRef": {"kind": "ClusterRole", "name": "admin"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"},
            {"kind": "User", "name": "bob"},
        ],
    }
    assert cells("rbac.authorization.k8s.io", "rolebindings", binding) == [
        "b",
        "ClusterRole/admin",
        "5m",
        "alice, bob",
        "devs",
        "tools:ci",
    ]
    role = {"metadata": meta("r", age=timedelta(hours=1))}
    assert cells("rbac.authorization.k8s.io", "roles", role) == ["r", "2024-05-01T11:00:00Z"]
    quota = {
        "metadata": meta("q"),
        "status": {
            "hard": {"pods": "10", "limits.cpu": "4", "requests.cpu": "2"},
            "used": {"pods": "3", "requests.cpu": "500m"},
        },
    }
    assert cells("", "resourcequotas", quota) == [
        "q",
        "pods: 3/10, requests.cpu: 500m/2",
        "limits.cpu: 0/4",
        "5m",
    ]
    pc = {"metadata": meta("high"), "value": 1000, "globalDefault": True}
    assert cells("scheduling.k8s.io", "priorityclasses", pc) == [
        "high",
        1000,
        True,
        "5m",
        "PreemptLowerPriority",
    ]
