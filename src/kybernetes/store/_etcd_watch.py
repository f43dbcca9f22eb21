"""One etcd watch stream per :class:`EtcdWatch`, resumed without gaps when a member fails.

Promises (on top of the store protocol's watch guarantees):

* The stream is opened on first iteration, from the start revision fixed when the watch
  was created, so events written between ``watch()`` and the first ``anext`` are delivered.
* Each etcd response with events is one batch. After a batch ending at revision ``r`` the
  watch resumes from ``r + 1`` if the stream breaks (member killed, member lost its leader:
  streams are opened with etcd's "require leader" flag so a partitioned member ends them).
  Reconnection is retried with backoff; when no member accepts the watch for ``timeout``
  seconds the iterator raises :class:`Unavailable`.
* A start (or resume) revision that etcd has compacted raises :class:`Compacted`.
* ``close()`` cancels the stream; a pending ``anext`` then ends the iteration.

etcd's own client library resumes from the response header revision, which skips history
when the stream breaks between the "created" reply and the replayed events; this module
resumes only from events it has delivered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]

# The generated request classes; etcd3aio's public WatchService hides the stream, and its
# resume logic is the gap described above.
from etcd3aio._protobuf import WatchCreateRequest, WatchRequest, WatchStub

from kybernetes.store._errors import Compacted, StoreError, Unavailable
from kybernetes.store._etcd_rpc import details_of, to_kv
from kybernetes.store._protocol import Event, EventType, KeyValue

# etcd's "require leader" metadata: a member without a leader cancels the stream
# instead of leaving it silently stalled.
_REQUIRE_LEADER = (("hasleader", "true"),)
_FIRST_BACKOFF = 0.02
_MAX_BACKOFF = 1.0


class EtcdWatch:
    """An open watch on ``[key, range_end)``; see the module docstring."""

    def __init__(
        self,
        stub: WatchStub,
        key: bytes,
        range_end: bytes,
        start_revision: int,
        *,
        implicit_start: bool,
        timeout: float,
        on_revision: Callable[[int], None],
        on_close: Callable[[EtcdWatch], None],
    ) -> None:
        self._stub = stub
        self._key = key
        self._range_end = range_end
        self._next = start_revision
        # start_revision was derived from "now": if it turns out compacted, start from the
        # oldest revision kept instead (no gap, possibly a few events from before "now").
        self._implicit_start = implicit_start
        self._timeout = timeout
        self._on_revision = on_revision
        self._on_close = on_close
        self._call: Any = None
        self._closed = False

    def __aiter__(self) -> EtcdWatch:
        return self

    async def __anext__(self) -> Sequence[Event]:
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._call is None:
                await self._connect()
                continue
            try:
                resp = await self._call.read()
            except asyncio.CancelledError:
                if self._closed and not _cancelling():
                    raise StopAsyncIteration from None
                raise
            except grpc.aio.AioRpcError as exc:
                if self._closed:
                    raise StopAsyncIteration from None
                self._drop_call()
                if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                    continue  # resume on another member
                raise StoreError(f"etcd watch: {exc.code().name}: {details_of(exc)}") from exc
            if resp is grpc.aio.EOF:
                self._drop_call()
                continue
            batch = self._handle(resp)
            if batch:
                return batch

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._drop_call()
        self._on_close(self)

    def _handle(self, resp: Any) -> list[Event] | None:
        events = resp.events
        if events:  # the hot path: one response per change per watcher
            batch = [_to_event(ev) for ev in events]
            last = batch[-1].kv.mod_revision
            self._next = last + 1
            self._implicit_start = False
            self._on_revision(last)
            return batch
        if resp.canceled:
            self._drop_call()
            if resp.compact_revision > 0:
                if self._implicit_start:
                    self._implicit_start = False
                    self._next = resp.compact_revision
                    return None
                raise Compacted(self._next, resp.compact_revision)
            # etcd cancels on "no leader" (require-leader) and on server shutdown: resume.
            return None
        self._on_revision(resp.header.revision)
        return None

    async def _connect(self) -> None:
        """Open a stream from ``self._next``; wait for etcd to accept it, with backoff."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        delay = _FIRST_BACKOFF
        last: str = ""
        while not self._closed:
            call = self._stub.Watch(metadata=_REQUIRE_LEADER)
            self._call = call
            try:
                create = WatchCreateRequest(
                    key=self._key,
                    range_end=self._range_end,
                    start_revision=self._next,
                    prev_kv=True,
                )
                await call.write(WatchRequest(create_request=create))
                # The "created" reply (or a cancel for a compacted start) proves the member
                # took the watch; reading it here keeps reconnect errors in this loop.
                async with asyncio.timeout(max(deadline - loop.time(), 0.001)):
                    first = await call.read()
                if first is grpc.aio.EOF:
                    raise _StreamEnded
                if not first.canceled:  # etcd's first reply is "created"
                    self._on_revision(first.header.revision)
                    return
                self._handle(first)  # raises Compacted, or drops the call to retry
                if first.compact_revision:
                    continue  # an implicit start moved to the oldest kept revision
                last = first.cancel_reason or "watch cancelled"
            except asyncio.CancelledError:
                if self._closed and not _cancelling():
                    return
                self._drop_call()
                raise
            except (grpc.aio.AioRpcError, TimeoutError, _StreamEnded) as exc:
                self._drop_call()
                if isinstance(exc, grpc.aio.AioRpcError):
                    last = f"{exc.code().name}: {details_of(exc)}"
                    if exc.code() not in (
                        grpc.StatusCode.UNAVAILABLE,
                        grpc.StatusCode.CANCELLED,
                        grpc.StatusCode.DEADLINE_EXCEEDED,
                    ):
                        raise StoreError(f"etcd watch: {last}") from exc
                else:
                    last = "no answer" if isinstance(exc, TimeoutError) else "stream ended"
            if loop.time() + delay >= deadline:
                raise Unavailable(f"etcd watch could not be (re)established: {last}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF)

    def _drop_call(self) -> None:
        call, self._call = self._call, None
        if call is not None:
            call.cancel()


class _StreamEnded(Exception):
    pass


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _to_event(ev: Any) -> Event:
    prev: KeyValue | None = to_kv(ev.prev_kv) if ev.HasField("prev_kv") else None
    # mvccpb.Event.type: 0 PUT, 1 DELETE. A deletion's kv is etcd's tombstone: key and
    # deletion revision only (create_revision 0), as the protocol's Event says.
    if ev.type == 1:
        return Event(EventType.DELETE, to_kv(ev.kv), prev)
    return Event(EventType.PUT, to_kv(ev.kv), prev)
