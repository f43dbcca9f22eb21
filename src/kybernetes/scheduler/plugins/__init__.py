"""The in-tree plugins, one module each, and the registry that names them.

:data:`IN_TREE_REGISTRY` maps a plugin name to its factory ``(args, handle) -> plugin``;
``args`` is the plugin's ``pluginConfig`` entry (``{}`` when there is none). Out-of-tree
plugins are added by passing a bigger registry to the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler.plugins._balanced import NodeResourcesBalancedAllocation
from kybernetes.scheduler.plugins._defaultbinder import DefaultBinder
from kybernetes.scheduler.plugins._defaultpreemption import DefaultPreemption
from kybernetes.scheduler.plugins._imagelocality import ImageLocality
from kybernetes.scheduler.plugins._interpodaffinity import InterPodAffinity
from kybernetes.scheduler.plugins._nodeaffinity import NodeAffinity
from kybernetes.scheduler.plugins._nodename import NodeName
from kybernetes.scheduler.plugins._nodeports import NodePorts
from kybernetes.scheduler.plugins._noderesources_fit import NodeResourcesFit
from kybernetes.scheduler.plugins._nodeunschedulable import NodeUnschedulable
from kybernetes.scheduler.plugins._podtopologyspread import PodTopologySpread
from kybernetes.scheduler.plugins._queuesort import PrioritySort
from kybernetes.scheduler.plugins._schedulinggates import SchedulingGates
from kybernetes.scheduler.plugins._tainttoleration import TaintToleration
from kybernetes.scheduler.plugins._volumebinding import VolumeBinding

PluginFactory = Callable[[Mapping[str, Any], Handle], Any]
Registry = dict[str, PluginFactory]


def _no_args(cls: Callable[[], Any], name: str) -> PluginFactory:
    def factory(args: Mapping[str, Any], handle: Handle) -> Any:
        if args and set(args) - {"kind", "apiVersion"}:
            from kybernetes.scheduler._status import ConfigError

            raise ConfigError(f"{name} takes no args")
        return cls()

    return factory


IN_TREE_REGISTRY: Registry = {
    SchedulingGates.name: _no_args(SchedulingGates, SchedulingGates.name),
    PrioritySort.name: _no_args(PrioritySort, PrioritySort.name),
    NodeUnschedulable.name: _no_args(NodeUnschedulable, NodeUnschedulable.name),
    NodeName.name: _no_args(NodeName, NodeName.name),
    TaintToleration.name: _no_args(TaintToleration, TaintToleration.name),
    NodeAffinity.name: NodeAffinity,
    NodePorts.name: _no_args(NodePorts, NodePorts.name),
    NodeResourcesFit.name: NodeResourcesFit,
    VolumeBinding.name: VolumeBinding,
    PodTopologySpread.name: PodTopologySpread,
    InterPodAffinity.name: InterPodAffinity,
    DefaultPreemption.name: DefaultPreemption,
    NodeResourcesBalancedAllocation.name: NodeResourcesBalancedAllocation,
    ImageLocality.name: lambda args, handle: ImageLocality(args, handle),
    DefaultBinder.name: DefaultBinder,
}

#: Upstream's default profile (KubeSchedulerConfiguration v1, 1.33): every plugin enabled
#: through ``multiPoint``, in this order, with these score weights.
DEFAULT_MULTI_POINT: tuple[tuple[str, int], ...] = (
    (SchedulingGates.name, 0),
    (PrioritySort.name, 0),
    (NodeUnschedulable.name, 0),
    (NodeName.name, 0),
    (TaintToleration.name, 3),
    (NodeAffinity.name, 2),
    (NodePorts.name, 0),
    (NodeResourcesFit.name, 1),
    (VolumeBinding.name, 0),
    (PodTopologySpread.name, 2),
    (InterPodAffinity.name, 2),
    (DefaultPreemption.name, 0),
    (NodeResourcesBalancedAllocation.name, 1),
    (ImageLocality.name, 1),
    (DefaultBinder.name, 0),
)

__all__ = [
    "DEFAULT_MULTI_POINT",
    "IN_TREE_REGISTRY",
    "DefaultBinder",
    "DefaultPreemption",
    "ImageLocality",
    "InterPodAffinity",
    "NodeAffinity",
    "NodeName",
    "NodePorts",
    "NodeResourcesBalancedAllocation",
    "NodeResourcesFit",
    "NodeUnschedulable",
    "PluginFactory",
    "PodTopologySpread",
    "PrioritySort",
    "Registry",
    "SchedulingGates",
    "TaintToleration",
    "VolumeBinding",
]
