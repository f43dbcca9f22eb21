"""Defaulting of batch/v1 jobs and cronjobs, and the job selector upstream generates.

:func:`generate_job_selector` is not defaulting proper: upstream runs it in the job
strategy's PrepareForCreate, after the API server has given the job its uid and name, and
``_strategy.prepare_for_create`` calls it at that point.
"""

from __future__ import annotations

from kybernetes.api._defaults_pod import (
    Obj,
    child,
    default_pod_template,
    dicts,
    set_if_empty,
    set_if_none,
)

CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
_MAX_INT32 = 2**31 - 1


def default_job(job: Obj) -> None:
    spec = child(job, "spec")
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    set_if_none(spec, "parallelism", 1)
    if spec.get("backoffLimit") is None:
        # With a per-index limit the global one must not cut the job short.
        per_index = spec.get("backoffLimitPerIndex") is not None
        spec["backoffLimit"] = _MAX_INT32 if per_index else 6
    template = spec.get("template")
    if isinstance(template, dict):
        labels = (template.get("metadata") or {}).get("labels")
        metadata = child(job, "metadata")
        if isinstance(labels, dict) and not metadata.get("labels"):
            metadata["labels"] = dict(labels)
    set_if_none(spec, "completionMode", "NonIndexed")
    set_if_none(spec, "suspend", False)
    policy = spec.get("podFailurePolicy")
    if isinstance(policy, dict):
        _default_pod_failure_policy(policy)
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if policy else "TerminatingOrFailed"
    set_if_none(spec, "manualSelector", False)
    default_pod_template(template)


def _default_pod_failure_policy(policy: Obj) -> None:
    for rule in dicts(policy.get("rules")):
        for pattern in dicts(rule.get("onPodConditions")):
            set_if_empty(pattern, "status", "True")


def default_cron_job(cron_job: Obj) -> None:
    spec = child(cron_job, "spec")
    set_if_empty(spec, "concurrencyPolicy", "Allow")
    set_if_none(spec, "suspend", False)
    set_if_none(spec, "successfulJobsHistoryLimit", 3)
    set_if_none(spec, "failedJobsHistoryLimit", 1)
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
        job_spec = job_template["spec"]
        policy = job_spec.get("podFailurePolicy")
        if isinstance(policy, dict):
            _default_pod_failure_policy(policy)
        default_pod_template(job_spec.get("template"))


def generate_job_selector(job: Obj) -> None:
    """Give a job without ``manualSelector: true`` a selector on its own uid, and its pod
    template the labels that selector matches (plus the job-name labels). Labels the user
    already set are kept; a conflicting one then fails validation, as upstream."""
    spec = child(job, "spec")
    if spec.get("manualSelector") is True:
        return
    metadata = job.get("metadata") or {}
    uid = str(metadata.get("uid") or "")
    name = str(metadata.get("name") or "")
    labels = child(child(child(spec, "template"), "metadata"), "labels")
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, name)
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, uid)
    match_labels = child(child(spec, "selector"), "matchLabels")
    match_labels.setdefault(CONTROLLER_UID_LABEL, uid)
