"""The Endpoints controller: one ``Endpoints`` object per Service with a selector, listing
the ready (``addresses``) and not-ready (``notReadyAddresses``) pod IPs per set of ports.

Services without a selector are left alone (their Endpoints are written by hand); the
Endpoints of a deleted Service are deleted.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.client import AlreadyExists, Informer, NotFound
from kybernetes.controllers._base import (
    ENDPOINTS,
    PODS,
    SERVICES,
    ControllerContext,
    enqueue_handlers,
)
from kybernetes.controllers._podutil import meta
from kybernetes.controllers._svcpods import (
    endpoint_ports,
    service_pods,
    service_selector,
    target_ref,
    watch_service_pods,
)

Object = dict[str, Any]


def desired_subsets(svc: Mapping[str, Any], pods: Informer) -> list[Object]:
    groups: dict[tuple[Any, ...], tuple[list[Object], list[Object]]] = {}
    for pod, ready in service_pods(svc, pods):
        ports = endpoint_ports(svc, pod)
        if not ports and (svc.get("spec") or {}).get("ports"):
            continue
        address: Object = {"ip": (pod.get("status") or {})["podIP"], "targetRef": target_ref(pod)}
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            address["nodeName"] = node
        ready_list, not_ready = groups.setdefault(ports, ([], []))
        (ready_list if ready else not_ready).append(address)
    subsets = []
    for ports, (ready_list, not_ready) in groups.items():
        subset: Object = {}
        if ready_list:
            subset["addresses"] = ready_list
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        if ports:
            subset["ports"] = [_port(p) for p in ports]
        subsets.append(subset)
    return subsets


def _port(p: tuple[Any, ...]) -> Object:
    name, number, protocol, app = p
    out: Object = {"port": number, "protocol": protocol}
    if name:
        out["name"] = name
    if app:
        out["appProtocol"] = app
    return out


class EndpointsController:
    name = "endpoint"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.queue = ctx.queue(self.name)
        self.svc_informer = ctx.factory.informer(SERVICES)
        self.pod_informer = ctx.factory.informer(PODS)
        self.ep_informer = ctx.factory.informer(ENDPOINTS)
        self.svc_informer.add_event_handler(**enqueue_handlers(self.queue))
        self.ep_informer.add_event_handler(**enqueue_handlers(self.queue))
        watch_service_pods(self.queue, self.svc_informer, self.pod_informer)

    def informers(self) -> Sequence[Informer]:
        return (self.svc_informer, self.pod_informer, self.ep_informer)

    async def sync(self, key: str) -> None:
        svc = self.svc_informer.cache.get(key)
        current = self.ep_informer.cache.get(key)
        namespace, _, name = key.partition("/")
        if svc is None:
            if current is not None:
                try:
                    await self.client.delete(
                        ENDPOINTS, name, namespace=namespace, uid=meta(current).get("uid")
                    )
                except NotFound:
                    pass
            return
        if service_selector(svc) is None:
            return
        subsets = desired_subsets(svc, self.pod_informer)
        wanted_labels = dict(meta(svc).get("labels") or {})
        if (svc.get("spec") or {}).get("clusterIP") == "None":
            wanted_labels["service.kubernetes.io/headless"] = ""
        if current is None:
            new: Object = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name, "namespace": namespace, "labels": wanted_labels},
                "subsets": subsets,
            }
            try:
                await self.client.create(ENDPOINTS, new)
            except AlreadyExists:
                raise RuntimeError(f"endpoints {key} exist but are not cached yet") from None
            return
        if (current.get("subsets") or []) == subsets and (
            meta(current).get("labels") or {}
        ) == wanted_labels:
            return
        body: Object = copy.deepcopy(dict(current))
        body["subsets"] = subsets
        body["metadata"]["labels"] = wanted_labels
        await self.client.update(ENDPOINTS, body)
