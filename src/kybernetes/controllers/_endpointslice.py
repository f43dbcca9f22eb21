"""The EndpointSlice controller: a Service's pods as ``discovery.k8s.io/v1``
EndpointSlices, at most :data:`MAX_ENDPOINTS` endpoints each (upstream's default).

Slices are labelled ``kubernetes.io/service-name`` and
``endpointslice.kubernetes.io/managed-by``, owned by the Service (so the garbage
collector removes them with it), grouped by the set of ports the pods serve and by
address family. ``sync`` computes the desired slices and rewrites the existing managed
ones in place, creating or deleting slices only when their number changes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.api import LabelSelector
from kybernetes.client import NAMESPACE_INDEX, Informer, NotFound
from kybernetes.controllers._base import (
    ENDPOINT_SLICES,
    PODS,
    SERVICES,
    ControllerContext,
    enqueue_handlers,
)
from kybernetes.controllers._podutil import controller_ref, is_terminating, meta, owner_reference
from kybernetes.controllers._svcpods import (
    endpoint_ports,
    service_pods,
    service_selector,
    target_ref,
    watch_service_pods,
)

Object = dict[str, Any]

MAX_ENDPOINTS = 100
SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
CONTROLLER = "endpointslice-controller.k8s.io"


def desired_slices(
    svc: Mapping[str, Any], pods: Informer, max_endpoints: int = MAX_ENDPOINTS
) -> list[Object]:
    """(addressType, ports, endpoints) bodies of the slices the Service should have."""
    groups: dict[tuple[str, tuple[Any, ...]], list[Object]] = {}
    for pod, ready in service_pods(svc, pods):
        ip = str((pod.get("status") or {})["podIP"])
        family = "IPv6" if ":" in ip else "IPv4"
        ports = endpoint_ports(svc, pod)
        terminating = is_terminating(pod)
        endpoint: Object = {
            "addresses": [ip],
            "conditions": {
                "ready": ready and not terminating,
                "serving": ready,
                "terminating": terminating,
            },
            "targetRef": target_ref(pod),
        }
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            endpoint["nodeName"] = node
        groups.setdefault((family, ports), []).append(endpoint)
    out = []
    for (family, ports), endpoints in sorted(groups.items(), key=lambda kv: repr(kv[0])):
        for start in range(0, len(endpoints), max_endpoints):
            out.append(
                {
                    "addressType": family,
                    "ports": [_port(p) for p in ports],
                    "endpoints": endpoints[start : start + max_endpoints],
                }
            )
    return out


def _port(p: tuple[Any, ...]) -> Object:
    name, number, protocol, app = p
    out: Object = {"name": name, "port": number, "protocol": protocol}
    if app:
        out["appProtocol"] = app
    return out


class EndpointSliceController:
    name = "endpointslice"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.queue = ctx.queue(self.name)
        self.svc_informer = ctx.factory.informer(SERVICES)
        self.pod_informer = ctx.factory.informer(PODS)
        self.slice_informer = ctx.factory.informer(ENDPOINT_SLICES)
        self.svc_informer.add_event_handler(**enqueue_handlers(self.queue))
        self.slice_informer.add_event_handler(**enqueue_handlers(self.queue, key=self._service_key))
        watch_service_pods(self.queue, self.svc_informer, self.pod_informer)

    def informers(self) -> Sequence[Informer]:
        return (self.svc_informer, self.pod_informer, self.slice_informer)

    @staticmethod
    def _service_key(slc: Object) -> str | None:
        lbls = meta(slc).get("labels") or {}
        if lbls.get(MANAGED_BY) != CONTROLLER or not lbls.get(SERVICE_NAME):
            return None
        return f"{meta(slc).get('namespace')}/{lbls[SERVICE_NAME]}"

    def _existing(self, namespace: str, name: str) -> list[Mapping[str, Any]]:
        mine = LabelSelector.from_set({SERVICE_NAME: name, MANAGED_BY: CONTROLLER})
        return sorted(
            (
                s
                for s in self.slice_informer.cache.by_index(NAMESPACE_INDEX, namespace)
                if mine.matches(meta(s).get("labels") or {})
            ),
            key=lambda s: str(meta(s).get("name")),
        )

    async def sync(self, key: str) -> None:
        namespace, _, name = key.partition("/")
        svc = self.svc_informer.cache.get(key)
        existing = self._existing(namespace, name)
        if svc is None or service_selector(svc) is None:
            for slc in existing:
                await self._delete(slc)
            return
        desired = desired_slices(svc, self.pod_informer)
        if not desired:
            # An empty slice still says "this Service has no endpoints".
            desired = [{"addressType": "IPv4", "ports": [], "endpoints": []}]
        labels = {**(meta(svc).get("labels") or {}), SERVICE_NAME: name, MANAGED_BY: CONTROLLER}
        for i, want in enumerate(desired):
            if i < len(existing):
                await self._update(existing[i], want, labels, svc)
            else:
                body = {
                    "apiVersion": ENDPOINT_SLICES.api_version,
                    "kind": ENDPOINT_SLICES.kind,
                    "metadata": {
                        "generateName": f"{name}-",
                        "namespace": namespace,
                        "labels": labels,
                        "ownerReferences": [owner_reference(svc, SERVICES)],
                    },
                    **want,
                }
                await self.client.create(ENDPOINT_SLICES, body)
        for slc in existing[len(desired) :]:
            await self._delete(slc)

    async def _update(
        self, slc: Mapping[str, Any], want: Object, labels: dict[str, str], svc: Mapping[str, Any]
    ) -> None:
        ref = controller_ref(slc)
        same = (
            slc.get("addressType") == want["addressType"]
            and (slc.get("ports") or []) == want["ports"]
            and (slc.get("endpoints") or []) == want["endpoints"]
            and (meta(slc).get("labels") or {}) == labels
            and ref is not None
            and ref.get("uid") == meta(svc).get("uid")
        )
        if same:
            return
        if slc.get("addressType") != want["addressType"]:
            await self._delete(slc)  # addressType is immutable
            return
        body = copy.deepcopy(dict(slc))
        body.update(copy.deepcopy(want))
        body["metadata"]["labels"] = labels
        body["metadata"]["ownerReferences"] = [owner_reference(svc, SERVICES)]
        await self.client.update(ENDPOINT_SLICES, body)

    async def _delete(self, slc: Mapping[str, Any]) -> None:
        m = meta(slc)
        try:
            await self.client.delete(
                ENDPOINT_SLICES, m["name"], namespace=m.get("namespace"), uid=m.get("uid")
            )
        except NotFound:
            return
