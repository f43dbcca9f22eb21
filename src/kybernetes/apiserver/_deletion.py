"""What a DELETE does to an object: remove it now, mark it, or leave it be. Pure logic.

Upstream's rules, reproduced:

* Propagation: ``Orphan`` (or ``orphanDependents: true``) puts the ``orphan`` finalizer
  on the object, ``Foreground`` puts ``foregroundDeletion``, ``Background`` removes both;
  without a policy the object's own finalizers decide. The garbage collector removes them.
* An object with finalizers is only marked: ``deletionTimestamp`` now,
  ``deletionGracePeriodSeconds: 0``. It goes away when an update removes the last
  finalizer (see :func:`should_delete_during_update`).
* Pods bound to a node are deleted gracefully: marked with ``deletionTimestamp`` = now +
  grace period; the kubelet deletes them again with ``gracePeriodSeconds=0`` once the
  containers stopped. A later delete may only shorten the grace period. Unscheduled or
  finished pods go at once.
* Namespaces: the first delete marks them ``Terminating``; they are removed once both
  ``spec.finalizers`` (emptied through ``/finalize`` by the namespace controller) and
  ``metadata.finalizers`` are empty.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._options import DeleteOptions
from kybernetes.apiserver._strategy import ResourceStrategy

Obj = dict[str, Any]

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(t: datetime) -> str:
    """RFC 3339 at second precision in UTC, as ``metav1.Time`` serialises."""
    return t.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class DeletePlan:
    #: Remove the object from the store now.
    delete_now: bool
    #: Otherwise: the object to write instead (None: leave it unchanged).
    marked: Obj | None = None


def gc_finalizers(finalizers: list[str], opts: DeleteOptions) -> list[str]:
    """The finalizers after applying the delete's propagation policy."""
    orphan: bool
    foreground: bool
    if opts.orphan_dependents is not None:
        orphan, foreground = opts.orphan_dependents, False
    elif opts.propagation_policy is not None:
        orphan = opts.propagation_policy == "Orphan"
        foreground = opts.propagation_policy == "Foreground"
    else:
        return finalizers
    out = [f for f in finalizers if f not in (ORPHAN, FOREGROUND)]
    if orphan:
        out.append(ORPHAN)
    if foreground:
        out.append(FOREGROUND)
    return finalizers if set(out) == set(finalizers) else out


def check_preconditions(obj: Obj, opts: DeleteOptions, strategy: ResourceStrategy) -> None:
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or "")
    uid, rv = opts.precondition_uid, opts.precondition_resource_version
    if uid is not None and uid != meta.get("uid"):
        raise errors.conflict(
            strategy.info,
            name,
            f"Precondition failed: UID in precondition: {uid}, "
            f"UID in object meta: {meta.get('uid', '')}",
        )
    if rv is not None and rv != meta.get("resourceVersion"):
        raise errors.conflict(
            strategy.info,
            name,
            f"Precondition failed: ResourceVersion in precondition: {rv}, "
            f"ResourceVersion in object meta: {meta.get('resourceVersion', '')}",
        )


def plan_delete(
    obj: Obj, opts: DeleteOptions, strategy: ResourceStrategy, now: datetime
) -> DeletePlan:
    """Decide what deleting ``obj`` (the stored object, not mutated) does."""
    meta = obj.get("metadata") or {}
    finalizers = list(meta.get("finalizers") or [])
    new_finalizers = gc_finalizers(finalizers, opts)
    deleting = meta.get("deletionTimestamp") is not None
    info = strategy.info

    if (info.group, info.plural) == ("", "namespaces"):
        if not deleting:
            out = _copy(obj)
            out_meta = out["metadata"]
            out_meta["deletionTimestamp"] = format_time(now)
            if new_finalizers:
                out_meta["finalizers"] = new_finalizers
            out.setdefault("status", {})["phase"] = "Terminating"
            return DeletePlan(False, out)
        if (obj.get("spec") or {}).get("finalizers"):
            return DeletePlan(False)
        # Content is gone: an ordinary finalizer-aware delete from here on.

    if deleting:
        period = meta.get("deletionGracePeriodSeconds")
        if strategy.graceful_delete and period:
            requested = opts.grace_period_seconds
            if requested is None or requested >= period:
                return DeletePlan(False)  # graceful deletion already under way
            if requested == 0 and not finalizers:
                return DeletePlan(True)
            out = _copy(obj)
            started = parse_time(str(meta["deletionTimestamp"])) or now
            deadline = started - timedelta(seconds=period) + timedelta(seconds=requested)
            out["metadata"]["deletionTimestamp"] = format_time(deadline)
            out["metadata"]["deletionGracePeriodSeconds"] = requested
            return DeletePlan(False, out)
        if not new_finalizers:
            return DeletePlan(True)
        if new_finalizers == finalizers:
            return DeletePlan(False)
        out = _copy(obj)
        out["metadata"]["finalizers"] = new_finalizers
        return DeletePlan(False, out)

    grace = strategy.grace_period(obj, opts.grace_period_seconds) if strategy.graceful_delete else 0
    if grace <= 0 and not new_finalizers:
        return DeletePlan(True)
    out = _copy(obj)
    out_meta = out["metadata"]
    out_meta["deletionTimestamp"] = format_time(now + timedelta(seconds=grace))
    out_meta["deletionGracePeriodSeconds"] = grace
    if new_finalizers:
        out_meta["finalizers"] = new_finalizers
    else:
        out_meta.pop("finalizers", None)
    generation = out_meta.get("generation")
    if isinstance(generation, int) and generation > 0:
        out_meta["generation"] = generation + 1
    return DeletePlan(False, out)


def should_delete_during_update(new: Obj, old: Obj, *, namespace: bool = False) -> bool:
    """An update that removes the last finalizer of an object being deleted removes it
    (unless a pod's grace period is still running)."""
    if (new.get("metadata") or {}).get("finalizers"):
        return False
    old_meta = old.get("metadata") or {}
    if old_meta.get("deletionTimestamp") is None:
        return False
    if old_meta.get("deletionGracePeriodSeconds") not in (None, 0):
        return False
    return not (namespace and (new.get("spec") or {}).get("finalizers"))


def _copy(obj: Obj) -> Obj:
    out = dict(obj)
    out["metadata"] = copy.deepcopy(obj.get("metadata") or {})
    if "status" in out:
        out["status"] = copy.deepcopy(out["status"])
    return out
