"""Table printers of workload controllers: Deployment, ReplicaSet, ReplicationController,
StatefulSet, DaemonSet, Job, CronJob, PodDisruptionBudget, ControllerRevision.

Columns and cells as upstream's printers: wide columns (priority 1) list the template's
containers, images and selector.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kybernetes.api import SelectorError, format_label_selector, label_selector_from_api
from kybernetes.apiserver._printing import (
    AGE,
    CONTAINERS,
    IMAGES,
    NAME,
    Column,
    Obj,
    Printer,
    age,
    bool_ptr,
    condition_status,
    containers_and_images,
    format_labels,
    get,
    human_duration,
    int_or_string,
    items,
    mapping,
    name,
    number,
    or_none,
    parse_time,
    since,
    text,
)


def _template(obj: Obj) -> tuple[str, str]:
    return containers_and_images(get(obj, "spec", "template", "spec"))


def _replicas(obj: Obj) -> int:
    # Defaulting sets spec.replicas to 1; an object stored without it means the same.
    return number(obj, "spec", "replicas", default=1)


def _deployment_cells(obj: Obj, now: datetime) -> list[Any]:
    names, images = _template(obj)
    try:
        selector = str(label_selector_from_api(get(obj, "spec", "selector")))
    except SelectorError:
        selector = "<invalid>"
    return [
        name(obj),
        f"{number(obj, 'status', 'readyReplicas')}/{_replicas(obj)}",
        number(obj, "status", "updatedReplicas"),
        number(obj, "status", "availableReplicas"),
        age(obj, now),
        names,
        images,
        selector,
    ]


def _replica_set_cells(obj: Obj, now: datetime) -> list[Any]:
    names, images = _template(obj)
    return [
        name(obj),
        _replicas(obj),
        number(obj, "status", "replicas"),
        number(obj, "status", "readyReplicas"),
        age(obj, now),
        names,
        images,
        format_label_selector(get(obj, "spec", "selector")),
    ]


def _replication_controller_cells(obj: Obj, now: datetime) -> list[Any]:
    cells = _replica_set_cells(obj, now)
    cells[-1] = format_labels(get(obj, "spec", "selector"))  # a plain map, not a LabelSelector
    return cells


def _stateful_set_cells(obj: Obj, now: datetime) -> list[Any]:
    names, images = _template(obj)
    ready = f"{number(obj, 'status', 'readyReplicas')}/{_replicas(obj)}"
    return [name(obj), ready, age(obj, now), names, images]


def _daemon_set_cells(obj: Obj, now: datetime) -> list[Any]:
    names, images = _template(obj)
    return [
        name(obj),
        number(obj, "status", "desiredNumberScheduled"),
        number(obj, "status", "currentNumberScheduled"),
        number(obj, "status", "numberReady"),
        number(obj, "status", "updatedNumberScheduled"),
        number(obj, "status", "numberAvailable"),
        format_labels(get(obj, "spec", "template", "spec", "nodeSelector")),
        age(obj, now),
        names,
        images,
        format_label_selector(get(obj, "spec", "selector")),
    ]


_JOB_STATES = ("Complete", "Failed", "Terminating", "Suspended", "FailureTarget")


def job_status(job: Obj) -> str:
    """``Complete``, ``Failed``, ``Terminating``, ``Suspended``, ``FailureTarget``,
    ``SuccessCriteriaMet`` or ``Running``: the first that applies, in that order."""
    for state in _JOB_STATES:
        if state == "Terminating":
            if get(job, "metadata", "deletionTimestamp") is not None:
                return state
        elif condition_status(job, state) == "True":
            return state
    if condition_status(job, "SuccessCriteriaMet") == "True":
        return "SuccessCriteriaMet"
    return "Running"


def _job_cells(job: Obj, now: datetime) -> list[Any]:
    succeeded = number(job, "status", "succeeded")
    completions = get(job, "spec", "completions")
    parallelism = number(job, "spec", "parallelism")
    if isinstance(completions, int):
        done = f"{succeeded}/{completions}"
    elif parallelism > 1:
        done = f"{succeeded}/1 of {parallelism}"
    else:
        done = f"{succeeded}/1"
    started = parse_time(get(job, "status", "startTime"))
    completed = parse_time(get(job, "status", "completionTime"))
    duration = ""
    if started is not None:
        duration = human_duration((completed or now) - started)
    names, images = _template(job)
    selector = format_label_selector(get(job, "spec", "selector"))
    return [name(job), job_status(job), done, duration, age(job, now), names, images, selector]


def _cron_job_cells(obj: Obj, now: datetime) -> list[Any]:
    job_spec = mapping(obj, "spec", "jobTemplate", "spec")
    names, images = containers_and_images(get(job_spec, "template", "spec"))
    last = get(obj, "status", "lastScheduleTime")
    return [
        name(obj),
        text(obj, "spec", "schedule"),
        or_none(text(obj, "spec", "timeZone")),
        bool_ptr(get(obj, "spec", "suspend")),
        len(items(obj, "status", "active")),
        since(last, now) if last is not None else "<none>",
        age(obj, now),
        names,
        images,
        format_label_selector(get(job_spec, "selector")),
    ]


def _pdb_cells(obj: Obj, now: datetime) -> list[Any]:
    spec = mapping(obj, "spec")
    return [
        name(obj),
        int_or_string(spec.get("minAvailable")) or "N/A",
        int_or_string(spec.get("maxUnavailable")) or "N/A",
        number(obj, "status", "disruptionsAllowed"),
        age(obj, now),
    ]


def _controller_revision_cells(obj: Obj, now: datetime) -> list[Any]:
    controller = "<none>"
    for ref in items(obj, "metadata", "ownerReferences"):
        if get(ref, "controller") is True:
            group = text(ref, "apiVersion").rpartition("/")[0]
            kind = text(ref, "kind") + (f".{group}" if group else "")
            controller = f"{kind.lower()}/{text(ref, 'name')}"
            break
    return [name(obj), controller, number(obj, "revision"), age(obj, now)]


def _wide(definition: str) -> tuple[Column, ...]:
    return CONTAINERS, IMAGES, Column("Selector", doc=(definition, "selector"), priority=1)


_DS_STATUS = "apps.v1.DaemonSetStatus"

DEPLOYMENT = Printer(
    columns=(
        NAME,
        Column("Ready", doc="Number of the pod with ready state"),
        Column("Up-to-date", doc=("apps.v1.DeploymentStatus", "updatedReplicas")),
        Column("Available", doc=("apps.v1.DeploymentStatus", "availableReplicas")),
        AGE,
        *_wide("apps.v1.DeploymentSpec"),
    ),
    cells=_deployment_cells,
)
REPLICA_SET = Printer(
    columns=(
        NAME,
        Column("Desired", type="integer", doc=("apps.v1.ReplicaSetSpec", "replicas")),
        Column("Current", type="integer", doc=("apps.v1.ReplicaSetStatus", "replicas")),
        Column("Ready", type="integer", doc=("apps.v1.ReplicaSetStatus", "readyReplicas")),
        AGE,
        *_wide("apps.v1.ReplicaSetSpec"),
    ),
    cells=_replica_set_cells,
)
_RC_STATUS = "core.v1.ReplicationControllerStatus"
REPLICATION_CONTROLLER = Printer(
    columns=(
        NAME,
        Column("Desired", type="integer", doc=("core.v1.ReplicationControllerSpec", "replicas")),
        Column("Current", type="integer", doc=(_RC_STATUS, "replicas")),
        Column("Ready", type="integer", doc=(_RC_STATUS, "readyReplicas")),
        AGE,
        *_wide("core.v1.ReplicationControllerSpec"),
    ),
    cells=_replication_controller_cells,
)
STATEFUL_SET = Printer(
    columns=(
        NAME,
        Column("Ready", doc="Number of the pod with ready state"),
        AGE,
        CONTAINERS,
        IMAGES,
    ),
    cells=_stateful_set_cells,
)
DAEMON_SET = Printer(
    columns=(
        NAME,
        Column("Desired", type="integer", doc=(_DS_STATUS, "desiredNumberScheduled")),
        Column("Current", type="integer", doc=(_DS_STATUS, "currentNumberScheduled")),
        Column("Ready", type="integer", doc=(_DS_STATUS, "numberReady")),
        Column("Up-to-date", type="integer", doc=(_DS_STATUS, "updatedNumberScheduled")),
        Column("Available", type="integer", doc=(_DS_STATUS, "numberAvailable")),
        Column("Node Selector", doc=("core.v1.PodSpec", "nodeSelector")),
        AGE,
        *_wide("apps.v1.DaemonSetSpec"),
    ),
    cells=_daemon_set_cells,
)
JOB = Printer(
    columns=(
        NAME,
        Column("Status", doc="Status of the job."),
        Column("Completions", doc=("batch.v1.JobStatus", "succeeded")),
        Column("Duration", doc="Time required to complete the job."),
        AGE,
        *_wide("batch.v1.JobSpec"),
    ),
    cells=_job_cells,
)
_CJ_SPEC = "batch.v1.CronJobSpec"
CRON_JOB = Printer(
    columns=(
        NAME,
        Column("Schedule", doc=(_CJ_SPEC, "schedule")),
        Column("Timezone", doc=(_CJ_SPEC, "timeZone")),
        Column("Suspend", type="boolean", doc=(_CJ_SPEC, "suspend")),
        Column("Active", type="integer", doc=("batch.v1.CronJobStatus", "active")),
        Column("Last Schedule", doc=("batch.v1.CronJobStatus", "lastScheduleTime")),
        AGE,
        *_wide("batch.v1.JobSpec"),
    ),
    cells=_cron_job_cells,
)
POD_DISRUPTION_BUDGET = Printer(
    columns=(
        NAME,
        Column("Min Available", doc="The minimum number of pods that must be available."),
        Column("Max Unavailable", doc="The maximum number of pods that may be unavailable."),
        Column(
            "Allowed Disruptions",
            type="integer",
            doc="Calculated number of pods that may be disrupted at this time.",
        ),
        AGE,
    ),
    cells=_pdb_cells,
)
CONTROLLER_REVISION = Printer(
    columns=(
        NAME,
        Column("Controller", doc="Controller of the object"),
        Column("Revision", doc=("apps.v1.ControllerRevision", "revision")),
        AGE,
    ),
    cells=_controller_revision_cells,
)
