"""Pure helpers over pods and owner references shared by the workload controllers.

Promises: no I/O and no mutation of arguments. Times are RFC 3339 strings on objects and
seconds since the epoch here. Pod readiness, availability (Ready for ``minReadySeconds``),
activeness, upstream's deletion ranking, controller references, and pods built from a
template are defined once, here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from kybernetes.api import ResourceInfo

Object = dict[str, Any]

_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"


def parse_time(text: Any) -> float | None:
    """Seconds since the epoch of an RFC 3339 timestamp (None if absent or malformed)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, Mapping) else {}


def labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return meta(obj).get("labels") or {}


def is_terminating(obj: Mapping[str, Any]) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == kind:
            return cond  # type: ignore[no-any-return]
    return None


def is_pod_active(pod: Mapping[str, Any]) -> bool:
    """Counts toward a controller's replicas: not finished and not being deleted."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not is_terminating(pod)


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    cond = condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def ready_since(pod: Mapping[str, Any]) -> float | None:
    cond = condition(pod, "Ready")
    if cond is None or cond.get("status") != "True":
        return None
    return parse_time(cond.get("lastTransitionTime"))


def is_pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: float) -> bool:
    """Ready, and (with ``min_ready_seconds``) Ready for at least that long."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is not None and since + min_ready_seconds <= now


def available_in(pod: Mapping[str, Any], min_ready_seconds: int, now: float) -> float | None:
    """Seconds until a Ready pod becomes available (None if it is not Ready)."""
    since = ready_since(pod)
    if since is None:
        return None
    return max(since + min_ready_seconds - now, 0.0)


def controller_ref(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for ref in meta(obj).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None


def owner_reference(owner: Mapping[str, Any], info: ResourceInfo) -> Object:
    """A controller ownerReference to ``owner`` (blocks its foreground deletion)."""
    m = meta(owner)
    return {
        "apiVersion": info.api_version,
        "kind": info.kind,
        "name": m["name"],
        "uid": m["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_from_template(
    template: Mapping[str, Any], owner: Mapping[str, Any], info: ResourceInfo
) -> Object:
    """A pod to create for ``owner`` (``generateName`` ``<owner>-``, controller ref set)."""
    tmpl_meta = template.get("metadata") or {}
    pod_meta: Object = {
        "generateName": f"{meta(owner)['name']}-",
        "namespace": meta(owner).get("namespace"),
        "ownerReferences": [owner_reference(owner, info)],
    }
    for field in ("labels", "annotations", "finalizers"):
        if tmpl_meta.get(field):
            pod_meta[field] = copy.deepcopy(tmpl_meta[field])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def _restarts(pod: Mapping[str, Any]) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or ()
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


def _cost(pod: Mapping[str, Any]) -> int:
    try:
        return int((meta(pod).get("annotations") or {}).get(DELETION_COST, 0))
    except (TypeError, ValueError):
        return 0


def deletion_order(pods: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``pods`` with the ones to delete first at the front, as upstream ranks them:
    unscheduled before scheduled; Pending before Unknown before Running; not Ready before
    Ready; lower deletion cost; more siblings on the same node; Ready for less time; more
    restarts; newer."""
    pods = list(pods)
    per_node: dict[str, int] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName") or ""
        if node:
            per_node[node] = per_node.get(node, 0) + 1

    def rank(pod: Mapping[str, Any]) -> tuple[Any, ...]:
        node = (pod.get("spec") or {}).get("nodeName") or ""
        phase = (pod.get("status") or {}).get("phase") or "Pending"
        ready = is_pod_ready(pod)
        since = ready_since(pod) or 0.0
        created = parse_time(meta(pod).get("creationTimestamp")) or 0.0
        return (
            1 if node else 0,
            _PHASE_RANK.get(phase, 0),
            1 if ready else 0,
            _cost(pod),
            -per_node.get(node, 0) if node else 0,
            -since if ready else 0.0,
            -_restarts(pod),
            -created,
        )

    return sorted(pods, key=rank)
