"""VolumeBinding basics: missing, unbound and bound claims, PV node affinity, PreBind."""

from __future__ import annotations

from typing import Any

from tests.support.scheduling import make_core, make_node, make_pod, schedule

from kybernetes.scheduler import Failed, Scheduled, StaticCluster
from kybernetes.scheduler.plugins._volumebinding import SELECTED_NODE_ANNOTATION


def _pod(*claims: str) -> dict[str, Any]:
    volumes = [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]
    return make_pod("p", spec={"volumes": volumes})


def _pvc(name: str, *, volume: str = "", storage_class: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"storageClassName": storage_class} if storage_class else {}
    if volume:
        spec["volumeName"] = volume
    return {"metadata": {"name": name, "namespace": "default"}, "spec": spec}


def _pv(name: str, zone: str) -> dict[str, Any]:
    term = {"matchExpressions": [{"key": "zone", "operator": "In", "values": [zone]}]}
    return {
        "metadata": {"name": name},
        "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [term]}}},
    }


CLUSTER = StaticCluster(
    pvcs=[
        _pvc("bound", volume="pv-b"),
        _pvc("immediate", storage_class="fast"),
        _pvc("delayed", storage_class="local"),
    ],
    pvs=[_pv("pv-b", "b")],
    storage_classes=[
        {"metadata": {"name": "fast"}, "volumeBindingMode": "Immediate"},
        {"metadata": {"name": "local"}, "volumeBindingMode": "WaitForFirstConsumer"},
    ],
)
NODES = [make_node("a1", labels={"zone": "a"}), make_node("b1", labels={"zone": "b"})]


async def test_missing_claim() -> None:
    outcome = await schedule(make_core(NODES, cluster=CLUSTER), _pod("nope"))
    assert isinstance(outcome, Failed)
    assert outcome.message.startswith(
        '0/2 nodes are available: persistentvolumeclaim "nope" not found.'
    )


async def test_unbound_immediate_claim_waits_for_the_pv_controller() -> None:
    outcome = await schedule(make_core(NODES, cluster=CLUSTER), _pod("immediate"))
    assert isinstance(outcome, Failed)
    assert "pod has unbound immediate PersistentVolumeClaims" in outcome.message


async def test_bound_claim_follows_the_pv_node_affinity() -> None:
    outcome = await schedule(make_core(NODES, cluster=CLUSTER), _pod("bound"))
    assert isinstance(outcome, Scheduled) and outcome.node_name == "b1"
    only_a = make_core(NODES[:1], cluster=CLUSTER)
    outcome = await schedule(only_a, _pod("bound"))
    assert isinstance(outcome, Failed)
    assert "1 node(s) had volume node affinity conflict" in outcome.message


async def test_delayed_binding_claim_fits_anywhere_and_records_the_node() -> None:
    core = make_core(NODES, cluster=CLUSTER)
    outcome = await schedule(core, _pod("delayed"))
    assert isinstance(outcome, Scheduled)
    annotated: list[tuple[str, str, dict[str, str]]] = []

    async def annotate(namespace: str, name: str, annotations: Any) -> None:
        annotated.append((namespace, name, dict(annotations)))

    outcome.fwk.handle.api.annotate_pvc = annotate  # type: ignore[method-assign]
    assert await outcome.fwk.run_pre_bind(outcome.state, outcome.assumed, outcome.node_name) is None
    assert annotated == [("default", "delayed", {SELECTED_NODE_ANNOTATION: outcome.node_name})]
