"""Pure controller logic: expectations, deletion ranking, Deployment arithmetic, the
``--controllers`` syntax."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.client import FakeClock
from kybernetes.controllers import CONTROLLERS, Expectations, enabled_controllers
from kybernetes.controllers import _deployment_util as du
from kybernetes.controllers._expectations import EXPECTATIONS_TTL
from kybernetes.controllers._podutil import deletion_order, is_pod_available


def pod(
    name: str,
    *,
    node: str = "",
    phase: str = "Pending",
    ready: bool = False,
    created: str = "2025-01-01T00:00:00Z",
    ready_at: str = "2025-01-01T00:00:00Z",
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase}
    if ready:
        status["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": ready_at}]
    return {
        "metadata": {"name": name, "uid": name, "creationTimestamp": created},
        "spec": {"nodeName": node} if node else {},
        "status": status,
    }


def test_expectations_block_until_observed_or_expired() -> None:
    clock = FakeClock()
    exp = Expectations(clock)
    assert exp.satisfied("ns/rs")
    exp.expect_creations("ns/rs", 2)
    assert not exp.satisfied("ns/rs")
    exp.creation_observed("ns/rs")
    assert not exp.satisfied("ns/rs")
    exp.creation_observed("ns/rs")
    assert exp.satisfied("ns/rs")
    exp.expect_deletions("ns/rs", {"a", "b"})
    exp.deletion_observed("ns/rs", "a")
    exp.deletion_observed("ns/rs", "a")  # the same deletion seen twice counts once
    assert exp.pending("ns/rs") == (0, 1)
    assert not exp.satisfied("ns/rs")
    clock.advance(EXPECTATIONS_TTL + 1)
    assert exp.satisfied("ns/rs")  # a lost event cannot wedge the controller


def test_deletion_order_follows_upstream_ranking() -> None:
    pods = [
        pod(
            "running-ready-old",
            node="n1",
            phase="Running",
            ready=True,
            created="2025-01-01T00:00:00Z",
        ),
        pod(
            "running-ready-new",
            node="n2",
            phase="Running",
            ready=True,
            created="2025-01-02T00:00:00Z",
            ready_at="2025-01-02T00:00:00Z",
        ),
        pod("running-notready", node="n3", phase="Running"),
        pod("pending-scheduled", node="n4"),
        pod("unscheduled"),
        pod("unknown", node="n5", phase="Unknown"),
    ]
    order = [p["metadata"]["name"] for p in deletion_order(pods)]
    assert order == [
        "unscheduled",
        "pending-scheduled",
        "unknown",
        "running-notready",
        "running-ready-new",
        "running-ready-old",
    ]


def test_available_needs_min_ready_seconds() -> None:
    p = pod("a", phase="Running", ready=True, ready_at="2025-01-01T00:00:00Z")
    t0 = 1735689600.0  # 2025-01-01T00:00:00Z
    assert is_pod_available(p, 0, t0)
    assert not is_pod_available(p, 10, t0 + 5)
    assert is_pod_available(p, 10, t0 + 10)


def deploy(replicas: int, surge: Any = "25%", unavailable: Any = "25%") -> dict[str, Any]:
    return {
        "metadata": {"name": "d", "generation": 1},
        "spec": {
            "replicas": replicas,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
            },
        },
    }


def rs(
    name: str, replicas: int, available: int = 0, created: str = "2025-01-01T00:00:00Z"
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": created},
        "spec": {"replicas": replicas},
        "status": {"replicas": replicas, "availableReplicas": available},
    }


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "expected"),
    [
        (3, "25%", "25%", (1, 0)),  # surge rounds up, unavailable down
        (10, "25%", "25%", (3, 2)),
        (4, 0, 0, (0, 1)),  # never both zero
        (5, 2, "100%", (2, 5)),
    ],
)
def test_surge_and_unavailable(
    replicas: int, surge: Any, unavailable: Any, expected: tuple[int, int]
) -> None:
    assert du.surge_and_unavailable(deploy(replicas, surge, unavailable)) == expected


def test_rolling_steps_respect_surge_and_unavailability() -> None:
    d = deploy(3, 1, 0)
    old, new = rs("old", 3, 3), rs("new", 0)
    assert du.new_rs_replicas(d, [old, new], new) == 1  # 3 + 1 surge at most
    new = rs("new", 1, 0)
    assert du.new_rs_replicas(d, [old, new], new) == 1  # no room until an old pod goes
    assert du.old_scale_down_budget(d, [old, new], new) == 0  # new pod not available yet
    new = rs("new", 1, 1)
    assert du.old_scale_down_budget(d, [old, new], new) == 1


def test_proportional_scaling_mid_rollout() -> None:
    d = deploy(20, 0, 1)  # scaled from 10 to 20 while two ReplicaSets are active
    old = rs("old", 6, 6, created="2025-01-01T00:00:00Z")
    new = rs("new", 4, 0, created="2025-01-02T00:00:00Z")
    targets = du.proportional_targets(d, [old, new], new)
    assert targets == {"old": 12, "new": 8}
    assert sum(targets.values()) == 20


def test_template_hash_ignores_its_own_label_and_changes_with_collisions() -> None:
    tmpl = {
        "metadata": {"labels": {"app": "a"}},
        "spec": {"containers": [{"name": "c", "image": "x"}]},
    }
    h = du.template_hash(tmpl, None)
    assert h == du.template_hash(tmpl, None) and h != du.template_hash(tmpl, 1)
    labelled = {**tmpl, "metadata": {"labels": {"app": "a", du.HASH_LABEL: h}}}
    assert du.equal_ignore_hash(tmpl, labelled)


def test_set_condition_keeps_transition_time() -> None:
    status: dict[str, Any] = {}
    du.set_condition(status, "Progressing", "True", "ReplicaSetUpdated", "m", "t1")
    du.set_condition(status, "Progressing", "True", "NewReplicaSetAvailable", "m2", "t2")
    (cond,) = status["conditions"]
    assert (cond["lastTransitionTime"], cond["lastUpdateTime"], cond["reason"]) == (
        "t1",
        "t2",
        "NewReplicaSetAvailable",
    )


def test_timed_out_after_progress_deadline() -> None:
    d = {**deploy(3), "spec": {**deploy(3)["spec"], "progressDeadlineSeconds": 60}}
    status = {
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "reason": "ReplicaSetUpdated",
                "lastUpdateTime": "2025-01-01T00:00:00Z",
            }
        ]
    }
    t0 = 1735689600.0
    assert not du.timed_out(d, status, t0 + 30)
    assert du.timed_out(d, status, t0 + 61)


def test_enabled_controllers_syntax() -> None:
    assert enabled_controllers(["*"], CONTROLLERS) == list(CONTROLLERS)
    assert "podgc" not in enabled_controllers(["*", "-podgc"], CONTROLLERS)
    assert enabled_controllers(["deployment"], CONTROLLERS) == ["deployment"]
    with pytest.raises(ValueError, match="unknown"):
        enabled_controllers(["nope"], CONTROLLERS)
