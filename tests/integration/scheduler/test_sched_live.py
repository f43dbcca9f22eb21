"""The scheduler against a real API server: placement, messages, retries, preemption."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.live_scheduler import (
    EVENTS,
    PODS,
    PRIORITY_CLASSES,
    Server,
    config,
    create_nodes,
    create_pods,
    node,
    node_of,
    pod,
    running,
    scheduled_condition,
    wait_pods,
)

from kybernetes.client import RESTClient
from kybernetes.scheduler import Scheduler

ZONE = "topology.kubernetes.io/zone"
INFRA = [{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}]


def _all_bound(names: set[str]) -> Any:
    return lambda pods: names <= set(pods) and all(node_of(pods[n]) for n in names)


def _unschedulable(name: str) -> Any:
    def done(pods: dict[str, Any]) -> bool:
        c = scheduled_condition(pods[name]) if name in pods else None
        return c is not None and c.get("reason") == "Unschedulable"

    return done


async def test_placement_by_resources_affinity_taints_and_spread(
    client: RESTClient, ns: str
) -> None:
    await create_nodes(
        client,
        node("a1", cpu="2", labels={ZONE: "a"}),
        node("a2", cpu="2", labels={ZONE: "a"}),
        node("b1", cpu="2", labels={ZONE: "b"}),
        node("infra", cpu="8", labels={ZONE: "b"}, taints=INFRA),
    )
    spread: dict[str, Any] = {
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": ZONE,
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "web"}},
            }
        ]
    }
    tolerate: dict[str, Any] = {
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "infra"}]
    }
    async with running(Scheduler(client, config(), leader_elect=False)):
        await create_pods(
            client,
            ns,
            pod("in-b", nodeSelector={ZONE: "b"}),
            pod("big", cpu="6", **tolerate),
            *(pod(f"web{i}", labels={"app": "web"}, **spread) for i in range(4)),
        )
        pods = await wait_pods(
            client, ns, _all_bound({"in-b", "big", *(f"web{i}" for i in range(4))})
        )
    assert node_of(pods["in-b"]) == "b1"  # the only zone-b node without the taint
    assert node_of(pods["big"]) == "infra"  # only the tolerated node has 6 cpus
    zones = [node_of(pods[f"web{i}"]) for i in range(4)]
    assert "infra" not in zones
    assert sum(z.startswith("a") for z in zones) == 2, zones  # 2 per zone
    bound = scheduled_condition(pods["big"])
    assert bound is not None and bound["status"] == "True"  # set by the binding


async def test_failed_scheduling_message_in_kubectl_describe(
    client: RESTClient, ns: str, server: Server
) -> None:
    await create_nodes(
        client, node("n1", cpu="1"), node("n2", cpu="1"), node("n3", cpu="8", taints=INFRA)
    )
    async with running(Scheduler(client, config(), leader_elect=False)):
        await create_pods(client, ns, pod("huge", cpu="2"))
        pods = await wait_pods(client, ns, _unschedulable("huge"))
    # 2 cpus exceed the small nodes' allocatable: evicting cannot help there either.
    expected = (
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, "
        "2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful "
        "for scheduling."
    )
    condition = scheduled_condition(pods["huge"])
    assert condition is not None
    assert (condition["status"], condition["message"]) == ("False", expected)
    described = await asyncio.to_thread(_kubectl, server, "describe", "pod", "huge", "-n", ns)
    assert "FailedScheduling" in described
    assert "default-scheduler" in described
    # kubectl wraps nothing here: the message appears on the event line as the scheduler wrote it.
    assert expected in " ".join(described.split())


def _kubectl(server: Server, *args: str) -> str:
    import subprocess
    import sys
    from pathlib import Path

    kubectl = Path(sys.executable).parent / "kubectl"
    result = subprocess.run(
        [str(kubectl), f"--kubeconfig={server.kubeconfig}", *args],
        capture_output=True,
        text=True,
        env={"HOME": str(server.home), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=True,
    )
    return result.stdout


async def test_pending_pod_is_scheduled_when_a_node_is_added(client: RESTClient, ns: str) -> None:
    await create_nodes(client, node("small", cpu="1"))
    scheduler = Scheduler(client, config(), leader_elect=False)
    async with running(scheduler):
        await create_pods(client, ns, pod("waiting", cpu="2"))
        await wait_pods(client, ns, _unschedulable("waiting"))
        await create_nodes(client, node("roomy", cpu="4"))
        pods = await wait_pods(client, ns, _all_bound({"waiting"}))
        assert node_of(pods["waiting"]) == "roomy"
        await scheduler.recorder.flush()
        events = await client.list(EVENTS, namespace=ns)
    reasons = [
        (e["reason"], e["message"])
        for e in events["items"]
        if e["involvedObject"]["name"] == "waiting"
    ]
    assert ("Scheduled", f"Successfully assigned {ns}/waiting to roomy") in reasons
    assert any(r == "FailedScheduling" for r, _ in reasons)


async def test_invalid_affinity_is_reported_and_others_still_scheduled(
    client: RESTClient, ns: str
) -> None:
    await create_nodes(client, node("n1"))
    bad_affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "Near", "values": ["x"]}]}
                ]
            }
        }
    }
    async with running(Scheduler(client, config(), leader_elect=False)):
        await create_pods(client, ns, pod("bad", affinity=bad_affinity))
        await create_pods(client, ns, pod("good"))
        pods = await wait_pods(
            client, ns, lambda p: _unschedulable("bad")(p) and _all_bound({"good"})(p)
        )
    message = scheduled_condition(pods["bad"])["message"]  # type: ignore[index]
    assert '"Near" is not a valid node selector operator' in message
    assert message.startswith("0/1 nodes are available: invalid node affinity: ")


async def test_preemption_evicts_a_lower_priority_pod(client: RESTClient, ns: str) -> None:
    for name, value in ((f"{ns}-low", 10), (f"{ns}-high", 1000)):
        await client.create(PRIORITY_CLASSES, {"metadata": {"name": name}, "value": value})
    await create_nodes(client, node("only", cpu="2"))
    async with running(Scheduler(client, config(), leader_elect=False)):
        await create_pods(client, ns, pod("victim", cpu="2", priorityClassName=f"{ns}-low"))
        await wait_pods(client, ns, _all_bound({"victim"}))
        await create_pods(client, ns, pod("vip", cpu="2", priorityClassName=f"{ns}-high"))

        def preempted(pods: dict[str, Any]) -> bool:
            victim, vip = pods.get("victim"), pods.get("vip")
            return bool(
                victim
                and victim["metadata"].get("deletionTimestamp")
                and vip
                and (vip.get("status") or {}).get("nominatedNodeName") == "only"
            )

        pods = await wait_pods(client, ns, preempted)
        conditions = {c["type"]: c for c in pods["victim"]["status"].get("conditions") or ()}
        assert conditions["DisruptionTarget"]["reason"] == "PreemptionByScheduler"
        # There is no kubelet: finish the victim's graceful deletion as one would.
        await client.delete(PODS, "victim", namespace=ns, grace_period_seconds=0)
        pods = await wait_pods(client, ns, _all_bound({"vip"}))
    assert node_of(pods["vip"]) == "only" and "victim" not in pods


async def test_pods_for_other_schedulers_are_left_alone(client: RESTClient, ns: str) -> None:
    await create_nodes(client, node("n1"))
    async with running(Scheduler(client, config(), leader_elect=False)):
        await create_pods(client, ns, pod("theirs", schedulerName="other-scheduler"), pod("ours"))
        pods = await wait_pods(client, ns, _all_bound({"ours"}))
    assert node_of(pods["theirs"]) == "" and scheduled_condition(pods["theirs"]) is None
