"""pods/binding, pods/eviction (with PodDisruptionBudgets), pods/ephemeralcontainers,
serviceaccounts/token and metadata-only reads, against the real server with real clients."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from tests.integration.apiserver.conftest import Cluster
from tests.integration.apiserver.test_http import request

JSON = {"Content-Type": "application/json"}


def _core(cluster: Cluster) -> client.CoreV1Api:
    return client.CoreV1Api(cluster.api())


def _pod(name: str, labels: dict[str, str] | None = None, node: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    meta: dict[str, Any] = {"name": name, "labels": labels or {}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _post(cluster: Cluster, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    code, _, doc, _ = request(cluster, "POST", path, json.dumps(body), JSON)
    return code, doc


def _binding(pod: str, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": pod},
        "target": {"kind": "Node", "name": node},
    }


def _concurrently(*calls: Callable[[], int]) -> list[int]:
    results: list[int] = [0] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        start.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(results)


# -- binding -------------------------------------------------------------------------------


def test_binding_assigns_once(cluster: Cluster, ns: str) -> None:
    core = _core(cluster)
    core.create_namespaced_pod(ns, _pod("web"))
    body = client.V1Binding(
        metadata=client.V1ObjectMeta(name="web", annotations={"scheduled-by": "test"}),
        target=client.V1ObjectReference(kind="Node", name="node-1"),
    )
    # The reply is a Status, which the client cannot read as a Binding: take it raw.
    reply = core.create_namespaced_pod_binding("web", ns, body, _preload_content=False)
    assert reply.status == 201
    assert json.loads(reply.data) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }
    pod = core.read_namespaced_pod("web", ns)
    assert pod.spec.node_name == "node-1"
    assert pod.metadata.annotations["scheduled-by"] == "test"
    assert [(c.type, c.status) for c in pod.status.conditions] == [("PodScheduled", "True")]

    with pytest.raises(ApiException) as again:
        core.create_namespaced_pod_binding("web", ns, body, _preload_content=False)
    assert again.value.status == 409
    status = json.loads(again.value.body)
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on pods/binding "web": '
        'pod web is already assigned to node "node-1"'
    )

    code, doc = _post(
        cluster, f"/api/v1/namespaces/{ns}/pods/web/binding", _binding("other", "node-1")
    )
    assert code == 400 and "does not match" in doc["message"]
    code, doc = _post(
        cluster, f"/api/v1/namespaces/{ns}/pods/absent/binding", _binding("absent", "n")
    )
    assert code == 404
    bad = _binding("web", "node-1")
    bad["target"] = {"kind": "Pod"}
    code, doc = _post(cluster, f"/api/v1/namespaces/{ns}/pods/web/binding", bad)
    assert code == 422
    assert {c["field"] for c in doc["details"]["causes"]} == {"target.kind", "target.name"}


def test_legacy_bindings_and_concurrent_binds(cluster: Cluster, ns: str) -> None:
    core = _core(cluster)
    core.create_namespaced_pod(ns, _pod("old"))
    code, _ = _post(cluster, f"/api/v1/namespaces/{ns}/bindings", _binding("old", "node-2"))
    assert code == 201
    assert core.read_namespaced_pod("old", ns).spec.node_name == "node-2"

    core.create_namespaced_pod(ns, _pod("raced"))
    path = f"/api/v1/namespaces/{ns}/pods/raced/binding"
    codes = _concurrently(
        *(lambda n=n: _post(cluster, path, _binding("raced", f"n{n}"))[0] for n in range(4))
    )
    assert codes == [201, 409, 409, 409]


# -- eviction ------------------------------------------------------------------------------


def _running(cluster: Cluster, ns: str, name: str, *, ready: bool = True, phase: str = "Running"):
    status: dict[str, Any] = {"phase": phase}
    status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    _core(cluster).patch_namespaced_pod_status(name, ns, {"status": status})


def _budget(cluster: Cluster, ns: str, name: str, allowed: int | None, *, app: str = "web") -> None:
    policy = client.PolicyV1Api(cluster.api())
    body = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": app}}},
    }
    policy.create_namespaced_pod_disruption_budget(ns, body)
    if allowed is None:
        return  # never computed: what a budget looks like before a disruption controller
    status = {
        "observedGeneration": 1,
        "disruptionsAllowed": allowed,
        "currentHealthy": 1 + allowed,
        "desiredHealthy": 1,
        "expectedPods": 1 + allowed,
    }
    policy.patch_namespaced_pod_disruption_budget_status(name, ns, {"status": status})


def _evict(cluster: Cluster, ns: str, name: str, **delete_options: Any) -> None:
    body = client.V1Eviction(
        metadata=client.V1ObjectMeta(name=name, namespace=ns),
        delete_options=client.V1DeleteOptions(**delete_options) if delete_options else None,
    )
    _core(cluster).create_namespaced_pod_eviction(name, ns, body)


def _exists(cluster: Cluster, ns: str, name: str) -> bool:
    try:
        _core(cluster).read_namespaced_pod(name, ns)
    except ApiException as e:
        assert e.status == 404
        return False
    return True


def test_eviction_blocked_then_allowed_by_budget(cluster: Cluster, ns: str) -> None:
    core = _core(cluster)
    core.create_namespaced_pod(ns, _pod("web-1", {"app": "web"}))
    _running(cluster, ns, "web-1")
    _budget(cluster, ns, "web-pdb", 0)

    with pytest.raises(ApiException) as blocked:
        _evict(cluster, ns, "web-1")
    assert blocked.value.status == 429
    status = json.loads(blocked.value.body)
    assert status["reason"] == "TooManyRequests"
    assert status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert status["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget web-pdb needs 1 healthy pods and has 1 currently",
        }
    ]
    assert _exists(cluster, ns, "web-1")

    policy = client.PolicyV1Api(cluster.api())
    policy.patch_namespaced_pod_disruption_budget_status(
        "web-pdb", ns, {"status": {"disruptionsAllowed": 1, "currentHealthy": 2}}
    )
    _evict(cluster, ns, "web-1", dry_run=["All"])
    assert _exists(cluster, ns, "web-1")
    assert policy.read_namespaced_pod_disruption_budget("web-pdb", ns).status.disruptions_allowed
    _evict(cluster, ns, "web-1")
    assert not _exists(cluster, ns, "web-1")
    pdb = policy.read_namespaced_pod_disruption_budget("web-pdb", ns).status
    assert pdb.disruptions_allowed == 0
    assert list(pdb.disrupted_pods) == ["web-1"]
    assert [(c.type, c.status, c.reason) for c in pdb.conditions] == [
        ("DisruptionAllowed", "False", "InsufficientPods")
    ]


def test_concurrent_evictions_spend_the_budget_once(cluster: Cluster, ns: str) -> None:
    core = _core(cluster)
    names = [f"web-{i}" for i in range(3)]
    for name in names:
        core.create_namespaced_pod(ns, _pod(name, {"app": "web"}))
        _running(cluster, ns, name)
    _budget(cluster, ns, "one", 1)

    def evict(name: str) -> int:
        try:
            _evict(cluster, ns, name)
        except ApiException as e:
            return e.status
        return 201

    assert _concurrently(*(lambda n=n: evict(n) for n in names)) == [201, 429, 429]
    assert sum(_exists(cluster, ns, n) for n in names) == 2


def test_eviction_rules_without_budget_spending(cluster: Cluster, ns: str) -> None:
    core = _core(cluster)
    # A budget never computed blocks running pods (upstream: still being processed).
    _budget(cluster, ns, "fresh", None)
    core.create_namespaced_pod(ns, _pod("running", {"app": "web"}))
    _running(cluster, ns, "running")
    with pytest.raises(ApiException) as blocked:
        _evict(cluster, ns, "running")
    assert blocked.value.status == 429
    cause = json.loads(blocked.value.body)["details"]["causes"][0]["message"]
    assert cause == "The disruption budget fresh is still being processed by the server."

    # Pending and finished pods are not guarded by budgets.
    core.create_namespaced_pod(ns, _pod("pending", {"app": "web"}))
    _evict(cluster, ns, "pending")
    core.create_namespaced_pod(ns, _pod("done", {"app": "web"}))
    _running(cluster, ns, "done", phase="Succeeded", ready=False)
    _evict(cluster, ns, "done")
    assert not _exists(cluster, ns, "pending") and not _exists(cluster, ns, "done")

    # Preconditions of the eviction's delete options apply.
    core.create_namespaced_pod(ns, _pod("pinned"))
    with pytest.raises(ApiException) as stale:
        _evict(cluster, ns, "pinned", preconditions=client.V1Preconditions(uid="not-the-uid"))
    assert stale.value.status == 409
    assert "Precondition failed: UID in precondition: not-the-uid" in stale.value.body
    assert _exists(cluster, ns, "pinned")

    # Two budgets over one pod: upstream refuses with a 500.
    _budget(cluster, ns, "second", 1)
    with pytest.raises(ApiException) as two:
        _evict(cluster, ns, "running")
    assert two.value.status == 500
    assert "more than one PodDisruptionBudget" in json.loads(two.value.body)["message"]

    # The wrong name is refused; policy/v1beta1 bodies are accepted.
    path = f"/api/v1/namespaces/{ns}/pods/running/eviction"
    code, _ = _post(cluster, path, {"kind": "Eviction", "metadata": {"name": "other"}})
    assert code == 400
    core.create_namespaced_pod(ns, _pod("free", {"app": "other"}))
    _running(cluster, ns, "free")
    beta = {"apiVersion": "policy/v1beta1", "kind": "Eviction", "metadata": {"name": "free"}}
    assert _post(cluster, f"/api/v1/namespaces/{ns}/pods/free/eviction", beta)[0] == 201
    assert not _exists(cluster, ns, "free")


def test_kubectl_drain_evicts_within_the_budget(cluster: Cluster, ns: str) -> None:
    node = f"drained-{uuid.uuid4().hex[:6]}"
    core = _core(cluster)
    core.create_node({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}})
    for name in ("a", "b"):
        core.create_namespaced_pod(ns, _pod(name, {"app": "web"}, node=node))
        _running(cluster, ns, name)
    _budget(cluster, ns, "two", 2)
    out = cluster.kubectl(
        "drain", node, "--force", "--grace-period=0", "--timeout=60s", "--ignore-daemonsets"
    )
    assert "evicting pod" in out.stderr + out.stdout
    assert core.read_node(node).spec.unschedulable is True
    assert core.list_namespaced_pod(ns).items == []


# -- ephemeral containers, token, metadata-only --------------------------------------------


def test_ephemeral_containers_can_only_be_added(cluster: Cluster, ns: str) -> None:
    core = _core(cluster)
    core.create_namespaced_pod(ns, _pod("dbg"))
    path = f"/api/v1/namespaces/{ns}/pods/dbg/ephemeralcontainers"
    debugger = {"name": "debugger", "image": "busybox", "targetContainerName": "app"}
    code, _, doc, _ = request(
        cluster,
        "PATCH",
        path,
        json.dumps({"spec": {"ephemeralContainers": [debugger]}}),
        {"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert code == 200, doc
    added = doc["spec"]["ephemeralContainers"]
    assert added[0]["name"] == "debugger"
    assert added[0]["terminationMessagePolicy"] == "File"  # defaulted
    code, _, got, _ = request(cluster, "GET", path)
    assert code == 200 and got["spec"]["ephemeralContainers"] == added

    removed = {**got, "spec": {**got["spec"], "ephemeralContainers": []}}
    code, _, doc, _ = request(cluster, "PUT", path, json.dumps(removed), JSON)
    assert code == 422
    assert 'existing ephemeral containers "debugger" may not be removed' in doc["message"]
    with_ports = {**debugger, "name": "second", "ports": [{"containerPort": 80}]}
    code, _, doc, _ = request(
        cluster,
        "PATCH",
        path,
        json.dumps({"spec": {"ephemeralContainers": [with_ports]}}),
        {"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert code == 422
    # A new element leads the merged list, as upstream's strategic merge orders it.
    assert doc["details"]["causes"][0]["field"] == "spec.ephemeralContainers[0].ports"
    # Only the ephemeral containers move through this subresource.
    sneaky = {**got, "spec": {**got["spec"], "nodeName": "elsewhere"}}
    code, _, doc, _ = request(cluster, "PUT", path, json.dumps(sneaky), JSON)
    assert code == 200 and "nodeName" not in doc["spec"]

    out = cluster.kubectl("debug", "-n", ns, "dbg", "--image=busybox", "--target=app")
    assert "debug" in out.stdout + out.stderr
    names = [c.name for c in core.read_namespaced_pod("dbg", ns).spec.ephemeral_containers]
    assert names[0] == "debugger" and len(names) == 2


def test_token_request_is_not_available_yet(cluster: Cluster, ns: str) -> None:
    core = _core(cluster)
    core.create_namespaced_service_account(ns, {"metadata": {"name": "robot"}})
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}
    code, doc = _post(cluster, f"/api/v1/namespaces/{ns}/serviceaccounts/robot/token", body)
    assert code == 503 and "signing key" in doc["message"]
    code, doc = _post(cluster, f"/api/v1/namespaces/{ns}/serviceaccounts/nobody/token", body)
    assert code == 404


def test_metadata_only_get_list_and_watch(cluster: Cluster, ns: str) -> None:
    core = _core(cluster)
    core.create_namespaced_pod(ns, _pod("meta-a", {"app": "meta"}))
    core.create_namespaced_pod(ns, _pod("meta-b", {"app": "meta"}))
    as_list = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
    code, _, doc, _ = request(
        cluster, "GET", f"/api/v1/namespaces/{ns}/pods?limit=1", headers={"Accept": as_list}
    )
    assert code == 200
    assert doc["kind"] == "PartialObjectMetadataList"
    assert doc["apiVersion"] == "meta.k8s.io/v1"
    assert doc["metadata"]["continue"] and doc["metadata"]["remainingItemCount"] == 1
    assert [set(item) for item in doc["items"]] == [{"kind", "apiVersion", "metadata"}]
    assert doc["items"][0]["kind"] == "PartialObjectMetadata"
    assert doc["items"][0]["metadata"]["labels"] == {"app": "meta"}

    one = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
    path = f"/api/v1/namespaces/{ns}/pods/meta-a"
    code, _, doc, _ = request(cluster, "GET", path, headers={"Accept": one})
    assert code == 200 and doc["kind"] == "PartialObjectMetadata" and "spec" not in doc
    assert doc["metadata"]["name"] == "meta-a"
    code, _, _, _ = request(cluster, "GET", path, headers={"Accept": as_list.split(",")[0]})
    assert code == 406

    events = _watch(cluster, f"/api/v1/namespaces/{ns}/pods?watch=true", 2, one)
    assert {e["object"]["kind"] for e in events} == {"PartialObjectMetadata"}
    assert {e["object"]["metadata"]["name"] for e in events} == {"meta-a", "meta-b"}


def _watch(cluster: Cluster, path: str, count: int, accept: str) -> list[dict[str, Any]]:
    parsed = urllib.parse.urlsplit(cluster.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Accept": accept})
        response = conn.getresponse()
        assert response.status == 200
        return [json.loads(response.readline()) for _ in range(count)]
    finally:
        conn.close()
