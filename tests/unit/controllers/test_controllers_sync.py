"""Controllers' ``sync`` against the fake API (informers on it, no sockets, no sleeps)."""

from __future__ import annotations

import contextlib
from typing import Any

from tests.support.fakekube import eventually, resource
from tests.unit.controllers.conftest import Kube, running

from kybernetes.api import ResourceInfo
from kybernetes.client import Conflict, Informer
from kybernetes.controllers import (
    ControllerContext,
    DeploymentController,
    GarbageCollector,
    NamespaceController,
    ReplicaSetController,
)

PODS = resource("", "pods")
NAMESPACES = resource("", "namespaces")
CONFIGMAPS = resource("", "configmaps")
REPLICA_SETS = resource("apps", "replicasets")
DEPLOYMENTS = resource("apps", "deployments")


def replicaset(replicas: int) -> dict[str, Any]:
    return {
        "metadata": {"name": "rs", "namespace": "ns", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "a"}},
            "template": {
                "metadata": {"labels": {"app": "a"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }


def caught_up(kube: Kube, informer: Informer, info: ResourceInfo, key: str) -> bool:
    namespace, _, name = key.rpartition("/")
    cached = informer.cache.get(key)
    stored = kube.get(info, name, namespace)
    return (cached or {}).get("metadata", {}).get("resourceVersion") == (stored or {}).get(
        "metadata", {}
    ).get("resourceVersion")


def pods_of(kube: Kube) -> list[dict[str, Any]]:
    return list(kube.objects.get(("", "pods"), {}).values())


async def test_replicaset_creates_once_despite_stale_cache(
    kube: Kube, ctx: ControllerContext
) -> None:
    kube.put(REPLICA_SETS, replicaset(3))
    rsc = ReplicaSetController(ctx)
    async with running(ctx):
        await rsc.sync("ns/rs")
        assert len(pods_of(kube)) == 3
        # Sync again at once: whatever the cache shows, expectations prevent a second batch
        # (the status write may conflict with the stale cache; that only means a retry).
        with contextlib.suppress(Conflict):
            await rsc.sync("ns/rs")
        assert len(pods_of(kube)) == 3
        await eventually(lambda: rsc.expectations.satisfied("ns/rs"))
        await eventually(lambda: caught_up(kube, rsc.rs_informer, REPLICA_SETS, "ns/rs"))
        await rsc.sync("ns/rs")
        assert len(pods_of(kube)) == 3
        pod = pods_of(kube)[0]
        ref = pod["metadata"]["ownerReferences"][0]
        assert ref["kind"] == "ReplicaSet" and ref["controller"] and ref["blockOwnerDeletion"]
        assert pod["metadata"]["name"].startswith("rs-")
        status = kube.get(REPLICA_SETS, "rs", "ns")["status"]
        assert status["replicas"] == 3 and status["observedGeneration"] == 1


async def test_replicaset_scales_down_unready_first_and_adopts_orphans(
    kube: Kube, ctx: ControllerContext
) -> None:
    kube.put(REPLICA_SETS, replicaset(1))
    uid = kube.get(REPLICA_SETS, "rs", "ns")["metadata"]["uid"]
    ready = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    kube.put(
        PODS,
        {
            "metadata": {"name": "orphan-ready", "namespace": "ns", "labels": {"app": "a"}},
            "status": ready,
        },
    )
    kube.put(
        PODS,
        {
            "metadata": {"name": "orphan-pending", "namespace": "ns", "labels": {"app": "a"}},
            "status": {"phase": "Pending"},
        },
    )
    kube.put(PODS, {"metadata": {"name": "other", "namespace": "ns", "labels": {"app": "b"}}})
    rsc = ReplicaSetController(ctx)
    async with running(ctx):
        await rsc.sync("ns/rs")
    names = sorted(p["metadata"]["name"] for p in pods_of(kube))
    assert names == ["orphan-ready", "other"]
    adopted = kube.get(PODS, "orphan-ready", "ns")
    assert adopted["metadata"]["ownerReferences"][0]["uid"] == uid
    assert not kube.get(PODS, "other", "ns")["metadata"].get("ownerReferences")


async def test_deployment_creates_hashed_replicaset_with_revision(
    kube: Kube, ctx: ControllerContext
) -> None:
    kube.put(
        DEPLOYMENTS,
        {
            "metadata": {"name": "web", "namespace": "ns", "generation": 1},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "x"}]},
                },
            },
        },
    )
    dc = DeploymentController(ctx)
    async with running(ctx):
        await dc.sync("ns/web")
    (rs,) = kube.objects[("apps", "replicasets")].values()
    h = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{h}"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": h}
    assert rs["spec"]["replicas"] == 2
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    d = kube.get(DEPLOYMENTS, "web", "ns")
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert d["status"]["observedGeneration"] == 1
    progressing = [c for c in d["status"]["conditions"] if c["type"] == "Progressing"]
    assert progressing and progressing[0]["status"] == "True"


async def test_garbage_collector_deletes_dependents_of_vanished_owners(
    kube: Kube, ctx: ControllerContext
) -> None:
    kube.put(REPLICA_SETS, replicaset(1))
    live_uid = kube.get(REPLICA_SETS, "rs", "ns")["metadata"]["uid"]

    def owned(name: str, uid: str, owner: str = "rs") -> dict[str, Any]:
        ref = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": owner,
            "uid": uid,
            "controller": True,
        }
        return {"metadata": {"name": name, "namespace": "ns", "ownerReferences": [ref]}}

    kube.put(PODS, owned("kept", live_uid))
    kube.put(PODS, owned("dangling", "gone-uid", owner="gone"))
    kube.put(PODS, owned("namesake", "old-uid"))  # an owner of that name, but not that uid
    gc = GarbageCollector(ctx)
    async with running(ctx):
        for name in ("kept", "dangling", "namesake"):
            await gc.sync(f"/pods|ns/{name}")
    assert [p["metadata"]["name"] for p in pods_of(kube)] == ["kept"]


async def test_garbage_collector_orphans_dependents(kube: Kube, ctx: ControllerContext) -> None:
    rs = replicaset(1)
    rs["metadata"].update(deletionTimestamp="2025-01-01T00:00:00Z", finalizers=["orphan"])
    kube.put(REPLICA_SETS, rs)
    uid = kube.get(REPLICA_SETS, "rs", "ns")["metadata"]["uid"]
    ref = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "rs",
        "uid": uid,
        "controller": True,
    }
    kube.put(PODS, {"metadata": {"name": "p", "namespace": "ns", "ownerReferences": [ref]}})
    gc = GarbageCollector(ctx)
    async with running(ctx):
        await gc.sync("apps/replicasets|ns/rs")
    assert kube.get(PODS, "p", "ns")["metadata"]["ownerReferences"] == []
    assert kube.get(REPLICA_SETS, "rs", "ns")["metadata"]["finalizers"] == []


async def test_namespace_controller_empties_then_finalizes(
    kube: Kube, ctx: ControllerContext
) -> None:
    kube.put(
        NAMESPACES,
        {
            "metadata": {"name": "ns", "deletionTimestamp": "2025-01-01T00:00:00Z"},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Terminating"},
        },
    )
    kube.put(CONFIGMAPS, {"metadata": {"name": "cm", "namespace": "ns"}})
    kube.put(CONFIGMAPS, {"metadata": {"name": "elsewhere", "namespace": "other"}})
    nc = NamespaceController(ctx)
    async with running(ctx):
        await nc.sync("ns")
    assert kube.get(CONFIGMAPS, "cm", "ns") is None
    assert kube.get(CONFIGMAPS, "elsewhere", "other") is not None
    assert kube.get(NAMESPACES, "ns")["spec"]["finalizers"] == []
