"""VolumeBinding (basics): a pod's PersistentVolumeClaims must allow the node.

Promises, a subset of upstream's plugin:

* A claim that does not exist, or is being deleted, makes the pod unschedulable
  (UnschedulableAndUnresolvable, ``persistentvolumeclaim "x" not found``); so does an
  unbound claim whose StorageClass binds immediately (``pod has unbound immediate
  PersistentVolumeClaims``): the PV controller has to bind it first.
* A bound claim's PersistentVolume must exist and its ``spec.nodeAffinity.required``
  must match the node (``node(s) had volume node affinity conflict``).
* An unbound claim of a ``WaitForFirstConsumer`` class allows every node; at PreBind the
  chosen node is written to the claim (``volume.kubernetes.io/selected-node``) for the
  provisioner. Not done: matching unbound claims to existing PVs, capacity tracking, and
  waiting at PreBind for the claim to become bound.
* Generic ephemeral volumes use the claim ``<pod>-<volume>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kybernetes.scheduler._events import ActionType, ClusterEvent, ClusterEventWithHint, Resource
from kybernetes.scheduler._framework import CycleState, PreFilterResult
from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._nodeselector import AffinityError, NodeSelector
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import SKIP, Status, error, unresolvable

NAME = "VolumeBinding"
REASON_NODE_CONFLICT = "node(s) had volume node affinity conflict"
REASON_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
SELECTED_NODE_ANNOTATION = "volume.kubernetes.io/selected-node"
_REJECT_CONFLICT = unresolvable(REASON_NODE_CONFLICT)
_STATE_KEY = "PreFilter" + NAME
_BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


@dataclass
class _State:
    #: Node affinity of every bound claim's PV (None: the PV allows every node).
    pv_affinity: list[NodeSelector] = field(default_factory=list)
    #: Unbound WaitForFirstConsumer claims, as (namespace, name).
    delayed: list[tuple[str, str]] = field(default_factory=list)


def claim_names(pod: PodInfo) -> list[str]:
    out: list[str] = []
    for volume in (pod.pod.get("spec") or {}).get("volumes") or ():
        pvc = volume.get("persistentVolumeClaim")
        if isinstance(pvc, Mapping) and pvc.get("claimName"):
            out.append(str(pvc["claimName"]))
        elif volume.get("ephemeral"):
            out.append(f"{pod.name}-{volume.get('name')}")
    return out


def _class_name(pvc: Mapping[str, Any]) -> str:
    annotations = (pvc.get("metadata") or {}).get("annotations") or {}
    if _BETA_CLASS_ANNOTATION in annotations:
        return str(annotations[_BETA_CLASS_ANNOTATION])
    return str((pvc.get("spec") or {}).get("storageClassName") or "")


class VolumeBinding:
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        self.handle = handle

    def pre_filter(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None]:
        names = claim_names(pod)
        if not names:
            return None, SKIP
        cluster = self.handle.cluster
        s = _State()
        immediate = False
        for name in names:
            pvc = cluster.pvc(pod.namespace, name)
            if pvc is None:
                return None, unresolvable(f'persistentvolumeclaim "{name}" not found')
            if (pvc.get("metadata") or {}).get("deletionTimestamp") is not None:
                return None, unresolvable(f'persistentvolumeclaim "{name}" is being deleted')
            volume_name = (pvc.get("spec") or {}).get("volumeName")
            if volume_name:
                pv = cluster.pv(str(volume_name))
                if pv is None:
                    return None, unresolvable(f'persistentvolume "{volume_name}" not found')
                required = ((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")
                if required is not None:
                    try:
                        s.pv_affinity.append(
                            NodeSelector.parse(required, "spec.nodeAffinity.required")
                        )
                    except AffinityError as e:
                        return None, unresolvable(f'persistentvolume "{volume_name}": {e}')
                continue
            storage_class = cluster.storage_class(_class_name(pvc))
            mode = (storage_class or {}).get("volumeBindingMode") or "Immediate"
            if mode == "WaitForFirstConsumer":
                s.delayed.append((pod.namespace, name))
            else:
                immediate = True
        if immediate:
            return None, unresolvable(REASON_UNBOUND_IMMEDIATE)
        state.write(_STATE_KEY, s)
        return None, None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s: _State = state.read(_STATE_KEY)
        for selector in s.pv_affinity:
            if not selector.matches(node.labels, node.name):
                return _REJECT_CONFLICT
        return None

    async def pre_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        s: _State | None = state.get(_STATE_KEY)
        if s is None:
            return None
        for namespace, name in s.delayed:
            try:
                await self.handle.api.annotate_pvc(
                    namespace, name, {SELECTED_NODE_ANNOTATION: node_name}
                )
            except Exception as e:
                return error(f"selecting node for persistentvolumeclaim {namespace}/{name}: {e}")
        return None

    def events_to_register(self) -> list[ClusterEventWithHint]:
        change = ActionType.ADD | ActionType.UPDATE
        return [
            ClusterEventWithHint(ClusterEvent(Resource.PVC, change)),
            ClusterEventWithHint(ClusterEvent(Resource.PV, change)),
            ClusterEventWithHint(ClusterEvent(Resource.STORAGE_CLASS, change)),
            ClusterEventWithHint(
                ClusterEvent(Resource.NODE, ActionType.ADD | ActionType.UPDATE_NODE_LABEL)
            ),
        ]
