"""Deployment strategies and the steps they share (a mixin of the Deployment controller).

* Rolling update: grow the new ReplicaSet up to ``replicas + maxSurge`` pods in total,
  then shrink old ones as far as ``replicas - maxUnavailable`` available pods allow
  (unhealthy old replicas first, oldest ReplicaSets first), one step per sync; every
  ReplicaSet change triggers the next sync.
* Recreate: scale every old ReplicaSet to zero, wait until none of their pods runs, then
  create or scale up the new one.
* Scaling events and paused deployments only resize (proportionally mid-rollout).
* A finished rollout prunes old, empty ReplicaSets beyond ``revisionHistoryLimit``.
* The status carries Progressing (with progressDeadlineSeconds) and Available
  conditions, and the key is requeued for when the deadline would pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.client import (
    OWNER_UID_INDEX,
    WARNING,
    Clock,
    EventRecorder,
    Informer,
    NotFound,
    RESTClient,
    WorkQueue,
    object_key,
)
from kybernetes.controllers import _deployment_util as du
from kybernetes.controllers._base import REPLICA_SETS
from kybernetes.controllers._podutil import is_terminating, meta

RS = Mapping[str, Any]


class RolloutMixin:
    """The strategies; the Deployment controller provides what is declared here."""

    client: RESTClient
    queue: WorkQueue[str]
    pod_informer: Informer
    recorder: EventRecorder
    clock: Clock

    async def get_all(
        self, d: RS, rss: Sequence[RS], *, create: bool
    ) -> tuple[RS, RS | None, list[RS]]:
        raise NotImplementedError

    async def scale_rs(self, d: RS, rs: RS, size: int) -> RS:
        raise NotImplementedError

    def calculate_status(self, d: RS, new_rs: RS | None, old: Sequence[RS]) -> dict[str, Any]:
        raise NotImplementedError

    async def write_status(self, d: RS, status: dict[str, Any]) -> None:
        raise NotImplementedError

    async def sync_status(self, d: RS, new_rs: RS | None, old: Sequence[RS]) -> None:
        raise NotImplementedError

    def now(self) -> str:
        raise NotImplementedError

    async def rollout_rolling(self, d: RS, rss: Sequence[RS]) -> None:
        d, new_rs, old = await self.get_all(d, rss, create=True)
        assert new_rs is not None
        all_rss = [*old, new_rs]
        # Step 1: grow (or trim) the new ReplicaSet.
        want_new = du.new_rs_replicas(d, all_rss, new_rs)
        if du.replicas(new_rs) > du.replicas(d):
            want_new = du.replicas(d)
        if want_new != du.replicas(new_rs):
            new_rs = await self.scale_rs(d, new_rs, want_new)
            await self.sync_rollout_status(d, new_rs, old)
            return
        # Step 2: shrink old ReplicaSets within maxUnavailable.
        scaled, old = await self._scale_down_old(d, new_rs, old)
        if scaled:
            await self.sync_rollout_status(d, new_rs, old)
            return
        if du.is_complete(d, d.get("status") or {}):
            await self.cleanup(d, old)
        await self.sync_rollout_status(d, new_rs, old)

    async def _scale_down_old(self, d: RS, new_rs: RS, old: list[RS]) -> tuple[bool, list[RS]]:
        if sum(du.replicas(rs) for rs in old) == 0:
            return False, old
        budget = du.old_scale_down_budget(d, [*old, new_rs], new_rs)
        if budget <= 0:
            return False, old
        scaled = False
        result = {meta(rs)["name"]: rs for rs in old}
        # Unhealthy old replicas first: removing them costs no availability.
        for rs in du.by_age(old):
            if budget <= 0:
                break
            unhealthy = du.replicas(rs) - du.status_int(rs, "availableReplicas")
            if unhealthy <= 0:
                continue
            cut = min(budget, unhealthy)
            result[meta(rs)["name"]] = await self.scale_rs(d, rs, du.replicas(rs) - cut)
            budget -= cut
            scaled = True
        current = list(result.values())
        # Then healthy ones, as far as the available pods allow.
        min_available = du.replicas(d) - du.max_unavailable(d)
        available = sum(du.status_int(rs, "availableReplicas") for rs in [*current, new_rs])
        allowed = min(available - min_available, budget)
        for rs in du.by_age(current):
            if allowed <= 0:
                break
            cut = min(du.replicas(rs), allowed)
            if cut <= 0:
                continue
            result[meta(rs)["name"]] = await self.scale_rs(d, rs, du.replicas(rs) - cut)
            allowed -= cut
            scaled = True
        return scaled, list(result.values())

    async def rollout_recreate(self, d: RS, rss: Sequence[RS]) -> None:
        d, new_rs, old = await self.get_all(d, rss, create=False)
        scaled = False
        current: list[RS] = []
        for rs in old:
            if du.replicas(rs) > 0:
                rs = await self.scale_rs(d, rs, 0)
                scaled = True
            current.append(rs)
        if scaled:
            await self.sync_rollout_status(d, new_rs, current)
            return
        if self._old_pods_running(current):
            await self.sync_rollout_status(d, new_rs, current)
            return
        if new_rs is None:
            d, new_rs, _ = await self.get_all(d, rss, create=True)
            assert new_rs is not None
        if du.replicas(new_rs) != du.replicas(d):
            new_rs = await self.scale_rs(d, new_rs, du.replicas(d))
        if du.is_complete(d, d.get("status") or {}):
            await self.cleanup(d, current)
        await self.sync_rollout_status(d, new_rs, current)

    def _old_pods_running(self, old: Sequence[RS]) -> bool:
        for rs in old:
            if du.status_int(rs, "replicas") > 0:
                return True
            for pod in self.pod_informer.cache.by_index(OWNER_UID_INDEX, meta(rs).get("uid") or ""):
                if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                    return True
        return False

    async def sync_scale(self, d: RS, rss: Sequence[RS]) -> None:
        """Resize only (paused deployments and scaling events)."""
        d, new_rs, old = await self.get_all(d, rss, create=False)
        all_rss = [*old, *([new_rs] if new_rs is not None else [])]
        active = [rs for rs in all_rss if du.replicas(rs) > 0]
        updated: dict[str, RS] = {meta(rs)["name"]: rs for rs in all_rss}
        if len(active) <= 1:
            newest = du.by_age(all_rss, newest_first=True)
            target = active[0] if active else (new_rs or (newest[0] if newest else None))
            if target is not None:
                updated[meta(target)["name"]] = await self.scale_rs(d, target, du.replicas(d))
        elif new_rs is not None and self._saturated(d, new_rs):
            for rs in old:
                updated[meta(rs)["name"]] = await self.scale_rs(d, rs, 0)
        elif du.is_rolling(d):
            for name, size in du.proportional_targets(d, active, new_rs).items():
                updated[name] = await self.scale_rs(d, updated[name], size)
        new_rs = updated[meta(new_rs)["name"]] if new_rs is not None else None
        old = [updated[meta(rs)["name"]] for rs in old]
        if (d.get("spec") or {}).get("paused"):
            await self.cleanup(d, old)
        await self.sync_status(d, new_rs, old)

    @staticmethod
    def _saturated(d: RS, rs: RS) -> bool:
        desired = (meta(rs).get("annotations") or {}).get(du.DESIRED_REPLICAS)
        return (
            du.replicas(rs) == du.replicas(d)
            and desired == str(du.replicas(d))
            and du.status_int(rs, "availableReplicas") == du.replicas(d)
        )

    async def cleanup(self, d: RS, old: Sequence[RS]) -> None:
        """Delete the oldest empty old ReplicaSets beyond revisionHistoryLimit."""
        limit = (d.get("spec") or {}).get("revisionHistoryLimit", 10)
        if limit is None:
            return
        cleanable = [
            rs
            for rs in old
            if du.replicas(rs) == 0
            and du.status_int(rs, "replicas") == 0
            and not is_terminating(rs)
        ]
        excess = len(cleanable) - int(limit)
        for rs in sorted(cleanable, key=du.revision)[: max(excess, 0)]:
            m = meta(rs)
            try:
                await self.client.delete(
                    REPLICA_SETS, m["name"], namespace=m.get("namespace"), uid=m.get("uid")
                )
            except NotFound:
                continue

    async def sync_rollout_status(self, d: RS, new_rs: RS | None, old: Sequence[RS]) -> None:
        status = self.calculate_status(d, new_rs, old)
        now = self.clock.wall().timestamp()
        cond = du.progressing_condition(status)
        complete_before = (
            cond is not None
            and cond.get("reason") == "NewReplicaSetAvailable"
            and int(status.get("replicas") or 0) == int(status.get("updatedReplicas") or 0)
        )
        name = meta(new_rs)["name"] if new_rs is not None else ""
        if du.has_progress_deadline(d) and not complete_before:
            if new_rs is not None and (
                cond is None or cond.get("reason") in ("DeploymentResumed",)
            ):
                reason = (
                    "NewReplicaSetCreated"
                    if du.status_int(new_rs, "replicas") == 0
                    else "FoundNewReplicaSet"
                )
                verb = "Created new" if reason == "NewReplicaSetCreated" else "Found new"
                du.set_condition(
                    status,
                    "Progressing",
                    "True",
                    reason,
                    f'{verb} replica set "{name}"',
                    self.now(),
                )
            if du.is_complete(d, status):
                du.set_condition(
                    status,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{name}" has successfully progressed.',
                    self.now(),
                )
            elif du.is_progressing(d, status):
                du.set_condition(
                    status,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    f'ReplicaSet "{name}" is progressing.',
                    self.now(),
                    touch=True,
                )
            elif du.timed_out(d, status, now):
                du.set_condition(
                    status,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{name}" has timed out progressing.',
                    self.now(),
                )
                if du.progressing_condition(d.get("status") or {}) != du.progressing_condition(
                    status
                ):
                    self.recorder.event(
                        d,
                        WARNING,
                        "ProgressDeadlineExceeded",
                        f'ReplicaSet "{name}" has timed out progressing.',
                    )
        await self.write_status(d, status)
        # Come back when the deadline would pass if nothing else happens first.
        deadline = du.progress_deadline(d)
        cond = du.progressing_condition(status)
        if (
            deadline is not None
            and cond is not None
            and not du.is_complete(d, status)
            and cond.get("reason") not in ("ProgressDeadlineExceeded", "NewReplicaSetAvailable")
        ):
            since = du.parse_time(cond.get("lastUpdateTime")) or now
            self.queue.add_after(object_key(d), max(since + deadline - now, 0) + 1)
