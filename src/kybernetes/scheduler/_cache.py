"""The scheduler cache: every node with the pods on it, including pods still in flight.

Theory of operation:

* Informer handlers feed it Nodes and *assigned* Pods (``spec.nodeName`` set). The
  scheduling cycle *assumes* a pod onto the node it chose before the binding is written,
  so the next pod already sees the space as taken. When the informer later reports the pod
  bound, the assumption is *confirmed* (the real object replaces it, on whatever node the
  API says); if binding fails the pod is *forgotten* (removed from the node again).
* Everything runs on the event loop and no method awaits, so the scheduling cycle (also
  synchronous) reads a consistent view: the cache is its own snapshot, with no copying.
  Simulations (preemption) clone the NodeInfos they change.
* :meth:`list` returns nodes interleaved across zones (one node of each zone in turn, as
  upstream's node tree), so a scan that stops early still samples every zone. The order is
  rebuilt only when nodes come, go or change zone.
* Pods on a node the cache has not seen yet are kept and appear when the node does; a
  deleted node's pods stay until they are deleted too (the node is just not listed).
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Mapping
from typing import Any

from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo, pod_uid

log = logging.getLogger("kyb.scheduler.cache")

LABEL_ZONE = "topology.kubernetes.io/zone"
LABEL_REGION = "topology.kubernetes.io/region"


def zone_key(node: Mapping[str, Any]) -> str:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return f"{labels.get(LABEL_REGION, '')}:\x00:{labels.get(LABEL_ZONE, '')}"


class _PodState:
    __slots__ = ("assumed", "binding_finished", "info")

    def __init__(self, info: PodInfo, assumed: bool) -> None:
        self.info = info
        self.assumed = assumed
        self.binding_finished = False


class SchedulerCache:
    def __init__(self) -> None:
        #: Every NodeInfo, including ones whose Node is gone or not seen yet.
        self._infos: dict[str, NodeInfo] = {}
        #: Names of nodes whose Node object we have.
        self._nodes: dict[str, str] = {}  # name -> zone key
        #: zone key -> its node names; both in order of first appearance (upstream's tree).
        self._zones: dict[str, dict[str, None]] = {}
        self._pods: dict[str, _PodState] = {}
        self._images: dict[str, int] = {}
        self._order: list[NodeInfo] | None = None
        self._affinity: list[NodeInfo] | None = None
        self._anti_affinity: list[NodeInfo] | None = None
        self._affinity_nodes: dict[str, None] = {}
        self._anti_affinity_nodes: dict[str, None] = {}

    # -- nodes ---------------------------------------------------------------------------

    def add_node(self, node: Mapping[str, Any]) -> NodeInfo:
        name = (node.get("metadata") or {}).get("name") or ""
        info = self._infos.get(name)
        if info is None:
            info = self._infos[name] = NodeInfo(node)
        else:
            if name in self._nodes:
                self._count_images(info, -1)
            info.set_node(node)
        self._count_images(info, 1)
        zone = zone_key(node)
        old_zone = self._nodes.get(name)
        if old_zone != zone:
            if old_zone is not None:
                self._leave_zone(name, old_zone)
            self._nodes[name] = zone
            self._zones.setdefault(zone, {})[name] = None
            self._invalidate()
        return info

    update_node = add_node

    def _leave_zone(self, name: str, zone: str) -> None:
        members = self._zones[zone]
        del members[name]
        if not members:
            del self._zones[zone]

    def remove_node(self, name: str) -> None:
        zone = self._nodes.pop(name, None)
        if zone is None:
            return
        self._leave_zone(name, zone)
        info = self._infos[name]
        self._count_images(info, -1)
        if not info.pods:
            del self._infos[name]
        self._invalidate()

    def _count_images(self, info: NodeInfo, delta: int) -> None:
        for image in info.images:
            n = self._images.get(image, 0) + delta
            if n > 0:
                self._images[image] = n
            else:
                self._images.pop(image, None)

    def _invalidate(self) -> None:
        self._order = None
        self._affinity = None
        self._anti_affinity = None

    # -- pods ----------------------------------------------------------------------------

    def _node(self, name: str) -> NodeInfo:
        info = self._infos.get(name)
        if info is None:
            info = self._infos[name] = NodeInfo({"metadata": {"name": name}})
        return info

    def _track(self, pi: PodInfo, info: NodeInfo) -> None:
        """Keep the sets of nodes with (anti-)affinity pods current, so the affinity
        plugins never scan every node to find them."""
        if pi.has_affinity:
            if info.pods_with_affinity:
                self._affinity_nodes[info.name] = None
            else:
                self._affinity_nodes.pop(info.name, None)
            self._affinity = None
        if pi.has_required_anti_affinity:
            if info.pods_with_required_anti_affinity:
                self._anti_affinity_nodes[info.name] = None
            else:
                self._anti_affinity_nodes.pop(info.name, None)
            self._anti_affinity = None

    def _place(self, pi: PodInfo) -> None:
        info = self._node(pi.node_name)
        info.add_pod(pi)
        self._track(pi, info)

    def _unplace(self, pi: PodInfo) -> None:
        info = self._infos.get(pi.node_name)
        if info is None:
            return
        info.remove_pod(pi.uid)
        self._track(pi, info)
        if not info.pods and pi.node_name not in self._nodes:
            del self._infos[pi.node_name]

    def assume_pod(self, pi: PodInfo) -> None:
        """Count ``pi`` (with ``node_name`` set to the chosen node) on its node now."""
        if pi.uid in self._pods:
            raise ValueError(f"pod {pi.key} is already in the cache")
        self._pods[pi.uid] = _PodState(pi, assumed=True)
        self._place(pi)

    def finish_binding(self, pi: PodInfo) -> None:
        state = self._pods.get(pi.uid)
        if state is not None and state.assumed:
            state.binding_finished = True

    def forget_pod(self, pi: PodInfo) -> None:
        """Undo :meth:`assume_pod` (binding failed). Confirmed pods are left alone."""
        state = self._pods.get(pi.uid)
        if state is None or not state.assumed:
            return
        del self._pods[pi.uid]
        self._unplace(state.info)

    def is_assumed(self, uid: str) -> bool:
        state = self._pods.get(uid)
        return state is not None and state.assumed

    def add_pod(self, pod: Mapping[str, Any]) -> PodInfo:
        """An assigned pod from the informer (confirms an assumed one)."""
        state = self._pods.get(pod_uid(pod))
        # Binding changes nothing the scheduler parsed: reuse it (parsing is not free).
        pi = state.info.with_pod(pod) if state is not None else PodInfo(pod)
        if state is not None:
            self._unplace(state.info)
        self._pods[pi.uid] = _PodState(pi, assumed=False)
        self._place(pi)
        return pi

    update_pod = add_pod

    def remove_pod(self, pod: Mapping[str, Any]) -> PodInfo | None:
        state = self._pods.pop(pod_uid(pod), None)
        if state is None:
            return None
        self._unplace(state.info)
        return state.info

    def pod(self, uid: str) -> PodInfo | None:
        state = self._pods.get(uid)
        return state.info if state is not None else None

    # -- the NodeInfoLister protocol -----------------------------------------------------

    def list(self) -> list[NodeInfo]:
        if self._order is None:
            columns = [[self._infos[n] for n in members] for members in self._zones.values()]
            order: list[NodeInfo] = []
            for i in range(max((len(c) for c in columns), default=0)):
                order.extend(c[i] for c in columns if i < len(c))
            self._order = order
        return self._order

    def get(self, name: str) -> NodeInfo | None:
        return self._infos.get(name) if name in self._nodes else None

    def have_pods_with_affinity(self) -> builtins.list[NodeInfo]:
        if self._affinity is None:
            names = self._affinity_nodes
            self._affinity = [self._infos[n] for n in names if n in self._nodes]
        return self._affinity

    def have_pods_with_required_anti_affinity(self) -> builtins.list[NodeInfo]:
        if self._anti_affinity is None:
            names = self._anti_affinity_nodes
            self._anti_affinity = [self._infos[n] for n in names if n in self._nodes]
        return self._anti_affinity

    def image_node_count(self, image: str) -> int:
        return self._images.get(image, 0)

    @property
    def num_nodes(self) -> int:
        return len(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)
