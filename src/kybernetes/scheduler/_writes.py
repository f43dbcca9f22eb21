"""What the scheduler writes besides Bindings: pod status, and preemption's evictions.

Promises:

* :meth:`StatusWriter.mark_unschedulable` patches ``pods/status`` (strategic merge on
  ``conditions`` by type) with ``PodScheduled=False``, the reason and the message, and
  ``nominatedNodeName`` when given ("" clears it). As upstream it writes nothing when the
  condition and nomination are already what they would become, and keeps
  ``lastTransitionTime`` when the condition's status does not change.
* :meth:`StatusWriter.preempt` marks each victim with a ``DisruptionTarget`` condition
  (reason ``PreemptionByScheduler``), deletes it (uid precondition, default grace period),
  records a ``Preempted`` event, and clears the nomination of lower-priority pods that
  were nominated to the same node.
* Failures are logged, never raised: the pod is retried by the queue anyway, and a pod
  that vanished needs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kybernetes.client import NORMAL, ClientError, Clock, EventRecorder, NotFound, RESTClient
from kybernetes.scheduler._clientside import PODS
from kybernetes.scheduler._podinfo import PodInfo

log = logging.getLogger("kyb.scheduler.writes")


def _now(clock: Clock) -> str:
    moment: datetime = clock.wall()
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition(pod: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if isinstance(c, Mapping) and c.get("type") == kind:
            return c
    return None


class StatusWriter:
    def __init__(self, client: RESTClient, recorder: EventRecorder, clock: Clock) -> None:
        self.client = client
        self.recorder = recorder
        self.clock = clock

    async def mark_unschedulable(
        self, pod: PodInfo, reason: str, message: str, nominated: str | None
    ) -> None:
        current = _condition(pod.pod, "PodScheduled")
        wanted = {"type": "PodScheduled", "status": "False", "reason": reason, "message": message}
        old_nominated = str((pod.pod.get("status") or {}).get("nominatedNodeName") or "")
        same = current is not None and all(current.get(k) == v for k, v in wanted.items())
        if same and (nominated is None or nominated == old_nominated):
            return
        transition = (
            current.get("lastTransitionTime")
            if current is not None and current.get("status") == "False"
            else None
        ) or _now(self.clock)
        status: dict[str, Any] = {
            "conditions": [{**wanted, "lastProbeTime": None, "lastTransitionTime": transition}]
        }
        if nominated is not None and nominated != old_nominated:
            status["nominatedNodeName"] = nominated or None
        await self._patch_status(pod, status)

    async def _patch_status(self, pod: PodInfo, status: Mapping[str, Any]) -> None:
        try:
            await self.client.patch(
                PODS,
                pod.name,
                {"status": status},
                namespace=pod.namespace,
                type="strategic",
                subresource="status",
            )
        except NotFound:
            pass
        except ClientError as e:
            log.warning("could not update the status of %s: %s", pod.key, e)

    async def preempt(
        self,
        preemptor: PodInfo,
        node: str,
        victims: Sequence[PodInfo],
        lower_nominated: Sequence[PodInfo],
        scheduler_name: str,
    ) -> None:
        for victim in victims:
            condition = {
                "type": "DisruptionTarget",
                "status": "True",
                "reason": "PreemptionByScheduler",
                "message": f"{scheduler_name}: preempting to accommodate a higher priority pod",
                "lastTransitionTime": _now(self.clock),
            }
            await self._patch_status(victim, {"conditions": [condition]})
            try:
                await self.client.delete(
                    PODS, victim.name, namespace=victim.namespace, uid=victim.uid
                )
            except NotFound:
                continue
            except ClientError as e:
                log.warning("could not preempt %s: %s", victim.key, e)
                continue
            log.info("preempted %s on %s for %s", victim.key, node, preemptor.key)
            self.recorder.event(
                victim.pod, NORMAL, "Preempted", f"Preempted by pod {preemptor.uid} on node {node}"
            )
        for pod in lower_nominated:
            await self._patch_status(pod, {"nominatedNodeName": None})
