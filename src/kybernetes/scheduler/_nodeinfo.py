"""A node as the scheduler sees it: the Node object, its pods, and what they request.

Promises, as upstream's ``framework.NodeInfo``:

* ``requested_*`` sum the requests of every pod on the node, assumed pods included (the
  cache adds a pod the moment it is assumed, before its binding is observed); the
  ``non_zero_*`` sums use the scoring defaults for containers that request nothing.
* ``pods_with_affinity`` / ``pods_with_required_anti_affinity`` are the pods that have any
  pod (anti-)affinity term, so affinity plugins visit only those.
* ``used_ports`` holds every host port in use as ``(ip, protocol, port)``; 0.0.0.0 clashes
  with any address.
* ``generation`` changes on every modification. :meth:`clone` gives an independent copy
  (pods are shared PodInfos, the lists and sums are new) for what-if simulations such as
  preemption; never modify a NodeInfo you did not clone.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._resource import (
    CPU,
    EPHEMERAL_STORAGE,
    MEMORY,
    PODS,
    is_scalar_resource,
    resource_units,
)
from kybernetes.scheduler._taints import PREFER_NO_SCHEDULE, Taint, node_taints

_generations = itertools.count(1)


def next_generation() -> int:
    return next(_generations)


class NodeInfo:
    __slots__ = (
        "alloc_cpu",
        "alloc_eph",
        "alloc_mem",
        "alloc_pods",
        "alloc_scalar",
        "generation",
        "images",
        "labels",
        "name",
        "node",
        "non_zero_cpu",
        "non_zero_mem",
        "pods",
        "pods_with_affinity",
        "pods_with_required_anti_affinity",
        "prefer_no_schedule_taints",
        "req_cpu",
        "req_eph",
        "req_mem",
        "req_scalar",
        "taints",
        "unschedulable",
        "used_ports",
    )

    def __init__(self, node: Mapping[str, Any] | None = None) -> None:
        self.pods: list[PodInfo] = []
        self.pods_with_affinity: list[PodInfo] = []
        self.pods_with_required_anti_affinity: list[PodInfo] = []
        self.used_ports: dict[tuple[str, str, int], int] = {}
        self.req_cpu = self.req_mem = self.req_eph = 0
        self.non_zero_cpu = self.non_zero_mem = 0
        self.req_scalar: dict[str, int] = {}
        self.generation = next_generation()
        self.set_node(node or {"metadata": {"name": ""}})

    def set_node(self, node: Mapping[str, Any]) -> None:
        self.node: Mapping[str, Any] = node
        meta = node.get("metadata") or {}
        spec = node.get("spec") or {}
        self.name: str = meta.get("name") or ""
        self.labels: Mapping[str, str] = meta.get("labels") or {}
        self.taints: tuple[Taint, ...] = node_taints(node)
        self.prefer_no_schedule_taints = tuple(
            t for t in self.taints if t.get("effect") == PREFER_NO_SCHEDULE
        )
        self.unschedulable = bool(spec.get("unschedulable"))
        status = node.get("status") or {}
        # Only allocatable counts, as upstream (a node that reports none fits no pod).
        alloc = resource_units(status.get("allocatable"))
        self.alloc_cpu = alloc.get(CPU, 0)
        self.alloc_mem = alloc.get(MEMORY, 0)
        self.alloc_eph = alloc.get(EPHEMERAL_STORAGE, 0)
        self.alloc_pods = alloc.get(PODS, 0)
        self.alloc_scalar = {k: v for k, v in alloc.items() if is_scalar_resource(k)}
        images: dict[str, int] = {}
        for image in status.get("images") or ():
            size = image.get("sizeBytes") or 0
            for name in image.get("names") or ():
                images[str(name)] = int(size)
        self.images = images
        self.generation = next_generation()

    # -- pods ----------------------------------------------------------------------------

    def add_pod(self, pi: PodInfo) -> None:
        self.pods.append(pi)
        if pi.has_affinity:
            self.pods_with_affinity.append(pi)
        if pi.has_required_anti_affinity:
            self.pods_with_required_anti_affinity.append(pi)
        self._account(pi, 1)

    def remove_pod(self, uid: str) -> PodInfo | None:
        """Remove the pod with ``uid``; returns it (None when it is not here)."""
        for i, pi in enumerate(self.pods):
            if pi.uid == uid:
                del self.pods[i]
                break
        else:
            return None
        self.pods_with_affinity = [p for p in self.pods_with_affinity if p.uid != uid]
        self.pods_with_required_anti_affinity = [
            p for p in self.pods_with_required_anti_affinity if p.uid != uid
        ]
        self._account(pi, -1)
        return pi

    def _account(self, pi: PodInfo, sign: int) -> None:
        self.req_cpu += sign * pi.req_cpu
        self.req_mem += sign * pi.req_mem
        self.req_eph += sign * pi.req_eph
        self.non_zero_cpu += sign * pi.non_zero_cpu
        self.non_zero_mem += sign * pi.non_zero_mem
        for name, value in pi.req_scalar.items():
            self.req_scalar[name] = self.req_scalar.get(name, 0) + sign * value
        for port in pi.host_ports:
            left = self.used_ports.get(port, 0) + sign
            if left > 0:
                self.used_ports[port] = left
            else:
                self.used_ports.pop(port, None)
        self.generation = next_generation()

    # -- queries -------------------------------------------------------------------------

    def port_conflict(self, ports: tuple[tuple[str, str, int], ...]) -> bool:
        """Whether any of ``ports`` clashes with a host port in use here."""
        used = self.used_ports
        if not used:
            return False
        for ip, protocol, port in ports:
            if ip == "0.0.0.0":
                if any(p[1] == protocol and p[2] == port for p in used):
                    return True
            elif (ip, protocol, port) in used or ("0.0.0.0", protocol, port) in used:
                return True
        return False

    def clone(self) -> NodeInfo:
        out = NodeInfo.__new__(NodeInfo)
        for slot in NodeInfo.__slots__:
            setattr(out, slot, getattr(self, slot))
        out.pods = list(self.pods)
        out.pods_with_affinity = list(self.pods_with_affinity)
        out.pods_with_required_anti_affinity = list(self.pods_with_required_anti_affinity)
        out.used_ports = dict(self.used_ports)
        out.req_scalar = dict(self.req_scalar)
        return out

    def __repr__(self) -> str:
        return f"NodeInfo({self.name}, pods={len(self.pods)})"
