"""API server benchmark: ``kyb apiserver`` on SQLite and on real etcd, in one run.

    .venv/bin/python bench/apiserver.py [--json] [--quick] [--baseline SRC]

Starts a real etcd member and two ``kyb apiserver`` processes (``sqlite://`` and
``etcd://``), plus a bare aiohttp + uvloop server answering a pod (the *ceiling*: what one
Python process serves with no API work at all). Load comes from other processes, so the
load generator never shares the server's event loop:

* ``wrk`` (C, one thread; Lua scripts in ``_apiserver_wrk.py``) for creates (POST with
  ``generateName``), gets, updates (PUT, a new label value each time) with 64 connections,
  LISTs of 1,000 pods (8 connections) and LISTs of 10,000 pods with ``resourceVersion=0``
  (one connection: the time of one LIST from the watch cache);
* a lean asyncio client in this process (raw sockets, ``_apiserver_clients.py``) for the
  watch fan-out (events/s delivered to 500 watchers) and the untimed fill.

Memory per stored pod is the server process's RSS growth over creating 10,000 pods,
divided by 10,000 (for SQLite this includes SQLite's page cache, which lives in the
server process; etcd keeps its data in its own process).

The scenarios run in rounds, the servers taking turns (alternating which goes first), so
outside load falls on all alike; a figure is the median over rounds (latency percentiles:
the median over rounds of each run's percentile). ``--baseline SRC`` also runs the same
two servers from another source tree (e.g. a copy of ``src/`` from before a change, on its
own etcd member) in the same rounds: a before/after comparison under the same load.
Prints a table, or one JSON object with the same figures (``--json``), then checks the
targets: >= 3,000 writes/s and >= 8,000 gets/s with p99 < 50 ms, LIST of 10,000 pods from
the cache < 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_ROOT))  # tests.support.etcd runs the etcd member

from tests.support.etcd import EtcdCluster  # noqa: E402

from _apiserver_clients import create_namespace, fill, list_pods, watch_fanout  # noqa: E402
from _apiserver_procs import ServerProcess  # noqa: E402
from _apiserver_wrk import (  # noqa: E402
    WRK,
    WrkRun,
    create_script,
    get_script,
    plain_script,
    run_wrk,
    update_script,
)

CLIENTS = 64
LIST_CLIENTS = 8
WATCHERS = 500
SMALL_LIST = 1_000
BIG_LIST = 10_000
BACKENDS = ("sqlite", "etcd")


@dataclass(frozen=True)
class Sizes:
    rounds: int
    #: Seconds of each wrk run.
    duration: float
    #: Pods created while 500 watchers watch, per round.
    watch_events: int


FULL = Sizes(rounds=3, duration=3.0, watch_events=200)
QUICK = Sizes(rounds=1, duration=2.0, watch_events=100)

#: (name, label) of the wrk scenarios, in the order they run.
WRK_SCENARIOS = [
    ("create", f"creates/s, {CLIENTS} clients"),
    ("get", f"gets/s, {CLIENTS} clients"),
    ("update", f"updates/s, {CLIENTS} clients"),
    ("list_1000", f"LISTs of 1,000 pods/s, {LIST_CLIENTS} clients"),
    ("list_10000_rv0", "LIST of 10,000 pods, rv=0"),
]


def progress(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def _wrk_job(
    name: str, url: str, updates: Sequence[Any] = (), run: int = 0
) -> tuple[str, str, int]:
    """(url, script, connections) of a wrk scenario against server ``url``; ``updates``
    are the pods the update scenario PUTs, ``run`` tells its runs apart."""
    pods = f"{url}/api/v1/namespaces"
    if name == "create":
        return f"{pods}/bench-create/pods", create_script("bench-create"), CLIENTS
    if name == "get":
        return url, get_script("/api/v1/namespaces/bench-list/pods/l-", SMALL_LIST), CLIENTS
    if name == "update":
        prefix = "/api/v1/namespaces/bench-update/pods/"
        return url, update_script(prefix, list(updates), run * 10_000_000), CLIENTS
    if name == "list_1000":
        return f"{pods}/bench-list/pods", plain_script(), LIST_CLIENTS
    if name == "list_10000_rv0":
        return f"{pods}/bench-big/pods?resourceVersion=0", plain_script(), 1
    raise ValueError(name)


async def prepare(
    server: ServerProcess, session: aiohttp.ClientSession
) -> tuple[dict[str, float], list[Any]]:
    """Namespaces and pods the scenarios use; returns the memory figures and the pods the
    update scenario PUTs."""
    base = server.url
    for ns in ("bench-create", "bench-list", "bench-update", "bench-big"):
        await create_namespace(session, base, ns)
    await fill(session, base, "bench-list", "l-", SMALL_LIST)
    await fill(session, base, "bench-update", "u-", SMALL_LIST)
    await asyncio.sleep(0.5)  # let the server settle (watch cache, allocator) first
    before = server.rss_bytes()
    await fill(session, base, "bench-big", "b-", BIG_LIST)
    await asyncio.sleep(0.5)
    after = server.rss_bytes()
    memory = {"rss_mib": after / 2**20, "per_pod_kib": (after - before) / BIG_LIST / 1024}
    return memory, await list_pods(session, base, "bench-update")


async def wrk_scenario(
    server: ServerProcess, name: str, duration: float, updates: list[Any], run: int
) -> dict[str, float]:
    url, script, connections = _wrk_job(name, server.url, updates, run)
    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    measured = await run_wrk(url, script, connections=connections, duration=duration)
    cpu = (server.cpu_seconds() - cpu0) / (time.perf_counter() - t0)
    return _figures(measured) | {"server_cpu": cpu}


def _figures(run: WrkRun) -> dict[str, float]:
    return {
        "rate": run.rate,
        "p50_ms": run.p50_ms,
        "p99_ms": run.p99_ms,
        "max_ms": run.max_ms,
        "errors": run.non2xx + run.socket_errors,
    }


def _servers(tmp: Path, etcds: list[EtcdCluster], baseline: str) -> dict[str, ServerProcess]:
    """The API servers to measure, by backend name (with ``baseline``: the same two again,
    running the source tree at that path, named "... (base)")."""
    trees = [("", "")] + ([(" (base)", baseline)] if baseline else [])
    servers: dict[str, ServerProcess] = {}
    for (suffix, src), etcd in zip(trees, etcds, strict=True):
        host, port = etcd.endpoints[0]
        env = {"PYTHONPATH": src} if src else {}
        stores = {
            "sqlite": f"sqlite://{tmp}/store{len(servers)}.db",
            "etcd": f"etcd://{host}:{port}",
        }
        for kind, store in stores.items():
            name = kind + suffix
            directory = tmp / f"server{len(servers)}"
            servers[name] = ServerProcess.apiserver(name, directory, store, env=env)
    return servers


async def measure(
    sizes: Sizes, tmp: Path, etcds: list[EtcdCluster], baseline: str
) -> dict[str, Any]:
    servers = _servers(tmp, etcds, baseline)
    backends = list(servers)
    ceiling = ServerProcess.ceiling(tmp / "ceiling.log")
    runs: dict[str, dict[str, list[dict[str, float]]]] = {
        b: {name: [] for name, _ in [*WRK_SCENARIOS, ("watch", "")]} for b in backends
    }
    ceiling_runs: list[dict[str, float]] = []
    memory: dict[str, dict[str, float]] = {}
    updates: dict[str, list[Any]] = {}
    connector = aiohttp.TCPConnector(limit=2 * CLIENTS)
    try:
        for s in (*servers.values(), ceiling):
            await s.start()
        async with aiohttp.ClientSession(connector=connector) as session:
            # Two servers fill at once (one core each): the fill is setup, not measured.
            progress(f"creating {2 * SMALL_LIST + BIG_LIST:,} pods on each server")
            for pair in (backends[:2], backends[2:]):
                prepared = await asyncio.gather(*(prepare(servers[b], session) for b in pair))
                for b, (mem, pods) in zip(pair, prepared, strict=True):
                    memory[b], updates[b] = mem, pods
            for r in range(sizes.rounds):
                ceiling_url, script, conns = _wrk_job("get", ceiling.url)
                run = await run_wrk(ceiling_url, script, connections=conns, duration=sizes.duration)
                ceiling_runs.append(_figures(run))
                order = backends if r % 2 == 0 else backends[::-1]
                progress(f"round {r + 1} of {sizes.rounds}")
                for name, _ in WRK_SCENARIOS:
                    for b in order:
                        s = servers[b]
                        figures = await wrk_scenario(s, name, sizes.duration, updates[b], r)
                        runs[b][name].append(figures)
                for b in order:
                    s = servers[b]
                    ns = f"bench-watch-{r}"
                    await create_namespace(session, s.url, ns)
                    rate = await watch_fanout(
                        session, s.url, s.port, ns, WATCHERS, sizes.watch_events
                    )
                    runs[b]["watch"].append({"rate": rate})
            for b in backends:
                memory[b]["rss_end_mib"] = servers[b].rss_bytes() / 2**20
    finally:
        for s in (*servers.values(), ceiling):
            s.stop()
    return {
        "backends": backends,
        "results": {b: {n: _median(v) for n, v in runs[b].items()} for b in backends},
        "ceiling": _median(ceiling_runs),
        "memory": memory,
    }


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    if "errors" in out:
        out["errors"] = sum(r["errors"] for r in runs)
    return out


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b in BACKENDS:  # the tree under test, not a baseline
        res = results[b]
        for name, label, floor in (
            ("create", "creates/s", 3000),
            ("update", "updates/s", 3000),
            ("get", "gets/s", 8000),
        ):
            rate = res[name]["rate"]
            out.append({"target": f"{b}: {label} >= {floor:,}", "measured": rate,
                        "pass": rate >= floor and not res[name]["errors"]})  # fmt: skip
            p99 = res[name]["p99_ms"]
            out.append({"target": f"{b}: {label[:-2]} p99 < 50 ms", "measured": p99,
                        "pass": p99 < 50})  # fmt: skip
        big = res["list_10000_rv0"]["p50_ms"]
        out.append({"target": f"{b}: LIST 10,000 pods rv=0 < 300 ms (median)", "measured": big,
                    "pass": big < 300})  # fmt: skip
    return out


def fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}"


def table(report: dict[str, Any]) -> str:
    res, ceil, mem = report["results"], report["ceiling"], report["memory"]
    backends = report["backends"]
    w = 14
    head = "".join(f"{b:>{w}}" for b in [*backends, "ceiling", "target"])
    rows = [f"{'':44}{head}"]

    def row(label: str, cells: list[str], ceiling: str = "", target: str = "") -> None:
        rows.append(f"{label:44}" + "".join(f"{c:>{w}}" for c in [*cells, ceiling, target]))

    goals = {"create": ">= 3,000", "update": ">= 3,000", "get": ">= 8,000"}
    for name, label in WRK_SCENARIOS:
        figs = [res[b][name] for b in backends]
        flag = [("!" if f["errors"] else "") for f in figs]
        if name == "list_10000_rv0":
            row(f"{label}: median (ms)", [fmt(f["p50_ms"]) for f in figs], "", "< 300")
            row("  max (ms)", [fmt(f["max_ms"]) for f in figs])
            continue
        c = fmt(ceil["rate"]) if name == "get" else ""
        rates = [fmt(f["rate"]) + x for f, x in zip(figs, flag, strict=True)]
        row(label, rates, c, goals.get(name, ""))
        lat = [f"{fmt(f['p50_ms'])} / {fmt(f['p99_ms'])}" for f in figs]
        c = f"{fmt(ceil['p50_ms'])} / {fmt(ceil['p99_ms'])}" if name == "get" else ""
        row("  latency p50 / p99 (ms)", lat, c, "p99 < 50" if name in goals else "")
    row(f"watch events/s to {WATCHERS} watchers", [fmt(res[b]["watch"]["rate"]) for b in backends])
    row("memory per stored pod (KiB, RSS delta)", [fmt(mem[b]["per_pod_kib"]) for b in backends])
    row("server RSS at the end (MiB)", [fmt(mem[b]["rss_end_mib"]) for b in backends])
    cpu = [min(res[b][n]["server_cpu"] for n, _ in WRK_SCENARIOS) * 100 for b in backends]
    row("server CPU under load, lowest run (%)", [fmt(c) for c in cpu])
    if any(res[b][n]["errors"] for b in backends for n, _ in WRK_SCENARIOS):
        rows.append("! some requests failed (non-2xx or socket errors): see --json")
    rows.append("")
    for t in report["targets"]:
        rows.append(f"{t['target']:56}{fmt(t['measured']):>12}  {'PASS' if t['pass'] else 'FAIL'}")
    rows.append(f"\n(load: {report['load_generator']}; {report['mode']} run, "
                f"{report['elapsed_s']:.0f} s)")  # fmt: skip
    return "\n".join(rows)


async def run(sizes: Sizes, mode: str, baseline: str = "") -> dict[str, Any]:
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="kyb-bench-api-"))
        etcds = [stack.enter_context(EtcdCluster(1)) for _ in range(2 if baseline else 1)]
        figures = await measure(sizes, Path(tmp), etcds, baseline)
    return {
        "mode": mode,
        "baseline": baseline,
        "sizes": asdict(sizes),
        "load_generator": f"{WRK} (1 thread, Lua) + asyncio/uvloop raw-socket watch client",
        "clients": CLIENTS,
        "list_clients": LIST_CLIENTS,
        "watchers": WATCHERS,
        **figures,
        "targets": targets(figures["results"]),
        "elapsed_s": time.perf_counter() - t0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="one short round (~1 minute)")
    parser.add_argument(
        "--baseline",
        metavar="SRC",
        default="",
        help="also measure the source tree at SRC (a copy of src/, e.g. before a change) "
        "in the same run, as the '(base)' columns",
    )
    args = parser.parse_args()
    sizes, mode = (QUICK, "quick") if args.quick else (FULL, "full")
    baseline = str(Path(args.baseline).resolve()) if args.baseline else ""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        report = runner.run(run(sizes, mode, baseline))
    print(json.dumps(report, indent=2) if args.json else table(report))


if __name__ == "__main__":
    main()
