"""What the etcd backend needs from gRPC: the channel, keys, conversion, retry, errors.

Retry policy (the one decision here that matters for correctness): a read is retried on
any "unavailable" answer, since reading twice is harmless. A write is retried only when
the failure proves the request was never applied: no member could be reached at all, or
etcd refused it before proposing it to raft. A write that fails in flight (member killed,
leader lost, deadline hit) has an unknown outcome; it is reported as :class:`Unavailable`
and never silently resent, because resending a compare-and-swap that did apply would turn
its success into a spurious Conflict or AlreadyExists.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]
from etcd3aio import EtcdError

from kybernetes.store._errors import InvalidKey, StoreError, Unavailable, ValueTooLarge
from kybernetes.store._protocol import KeyValue

# Substrings of gRPC details that prove the request never reached etcd's raft log.
_NOT_SENT = (
    "failed to connect to all addresses",
    "no children to pick from",
    "empty address list",
    "connection refused",
    "etcdserver: no leader",
    "etcdserver: too many requests",
    "etcdserver: not capable",
    "raft proposal dropped",
)

COMPACTED = "required revision has been compacted"
FUTURE_REVISION = "required revision is a future revision"


def encode_key(key: str) -> bytes:
    """The key's bytes, after the protocol's checks (absolute, no NUL, valid text)."""
    if not key or key[0] != "/" or "\x00" in key:
        raise InvalidKey(f"invalid key {key!r}: keys are non-empty, start with '/', no NUL")
    try:
        # surrogateescape round-trips keys read back from etcd that were not UTF-8.
        return key.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise InvalidKey(f"invalid key {key!r}: not encodable as UTF-8") from exc


def encode_start(start: str) -> bytes:
    """A range's start: any text (``last_key + "\\0"`` continues after ``last_key``)."""
    try:
        return start.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise InvalidKey(f"invalid range start {start!r}: not encodable as UTF-8") from exc


def check_revision(revision: int, what: str = "revision") -> int:
    if revision < 0:
        raise ValueError(f"{what} must be >= 0, got {revision}")
    return revision


def to_kv(pb: Any) -> KeyValue:
    """A protocol KeyValue from an etcd ``mvccpb.KeyValue``."""
    # Positional arguments: this runs once per key of every range and event (hot).
    return KeyValue(
        pb.key.decode("utf-8", "surrogateescape"), pb.value, pb.create_revision, pb.mod_revision
    )


def rpc_error_of(exc: BaseException) -> grpc.aio.AioRpcError | None:
    """The gRPC error behind ``exc`` (etcd3aio wraps some codes in its own exceptions)."""
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc
    cause = exc.__cause__
    return cause if isinstance(cause, grpc.aio.AioRpcError) else None


def details_of(rpc: grpc.aio.AioRpcError | None) -> str:
    return (rpc.details() or "") if rpc is not None else ""


def retryable(rpc: grpc.aio.AioRpcError | None, *, mutation: bool) -> bool:
    if rpc is None:
        return False
    code = rpc.code()
    details = details_of(rpc).lower()
    if not mutation:
        return code == grpc.StatusCode.UNAVAILABLE or "raft proposal dropped" in details
    # etcd answers "too many requests" with RESOURCE_EXHAUSTED, dropped proposals UNKNOWN.
    if code not in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    ):
        return False
    return any(marker in details for marker in _NOT_SENT)


def is_compacted(rpc: grpc.aio.AioRpcError | None) -> bool:
    return rpc is not None and COMPACTED in details_of(rpc)


def is_future_revision(rpc: grpc.aio.AioRpcError | None) -> bool:
    return rpc is not None and FUTURE_REVISION in details_of(rpc)


def translate(
    exc: BaseException, *, mutation: bool = False, key: str = "", size: int = 0
) -> StoreError:
    """The store error for a failed call (compaction and future revisions excepted:
    callers handle those, as they need the revisions involved)."""
    error = _translate(exc, key, size)
    if (
        mutation
        and isinstance(error, Unavailable)
        and not retryable(rpc_error_of(exc), mutation=True)
    ):
        return Unavailable(f"{error} (the write may or may not have been applied)")
    return error


def _translate(exc: BaseException, key: str, size: int) -> StoreError:
    rpc = rpc_error_of(exc)
    if rpc is None:
        if isinstance(exc, TimeoutError):
            return Unavailable("etcd did not answer in time")
        if isinstance(exc, EtcdError):
            return Unavailable(f"etcd: {exc}")
        return StoreError(f"etcd: {exc!r}")
    code, details = rpc.code(), details_of(rpc)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Unavailable(f"etcd unavailable ({code.name}: {details})")
    if "request is too large" in details or "larger than max" in details:
        # The server's limit is below ours; report the size we tried.
        return ValueTooLarge(key, size, size)
    if "database space exceeded" in details:
        return Unavailable(f"etcd refuses writes: {details} (compact and defragment it)")
    if "raft proposal dropped" in details or "too many requests" in details:
        return Unavailable(f"etcd unavailable: {details}")
    return StoreError(f"etcd: {code.name}: {details}")


CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.lb_policy_name", "round_robin"),
    # Ranges over large objects exceed gRPC's 4 MiB default; etcd enforces its own limits.
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    # etcd's keepalive policy rejects pings on idle connections (too_many_pings).
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 0),
    # A restarted member should be used again within seconds, not gRPC's default minutes.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2_000),
]


async def open_channel(endpoints: Sequence[tuple[str, int]]) -> grpc.aio.Channel:
    """One channel to every member's address (hostnames resolved, IPv4 preferred)."""
    if not endpoints:
        raise ValueError("etcd needs at least one endpoint")
    loop = asyncio.get_running_loop()
    v4: list[str] = []
    v6: list[str] = []
    for host, port in endpoints:
        try:
            addrs = [ipaddress.ip_address(host)]
        except ValueError:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            addrs = [ipaddress.ip_address(info[4][0]) for info in infos]
        for addr in dict.fromkeys(addrs):
            if addr.version == 4:
                v4.append(f"{addr}:{port}")
            else:
                v6.append(f"[{addr}]:{port}")
    # One target takes one address family; members are reachable over IPv4 in practice.
    target = "ipv4:" + ",".join(v4) if v4 else "ipv6:" + ",".join(v6)
    return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
