"""The scheduler: the scheduling framework, its in-tree plugins, and ``kyb scheduler``.

Layers, each usable on its own:

* the framework vocabulary (:mod:`._framework`): :class:`CycleState`, one small protocol
  per extension point, :class:`Handle`; plugin answers are ``None`` or a :class:`Status`;
* the pure core: :class:`SchedulerCache` (nodes and their pods, assumed ones included),
  :class:`SchedulingQueue` (active/backoff/unschedulable, queueing hints, nominations),
  :class:`Framework` (one profile's plugins), :class:`Algorithm` (filter, score, select)
  and :class:`SchedulingCore` (one pod's scheduling cycle); no I/O anywhere;
* configuration (:func:`load_config`, :func:`parse_config`) and the plugin registry
  (:data:`IN_TREE_REGISTRY`);
* the process (:class:`Scheduler`): informers, binding through ``pods/binding``, status
  and events, leader election.

It depends on :mod:`kybernetes.api` and :mod:`kybernetes.client` only.
"""

from kybernetes.scheduler._algorithm import (
    Algorithm,
    NoNodesAvailable,
    ScheduleResult,
    num_feasible_nodes_to_find,
)
from kybernetes.scheduler._assembly import NullAPI, StaticCluster, build_core
from kybernetes.scheduler._cache import SchedulerCache
from kybernetes.scheduler._config import (
    LeaderElectionSettings,
    PluginRef,
    PluginSet,
    ProfileConfig,
    SchedulerConfig,
    default_config,
    load_config,
    parse_config,
)
from kybernetes.scheduler._cycle import Failed, Scheduled, SchedulingCore
from kybernetes.scheduler._events import (
    QUEUE,
    QUEUE_SKIP,
    ActionType,
    ClusterEvent,
    ClusterEventWithHint,
    QueueingHint,
    Resource,
)
from kybernetes.scheduler._fiterror import Diagnosis, FitError
from kybernetes.scheduler._framework import (
    MAX_NODE_SCORE,
    CycleState,
    PostFilterResult,
    PreFilterResult,
)
from kybernetes.scheduler._handle import (
    AlreadyBound,
    ClusterAPI,
    ClusterLister,
    Handle,
    NodeInfoLister,
    WaitingPod,
    WaitingPods,
)
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._queue import QueuedPodInfo, SchedulingQueue
from kybernetes.scheduler._runtime import Framework
from kybernetes.scheduler._scheduler import Scheduler
from kybernetes.scheduler._status import (
    SKIP,
    WAIT,
    Code,
    ConfigError,
    PluginError,
    Status,
    error,
    is_success,
    unresolvable,
    unschedulable,
)
from kybernetes.scheduler.plugins import IN_TREE_REGISTRY, Registry

__all__ = [
    "IN_TREE_REGISTRY",
    "MAX_NODE_SCORE",
    "QUEUE",
    "QUEUE_SKIP",
    "SKIP",
    "WAIT",
    "ActionType",
    "Algorithm",
    "AlreadyBound",
    "ClusterAPI",
    "ClusterEvent",
    "ClusterEventWithHint",
    "ClusterLister",
    "Code",
    "ConfigError",
    "CycleState",
    "Diagnosis",
    "Failed",
    "FitError",
    "Framework",
    "Handle",
    "LeaderElectionSettings",
    "NoNodesAvailable",
    "NodeInfo",
    "NodeInfoLister",
    "NullAPI",
    "PluginError",
    "PluginRef",
    "PluginSet",
    "PodInfo",
    "PostFilterResult",
    "PreFilterResult",
    "ProfileConfig",
    "QueuedPodInfo",
    "QueueingHint",
    "Registry",
    "Resource",
    "ScheduleResult",
    "Scheduled",
    "Scheduler",
    "SchedulerCache",
    "SchedulerConfig",
    "SchedulingCore",
    "SchedulingQueue",
    "StaticCluster",
    "Status",
    "WaitingPod",
    "WaitingPods",
    "build_core",
    "default_config",
    "error",
    "is_success",
    "load_config",
    "num_feasible_nodes_to_find",
    "parse_config",
    "unresolvable",
    "unschedulable",
]
