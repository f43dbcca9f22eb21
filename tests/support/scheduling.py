"""Builders for scheduler tests: Node and Pod objects, and a pure scheduling core.

Objects are plain dicts shaped like the API's. ``make_core`` wires the real cache, queue,
frameworks and algorithm (:func:`kybernetes.scheduler.build_core`) over an in-memory
cluster, a fake clock and a seeded random generator, so every test is deterministic.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping
from typing import Any

from kybernetes.client import FakeClock
from kybernetes.scheduler import (
    CycleState,
    Failed,
    NodeInfo,
    NullAPI,
    PodInfo,
    Scheduled,
    SchedulerConfig,
    SchedulingCore,
    StaticCluster,
    build_core,
    default_config,
    parse_config,
)

Obj = dict[str, Any]
_uids = itertools.count(1)


def make_node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "16Gi",
    pods: str = "110",
    labels: Mapping[str, str] | None = None,
    taints: Iterable[Mapping[str, Any]] = (),
    unschedulable: bool = False,
    images: Iterable[tuple[list[str], int]] = (),
    extra: Mapping[str, str] | None = None,
) -> Obj:
    allocatable = {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}
    node: Obj = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": f"node-uid-{name}",
            "labels": {"kubernetes.io/hostname": name, **(labels or {})},
        },
        "spec": {},
        "status": {
            "allocatable": allocatable,
            "capacity": dict(allocatable),
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }
    if taints:
        node["spec"]["taints"] = [dict(t) for t in taints]
    if unschedulable:
        node["spec"]["unschedulable"] = True
    if images:
        node["status"]["images"] = [{"names": n, "sizeBytes": s} for n, s in images]
    return node


def make_pod(
    name: str,
    *,
    namespace: str = "default",
    cpu: str | None = None,
    memory: str | None = None,
    labels: Mapping[str, str] | None = None,
    node_name: str = "",
    priority: int | None = None,
    spec: Mapping[str, Any] | None = None,
    image: str = "registry.k8s.io/pause:3.10",
    uid: str | None = None,
    status: Mapping[str, Any] | None = None,
    scheduler_name: str | None = None,
) -> Obj:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: Obj = {"name": "c", "image": image}
    if requests:
        container["resources"] = {"requests": requests}
    pod_spec: Obj = {"containers": [container], **(spec or {})}
    if node_name:
        pod_spec["nodeName"] = node_name
    if priority is not None:
        pod_spec["priority"] = priority
    if scheduler_name:
        pod_spec["schedulerName"] = scheduler_name
    pod: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid or f"uid-{name}-{next(_uids)}",
            "labels": dict(labels or {}),
            "creationTimestamp": "2025-01-01T00:00:00Z",
        },
        "spec": pod_spec,
        "status": dict(status or {"phase": "Pending"}),
    }
    return pod


def node_info(node: Obj, *pods: Obj) -> NodeInfo:
    info = NodeInfo(node)
    for pod in pods:
        info.add_pod(PodInfo(pod))
    return info


def make_core(
    nodes: Iterable[Obj] = (),
    pods: Iterable[Obj] = (),
    *,
    config: SchedulerConfig | Mapping[str, Any] | None = None,
    cluster: StaticCluster | None = None,
    seed: int = 0,
    clock: FakeClock | None = None,
) -> SchedulingCore:
    """A core with ``nodes`` and the assigned ``pods`` in its cache."""
    if config is None:
        config = default_config()
    elif not isinstance(config, SchedulerConfig):
        config = parse_config(config)
    core = build_core(
        config,
        cluster=cluster or StaticCluster(),
        api=NullAPI(),
        clock=clock or FakeClock(),
        rng=random.Random(seed),
    )
    for node in nodes:
        core.cache.add_node(node)
    for pod in pods:
        core.cache.add_pod(pod)
    return core


async def schedule(core: SchedulingCore, pod: Obj) -> Scheduled | Failed | None:
    """Queue ``pod``, pop it and run its scheduling cycle; a success is confirmed in the
    cache (as if the binding had been observed)."""
    core.queue.add(pod)
    qpi = await core.queue.pop()
    outcome = core.schedule_one(qpi)
    if isinstance(outcome, Scheduled):
        core.cache.finish_binding(outcome.assumed)
        core.queue.done(outcome.assumed.uid)
    elif isinstance(outcome, Failed):
        qpi.unschedulable_plugins = set(outcome.plugins)
        core.queue.add_unschedulable(qpi, error=outcome.is_error)
    return outcome


def fresh_state() -> CycleState:
    return CycleState()
