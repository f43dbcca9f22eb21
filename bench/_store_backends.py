"""The three things bench/store.py measures, behind one small interface.

``store`` wraps any :class:`~kybernetes.store.Store` (SQLite, our etcd layer); ``raw``
issues the same etcd requests straight through etcd3aio's public client, as a program
without our layer would: the same guarded transactions, the same reads, the same watch,
and it reads the same fields of each answer (key, value, revisions, previous value) that
our layer turns into protocol objects, since any real consumer reads them. The difference
between our etcd layer and ``raw`` is our layer's overhead.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from etcd3aio import Etcd3Client, prefix_range_end
from etcd3aio._protobuf import Compare
from etcd3aio.kv import KVService

from kybernetes.store import Store


class Backend(Protocol):
    name: str

    async def create(self, key: str, value: bytes) -> int: ...

    async def update(self, key: str, value: bytes, expected: int) -> int: ...

    async def get(self, key: str) -> bytes: ...

    async def range(self, prefix: str) -> int: ...

    def watch(self, prefix: str, start_revision: int) -> AsyncGenerator[int, None]: ...

    async def current_revision(self) -> int: ...

    async def close(self) -> None: ...


@dataclass
class StoreBackend:
    """A store through the protocol; operations return the new mod revision."""

    name: str
    store: Store

    async def create(self, key: str, value: bytes) -> int:
        return (await self.store.create(key, value)).mod_revision

    async def update(self, key: str, value: bytes, expected: int) -> int:
        return (await self.store.update(key, value, expected_revision=expected)).mod_revision

    async def get(self, key: str) -> bytes:
        return (await self.store.get(key)).value

    async def range(self, prefix: str) -> int:
        return len((await self.store.range(prefix)).kvs)

    async def watch(self, prefix: str, start_revision: int) -> AsyncGenerator[int, None]:
        w = self.store.watch(prefix, start_revision=start_revision)
        try:
            async for batch in w:
                yield len(batch)
        finally:
            await w.close()

    async def current_revision(self) -> int:
        return await self.store.current_revision()

    async def close(self) -> None:
        await self.store.close()


def _touch(ev: Any) -> tuple[Any, ...]:
    kv, prev = ev.kv, ev.prev_kv
    return (ev.type, kv.key, kv.value, kv.create_revision, kv.mod_revision, prev.value)


class RawEtcdBackend:
    """The same etcd requests through etcd3aio alone (its defaults: retries, round robin)."""

    name = "etcd-raw"

    def __init__(self, client: Etcd3Client) -> None:
        self._client = client
        assert client.kv is not None and client.watch is not None
        self._kv = client.kv
        self._watch = client.watch

    @classmethod
    async def open(cls, endpoints: Sequence[tuple[str, int]]) -> RawEtcdBackend:
        client = Etcd3Client([f"{host}:{port}" for host, port in endpoints])
        await client.connect()
        return cls(client)

    async def create(self, key: str, value: bytes) -> int:
        k = key.encode()
        resp: Any = await self._kv.txn(
            [KVService.txn_compare_create_revision(k, 0)], [KVService.txn_op_put(k, value)]
        )
        if not resp.succeeded:
            raise KeyError(key)
        return int(resp.header.revision)

    async def update(self, key: str, value: bytes, expected: int) -> int:
        k = key.encode()
        # The same guard our layer uses: mod_revision == expected, read back on failure.
        compare = Compare(result=Compare.EQUAL, target=Compare.MOD, key=k, mod_revision=expected)
        resp: Any = await self._kv.txn(
            [compare], [KVService.txn_op_put(k, value, prev_kv=True)], [KVService.txn_op_get(k)]
        )
        if not resp.succeeded:
            raise KeyError(key)
        return int(resp.header.revision)

    async def get(self, key: str) -> bytes:
        resp: Any = await self._kv.get(key.encode())
        return bytes(resp.kvs[0].value)

    async def range(self, prefix: str) -> int:
        p = prefix.encode()
        resp: Any = await self._kv.get(p, prefix_range_end(p))
        return len([(kv.key, kv.value, kv.create_revision, kv.mod_revision) for kv in resp.kvs])

    async def watch(self, prefix: str, start_revision: int) -> AsyncGenerator[int, None]:
        p = prefix.encode()
        stream = self._watch.watch(p, prefix_range_end(p), start_revision, prev_kv=True)
        try:
            async for resp in stream:
                if resp.events:
                    yield len([_touch(ev) for ev in resp.events])
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    async def current_revision(self) -> int:
        resp: Any = await self._kv.get(b"\x00", count_only=True)
        return int(resp.header.revision)

    async def close(self) -> None:
        await self._client.close()
