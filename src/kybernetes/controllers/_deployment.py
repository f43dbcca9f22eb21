"""The Deployment controller: ReplicaSets per pod template, rolled over by a strategy.

``sync(namespace/name)`` claims the ReplicaSets the selector matches, then:

* being deleted: only the status is refreshed;
* paused, or a scaling event (an active ReplicaSet whose ``desired-replicas`` annotation
  differs from ``spec.replicas``): scale (proportionally across active ReplicaSets
  mid-rollout), clean up history when paused, refresh the status;
* otherwise roll out (:mod:`._deployment_rollout`): ``RollingUpdate`` within
  maxSurge/maxUnavailable, or ``Recreate`` (all old pods gone before the new ones).

The new ReplicaSet is the oldest one whose template equals the Deployment's apart from
the ``pod-template-hash`` label; a rollback (the template set back to an old one) thus
reuses that ReplicaSet and gives it the next revision. Its name is
``<deployment>-<hash>``; a name taken by a different template bumps
``status.collisionCount`` and retries with a new hash.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.api import label_selector_from_api
from kybernetes.client import (
    NAMESPACE_INDEX,
    NORMAL,
    WARNING,
    AlreadyExists,
    DeletedFinalStateUnknown,
    Informer,
    NotFound,
    object_key,
)
from kybernetes.controllers import _deployment_util as du
from kybernetes.controllers._base import (
    DEPLOYMENTS,
    PODS,
    REPLICA_SETS,
    ControllerContext,
    enqueue_handlers,
    unwrap,
)
from kybernetes.controllers._claim import claim
from kybernetes.controllers._deployment_rollout import RolloutMixin
from kybernetes.controllers._podutil import (
    controller_ref,
    format_time,
    is_terminating,
    labels,
    meta,
    owner_reference,
)

log = logging.getLogger("kyb.controllers.deployment")

Object = dict[str, Any]


class DeploymentController(RolloutMixin):
    name = "deployment"

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.queue = ctx.queue(self.name)
        self.d_informer = ctx.factory.informer(DEPLOYMENTS)
        self.rs_informer = ctx.factory.informer(REPLICA_SETS)
        self.pod_informer = ctx.factory.informer(PODS)
        self.d_informer.add_event_handler(**enqueue_handlers(self.queue))
        self.rs_informer.add_event_handler(
            on_add=self._rs_changed,
            on_update=self._rs_updated,
            on_delete=lambda obj: self._rs_changed(unwrap(obj)),
        )
        self.pod_informer.add_event_handler(on_delete=self._pod_deleted)

    def informers(self) -> Sequence[Informer]:
        return (self.d_informer, self.rs_informer, self.pod_informer)

    # -- handlers ----------------------------------------------------------------------

    def _rs_changed(self, rs: Mapping[str, Any]) -> None:
        namespace = meta(rs).get("namespace") or ""
        ref = controller_ref(rs)
        if ref is not None:
            if ref.get("kind") == DEPLOYMENTS.kind:
                self.queue.add(f"{namespace}/{ref.get('name')}")
            return
        for d in self.d_informer.cache.by_index(NAMESPACE_INDEX, namespace):
            try:
                if label_selector_from_api((d.get("spec") or {}).get("selector")).matches(
                    labels(rs)
                ):
                    self.queue.add(object_key(d))
            except ValueError:
                continue

    def _rs_updated(self, old: Object, new: Object) -> None:
        self._rs_changed(old)
        self._rs_changed(new)

    def _pod_deleted(self, obj: Object | DeletedFinalStateUnknown) -> None:
        # Recreate waits for old pods to be gone: their deletion is worth a look.
        pod = unwrap(obj)
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != REPLICA_SETS.kind:
            return
        rs = self.rs_informer.cache.get_by_name(ref.get("name") or "", meta(pod).get("namespace"))
        if rs is not None:
            self._rs_changed(rs)

    # -- sync --------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        d: Mapping[str, Any] | None = self.d_informer.cache.get(key)
        if d is None:
            return
        spec = d.get("spec") or {}
        try:
            selector = label_selector_from_api(spec.get("selector"))
        except ValueError as e:
            self.recorder.event(d, WARNING, "InvalidSelector", str(e))
            return
        if selector.empty:
            self.recorder.event(
                d,
                WARNING,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
            return
        namespace = meta(d).get("namespace") or ""
        candidates = self.rs_informer.cache.by_index(NAMESPACE_INDEX, namespace)
        rss = await claim(self.client, d, DEPLOYMENTS, selector, candidates, REPLICA_SETS)
        if is_terminating(d):
            new_rs, old = self.split(d, rss)
            await self.sync_status(d, new_rs, old)
            return
        d = await self.check_paused_condition(d)
        spec = d.get("spec") or {}
        if spec.get("paused"):
            await self.sync_scale(d, rss)
            return
        if self.is_scaling_event(d, rss):
            await self.sync_scale(d, rss)
            return
        if du.is_rolling(d):
            await self.rollout_rolling(d, rss)
        else:
            await self.rollout_recreate(d, rss)

    # -- ReplicaSets -------------------------------------------------------------------

    def split(
        self, d: Mapping[str, Any], rss: Sequence[Mapping[str, Any]]
    ) -> tuple[Mapping[str, Any] | None, list[Mapping[str, Any]]]:
        """(the new ReplicaSet or None, the others)."""
        template = (d.get("spec") or {}).get("template") or {}
        matching = [
            rs
            for rs in rss
            if du.equal_ignore_hash((rs.get("spec") or {}).get("template") or {}, template)
        ]
        new_rs = du.by_age(matching)[0] if matching else None
        return new_rs, [rs for rs in rss if rs is not new_rs]

    def _annotations_for(
        self, d: Mapping[str, Any], rs_annotations: Mapping[str, str], new_revision: int
    ) -> dict[str, str]:
        out = dict(rs_annotations)
        for k, v in (meta(d).get("annotations") or {}).items():
            if k not in du.NOT_COPIED:
                out[k] = v
        old = int(out.get(du.REVISION, 0) or 0)
        if old < new_revision:
            if old:
                history = [h for h in out.get(du.REVISION_HISTORY, "").split(",") if h]
                out[du.REVISION_HISTORY] = ",".join([*history, str(old)])
            out[du.REVISION] = str(new_revision)
        return out

    async def get_all(
        self, d: Mapping[str, Any], rss: Sequence[Mapping[str, Any]], *, create: bool
    ) -> tuple[Mapping[str, Any], Mapping[str, Any] | None, list[Mapping[str, Any]]]:
        """(the deployment as now stored, the new ReplicaSet, the old ones); creates the new
        ReplicaSet when asked and keeps revisions in step."""
        new_rs, old = self.split(d, rss)
        new_revision = max((du.revision(rs) for rs in old), default=0) + 1
        if new_rs is not None:
            annotations = self._annotations_for(
                d, meta(new_rs).get("annotations") or {}, new_revision
            )
            min_ready = (d.get("spec") or {}).get("minReadySeconds", 0)
            if annotations != (meta(new_rs).get("annotations") or {}) or (
                (new_rs.get("spec") or {}).get("minReadySeconds", 0) != min_ready
            ):
                body = copy.deepcopy(dict(new_rs))
                body["metadata"]["annotations"] = annotations
                body["spec"]["minReadySeconds"] = min_ready
                new_rs = await self.client.update(REPLICA_SETS, body)
        elif create:
            new_rs = await self._create_new_rs(d, old, new_revision)
        if new_rs is not None:
            d = await self._set_deployment_revision(d, du.revision(new_rs))
        return d, new_rs, old

    async def _create_new_rs(
        self, d: Mapping[str, Any], old: Sequence[Mapping[str, Any]], new_revision: int
    ) -> Mapping[str, Any]:
        spec = d.get("spec") or {}
        collisions = (d.get("status") or {}).get("collisionCount")
        template = copy.deepcopy(spec.get("template") or {})
        pod_hash = du.template_hash(template, collisions)
        template.setdefault("metadata", {}).setdefault("labels", {})[du.HASH_LABEL] = pod_hash
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[du.HASH_LABEL] = pod_hash
        name = f"{meta(d)['name']}-{pod_hash}"
        surge, _ = du.surge_and_unavailable(d)
        annotations = self._annotations_for(d, {}, new_revision)
        annotations[du.DESIRED_REPLICAS] = str(du.replicas(d))
        annotations[du.MAX_REPLICAS] = str(du.replicas(d) + surge)
        draft = {"spec": {"replicas": 0}}
        want = du.new_rs_replicas(d, [*old, draft], None)
        body: Object = {
            "apiVersion": REPLICA_SETS.api_version,
            "kind": REPLICA_SETS.kind,
            "metadata": {
                "name": name,
                "namespace": meta(d).get("namespace"),
                "labels": dict(template["metadata"]["labels"]),
                "annotations": annotations,
                "ownerReferences": [owner_reference(d, DEPLOYMENTS)],
            },
            "spec": {
                "replicas": want,
                "minReadySeconds": spec.get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        try:
            created = await self.client.create(REPLICA_SETS, body)
        except AlreadyExists:
            existing = await self.client.get(REPLICA_SETS, name, namespace=meta(d).get("namespace"))
            ref = controller_ref(existing)
            same = du.equal_ignore_hash(
                (existing.get("spec") or {}).get("template") or {}, spec.get("template") or {}
            )
            if ref is not None and ref.get("uid") == meta(d).get("uid") and same:
                return existing  # our own, not yet in the cache
            status = copy.deepcopy(dict(d.get("status") or {}))
            status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
            await self.write_status(d, status)
            raise
        self.recorder.event(
            d, NORMAL, "ScalingReplicaSet", f"Scaled up replica set {name} from 0 to {want}"
        )
        return created

    async def _set_deployment_revision(self, d: Mapping[str, Any], rev: int) -> Mapping[str, Any]:
        annotations = meta(d).get("annotations") or {}
        if annotations.get(du.REVISION) == str(rev):
            return d
        body = copy.deepcopy(dict(d))
        body["metadata"].setdefault("annotations", {})[du.REVISION] = str(rev)
        return await self.client.update(DEPLOYMENTS, body)

    async def scale_rs(
        self, d: Mapping[str, Any], rs: Mapping[str, Any], size: int
    ) -> Mapping[str, Any]:
        """Set ``rs`` to ``size`` replicas, stamping the deployment's desired and max sizes."""
        surge, _ = du.surge_and_unavailable(d)
        annotations = dict(meta(rs).get("annotations") or {})
        wanted = {
            du.DESIRED_REPLICAS: str(du.replicas(d)),
            du.MAX_REPLICAS: str(du.replicas(d) + surge),
        }
        old_size = du.replicas(rs)
        if old_size == size and all(annotations.get(k) == v for k, v in wanted.items()):
            return rs
        body = copy.deepcopy(dict(rs))
        body["spec"]["replicas"] = size
        body["metadata"]["annotations"] = {**annotations, **wanted}
        updated = await self.client.update(REPLICA_SETS, body)
        if old_size != size:
            verb = "up" if size > old_size else "down"
            self.recorder.event(
                d,
                NORMAL,
                "ScalingReplicaSet",
                f"Scaled {verb} replica set {meta(rs)['name']} from {old_size} to {size}",
            )
        return updated

    def is_scaling_event(self, d: Mapping[str, Any], rss: Sequence[Mapping[str, Any]]) -> bool:
        for rs in rss:
            if du.replicas(rs) <= 0:
                continue
            desired = (meta(rs).get("annotations") or {}).get(du.DESIRED_REPLICAS)
            if desired is not None and desired != str(du.replicas(d)):
                return True
        return False

    # -- status ------------------------------------------------------------------------

    def now(self) -> str:
        return format_time(self.clock.wall())

    def calculate_status(
        self,
        d: Mapping[str, Any],
        new_rs: Mapping[str, Any] | None,
        old: Sequence[Mapping[str, Any]],
    ) -> Object:
        all_rss = [*old, *([new_rs] if new_rs is not None else [])]
        status = copy.deepcopy(dict(d.get("status") or {}))
        available = sum(du.status_int(rs, "availableReplicas") for rs in all_rss)
        status["observedGeneration"] = meta(d).get("generation", 0)
        status["replicas"] = sum(du.status_int(rs, "replicas") for rs in all_rss)
        status["updatedReplicas"] = du.status_int(new_rs, "replicas")
        status["readyReplicas"] = sum(du.status_int(rs, "readyReplicas") for rs in all_rss)
        status["availableReplicas"] = available
        total = sum(du.replicas(rs) for rs in all_rss)
        status["unavailableReplicas"] = max(total - available, 0)
        for field in (
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        ):
            if not status[field]:
                del status[field]
        if available >= du.replicas(d) - du.max_unavailable(d):
            du.set_condition(
                status,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                self.now(),
            )
        else:
            du.set_condition(
                status,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                self.now(),
            )
        return status

    async def write_status(self, d: Mapping[str, Any], status: Object) -> None:
        if status == (d.get("status") or {}):
            return
        body = copy.deepcopy(dict(d))
        body["status"] = status
        try:
            await self.client.update(DEPLOYMENTS, body, subresource="status")
        except NotFound:
            return

    async def sync_status(
        self,
        d: Mapping[str, Any],
        new_rs: Mapping[str, Any] | None,
        old: Sequence[Mapping[str, Any]],
    ) -> None:
        await self.write_status(d, self.calculate_status(d, new_rs, old))

    async def check_paused_condition(self, d: Mapping[str, Any]) -> Mapping[str, Any]:
        if not du.has_progress_deadline(d):
            return d
        cond = next(
            (
                c
                for c in (d.get("status") or {}).get("conditions") or ()
                if c.get("type") == "Progressing"
            ),
            None,
        )
        paused = bool((d.get("spec") or {}).get("paused"))
        status = copy.deepcopy(dict(d.get("status") or {}))
        if paused and (cond is None or cond.get("reason") != "DeploymentPaused"):
            du.set_condition(
                status,
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused",
                self.now(),
            )
        elif not paused and cond is not None and cond.get("reason") == "DeploymentPaused":
            du.set_condition(
                status,
                "Progressing",
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed",
                self.now(),
            )
        else:
            return d
        body = copy.deepcopy(dict(d))
        body["status"] = status
        return await self.client.update(DEPLOYMENTS, body, subresource="status")
