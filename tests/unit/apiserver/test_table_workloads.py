"""Table columns of workload controllers: deployments, replica sets, stateful and daemon
sets, jobs, cron jobs, disruption budgets and controller revisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kybernetes.api import REGISTRY
from kybernetes.apiserver._printers_workloads import job_status
from kybernetes.apiserver._tables import to_table

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def cells(group: str, plural: str, obj: dict[str, Any]) -> list[Any]:
    info = REGISTRY.get(group, "v1", plural)
    assert info is not None
    [row] = to_table(info, [obj], now=NOW)["rows"]
    return list(row["cells"])


def meta(name: str, age: timedelta = timedelta(minutes=5), **more: Any) -> dict[str, Any]:
    created = (NOW - age).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"name": name, "namespace": "default", "creationTimestamp": created, **more}


def template(*images: str) -> dict[str, Any]:
    containers = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
    return {"spec": {"containers": containers}}


def test_workload_rows() -> None:
    selector = {"matchLabels": {"app": "web"}}
    deploy = {
        "metadata": meta("web"),
        "spec": {"replicas": 3, "selector": selector, "template": template("nginx", "envoy")},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert cells("apps", "deployments", deploy) == [
        "web",
        "2/3",
        3,
        2,
        "5m",
        "c0,c1",
        "nginx,envoy",
        "app=web",
    ]
    rs = {**deploy, "status": {"replicas": 3, "readyReplicas": 1}}
    assert cells("apps", "replicasets", rs) == [
        "web",
        3,
        3,
        1,
        "5m",
        "c0,c1",
        "nginx,envoy",
        "app=web",
    ]
    rc = {**rs, "spec": {**rs["spec"], "selector": {"app": "web"}}}
    assert cells("", "replicationcontrollers", rc)[-1] == "app=web"
    sts = {"metadata": meta("db"), "spec": {"replicas": 3}, "status": {"readyReplicas": 1}}
    assert cells("apps", "statefulsets", sts)[:3] == ["db", "1/3", "5m"]
    ds = {
        "metadata": meta("agent"),
        "spec": {"template": {"spec": {"nodeSelector": {"os": "linux"}, "containers": []}}},
        "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 1},
    }
    assert cells("apps", "daemonsets", ds)[:8] == ["agent", 2, 2, 1, 0, 0, "os=linux", "5m"]
    assert cells("apps", "daemonsets", ds)[-1] == "<none>"


def job(**fields: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": meta("j"), "spec": {}, "status": {}}
    for key, value in fields.items():
        section, _, field = key.partition("__")
        obj[section][field] = value
    return obj


def test_job_status_completions_and_duration() -> None:
    done = job(
        spec__completions=3,
        status__succeeded=3,
        status__startTime="2024-05-01T11:50:00Z",
        status__completionTime="2024-05-01T11:53:20Z",
        status__conditions=[{"type": "Complete", "status": "True"}],
    )
    assert cells("batch", "jobs", done)[:5] == ["j", "Complete", "3/3", "3m20s", "5m"]
    running = job(spec__parallelism=2, status__startTime="2024-05-01T11:58:00Z")
    assert cells("batch", "jobs", running)[1:4] == ["Running", "0/1 of 2", "2m"]
    assert cells("batch", "jobs", job())[1:4] == ["Running", "0/1", ""]
    assert job_status(job(status__conditions=[{"type": "Failed", "status": "True"}])) == "Failed"
    assert job_status(job(status__conditions=[{"type": "Failed", "status": "False"}])) == "Running"
    deleting = job(status__conditions=[{"type": "Suspended", "status": "True"}])
    assert job_status(deleting) == "Suspended"
    deleting["metadata"]["deletionTimestamp"] = "2024-05-01T11:59:00Z"
    assert job_status(deleting) == "Terminating"


def test_cron_job_row() -> None:
    obj = {
        "metadata": meta("nightly"),
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template("b")}}},
        "status": {"active": [{"name": "a"}], "lastScheduleTime": "2024-05-01T11:00:00Z"},
    }
    assert cells("batch", "cronjobs", obj) == [
        "nightly",
        "0 3 * * *",
        "<none>",
        "<unset>",
        1,
        "60m",
        "5m",
        "c0",
        "b",
        "<none>",
    ]
    obj["spec"]["suspend"] = True
    obj["spec"]["timeZone"] = "Etc/UTC"
    assert cells("batch", "cronjobs", obj)[2:4] == ["Etc/UTC", "True"]


def test_disruption_budget_and_revision_rows() -> None:
    pdb = {
        "metadata": meta("p"),
        "spec": {"minAvailable": "50%"},
        "status": {"disruptionsAllowed": 1},
    }
    assert cells("policy", "poddisruptionbudgets", pdb) == ["p", "50%", "N/A", 1, "5m"]
    rev = {
        "metadata": meta(
            "web-7d9",
            ownerReferences=[
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True}
            ],
        ),
        "revision": 2,
    }
    assert cells("apps", "controllerrevisions", rev) == ["web-7d9", "statefulset.apps/web", 2, "5m"]
