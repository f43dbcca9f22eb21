"""The store protocol over real etcd v3, through the asyncio gRPC client ``etcd3aio``.

Every protocol operation is one etcd request: ``create`` is a transaction guarded by
``create_revision == 0``; ``update`` and ``delete`` are transactions guarded by the
expected ``mod_revision`` (or by existence) that read the key back when the guard fails,
so Conflict and NotFound come from the same consistent revision. Reads are linearizable.

One gRPC channel spreads requests round-robin over the given members and skips members
that are down, so losing a minority of a cluster costs at most the requests in flight on
the lost member. Reads are retried on any member; writes only when they provably never
reached etcd (see ``_etcd_rpc``). Each operation gives up after ``timeout`` seconds with
:class:`Unavailable`.

Revisions are etcd's own: after ``compact(r)`` reads at ``r`` still work and reads below
it raise :class:`Compacted`, so ``compacted_revision()`` is ``r - 1``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]
from etcd3aio import prefix_range_end

# etcd3aio's generated stubs and messages: calling the stubs directly gives one gRPC call per
# operation with a gRPC deadline and no second timer or retry loop per call (ours is below).
from etcd3aio._protobuf import (
    CompactionRequest,
    Compare,
    DeleteRangeRequest,
    KVStub,
    PutRequest,
    RangeRequest,
    RequestOp,
    TxnRequest,
    WatchStub,
)

from kybernetes.store._errors import (
    AlreadyExists,
    Compacted,
    Conflict,
    FutureRevision,
    NotFound,
    StoreError,
    Unavailable,
    ValueTooLarge,
)
from kybernetes.store._etcd_rpc import (
    check_revision,
    encode_key,
    encode_start,
    is_compacted,
    is_future_revision,
    open_channel,
    retryable,
    rpc_error_of,
    to_kv,
    translate,
)
from kybernetes.store._etcd_watch import EtcdWatch
from kybernetes.store._protocol import (
    DEFAULT_MAX_VALUE_SIZE,
    Deleted,
    KeyValue,
    RangeResult,
    Watch,
)

_FIRST_BACKOFF = 0.02
_MAX_BACKOFF = 0.5
# A key no protocol key can equal (they start with "/"): probes read it to learn revisions.
_PROBE_KEY = b"\x00"
_EXISTS = -1


class EtcdStore:
    """The :class:`~kybernetes.store.Store` protocol over an etcd v3 cluster."""

    def __init__(self, channel: grpc.aio.Channel, *, max_value_size: int, timeout: float) -> None:
        self._channel = channel
        self._kv = KVStub(channel)
        self._watch_stub = WatchStub(channel)
        self._max_value_size = max_value_size
        self._timeout = timeout
        # The newest revision any answer has shown us: where watch(start_revision=0) starts.
        self._revision = 0
        # Known lower bound of etcd's oldest kept revision (its compact revision).
        self._oldest_kept = 0
        self._watches: set[EtcdWatch] = set()
        self._closed = False

    @classmethod
    async def open(
        cls,
        endpoints: Sequence[tuple[str, int]],
        *,
        max_value_size: int = DEFAULT_MAX_VALUE_SIZE,
        timeout: float = 5.0,  # noqa: ASYNC109 (per-operation budget, kept for later calls)
    ) -> EtcdStore:
        """Connect to the members at ``endpoints``; raises Unavailable if none answers."""
        store = cls(
            await open_channel(endpoints),
            max_value_size=max_value_size,
            timeout=timeout,
        )
        try:
            await store.current_revision()
        except BaseException:
            await store.close()
            raise
        return store

    async def get(self, key: str, *, revision: int = 0) -> KeyValue:
        raw = encode_key(key)
        check_revision(revision)
        resp = await self._call(
            self._kv.Range, RangeRequest(key=raw, revision=revision), revision=revision
        )
        self._seen(resp.header.revision)
        if not resp.kvs:
            raise NotFound(key)
        return to_kv(resp.kvs[0])

    async def range(
        self,
        prefix: str,
        *,
        start: str | None = None,
        limit: int = 0,
        revision: int = 0,
    ) -> RangeResult:
        low = encode_key(prefix)
        end = prefix_range_end(low)
        first = low if start is None else max(low, encode_start(start))
        check_revision(revision)
        check_revision(limit, "limit")
        if first == low:
            resp = await self._call(
                self._kv.Range,
                RangeRequest(key=low, range_end=end, revision=revision, limit=limit),
                revision=revision,
            )
            kvs, more, count = resp.kvs, resp.more, resp.count
        else:
            # The count covers the whole prefix, the page starts at ``first``: two reads in
            # one read-only transaction, so both see the same revision.
            ops = [
                RequestOp(
                    request_range=RangeRequest(
                        key=low, range_end=end, revision=revision, count_only=True
                    )
                ),
                RequestOp(
                    request_range=RangeRequest(
                        key=first, range_end=end, revision=revision, limit=limit
                    )
                ),
            ]
            if end != b"\x00" and first >= end:
                ops.pop()  # nothing at or after ``first`` can be under the prefix
            resp = await self._call(self._kv.Txn, TxnRequest(success=ops), revision=revision)
            count = resp.responses[0].response_range.count
            page = resp.responses[1].response_range if len(ops) > 1 else None
            kvs = page.kvs if page is not None else ()
            more = page.more if page is not None else False
        self._seen(resp.header.revision)
        return RangeResult(
            kvs=[to_kv(kv) for kv in kvs],
            revision=revision or resp.header.revision,
            more=more,
            count=count,
        )

    async def create(self, key: str, value: bytes) -> KeyValue:
        raw = self._check_value(key, value)
        guard = [Compare(result=Compare.EQUAL, target=Compare.CREATE, key=raw, create_revision=0)]
        put = [RequestOp(request_put=PutRequest(key=raw, value=value))]
        resp = await self._call(
            self._kv.Txn,
            TxnRequest(compare=guard, success=put),
            mutation=True,
            key=key,
            size=len(value),
        )
        rev = resp.header.revision
        self._seen(rev)
        if not resp.succeeded:
            raise AlreadyExists(key)
        return KeyValue(key=key, value=value, create_revision=rev, mod_revision=rev)

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> KeyValue:
        raw = self._check_value(key, value)
        check_revision(expected_revision, "expected_revision")
        put = [RequestOp(request_put=PutRequest(key=raw, value=value, prev_kv=True))]
        resp = await self._guarded(key, raw, expected_revision, put, size=len(value))
        prev = resp.responses[0].response_put.prev_kv
        rev = resp.header.revision
        return KeyValue(
            key=key, value=value, create_revision=prev.create_revision, mod_revision=rev
        )

    async def delete(self, key: str, *, expected_revision: int = 0) -> Deleted:
        raw = encode_key(key)
        check_revision(expected_revision, "expected_revision")
        ops = [RequestOp(request_delete_range=DeleteRangeRequest(key=raw, prev_kv=True))]
        resp = await self._guarded(key, raw, expected_revision, ops)
        prev = resp.responses[0].response_delete_range.prev_kvs[0]
        return Deleted(revision=resp.header.revision, prev=to_kv(prev))

    def watch(self, prefix: str, *, start_revision: int = 0) -> Watch:
        if self._closed:
            raise Unavailable("the etcd store is closed")
        low = encode_key(prefix)
        implicit = check_revision(start_revision, "start_revision") == 0
        watch = EtcdWatch(
            self._watch_stub,
            low,
            prefix_range_end(low),
            # "After now": after every revision this client has seen, which includes its
            # own writes that returned before watch() was called.
            self._revision + 1 if implicit else start_revision,
            implicit_start=implicit,
            timeout=self._timeout,
            on_revision=self._seen,
            on_close=self._watches.discard,
        )
        self._watches.add(watch)
        return watch

    async def current_revision(self) -> int:
        resp = await self._call(self._kv.Range, RangeRequest(key=_PROBE_KEY, count_only=True))
        rev: int = resp.header.revision
        self._seen(rev)
        return rev

    async def compacted_revision(self) -> int:
        return await self._probe_oldest_kept() - 1

    async def compact(self, revision: int) -> None:
        check_revision(revision)
        try:
            await self._call(
                self._kv.Compact, CompactionRequest(revision=revision), revision=revision
            )
        except Compacted:
            pass  # already compacted at or past ``revision``: nothing left to drop
        self._oldest_kept = max(self._oldest_kept, revision)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for watch in list(self._watches):
            await watch.close()
        await self._channel.close()

    # -- internals ---------------------------------------------------------------------

    def _seen(self, revision: int) -> None:
        if revision > self._revision:
            self._revision = revision

    def _check_value(self, key: str, value: bytes) -> bytes:
        raw = encode_key(key)
        if not isinstance(value, bytes):
            raise TypeError(f"value must be bytes, not {type(value).__name__}")
        if len(value) > self._max_value_size:
            raise ValueTooLarge(key, len(value), self._max_value_size)
        return raw

    async def _guarded(
        self, key: str, raw: bytes, expected: int, ops: list[Any], *, size: int = 0
    ) -> Any:
        """Run ``ops`` if the key exists at mod revision ``expected`` (0: at any)."""
        if expected:
            guard = Compare(
                result=Compare.EQUAL, target=Compare.MOD, key=raw, mod_revision=expected
            )
        else:
            guard = Compare(result=Compare.GREATER, target=Compare.MOD, key=raw, mod_revision=0)
        read_back = [RequestOp(request_range=RangeRequest(key=raw))] if expected else []
        resp = await self._call(
            self._kv.Txn,
            TxnRequest(compare=[guard], success=ops, failure=read_back),
            mutation=True,
            key=key,
            size=size,
        )
        self._seen(resp.header.revision)
        if resp.succeeded:
            return resp
        current = resp.responses[0].response_range.kvs if expected else ()
        if not current:
            raise NotFound(key)
        raise Conflict(key, expected, current[0].mod_revision)

    async def _call(
        self,
        method: Any,
        request: Any,
        *,
        mutation: bool = False,
        revision: int = 0,
        key: str = "",
        size: int = 0,
        probe: bool = False,
    ) -> Any:
        """Call the stub ``method``, retrying per the policy in ``_etcd_rpc``.

        ``probe``: a compacted read raises ``_BelowCompaction`` instead of probing for the
        compact revision (which is how the probe itself learns it).
        """
        if self._closed:
            raise Unavailable("the etcd store is closed")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        delay = _FIRST_BACKOFF
        while True:
            try:
                return await method(request, timeout=max(deadline - loop.time(), 0.001))
            except grpc.aio.AioRpcError as exc:
                rpc = rpc_error_of(exc)
                if retryable(rpc, mutation=mutation) and loop.time() + delay < deadline:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _MAX_BACKOFF)
                    continue
                if is_compacted(rpc):
                    if probe:
                        raise _BelowCompaction from exc
                    raise Compacted(revision, await self._probe_oldest_kept()) from exc
                if is_future_revision(rpc):
                    raise FutureRevision(revision, await self._current_or_seen()) from exc
                raise translate(exc, mutation=mutation, key=key, size=size) from exc

    async def _current_or_seen(self) -> int:
        try:
            return await self.current_revision()
        except StoreError:
            return self._revision

    async def _probe_oldest_kept(self) -> int:
        """etcd's compact revision (1 if never compacted), found by probing reads.

        etcd 3.4 has no call that reports it, but a read below it fails: binary-search the
        first readable revision, starting from the last one known (usually one probe).
        """
        low = max(self._oldest_kept, 1)
        if not await self._compacted_at(low):
            self._oldest_kept = low
            return low
        high = await self.current_revision()  # the current revision is always readable
        while low + 1 < high:
            mid = (low + high) // 2
            if await self._compacted_at(mid):
                low = mid
            else:
                high = mid
        self._oldest_kept = high
        return high

    async def _compacted_at(self, revision: int) -> bool:
        try:
            await self._call(
                self._kv.Range,
                RangeRequest(key=_PROBE_KEY, revision=revision, count_only=True),
                revision=revision,
                probe=True,
            )
        except _BelowCompaction:
            return True
        except FutureRevision:
            return False
        return False


class _BelowCompaction(Exception):
    pass
