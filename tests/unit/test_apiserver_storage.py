"""The generic registry over an in-memory store: object semantics end to end, no HTTP."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.support.memstore import MemoryStore

from kybernetes.api import REGISTRY
from kybernetes.apiserver import _storage
from kybernetes.apiserver._admission import Chain, NamespaceLifecycle
from kybernetes.apiserver._errors import APIError
from kybernetes.apiserver._options import DeleteOptions
from kybernetes.apiserver._storage import ResourceStorage
from kybernetes.apiserver._strategy import strategy_for

NOW = 1_700_000_000.0


class Cluster:
    """Storages of a few resources sharing one store and NamespaceLifecycle."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        admission = Chain([NamespaceLifecycle(self._namespace)])
        self.s: dict[str, ResourceStorage] = {}
        for group, plural in [
            ("", "namespaces"),
            ("", "pods"),
            ("", "configmaps"),
            ("apps", "deployments"),
        ]:
            info = REGISTRY.get(group, "v1", plural)
            assert info is not None
            self.s[plural] = ResourceStorage(
                self.store,
                strategy_for(info),
                admission,
                clock=lambda: NOW,  # type: ignore[arg-type]
            )

    async def _namespace(self, name: str) -> dict[str, Any] | None:
        try:
            return await self.s["namespaces"].get("", name)
        except APIError:
            return None

    async def ns(self, name: str) -> None:
        await self.s["namespaces"].create("", {"metadata": {"name": name}})


@pytest.fixture
async def c() -> Cluster:
    cluster = Cluster()
    await cluster.ns("default")
    return cluster


def cm(name: str = "c", **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, **extra}


def pod(name: str = "p", node: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def deployment(name: str = "d", replicas: int = 1) -> dict[str, Any]:
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
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }


async def test_create_fills_system_fields(c: Cluster) -> None:
    created = await c.s["configmaps"].create("default", cm(data={"a": "1"}))
    meta = created["metadata"]
    assert meta["namespace"] == "default" and meta["uid"]
    assert meta["creationTimestamp"] == "2023-11-14T22:13:20Z"
    assert meta["resourceVersion"] == str(c.store.revision)
    stored = await c.s["configmaps"].get("default", "c")
    assert stored == created
    with pytest.raises(APIError) as e:
        await c.s["configmaps"].create("default", cm())
    assert (e.value.code, e.value.message) == (409, 'configmaps "c" already exists')


async def test_create_checks_namespace_and_name(c: Cluster) -> None:
    with pytest.raises(APIError) as e:
        await c.s["configmaps"].create("default", {"metadata": {"name": "x", "namespace": "o"}})
    assert e.value.code == 400
    with pytest.raises(APIError) as e:
        await c.s["configmaps"].create("nowhere", cm())
    assert (e.value.code, e.value.message) == (404, 'namespaces "nowhere" not found')
    with pytest.raises(APIError) as e:
        await c.s["configmaps"].create("default", cm("a/b"))
    assert e.value.code == 422


async def test_generate_name_retries_on_collision(
    c: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    await c.s["configmaps"].create("default", cm("web-aaaaa"))
    names = iter(["web-aaaaa", "web-bbbbb"])
    monkeypatch.setattr(_storage, "generate_name", lambda base: next(names))
    created = await c.s["configmaps"].create("default", {"metadata": {"generateName": "web-"}})
    assert created["metadata"]["name"] == "web-bbbbb"


async def test_update_is_optimistic(c: Cluster) -> None:
    s = c.s["configmaps"]
    first = await s.create("default", cm(data={"a": "1"}))
    second, _ = await s.update("default", "c", cm(data={"a": "2"}))  # unconditional
    assert second["metadata"]["uid"] == first["metadata"]["uid"]
    stale = cm(data={"a": "3"})
    stale["metadata"]["resourceVersion"] = first["metadata"]["resourceVersion"]
    with pytest.raises(APIError) as e:
        await s.update("default", "c", stale)
    assert (e.value.code, e.value.reason) == (409, "Conflict")
    fresh = cm(data={"a": "3"})
    fresh["metadata"]["resourceVersion"] = second["metadata"]["resourceVersion"]
    third, _ = await s.update("default", "c", fresh)
    assert (await s.get("default", "c"))["data"] == {"a": "3"}
    # Writing the same content again changes nothing, not even the revision.
    revision = c.store.revision
    again, _ = await s.update("default", "c", cm(data={"a": "3"}))
    assert c.store.revision == revision and again == third


async def test_generation_and_status_handling(c: Cluster) -> None:
    s = c.s["deployments"]
    created = await s.create("default", deployment())
    assert created["metadata"]["generation"] == 1
    labelled = deployment()
    labelled["metadata"]["labels"] = {"x": "y"}
    labelled["status"] = {"replicas": 9}  # ignored on the main resource
    updated, _ = await s.update("default", "d", labelled)
    assert updated["metadata"]["generation"] == 1
    assert "replicas" not in (updated.get("status") or {})
    scaled, _ = await s.update("default", "d", deployment(replicas=3))
    assert scaled["metadata"]["generation"] == 2
    status_write = deployment(replicas=7)  # the spec change is ignored on /status
    status_write["status"] = {"replicas": 3}
    after, _ = await s.update("default", "d", status_write, subresource="status")
    assert after["status"]["replicas"] == 3 and after["spec"]["replicas"] == 3
    assert after["metadata"]["generation"] == 2


async def test_finalizers_hold_deletion_until_removed(c: Cluster) -> None:
    s = c.s["configmaps"]
    await s.create("default", cm(metadata={"name": "c", "finalizers": ["example.com/f"]}))
    marked, gone = await s.delete("default", "c", DeleteOptions())
    assert not gone
    assert marked["metadata"]["deletionTimestamp"] == "2023-11-14T22:13:20Z"
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 0
    # Deleting again while finalizers are pending changes nothing.
    again, gone = await s.delete("default", "c", DeleteOptions())
    assert not gone and again == marked
    # Adding finalizers to an object being deleted is refused.
    more = copy.deepcopy(marked)
    more["metadata"]["finalizers"].append("example.com/g")
    with pytest.raises(APIError) as e:
        await s.update("default", "c", more)
    assert e.value.code == 422
    released = copy.deepcopy(marked)
    released["metadata"]["finalizers"] = []
    await s.update("default", "c", released)
    with pytest.raises(APIError) as e:
        await s.get("default", "c")
    assert e.value.code == 404


@pytest.mark.parametrize(
    ("policy", "finalizer"), [("Orphan", "orphan"), ("Foreground", "foregroundDeletion")]
)
async def test_propagation_policy_finalizers(c: Cluster, policy: str, finalizer: str) -> None:
    s = c.s["deployments"]
    await s.create("default", deployment())
    marked, gone = await s.delete("default", "d", DeleteOptions(propagation_policy=policy))
    assert not gone and marked["metadata"]["finalizers"] == [finalizer]
    _, gone = await s.delete("default", "d", DeleteOptions(propagation_policy="Background"))
    assert gone


async def test_pod_graceful_deletion(c: Cluster) -> None:
    s = c.s["pods"]
    await s.create("default", pod("unscheduled"))
    _, gone = await s.delete("default", "unscheduled", DeleteOptions())
    assert gone
    await s.create("default", pod("bound", node="n1"))
    marked, gone = await s.delete("default", "bound", DeleteOptions())
    assert not gone
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 30
    assert marked["metadata"]["deletionTimestamp"] == "2023-11-14T22:13:50Z"
    # A longer grace period does not extend it; the kubelet's final delete removes it.
    same, gone = await s.delete("default", "bound", DeleteOptions(grace_period_seconds=60))
    assert not gone and same == marked
    _, gone = await s.delete("default", "bound", DeleteOptions(grace_period_seconds=0))
    assert gone


async def test_delete_preconditions(c: Cluster) -> None:
    s = c.s["configmaps"]
    created = await s.create("default", cm())
    with pytest.raises(APIError) as e:
        await s.delete("default", "c", DeleteOptions(precondition_uid="other"))
    assert e.value.code == 409 and "Precondition failed: UID in precondition" in e.value.message
    _, gone = await s.delete(
        "default", "c", DeleteOptions(precondition_uid=created["metadata"]["uid"])
    )
    assert gone


async def test_dry_run_writes_nothing(c: Cluster) -> None:
    s = c.s["configmaps"]
    revision = c.store.revision
    created = await s.create("default", cm(), dry_run=True)
    assert created["metadata"]["name"] == "c" and c.store.revision == revision
    await s.create("default", cm())
    revision = c.store.revision
    await s.update("default", "c", cm(data={"a": "b"}), dry_run=True)
    _, gone = await s.delete("default", "c", DeleteOptions(dry_run=True))
    assert gone and c.store.revision == revision
    assert "data" not in await s.get("default", "c")


async def test_namespace_lifecycle(c: Cluster) -> None:
    ns, cms = c.s["namespaces"], c.s["configmaps"]
    await c.ns("team")
    await cms.create("team", cm())
    marked, gone = await ns.delete("", "team", DeleteOptions())
    assert not gone
    assert marked["status"]["phase"] == "Terminating"
    assert marked["spec"]["finalizers"] == ["kubernetes"]
    with pytest.raises(APIError) as e:
        await cms.create("team", cm("new"))
    assert e.value.code == 403
    assert e.value.message == (
        'configmaps "new" is forbidden: unable to create new content in namespace team '
        "because it is being terminated"
    )
    finalized = copy.deepcopy(marked)
    finalized["spec"]["finalizers"] = []
    await ns.update("", "team", finalized, subresource="finalize")
    with pytest.raises(APIError) as e:
        await ns.get("", "team")
    assert e.value.code == 404
    with pytest.raises(APIError) as e:
        await ns.delete("", "default", DeleteOptions())
    assert e.value.code == 403
