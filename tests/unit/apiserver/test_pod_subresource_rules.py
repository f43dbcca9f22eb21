"""The pure rules behind pods/binding, pods/eviction, pods/ephemeralcontainers, the kubelet
proxy and metadata-only negotiation."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.apiserver import APIError
from kybernetes.apiserver._binding import bound_pod, set_condition, validate_binding
from kybernetes.apiserver._ephemeral import validate_ephemeral_update
from kybernetes.apiserver._eviction_rules import (
    can_ignore_pdb,
    decrement_budget,
    matching_budgets,
    unhealthy_may_go,
)
from kybernetes.apiserver._kubelet import (
    EXEC,
    PORTFORWARD,
    kubelet_endpoint,
    parse_log_options,
    parse_stream_options,
    pod_container,
    split_scheme_name_port,
)
from kybernetes.apiserver._request import negotiate

NOW = "2025-01-02T03:04:05Z"


def _pod(**spec: Any) -> dict[str, Any]:
    containers = [{"name": "app", "image": "x"}, {"name": "side", "image": "y"}]
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "resourceVersion": "7"},
        "spec": {"containers": containers, **spec},
        "status": {"phase": "Pending"},
    }


# -- binding -------------------------------------------------------------------------------


def test_bound_pod_sets_node_annotations_and_condition_without_touching_the_input() -> None:
    pod = _pod()
    pod["status"]["conditions"] = [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "no"}
    ]
    binding = {"metadata": {"annotations": {"a": "b"}}, "target": {"name": "n1"}}
    out = bound_pod(pod, binding, NOW)
    assert out["spec"]["nodeName"] == "n1"
    assert out["metadata"]["annotations"] == {"a": "b"}
    assert out["status"]["conditions"] == [
        {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": NOW}
    ]
    assert "nodeName" not in pod["spec"] and pod["status"]["conditions"][0]["status"] == "False"


@pytest.mark.parametrize(
    ("pod", "binding_meta", "message"),
    [
        (_pod(nodeName="n0"), {}, 'pod p is already assigned to node "n0"'),
        (_pod(schedulingGates=[{"name": "g"}]), {}, "pod p has non-empty .spec.schedulingGates"),
        (
            {**_pod(), "metadata": {**_pod()["metadata"], "deletionTimestamp": NOW}},
            {},
            "pod p is being deleted, cannot be assigned to a host",
        ),
        (_pod(), {"uid": "other"}, "Precondition failed: UID in precondition: other"),
        (_pod(), {"resourceVersion": "6"}, "the object has been modified"),
    ],
)
def test_binding_conflicts(pod: dict[str, Any], binding_meta: dict[str, Any], message: str) -> None:
    with pytest.raises(APIError) as e:
        bound_pod(pod, {"metadata": binding_meta, "target": {"name": "n1"}}, NOW)
    assert e.value.code == 409 and message in e.value.message


def test_binding_validation() -> None:
    assert validate_binding({"target": {"kind": "Node", "name": "n1"}}) == []
    fields = {e.field for e in validate_binding({"target": {"kind": "Pod", "name": "A_b"}})}
    assert fields == {"target.kind", "target.name"}


def test_set_condition_keeps_transition_time_when_status_is_unchanged() -> None:
    old = [{"type": "Ready", "status": "True", "lastTransitionTime": "old"}]
    assert set_condition(old, {"type": "Ready", "status": "True"}, NOW)[0][
        "lastTransitionTime"
    ] == ("old")
    assert set_condition(old, {"type": "Ready", "status": "False"}, NOW)[0][
        "lastTransitionTime"
    ] == (NOW)


# -- eviction ------------------------------------------------------------------------------


def _pdb(name: str, status: dict[str, Any] | None, selector: Any = None) -> dict[str, Any]:
    pdb: dict[str, Any] = {
        "metadata": {"name": name, "namespace": "ns", "generation": 1},
        "spec": {"selector": selector if selector is not None else {"matchLabels": {"app": "w"}}},
    }
    if status is not None:
        pdb["status"] = status
    return pdb


def test_budget_decrement_records_the_pod_and_blocks_at_zero() -> None:
    pdb = _pdb("b", {"observedGeneration": 1, "disruptionsAllowed": 1, "desiredHealthy": 2})
    spent = decrement_budget(pdb, "p", NOW)
    assert spent["status"]["disruptionsAllowed"] == 0
    assert spent["status"]["disruptedPods"] == {"p": NOW}
    assert spent["status"]["conditions"][0]["reason"] == "InsufficientPods"
    assert pdb["status"]["disruptionsAllowed"] == 1  # the input is unchanged
    with pytest.raises(APIError) as e:
        decrement_budget(spent, "q", NOW)
    assert e.value.code == 429
    assert (
        e.value.causes[0].message
        == "The disruption budget b needs 2 healthy pods and has 0 currently"
    )
    with pytest.raises(APIError) as e:
        decrement_budget(_pdb("b", None), "p", NOW)
    assert e.value.code == 429 and e.value.retry_after == 10
    with pytest.raises(APIError) as e:
        decrement_budget(_pdb("b", {"observedGeneration": 1, "disruptionsAllowed": -1}), "p", NOW)
    assert e.value.code == 403


def test_which_budgets_guard_a_pod() -> None:
    pod = {"metadata": {"namespace": "ns", "labels": {"app": "w"}}}
    budgets = [
        _pdb("match", None),
        _pdb("everything", None, selector={}),
        _pdb("other", None, selector={"matchLabels": {"app": "x"}}),
        {**_pdb("elsewhere", None), "metadata": {"name": "e", "namespace": "other"}},
        _pdb("broken", None, selector={"matchExpressions": [{"key": "a", "operator": "Bad"}]}),
    ]
    assert [b["metadata"]["name"] for b in matching_budgets(pod, budgets)] == ["match"]
    assert can_ignore_pdb({"status": {"phase": "Pending"}})
    assert can_ignore_pdb({"status": {"phase": "Running"}, "metadata": {"deletionTimestamp": NOW}})
    assert not can_ignore_pdb({"status": {"phase": "Running"}})
    assert unhealthy_may_go({"spec": {"unhealthyPodEvictionPolicy": "AlwaysAllow"}})
    assert unhealthy_may_go({"status": {"currentHealthy": 2, "desiredHealthy": 2}})
    assert not unhealthy_may_go({"status": {"currentHealthy": 1, "desiredHealthy": 2}})


# -- ephemeral containers ------------------------------------------------------------------


def _with_ephemeral(*containers: dict[str, Any]) -> dict[str, Any]:
    pod = _pod()
    pod["spec"]["ephemeralContainers"] = list(containers)
    return pod


DEBUGGER = {
    "name": "dbg",
    "image": "busybox",
    "imagePullPolicy": "Always",
    "terminationMessagePolicy": "File",
}


def test_ephemeral_containers_only_added() -> None:
    assert validate_ephemeral_update(_with_ephemeral(DEBUGGER), _pod()) == []
    changed = {**DEBUGGER, "image": "other"}
    errs = validate_ephemeral_update(_with_ephemeral(changed), _with_ephemeral(DEBUGGER))
    assert [e.message for e in errs] == ['existing ephemeral containers "dbg" may not be changed']
    errs = validate_ephemeral_update(_pod(), _with_ephemeral(DEBUGGER))
    assert [e.message for e in errs] == ['existing ephemeral containers "dbg" may not be removed']


def test_ephemeral_container_rules() -> None:
    bad = {
        **DEBUGGER,
        "name": "app",
        "targetContainerName": "nope",
        "ports": [{"containerPort": 80}],
        "volumeMounts": [{"name": "v", "mountPath": "/m", "subPath": "s"}],
    }
    pod = _with_ephemeral(bad)
    pod["spec"]["volumes"] = [{"name": "v", "emptyDir": {}}]
    fields = {e.field for e in validate_ephemeral_update(pod, _pod())}
    prefix = "spec.ephemeralContainers[0]"
    assert {
        f"{prefix}.name",
        f"{prefix}.targetContainerName",
        f"{prefix}.ports",
        f"{prefix}.volumeMounts[0].subPath",
    } <= fields
    mirror = _pod()
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "x"}
    errs = validate_ephemeral_update(_with_ephemeral(DEBUGGER), mirror)
    assert [e.message for e in errs] == ["static pods do not support ephemeral containers"]


# -- the kubelet ---------------------------------------------------------------------------


def _node(addresses: list[dict[str, str]], port: Any = 10250) -> dict[str, Any]:
    status: dict[str, Any] = {"addresses": addresses}
    if port is not None:
        status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": port}}
    return {"metadata": {"name": "n"}, "status": status}


def test_kubelet_endpoint_prefers_internal_ip_and_needs_a_port() -> None:
    node = _node([{"type": "Hostname", "address": "h"}, {"type": "InternalIP", "address": "::1"}])
    endpoint = kubelet_endpoint(node)
    assert endpoint.url("/exec/a", [("command", "ls -l")], websocket=True) == (
        "ws://[::1]:10250/exec/a?command=ls+-l"
    )
    for broken in (_node(node["status"]["addresses"], None), _node([]), _node([], 0)):
        with pytest.raises(APIError) as e:
            kubelet_endpoint(broken)
        assert e.value.code == 503 and e.value.message.startswith(
            'no kubelet endpoint for node "n"'
        )


def test_pod_container_choice() -> None:
    pod = _pod()
    assert pod_container(pod, "") == "app"
    assert pod_container(pod, "side") == "side"
    pod["metadata"]["annotations"] = {"kubectl.kubernetes.io/default-container": "side"}
    assert pod_container(pod, "") == "side"
    with pytest.raises(APIError) as e:
        pod_container(pod, "nope")
    assert e.value.code == 400 and e.value.message == "container nope is not valid for pod p"


def test_log_and_stream_options() -> None:
    opts = parse_log_options(
        [("follow", ""), ("tailLines", "5"), ("sinceTime", "2025-01-01T01:00:00+01:00")], "p"
    )
    assert opts.kubelet_query() == [
        ("follow", "true"),
        ("sinceTime", "2025-01-01T00:00:00Z"),
        ("tailLines", "5"),
    ]
    assert not parse_log_options([("follow", "false"), ("previous", "0")], "p").follow
    with pytest.raises(APIError) as e:
        parse_log_options([("sinceSeconds", "1"), ("sinceTime", NOW), ("limitBytes", "0")], "p")
    assert e.value.code == 422 and e.value.kind == "PodLogOptions"
    with pytest.raises(APIError) as e:
        parse_log_options([("tailLines", "x")], "p")
    assert e.value.code == 400

    exec_opts = parse_stream_options(
        EXEC, [("command", "sh"), ("command", "-c"), ("stdin", "true"), ("tty", "1")]
    )
    assert exec_opts.kubelet_path("ns", "p", "app") == "/exec/ns/p/app"
    assert exec_opts.kubelet_query() == [
        ("command", "sh"),
        ("command", "-c"),
        ("input", "1"),
        ("tty", "1"),
    ]
    forward = parse_stream_options(PORTFORWARD, [("ports", "80,81"), ("ports", "90")])
    assert forward.kubelet_path("ns", "p", "") == "/portForward/ns/p"
    assert forward.kubelet_query() == [("port", "80,81,90")]


def test_proxy_names() -> None:
    assert split_scheme_name_port("web") == ("", "web", "")
    assert split_scheme_name_port("web:8080") == ("", "web", "8080")
    assert split_scheme_name_port("https:web:443") == ("https", "web", "443")
    assert split_scheme_name_port("ftp:web:21") is None
    assert split_scheme_name_port("a:b:c:d") is None


# -- metadata-only negotiation -------------------------------------------------------------


def test_partial_object_metadata_is_negotiated_for_reads_only() -> None:
    accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
    assert negotiate(accept).partial == "PartialObjectMetadataList"
    assert negotiate(accept).partial_version == "v1"
    assert negotiate(accept, table_allowed=False).partial == ""
    beta = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1"
    assert negotiate(beta).partial_version == "v1beta1"
