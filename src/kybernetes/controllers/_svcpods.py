"""What Endpoints and EndpointSlices are computed from: a Service's pods and ports. Pure,
plus the handler wiring both controllers share (pod changes enqueue the Services whose
selectors match the pod before or after the change)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kybernetes.api import LabelSelector
from kybernetes.client import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    Informer,
    WorkQueue,
    object_key,
)
from kybernetes.controllers._base import unwrap
from kybernetes.controllers._podutil import is_pod_ready, is_terminating, labels, meta

Object = dict[str, Any]


def service_selector(svc: Mapping[str, Any]) -> LabelSelector | None:
    """The pods a Service selects (None: no selector, its endpoints are managed by hand)."""
    sel = (svc.get("spec") or {}).get("selector")
    return LabelSelector.from_set(sel) if sel else None


def resolve_target_port(port: Mapping[str, Any], pod: Mapping[str, Any]) -> int | None:
    """The pod port a Service port sends to (a named target port looked up in the pod)."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = port.get("protocol", "TCP")
    for container in (pod.get("spec") or {}).get("containers") or ():
        for cport in container.get("ports") or ():
            if cport.get("name") == target and cport.get("protocol", "TCP") == protocol:
                return int(cport["containerPort"])
    return None


def endpoint_ports(svc: Mapping[str, Any], pod: Mapping[str, Any]) -> tuple[tuple[Any, ...], ...]:
    """(name, port, protocol, appProtocol) per Service port the pod can serve."""
    out = []
    for port in (svc.get("spec") or {}).get("ports") or ():
        number = resolve_target_port(port, pod)
        if number is None:
            continue
        out.append(
            (port.get("name") or "", number, port.get("protocol", "TCP"), port.get("appProtocol"))
        )
    return tuple(sorted(out))


def service_pods(svc: Mapping[str, Any], pods: Informer) -> list[tuple[Mapping[str, Any], bool]]:
    """(pod, ready) for every pod with an IP the Service selects; ``ready`` honours
    ``publishNotReadyAddresses``. Finished pods are left out; terminating ones only when
    not-ready addresses are published."""
    selector = service_selector(svc)
    if selector is None:
        return []
    publish = bool((svc.get("spec") or {}).get("publishNotReadyAddresses"))
    out: list[tuple[Mapping[str, Any], bool]] = []
    for pod in pods.cache.by_index(NAMESPACE_INDEX, meta(svc).get("namespace") or ""):
        if not selector.matches(labels(pod)):
            continue
        status = pod.get("status") or {}
        if not status.get("podIP") or status.get("phase") in ("Succeeded", "Failed"):
            continue
        if is_terminating(pod) and not publish:
            continue
        out.append((pod, publish or is_pod_ready(pod)))
    out.sort(key=lambda item: str((item[0].get("status") or {}).get("podIP")))
    return out


def target_ref(pod: Mapping[str, Any]) -> Object:
    m = meta(pod)
    return {
        "kind": "Pod",
        "namespace": m.get("namespace"),
        "name": m.get("name"),
        "uid": m.get("uid"),
    }


def watch_service_pods(queue: WorkQueue[str], services: Informer, pods: Informer) -> None:
    """Pod changes enqueue the Services that select the pod (before or after)."""

    def enqueue_for(pod: Mapping[str, Any]) -> None:
        namespace = meta(pod).get("namespace") or ""
        for svc in services.cache.by_index(NAMESPACE_INDEX, namespace):
            selector = service_selector(svc)
            if selector is not None and selector.matches(labels(pod)):
                queue.add(object_key(svc))

    def update(old: Object, new: Object) -> None:
        enqueue_for(new)
        if labels(old) != labels(new):
            enqueue_for(old)

    def delete(obj: Object | DeletedFinalStateUnknown) -> None:
        enqueue_for(unwrap(obj))

    pods.add_event_handler(on_add=enqueue_for, on_update=update, on_delete=delete)
