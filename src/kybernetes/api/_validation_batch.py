"""Validation of batch/v1 jobs and cronjobs, as upstream's batch validation.

A job's selector is generated from its uid unless ``manualSelector`` is true; the generated
labels must then be on the template. After creation the selector, the pod template (except
scheduling directives of a suspended job that never started), the completion mode and the
failure policies are immutable; ``completions`` too, except for an indexed job scaling
``completions`` together with ``parallelism``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from kybernetes.api._cron import CronError, parse_schedule, valid_time_zone
from kybernetes.api._defaults_batch import (
    CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
)
from kybernetes.api._errors import invalid, not_supported, required
from kybernetes.api._jsonvalue import deep_copy
from kybernetes.api._names import (
    is_dns1123_label,
    validate_object_meta,
    validate_object_meta_update,
)
from kybernetes.api._validation_common import (
    Errs,
    Obj,
    as_dict,
    immutable,
    label_selector,
    nonnegative,
    selector_matches_template,
    selector_of,
    struct,
    template_labels,
)
from kybernetes.api._validation_pod import validate_pod_template

_MAX_INDEXED_PARALLELISM: Final = 100_000
_TZ_PART: Final = re.compile(r"[A-Za-z\.\-_0-9+]{1,14}")


def _meta(obj: Obj) -> Obj:
    return as_dict(obj.get("metadata"))


def validate_job_spec(spec: Obj, field: str, *, with_selector: bool = True) -> Errs:
    """Upstream's ``validateJobSpec`` (and, with ``with_selector``, ``ValidateJobSpec``)."""
    errs: Errs = []
    for key in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ):
        errs.extend(nonnegative(spec.get(key), f"{field}.{key}"))
    mode = spec.get("completionMode")
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        errs.append(not_supported(f"{field}.completionMode", mode, ("NonIndexed", "Indexed")))
    if mode == "Indexed":
        if spec.get("completions") is None:
            errs.append(required(f"{field}.completions", "when completion mode is Indexed"))
        parallelism = spec.get("parallelism")
        if isinstance(parallelism, int) and parallelism > _MAX_INDEXED_PARALLELISM:
            detail = (
                f"must be less than or equal to {_MAX_INDEXED_PARALLELISM} "
                "when completion mode is Indexed"
            )
            errs.append(invalid(f"{field}.parallelism", parallelism, detail))
    elif spec.get("backoffLimitPerIndex") is not None:
        detail = "requires indexed completion mode"
        errs.append(
            invalid(f"{field}.backoffLimitPerIndex", spec.get("backoffLimitPerIndex"), detail)
        )
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None and replacement not in ("TerminatingOrFailed", "Failed"):
        errs.append(
            not_supported(
                f"{field}.podReplacementPolicy", replacement, ("TerminatingOrFailed", "Failed")
            )
        )
    template = as_dict(spec.get("template"))
    if with_selector:
        selector = spec.get("selector")
        if selector is None:
            errs.append(required(f"{field}.selector"))
        else:
            errs.extend(label_selector(selector, f"{field}.selector"))
        parsed = selector_of(selector)
        if parsed is not None and selector is not None:
            errs.extend(
                selector_matches_template(parsed, template, f"{field}.template.metadata.labels")
            )
    errs.extend(validate_pod_template(template, f"{field}.template"))
    policy = as_dict(template.get("spec")).get("restartPolicy")
    restart_path = f"{field}.template.spec.restartPolicy"
    if policy not in ("OnFailure", "Never"):
        errs.append(not_supported(restart_path, policy or "", ("OnFailure", "Never")))
    elif policy == "OnFailure" and spec.get("podFailurePolicy") is not None:
        errs.append(
            invalid(
                restart_path, policy, 'only "Never" is supported when podFailurePolicy is specified'
            )
        )
    return errs


def _generated_selector(job: Obj) -> Errs:
    spec = as_dict(job.get("spec"))
    if spec.get("manualSelector") is True or spec.get("selector") is None:
        return []
    meta = _meta(job)
    uid, name = str(meta.get("uid") or ""), str(meta.get("name") or "")
    errs: Errs = []
    if not uid:
        errs.append(required("metadata.uid"))
    labels = template_labels(spec.get("template"))
    for key, expected in (
        (LEGACY_CONTROLLER_UID_LABEL, uid),
        (LEGACY_JOB_NAME_LABEL, name),
        (CONTROLLER_UID_LABEL, uid),
        (JOB_NAME_LABEL, name),
    ):
        path = f"spec.template.metadata.labels[{key}]"
        if key not in labels:
            errs.append(required(path, expected))
        elif labels[key] != expected:
            errs.append(invalid(path, labels, f"must be '{expected}'"))
    selector = selector_of(spec.get("selector"))
    if selector is not None and not selector.matches({CONTROLLER_UID_LABEL: uid}):
        detail = "`selector` not auto-generated"
        errs.append(invalid("spec.selector", struct(spec.get("selector")), detail))
    return errs


def validate_job(job: Obj) -> Errs:
    meta = _meta(job)
    errs = validate_object_meta(meta, namespaced=True)
    errs.extend(_generated_selector(job))
    spec = as_dict(job.get("spec"))
    errs.extend(validate_job_spec(spec, "spec"))
    completions, name = spec.get("completions"), str(meta.get("name") or "")
    if spec.get("completionMode") == "Indexed" and isinstance(completions, int) and completions > 0:
        # The controller names pods <job>-<index>: the longest must be a valid hostname.
        hostname = f"{name}-{completions - 1}"
        if is_dns1123_label(hostname):
            detail = f"will not able to create pod with invalid DNS label: {hostname}"
            errs.append(invalid("metadata.name", name, detail))
    return errs


def validate_job_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs.extend(validate_job_spec(spec, "spec"))
    indexed = spec.get("completionMode") == old_spec.get("completionMode") == "Indexed"
    if indexed:
        completions, parallelism = spec.get("completions"), spec.get("parallelism")
        if completions != old_spec.get("completions") and completions != parallelism:
            detail = "must be equal to parallelism when completion mode is Indexed"
            errs.append(invalid("spec.completions", completions, detail))
    else:
        errs.extend(
            immutable(spec.get("completions"), old_spec.get("completions"), "spec.completions")
        )
    errs.extend(immutable(spec.get("selector"), old_spec.get("selector"), "spec.selector"))
    errs.extend(_template_update(spec, old_spec, as_dict(old.get("status"))))
    for key in (
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ):
        errs.extend(immutable(spec.get(key), old_spec.get(key), f"spec.{key}"))
    return errs


def _template_update(spec: Obj, old_spec: Obj, old_status: Obj) -> Errs:
    template = as_dict(spec.get("template"))
    old_template: Any = old_spec.get("template")
    if old_spec.get("suspend") is True and old_status.get("startTime") is None:
        # A suspended job that never ran may still be steered to other nodes.
        old_template = deep_copy(as_dict(old_template))
        tspec, old_tspec = as_dict(template.get("spec")), old_template.setdefault("spec", {})
        for key in ("nodeSelector", "tolerations", "schedulingGates", "affinity"):
            if key in tspec:
                old_tspec[key] = deep_copy(tspec[key])
            else:
                old_tspec.pop(key, None)
        meta, old_meta = as_dict(template.get("metadata")), old_template.setdefault("metadata", {})
        for key in ("labels", "annotations"):
            if key in meta:
                old_meta[key] = deep_copy(meta[key])
            else:
                old_meta.pop(key, None)
    return immutable(template, old_template, "spec.template")


# -- cronjobs ----------------------------------------------------------------------------------


def _schedule(schedule: Any, time_zone: Any, allow_tz: bool) -> Errs:
    if not schedule:
        return [required("spec.schedule")]
    if not isinstance(schedule, str):
        return []
    errs: Errs = []
    try:
        parse_schedule(schedule)
    except CronError as exc:
        errs.append(invalid("spec.schedule", schedule, str(exc)))
    if "TZ" in schedule:
        if not allow_tz:
            detail = "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            errs.append(invalid("spec.schedule", schedule, detail))
        elif time_zone is not None:
            detail = "cannot use both timeZone field and TZ or CRON_TZ in schedule"
            errs.append(invalid("spec.schedule", schedule, detail))
    return errs


def _time_zone(zone: Any) -> Errs:
    field = "spec.timeZone"
    if zone is None or not isinstance(zone, str):
        return []
    if not zone:
        return [invalid(field, zone, "timeZone must be nil or non-empty string")]
    for part in zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TZ_PART.fullmatch(part):
            return [invalid(field, zone, f"unknown time zone {zone}")]
    errs: Errs = []
    if zone.lower() == "local":
        detail = (
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
        )
        errs.append(invalid(field, zone, detail))
    elif not valid_time_zone(zone):
        errs.append(invalid(field, zone, f"unknown time zone {zone}"))
    return errs


def _cron_job_spec(spec: Obj, old_spec: Obj | None) -> Errs:
    allow_tz = old_spec is not None and "TZ" in str(old_spec.get("schedule") or "")
    errs = _schedule(spec.get("schedule"), spec.get("timeZone"), allow_tz)
    errs.extend(nonnegative(spec.get("startingDeadlineSeconds"), "spec.startingDeadlineSeconds"))
    if old_spec is None or spec.get("timeZone") != old_spec.get("timeZone"):
        errs.extend(_time_zone(spec.get("timeZone")))
    policy = spec.get("concurrencyPolicy")
    if not policy:
        errs.append(required("spec.concurrencyPolicy"))
    elif policy not in ("Allow", "Forbid", "Replace"):
        errs.append(not_supported("spec.concurrencyPolicy", policy, ("Allow", "Forbid", "Replace")))
    job_spec = as_dict(as_dict(spec.get("jobTemplate")).get("spec"))
    errs.extend(validate_job_spec(job_spec, "spec.jobTemplate.spec", with_selector=False))
    if job_spec.get("selector") is not None:
        detail = "`selector` will be auto-generated"
        errs.append(invalid("spec.jobTemplate.spec.selector", struct(job_spec["selector"]), detail))
    if job_spec.get("manualSelector") is True:
        errs.append(not_supported("spec.jobTemplate.spec.manualSelector", True, ("nil", "false")))
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        errs.extend(nonnegative(spec.get(key), f"spec.{key}"))
    return errs


def validate_cron_job(cron_job: Obj) -> Errs:
    meta = _meta(cron_job)
    errs = validate_object_meta(meta, namespaced=True)
    errs.extend(_cron_job_spec(as_dict(cron_job.get("spec")), None))
    name = meta.get("name")
    # The controller appends an 11-character suffix to job names (63 - 11 = 52).
    if isinstance(name, str) and len(name) > 52:
        errs.append(invalid("metadata.name", name, "must be no more than 52 characters"))
    return errs


def validate_cron_job_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    return errs + _cron_job_spec(as_dict(new.get("spec")), as_dict(old.get("spec")))
