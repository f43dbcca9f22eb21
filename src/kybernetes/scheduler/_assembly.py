"""Putting the pure core together: cache, queue, one framework per profile, algorithm.

:func:`build_core` is what the scheduler process, the tests and the benchmark all use, so
they run the same code. :class:`StaticCluster` is an in-memory :class:`ClusterLister`
(tests, benchmark); the process uses informer caches instead.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kybernetes.client import Clock
from kybernetes.scheduler._algorithm import Algorithm
from kybernetes.scheduler._cache import SchedulerCache
from kybernetes.scheduler._config import SchedulerConfig
from kybernetes.scheduler._cycle import SchedulingCore
from kybernetes.scheduler._handle import ClusterAPI, ClusterLister, Handle, WaitingPods
from kybernetes.scheduler._queue import QueueProfile, SchedulingQueue
from kybernetes.scheduler._runtime import Framework
from kybernetes.scheduler._status import ConfigError
from kybernetes.scheduler.plugins import IN_TREE_REGISTRY, Registry

Object = Mapping[str, Any]


def _meta(obj: Object) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


@dataclass
class StaticCluster:
    """A :class:`ClusterLister` over plain lists of objects."""

    pvcs: list[Object] = field(default_factory=list)
    pvs: list[Object] = field(default_factory=list)
    storage_classes: list[Object] = field(default_factory=list)
    pdb_list: list[Object] = field(default_factory=list)
    namespace_list: list[Object] = field(default_factory=list)
    service_list: list[Object] = field(default_factory=list)
    controllers: list[Object] = field(default_factory=list)

    def pvc(self, namespace: str, name: str) -> Object | None:
        return next(
            (
                o
                for o in self.pvcs
                if _meta(o).get("namespace") == namespace and _meta(o).get("name") == name
            ),
            None,
        )

    def pv(self, name: str) -> Object | None:
        return next((o for o in self.pvs if _meta(o).get("name") == name), None)

    def storage_class(self, name: str) -> Object | None:
        return next((o for o in self.storage_classes if _meta(o).get("name") == name), None)

    def pdbs(self) -> Sequence[Object]:
        return self.pdb_list

    def namespace_labels(self, name: str) -> Mapping[str, str] | None:
        ns = next((o for o in self.namespace_list if _meta(o).get("name") == name), None)
        return (_meta(ns).get("labels") or {}) if ns is not None else None

    def namespaces(self) -> Sequence[Object]:
        return self.namespace_list

    def services(self, namespace: str) -> Sequence[Object]:
        return [o for o in self.service_list if _meta(o).get("namespace") == namespace]

    def controller(self, kind: str, namespace: str, name: str) -> Object | None:
        return next(
            (
                o
                for o in self.controllers
                if o.get("kind") == kind
                and _meta(o).get("namespace") == namespace
                and _meta(o).get("name") == name
            ),
            None,
        )


class NullAPI:
    """A :class:`ClusterAPI` that writes nothing (the pure benchmark, unit tests)."""

    def __init__(self) -> None:
        self.bound: list[tuple[str, str]] = []

    async def bind(self, pod: Object, node_name: str) -> None:
        self.bound.append((f"{_meta(pod).get('namespace')}/{_meta(pod).get('name')}", node_name))

    async def annotate_pvc(self, namespace: str, name: str, annotations: Mapping[str, str]) -> None:
        return None


def build_core(
    config: SchedulerConfig,
    *,
    cluster: ClusterLister,
    api: ClusterAPI,
    clock: Clock,
    registry: Registry = IN_TREE_REGISTRY,
    rng: random.Random | None = None,
) -> SchedulingCore:
    """The scheduling core for ``config``; raises ConfigError for a profile that cannot be
    built (a plugin at a point it does not implement, bad plugin args, ...)."""
    rng = rng or random.Random()
    cache = SchedulerCache()
    profiles: dict[str, QueueProfile] = {}
    queue = SchedulingQueue(
        profiles,
        clock,
        initial_backoff=config.pod_initial_backoff_seconds,
        max_backoff=config.pod_max_backoff_seconds,
    )
    frameworks: dict[str, Framework] = {}
    waiting = WaitingPods()
    for profile in config.profiles:
        handle = Handle(
            snapshot=cache, cluster=cluster, api=api, nominator=queue, rng=rng, waiting_pods=waiting
        )
        frameworks[profile.scheduler_name] = Framework(
            profile, registry, handle, percentage=config.percentage_of_nodes_to_score
        )
    sorts = {fwk.queue_sort.name for fwk in frameworks.values()}
    if len(sorts) != 1:
        raise ConfigError(f"all profiles must use the same queueSort plugin, got {sorted(sorts)}")
    queue.sort_key = next(iter(frameworks.values())).queue_sort.sort_key
    profiles.update(frameworks)
    return SchedulingCore(frameworks, cache, queue, Algorithm(cache, rng))
