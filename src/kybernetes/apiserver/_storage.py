"""The generic registry: create, get, update and delete objects of one resource.

:class:`ResourceStorage` turns API semantics into store operations, the same way for
every resource; what differs per resource is asked of its
:class:`~kybernetes.apiserver._strategy.ResourceStrategy` and of :mod:`._admission`.

Promises:

* ``resourceVersion`` is the store's ``mod_revision`` of the object, as a string.
* Create sets uid, creationTimestamp and (for resources that track it) generation 1,
  draws a name from ``generateName`` (retrying on collision), and answers 409
  AlreadyExists otherwise.
* Update is optimistic: a ``resourceVersion`` in the new object must be the stored one
  (409 Conflict otherwise); without one the update is unconditional. Writes that change
  nothing are not written. Updates re-read and retry when the store reports a concurrent
  write the caller did not pin. An update may start from the watch cache's copy of the
  object (one store read less); it never answers from that copy alone when the copy could
  be stale in a way the store's revision guard would not catch.
* An update that removes the last finalizer of an object being deleted deletes it; see
  :mod:`._deletion` for what DELETE does.
* ``dry_run`` runs every step but the store write.
* Creates and updates go default -> mutating admission -> allocation -> prepare +
  validate -> validating admission -> store write through the resource's
  :class:`~kybernetes.apiserver._write_pipeline.WritePipeline`, which also settles what
  admission took when the write does not happen; removals are reported to it.
* Writes given a :class:`~kybernetes.apiserver._managed.FieldTracker` (``fields``) record
  their manager in ``metadata.managedFields`` once the object is defaulted; an update that
  changes nothing but managedFields timestamps is no write.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from kybernetes import store as st
from kybernetes.api import ResourceInfo
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._admission import CREATE, DELETE, UPDATE, Admission, Attributes
from kybernetes.apiserver._codec import CachedObject, from_kv, to_store
from kybernetes.apiserver._deletion import (
    check_preconditions,
    format_time,
    plan_delete,
    should_delete_during_update,
)
from kybernetes.apiserver._keys import object_key
from kybernetes.apiserver._managed import FieldTracker
from kybernetes.apiserver._options import DeleteOptions
from kybernetes.apiserver._strategy import ResourceStrategy, meta_errors
from kybernetes.apiserver._watchcache import WatchCache
from kybernetes.apiserver._write_pipeline import WritePipeline, plain_pipeline

Obj = dict[str, Any]
#: Computes the desired object from the current one (never mutating it).
UpdateFn = Callable[[Obj], Obj]

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_GENERATED_SUFFIX = 5
_MAX_NAME = 63
_GENERATE_ATTEMPTS = 8
_UPDATE_ATTEMPTS = 32

MAIN, STATUS, FINALIZE, SCALE = "", "status", "finalize", "scale"


#: Names need to be unlikely to collide, not unguessable (upstream draws them from a
#: non-cryptographic generator too); one seeded from the OS costs no syscall per draw.
_NAME_RANDOM = random.Random()


def generate_name(base: str) -> str:
    """``base`` plus five random characters, as upstream's SimpleNameGenerator."""
    base = base[: _MAX_NAME - _GENERATED_SUFFIX]
    return base + "".join(_NAME_RANDOM.choices(_NAME_ALPHABET, k=_GENERATED_SUFFIX))


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    elif not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    return meta


def _without_rv(obj: Obj) -> Obj:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
    return {**obj, "metadata": meta}


class ResourceStorage:
    def __init__(
        self,
        store: st.Store,
        strategy: ResourceStrategy,
        admission: Admission,
        *,
        clock: Callable[[], float] = time.time,
        pipeline: WritePipeline | None = None,
        cache: WatchCache | None = None,
    ) -> None:
        self.store = store
        #: The resource's watch cache: where an update first looks for the current object.
        self.cache = cache
        self.strategy = strategy
        self.info: ResourceInfo = strategy.info
        self.admission = admission
        self.clock = clock
        self.pipeline = pipeline if pipeline is not None else plain_pipeline(admission)

    def now(self) -> datetime:
        return datetime.fromtimestamp(int(self.clock()), UTC)

    def key(self, namespace: str, name: str) -> str:
        return object_key(self.info, namespace, name)

    def bind_namespace(self, obj: Obj, namespace: str) -> None:
        """Put the URL's namespace in ``obj`` (owned by the caller); 400 on a mismatch."""
        meta = _meta(obj)
        if not self.info.namespaced:
            meta.pop("namespace", None)
            return
        given = meta.get("namespace")
        if given and given != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent "
                "on the request"
            )
        meta["namespace"] = namespace

    def _invalid(self, obj: Obj, errs: Any) -> errors.APIError:
        name = str((obj.get("metadata") or {}).get("name") or "")
        return errors.invalid(self.info.kind, self.info.group, name, list(errs))

    # -- read ----------------------------------------------------------------------------

    async def get(self, namespace: str, name: str) -> Obj:
        """The object as stored now (a consistent read)."""
        try:
            return from_kv(await self.store.get(self.key(namespace, name)))
        except st.StoreError as e:
            raise errors.from_store_error(e, self.info, name) from None

    # -- create --------------------------------------------------------------------------

    async def create(
        self,
        namespace: str,
        obj: Obj,
        *,
        dry_run: bool = False,
        fields: FieldTracker | None = None,
    ) -> Obj:
        """Store ``obj`` (owned by the caller) as a new object; returns what was stored.
        ``fields`` records who wrote it in managedFields (None: left as given)."""
        self.bind_namespace(obj, namespace)
        meta = _meta(obj)
        if meta.get("resourceVersion"):
            raise errors.bad_request("resourceVersion should not be set on objects to be created")
        for system in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(system, None)
        meta["uid"] = str(uuid.uuid4())
        now = format_time(self.now())
        meta["creationTimestamp"] = now
        generate = not meta.get("name") and bool(meta.get("generateName"))
        for attempt in range(_GENERATE_ATTEMPTS):
            candidate = {**obj, "metadata": dict(meta)}
            if generate:
                candidate["metadata"]["name"] = generate_name(str(meta["generateName"]))
            defaulted = self._default_create(candidate, fields, now)
            name = defaulted["metadata"]["name"]
            attrs = Attributes(CREATE, self.info, namespace, name, obj=defaulted, dry_run=dry_run)
            async with self.pipeline.write(attrs) as w:
                prepared = self._prepare_create(w.obj)
                await w.admit(replace(attrs, obj=prepared))
                if dry_run:
                    return prepared
                try:
                    kv = await self.store.create(self.key(namespace, name), to_store(prepared))
                except st.AlreadyExists:
                    if generate and attempt + 1 < _GENERATE_ATTEMPTS:
                        continue
                    raise errors.already_exists(self.info, name) from None
                except st.StoreError as e:
                    raise errors.from_store_error(e, self.info, name) from None
                prepared["metadata"]["resourceVersion"] = str(kv.mod_revision)
                w.stored(prepared)
                return prepared
        raise AssertionError("unreachable")

    def _default_create(self, obj: Obj, fields: FieldTracker | None, now: str) -> Obj:
        errs = meta_errors(obj)
        if errs:
            raise self._invalid(obj, errs)
        defaulted = self.strategy.default(obj)
        if fields is not None:
            defaulted = fields.created(defaulted, now)
        return defaulted

    def _prepare_create(self, defaulted: Obj) -> Obj:
        s = self.strategy
        prepared = s.prepare_for_create(defaulted)
        errs = list(s.validate_create(prepared))
        if errs:
            raise self._invalid(prepared, errs)
        return prepared

    # -- update --------------------------------------------------------------------------

    async def update(
        self,
        namespace: str,
        name: str,
        obj: Obj,
        *,
        subresource: str = MAIN,
        dry_run: bool = False,
        fields: FieldTracker | None = None,
    ) -> tuple[Obj, bool]:
        """PUT: replace the object with ``obj``. Returns (stored object, created)."""
        self.bind_namespace(obj, namespace)
        given = _meta(obj).get("name")
        if given != name:
            raise errors.bad_request(
                f"the name of the object ({given or ''}) does not match the name on the URL "
                f"({name})"
            )
        allow_create = self.strategy.allow_create_on_update and subresource == MAIN
        return await self.guaranteed_update(
            namespace,
            name,
            lambda _current: obj,
            subresource=subresource,
            dry_run=dry_run,
            create=obj if allow_create else None,
            fields=fields,
        )

    async def guaranteed_update(
        self,
        namespace: str,
        name: str,
        compute: UpdateFn,
        *,
        subresource: str = MAIN,
        dry_run: bool = False,
        create: Obj | None = None,
        fields: FieldTracker | None = None,
    ) -> tuple[Obj, bool]:
        """Read, compute the desired object, prepare and write it; retry on races.

        ``compute`` may return an object carrying ``metadata.resourceVersion``: it must
        then be the current one (409 otherwise). ``create``: the object to create if
        there is none (PUT on resources that allow it). ``fields`` records who wrote it in
        managedFields (None: managedFields as ``compute`` returns them).
        """
        key = self.key(namespace, name)
        # The first attempt may start from the watch cache's copy, as upstream's
        # GuaranteedUpdate does, saving a store read: the write is guarded by that copy's
        # revision, so a stale copy costs a retry from the store, never a lost update.
        # Answers the guard cannot check (a pinned resourceVersion that differs, nothing to
        # change, dry runs) are confirmed from the store before they are given.
        hint = self._cached(namespace, name) if not dry_run else None
        for _ in range(_UPDATE_ATTEMPTS):
            if hint is not None:
                old, revision, from_cache = hint.decode(), hint.revision, True
                hint = None
            else:
                try:
                    kv = await self.store.get(key)
                except st.NotFound:
                    if create is not None:
                        created = await self.create(
                            namespace, dict(create), dry_run=dry_run, fields=fields
                        )
                        return created, True
                    raise errors.not_found(self.info, name) from None
                except st.StoreError as e:
                    raise errors.from_store_error(e, self.info, name) from None
                old, revision, from_cache = from_kv(kv), kv.mod_revision, False
            desired = compute(old)
            pinned = (desired.get("metadata") or {}).get("resourceVersion")
            if pinned and pinned != old["metadata"]["resourceVersion"]:
                if from_cache:
                    continue
                raise errors.conflict(self.info, name)
            defaulted = self._default_update(desired, old, fields)
            attrs = Attributes(
                UPDATE, self.info, namespace, name, subresource, defaulted, old, dry_run
            )
            async with self.pipeline.write(attrs) as w:
                new = self._prepare_update(w.obj, old, subresource, fields)
                namespaces = (self.info.group, self.info.plural) == ("", "namespaces")
                if should_delete_during_update(new, old, namespace=namespaces):
                    if not dry_run:
                        try:
                            gone = await self.store.delete(key, expected_revision=revision)
                        except st.Conflict:
                            continue
                        except st.StoreError as e:
                            raise errors.from_store_error(e, self.info, name) from None
                        new["metadata"]["resourceVersion"] = str(gone.revision)
                        old["metadata"]["resourceVersion"] = str(gone.revision)
                        await self.pipeline.removed(old)
                    return new, False
                await w.admit(replace(attrs, obj=new))
                if _without_rv(new) == _without_rv(old):
                    if from_cache:
                        continue
                    return old, False
                if dry_run:
                    new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
                    return new, False
                try:
                    written = await self.store.update(
                        key, to_store(new), expected_revision=revision
                    )
                except (st.Conflict, st.NotFound):
                    # From a cached copy, the pin may be the copy's own version (``compute``
                    # keeps it): recompute from the store, which judges a real pin.
                    if pinned and not from_cache:
                        raise errors.conflict(self.info, name) from None
                    continue
                except st.StoreError as e:
                    raise errors.from_store_error(e, self.info, name) from None
                new["metadata"]["resourceVersion"] = str(written.mod_revision)
                w.stored(new)
                return new, False
        raise errors.conflict(self.info, name)

    def _cached(self, namespace: str, name: str) -> CachedObject | None:
        cache = self.cache
        if cache is None or not cache.ready.is_set():
            return None
        return cache.get(namespace, name)

    def _default_update(self, desired: Obj, old: Obj, fields: FieldTracker | None) -> Obj:
        """System metadata from ``old``, then the strategy's defaults (and managedFields)."""
        new = {**desired}
        meta = dict(_meta(desired))
        new["metadata"] = meta
        old_meta = old["metadata"]
        meta["name"] = old_meta["name"]
        if self.info.namespaced:
            meta["namespace"] = old_meta.get("namespace")
        if not meta.get("uid"):
            meta["uid"] = old_meta.get("uid")
        # Validation sees the version being replaced; the store never keeps it.
        meta["resourceVersion"] = old_meta.get("resourceVersion")
        meta.pop("selfLink", None)
        # Users cannot set or change these; upstream silently keeps the stored ones.
        for system in (
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if system in old_meta:
                meta[system] = old_meta[system]
            else:
                meta.pop(system, None)
        new = self.strategy.default(new)
        if fields is not None:
            new = fields.updated(new, old, format_time(self.now()))
        return new

    def _prepare_update(
        self, new: Obj, old: Obj, subresource: str, fields: FieldTracker | None = None
    ) -> Obj:
        """The strategy's prepare and validate of a defaulted (and admitted) update."""
        s = self.strategy
        if subresource == STATUS:
            new = s.prepare_for_status_update(new, old, format_time(self.now()))
        elif subresource == FINALIZE:
            new = s.prepare_for_finalize(new, old)
        else:
            new = s.prepare_for_update(new, old)
        errs = list(s.validate_update(new, old))
        if errs:
            raise self._invalid(new, errs)
        if fields is not None:
            new = fields.settled(new, old)
        return new

    # -- delete --------------------------------------------------------------------------

    async def delete(self, namespace: str, name: str, opts: DeleteOptions) -> tuple[Obj, bool]:
        """DELETE: returns (the object's last state, whether it is gone now)."""
        key = self.key(namespace, name)
        for _ in range(_UPDATE_ATTEMPTS):
            try:
                kv = await self.store.get(key)
            except st.StoreError as e:
                raise errors.from_store_error(e, self.info, name) from None
            obj = from_kv(kv)
            check_preconditions(obj, opts, self.strategy)
            await self.admission.admit(
                Attributes(DELETE, self.info, namespace, name, old=obj, dry_run=opts.dry_run)
            )
            plan = plan_delete(obj, opts, self.strategy, self.now())
            if plan.delete_now:
                if opts.dry_run:
                    return obj, True
                try:
                    gone = await self.store.delete(key, expected_revision=kv.mod_revision)
                except st.Conflict:
                    continue
                except st.StoreError as e:
                    raise errors.from_store_error(e, self.info, name) from None
                obj["metadata"]["resourceVersion"] = str(gone.revision)
                await self.pipeline.removed(obj)
                return obj, True
            if plan.marked is None:
                return obj, False
            if opts.dry_run:
                return plan.marked, False
            try:
                written = await self.store.update(
                    key, to_store(plan.marked), expected_revision=kv.mod_revision
                )
            except (st.Conflict, st.NotFound):
                continue
            except st.StoreError as e:
                raise errors.from_store_error(e, self.info, name) from None
            plan.marked["metadata"]["resourceVersion"] = str(written.mod_revision)
            return plan.marked, False
        raise errors.conflict(self.info, name)
