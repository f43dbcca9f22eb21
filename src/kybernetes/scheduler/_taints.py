"""Taints and tolerations, as upstream's ``Toleration.ToleratesTaint``.

A toleration tolerates a taint when its effect is empty or equal, its key is empty or equal,
and its operator is ``Exists`` or (``Equal``/empty) with an equal value. An empty key with
``Exists`` tolerates everything. Node conditions reach the scheduler as taints
(``node.kubernetes.io/not-ready``, ``unreachable``, ``memory-pressure``, ``disk-pressure``,
``pid-pressure``, ``unschedulable``), set by the node lifecycle controller and the API
server, so filtering taints filters those nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

NO_SCHEDULE: Final = "NoSchedule"
PREFER_NO_SCHEDULE: Final = "PreferNoSchedule"
NO_EXECUTE: Final = "NoExecute"

TAINT_NODE_UNSCHEDULABLE: Final = "node.kubernetes.io/unschedulable"
TAINT_NODE_NOT_READY: Final = "node.kubernetes.io/not-ready"

Taint = Mapping[str, Any]
Toleration = Mapping[str, Any]


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerations_tolerate(tolerations: Iterable[Toleration], taint: Taint) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def does_not_schedule(taint: Taint) -> bool:
    """The taints a pod must tolerate to be scheduled (``NoSchedule``, ``NoExecute``)."""
    return taint.get("effect") in (NO_SCHEDULE, NO_EXECUTE)


def find_untolerated(
    taints: Sequence[Taint],
    tolerations: Sequence[Toleration],
    include: Callable[[Taint], bool] = does_not_schedule,
) -> Taint | None:
    """The first taint ``include`` selects that no toleration tolerates, or None."""
    for taint in taints:
        if include(taint) and not tolerations_tolerate(tolerations, taint):
            return taint
    return None


def node_taints(node: Mapping[str, Any]) -> tuple[Taint, ...]:
    taints = (node.get("spec") or {}).get("taints") or ()
    return tuple(t for t in taints if isinstance(t, Mapping))
