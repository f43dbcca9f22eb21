"""``pods/{name}/eviction``: delete a pod unless that would break its disruption budget.

What ``kubectl drain`` and the Python client's ``create_namespaced_pod_eviction`` use.
Upstream's order, reproduced (the rules themselves are in :mod:`._eviction_rules`):

1. The body is a ``policy/v1`` (or ``policy/v1beta1``) Eviction named as the pod; its
   ``deleteOptions`` (grace period, preconditions, propagation, dryRun) are the delete's.
2. Pending, finished or already deleting pods are deleted at once (pinned to the version
   read unless finished, retried on conflicts unless the client pinned a version).
3. Otherwise the budgets of the pod's namespace that select it are read (consistently):
   more than one is a 500 as upstream; none lets the pod go.
4. With one budget, a disruption is spent on it *before* the pod is deleted, in a
   compare-and-swap write of the budget's status (``disruptionsAllowed`` - 1, the pod
   recorded in ``disruptedPods``): of two concurrent evictions against a budget of one,
   the second re-reads the budget after losing the race and gets 429. A budget with no
   computed status (no disruption controller yet) blocks every eviction with 429.
   An unready pod the application can do without is let go without spending the budget,
   but only if it is still unready when deleted (429 otherwise, so the client retries).
5. The pod gets the ``DisruptionTarget`` condition, then is deleted with the options.
   The answer is 201 with a Success Status.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver import _eviction_rules as rules
from kybernetes.apiserver._binding import set_condition
from kybernetes.apiserver._deletion import check_preconditions, format_time
from kybernetes.apiserver._list import list_objects
from kybernetes.apiserver._options import DeleteOptions, ListOptions, parse_delete_options
from kybernetes.apiserver._storage import STATUS, ResourceStorage
from kybernetes.apiserver._watchcache import WatchCache

Obj = dict[str, Any]

EVICTION_KIND = "Eviction"
EVICTION_VERSIONS = ("policy/v1", "policy/v1beta1")
#: Attempts of the delete-without-budget loop on conflicts (upstream's EvictionsRetry).
_ATTEMPTS = 20


def check_eviction(eviction: Obj, namespace: str, url_name: str) -> None:
    """400 unless ``eviction`` is an Eviction of the pod the URL names."""
    kind, version = eviction.get("kind"), eviction.get("apiVersion")
    if kind not in (None, "", EVICTION_KIND):
        raise errors.bad_request(f"not an Eviction object: the kind is {kind}")
    if version not in (None, "", *EVICTION_VERSIONS):
        raise errors.bad_request(
            f"the API version of an Eviction must be policy/v1 or policy/v1beta1, not {version}"
        )
    meta = eviction.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    if meta.get("name") != url_name:
        raise errors.bad_request("name in URL does not match name in Eviction object")
    if meta.get("namespace") not in (None, "", namespace):
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )


def delete_options(eviction: Obj, query_dry_run: bool) -> DeleteOptions:
    body = eviction.get("deleteOptions")
    if body is not None and not isinstance(body, dict):
        raise errors.bad_request("deleteOptions must be an object")
    opts = parse_delete_options({}, body)
    if query_dry_run and body and body.get("dryRun") is not None and not opts.dry_run:
        raise errors.bad_request("the dryRun options for eviction and deleteOptions must match")
    return replace(opts, dry_run=opts.dry_run or query_dry_run)


class Evictor:
    def __init__(self, pods: ResourceStorage, budgets: ResourceStorage, budget_cache: WatchCache):
        self.pods = pods
        self.budgets = budgets
        self.budget_cache = budget_cache

    async def evict(self, namespace: str, name: str, opts: DeleteOptions) -> None:
        pinned = opts.precondition_resource_version is not None
        pod: Obj | None = None
        last: errors.APIError | None = None
        for _ in range(_ATTEMPTS):
            pod = await self.pods.get(namespace, name)
            # A wrong UID stays wrong: no point retrying (upstream retries, then fails so).
            check_preconditions(
                pod, replace(opts, precondition_resource_version=None), self.pods.strategy
            )
            if not rules.can_ignore_pdb(pod):
                break
            attempt = opts
            if rules.enforce_resource_version(pod) and not pinned:
                attempt = replace(opts, precondition_resource_version=_rv(pod))
            try:
                await self._delete(namespace, name, attempt)
            except errors.APIError as e:
                if e.code == 409 and not pinned:
                    last = e
                    continue
                raise
            return
        else:
            raise last or errors.conflict(self.pods.info, name)
        assert pod is not None

        listed = await list_objects(self.budget_cache, namespace, ListOptions())
        budgets = rules.matching_budgets(pod, (o.decode() for o in listed.items))
        if len(budgets) > 1:
            raise errors.APIError(500, "InternalError", rules.MULTIPLE_BUDGETS_MESSAGE)
        unready_pass = False
        budget_name = ""
        if budgets:
            budget = budgets[0]
            budget_name = str(budget["metadata"]["name"])
            if not rules.pod_ready(pod) and rules.unhealthy_may_go(budget):
                unready_pass = True
            else:
                await self._spend(namespace, budget_name, name, dry_run=opts.dry_run)
        attempt = opts
        if unready_pass:
            attempt = replace(opts, precondition_resource_version=_rv(pod))
        try:
            await self._delete(namespace, name, attempt)
        except errors.APIError as e:
            if e.code == 409 and unready_pass and not pinned:
                raise rules.too_many_requests(
                    f"The disruption budget {budget_name} is still being processed by the server.",
                    10,
                ) from None
            raise

    async def _spend(self, namespace: str, budget: str, pod: str, *, dry_run: bool) -> None:
        """One disruption of ``budget`` for ``pod``, compare-and-swap (retried on races)."""
        now = format_time(self.budgets.now())
        try:
            await self.budgets.guaranteed_update(
                namespace,
                budget,
                lambda current: _unpinned(rules.decrement_budget(current, pod, now)),
                subresource=STATUS,
                dry_run=dry_run,
            )
        except errors.APIError as e:
            if e.code == 409:
                message = f'couldn\'t update PodDisruptionBudget "{budget}" due to conflicts'
                raise errors.APIError(504, "Timeout", message, retry_after=10) from None
            raise

    async def _delete(self, namespace: str, name: str, opts: DeleteOptions) -> None:
        """Mark the pod as a disruption target, then delete it with ``opts``."""
        if not opts.dry_run:
            now = format_time(self.pods.now())

            def mark(current: Obj) -> Obj:
                check_preconditions(current, opts, self.pods.strategy)
                out = dict(current)
                status = dict(current.get("status") or {})
                status["conditions"] = set_condition(
                    status.get("conditions"),
                    {
                        "type": "DisruptionTarget",
                        "status": "True",
                        "reason": "EvictionByEvictionAPI",
                        "message": "Eviction API: evicting",
                    },
                    now,
                )
                out["status"] = status
                return _unpinned(out)

            marked, _ = await self.pods.guaranteed_update(namespace, name, mark, subresource=STATUS)
            if opts.precondition_resource_version is not None:
                # The version the client pinned is the one we just replaced.
                opts = replace(opts, precondition_resource_version=_rv(marked))
        await self.pods.delete(namespace, name, opts)


def _rv(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _unpinned(obj: Obj) -> Obj:
    """``obj`` without its resourceVersion: the storage then retries on concurrent writes
    (each retry re-runs the checks against the fresh object)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
    return {**obj, "metadata": meta}
