"""Built-in admission through real clients: service accounts, tolerations, LimitRanger,
ResourceQuota, service IP and node port allocation, the ``kubernetes`` service."""

from __future__ import annotations

import ipaddress
import json
import pathlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from tests.integration.apiserver.conftest import Cluster

TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
IMAGE_KUBECTL = pathlib.Path("/usr/bin/kubectl")


def pod_yaml(name: str, resources: str = "") -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: app
    image: busybox
{resources}"""


def service_yaml(name: str, kind: str = "ClusterIP", extra: str = "", port_extra: str = "") -> str:
    return f"""
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  type: {kind}
  selector: {{app: {name}}}
{extra}
  ports:
  - port: 80
{port_extra}"""


def get_json(cluster: Cluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def create(cluster: Cluster, ns: str, manifest: str, check: bool = True) -> Any:
    return cluster.kubectl("create", "-n", ns, "-f", "-", input=manifest, check=check)


def test_pod_gets_service_account_token_and_tolerations(cluster: Cluster, ns: str) -> None:
    # The namespace (made by the Python client) got its default service account.
    assert "default" in cluster.kubectl("get", "sa", "-n", ns, "-o", "name").stdout
    create(cluster, ns, pod_yaml("p"))
    spec = get_json(cluster, "-n", ns, "pod", "p")["spec"]
    assert spec["serviceAccountName"] == "default"
    assert spec["serviceAccount"] == "default"
    (volume,) = [v for v in spec["volumes"] if v["name"].startswith("kube-api-access-")]
    sources = volume["projected"]["sources"]
    assert sources[0]["serviceAccountToken"]["path"] == "token"
    (mount,) = spec["containers"][0]["volumeMounts"]
    assert mount == {"name": volume["name"], "readOnly": True, "mountPath": TOKEN_PATH}
    tolerations = {t["key"]: t for t in spec["tolerations"]}
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        assert tolerations[key] == {
            "key": key,
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        }


def test_pod_without_its_service_account_is_refused(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("delete", "sa", "-n", ns, "default")
    result = create(cluster, ns, pod_yaml("orphan"), check=False)
    assert result.returncode != 0
    assert "Error from server (Forbidden)" in result.stderr
    assert (
        f'pods "orphan" is forbidden: error looking up service account {ns}/default: '
        'serviceaccount "default" not found'
    ) in result.stderr


LIMIT_RANGE = """
apiVersion: v1
kind: LimitRange
metadata:
  name: limits
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 64Mi}
    defaultRequest: {cpu: 250m, memory: 32Mi}
    max: {cpu: "1"}
"""


def test_limit_range_defaults_and_maximum(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=LIMIT_RANGE)
    create(cluster, ns, pod_yaml("defaulted"))
    got = get_json(cluster, "-n", ns, "pod", "defaulted")
    resources = got["spec"]["containers"][0]["resources"]
    assert resources == {
        "limits": {"cpu": "500m", "memory": "64Mi"},
        "requests": {"cpu": "250m", "memory": "32Mi"},
    }
    assert "LimitRanger plugin set" in got["metadata"]["annotations"]["kubernetes.io/limit-ranger"]

    too_big = "    resources:\n      limits: {cpu: '2'}\n"
    result = create(cluster, ns, pod_yaml("big", too_big), check=False)
    assert result.returncode != 0
    assert "Error from server (Forbidden)" in result.stderr
    assert "maximum cpu usage per Container is 1, but limit is 2" in result.stderr
    assert "big" not in cluster.kubectl("get", "pods", "-n", ns, "-o", "name").stdout


QUOTA = """
apiVersion: v1
kind: ResourceQuota
metadata:
  name: q
spec:
  hard: {pods: "2"}
"""


def test_resource_quota_counts_pods(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=QUOTA)
    assert get_json(cluster, "-n", ns, "quota", "q")["status"]["used"] == {"pods": "0"}
    create(cluster, ns, pod_yaml("one"))
    # A create that fails in the store (AlreadyExists) gives back what admission charged.
    again = create(cluster, ns, pod_yaml("one"), check=False)
    assert "AlreadyExists" in again.stderr
    create(cluster, ns, pod_yaml("two"))
    assert get_json(cluster, "-n", ns, "quota", "q")["status"]["used"] == {"pods": "2"}

    third = create(cluster, ns, pod_yaml("three"), check=False)
    assert third.returncode != 0
    assert "Error from server (Forbidden)" in third.stderr
    assert (
        'pods "three" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, '
        "limited: pods=2"
    ) in third.stderr

    # Unscheduled pods go at once; their usage is recounted and room is made.
    cluster.kubectl("delete", "pod", "-n", ns, "one")
    assert get_json(cluster, "-n", ns, "quota", "q")["status"]["used"] == {"pods": "1"}
    create(cluster, ns, pod_yaml("three"))


def test_concurrent_service_creates_get_distinct_cluster_ips(cluster: Cluster, ns: str) -> None:
    def make(i: int) -> str:
        api = client.CoreV1Api(cluster.api())
        body = {
            "metadata": {"name": f"s{i}"},
            "spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]},
        }
        created = api.create_namespaced_service(ns, body)
        return str(created.spec.cluster_ip)

    with ThreadPoolExecutor(max_workers=20) as pool:
        ips = list(pool.map(make, range(20)))
    assert len(set(ips)) == 20
    service_range = ipaddress.ip_network("10.96.0.0/12")
    assert all(ipaddress.ip_address(ip) in service_range for ip in ips)
    assert "10.96.0.1" not in ips
    listed = client.CoreV1Api(cluster.api()).list_namespaced_service(ns)
    assert sorted(s.spec.cluster_ip for s in listed.items) == sorted(ips)


def test_node_ports_are_allocated_and_exclusive(cluster: Cluster, ns: str) -> None:
    create(cluster, ns, service_yaml("np", "NodePort"))
    port = get_json(cluster, "-n", ns, "svc", "np")["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767

    taken = create(
        cluster, ns, service_yaml("np2", "NodePort", port_extra=f"    nodePort: {port}"), False
    )
    assert taken.returncode != 0
    assert (
        f'The Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: {port}: '
        "provided port is already allocated"
    ) in taken.stderr

    # Switching to ClusterIP gives the node port up: another service can have it now.
    patch = '{"spec":{"type":"ClusterIP"}}'
    cluster.kubectl("patch", "-n", ns, "svc", "np", "--type=merge", "-p", patch)
    assert "nodePort" not in get_json(cluster, "-n", ns, "svc", "np")["spec"]["ports"][0]
    create(cluster, ns, service_yaml("np2", "NodePort", port_extra=f"    nodePort: {port}"))


def test_deleting_a_service_frees_its_cluster_ip(cluster: Cluster, ns: str) -> None:
    create(cluster, ns, service_yaml("first"))
    ip = get_json(cluster, "-n", ns, "svc", "first")["spec"]["clusterIP"]
    wants_ip = f"  clusterIP: {ip}"
    clash = create(cluster, ns, service_yaml("second", extra=wants_ip), check=False)
    assert f"failed to allocate IP {ip}: provided IP is already allocated" in clash.stderr
    # A dry run takes nothing.
    cluster.kubectl("delete", "-n", ns, "svc", "first")
    cluster.kubectl(
        "create", "-n", ns, "--dry-run=server", "-f", "-", input=service_yaml("dry", extra=wants_ip)
    )
    create(cluster, ns, service_yaml("second", extra=wants_ip))
    assert get_json(cluster, "-n", ns, "svc", "second")["spec"]["clusterIPs"] == [ip]


def test_kubernetes_service_and_endpoints(cluster: Cluster) -> None:
    out = cluster.kubectl("get", "svc", "kubernetes", "-n", "default").stdout
    assert "10.96.0.1" in out and "443/TCP" in out
    svc = get_json(cluster, "-n", "default", "svc", "kubernetes")
    port = int(cluster.url.rsplit(":", 1)[1])
    assert svc["spec"]["ports"][0]["targetPort"] == port
    endpoints = get_json(cluster, "-n", "default", "endpoints", "kubernetes")
    assert endpoints["subsets"][0]["addresses"] == [{"ip": "127.0.0.1"}]
    assert endpoints["subsets"][0]["ports"][0]["port"] == port
    # Its address is taken: nobody else may ask for it.
    api = client.CoreV1Api(cluster.api())
    body = {
        "metadata": {"name": "squatter"},
        "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 1}]},
    }
    with pytest.raises(ApiException) as e:
        api.create_namespaced_service("default", body)
    assert e.value.status == 422


def test_new_namespace_gets_a_default_service_account(cluster: Cluster) -> None:
    name = f"t-{uuid.uuid4().hex[:8]}"
    manifest = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
    cluster.kubectl("apply", "-f", "-", input=manifest)
    assert cluster.kubectl("get", "sa", "-n", name, "-o", "name").stdout.split() == [
        "serviceaccount/default"
    ]
    for system in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert (
            "serviceaccount/default"
            in cluster.kubectl("get", "sa", "-n", system, "-o", "name").stdout
        )


@pytest.mark.skipif(not IMAGE_KUBECTL.exists(), reason="no /usr/bin/kubectl in this image")
def test_image_kubectl_sees_admission(cluster: Cluster, ns: str) -> None:
    def k(*args: str, input: str | None = None, check: bool = True) -> Any:
        return cluster.kubectl(*args, input=input, check=check, binary=IMAGE_KUBECTL)

    assert "10.96.0.1" in k("get", "svc", "kubernetes", "-n", "default").stdout
    k("apply", "-n", ns, "-f", "-", input=LIMIT_RANGE)
    k("apply", "-n", ns, "-f", "-", input=QUOTA.replace('"2"', '"1"'))
    k("create", "-n", ns, "-f", "-", input=pod_yaml("one"))
    got = json.loads(k("get", "-n", ns, "pod", "one", "-o", "json").stdout)
    assert got["spec"]["serviceAccountName"] == "default"
    assert got["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "500m"
    refused = k("create", "-n", ns, "-f", "-", input=pod_yaml("two"), check=False)
    assert "Error from server (Forbidden)" in refused.stderr
    assert "exceeded quota: q" in refused.stderr
