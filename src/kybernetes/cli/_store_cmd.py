"""``kyb store-smoke``: open a store, write, read, watch and compact, and report."""

from __future__ import annotations

import argparse
import asyncio
import time

from kybernetes.store import EventType, open_store


def _add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--datastore",
        default="sqlite://.kyb/store.db",
        help="sqlite://PATH (default: %(default)s) or etcd://HOST:PORT[,HOST:PORT...]",
    )
    p.add_argument("--count", type=int, default=1000, help="keys to write (default: %(default)s)")


async def _smoke(url: str, count: int) -> int:
    store = await open_store(url)
    try:
        rev0 = await store.current_revision()
        watch = store.watch("/smoke/", start_revision=rev0 + 1)
        t0 = time.perf_counter()
        for i in range(count):
            await store.create(f"/smoke/{rev0}/{i:06d}", b'{"n": %d}' % i)
        wrote = time.perf_counter() - t0
        seen = 0
        async for batch in watch:
            seen += sum(1 for e in batch if e.type is EventType.PUT)
            if seen >= count:
                break
        await watch.close()
        listed = await store.range(f"/smoke/{rev0}/")
        for kv in listed.kvs:
            await store.delete(kv.key, expected_revision=kv.mod_revision)
        await store.compact(await store.current_revision())
        print(
            f"{url}: wrote {count} keys in {wrote:.3f}s ({count / wrote:,.0f}/s), "
            f"watched {seen}, listed {listed.count}, deleted and compacted; "
            f"revision now {await store.current_revision()}"
        )
        return 0
    finally:
        await store.close()


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_smoke(args.datastore, args.count))


COMMANDS = {
    "store-smoke": ("Exercise a store end to end and report.", _add_args, _run),
}
