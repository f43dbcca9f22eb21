"""The official ``kubernetes`` Python client against the real API server."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes import client, watch
from tests.integration.apiserver.conftest import Cluster


def deployment(name: str = "web", replicas: int = 1) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "nginx"}]},
            },
        },
    }


def test_crud_and_conflicts(cluster: Cluster, ns: str) -> None:
    v1 = client.CoreV1Api(cluster.api())
    created = v1.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    assert created.metadata.uid and created.metadata.resource_version
    got = v1.read_namespaced_config_map("c", ns)
    assert got.data == {"a": "1"} and got.metadata.uid == created.metadata.uid

    fresh = v1.replace_namespaced_config_map(
        "c",
        ns,
        {
            "metadata": {"name": "c", "resourceVersion": got.metadata.resource_version},
            "data": {"a": "2"},
        },
    )
    with pytest.raises(client.ApiException) as stale:
        v1.replace_namespaced_config_map(
            "c",
            ns,
            {
                "metadata": {"name": "c", "resourceVersion": got.metadata.resource_version},
                "data": {"a": "3"},
            },
        )
    assert stale.value.status == 409 and stale.value.reason == "Conflict"
    assert v1.read_namespaced_config_map("c", ns).data == {"a": "2"}
    assert int(fresh.metadata.resource_version) > int(got.metadata.resource_version)

    with pytest.raises(client.ApiException) as exists:
        v1.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    assert exists.value.status == 409

    generated = v1.create_namespaced_config_map(ns, {"metadata": {"generateName": "gen-"}})
    assert generated.metadata.name.startswith("gen-") and len(generated.metadata.name) == 9

    status = v1.delete_namespaced_config_map("c", ns)
    assert status["status"] == "Success" and status["details"]["name"] == "c"
    with pytest.raises(client.ApiException) as gone:
        v1.read_namespaced_config_map("c", ns)
    assert gone.value.status == 404


def test_patches_scale_and_status(cluster: Cluster, ns: str) -> None:
    apps = client.AppsV1Api(cluster.api())
    apps.create_namespaced_deployment(ns, deployment())
    # Strategic merge (the client's default for dicts): containers merge by name.
    apps.patch_namespaced_deployment(
        "web",
        ns,
        {"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "busybox"}]}}}},
    )
    # A list body is a JSON patch.
    apps.patch_namespaced_deployment(
        "web", ns, [{"op": "add", "path": "/metadata/labels", "value": {"tier": "web"}}]
    )
    d = apps.read_namespaced_deployment("web", ns)
    assert [c.name for c in d.spec.template.spec.containers] == ["side", "app"]
    assert d.metadata.labels == {"tier": "web"}
    assert d.metadata.generation == 2  # only the container change touched the spec

    scale = apps.read_namespaced_deployment_scale("web", ns)
    assert scale.spec.replicas == 1 and scale.status.selector == "app=web"
    apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 4}})
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 4
    scale = apps.read_namespaced_deployment_scale("web", ns)
    scale.spec.replicas = 2
    apps.replace_namespaced_deployment_scale("web", ns, scale)
    stale = scale
    stale.spec.replicas = 7
    with pytest.raises(client.ApiException) as conflict:
        apps.replace_namespaced_deployment_scale("web", ns, stale)
    assert conflict.value.status == 409

    current = apps.read_namespaced_deployment("web", ns)
    body = client.ApiClient().sanitize_for_serialization(current)
    body["status"] = {"replicas": 2, "observedGeneration": current.metadata.generation}
    body["spec"]["replicas"] = 9  # ignored on /status
    apps.replace_namespaced_deployment_status("web", ns, body)
    after = apps.read_namespaced_deployment("web", ns)
    assert after.status.replicas == 2 and after.spec.replicas == 2


def test_watch_with_selectors(cluster: Cluster, ns: str) -> None:
    v1 = client.CoreV1Api(cluster.api())
    start = v1.list_namespaced_config_map(ns).metadata.resource_version
    seen: list[tuple[str, str]] = []
    done = threading.Event()

    def follow() -> None:
        w = watch.Watch()
        for event in w.stream(
            v1.list_namespaced_config_map,
            ns,
            label_selector="watched=yes",
            resource_version=start,
            timeout_seconds=20,
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) == 4:
                w.stop()
        done.set()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "quiet"}})  # never matches
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "w", "labels": {"watched": "yes"}}})
    v1.patch_namespaced_config_map("w", ns, {"data": {"k": "v"}})
    v1.patch_namespaced_config_map("w", ns, {"metadata": {"labels": {"watched": "no"}}})
    v1.patch_namespaced_config_map("w", ns, {"metadata": {"labels": {"watched": "yes"}}})
    assert done.wait(30)
    thread.join(5)
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w"), ("ADDED", "w")]


def test_pagination(cluster: Cluster, ns: str) -> None:
    v1 = client.CoreV1Api(cluster.api())
    for i in range(5):
        v1.create_namespaced_config_map(ns, {"metadata": {"name": f"c{i}"}})
    names: list[str] = []
    remaining: list[int | None] = []
    token = None
    while True:
        page = v1.list_namespaced_config_map(ns, limit=2, _continue=token)
        names += [c.metadata.name for c in page.items]
        remaining.append(page.metadata.remaining_item_count)
        token = page.metadata._continue
        if not token:
            break
    assert names == ["c0", "c1", "c2", "c3", "c4"]
    assert remaining == [3, 1, None]


def test_graceful_pod_deletion(cluster: Cluster, ns: str) -> None:
    v1 = client.CoreV1Api(cluster.api())
    spec = {"containers": [{"name": "c", "image": "busybox"}]}
    v1.create_namespaced_pod(ns, {"metadata": {"name": "floating"}, "spec": spec})
    bound = {"metadata": {"name": "bound"}, "spec": {**spec, "nodeName": "n1"}}
    v1.create_namespaced_pod(ns, bound)
    v1.delete_namespaced_pod("floating", ns)  # unscheduled: gone at once
    with pytest.raises(client.ApiException):
        v1.read_namespaced_pod("floating", ns)
    marked = v1.delete_namespaced_pod("bound", ns)
    assert marked.metadata.deletion_timestamp is not None
    assert marked.metadata.deletion_grace_period_seconds == 30
    assert v1.read_namespaced_pod("bound", ns).metadata.deletion_timestamp is not None
    # What the kubelet does once the containers stopped.
    v1.delete_namespaced_pod("bound", ns, grace_period_seconds=0)
    with pytest.raises(client.ApiException) as gone:
        v1.read_namespaced_pod("bound", ns)
    assert gone.value.status == 404


def test_namespace_termination(cluster: Cluster) -> None:
    v1 = client.CoreV1Api(cluster.api())
    v1.create_namespace({"metadata": {"name": "doomed"}})
    v1.create_namespaced_config_map("doomed", {"metadata": {"name": "c"}})
    v1.delete_namespace("doomed")
    ns = v1.read_namespace("doomed")
    assert ns.status.phase == "Terminating" and ns.spec.finalizers == ["kubernetes"]
    with pytest.raises(client.ApiException) as refused:
        v1.create_namespaced_config_map("doomed", {"metadata": {"name": "d"}})
    assert refused.value.status == 403
    # What the namespace controller does once the namespace is empty.
    v1.delete_namespaced_config_map("c", "doomed")
    ns.spec.finalizers = []
    v1.replace_namespace_finalize("doomed", ns)
    with pytest.raises(client.ApiException) as gone:
        v1.read_namespace("doomed")
    assert gone.value.status == 404


def test_dry_run_and_delete_collection(cluster: Cluster, ns: str) -> None:
    v1 = client.CoreV1Api(cluster.api())
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "dry"}}, dry_run="All")
    assert v1.list_namespaced_config_map(ns).items == []
    for name, tier in [("a", "x"), ("b", "x"), ("c", "y")]:
        v1.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": {"t": tier}}})
    v1.delete_collection_namespaced_config_map(ns, label_selector="t=x")
    assert [c.metadata.name for c in v1.list_namespaced_config_map(ns).items] == ["c"]
