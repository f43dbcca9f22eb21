"""The rules of ``pods/eviction``, as upstream's eviction REST applies them. Pure.

* :func:`can_ignore_pdb`: pods that are Pending, Succeeded, Failed or already being
  deleted are deleted without looking at disruption budgets.
* :func:`matching_budgets`: the PodDisruptionBudgets of the pod's namespace whose
  selector matches its labels; an empty or null selector (or an invalid one) matches
  nothing here.
* :func:`unhealthy_may_go`: a pod that is not Ready may be deleted without spending the
  budget when the budget says ``unhealthyPodEvictionPolicy: AlwaysAllow``, or when the
  application is healthy enough without it (``currentHealthy >= desiredHealthy > 0``).
* :func:`decrement_budget` is the compare-and-swap step: given the budget as stored now it
  returns the budget with one disruption spent and the pod recorded in
  ``status.disruptedPods``, or raises the 429 ``TooManyRequests`` clients retry on. A
  budget whose status the disruption controller has not computed for its current
  generation (``status.observedGeneration < metadata.generation``, which includes a
  budget with no status at all) blocks every eviction, as upstream.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from kybernetes.api._labels import SelectorError
from kybernetes.api._labelselector import label_selector_from_api
from kybernetes.apiserver import _errors as errors

Obj = dict[str, Any]

BLOCKED_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget."
DISRUPTION_BUDGET_CAUSE = "DisruptionBudget"
MULTIPLE_BUDGETS_MESSAGE = (
    "This pod has more than one PodDisruptionBudget, which the eviction subresource does "
    "not support."
)
#: Upstream refuses evictions once this many are recorded but not yet confirmed.
MAX_DISRUPTED_PODS = 2000
_PDB_RESOURCE = "poddisruptionbudget"


def _phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def _deleting(pod: Mapping[str, Any]) -> bool:
    return (pod.get("metadata") or {}).get("deletionTimestamp") is not None


def can_ignore_pdb(pod: Mapping[str, Any]) -> bool:
    return _phase(pod) in ("Succeeded", "Failed", "Pending") or _deleting(pod)


def enforce_resource_version(pod: Mapping[str, Any]) -> bool:
    """Whether the delete must be pinned to the version read (so a pod that became Ready
    meanwhile is not deleted behind its budget's back)."""
    return _phase(pod) not in ("Succeeded", "Failed") and not _deleting(pod)


def pod_ready(pod: Mapping[str, Any]) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def matching_budgets(pod: Mapping[str, Any], budgets: Iterable[Mapping[str, Any]]) -> list[Obj]:
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    out = []
    for pdb in budgets:
        if (pdb.get("metadata") or {}).get("namespace") != meta.get("namespace"):
            continue
        try:
            selector = label_selector_from_api((pdb.get("spec") or {}).get("selector"))
        except SelectorError:
            continue
        if selector.empty or not selector.matches(labels):
            continue
        out.append(dict(pdb))
    return out


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def unhealthy_may_go(pdb: Mapping[str, Any]) -> bool:
    if (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
        return True
    status = pdb.get("status") or {}
    desired = _int(status.get("desiredHealthy"))
    return _int(status.get("currentHealthy")) >= desired and desired > 0


def too_many_requests(detail: str, retry_after: int | None = None) -> errors.APIError:
    cause = errors.Cause(DISRUPTION_BUDGET_CAUSE, detail)
    return errors.APIError(
        429, "TooManyRequests", BLOCKED_MESSAGE, causes=[cause], retry_after=retry_after
    )


def still_processing(pdb_name: str) -> errors.APIError:
    detail = f"The disruption budget {pdb_name} is still being processed by the server."
    return too_many_requests(detail, 10)


def decrement_budget(pdb: Obj, pod_name: str, now: str) -> Obj:
    """``pdb`` (not changed) with one disruption spent on ``pod_name``; 429/403 if none."""
    meta = pdb.get("metadata") or {}
    name = str(meta.get("name") or "")
    status = pdb.get("status") or {}
    if _int(status.get("observedGeneration")) < _int(meta.get("generation")):
        raise still_processing(name)
    allowed = _int(status.get("disruptionsAllowed"))
    if allowed < 0:
        raise _forbidden(name, "pdb disruptions allowed is negative")
    disrupted = status.get("disruptedPods") or {}
    if len(disrupted) > MAX_DISRUPTED_PODS:
        raise _forbidden(
            name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller"
        )
    if allowed == 0:
        detail = (
            f"The disruption budget {name} needs {_int(status.get('desiredHealthy'))} healthy "
            f"pods and has {_int(status.get('currentHealthy'))} currently"
        )
        raise too_many_requests(detail)
    out = dict(pdb)
    new_status = copy.deepcopy(status)
    new_status["disruptionsAllowed"] = allowed - 1
    new_status["disruptedPods"] = {**disrupted, pod_name: now}
    if allowed - 1 == 0:
        new_status["conditions"] = _insufficient(new_status.get("conditions"), status, now)
    out["status"] = new_status
    return out


def _forbidden(name: str, why: str) -> errors.APIError:
    message = f'{_PDB_RESOURCE}.policy "{name}" is forbidden: {why}'
    return errors.APIError(403, "Forbidden", message, name, "policy", _PDB_RESOURCE)


def _insufficient(conditions: Any, status: Mapping[str, Any], now: str) -> list[Obj]:
    """The conditions with ``DisruptionAllowed`` set False (reason InsufficientPods)."""
    out = [dict(c) for c in conditions or [] if isinstance(c, dict)]
    wanted = {
        "type": "DisruptionAllowed",
        "status": "False",
        "reason": "InsufficientPods",
        "message": "",
        "observedGeneration": _int(status.get("observedGeneration")),
    }
    for i, condition in enumerate(out):
        if condition.get("type") == "DisruptionAllowed":
            same = condition.get("status") == "False" and condition.get("lastTransitionTime")
            stamp = condition["lastTransitionTime"] if same else now
            out[i] = {**condition, **wanted, "lastTransitionTime": stamp}
            return out
    out.append({**wanted, "lastTransitionTime": now})
    return out
