"""The etcd backend's pure decisions: key checks, which failures are retried, error mapping."""

from __future__ import annotations

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]
import pytest
from etcd3aio import EtcdConnectionError

from kybernetes.store import InvalidKey, StoreError, Unavailable, ValueTooLarge
from kybernetes.store._etcd_rpc import (
    encode_key,
    encode_start,
    is_compacted,
    is_future_revision,
    retryable,
    translate,
)


def rpc(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


def wrapped(error: grpc.aio.AioRpcError) -> EtcdConnectionError:
    # etcd3aio raises its own exception with the gRPC error as the cause.
    try:
        raise EtcdConnectionError("KV.Txn failed") from error
    except EtcdConnectionError as exc:
        return exc


@pytest.mark.parametrize("key", ["", "a/b", "/a\x00b", "/\ud800"])
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidKey):
        encode_key(key)


def test_keys_and_range_starts_encode_as_utf8() -> None:
    assert encode_key("/a/é") == "/a/é".encode()
    # A range start may carry NUL: "last key + NUL" continues right after the last key.
    assert encode_start("/a/b\x00") == b"/a/b\x00"


UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    ("error", "read", "write"),
    [
        # Never reached a member: safe to resend anything.
        (rpc(UNAVAILABLE, "failed to connect to all addresses; last error: ..."), True, True),
        # Refused before raft saw it.
        (rpc(UNAVAILABLE, "etcdserver: no leader"), True, True),
        (rpc(grpc.StatusCode.RESOURCE_EXHAUSTED, "etcdserver: too many requests"), False, True),
        # Lost in flight: a read is resent, a write's outcome is unknown.
        (rpc(UNAVAILABLE, "Stream removed (Socket closed)"), True, False),
        (rpc(UNAVAILABLE, "etcdserver: request timed out"), True, False),
        (rpc(UNAVAILABLE, "etcdserver: leader changed"), True, False),
        (rpc(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), False, False),
        # Answers, not failures.
        (
            rpc(
                grpc.StatusCode.OUT_OF_RANGE,
                "etcdserver: mvcc: required revision has been compacted",
            ),
            False,
            False,
        ),
        (rpc(grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: request is too large"), False, False),
    ],
)
def test_reads_are_resent_on_any_unavailable_writes_only_when_never_applied(
    error: grpc.aio.AioRpcError, read: bool, write: bool
) -> None:
    assert retryable(error, mutation=False) is read
    assert retryable(error, mutation=True) is write


def test_revision_answers_are_recognised() -> None:
    compacted = rpc(
        grpc.StatusCode.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"
    )
    future = rpc(
        grpc.StatusCode.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"
    )
    assert is_compacted(compacted) and not is_future_revision(compacted)
    assert is_future_revision(future) and not is_compacted(future)


def test_errors_map_to_store_errors() -> None:
    lost = wrapped(rpc(UNAVAILABLE, "Stream removed (Socket closed)"))
    assert isinstance(translate(lost), Unavailable)
    assert "may or may not have been applied" in str(translate(lost, mutation=True))
    never_sent = wrapped(rpc(UNAVAILABLE, "failed to connect to all addresses"))
    assert "may or may not" not in str(translate(never_sent, mutation=True))
    assert isinstance(translate(TimeoutError()), Unavailable)
    too_large = translate(
        rpc(grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: request is too large"), key="/k", size=9
    )
    assert isinstance(too_large, ValueTooLarge) and too_large.key == "/k" and too_large.size == 9
    full = translate(
        rpc(grpc.StatusCode.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded")
    )
    assert isinstance(full, Unavailable)
    other = translate(rpc(grpc.StatusCode.PERMISSION_DENIED, "etcdserver: permission denied"))
    assert type(other) is StoreError and "PERMISSION_DENIED" in str(other)
