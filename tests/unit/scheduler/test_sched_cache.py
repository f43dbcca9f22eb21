"""The scheduler cache: assume/confirm/forget, node order, pods before their node."""

from __future__ import annotations

from tests.support.scheduling import make_node, make_pod

from kybernetes.scheduler import PodInfo, SchedulerCache
from kybernetes.scheduler._cycle import assumed_copy
from kybernetes.scheduler._handlers import EventHandlers

ZONE = "topology.kubernetes.io/zone"


def test_zone_interleaved_order() -> None:
    cache = SchedulerCache()
    for name, zone in [
        ("a1", "a"),
        ("a2", "a"),
        ("a3", "a"),
        ("b1", "b"),
        ("c1", "c"),
        ("b2", "b"),
    ]:
        cache.add_node(make_node(name, labels={ZONE: zone}))
    assert [n.name for n in cache.list()] == ["a1", "b1", "c1", "a2", "b2", "a3"]
    cache.remove_node("b1")
    assert [n.name for n in cache.list()] == ["a1", "b2", "c1", "a2", "a3"]


def test_assume_confirm_forget() -> None:
    cache = SchedulerCache()
    cache.add_node(make_node("n1"))
    cache.add_node(make_node("n2"))
    pod = make_pod("p", cpu="1")
    assumed = assumed_copy(PodInfo(pod), "n1")
    cache.assume_pod(assumed)
    assert cache.is_assumed(assumed.uid) and cache.get("n1").req_cpu == 1000  # type: ignore[union-attr]
    # The API says it landed on n2 after all (another instance bound it): move it.
    bound = dict(pod, spec={**pod["spec"], "nodeName": "n2"})
    cache.add_pod(bound)
    assert not cache.is_assumed(assumed.uid)
    assert cache.get("n1").req_cpu == 0 and cache.get("n2").req_cpu == 1000  # type: ignore[union-attr]
    cache.forget_pod(assumed)  # confirmed pods are not forgotten
    assert cache.get("n2").req_cpu == 1000  # type: ignore[union-attr]
    other = assumed_copy(PodInfo(make_pod("q", cpu="1")), "n1")
    cache.assume_pod(other)
    cache.forget_pod(other)
    assert cache.get("n1").pods == []  # type: ignore[union-attr]


def test_pods_before_their_node_and_after_it_is_gone() -> None:
    cache = SchedulerCache()
    cache.add_pod(make_pod("early", cpu="1", node_name="late"))
    assert cache.list() == [] and cache.get("late") is None
    cache.add_node(make_node("late"))
    assert cache.get("late").req_cpu == 1000  # type: ignore[union-attr]
    cache.remove_node("late")
    assert cache.list() == []
    cache.add_node(make_node("late"))
    assert len(cache.get("late").pods) == 1  # type: ignore[union-attr]


def test_image_counts_and_affinity_lists() -> None:
    cache = SchedulerCache()
    cache.add_node(make_node("n1", images=[(["img:1"], 10)]))
    cache.add_node(make_node("n2", images=[(["img:1", "img:2"], 10)]))
    assert cache.image_node_count("img:1") == 2 and cache.image_node_count("img:2") == 1
    cache.update_node(make_node("n2"))
    assert cache.image_node_count("img:1") == 1 and cache.image_node_count("img:2") == 0
    anti = {
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {"matchLabels": {"a": "b"}},
                        "topologyKey": "kubernetes.io/hostname",
                    }
                ]
            }
        }
    }
    pod = make_pod("x", node_name="n2", spec=anti)
    cache.add_pod(pod)
    assert [n.name for n in cache.have_pods_with_required_anti_affinity()] == ["n2"]
    assert [n.name for n in cache.have_pods_with_affinity()] == ["n2"]
    cache.remove_pod(pod)
    assert cache.have_pods_with_affinity() == []


def test_handlers_route_pods_by_assignment_and_scheduler_name() -> None:
    from tests.support.scheduling import make_core

    core = make_core([make_node("n1")])
    h = EventHandlers(
        core.cache,
        core.queue,
        frozenset({"default-scheduler"}),
        lambda name: {"high": 1000}.get(name),
    )
    pending = make_pod("p", spec={"priorityClassName": "high"})
    h.on_pod_add(pending)
    h.on_pod_add(make_pod("other", scheduler_name="someone-else"))
    assert len(core.queue) == 1
    assert core.queue.get(PodInfo(pending).uid).pod.priority == 1000  # type: ignore[union-attr]
    bound = dict(pending, spec={**pending["spec"], "nodeName": "n1"})
    h.on_pod_update(pending, bound)
    assert len(core.queue) == 0 and len(core.cache.get("n1").pods) == 1  # type: ignore[union-attr]
    h.on_pod_delete(bound)
    assert core.cache.get("n1").pods == []  # type: ignore[union-attr]
