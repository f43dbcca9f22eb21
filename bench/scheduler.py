"""Scheduler benchmark, after upstream's scheduler_perf: pods/s placing M pods on N nodes.

    .venv/bin/python bench/scheduler.py [--quick] [--json] [--core-only] [--nodes N --pods M]

Two measurements per scenario:

* **core**: the pure scheduling core (cache, queue, framework with the default plugins,
  algorithm) in this process, no I/O: every pod is popped, scheduled and assumed, and its
  binding counted as observed at once. Reports pods/s and the p50/p99 of one pod's
  scheduling cycle.
* **end to end**: a ``kyb apiserver`` process (SQLite), N Node objects and M pending pods
  created through the API, then a ``kyb scheduler`` process (no leader election) binding
  them through ``pods/binding``. Throughput is measured from the first observed binding to
  the last; p50/p99 are of the per-second throughput samples (as scheduler_perf's
  SchedulingThroughput). "total" also counts the scheduler's start-up and initial list.

Scenarios (node and pod templates as scheduler_perf's): SchedulingBasic (4 cpu / 32Gi /
110-pod nodes, pods asking 100m / 500Mi), SchedulingNodeAffinity (every node labelled
zone1, pods requiring it), SchedulingPodAntiAffinity (pods repelling each other per host;
at most one pod per node, so M/10 pods) and TopologySpreading (3 zones, maxSkew 1;
M/5 pods). Sizes: 5,000 nodes / 10,000 pods, ``--quick`` 500 / 1,000. The reference is
upstream's published floor for SchedulingBasic 5,000/10,000: 680 pods/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _apiserver_procs import KYB, ServerProcess  # noqa: E402
from kybernetes.api import REGISTRY  # noqa: E402
from kybernetes.client import REAL_CLOCK, RESTClient  # noqa: E402
from kybernetes.scheduler import (  # noqa: E402
    NullAPI,
    Scheduled,
    StaticCluster,
    build_core,
    default_config,
)

UPSTREAM_FLOOR = 680.0
ZONE = "topology.kubernetes.io/zone"
PODS = REGISTRY.get("", "v1", "pods")
NODES = REGISTRY.get("", "v1", "nodes")
NAMESPACES = REGISTRY.get("", "v1", "namespaces")
assert PODS and NODES and NAMESPACES
Obj = dict[str, Any]


def progress(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


# -- scenarios ---------------------------------------------------------------------------


def _node(i: int, zones: int = 0, zone1: bool = False) -> Obj:
    labels = {"kubernetes.io/hostname": f"node-{i}"}
    if zones:
        labels[ZONE] = f"zone{i % zones + 1}"
    if zone1:
        labels[ZONE] = "zone1"
    alloc = {"cpu": "4", "memory": "32Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": f"node-{i}", "labels": labels},
        "spec": {},
        "status": {
            "capacity": alloc,
            "allocatable": alloc,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def _pod(i: int, labels: dict[str, str] | None = None, **spec: Any) -> Obj:
    container = {
        "name": "pause",
        "image": "registry.k8s.io/pause:3.10",
        "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}},
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"pod-{i}", "namespace": "bench", "labels": dict(labels or {})},
        "spec": {"containers": [container], **spec},
    }


def _basic(i: int) -> Obj:
    return _pod(i)


def _node_affinity(i: int) -> Obj:
    term = {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["zone1"]}]}
    required = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
    return _pod(i, affinity={"nodeAffinity": required})


def _anti_affinity(i: int) -> Obj:
    term = {
        "labelSelector": {"matchLabels": {"color": "green"}},
        "topologyKey": "kubernetes.io/hostname",
    }
    anti = {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
    return _pod(i, {"color": "green"}, affinity={"podAntiAffinity": anti})


def _spread(i: int) -> Obj:
    constraint = {
        "maxSkew": 1,
        "topologyKey": ZONE,
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"color": "blue"}},
    }
    return _pod(i, {"color": "blue"}, topologySpreadConstraints=[constraint])


@dataclass(frozen=True)
class Scenario:
    name: str
    node: Callable[[int], Obj]
    pod: Callable[[int], Obj]
    #: Fraction of M this scenario schedules.
    share: float = 1.0


SCENARIOS = (
    Scenario("SchedulingBasic", _node, _basic),
    Scenario("SchedulingNodeAffinity", lambda i: _node(i, zone1=True), _node_affinity),
    Scenario("SchedulingPodAntiAffinity", _node, _anti_affinity, 0.1),
    Scenario("TopologySpreading", lambda i: _node(i, zones=3), _spread, 0.2),
)


@dataclass
class Result:
    scenario: str
    mode: str
    nodes: int
    pods: int
    pods_per_s: float
    p50: float
    p99: float
    total_s: float
    scheduled: int


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the pure core -----------------------------------------------------------------------


async def run_core(s: Scenario, nodes: int, pods: int) -> Result:
    core = build_core(
        default_config(),
        cluster=StaticCluster(namespace_list=[{"metadata": {"name": "bench"}}]),
        api=NullAPI(),
        clock=REAL_CLOCK,
        rng=random.Random(1),
    )
    for i in range(nodes):
        core.cache.add_node(s.node(i))
    for i in range(pods):
        obj = s.pod(i)
        obj["metadata"]["uid"] = f"uid-{i}"
        core.queue.add(obj)
    latencies: list[float] = []
    scheduled = 0
    start = time.perf_counter()
    for _ in range(pods):
        qpi = await core.queue.pop()
        t0 = time.perf_counter()
        outcome = core.schedule_one(qpi)
        latencies.append(time.perf_counter() - t0)
        if isinstance(outcome, Scheduled):
            scheduled += 1
            core.cache.finish_binding(outcome.assumed)
            core.queue.done(qpi.pod.uid)
    total = time.perf_counter() - start
    return Result(
        s.name,
        "core",
        nodes,
        pods,
        pods / total,
        _percentile(latencies, 0.5) * 1000,
        _percentile(latencies, 0.99) * 1000,
        total,
        scheduled,
    )


# -- end to end --------------------------------------------------------------------------


async def _create_all(client: RESTClient, resource: Any, bodies: list[Obj], ns: str | None) -> None:
    queue = list(reversed(bodies))

    async def worker() -> None:
        while queue:
            await client.create(resource, queue.pop(), namespace=ns)

    await asyncio.gather(*(worker() for _ in range(32)))


def _spawn_scheduler(kubeconfig: Path, config: Path, log: Path) -> subprocess.Popen[bytes]:
    setpriv = ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"]
    prefix = setpriv if os.access(setpriv[0], os.X_OK) else []
    argv = [str(KYB), "scheduler", f"--kubeconfig={kubeconfig}", f"--config={config}"]
    with log.open("ab") as out:
        return subprocess.Popen(
            [*prefix, *argv, "--leader-elect=false"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def _watch_bound(client: RESTClient, rv: str, want: int, bound: dict[str, float]) -> None:
    seen_rv = rv
    while len(bound) < want:
        async for event in client.watch_once(PODS, namespace="bench", resource_version=seen_rv):
            if event.resource_version:
                seen_rv = event.resource_version
            name = (event.object.get("metadata") or {}).get("name")
            if name and (event.object.get("spec") or {}).get("nodeName") and name not in bound:
                bound[name] = time.perf_counter()
                if len(bound) >= want:
                    return


async def run_e2e(s: Scenario, nodes: int, pods: int, tmp: Path) -> Result:
    data = tmp / s.name
    server = ServerProcess.apiserver(f"apiserver-{s.name}", data, f"sqlite://{data}/store.db")
    scheduler: subprocess.Popen[bytes] | None = None
    try:
        await server.start()
        kubeconfig = data / "kubeconfig"
        config = data / "scheduler.yaml"
        config.write_text("clientConnection: {qps: 100000, burst: 100000}\n")
        client = RESTClient(server.url, qps=None, timeout=120)
        try:
            progress(f"{s.name}: creating {nodes:,} nodes and {pods:,} pods")
            await client.create(NAMESPACES, {"metadata": {"name": "bench"}})
            await _create_all(client, NODES, [s.node(i) for i in range(nodes)], None)
            await _create_all(client, PODS, [s.pod(i) for i in range(pods)], "bench")
            rv = (await client.list(PODS, namespace="bench", limit=1))["metadata"][
                "resourceVersion"
            ]
            bound: dict[str, float] = {}
            watcher = asyncio.create_task(_watch_bound(client, rv, pods, bound))
            progress(f"{s.name}: starting kyb scheduler")
            start = time.perf_counter()
            scheduler = _spawn_scheduler(kubeconfig, config, data / "scheduler.log")
            try:
                await asyncio.wait_for(watcher, timeout=max(120, pods / 20))
            except TimeoutError:
                progress(f"{s.name}: timed out with {len(bound)} of {pods} pods bound")
        finally:
            await client.close()
    finally:
        if scheduler is not None and scheduler.poll() is None:
            os.kill(scheduler.pid, signal.SIGTERM)
            try:
                scheduler.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(scheduler.pid, signal.SIGKILL)
                scheduler.wait()
        server.stop()
    times = sorted(bound.values())
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    per_second: dict[int, int] = {}
    for t in times:
        per_second[int(t - times[0])] = per_second.get(int(t - times[0]), 0) + 1
    samples = [float(v) for v in per_second.values()][:-1] or [float(len(times))]
    return Result(
        s.name,
        "end to end",
        nodes,
        pods,
        rate,
        statistics.median(samples),
        _percentile(samples, 0.01),  # the slow tail of throughput
        (times[-1] - start) if times else 0.0,
        len(times),
    )


# -- main --------------------------------------------------------------------------------


def _table(results: list[Result]) -> str:
    lines = [
        f"{'scenario':<26} {'mode':<11} {'nodes':>6} {'pods':>6} {'pods/s':>8} "
        f"{'p50':>9} {'p99':>9} {'total s':>8}  vs 680/s",
    ]
    for r in results:
        unit = "ms" if r.mode == "core" else "/s"
        lines.append(
            f"{r.scenario:<26} {r.mode:<11} {r.nodes:>6} {r.scheduled:>6} {r.pods_per_s:>8.0f} "
            f"{r.p50:>7.2f}{unit} {r.p99:>7.2f}{unit} {r.total_s:>8.1f}  "
            f"{r.pods_per_s / UPSTREAM_FLOOR:>5.2f}x"
        )
    lines.append(
        "core: p50/p99 = one pod's scheduling cycle; end to end: p50/p99 = per-second "
        "throughput samples (p99 = the slowest 1%). Upstream floor: 680 pods/s "
        "(SchedulingBasic, 5,000 nodes / 10,000 pods)."
    )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> list[Result]:
    nodes = args.nodes or (500 if args.quick else 5000)
    pods = args.pods or (1000 if args.quick else 10000)
    chosen = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    results: list[Result] = []
    for s in chosen:
        m = max(1, int(pods * s.share))
        progress(f"{s.name}: core, {nodes:,} nodes / {m:,} pods")
        results.append(await run_core(s, nodes, m))
    if not args.core_only:
        with tempfile.TemporaryDirectory(prefix="kyb-bench-scheduler-") as tmp:
            for s in chosen:
                m = max(1, int(pods * s.share))
                results.append(await run_e2e(s, nodes, m, Path(tmp)))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="500 nodes / 1,000 pods")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--core-only", action="store_true", help="skip the end-to-end runs")
    parser.add_argument("--nodes", type=int, default=0)
    parser.add_argument("--pods", type=int, default=0)
    parser.add_argument("--scenario", action="append", help="run only these (repeatable)")
    args = parser.parse_args()
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    results = runner(main_async(args))
    if args.json:
        print(
            json.dumps(
                {
                    "upstream_floor_pods_per_s": UPSTREAM_FLOOR,
                    "results": [asdict(r) for r in results],
                },
                indent=2,
            )
        )
    else:
        print(_table(results))
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
