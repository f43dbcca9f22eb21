"""The REST client: the Kubernetes verbs for any resource in the registry.

Theory of operation: :class:`RESTClient` turns a verb on a
:class:`~kybernetes.api.ResourceInfo` into one request of :class:`._http.HTTPClient`
(rate limit, failover, ``Retry-After``, typed errors) and returns the decoded JSON, a plain
dict the caller owns. It promises:

* Namespaced resources need a namespace for single-object verbs (the argument, else the
  body's ``metadata.namespace``); list, watch and delete-collection without one span all
  namespaces. Cluster-wide resources refuse one. Subresources (``status``, ``scale``,
  ``binding``, ``eviction``, ...) must be declared by the registry.
* Bodies are never modified; query options are sent only when set.
* :meth:`RESTClient.list_all` pages through with ``limit``/``continue`` and returns one
  list of every item at one resourceVersion; if the continue token expires mid-way it
  falls back to one unpaginated list, as upstream's pager does.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from typing import Any, Literal

from kybernetes.api import ResourceInfo
from kybernetes.client._errors import Expired
from kybernetes.client._http import DEFAULT, HTTPClient, Timeout
from kybernetes.client._paths import PATCH_CONTENT_TYPES, QueryValue, object_meta, resource_path
from kybernetes.client._watch import DEFAULT_WATCH_TIMEOUT, WatchEvent, watch, watch_once

Object = dict[str, Any]
PatchType = Literal["json", "merge", "strategic", "apply"]
PropagationPolicy = Literal["Orphan", "Background", "Foreground"]


def _write_query(
    dry_run: bool, field_manager: str | None, field_validation: str | None
) -> dict[str, QueryValue | list[str]]:
    return {
        "dryRun": "All" if dry_run else None,
        "fieldManager": field_manager,
        "fieldValidation": field_validation,
    }


def _delete_options(
    propagation_policy: PropagationPolicy | None,
    grace_period_seconds: int | None,
    dry_run: bool,
    preconditions: Mapping[str, str] | None = None,
) -> Object:
    body: Object = {"kind": "DeleteOptions", "apiVersion": "v1"}
    if propagation_policy is not None:
        body["propagationPolicy"] = propagation_policy
    if grace_period_seconds is not None:
        body["gracePeriodSeconds"] = grace_period_seconds
    if dry_run:
        body["dryRun"] = ["All"]
    if preconditions:
        body["preconditions"] = dict(preconditions)
    return body


class RESTClient(HTTPClient):
    """An async Kubernetes client. See :class:`._http.HTTPClient` for the options."""

    async def get(
        self,
        resource: ResourceInfo,
        name: str,
        *,
        namespace: str | None = None,
        subresource: str | None = None,
        resource_version: str | None = None,
        timeout: Timeout = DEFAULT,  # noqa: ASYNC109 (per-request budget)
    ) -> Object:
        path = resource_path(resource, namespace=namespace, name=name, subresource=subresource)
        query = {"resourceVersion": resource_version}
        result: Object = await self.request("GET", path, query=query, timeout=timeout)
        return result

    async def list(
        self,
        resource: ResourceInfo,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
        resource_version_match: str | None = None,
        timeout: Timeout = DEFAULT,  # noqa: ASYNC109 (per-request budget)
    ) -> Object:
        """One list answer (one page when ``limit`` is set: see ``metadata.continue``)."""
        path = resource_path(resource, namespace=namespace, collection=True)
        query: dict[str, QueryValue | list[str]] = {
            "labelSelector": label_selector or None,
            "fieldSelector": field_selector or None,
            "limit": limit,
            "continue": continue_ or None,
            "resourceVersion": resource_version,
            "resourceVersionMatch": resource_version_match,
        }
        result: Object = await self.request("GET", path, query=query, timeout=timeout)
        return result

    async def list_pages(
        self,
        resource: ResourceInfo,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
        timeout: Timeout = DEFAULT,  # noqa: ASYNC109 (per-request budget)
    ) -> AsyncIterator[Object]:
        """Each page of a paginated list, following ``continue`` to the end."""
        token: str | None = None
        while True:
            page = await self.list(
                resource,
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=page_size,
                continue_=token,
                timeout=timeout,
            )
            yield page
            token = object_meta(page).get("continue") or None
            if not token:
                return

    async def list_all(
        self,
        resource: ResourceInfo,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
        timeout: Timeout = DEFAULT,  # noqa: ASYNC109 (per-request budget)
    ) -> Object:
        """Every item, fetched ``page_size`` at a time, as one list object."""
        items: list[Object] = []
        rv = ""
        pages = 0
        try:
            async for page in self.list_pages(
                resource,
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                page_size=page_size,
                timeout=timeout,
            ):
                pages += 1
                items.extend(page.get("items") or ())
                rv = str(object_meta(page).get("resourceVersion") or rv)
        except Expired:
            if pages == 0:
                raise
            # The snapshot the pages came from was compacted away: one full list instead.
            return await self.list(
                resource,
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                timeout=timeout,
            )
        return {
            "kind": resource.list_kind,
            "apiVersion": resource.api_version,
            "metadata": {"resourceVersion": rv},
            "items": items,
        }

    async def create(
        self,
        resource: ResourceInfo,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: str | None = None,
        timeout: Timeout = DEFAULT,  # noqa: ASYNC109 (per-request budget)
    ) -> Object:
        """POST ``body``; with ``subresource`` (``binding``, ``eviction``) to object ``name``
        (default: the body's name)."""
        meta = object_meta(body)
        if resource.namespaced and not namespace:
            namespace = meta.get("namespace")
        if subresource:
            path = resource_path(
                resource,
                namespace=namespace,
                name=name or meta.get("name") or "",
                subresource=subresource,
            )
        else:
            if resource.namespaced and not namespace:
                raise ValueError(f"{resource.group_resource} is namespaced: a namespace is needed")
            path = resource_path(resource, namespace=namespace, collection=True)
        query = _write_query(dry_run, field_manager, field_validation)
        result: Object = await self.request("POST", path, query=query, body=body, timeout=timeout)
        return result

    async def update(
        self,
        resource: ResourceInfo,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: str | None = None,
        timeout: Timeout = DEFAULT,  # noqa: ASYNC109 (per-request budget)
    ) -> Object:
        """PUT ``body`` (named by its metadata; a stale ``resourceVersion`` is a Conflict)."""
        meta = object_meta(body)
        if resource.namespaced and not namespace:
            namespace = meta.get("namespace")
        path = resource_path(
            resource, namespace=namespace, name=meta.get("name") or "", subresource=subresource
        )
        query = _write_query(dry_run, field_manager, field_validation)
        result: Object = await self.request("PUT", path, query=query, body=body, timeout=timeout)
        return result

    async def patch(
        self,
        resource: ResourceInfo,
        name: str,
        patch: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        namespace: str | None = None,
        type: PatchType = "merge",
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
        force: bool | None = None,
        field_validation: str | None = None,
        timeout: Timeout = DEFAULT,  # noqa: ASYNC109 (per-request budget)
    ) -> Object:
        """PATCH: ``json`` (a list of operations), ``merge``, ``strategic`` or server-side
        ``apply`` (needs ``field_manager``; ``force`` takes over conflicting fields)."""
        if type not in PATCH_CONTENT_TYPES:
            raise ValueError(
                f"unknown patch type {type!r} (one of {', '.join(PATCH_CONTENT_TYPES)})"
            )
        if type == "apply" and not field_manager:
            raise ValueError("a server-side apply needs a field_manager")
        if (type == "json") != (not isinstance(patch, Mapping)):
            raise ValueError("a json patch is a list of operations; other patches are objects")
        path = resource_path(resource, namespace=namespace, name=name, subresource=subresource)
        query = _write_query(dry_run, field_manager, field_validation)
        query["force"] = force
        result: Object = await self.request(
            "PATCH",
            path,
            query=query,
            body=patch if isinstance(patch, Mapping) else list(patch),
            content_type=PATCH_CONTENT_TYPES[type],
            timeout=timeout,
        )
        return result

    async def delete(
        self,
        resource: ResourceInfo,
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: PropagationPolicy | None = None,
        grace_period_seconds: int | None = None,
        uid: str | None = None,
        resource_version: str | None = None,
        dry_run: bool = False,
        timeout: Timeout = DEFAULT,  # noqa: ASYNC109 (per-request budget)
    ) -> Object:
        """DELETE; the answer is the object (still terminating, or as it was) or a Status.
        ``uid``/``resource_version`` are preconditions (a mismatch is a Conflict)."""
        path = resource_path(resource, namespace=namespace, name=name)
        preconditions = {
            k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v
        }
        body = _delete_options(propagation_policy, grace_period_seconds, dry_run, preconditions)
        result: Object = await self.request("DELETE", path, body=body, timeout=timeout)
        return result

    async def delete_collection(
        self,
        resource: ResourceInfo,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        propagation_policy: PropagationPolicy | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
        timeout: Timeout = DEFAULT,  # noqa: ASYNC109 (per-request budget)
    ) -> Object:
        """DELETE every object that matches (in ``namespace``, or everywhere)."""
        path = resource_path(resource, namespace=namespace, collection=True)
        query: dict[str, QueryValue | list[str]] = {
            "labelSelector": label_selector or None,
            "fieldSelector": field_selector or None,
        }
        body = _delete_options(propagation_policy, grace_period_seconds, dry_run)
        result: Object = await self.request("DELETE", path, query=query, body=body, timeout=timeout)
        return result

    def watch(
        self,
        resource: ResourceInfo,
        *,
        resource_version: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int = DEFAULT_WATCH_TIMEOUT,
    ) -> AsyncGenerator[WatchEvent, None]:
        """Every change after ``resource_version``, resumed across streams
        (:func:`._watch.watch`); raises ``WatchExpired`` when a relist is needed."""
        return watch(
            self,
            resource,
            resource_version=resource_version,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            timeout_seconds=timeout_seconds,
        )

    def watch_once(
        self,
        resource: ResourceInfo,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int | None = DEFAULT_WATCH_TIMEOUT,
        allow_bookmarks: bool = True,
        send_initial_events: bool = False,
    ) -> AsyncGenerator[WatchEvent, None]:
        """One raw watch stream (:func:`._watch.watch_once`), bookmarks included."""
        return watch_once(
            self,
            resource,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=resource_version,
            timeout_seconds=timeout_seconds,
            allow_bookmarks=allow_bookmarks,
            send_initial_events=send_initial_events,
        )
