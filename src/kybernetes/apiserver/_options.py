"""Query parameters and option bodies of API requests, parsed and checked up front.

Pure functions: each ``parse_*`` turns a query mapping (and for deletes a decoded body)
into a frozen options object or raises the 400/422 upstream answers. Unknown parameters
are ignored, as upstream does (clients send ``timeout``, ``pretty``, ``fieldManager``...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kybernetes.api import ResourceInfo
from kybernetes.api._errors import FieldError, forbidden, invalid, not_supported
from kybernetes.api._fieldselector import FieldSelector, parse_field_selector
from kybernetes.api._labelparse import parse_label_selector
from kybernetes.api._labels import LabelSelector, SelectorError
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._codec import CachedObject

Query = Mapping[str, str]

NOT_OLDER_THAN, EXACT = "NotOlderThan", "Exact"
PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")
FIELD_VALIDATION = ("Strict", "Warn", "Ignore")


def _bool(query: Query, name: str) -> bool | None:
    raw = query.get(name)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in ("true", "1", ""):
        return True
    if value in ("false", "0"):
        return False
    raise errors.bad_request(f'invalid value for {name}: "{raw}": must be true or false')


#: Query integers are int64 upstream; larger ones would overflow the store and datetimes.
_INT64 = range(-(2**63), 2**63)
#: The longest grace period honoured (about 68 years): later deadlines are not dates.
MAX_GRACE_PERIOD = 2**31 - 1


def _int(query: Query, name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(f'invalid value for {name}: "{raw}": not an integer') from None
    if value not in _INT64:
        raise errors.bad_request(f'invalid value for {name}: "{raw}": value out of range')
    return value


def _meta_invalid(kind: str, errs: list[FieldError]) -> errors.APIError:
    return errors.invalid(kind, "meta.k8s.io", "", errs)


def parse_dry_run(query: Mapping[str, Any], body_value: Any = None) -> bool:
    """``dryRun=All`` (query, possibly repeated, or DeleteOptions ``dryRun: [All]``)."""
    values: list[str] = []
    raw = query.get("dryRun")
    if isinstance(raw, str) and raw:
        values.append(raw)
    if isinstance(body_value, list):
        values.extend(str(v) for v in body_value)
    for v in values:
        if v != "All":
            raise errors.bad_request(
                f'Invalid dryRun value "{v}": only "All" is supported (or nothing)'
            )
    return bool(values)


@dataclass(frozen=True, slots=True)
class ListOptions:
    label_selector: LabelSelector = field(default_factory=LabelSelector.everything)
    field_selector: FieldSelector = field(default_factory=FieldSelector)
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""
    watch: bool = False
    allow_watch_bookmarks: bool = False
    timeout_seconds: int | None = None
    send_initial_events: bool | None = None

    @property
    def selects_everything(self) -> bool:
        return self.label_selector.empty and self.field_selector.empty

    def matches(self, obj: CachedObject) -> bool:
        return self.label_selector.matches(obj.labels) and self.field_selector.matches_fields(
            obj.fields
        )


def parse_list_options(info: ResourceInfo, query: Query, *, watch: bool = False) -> ListOptions:
    """The list/watch options of a request; ``watch`` is True on the ``/watch/`` prefix."""
    try:
        labels = parse_label_selector(query.get("labelSelector", ""))
    except SelectorError as e:
        raise errors.bad_request(str(e)) from None
    try:
        fields = parse_field_selector(query.get("fieldSelector", ""))
        fields = fields.for_resource(info.group, info.plural)
    except SelectorError as e:
        raise errors.bad_request(str(e)) from None
    limit = max(_int(query, "limit") or 0, 0)
    watching = bool(_bool(query, "watch")) or watch
    rv = query.get("resourceVersion", "")
    match = query.get("resourceVersionMatch", "")
    send_initial = _bool(query, "sendInitialEvents")
    timeout = _int(query, "timeoutSeconds")
    errs: list[FieldError] = []
    if rv and rv != "0":
        try:
            if not 0 < int(rv) < 2**63:
                raise ValueError
        except ValueError:
            raise errors.bad_request(f'invalid resource version "{rv}"') from None
    if match:
        if match not in (NOT_OLDER_THAN, EXACT):
            errs.append(not_supported("resourceVersionMatch", match, [EXACT, NOT_OLDER_THAN]))
        elif watching and send_initial is None:
            errs.append(
                forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents "
                    "is provided",
                )
            )
        elif not rv and send_initial is None:
            errs.append(
                forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                )
            )
        elif match == EXACT and rv == "0":
            errs.append(
                forbidden(
                    "resourceVersionMatch",
                    'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
                )
            )
        elif match == EXACT and query.get("continue"):
            errs.append(
                forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden when continue is provided",
                )
            )
    if send_initial is not None:
        if not watching:
            errs.append(forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
        elif match != NOT_OLDER_THAN:
            errs.append(
                forbidden(
                    "resourceVersionMatch",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                )
            )
    if errs:
        raise _meta_invalid("ListOptions", errs)
    continue_token = query.get("continue", "")
    if continue_token and rv and rv != "0":
        raise errors.bad_request("specifying resource version is not allowed when using continue")
    if timeout is not None and timeout < 0:
        timeout = 0
    return ListOptions(
        label_selector=labels,
        field_selector=fields,
        limit=limit,
        continue_token=continue_token,
        resource_version=rv,
        resource_version_match=match,
        watch=watching,
        allow_watch_bookmarks=bool(_bool(query, "allowWatchBookmarks")),
        timeout_seconds=timeout,
        send_initial_events=send_initial,
    )


@dataclass(frozen=True, slots=True)
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    orphan_dependents: bool | None = None
    precondition_uid: str | None = None
    precondition_resource_version: str | None = None
    dry_run: bool = False


def parse_delete_options(query: Query, body: Mapping[str, Any] | None) -> DeleteOptions:
    """DeleteOptions from the body (kubectl, client-go) or the query (curl, some clients).

    Body values win over query values, as upstream decodes the body over the query.
    """
    body = body or {}
    if body and body.get("kind") not in (None, "", "DeleteOptions"):
        raise errors.bad_request(f"expected DeleteOptions, got kind {body.get('kind')!r}")
    grace = body.get("gracePeriodSeconds", _int(query, "gracePeriodSeconds"))
    policy = body.get("propagationPolicy", query.get("propagationPolicy"))
    orphan = body.get("orphanDependents", _bool(query, "orphanDependents"))
    pre = body.get("preconditions") or {}
    if not isinstance(pre, Mapping):
        raise errors.bad_request("preconditions must be an object")
    errs: list[FieldError] = []
    if grace is not None and (
        not isinstance(grace, int) or isinstance(grace, bool) or grace not in _INT64
    ):
        raise errors.bad_request("gracePeriodSeconds must be an integer")
    if policy is not None and not isinstance(policy, str):
        raise errors.bad_request("propagationPolicy must be a string")
    for key in ("uid", "resourceVersion"):
        if pre.get(key) is not None and not isinstance(pre.get(key), str):
            raise errors.bad_request(f"preconditions.{key} must be a string")
    if policy is not None and policy not in PROPAGATION_POLICIES:
        errs.append(not_supported("propagationPolicy", policy, PROPAGATION_POLICIES))
    if orphan is not None and not isinstance(orphan, bool):
        raise errors.bad_request("orphanDependents must be a boolean")
    if orphan is not None and policy is not None:
        errs.append(
            invalid(
                "propagationPolicy",
                policy,
                "orphanDependents and deletionPropagation cannot be both set",
            )
        )
    if errs:
        raise _meta_invalid("DeleteOptions", errs)
    if grace is not None and grace < 0:
        grace = 1  # upstream treats negative grace periods as one second
    if grace is not None:
        grace = min(grace, MAX_GRACE_PERIOD)
    return DeleteOptions(
        grace_period_seconds=grace,
        propagation_policy=policy,
        orphan_dependents=orphan,
        precondition_uid=pre.get("uid") or None,
        precondition_resource_version=pre.get("resourceVersion") or None,
        dry_run=parse_dry_run(query, body.get("dryRun")),
    )


@dataclass(frozen=True, slots=True)
class WriteOptions:
    dry_run: bool = False
    field_validation: str = "Warn"
    field_manager: str = ""
    force: bool = False


def parse_write_options(query: Query) -> WriteOptions:
    validation = query.get("fieldValidation", "") or "Warn"
    if validation not in FIELD_VALIDATION:
        raise errors.bad_request(
            f"fieldValidation parameter unsupported: {validation!r}: must be one of "
            "Strict, Warn, Ignore"
        )
    manager = query.get("fieldManager", "")
    if len(manager) > 128:
        raise _meta_invalid(
            "PatchOptions",
            [invalid("fieldManager", manager, "must be less than 128 characters long")],
        )
    return WriteOptions(
        dry_run=parse_dry_run(query),
        field_validation=validation,
        field_manager=manager,
        force=bool(_bool(query, "force")),
    )
