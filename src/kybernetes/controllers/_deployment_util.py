"""Pure Deployment arithmetic: template hashes, revisions, surge and unavailability,
rolling-update steps, proportional scaling, status and conditions. No I/O.

Everything here is a function of plain objects and numbers (times as epoch seconds), so
the Deployment controller's decisions can be tested without an API.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from kybernetes.controllers._podutil import meta, parse_time

__all__ = ["parse_time"]

Object = dict[str, Any]

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
#: Deployment annotations that are not copied to its ReplicaSets.
NOT_COPIED = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        DESIRED_REPLICAS,
        MAX_REPLICAS,
        "deprecated.deployment.rollback.to",
    }
)

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def template_hash(template: Mapping[str, Any], collision_count: int | None) -> str:
    """A stable, label-safe hash of a pod template (and the collision count)."""
    data = orjson.dumps(template, option=orjson.OPT_SORT_KEYS)
    if collision_count:
        data += str(collision_count).encode()
    # Spelled with consonants and digits so it can never form words (upstream's idea).
    return "".join(_SAFE_ALPHABET[ord(c) % len(_SAFE_ALPHABET)] for c in f"{_fnv32a(data)}")


def strip_hash(template: Mapping[str, Any]) -> Object:
    out = copy.deepcopy(dict(template))
    lbls = (out.get("metadata") or {}).get("labels")
    if isinstance(lbls, dict):
        lbls.pop(HASH_LABEL, None)
        if not lbls:
            out["metadata"].pop("labels")
    return out


def equal_ignore_hash(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return strip_hash(a) == strip_hash(b)


def revision(obj: Mapping[str, Any]) -> int:
    try:
        return int((meta(obj).get("annotations") or {}).get(REVISION, 0))
    except (TypeError, ValueError):
        return 0


def replicas(obj: Mapping[str, Any] | None) -> int:
    if obj is None:
        return 0
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def status_int(obj: Mapping[str, Any] | None, field: str) -> int:
    return int(((obj or {}).get("status") or {}).get(field) or 0)


def resolve_int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        scaled = int(text[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(text)


def is_rolling(d: Mapping[str, Any]) -> bool:
    strategy = (d.get("spec") or {}).get("strategy") or {}
    return bool(strategy.get("type", "RollingUpdate") != "Recreate")


def surge_and_unavailable(d: Mapping[str, Any]) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as numbers; never both zero (then one may be unavailable)."""
    if not is_rolling(d):
        return 0, 0
    ru = ((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
    want = replicas(d)
    surge = resolve_int_or_percent(ru.get("maxSurge", "25%"), want, round_up=True)
    unavailable = resolve_int_or_percent(ru.get("maxUnavailable", "25%"), want, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, want)


def max_unavailable(d: Mapping[str, Any]) -> int:
    if not is_rolling(d) or replicas(d) == 0:
        return 0
    return surge_and_unavailable(d)[1]


def new_rs_replicas(
    d: Mapping[str, Any], all_rss: Sequence[Mapping[str, Any]], new_rs: Mapping[str, Any] | None
) -> int:
    """How many replicas the new ReplicaSet may have now."""
    want = replicas(d)
    if not is_rolling(d):
        return want
    surge, _ = surge_and_unavailable(d)
    current = sum(replicas(rs) for rs in all_rss)
    new_count = replicas(new_rs)
    if current >= want + surge:
        return new_count
    scale_up = want + surge - current
    return new_count + min(scale_up, max(want - new_count, 0))


def old_scale_down_budget(
    d: Mapping[str, Any], all_rss: Sequence[Mapping[str, Any]], new_rs: Mapping[str, Any] | None
) -> int:
    """How many old replicas may go now without breaking maxUnavailable."""
    min_available = replicas(d) - max_unavailable(d)
    new_unavailable = replicas(new_rs) - status_int(new_rs, "availableReplicas")
    total = sum(replicas(rs) for rs in all_rss)
    return total - min_available - new_unavailable


def by_age(rss: Sequence[Mapping[str, Any]], newest_first: bool = False) -> list[Mapping[str, Any]]:
    def key(rs: Mapping[str, Any]) -> tuple[str, str]:
        return (str(meta(rs).get("creationTimestamp") or ""), str(meta(rs).get("name") or ""))

    return sorted(rss, key=key, reverse=newest_first)


def proportional_targets(
    d: Mapping[str, Any], active: Sequence[Mapping[str, Any]], new_rs: Mapping[str, Any] | None
) -> dict[str, int]:
    """Name -> replicas after a scaling event spread over the active ReplicaSets in
    proportion to their sizes (leftovers to the largest, newest first), as upstream."""
    surge, _ = surge_and_unavailable(d)
    allowed = replicas(d) + surge
    current = sum(replicas(rs) for rs in active)
    to_add = allowed - current
    targets = {meta(rs)["name"]: replicas(rs) for rs in active}
    if to_add == 0 or current == 0:
        return targets
    # Largest first; ties go to the newest when growing and to the oldest when shrinking.
    created = {meta(rs)["name"]: str(meta(rs).get("creationTimestamp") or "") for rs in active}
    order = sorted(active, key=lambda rs: created[meta(rs)["name"]], reverse=to_add > 0)
    order.sort(key=replicas, reverse=True)
    added = 0
    for rs in order:
        name = meta(rs)["name"]
        share = replicas(rs) * to_add / current
        part = math.floor(share) if to_add > 0 else math.ceil(share)
        # Never past the total to add (the rounding leftovers go below).
        part = min(part, to_add - added) if to_add > 0 else max(part, to_add - added)
        targets[name] += part
        added += part
    leftover = to_add - added
    if leftover and order:
        first = meta(order[0])["name"]
        targets[first] = max(targets[first] + leftover, 0)
    return targets


def is_complete(d: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    want = replicas(d)
    return (
        int(status.get("updatedReplicas") or 0) == want
        and int(status.get("replicas") or 0) == want
        and int(status.get("availableReplicas") or 0) == want
        and int(status.get("observedGeneration") or 0) >= int(meta(d).get("generation") or 0)
    )


def is_progressing(d: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    old = d.get("status") or {}
    old_old = int(old.get("replicas") or 0) - int(old.get("updatedReplicas") or 0)
    new_old = int(status.get("replicas") or 0) - int(status.get("updatedReplicas") or 0)
    return (
        int(status.get("updatedReplicas") or 0) > int(old.get("updatedReplicas") or 0)
        or new_old < old_old
        or int(status.get("readyReplicas") or 0) > int(old.get("readyReplicas") or 0)
        or int(status.get("availableReplicas") or 0) > int(old.get("availableReplicas") or 0)
    )


def set_condition(
    status: Object,
    kind: str,
    value: str,
    reason: str,
    message: str,
    now: str,
    *,
    touch: bool = False,
) -> None:
    """Set a condition; lastTransitionTime only moves when the status flips, and a
    condition that did not change keeps its lastUpdateTime too unless ``touch`` (progress
    made: the progress deadline starts again)."""
    conditions: list[Object] = [dict(c) for c in status.get("conditions") or ()]
    for i, cond in enumerate(conditions):
        if cond.get("type") != kind:
            continue
        same = (cond.get("status"), cond.get("reason"), cond.get("message"))
        if same == (value, reason, message) and not touch:
            return
        new = {
            "type": kind,
            "status": value,
            "lastUpdateTime": now,
            "reason": reason,
            "message": message,
        }
        new["lastTransitionTime"] = (
            cond.get("lastTransitionTime", now) if cond.get("status") == value else now
        )
        conditions[i] = new
        status["conditions"] = conditions
        return
    conditions.append(
        {
            "type": kind,
            "status": value,
            "lastUpdateTime": now,
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        }
    )
    status["conditions"] = conditions


_NO_DEADLINE = 2**31 - 1


def progress_deadline(d: Mapping[str, Any]) -> int | None:
    value = (d.get("spec") or {}).get("progressDeadlineSeconds", 600)
    return None if value is None or int(value) == _NO_DEADLINE else int(value)


def has_progress_deadline(d: Mapping[str, Any]) -> bool:
    return progress_deadline(d) is not None


def progressing_condition(status: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for cond in status.get("conditions") or ():
        if cond.get("type") == "Progressing":
            return cond  # type: ignore[no-any-return]
    return None


def timed_out(d: Mapping[str, Any], status: Mapping[str, Any], now: float) -> bool:
    """No progress reported for progressDeadlineSeconds (a finished rollout never times out)."""
    deadline = progress_deadline(d)
    cond = progressing_condition(status)
    if deadline is None or cond is None or cond.get("reason") == "NewReplicaSetAvailable":
        return False
    if cond.get("reason") == "ProgressDeadlineExceeded":
        return True
    since = parse_time(cond.get("lastUpdateTime"))
    return since is not None and since + deadline < now
