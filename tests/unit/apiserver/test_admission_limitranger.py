"""LimitRanger admission: defaults, bounds and upstream's messages; pod resource totals."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import pytest
from tests.support.admission import attrs, container, pod

from kybernetes.api import parse_quantity
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._admission import UPDATE
from kybernetes.apiserver._admission_limitranger import (
    LimitRanger,
    claim_violations,
    default_pod_resources,
    pod_violations,
)
from kybernetes.apiserver._admission_podresources import pod_limits, pod_requests

Obj = dict[str, Any]


def limit_range(*items: Obj, name: str = "lr") -> Obj:
    return {"metadata": {"name": name, "namespace": "ns"}, "spec": {"limits": list(items)}}


def ranger(*ranges: Obj) -> LimitRanger:
    async def list_ranges(namespace: str) -> Sequence[Obj]:
        assert namespace == "ns"
        return ranges

    return LimitRanger(list_ranges)


def q(text: str) -> Any:
    return parse_quantity(text)


# -- totals ----------------------------------------------------------------------------------


def test_pod_requests_take_the_larger_of_containers_and_init_steps() -> None:
    p = pod(
        container("a", requests={"cpu": "100m", "memory": "1Gi"}),
        container("b", requests={"cpu": "200m"}),
        initContainers=[container("i", requests={"cpu": "1", "memory": "64Mi"})],
        overhead={"cpu": "10m"},
    )
    assert pod_requests(p) == {"cpu": q("1010m"), "memory": q("1Gi")}


def test_sidecars_run_beside_containers_and_later_init_containers() -> None:
    sidecar = container("side", requests={"cpu": "100m"}, limits={"cpu": "200m"})
    sidecar["restartPolicy"] = "Always"
    p = pod(
        container("a", requests={"cpu": "300m"}, limits={"cpu": "1"}),
        initContainers=[sidecar, container("late", requests={"cpu": "350m"})],
    )
    # Steady state: 300m + 100m; init step: 350m + 100m (the sidecar already runs).
    assert pod_requests(p) == {"cpu": q("450m")}
    assert pod_limits(p) == {"cpu": q("1200m")}


def test_overhead_raises_only_limits_that_are_set() -> None:
    p = pod(container("a", limits={"cpu": "1"}), overhead={"cpu": "100m", "memory": "1Mi"})
    assert pod_limits(p) == {"cpu": q("1100m")}


# -- defaults --------------------------------------------------------------------------------


CONTAINER_DEFAULTS = {
    "type": "Container",
    "default": {"cpu": "500m", "memory": "256Mi"},
    "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
}


def test_defaults_fill_only_unset_values_and_annotate() -> None:
    p = pod(
        container("a", requests={"cpu": "50m"}),
        container("b", requests={"cpu": "1"}, limits={"cpu": "2", "memory": "1Gi"}),
        initContainers=[container("i")],
    )
    before = copy.deepcopy(p)
    out = default_pod_resources(p, limit_range(CONTAINER_DEFAULTS))
    assert p == before
    a, b = out["spec"]["containers"]
    assert a["resources"] == {
        "requests": {"cpu": "50m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }
    assert b["resources"] == {
        "requests": {"cpu": "1", "memory": "128Mi"},
        "limits": {"cpu": "2", "memory": "1Gi"},
    }
    assert out["spec"]["initContainers"][0]["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }
    assert out["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: memory request for container a; cpu, memory limit for "
        "container a; memory request for container b; cpu, memory request for init "
        "container i; cpu, memory limit for init container i"
    )


def test_nothing_to_default_returns_the_pod_itself() -> None:
    p = pod(
        container("a", requests={"cpu": "1", "memory": "1"}, limits={"cpu": "1", "memory": "1"})
    )
    assert default_pod_resources(p, limit_range(CONTAINER_DEFAULTS)) is p
    assert default_pod_resources(p, limit_range({"type": "Pod", "max": {"cpu": "1"}})) is p


async def test_mutate_applies_every_range_and_only_on_pod_create() -> None:
    second = limit_range({"type": "Container", "defaultRequest": {"ephemeral-storage": "1Gi"}})
    plugin = ranger(limit_range(CONTAINER_DEFAULTS), second)
    out = await plugin.mutate(attrs(pod()))
    assert out is not None
    assert out["spec"]["containers"][0]["resources"]["requests"] == {
        "cpu": "100m",
        "memory": "128Mi",
        "ephemeral-storage": "1Gi",
    }
    assert await plugin.mutate(attrs(pod(), operation=UPDATE, old=pod())) is None
    assert await plugin.mutate(attrs(pod(), subresource="status")) is None


# -- bounds ----------------------------------------------------------------------------------


def test_container_max_min_and_ratio_messages() -> None:
    lr = limit_range(
        {
            "type": "Container",
            "max": {"cpu": "2"},
            "min": {"memory": "64Mi"},
            "maxLimitRequestRatio": {"cpu": "3"},
        }
    )
    too_big = pod(container("c", requests={"cpu": "1", "memory": "64Mi"}, limits={"cpu": "4"}))
    assert pod_violations(too_big, lr) == [
        "maximum cpu usage per Container is 2, but limit is 4",
        "cpu max limit to request ratio per Container is 3, but provided ratio is 4.000000",
    ]
    bare = pod(container("c"))
    assert pod_violations(bare, lr) == [
        "minimum memory usage per Container is 64Mi.  No request is specified",
        "maximum cpu usage per Container is 2.  No limit is specified",
        "cpu max limit to request ratio per Container is 3, but no request is specified "
        "or request is 0",
    ]
    small = pod(
        container(
            "c", requests={"cpu": "1", "memory": "32Mi"}, limits={"cpu": "2", "memory": "1Gi"}
        )
    )
    assert pod_violations(small, lr) == [
        "minimum memory usage per Container is 64Mi, but request is 32Mi"
    ]
    fine = pod(container("c", requests={"cpu": "1", "memory": "64Mi"}, limits={"cpu": "2500m"}))
    assert pod_violations(fine, lr) == ["maximum cpu usage per Container is 2, but limit is 2500m"]


def test_request_above_max_and_limit_below_min() -> None:
    lr = limit_range({"type": "Container", "max": {"cpu": "1"}, "min": {"cpu": "500m"}})
    assert pod_violations(pod(container(requests={"cpu": "2"}, limits={"cpu": "1"})), lr) == [
        "maximum cpu usage per Container is 1, but request is 2"
    ]
    assert pod_violations(pod(container(requests={"cpu": "600m"}, limits={"cpu": "400m"})), lr) == [
        "minimum cpu usage per Container is 500m, but limit is 400m"
    ]


def test_pod_items_bound_the_total() -> None:
    lr = limit_range({"type": "Pod", "max": {"cpu": "1"}})
    two = pod(
        container("a", requests={"cpu": "600m"}, limits={"cpu": "600m"}),
        container("b", requests={"cpu": "600m"}, limits={"cpu": "600m"}),
    )
    assert pod_violations(two, lr) == ["maximum cpu usage per Pod is 1, but limit is 1200m"]


def test_claim_min_and_max_storage() -> None:
    lr = limit_range(
        {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "10Gi"}}
    )

    def claim(size: str | None) -> Obj:
        resources = {"requests": {"storage": size}} if size else {}
        return {"metadata": {"name": "d"}, "spec": {"resources": resources}}

    assert claim_violations(claim("5Gi"), lr) == []
    assert claim_violations(claim("20Gi"), lr) == [
        "maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi"
    ]
    assert claim_violations(claim("500Mi"), lr) == [
        "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"
    ]
    assert claim_violations(claim(None), lr) == [
        "minimum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified",
        "maximum storage usage per PersistentVolumeClaim is 10Gi.  No request is specified",
    ]


async def test_admit_refuses_with_one_forbidden_listing_every_problem() -> None:
    plugin = ranger(limit_range({"type": "Container", "max": {"cpu": "2", "memory": "1Gi"}}))
    bad = pod(container("c", limits={"cpu": "4", "memory": "2Gi"}), name="web")
    with pytest.raises(errors.APIError) as caught:
        await plugin.admit(attrs(bad))
    assert caught.value.code == 403
    assert caught.value.message == (
        'pods "web" is forbidden: [maximum cpu usage per Container is 2, but limit is 4, '
        "maximum memory usage per Container is 1Gi, but limit is 2Gi]"
    )
    # Pod updates and objects being deleted are not checked.
    await plugin.admit(attrs(bad, operation=UPDATE, old=bad))
    claim_plugin = ranger(limit_range({"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}}))
    big: Obj = {"metadata": {"name": "d"}, "spec": {"resources": {"requests": {"storage": "2Gi"}}}}
    with pytest.raises(errors.APIError, match="maximum storage usage"):
        await claim_plugin.admit(attrs(big, plural="persistentvolumeclaims"))
    with pytest.raises(errors.APIError, match="maximum storage usage"):
        await claim_plugin.admit(
            attrs(big, plural="persistentvolumeclaims", operation=UPDATE, old=big)
        )
    deleting = copy.deepcopy(big)
    deleting["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    await claim_plugin.admit(
        attrs(big, plural="persistentvolumeclaims", operation=UPDATE, old=deleting)
    )


async def test_defaults_then_bounds_accept_a_bare_pod() -> None:
    lr = limit_range(
        {
            "type": "Container",
            "max": {"cpu": "1"},
            "default": {"cpu": "500m"},
            "defaultRequest": {"cpu": "250m"},
        }
    )
    plugin = ranger(lr)
    out = await plugin.mutate(attrs(pod()))
    assert out is not None
    await plugin.admit(attrs(out))
    with pytest.raises(errors.APIError, match="No limit is specified"):
        await plugin.admit(attrs(pod()))
