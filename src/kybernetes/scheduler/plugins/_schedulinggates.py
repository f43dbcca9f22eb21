"""SchedulingGates: a pod with ``spec.schedulingGates`` waits outside the active queue.

The pod is held until an update removes its last gate (the queue re-runs PreEnqueue on
every update of a held pod), as upstream's plugin.
"""

from __future__ import annotations

from kybernetes.scheduler._events import ClusterEventWithHint
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import Status, unresolvable

NAME = "SchedulingGates"


class SchedulingGates:
    name = NAME

    def pre_enqueue(self, pod: PodInfo) -> Status | None:
        gates = (pod.pod.get("spec") or {}).get("schedulingGates") or []
        if not gates:
            return None
        names = " ".join(str(g.get("name", "")) for g in gates if isinstance(g, dict))
        return unresolvable(f"waiting for scheduling gates: [{names}]")

    def events_to_register(self) -> list[ClusterEventWithHint]:
        # Only the pod's own update can lift a gate; the queue handles that directly.
        return []
