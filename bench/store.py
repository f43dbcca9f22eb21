"""Store benchmark: SQLite, our etcd layer and raw etcd3aio, measured in one run.

    .venv/bin/python bench/store.py [--json] [--quick]

Starts its own real etcd member (fsync on, as in production) and a temporary SQLite store,
then measures for each backend: sequential create/update/get rates; the same with 64
requests in flight (with p50/p99 latency); ranges of 1,000 keys; and watch delivery to
100 watchers (events/s from the first write to the last event delivered). Values are
1 KiB.

The work is cut into short chunks and the backends take turns chunk by chunk (the two
etcd clients in alternating order), so outside load on this small shared machine falls on
all of them alike. A rate is the median over the chunks; latency percentiles are over all
operations; "ours vs raw" is the median over chunks of how much more time per operation
our etcd layer took than raw etcd3aio in the chunk next to it.

Prints a table, or one JSON object with the same figures (``--json``), then checks the
targets: SQLite >= 20,000 durable writes/s with 64 writers; >= 100,000 watch events/s to
100 watchers; our etcd layer < 10% slower than raw etcd3aio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_ROOT))  # tests.support.etcd runs the etcd member

from tests.support.etcd import EtcdCluster  # noqa: E402

from _store_backends import Backend, RawEtcdBackend, StoreBackend  # noqa: E402
from _store_scenarios import (  # noqa: E402
    CONCURRENCY,
    SCENARIOS,
    VALUE,
    WATCHERS,
    Chunk,
    Sample,
    fill_range,
)
from kybernetes.store._etcd import EtcdStore  # noqa: E402
from kybernetes.store._sqlite import SqliteStore  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    chunks: int
    #: Operations per chunk and backend.
    sequential: int
    concurrent: int
    ranges: int
    watch_events: int
    range_keys: int = 1000


FULL = Sizes(chunks=24, sequential=100, concurrent=400, ranges=4, watch_events=50)
QUICK = Sizes(chunks=6, sequential=80, concurrent=300, ranges=3, watch_events=40)
NAMES = ("sqlite", "etcd", "etcd-raw")


def pct(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] * 1000.0


async def measure(backends: list[Backend], sizes: Sizes) -> dict[str, dict[str, list[Sample]]]:
    """Every scenario on every backend, chunk by chunk, backends taking turns."""
    samples: dict[str, dict[str, list[Sample]]] = {
        b.name: {name: [] for name, *_ in SCENARIOS} for b in backends
    }
    range_prefix = {b.name: f"/bench/range-{uuid.uuid4().hex[:8]}/" for b in backends}
    for b in backends:
        await fill_range(b, range_prefix[b.name], sizes.range_keys)
    sqlite, ours, raw = backends
    for i in range(sizes.chunks):
        chunks = {
            b.name: Chunk(
                base=f"/bench/{uuid.uuid4().hex[:8]}/",
                sequential=sizes.sequential,
                concurrent=sizes.concurrent,
                ranges=sizes.ranges,
                watch_events=sizes.watch_events,
                range_prefix=range_prefix[b.name],
                range_keys=sizes.range_keys,
            )
            for b in backends
        }
        order = (sqlite, ours, raw) if i % 2 == 0 else (sqlite, raw, ours)
        for name, _, _, scenario in SCENARIOS:
            for b in order:
                samples[b.name][name].append(await scenario(b, chunks[b.name]))
    return samples


def summarize(samples: dict[str, dict[str, list[Sample]]]) -> dict[str, Any]:
    results: dict[str, dict[str, dict[str, float]]] = {}
    for backend, by_scenario in samples.items():
        results[backend] = {}
        for name, runs in by_scenario.items():
            figures = {"rate": statistics.median(s.rate for s in runs)}
            latencies = [x for s in runs for x in s.latencies]
            if latencies:
                figures |= {"p50_ms": pct(latencies, 0.50), "p99_ms": pct(latencies, 0.99)}
            results[backend][name] = figures
    overhead = {
        name: (
            statistics.median(
                r.rate / o.rate
                for o, r in zip(samples["etcd"][name], samples["etcd-raw"][name], strict=True)
            )
            - 1.0
        )
        * 100.0
        for name, *_ in SCENARIOS
    }
    return {"results": results, "etcd_overhead_pct": overhead}


def targets(results: dict[str, Any], over: dict[str, float]) -> list[dict[str, Any]]:
    mean = (math.exp(statistics.fmean(math.log1p(o / 100) for o in over.values())) - 1) * 100
    worst = max(over, key=lambda k: over[k])
    sqlite_writes = results["sqlite"]["conc_create"]["rate"]
    return [
        {
            "target": "sqlite durable writes/s, 64 concurrent writers >= 20,000",
            "measured": sqlite_writes,
            "pass": sqlite_writes >= 20_000,
        },
        *(
            {
                "target": f"{name} watch events/s to 100 watchers >= 100,000",
                "measured": results[name]["watch_100"]["rate"],
                "pass": results[name]["watch_100"]["rate"] >= 100_000,
            }
            for name in ("sqlite", "etcd")
        ),
        {
            "target": "our etcd layer over raw etcd3aio < 10% (geometric mean)",
            "measured": mean,
            "pass": mean < 10.0,
        },
        {
            "target": f"our etcd layer over raw etcd3aio < 10% (worst: {worst})",
            "measured": over[worst],
            "pass": over[worst] < 10.0,
        },
    ]


def fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def table(report: dict[str, Any]) -> str:
    res, over = report["results"], report["etcd_overhead_pct"]
    rows = [f"{'':36}{'sqlite':>12}{'etcd (ours)':>14}{'etcd-raw':>12}{'ours vs raw':>13}"]
    for name, label, unit, _ in SCENARIOS:
        cells = "".join(
            f"{fmt(res[n][name]['rate']):>{w}}" for n, w in zip(NAMES, (12, 14, 12), strict=True)
        )
        rows.append(f"{f'{label} ({unit})':36}{cells}{over[name]:>+12.1f}%")
        for fig, what in (("p50_ms", "p50"), ("p99_ms", "p99")):
            if fig in res["sqlite"][name]:
                cells = "".join(
                    f"{fmt(res[n][name][fig]):>{w}}"
                    for n, w in zip(NAMES, (12, 14, 12), strict=True)
                )
                rows.append(f"{f'  {what} latency (ms)':36}{cells}")
    rows.append("")
    for t in report["targets"]:
        measured = fmt(t["measured"]) + ("%" if "layer" in t["target"] else "")
        rows.append(f"{t['target']:64}{measured:>12}  {'PASS' if t['pass'] else 'FAIL'}")
    rows.append(f"\n({report['mode']} run, {report['elapsed_s']:.0f} s)")
    return "\n".join(rows)


async def run(sizes: Sizes, mode: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kyb-bench-") as tmp, EtcdCluster(1) as etcd:
        backends: list[Backend] = [
            StoreBackend("sqlite", await SqliteStore.open(str(Path(tmp) / "store.db"))),
            StoreBackend("etcd", await EtcdStore.open(etcd.endpoints)),
            await RawEtcdBackend.open(etcd.endpoints),
        ]
        try:
            summary = summarize(await measure(backends, sizes))
        finally:
            for b in backends:
                await b.close()
    return {
        "mode": mode,
        "sizes": asdict(sizes),
        "value_bytes": len(VALUE),
        "concurrency": CONCURRENCY,
        "watchers": WATCHERS,
        **summary,
        "targets": targets(summary["results"], summary["etcd_overhead_pct"]),
        "elapsed_s": time.perf_counter() - t0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer chunks (~30 s)")
    args = parser.parse_args()
    report = asyncio.run(run(QUICK, "quick") if args.quick else run(FULL, "full"))
    print(json.dumps(report, indent=2) if args.json else table(report))


if __name__ == "__main__":
    main()
