"""The Pod and Node table printers, whose status columns take the most reasoning.

The Pod ``Status`` column is upstream's summary, not ``status.phase``: the first failing or
waiting init container (``Init:CrashLoopBackOff``, ``Init:1/3``), else the last container
with a waiting or terminated reason (``CrashLoopBackOff``, ``Completed``, ``Error``,
``ExitCode:3``), ``SchedulingGated`` when the scheduler is held back, and ``Terminating``
once a deletion is under way. ``Restarts`` reads ``3 (5m ago)`` when the last restart time
is known. Sidecars (init containers with ``restartPolicy: Always``) count as containers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kybernetes.apiserver._printing import (
    AGE,
    NAME,
    Column,
    Obj,
    Printer,
    age,
    get,
    human_duration,
    items,
    mapping,
    name,
    number,
    parse_time,
    text,
)

_NODE_UNREACHABLE_REASON = "NodeLost"


def _is_sidecar(container: Any) -> bool:
    return isinstance(container, Mapping) and container.get("restartPolicy") == "Always"


def _finished_at(status: Any) -> datetime | None:
    return parse_time(get(status, "lastState", "terminated", "finishedAt"))


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _terminated_reason(terminated: Mapping[str, Any], prefix: str = "") -> str:
    reason = text(terminated, "reason")
    if reason:
        return prefix + reason
    signal = number(terminated, "signal")
    if signal:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{number(terminated, 'exitCode')}"


def _condition_true(pod: Obj, kind: str) -> bool:
    return any(
        isinstance(c, Mapping) and c.get("type") == kind and c.get("status") == "True"
        for c in items(pod, "status", "conditions")
    )


def pod_summary(pod: Obj, now: datetime) -> tuple[str, str, str]:
    """(Ready ``1/2``, Status reason, Restarts) as ``kubectl get pods`` shows them."""
    spec, status = mapping(pod, "spec"), mapping(pod, "status")
    phase = text(status, "phase")
    reason = text(status, "reason") or phase
    for cond in items(status, "conditions"):
        if get(cond, "type") == "PodScheduled" and get(cond, "reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = {text(c, "name"): c for c in items(spec, "initContainers")}
    total = len(items(spec, "containers")) + sum(map(_is_sidecar, init_specs.values()))
    ready = 0
    restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None

    initializing = False
    init_statuses = items(status, "initContainerStatuses")
    for i, cs in enumerate(init_statuses):
        restarts += number(cs, "restartCount")
        last_restart = _later(last_restart, _finished_at(cs))
        sidecar = _is_sidecar(init_specs.get(text(cs, "name")))
        if sidecar:
            sidecar_restarts += number(cs, "restartCount")
            last_sidecar_restart = _later(last_sidecar_restart, _finished_at(cs))
        terminated = mapping(cs, "state", "terminated")
        waiting_reason = text(cs, "state", "waiting", "reason")
        if terminated and number(terminated, "exitCode") == 0:
            continue
        if sidecar and get(cs, "started") is True:
            ready += 1 if get(cs, "ready") is True else 0
            continue
        initializing = True
        if terminated:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting_reason and waiting_reason != "PodInitializing":
            reason = "Init:" + waiting_reason
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        break

    if not initializing or _condition_true(pod, "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        # The last container with something to say wins, as upstream iterates backwards.
        for cs in reversed(items(status, "containerStatuses")):
            restarts += number(cs, "restartCount")
            last_restart = _later(last_restart, _finished_at(cs))
            waiting_reason = text(cs, "state", "waiting", "reason")
            terminated = mapping(cs, "state", "terminated")
            if waiting_reason:
                reason = waiting_reason
            elif terminated:
                reason = _terminated_reason(terminated)
            elif get(cs, "ready") is True and get(cs, "state", "running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(pod, "Ready") else "NotReady"

    if get(pod, "metadata", "deletionTimestamp") is not None:
        if text(status, "reason") == _NODE_UNREACHABLE_REASON:
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
    return f"{ready}/{total}", reason, restarts_text


def _pod_cells(pod: Obj, now: datetime) -> list[Any]:
    ready, reason, restarts = pod_summary(pod, now)
    pod_ips = items(pod, "status", "podIPs")
    ip = text(pod_ips[0], "ip") if pod_ips else ""
    gates = items(pod, "spec", "readinessGates")
    readiness = "<none>"
    if gates:
        conditions = {
            get(c, "type"): get(c, "status") for c in reversed(items(pod, "status", "conditions"))
        }
        true = sum(1 for g in gates if conditions.get(get(g, "conditionType")) == "True")
        readiness = f"{true}/{len(gates)}"
    return [
        name(pod),
        ready,
        reason,
        restarts,
        age(pod, now),
        ip or "<none>",
        text(pod, "spec", "nodeName") or "<none>",
        text(pod, "status", "nominatedNodeName") or "<none>",
        readiness,
    ]


def _pod_conditions(pod: Obj) -> list[dict[str, str]]:
    phase = text(pod, "status", "phase")
    if phase == "Succeeded":
        message = "The pod has completed successfully."
    elif phase == "Failed":
        message = "The pod failed."
    else:
        return []
    return [{"type": "Completed", "status": "True", "reason": phase, "message": message}]


POD = Printer(
    columns=(
        NAME,
        Column("Ready", doc="The aggregate readiness state of this pod for accepting traffic."),
        Column("Status", doc="The aggregate status of the containers in this pod."),
        Column(
            "Restarts",
            doc="The number of times the containers in this pod have been restarted and "
            "when the last container in this pod has restarted.",
        ),
        AGE,
        Column("IP", doc=("core.v1.PodStatus", "podIP"), priority=1),
        Column("Node", doc=("core.v1.PodSpec", "nodeName"), priority=1),
        Column("Nominated Node", doc=("core.v1.PodStatus", "nominatedNodeName"), priority=1),
        Column("Readiness Gates", doc=("core.v1.PodSpec", "readinessGates"), priority=1),
    ),
    cells=_pod_cells,
    conditions=_pod_conditions,
)


def node_status(node: Obj) -> str:
    """``Ready``, ``NotReady`` or ``Unknown``, plus ``SchedulingDisabled`` when cordoned."""
    ready = None
    for cond in items(node, "status", "conditions"):
        if get(cond, "type") == "Ready":
            ready = "Ready" if get(cond, "status") == "True" else "NotReady"
    status = [ready or "Unknown"]
    if get(node, "spec", "unschedulable") is True:
        status.append("SchedulingDisabled")
    return ",".join(status)


def node_roles(node: Obj) -> str:
    """Roles from ``node-role.kubernetes.io/<role>`` labels and ``kubernetes.io/role``."""
    roles = set()
    for key, value in mapping(node, "metadata", "labels").items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key.removeprefix("node-role.kubernetes.io/")
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))
    return ",".join(sorted(roles)) or "<none>"


def _address(node: Obj, kind: str) -> str:
    for address in items(node, "status", "addresses"):
        if get(address, "type") == kind:
            return text(address, "address")
    return "<none>"


def _node_cells(node: Obj, now: datetime) -> list[Any]:
    info = mapping(node, "status", "nodeInfo")
    return [
        name(node),
        node_status(node),
        node_roles(node),
        age(node, now),
        text(info, "kubeletVersion"),
        _address(node, "InternalIP"),
        _address(node, "ExternalIP"),
        text(info, "osImage") or "<unknown>",
        text(info, "kernelVersion") or "<unknown>",
        text(info, "containerRuntimeVersion") or "<unknown>",
    ]


_INFO = "core.v1.NodeSystemInfo"
NODE = Printer(
    columns=(
        NAME,
        Column("Status", doc="The status of the node"),
        Column("Roles", doc="The roles of the node"),
        AGE,
        Column("Version", doc=(_INFO, "kubeletVersion")),
        Column("Internal-IP", doc=("core.v1.NodeStatus", "addresses"), priority=1),
        Column("External-IP", doc=("core.v1.NodeStatus", "addresses"), priority=1),
        Column("OS-Image", doc=(_INFO, "osImage"), priority=1),
        Column("Kernel-Version", doc=(_INFO, "kernelVersion"), priority=1),
        Column("Container-Runtime", doc=(_INFO, "containerRuntimeVersion"), priority=1),
    ),
    cells=_node_cells,
)
