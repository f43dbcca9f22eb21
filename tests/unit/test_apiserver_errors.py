"""Statuses carry upstream's reasons, codes and wordings; store errors map in one place."""

from __future__ import annotations

import pytest

from kybernetes import store
from kybernetes.api import REGISTRY
from kybernetes.api import _errors as fe
from kybernetes.apiserver import _errors as errors

PODS = REGISTRY.get("", "v1", "pods")
DEPLOYMENTS = REGISTRY.get("apps", "v1", "deployments")


def test_not_found_status_shape() -> None:
    status = errors.not_found(PODS, "web").status()
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "web" not found',
        "reason": "NotFound",
        "code": 404,
        "details": {"name": "web", "kind": "pods"},
    }


def test_group_resources_are_qualified_in_messages() -> None:
    err = errors.already_exists(DEPLOYMENTS, "d")
    assert (err.code, err.reason) == (409, "AlreadyExists")
    assert err.message == 'deployments.apps "d" already exists'
    assert err.status()["details"] == {"name": "d", "group": "apps", "kind": "deployments"}


def test_conflict_wording() -> None:
    err = errors.conflict(PODS, "x")
    assert err.message == (
        'Operation cannot be fulfilled on pods "x": the object has been modified; please '
        "apply your changes to the latest version and try again"
    )


def test_invalid_lists_every_cause() -> None:
    one = errors.invalid("Pod", "", "x", [fe.required("spec.containers[0].image")])
    assert one.code == 422
    assert one.message == 'Pod "x" is invalid: spec.containers[0].image: Required value'
    assert one.status()["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": "spec.containers[0].image",
        }
    ]
    two = errors.invalid(
        "Deployment", "apps", "d", [fe.required("spec.a"), fe.invalid("spec.b", -1, "bad")]
    )
    assert two.message == (
        'Deployment.apps "d" is invalid: [spec.a: Required value, spec.b: Invalid value: -1: bad]'
    )
    assert two.status()["details"]["kind"] == "Deployment"


def test_too_large_and_too_many_carry_retry_after() -> None:
    assert errors.request_entity_too_large().code == 413
    status = errors.too_many_requests("slow down", 3).status()
    assert (status["code"], status["details"]["retryAfterSeconds"]) == (429, 3)


@pytest.mark.parametrize(
    ("err", "code", "reason"),
    [
        (store.NotFound("/registry/pods/ns/x"), 404, "NotFound"),
        (store.AlreadyExists("/registry/pods/ns/x"), 409, "AlreadyExists"),
        (store.Conflict("/registry/pods/ns/x", 3, 4), 409, "Conflict"),
        (store.Compacted(5, 9), 410, "Expired"),
        (store.FutureRevision(50, 9), 504, "Timeout"),
        (store.ValueTooLarge("/k", 10, 5), 413, "RequestEntityTooLarge"),
        (store.Unavailable("down"), 503, "ServiceUnavailable"),
        (store.CorruptStore("bad"), 500, "InternalError"),
    ],
)
def test_store_errors_map_to_statuses(err: store.StoreError, code: int, reason: str) -> None:
    mapped = errors.from_store_error(err, PODS, "x")
    assert (mapped.code, mapped.reason) == (code, reason)


def test_compacted_reads_as_too_old_resource_version() -> None:
    mapped = errors.from_store_error(store.Compacted(5, 9), PODS, "")
    assert mapped.message == "too old resource version: 5 (10)"
