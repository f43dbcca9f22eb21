"""``pods/{name}/binding`` (and the legacy ``namespaces/{ns}/bindings``): assign a pod to a
node, what the scheduler does for every pod.

Promises, as upstream's binding storage:

* The body is a ``v1 Binding``: ``target.kind`` empty or ``Node``, ``target.name``
  required (and, here, a valid node name: a pod bound to an invalid name could never be
  updated again). Its name must be the pod's (400 otherwise; empty means the URL's).
* The pod is bound atomically, in one compare-and-swap write, and only if it is not bound
  yet, not being deleted and has no scheduling gates (409 Conflict on ``pods/binding``:
  ``pod x is already assigned to node "y"``). ``metadata.uid`` / ``resourceVersion`` in
  the Binding are preconditions on the pod.
* The write sets ``spec.nodeName``, merges the Binding's annotations into the pod's, and
  sets the ``PodScheduled`` condition to True (replacing the scheduler's reason/message).
* The answer is ``201`` with a Success Status.
"""

from __future__ import annotations

import copy
from typing import Any

from kybernetes.api._errors import FieldError, not_supported, required
from kybernetes.api._errors import invalid as invalid_field
from kybernetes.api._names import name_is_dns_subdomain, validate_annotations
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._deletion import format_time
from kybernetes.apiserver._storage import ResourceStorage

Obj = dict[str, Any]

BINDING_KIND = "Binding"
_RESOURCE = "pods/binding"


def binding_conflict(pod: str, why: str) -> errors.APIError:
    message = f'Operation cannot be fulfilled on {_RESOURCE} "{pod}": {why}'
    return errors.APIError(409, "Conflict", message, pod, "", _RESOURCE)


def validate_binding(binding: Obj) -> list[FieldError]:
    target = binding.get("target")
    target = target if isinstance(target, dict) else {}
    errs: list[FieldError] = []
    kind = target.get("kind")
    if kind not in (None, "", "Node"):
        errs.append(not_supported("target.kind", kind, ["Node", "<empty>"]))
    name = target.get("name")
    if not name:
        errs.append(required("target.name", ""))
    elif not isinstance(name, str):
        errs.append(invalid_field("target.name", name, "must be a string"))
    else:
        errs.extend(
            invalid_field("target.name", name, m) for m in name_is_dns_subdomain(name, False)
        )
    meta = binding.get("metadata") or {}
    errs.extend(validate_annotations(meta.get("annotations"), "metadata.annotations"))
    return errs


def set_condition(conditions: Any, condition: Obj, now: str) -> list[Obj]:
    """``conditions`` with ``condition`` put in place of the one of its type (upstream's
    ``UpdatePodCondition``: the transition time moves only when the status changes)."""
    out = [dict(c) for c in conditions or [] if isinstance(c, dict)]
    new = {"lastProbeTime": None, **condition, "lastTransitionTime": now}
    for i, old in enumerate(out):
        if old.get("type") == condition["type"]:
            if old.get("status") == condition["status"] and old.get("lastTransitionTime"):
                new["lastTransitionTime"] = old["lastTransitionTime"]
            out[i] = new
            return out
    out.append(new)
    return out


def bound_pod(pod: Obj, binding: Obj, now: str) -> Obj:
    """``pod`` (not changed) bound as ``binding`` says; 409 when it cannot be."""
    meta = pod.get("metadata") or {}
    name = str(meta.get("name") or "")
    spec = pod.get("spec") or {}
    want = binding.get("metadata") or {}
    uid, rv = want.get("uid"), want.get("resourceVersion")
    if uid and uid != meta.get("uid"):
        raise _pods_conflict(
            name,
            f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
            f"{meta.get('uid', '')}",
        )
    if rv and rv != meta.get("resourceVersion"):
        raise _pods_conflict(
            name,
            "the object has been modified; please apply your changes to the latest version "
            "and try again",
        )
    if meta.get("deletionTimestamp") is not None:
        raise binding_conflict(name, f"pod {name} is being deleted, cannot be assigned to a host")
    if spec.get("nodeName"):
        raise binding_conflict(name, f'pod {name} is already assigned to node "{spec["nodeName"]}"')
    if spec.get("schedulingGates"):
        raise binding_conflict(name, f"pod {name} has non-empty .spec.schedulingGates")
    out = copy.deepcopy(pod)
    out["spec"]["nodeName"] = binding["target"]["name"]
    annotations = want.get("annotations")
    if annotations:
        out["metadata"]["annotations"] = {**(meta.get("annotations") or {}), **annotations}
    status = out.setdefault("status", {})
    status["conditions"] = set_condition(
        status.get("conditions"), {"type": "PodScheduled", "status": "True"}, now
    )
    # The pod's version is the write's precondition, checked above; let the storage retry.
    out["metadata"].pop("resourceVersion", None)
    return out


def _pods_conflict(name: str, why: str) -> errors.APIError:
    message = f'Operation cannot be fulfilled on pods "{name}": {why}'
    return errors.APIError(409, "Conflict", message, name, "", "pods")


async def bind(
    storage: ResourceStorage, namespace: str, binding: Obj, url_name: str, *, dry_run: bool
) -> None:
    """Bind the pod ``binding`` names (``storage`` must use the binding strategy)."""
    meta = binding.get("metadata")
    if meta is None:
        meta = binding["metadata"] = {}
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    if url_name and not meta.get("name"):
        meta["name"] = url_name
    name = meta.get("name")
    if not name or not isinstance(name, str):
        raise errors.bad_request("the Binding has no metadata.name: name the pod to bind")
    if url_name and name != url_name:
        raise errors.bad_request("name in URL does not match name in Binding object")
    if meta.get("namespace") not in (None, "", namespace):
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    errs = validate_binding(binding)
    if errs:
        raise errors.invalid(BINDING_KIND, "", name, errs)
    now = format_time(storage.now())
    await storage.guaranteed_update(
        namespace,
        name,
        lambda pod: bound_pod(pod, binding, now),
        subresource="binding",
        dry_run=dry_run,
    )
