"""The ReplicaSet controller (and the ReplicationController one: same loop, other kind).

``sync(namespace/name)``: claim the active pods of the namespace (adopt matching orphans,
release owned pods that stopped matching), then, unless creations or deletions it asked
for are still unobserved (:mod:`._expectations`), create pods from the template or
delete the pods upstream's ranking puts first until the count matches ``spec.replicas``.
Creations go in slow-start batches (1, 2, 4, ...; at most 500 per sync) that stop at the
first failure, so a quota or admission refusal costs one request, not hundreds. Finally
the status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
observedGeneration) is written through ``/status`` when it changed, and the key is
requeued for when a Ready pod reaches ``minReadySeconds``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.api import LabelSelector, ResourceInfo, label_selector_from_api
from kybernetes.client import (
    NAMESPACE_INDEX,
    WARNING,
    DeletedFinalStateUnknown,
    Informer,
    NotFound,
    object_key,
)
from kybernetes.controllers._base import (
    PODS,
    REPLICA_SETS,
    REPLICATION_CONTROLLERS,
    ControllerContext,
    enqueue_handlers,
    unwrap,
)
from kybernetes.controllers._claim import claim
from kybernetes.controllers._expectations import Expectations
from kybernetes.controllers._podutil import (
    available_in,
    controller_ref,
    deletion_order,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    is_terminating,
    labels,
    meta,
    pod_from_template,
)

log = logging.getLogger("kyb.controllers.replicaset")

Object = dict[str, Any]

#: Upstream's burstReplicas: the most pods created or deleted in one sync.
BURST_REPLICAS = 500
SLOW_START_INITIAL_BATCH = 1


def selector_of(obj: Mapping[str, Any], info: ResourceInfo) -> LabelSelector:
    spec = obj.get("spec") or {}
    if info is REPLICATION_CONTROLLERS:
        # An RC selects by a plain map, defaulting to the template's labels.
        sel = spec.get("selector") or ((spec.get("template") or {}).get("metadata") or {}).get(
            "labels"
        )
        return LabelSelector.from_set(sel) if sel else LabelSelector.nothing()
    return label_selector_from_api(spec.get("selector"))


class ReplicaSetController:
    def __init__(self, ctx: ControllerContext, info: ResourceInfo = REPLICA_SETS) -> None:
        self.info = info
        self.name = "replicaset" if info is REPLICA_SETS else "replicationcontroller"
        self.ctx = ctx
        self.client = ctx.client
        self.clock = ctx.clock
        self.queue = ctx.queue(self.name)
        self.expectations = Expectations(ctx.clock)
        self.rs_informer = ctx.factory.informer(info)
        self.pod_informer = ctx.factory.informer(PODS)
        self.rs_informer.add_event_handler(**enqueue_handlers(self.queue))
        self.pod_informer.add_event_handler(
            on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted
        )

    def informers(self) -> Sequence[Informer]:
        return (self.rs_informer, self.pod_informer)

    # -- handlers: compute keys, note observations, enqueue --------------------------------

    def _owner_key(self, pod: Mapping[str, Any]) -> str | None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != self.info.kind:
            return None
        key = f"{meta(pod).get('namespace')}/{ref.get('name')}"
        owner = self.rs_informer.cache.get(key)
        if owner is None or meta(owner).get("uid") != ref.get("uid"):
            return None
        return key

    def _enqueue_matching(self, pod: Mapping[str, Any]) -> None:
        namespace = meta(pod).get("namespace") or ""
        for rs in self.rs_informer.cache.by_index(NAMESPACE_INDEX, namespace):
            try:
                if selector_of(rs, self.info).matches(labels(pod)):
                    self.queue.add(object_key(rs))
            except ValueError:
                continue

    def _pod_added(self, pod: Object) -> None:
        if is_terminating(pod):
            self._pod_deleted(pod)
            return
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif controller_ref(pod) is None:
            self._enqueue_matching(pod)

    def _pod_updated(self, old: Object, new: Object) -> None:
        if is_terminating(new) and not is_terminating(old):
            key = self._owner_key(new)
            if key is not None:
                self.expectations.deletion_observed(key, meta(new).get("uid") or "")
        old_key, new_key = self._owner_key(old), self._owner_key(new)
        for key in {old_key, new_key} - {None}:
            assert key is not None
            self.queue.add(key)
        if controller_ref(new) is None and (labels(old) != labels(new) or old_key):
            self._enqueue_matching(new)

    def _pod_deleted(self, obj: Object | DeletedFinalStateUnknown) -> None:
        pod = unwrap(obj)
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, meta(pod).get("uid") or "")
            self.queue.add(key)

    # -- sync --------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        rs = self.rs_informer.cache.get(key)
        if rs is None:
            self.expectations.forget(key)
            return
        try:
            selector = selector_of(rs, self.info)
        except ValueError as e:
            self.ctx.recorder.event(rs, WARNING, "InvalidSelector", str(e))
            return
        namespace = meta(rs).get("namespace") or ""
        candidates = [
            p
            for p in self.pod_informer.cache.by_index(NAMESPACE_INDEX, namespace)
            if is_pod_active(p)
        ]
        pods = await claim(self.client, rs, self.info, selector, candidates, PODS)
        error: Exception | None = None
        if self.expectations.satisfied(key) and not is_terminating(rs):
            try:
                await self._manage_replicas(key, rs, pods)
            except Exception as e:  # still write status, then retry
                error = e
        await self._update_status(rs, pods, selector)
        if error is not None:
            raise error

    async def _manage_replicas(
        self, key: str, rs: Mapping[str, Any], pods: list[Mapping[str, Any]]
    ) -> None:
        want = int((rs.get("spec") or {}).get("replicas", 1))
        diff = len(pods) - want
        if diff < 0:
            count = min(-diff, BURST_REPLICAS)
            self.expectations.expect_creations(key, count)
            template = (rs.get("spec") or {}).get("template") or {}
            created, error = await self._slow_start(count, rs, template)
            if created < count:
                # The creations never made will never be observed.
                self.expectations.lower_creations(key, count - created)
            if error is not None:
                raise error
        elif diff > 0:
            victims = deletion_order(pods)[: min(diff, BURST_REPLICAS)]
            uids = {meta(p).get("uid") or "" for p in victims}
            self.expectations.expect_deletions(key, uids)
            results = await asyncio.gather(
                *(self._delete_pod(p) for p in victims), return_exceptions=True
            )
            errors = [r for r in results if isinstance(r, Exception)]
            for pod, result in zip(victims, results, strict=True):
                if isinstance(result, Exception):
                    self.expectations.deletion_observed(key, meta(pod).get("uid") or "")
            if errors:
                raise errors[0]

    async def _slow_start(
        self, count: int, rs: Mapping[str, Any], template: Mapping[str, Any]
    ) -> tuple[int, Exception | None]:
        created = 0
        batch = min(SLOW_START_INITIAL_BATCH, count)
        while batch > 0:
            results = await asyncio.gather(
                *(self._create_pod(rs, template) for _ in range(batch)), return_exceptions=True
            )
            errors = [r for r in results if isinstance(r, BaseException)]
            created += batch - len(errors)
            if errors:
                err = errors[0]
                if not isinstance(err, Exception):
                    raise err
                self.ctx.recorder.event(rs, WARNING, "FailedCreate", f"Error creating: {err}")
                return created, err
            remaining = count - created
            batch = min(2 * batch, remaining)
        return created, None

    async def _create_pod(self, rs: Mapping[str, Any], template: Mapping[str, Any]) -> None:
        pod = pod_from_template(template, rs, self.info)
        made = await self.client.create(PODS, pod)
        self.ctx.recorder.event(
            rs, "Normal", "SuccessfulCreate", f"Created pod: {meta(made).get('name')}"
        )

    async def _delete_pod(self, pod: Mapping[str, Any]) -> None:
        m = meta(pod)
        try:
            await self.client.delete(
                PODS, m["name"], namespace=m.get("namespace"), uid=m.get("uid")
            )
        except NotFound:
            return

    async def _update_status(
        self, rs: Mapping[str, Any], pods: list[Mapping[str, Any]], selector: LabelSelector
    ) -> None:
        spec = rs.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.clock.wall().timestamp()
        tmpl_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        full = LabelSelector.from_set(tmpl_labels)
        status: Object = copy.deepcopy(dict(rs.get("status") or {}))
        status["replicas"] = len(pods)
        status["fullyLabeledReplicas"] = sum(1 for p in pods if full.matches(labels(p)))
        status["readyReplicas"] = sum(1 for p in pods if is_pod_ready(p))
        status["availableReplicas"] = sum(1 for p in pods if is_pod_available(p, min_ready, now))
        status["observedGeneration"] = meta(rs).get("generation", 0)
        for field in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if not status[field]:
                del status[field]  # zero is omitted, as upstream serialises
        if status != (rs.get("status") or {}):
            body = copy.deepcopy(dict(rs))
            body["status"] = status
            try:
                await self.client.update(self.info, body, subresource="status")
            except NotFound:
                return
        # Requeue for the moment a Ready pod turns available.
        if min_ready > 0:
            waits = [
                w
                for p in pods
                if not is_pod_available(p, min_ready, now)
                and (w := available_in(p, min_ready, now)) is not None
            ]
            if waits:
                self.queue.add_after(object_key(rs), min(waits) + 0.5)


def new_replicaset_controller(ctx: ControllerContext) -> ReplicaSetController:
    return ReplicaSetController(ctx, REPLICA_SETS)


def new_replication_controller(ctx: ControllerContext) -> ReplicaSetController:
    return ReplicaSetController(ctx, REPLICATION_CONTROLLERS)
