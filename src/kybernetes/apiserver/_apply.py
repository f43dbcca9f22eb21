"""Server-side apply over HTTP: ``PATCH`` with ``application/apply-patch+yaml``.

:func:`serve_apply` answers an apply on an object or its ``/status``, as upstream does:

* ``fieldManager`` is required (422 ``PatchOptions``), ``force`` takes conflicting fields
  over; the configuration must name this resource's apiVersion and kind (400 ``invalid
  object type``), this object's name and namespace (400), and only fields the schema knows
  (``field not declared in schema``, whatever ``fieldValidation`` says, as upstream's typed
  conversion refuses them; upstream answers that with a 500, we with a 400, since it is the
  client's mistake); duplicate keys are refused under ``fieldValidation=Strict`` and warned
  about otherwise (the default, ``Warn``, as for every write).
* The configuration is merged into the stored object by :func:`kybernetes.api._apply.
  server_side_apply`, which also maintains managedFields; the result is then defaulted,
  prepared, validated and admitted like any update. A configuration that changes nothing is
  not written: the stored object comes back with its resourceVersion.
* An object that does not exist is created from the configuration (201) through the normal
  create path (namespace lifecycle, defaults, validation, admission); not through
  ``/status``, which answers 404 then, as upstream.
* Conflicts with other managers are 409 ``Conflict`` with one ``FieldManagerConflict``
  cause per field; configurations apply cannot use are 400.

:func:`read_apply_request` reads and checks an apply (options, body, configuration) into an
:class:`ApplyRequest`, whose :meth:`~ApplyRequest.apply` is the merge with Statuses for
errors; :mod:`._apply_scale` reuses both. :func:`check_patch_options` holds the option rules
every PATCH shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from kybernetes.api import (
    ApplyConflict,
    ApplyError,
    FieldError,
    FieldSet,
    ResourceInfo,
    SchemaNode,
    check_fields,
    forbidden,
    invalid,
    required,
    server_side_apply,
)
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._apply_body import decode_apply_body, strict_yaml_message
from kybernetes.apiserver._deletion import format_time
from kybernetes.apiserver._fieldcheck import IGNORE, STRICT
from kybernetes.apiserver._managed import endpoint_fields, tracker_for
from kybernetes.apiserver._options import WriteOptions, parse_write_options
from kybernetes.apiserver._render import object_response
from kybernetes.apiserver._request import APPLY_PATCH, Target, negotiate, read_body
from kybernetes.apiserver._storage import MAIN, ResourceStorage

Obj = dict[str, Any]

#: Create-or-update races (the object appears or vanishes meanwhile) retried this often.
_ATTEMPTS: Final = 8


def check_patch_options(content_type: str, query: Mapping[str, str], wopts: WriteOptions) -> None:
    """422 ``PatchOptions`` errors: apply needs a ``fieldManager``; other patches take no
    ``force``; a manager name must be printable."""
    errs: list[FieldError] = []
    if content_type == APPLY_PATCH:
        if not wopts.field_manager:
            errs.append(required("fieldManager", "is required for apply patch"))
    elif "force" in query:
        errs.append(forbidden("force", "may not be specified for non-apply patch"))
    for i, ch in enumerate(wopts.field_manager):
        if not ch.isprintable():
            message = f"invalid character U+{ord(ch):04X} (at position {i})"
            errs.append(invalid("fieldManager", wopts.field_manager, message))
            break
    if errs:
        raise errors.invalid("PatchOptions", "meta.k8s.io", "", errs)


def _gvk(api_version: Any, kind: Any) -> str:
    group, _, version = str(api_version or "").rpartition("/")
    return f"{group}/{version}, Kind={kind or ''}"


def _checked_config(
    target: Target, body: Any, node: SchemaNode | None, gvk: tuple[str, str]
) -> Obj:
    """The configuration if this endpoint can apply it (a copy where it had to change)."""
    info = target.info
    if not isinstance(body, dict):
        raise errors.bad_request(
            "error decoding YAML: the applied configuration is not a YAML or JSON object"
        )
    config: Obj = body
    api_version, kind = config.get("apiVersion"), config.get("kind")
    if (api_version, kind) != gvk:
        raise errors.bad_request(f"invalid object type: {_gvk(api_version, kind)}")
    meta = config.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    meta = meta or {}
    name = meta.get("name")
    if name and name != target.name:
        raise errors.bad_request(
            f"the name of the object ({name}) does not match the name on the URL ({target.name})"
        )
    namespace = meta.get("namespace")
    if namespace and not info.namespaced:
        # Cluster-scoped objects have no namespace: upstream clears one given.
        config = {**config, "metadata": {k: v for k, v in meta.items() if k != "namespace"}}
    elif namespace and namespace != target.namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if node is not None:
        unknown, type_errors = check_fields(config, node)
        if type_errors:
            group = gvk[0].rpartition("/")[0]
            raise errors.invalid(gvk[1], group, str(name or target.name), type_errors)
        if unknown:
            where = f"{target.namespace or ''}/{target.name}; {_gvk(api_version, kind)}"
            problems = "\n".join(f".{path}: field not declared in schema" for path in unknown)
            raise errors.bad_request(f"failed to create typed patch object ({where}): {problems}")
    return config


def _conflict(e: ApplyConflict) -> errors.APIError:
    causes = [errors.Cause(c["reason"], c["message"], c["field"]) for c in e.causes()]
    return errors.APIError(409, "Conflict", str(e), causes=causes)


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    """One apply PATCH, read and checked: what to apply, by whom, how."""

    wopts: WriteOptions
    config: Obj
    #: Duplicate keys of the body (refused under Strict once the apply worked, else warnings).
    duplicates: list[str]
    node: SchemaNode | None
    subresource: str
    ignore: FieldSet | None

    def apply(self, live: Obj | None, now: str) -> Obj:
        """``live`` (None: nothing yet) with the configuration applied; 409/400 Statuses."""
        try:
            result = server_side_apply(
                live,
                self.config,
                self.node,
                manager=self.wopts.field_manager,
                force=self.wopts.force,
                now=now,
                subresource=self.subresource,
                ignore=self.ignore,
            )
        except ApplyConflict as e:
            raise _conflict(e) from None
        except ApplyError as e:
            raise errors.bad_request(str(e)) from None
        # As upstream: strict decoding complaints only once the apply itself succeeded.
        if self.duplicates and self.wopts.field_validation == STRICT:
            raise errors.bad_request(strict_yaml_message(self.duplicates))
        return result


async def read_apply_request(
    request: web.Request,
    target: Target,
    subresource: str,
    *,
    node: SchemaNode | None,
    gvk: tuple[str, str],
    ignore: FieldSet | None,
) -> ApplyRequest:
    """The checked apply of ``request``, whose configuration must be a ``gvk`` object."""
    wopts = parse_write_options(request.query)
    check_patch_options(APPLY_PATCH, request.query, wopts)
    find_duplicates = wopts.field_validation != IGNORE
    body, duplicates = decode_apply_body(await read_body(request), find_duplicates=find_duplicates)
    config = _checked_config(target, body, node, gvk)
    return ApplyRequest(wopts, config, duplicates, node, subresource, ignore)


async def serve_apply(
    request: web.Request, storage: ResourceStorage, target: Target, subresource: str
) -> web.Response:
    """Answer an apply PATCH on ``target`` (``subresource`` "" or "status")."""
    info: ResourceInfo = target.info
    output = negotiate(request.headers.get("Accept"), table_allowed=False)
    node, ignore = endpoint_fields(info, subresource)
    gvk = (info.api_version, info.kind)
    req = await read_apply_request(request, target, subresource, node=node, gvk=gvk, ignore=ignore)
    wopts, duplicates = req.wopts, req.duplicates
    namespace, name = target.namespace or "", target.name
    fields = tracker_for(info, subresource, wopts.field_manager, None, record=False)

    def apply(live: Obj | None) -> Obj:
        return req.apply(live, format_time(storage.now()))

    for _ in range(_ATTEMPTS):
        try:
            stored, _ = await storage.guaranteed_update(
                namespace,
                name,
                apply,
                subresource=subresource,
                dry_run=wopts.dry_run,
                fields=fields,
            )
            return object_response(info, stored, output, warnings=duplicates)
        except errors.APIError as e:
            missing = e.code == 404 and e.name == name and e.kind == info.plural
            if not missing or subresource != MAIN:
                raise
        obj = apply(None)
        obj_meta = obj.setdefault("metadata", {})
        if obj_meta.get("name") != name:
            raise errors.bad_request(
                f"the name of the object ({obj_meta.get('name') or ''}) does not match the "
                f"name on the URL ({name})"
            )
        # A resourceVersion precondition means nothing for an object being created.
        obj_meta.pop("resourceVersion", None)
        try:
            created = await storage.create(namespace, obj, dry_run=wopts.dry_run, fields=fields)
        except errors.APIError as e:
            if e.reason != "AlreadyExists":
                raise
            continue
        return object_response(info, created, output, status=201, warnings=duplicates)
    raise errors.conflict(info, name)
