"""Leader election and double-binding safety, with real processes and a real API server."""

from __future__ import annotations

import asyncio
import pathlib
import subprocess
import sys
from collections import Counter
from typing import Any

from tests.support.live_scheduler import (
    EVENTS,
    Server,
    config,
    create_nodes,
    create_pods,
    node,
    node_of,
    pod,
    running,
    wait_pods,
)

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.client import NotFound, RESTClient
from kybernetes.scheduler import Scheduler, load_config

_LEASES = REGISTRY.get("coordination.k8s.io", "v1", "leases")
assert _LEASES is not None
LEASES: ResourceInfo = _LEASES

SHORT_LEASE = """\
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: true, leaseDuration: 3s, renewDeadline: 2s, retryPeriod: 250ms}
clientConnection: {qps: 1000, burst: 1000}
"""


def _bound(names: set[str]) -> Any:
    return lambda pods: names <= set(pods) and all(node_of(pods[n]) for n in names)


async def _scheduled_events(client: RESTClient, ns: str) -> Counter[str]:
    events = await client.list(EVENTS, namespace=ns)
    return Counter(
        e["involvedObject"]["name"]
        for e in events["items"]
        for _ in range(int(e.get("count") or 1))
        if e["reason"] == "Scheduled"
    )


async def _holder(client: RESTClient) -> str:
    try:
        lease = await client.get(LEASES, "kube-scheduler", namespace="kube-system")
    except NotFound:
        return ""
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


async def test_standby_takes_over_when_the_leader_process_is_killed(
    client: RESTClient, ns: str, server: Server, tmp_path: pathlib.Path
) -> None:
    config_file = tmp_path / "scheduler.yaml"
    config_file.write_text(SHORT_LEASE)
    await create_nodes(client, node("n1", cpu="64"), node("n2", cpu="64"))
    with (tmp_path / "leader.log").open("wb") as log:
        leader = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "kybernetes.cli", "scheduler"),
            *("--kubeconfig", str(server.kubeconfig), "--config", str(config_file)),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            first = {f"first{i}" for i in range(8)}
            await create_pods(client, ns, *(pod(n) for n in sorted(first)))
            await wait_pods(client, ns, _bound(first))
            assert await _holder(client)
            standby = Scheduler(client, load_config(config_file), identity="standby")
            async with running(standby):
                assert not standby.leading.is_set()
                leader.kill()  # no clean shutdown: the Lease is not released
                await leader.wait()
                second = {f"second{i}" for i in range(8)}
                await create_pods(client, ns, *(pod(n) for n in sorted(second)))
                await wait_pods(client, ns, _bound(second), within=30)
                assert standby.leading.is_set()
                assert await _holder(client) == "standby"
                assert standby.bound == len(second), "the standby must not re-bind the first pods"
                await standby.recorder.flush()
        finally:
            if leader.returncode is None:
                leader.kill()
                await leader.wait()
    counts = await _scheduled_events(client, ns)
    # Events are best effort: the killed leader may have died with some unwritten.
    assert max(counts.values()) == 1
    assert {n: counts[n] for n in second} == {n: 1 for n in second}


async def test_two_schedulers_racing_never_bind_a_pod_twice(client: RESTClient, ns: str) -> None:
    await create_nodes(client, *(node(f"n{i}", cpu="16") for i in range(4)))
    one = Scheduler(client, config(), leader_elect=False)
    two = Scheduler(client, config(), leader_elect=False)
    async with running(one), running(two):
        names = {f"p{i:02d}" for i in range(30)}
        await create_pods(client, ns, *(pod(n) for n in sorted(names)))
        pods = await wait_pods(client, ns, _bound(names))
        await one.recorder.flush()
        await two.recorder.flush()
    assert one.bound + two.bound == len(names)
    assert all(node_of(p) for p in pods.values())
    counts = await _scheduled_events(client, ns)
    assert counts == Counter({name: 1 for name in names})
