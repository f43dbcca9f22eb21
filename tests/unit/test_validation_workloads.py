"""Validation of workloads (apps/v1, batch/v1, replication controllers) against upstream's
paths and messages, on create and on update."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.strategy import create_errors, stored, template, update

from kybernetes.api._jsonvalue import deep_copy

MISMATCH = "`selector` does not match template `labels`"


def _workload(spec: dict[str, Any], name: str = "web") -> dict[str, Any]:
    base = {"selector": {"matchLabels": {"app": "a"}}, "template": template()}
    base.update(spec)
    return {"metadata": {"name": name}, "spec": base}


@pytest.mark.parametrize("plural", ["deployments", "replicasets", "daemonsets", "statefulsets"])
def test_valid_workloads(plural: str) -> None:
    assert create_errors(plural, _workload({}), "apps") == []


@pytest.mark.parametrize(
    ("plural", "spec", "expected"),
    [
        (
            "deployments",
            {"template": template({"app": "b"})},
            [f'spec.template.metadata.labels: Invalid value: {{"app":"b"}}: {MISMATCH}'],
        ),
        ("deployments", {"selector": None}, ["spec.selector: Required value"]),
        (
            "deployments",
            {"selector": {}},
            ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"],
        ),
        (
            "deployments",
            {"replicas": -1},
            ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            "deployments",
            {
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"},
                }
            },
            [
                'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 '
                "when `maxSurge` is 0"
            ],
        ),
        (
            "deployments",
            {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "150%"}}},
            [
                'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be '
                "greater than 100%"
            ],
        ),
        (
            "deployments",
            {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "lots"}}},
            [
                'spec.strategy.rollingUpdate.maxSurge: Invalid value: "lots": a valid percent '
                "string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
                "regex used for validation is '[0-9]+%')"
            ],
        ),
        (
            "deployments",
            {"strategy": {"type": "Recreate", "rollingUpdate": {}}},
            [
                "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy "
                "`type` is 'Recreate'"
            ],
        ),
        (
            "deployments",
            {"strategy": {"type": "Blue"}},
            [
                'spec.strategy: Unsupported value: {"type":"Blue"}: supported values: '
                '"Recreate", "RollingUpdate"'
            ],
        ),
        (
            "deployments",
            {"progressDeadlineSeconds": 5, "minReadySeconds": 10},
            [
                "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than "
                "minReadySeconds"
            ],
        ),
        (
            "deployments",
            {"template": template(restartPolicy="Never")},
            [
                'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: '
                '"Always"'
            ],
        ),
        (
            "replicasets",
            {"selector": {"matchLabels": {"app": "z"}}},
            [f'spec.template.metadata.labels: Invalid value: {{"app":"a"}}: {MISMATCH}'],
        ),
        (
            "replicasets",
            {"template": template(activeDeadlineSeconds=5)},
            [
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
                "ReplicaSet is not Supported"
            ],
        ),
        (
            "daemonsets",
            {"selector": {}},
            ["spec.selector: Invalid value: {}: empty selector is invalid for daemonset"],
        ),
        (
            "daemonsets",
            {
                "updateStrategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1},
                }
            },
            [
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set "
                "when maxUnavailable is non-zero"
            ],
        ),
        (
            "daemonsets",
            {
                "updateStrategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0},
                }
            },
            [
                "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 "
                "when maxSurge is 0"
            ],
        ),
        (
            "statefulsets",
            {"podManagementPolicy": "Random"},
            [
                "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or "
                "'Parallel'"
            ],
        ),
        (
            "statefulsets",
            {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Keep"}},
            [
                'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": '
                'supported values: "Retain", "Delete"'
            ],
        ),
        (
            "statefulsets",
            {"selector": {}},
            ["spec.selector: Invalid value: {}: empty selector is invalid for statefulset"],
        ),
    ],
)
def test_workload_errors(plural: str, spec: dict[str, Any], expected: list[str]) -> None:
    assert create_errors(plural, _workload(spec), "apps") == expected


def test_statefulset_mounts_may_use_claim_templates_and_needs_dns_label_name() -> None:
    mounted = template()
    mounted["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/d"}]
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    sts = _workload({"template": mounted, "volumeClaimTemplates": [claim]}, name="db")
    assert create_errors("statefulsets", sts, "apps") == []
    dotted = _workload({}, name="db.v1")
    assert create_errors("statefulsets", dotted, "apps")[0].startswith(
        'metadata.name: Invalid value: "db.v1": a lowercase RFC 1123 label'
    )


@pytest.mark.parametrize("plural", ["deployments", "replicasets", "daemonsets"])
def test_selector_is_immutable(plural: str) -> None:
    old = stored(plural, _workload({}), "apps")
    new = deep_copy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "a", "tier": "web"}}
    new["spec"]["template"]["metadata"]["labels"]["tier"] = "web"
    assert update(plural, old, new, "apps")[1] == [
        'spec.selector: Invalid value: {"matchLabels":{"app":"a","tier":"web"}}: field is immutable'
    ]


def test_statefulset_update_rules() -> None:
    old = stored("statefulsets", _workload({"serviceName": "db"}), "apps")
    allowed = deep_copy(old)
    allowed["spec"]["replicas"] = 3
    allowed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    allowed["spec"]["updateStrategy"] = {"type": "OnDelete"}
    allowed["spec"]["minReadySeconds"] = 5
    assert update("statefulsets", old, allowed, "apps")[1] == []
    forbidden = deep_copy(old)
    forbidden["spec"]["serviceName"] = "other"
    assert update("statefulsets", old, forbidden, "apps")[1] == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
        "'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', "
        "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    ]


def test_replication_controller() -> None:
    rc = {"metadata": {"name": "r"}, "spec": {"selector": {"app": "z"}, "template": template()}}
    assert create_errors("replicationcontrollers", rc) == [
        f'spec.template.metadata.labels: Invalid value: {{"app":"a"}}: {MISMATCH}'
    ]
    defaulted = {"metadata": {"name": "r"}, "spec": {"template": template()}}
    assert create_errors("replicationcontrollers", defaulted) == []


# -- jobs and cronjobs ---------------------------------------------------------------------


def _job(spec: dict[str, Any] | None = None, **template_spec: Any) -> dict[str, Any]:
    template_spec.setdefault("restartPolicy", "Never")
    base: dict[str, Any] = {"template": template({}, **template_spec)}
    base.update(spec or {})
    return {"metadata": {"name": "pi"}, "spec": base}


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        (_job(), []),
        (
            _job(restartPolicy="Always"),
            [
                'spec.template.spec.restartPolicy: Unsupported value: "Always": '
                'supported values: "OnFailure", "Never"'
            ],
        ),
        (
            _job({"parallelism": -1, "backoffLimit": -2}),
            [
                "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
                "spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0",
            ],
        ),
        (
            _job({"completionMode": "Indexed", "parallelism": 2}),
            ["spec.completions: Required value: when completion mode is Indexed"],
        ),
        (
            _job({"completionMode": "Sometimes"}),
            [
                'spec.completionMode: Unsupported value: "Sometimes": '
                'supported values: "NonIndexed", "Indexed"'
            ],
        ),
        (
            _job({"manualSelector": True, "selector": {"matchLabels": {"x": "y"}}}),
            [f"spec.template.metadata.labels: Invalid value: {{}}: {MISMATCH}"],
        ),
    ],
)
def test_job_errors(job: dict[str, Any], expected: list[str]) -> None:
    assert create_errors("jobs", job, "batch") == expected


def test_job_generated_labels_must_not_conflict() -> None:
    job = _job()
    job["spec"]["template"]["metadata"]["labels"] = {"job-name": "other"}
    errors = create_errors("jobs", job, "batch")
    assert len(errors) == 1
    assert errors[0].startswith("spec.template.metadata.labels[job-name]: Invalid value: {")
    assert errors[0].endswith(": must be 'pi'")


def test_job_update_immutability() -> None:
    old = stored("jobs", _job(), "batch")
    allowed = deep_copy(old)
    allowed["spec"]["parallelism"] = 4
    allowed["spec"]["suspend"] = True
    assert update("jobs", old, allowed, "batch")[1] == []
    changed = deep_copy(old)
    changed["spec"]["completions"] = 3
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1"
    errors = update("jobs", old, changed, "batch")[1]
    assert errors[0] == "spec.completions: Invalid value: 3: field is immutable"
    assert errors[1].startswith("spec.template: Invalid value: {") and errors[1].endswith(
        ": field is immutable"
    )
    assert len(errors) == 2


def test_suspended_job_may_change_scheduling_directives() -> None:
    old = stored("jobs", _job({"suspend": True}), "batch")
    new = deep_copy(old)
    new["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    assert update("jobs", old, new, "batch")[1] == []
    old["status"] = {"startTime": "2025-01-01T00:00:00Z"}
    assert update("jobs", old, new, "batch")[1] != []


def _cron(schedule: str = "*/5 * * * *", **spec: Any) -> dict[str, Any]:
    job_template = {"spec": {"template": template({}, restartPolicy="OnFailure")}}
    return {
        "metadata": {"name": "tick"},
        "spec": {"schedule": schedule, "jobTemplate": job_template, **spec},
    }


@pytest.mark.parametrize(
    ("cron_job", "expected"),
    [
        (_cron(), []),
        (_cron("@hourly"), []),
        (_cron(""), ["spec.schedule: Required value"]),
        (
            _cron("61 * * * *"),
            [
                'spec.schedule: Invalid value: "61 * * * *": '
                "[61 * * * *] is not acceptable, out of range"
            ],
        ),
        (
            _cron("* * *"),
            ['spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]'],
        ),
        (
            _cron("TZ=UTC 0 * * * *"),
            [
                'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": '
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            ],
        ),
        (
            _cron(concurrencyPolicy="Sometimes"),
            [
                'spec.concurrencyPolicy: Unsupported value: "Sometimes": '
                'supported values: "Allow", "Forbid", "Replace"'
            ],
        ),
        (
            _cron(timeZone="Mars/Olympus"),
            ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'],
        ),
        (_cron(timeZone="Europe/Berlin"), []),
    ],
)
def test_cron_job_errors(cron_job: dict[str, Any], expected: list[str]) -> None:
    assert create_errors("cronjobs", cron_job, "batch") == expected


def test_cron_job_name_length_and_template_selector() -> None:
    long = _cron()
    long["metadata"]["name"] = "a" * 53
    assert create_errors("cronjobs", long, "batch") == [
        f'metadata.name: Invalid value: "{"a" * 53}": must be no more than 52 characters'
    ]
    selected = _cron()
    selected["spec"]["jobTemplate"]["spec"]["selector"] = {"matchLabels": {"a": "b"}}
    assert create_errors("cronjobs", selected, "batch") == [
        'spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: '
        "`selector` will be auto-generated"
    ]
