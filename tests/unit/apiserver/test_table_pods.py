"""The Pod and Node Table columns: upstream's status reasons, restarts and node status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kybernetes.api import REGISTRY
from kybernetes.apiserver._tables import node_status, pod_summary, to_table

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
MINUTES_AGO_2 = "2024-05-01T11:58:00Z"
MINUTES_AGO_5 = "2024-05-01T11:55:00Z"


def pod(
    *containers: dict[str, Any],
    init: tuple[dict[str, Any], ...] = (),
    init_specs: tuple[dict[str, Any], ...] | None = None,
    phase: str = "Running",
    **extra: Any,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": c["name"]} for c in containers] or [{"name": "c"}]
    }
    if init:
        spec["initContainers"] = list(init_specs or [{"name": c["name"]} for c in init])
    status: dict[str, Any] = {"phase": phase, "containerStatuses": list(containers)}
    if init:
        status["initContainerStatuses"] = list(init)
    obj = {
        "metadata": {"name": "p", "creationTimestamp": MINUTES_AGO_5},
        "spec": spec,
        "status": status,
    }
    for key, value in extra.items():
        section, _, field = key.partition("__")
        obj[section][field] = value
    return obj


def running(name: str = "c", ready: bool = True, restarts: int = 0, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {}},
        **more,
    }


def waiting(name: str = "c", reason: str = "", restarts: int = 0, **more: Any) -> dict[str, Any]:
    state = {"waiting": {"reason": reason} if reason else {}}
    return {"name": name, "ready": False, "restartCount": restarts, "state": state, **more}


def terminated(name: str = "c", **how: Any) -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": how}}


LAST_DIED_2M_AGO = {"lastState": {"terminated": {"exitCode": 1, "finishedAt": MINUTES_AGO_2}}}


@pytest.mark.parametrize(
    ("obj", "ready", "reason"),
    [
        # No container statuses yet: the phase.
        (pod(phase="Pending"), "0/1", "Pending"),
        (pod(waiting(reason="ContainerCreating"), phase="Pending"), "0/1", "ContainerCreating"),
        (pod(running()), "1/1", "Running"),
        (pod(running(ready=False)), "0/1", "Running"),
        (pod(waiting(reason="CrashLoopBackOff", restarts=4)), "0/1", "CrashLoopBackOff"),
        (pod(waiting(reason="ImagePullBackOff"), phase="Pending"), "0/1", "ImagePullBackOff"),
        (pod(terminated(reason="Completed", exitCode=0), phase="Succeeded"), "0/1", "Completed"),
        (pod(terminated(reason="Error", exitCode=1), phase="Failed"), "0/1", "Error"),
        (pod(terminated(exitCode=3)), "0/1", "ExitCode:3"),
        (pod(terminated(exitCode=137, signal=9)), "0/1", "Signal:9"),
        # The status reason (set by eviction) shows when containers say nothing.
        (pod(phase="Failed", status__reason="Evicted"), "0/1", "Evicted"),
        # The last container with something to say wins.
        (pod(running("a"), waiting("b", reason="CrashLoopBackOff")), "1/2", "CrashLoopBackOff"),
        (pod(waiting("a", reason="CrashLoopBackOff"), running("b")), "1/2", "CrashLoopBackOff"),
        # A completed container next to a running one: Running if the pod is Ready.
        (
            pod(
                running("a"),
                terminated("b", reason="Completed", exitCode=0),
                status__conditions=[{"type": "Ready", "status": "True"}],
            ),
            "1/2",
            "Running",
        ),
        (pod(running("a"), terminated("b", reason="Completed", exitCode=0)), "1/2", "NotReady"),
        (
            pod(
                phase="Pending",
                status__conditions=[
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                ],
            ),
            "0/1",
            "SchedulingGated",
        ),
    ],
)
def test_pod_status_reasons(obj: dict[str, Any], ready: str, reason: str) -> None:
    assert pod_summary(obj, NOW)[:2] == (ready, reason)


@pytest.mark.parametrize(
    ("init", "reason"),
    [
        # The first init container not done decides.
        ((terminated("i1", exitCode=0), waiting("i2", reason="PodInitializing")), "Init:1/2"),
        ((terminated("i1", exitCode=0), running("i2", ready=False)), "Init:1/2"),
        ((waiting("i1"), waiting("i2")), "Init:0/2"),
        ((waiting("i1", reason="CrashLoopBackOff"), waiting("i2")), "Init:CrashLoopBackOff"),
        ((terminated("i1", reason="Error", exitCode=1), waiting("i2")), "Init:Error"),
        ((terminated("i1", exitCode=2), waiting("i2")), "Init:ExitCode:2"),
        ((terminated("i1", exitCode=2, signal=15), waiting("i2")), "Init:Signal:15"),
        # All init containers done: the app containers speak.
        ((terminated("i1", exitCode=0), terminated("i2", exitCode=0)), "PodInitializing"),
    ],
)
def test_init_container_reasons(init: tuple[dict[str, Any], ...], reason: str) -> None:
    obj = pod(waiting(reason="PodInitializing"), init=init, phase="Pending")
    assert pod_summary(obj, NOW)[1] == reason


def test_sidecars_count_as_containers_once_started() -> None:
    sidecar = {**running("proxy"), "started": True}
    obj = pod(
        running("app"),
        init=(sidecar,),
        init_specs=({"name": "proxy", "restartPolicy": "Always"},),
        status__conditions=[{"type": "Initialized", "status": "True"}],
    )
    assert pod_summary(obj, NOW)[:2] == ("2/2", "Running")


def test_terminating_unless_finished_or_lost() -> None:
    deleting = {"deletionTimestamp": MINUTES_AGO_2, "name": "p", "creationTimestamp": MINUTES_AGO_5}
    assert pod_summary(pod(running(), metadata__deletionTimestamp=MINUTES_AGO_2), NOW)[1] == (
        "Terminating"
    )
    finished = pod(terminated(reason="Completed", exitCode=0), phase="Succeeded")
    finished["metadata"] = deleting
    assert pod_summary(finished, NOW)[1] == "Completed"
    lost = pod(running(), status__reason="NodeLost")
    lost["metadata"] = deleting
    assert pod_summary(lost, NOW)[1] == "Unknown"


def test_restarts_with_and_without_last_termination_time() -> None:
    assert pod_summary(pod(running(restarts=3)), NOW)[2] == "3"
    assert pod_summary(pod(running(restarts=3, **LAST_DIED_2M_AGO)), NOW)[2] == "3 (2m ago)"
    # Restarts add up over containers; the latest termination counts.
    older = {"lastState": {"terminated": {"finishedAt": "2024-05-01T10:00:00Z"}}}
    obj = pod(running("a", restarts=1, **older), running("b", restarts=2, **LAST_DIED_2M_AGO))
    assert pod_summary(obj, NOW)[2] == "3 (2m ago)"
    # No restarts: no time, even if a last state is known.
    assert pod_summary(pod(running(**LAST_DIED_2M_AGO)), NOW)[2] == "0"
    # While initializing, the init containers' restarts are what counts.
    init = (waiting("i", reason="CrashLoopBackOff", restarts=2, **LAST_DIED_2M_AGO),)
    obj = pod(waiting(reason="PodInitializing", restarts=7), init=init, phase="Pending")
    assert pod_summary(obj, NOW)[1:] == ("Init:CrashLoopBackOff", "2 (2m ago)")


def test_pod_row_cells_and_wide_columns() -> None:
    obj = pod(
        running(restarts=1, **LAST_DIED_2M_AGO),
        spec__nodeName="node-1",
        spec__readinessGates=[{"conditionType": "a"}, {"conditionType": "b"}],
        status__podIPs=[{"ip": "10.1.0.7"}, {"ip": "fd00::7"}],
        status__conditions=[{"type": "a", "status": "True"}, {"type": "b", "status": "False"}],
    )
    table = to_table(REGISTRY.get("", "v1", "pods"), [obj], now=NOW)  # type: ignore[arg-type]
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
        "IP",
        "Node",
        "Nominated Node",
        "Readiness Gates",
    ]
    assert [c["priority"] for c in table["columnDefinitions"]] == [0] * 5 + [1] * 4
    assert table["columnDefinitions"][0]["format"] == "name"
    assert table["rows"][0]["cells"] == [
        "p",
        "1/1",
        "Running",
        "1 (2m ago)",
        "5m",
        "10.1.0.7",
        "node-1",
        "<none>",
        "1/2",
    ]
    bare = to_table(REGISTRY.get("", "v1", "pods"), [pod()], now=NOW)  # type: ignore[arg-type]
    assert bare["rows"][0]["cells"][5:] == ["<none>"] * 4


def test_finished_pods_carry_the_completed_row_condition() -> None:
    info = REGISTRY.get("", "v1", "pods")
    assert info is not None
    done = to_table(info, [pod(phase="Succeeded"), pod(phase="Failed"), pod()], now=NOW)["rows"]
    assert done[0]["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    assert done[1]["conditions"][0]["reason"] == "Failed"
    assert "conditions" not in done[2]


def node(*conditions: dict[str, str], unschedulable: bool = False) -> dict[str, Any]:
    return {
        "metadata": {"name": "n"},
        "spec": {"unschedulable": True} if unschedulable else {},
        "status": {"conditions": list(conditions)},
    }


@pytest.mark.parametrize(
    ("obj", "status"),
    [
        (node({"type": "Ready", "status": "True"}), "Ready"),
        (node({"type": "Ready", "status": "False"}), "NotReady"),
        (node({"type": "Ready", "status": "Unknown"}), "NotReady"),
        (node({"type": "MemoryPressure", "status": "False"}), "Unknown"),
        (node(), "Unknown"),
        (node({"type": "Ready", "status": "True"}, unschedulable=True), "Ready,SchedulingDisabled"),
        (node(unschedulable=True), "Unknown,SchedulingDisabled"),
    ],
)
def test_node_status(obj: dict[str, Any], status: str) -> None:
    assert node_status(obj) == status


def test_node_row() -> None:
    obj = {
        "metadata": {
            "name": "n1",
            "creationTimestamp": "2024-04-29T09:00:00Z",
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/": "",
                "kubernetes.io/role": "master",
            },
        },
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [
                {"type": "Hostname", "address": "n1"},
                {"type": "InternalIP", "address": "192.168.1.10"},
            ],
            "nodeInfo": {"kubeletVersion": "v1.33.0", "kernelVersion": "6.1.0"},
        },
    }
    info = REGISTRY.get("", "v1", "nodes")
    assert info is not None
    [row] = to_table(info, [obj], now=NOW)["rows"]
    assert row["cells"] == [
        "n1",
        "Ready",
        "control-plane,master",
        "2d3h",
        "v1.33.0",
        "192.168.1.10",
        "<none>",
        "<unknown>",
        "6.1.0",
        "<unknown>",
    ]
    obj["metadata"]["labels"] = {}
    assert to_table(info, [obj], now=NOW)["rows"][0]["cells"][2] == "<none>"
