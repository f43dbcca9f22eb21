"""The scheduler's two seams onto the cluster, implemented with :mod:`kybernetes.client`.

* :class:`InformerCluster` answers the plugins' lookups (:class:`ClusterLister`) from the
  informer caches: no API request while scheduling. Objects are shared cache objects: read
  only.
* :class:`ClientAPI` makes the plugins' writes (:class:`ClusterAPI`): the Binding, and the
  selected-node annotation of a delayed-binding claim. A 409 on the binding means the pod
  is bound already (another instance won the race, or our earlier attempt succeeded
  after all): :class:`~._framework.AlreadyBound`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.client import NAMESPACE_INDEX, Conflict, Informer, RESTClient
from kybernetes.scheduler._handle import AlreadyBound


def resource(group: str, version: str, plural: str) -> ResourceInfo:
    info = REGISTRY.get(group, version, plural)
    if info is None:  # pragma: no cover - the registry is static
        raise LookupError(f"{group}/{version} {plural} is not registered")
    return info


PODS = resource("", "v1", "pods")
NODES = resource("", "v1", "nodes")
NAMESPACES = resource("", "v1", "namespaces")
SERVICES = resource("", "v1", "services")
PVCS = resource("", "v1", "persistentvolumeclaims")
PVS = resource("", "v1", "persistentvolumes")
REPLICATION_CONTROLLERS = resource("", "v1", "replicationcontrollers")
STORAGE_CLASSES = resource("storage.k8s.io", "v1", "storageclasses")
PDBS = resource("policy", "v1", "poddisruptionbudgets")
PRIORITY_CLASSES = resource("scheduling.k8s.io", "v1", "priorityclasses")
REPLICA_SETS = resource("apps", "v1", "replicasets")
STATEFUL_SETS = resource("apps", "v1", "statefulsets")


class InformerCluster:
    def __init__(self, informers: Mapping[str, Informer]) -> None:
        self._i = informers

    def _get(self, kind: str, name: str, namespace: str | None = None) -> Mapping[str, Any] | None:
        return self._i[kind].cache.get_by_name(name, namespace)

    def pvc(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self._get("pvcs", name, namespace)

    def pv(self, name: str) -> Mapping[str, Any] | None:
        return self._get("pvs", name)

    def storage_class(self, name: str) -> Mapping[str, Any] | None:
        return self._get("storageclasses", name)

    def pdbs(self) -> Sequence[Mapping[str, Any]]:
        return self._i["pdbs"].cache.list()

    def namespace_labels(self, name: str) -> Mapping[str, str] | None:
        ns = self._get("namespaces", name)
        return ((ns.get("metadata") or {}).get("labels") or {}) if ns is not None else None

    def namespaces(self) -> Sequence[Mapping[str, Any]]:
        return self._i["namespaces"].cache.list()

    def services(self, namespace: str) -> Sequence[Mapping[str, Any]]:
        return self._i["services"].cache.by_index(NAMESPACE_INDEX, namespace)

    def controller(self, kind: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        informer = {
            "ReplicaSet": "replicasets",
            "StatefulSet": "statefulsets",
            "ReplicationController": "replicationcontrollers",
        }.get(kind)
        return self._get(informer, name, namespace) if informer else None

    def priority_class_value(self, name: str) -> int | None:
        pc = self._get("priorityclasses", name)
        value = pc.get("value") if pc is not None else None
        return value if isinstance(value, int) else None


class ClientAPI:
    def __init__(self, client: RESTClient) -> None:
        self.client = client

    async def bind(self, pod: Mapping[str, Any], node_name: str) -> None:
        meta = pod.get("metadata") or {}
        body = {
            "apiVersion": "v1",
            "kind": "Binding",
            # The uid is a precondition: a pod deleted and re-created under the same name
            # is a different pod and must not receive this decision.
            "metadata": {
                "name": meta.get("name"),
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid"),
            },
            "target": {"apiVersion": "v1", "kind": "Node", "name": node_name},
        }
        try:
            await self.client.create(
                PODS,
                body,
                namespace=meta.get("namespace"),
                name=meta.get("name"),
                subresource="binding",
            )
        except Conflict as e:
            raise AlreadyBound(str(e)) from None

    async def annotate_pvc(self, namespace: str, name: str, annotations: Mapping[str, str]) -> None:
        patch = {"metadata": {"annotations": dict(annotations)}}
        await self.client.patch(PVCS, name, patch, namespace=namespace, type="merge")
