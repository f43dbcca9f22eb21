"""Applying strategic merge patches with the Kubernetes schema's list semantics."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kybernetes.api import PatchError, SchemaNode, apply_strategic_merge_patch, load_schema


def _schema(group: str, version: str, kind: str) -> SchemaNode:
    node = load_schema().for_kind(group, version, kind)
    assert node is not None
    return node


POD = _schema("", "v1", "Pod")
DEPLOYMENT = _schema("apps", "v1", "Deployment")
NODE = _schema("", "v1", "Node")


def _pod(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": spec}


def _names(items: list[dict[str, Any]], key: str = "name") -> list[Any]:
    return [i[key] for i in items]


DEPLOY: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "replicas": 2,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "nginx:1",
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    },
                    {"name": "sidecar", "image": "busybox"},
                ],
                "volumes": [{"name": "data", "emptyDir": {}}],
                "tolerations": [{"key": "a", "operator": "Exists"}],
            },
        },
    },
}


# -- what kubectl sends -----------------------------------------------------------------------


def test_rollout_restart_adds_template_annotation_only() -> None:
    patch = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}
                }
            }
        }
    }
    out = apply_strategic_merge_patch(DEPLOY, patch, DEPLOYMENT)
    template = out["spec"]["template"]
    assert template["metadata"] == {
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"},
    }
    assert template["spec"] == DEPLOY["spec"]["template"]["spec"]


def test_cordon_and_uncordon() -> None:
    node = {"metadata": {"name": "n1"}, "spec": {"podCIDR": "10.0.0.0/24"}}
    cordoned = apply_strategic_merge_patch(node, {"spec": {"unschedulable": True}}, NODE)
    assert cordoned["spec"] == {"podCIDR": "10.0.0.0/24", "unschedulable": True}
    uncordoned = apply_strategic_merge_patch(cordoned, {"spec": {"unschedulable": None}}, NODE)
    assert uncordoned["spec"] == {"podCIDR": "10.0.0.0/24"}


def test_set_image_like_patch_merges_container_by_name() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}}
    out = apply_strategic_merge_patch(DEPLOY, patch, DEPLOYMENT)
    containers = out["spec"]["template"]["spec"]["containers"]
    assert _names(containers) == ["app", "sidecar"]
    assert containers[0]["image"] == "nginx:2"
    assert containers[0]["env"] == DEPLOY["spec"]["template"]["spec"]["containers"][0]["env"]


def test_apply_shaped_patch_with_order_and_deletion() -> None:
    # What kubectl apply sends after the user reorders env, drops B and adds C.
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                    "containers": [
                        {
                            "name": "app",
                            "$setElementOrder/env": [{"name": "C"}, {"name": "A"}],
                            "env": [{"name": "C", "value": "3"}, {"name": "B", "$patch": "delete"}],
                        }
                    ],
                }
            }
        }
    }
    out = apply_strategic_merge_patch(DEPLOY, patch, DEPLOYMENT)
    app = out["spec"]["template"]["spec"]["containers"][0]
    assert app["env"] == [{"name": "C", "value": "3"}, {"name": "A", "value": "1"}]
    assert _names(out["spec"]["template"]["spec"]["containers"]) == ["app", "sidecar"]


def test_inputs_are_never_mutated_and_result_shares_nothing() -> None:
    doc = copy.deepcopy(DEPLOY)
    patch = {
        "metadata": {"labels": {"tier": "x"}},
        "spec": {"template": {"spec": {"containers": [{"name": "new", "image": "i"}]}}},
    }
    patch_before = copy.deepcopy(patch)
    out = apply_strategic_merge_patch(doc, patch, DEPLOYMENT)
    assert doc == DEPLOY
    assert patch == patch_before
    out["spec"]["template"]["spec"]["containers"][1]["image"] = "changed"
    out["metadata"]["labels"]["mut"] = "1"
    assert doc == DEPLOY
    assert patch == patch_before
    assert apply_strategic_merge_patch(doc, {}, DEPLOYMENT) == DEPLOY


# -- list semantics ---------------------------------------------------------------------------


def test_new_elements_go_after_the_patch_element_before_them() -> None:
    live = _pod(containers=[{"name": n} for n in "abc"])
    # Only a new element: it leads (no patch element precedes it).
    out = apply_strategic_merge_patch(live, {"spec": {"containers": [{"name": "d"}]}}, POD)
    assert _names(out["spec"]["containers"]) == ["d", "a", "b", "c"]
    # After b in the patch, so right after b.
    patch = {"spec": {"containers": [{"name": "b", "image": "x"}, {"name": "d"}]}}
    out = apply_strategic_merge_patch(live, patch, POD)
    assert _names(out["spec"]["containers"]) == ["a", "b", "d", "c"]
    assert out["spec"]["containers"][1] == {"name": "b", "image": "x"}


def test_patch_order_wins_over_live_order_for_patched_elements() -> None:
    live = _pod(containers=[{"name": "b"}, {"name": "c"}, {"name": "a"}])
    patch = {"spec": {"containers": [{"name": "a", "x": 1}, {"name": "b", "x": 1}, {"name": "d"}]}}
    out = apply_strategic_merge_patch(live, patch, POD)
    # c is server-only and came before a live, so it stays in front.
    assert _names(out["spec"]["containers"]) == ["c", "a", "b", "d"]


def test_ports_merge_by_container_port() -> None:
    live = _pod(
        containers=[
            {"name": "c", "ports": [{"containerPort": 80}, {"containerPort": 443, "name": "tls"}]}
        ]
    )
    patch = {
        "spec": {
            "containers": [
                {"name": "c", "ports": [{"containerPort": 443, "protocol": "TCP"}]},
            ]
        }
    }
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80},
        {"containerPort": 443, "name": "tls", "protocol": "TCP"},
    ]


def test_volumes_merge_by_name_and_retain_keys_switches_source() -> None:
    live = _pod(
        volumes=[{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "a"}}]
    )
    patch = {
        "spec": {
            "volumes": [
                {"name": "data", "hostPath": {"path": "/srv"}, "$retainKeys": ["hostPath", "name"]}
            ]
        }
    }
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["spec"]["volumes"] == [
        {"name": "data", "hostPath": {"path": "/srv"}},
        {"name": "cfg", "configMap": {"name": "a"}},
    ]


def test_deployment_strategy_retain_keys() -> None:
    patch = {"spec": {"strategy": {"type": "Recreate", "$retainKeys": ["type"]}}}
    out = apply_strategic_merge_patch(DEPLOY, patch, DEPLOYMENT)
    assert out["spec"]["strategy"] == {"type": "Recreate"}


def test_tolerations_are_atomic() -> None:
    patch = {"spec": {"template": {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}}}}
    out = apply_strategic_merge_patch(DEPLOY, patch, DEPLOYMENT)
    assert out["spec"]["template"]["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]


def test_atomic_primitive_lists_replace() -> None:
    live = _pod(containers=[{"name": "c", "args": ["a", "b"]}])
    patch = {"spec": {"containers": [{"name": "c", "args": ["z"]}]}}
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["spec"]["containers"][0]["args"] == ["z"]


def test_finalizers_union_delete_and_order() -> None:
    live = {"metadata": {"name": "p", "finalizers": ["a", "b"]}}
    out = apply_strategic_merge_patch(live, {"metadata": {"finalizers": ["b", "c"]}}, POD)
    assert out["metadata"]["finalizers"] == ["a", "b", "c"]
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "zzz"]}}
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["metadata"]["finalizers"] == ["b"]
    patch = {"metadata": {"$setElementOrder/finalizers": ["b", "a"]}}
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["metadata"]["finalizers"] == ["b", "a"]


def test_primitive_order_with_server_only_value() -> None:
    live = {"metadata": {"finalizers": ["a", "x", "b"]}}
    patch = {"metadata": {"$setElementOrder/finalizers": ["c", "a", "b"], "finalizers": ["c"]}}
    out = apply_strategic_merge_patch(live, patch, POD)
    # x (unknown to the client) keeps its place between a and b.
    assert out["metadata"]["finalizers"] == ["c", "a", "x", "b"]


def test_owner_references_merge_by_uid() -> None:
    ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1"}
    live = {"metadata": {"name": "p", "ownerReferences": [ref]}}
    patch = {"metadata": {"ownerReferences": [{"uid": "u1", "controller": True}]}}
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["metadata"]["ownerReferences"] == [{**ref, "controller": True}]
    patch = {"metadata": {"ownerReferences": [{"uid": "u1", "$patch": "delete"}]}}
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["metadata"]["ownerReferences"] == []


# -- directives -------------------------------------------------------------------------------


def test_set_element_order_puts_server_only_elements_by_live_position() -> None:
    live = _pod(containers=[{"name": n} for n in ["a", "b", "x", "c", "d"]])
    patch = {"spec": {"$setElementOrder/containers": [{"name": n} for n in ["b", "a", "d", "c"]]}}
    out = apply_strategic_merge_patch(live, patch, POD)
    assert _names(out["spec"]["containers"]) == ["b", "a", "x", "d", "c"]


def test_set_element_order_must_agree_with_patch_list() -> None:
    live = _pod(containers=[{"name": "a"}, {"name": "b"}])
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "b", "image": "x"}, {"name": "a", "image": "y"}],
        }
    }
    with pytest.raises(PatchError, match="doesn't match \\$setElementOrder list"):
        apply_strategic_merge_patch(live, patch, POD)


def test_patch_replace_on_a_map() -> None:
    live = {"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}}
    patch = {"metadata": {"labels": {"$patch": "replace", "c": "3"}}}
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["metadata"]["labels"] == {"c": "3"}


def test_patch_replace_in_a_list() -> None:
    live = _pod(containers=[{"name": "a", "image": "1"}, {"name": "b"}])
    patch = {"spec": {"containers": [{"name": "z", "image": "9"}, {"$patch": "replace"}]}}
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["spec"]["containers"] == [{"name": "z", "image": "9"}]


def test_patch_delete_on_a_map_empties_it() -> None:
    live = {"metadata": {"name": "p", "labels": {"a": "1"}}}
    out = apply_strategic_merge_patch(live, {"metadata": {"labels": {"$patch": "delete"}}}, POD)
    assert out["metadata"] == {"name": "p", "labels": {}}


def test_patch_merge_on_a_map_is_the_default_merge() -> None:
    live = {"metadata": {"labels": {"a": "1"}}}
    patch = {"metadata": {"labels": {"$patch": "merge", "b": "2"}}}
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["metadata"]["labels"] == {"a": "1", "b": "2"}


def test_new_values_are_cleaned_of_nulls_and_directives() -> None:
    live = _pod(containers=[{"name": "a"}])
    patch = {
        "metadata": {"labels": {"x": None, "y": "1"}, "annotations": {"$patch": "delete"}},
        "spec": {
            "containers": [
                {"name": "b", "image": None, "env": [{"name": "E", "value": None}]},
            ],
            "volumes": [{"name": "v", "$patch": "delete"}, {"name": "w", "emptyDir": {}}],
        },
    }
    out = apply_strategic_merge_patch(live, patch, POD)
    assert out["metadata"] == {"name": "web", "labels": {"y": "1"}}
    assert out["spec"]["containers"] == [{"name": "b", "env": [{"name": "E"}]}, {"name": "a"}]
    assert out["spec"]["volumes"] == [{"name": "w", "emptyDir": {}}]


def test_type_change_replaces() -> None:
    live = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}}
    out = apply_strategic_merge_patch(live, {"spec": {"containers": {"oops": True}}}, POD)
    assert out["spec"]["containers"] == {"oops": True}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {"spec": {"containers": [{"image": "x"}]}},
            'map: {"image":"x"} does not contain declared merge key: name',
        ),
        (
            {"spec": {"containers": [{"name": "a", "$patch": "explode"}]}},
            "unknown patch type: explode in map",
        ),
        ({"spec": {"$patch": "frob"}}, "unknown patch type"),
        (
            {"spec": {"containers": [{"$patch": "merge"}]}},
            "merging lists cannot yet be specified in the patch",
        ),
        ({"spec": {"containers": [{"$patch": "delete"}]}}, "does not contain declared merge key"),
        (
            {"spec": {"$retainKeys": ["volumes"], "containers": []}},
            "invalid patch format of retainKeys",
        ),
        ({"spec": {"$retainKeys": "volumes"}}, "invalid patch format of retainKeys"),
        ({"spec": {"$setElementOrder/containers": [{"image": "x"}]}}, "merge key: name"),
        ({"spec": {"$setElementOrderX": []}}, "invalid patch format of setElementOrder list"),
        (
            {"spec": {"$deleteFromPrimitiveList/containers": ["a"]}},
            "list element types are not identical",
        ),
        ({"spec": {"containers": [["a"]]}}, "lists of lists are not supported"),
    ],
)
def test_bad_patches_raise_clear_errors(patch: dict[str, Any], message: str) -> None:
    live = _pod(containers=[{"name": "a"}])
    with pytest.raises(PatchError) as info:
        apply_strategic_merge_patch(live, patch, POD)
    assert message in str(info.value)


def test_non_object_patch_is_malformed() -> None:
    with pytest.raises(PatchError) as info:
        apply_strategic_merge_patch({}, ["x"], POD)  # type: ignore[arg-type]
    assert info.value.malformed


# -- content the schema does not describe ------------------------------------------------------


def test_without_schema_objects_merge_and_lists_replace() -> None:
    live = {"spec": {"items": [{"name": "a"}], "config": {"a": 1, "b": 2}}}
    patch = {"spec": {"items": [{"name": "b"}], "config": {"a": None, "c": 3}}}
    out = apply_strategic_merge_patch(live, patch, None)
    assert out == {"spec": {"items": [{"name": "b"}], "config": {"b": 2, "c": 3}}}


def test_unknown_and_free_form_fields_behave_like_merge_patch() -> None:
    revision = _schema("apps", "v1", "ControllerRevision")
    live = {"data": {"spec": {"containers": [{"name": "a"}], "k": 1}}, "revision": 1}
    patch = {"data": {"spec": {"containers": [{"name": "b"}]}}, "unknownField": [1]}
    out = apply_strategic_merge_patch(live, patch, revision)
    # data is a RawExtension: no merge keys inside, so the list is replaced.
    assert out == {
        "data": {"spec": {"containers": [{"name": "b"}], "k": 1}},
        "revision": 1,
        "unknownField": [1],
    }


def test_replace_strategy_map_is_replaced_whole() -> None:
    pdb = _schema("policy", "v1", "PodDisruptionBudget")
    live = {"spec": {"selector": {"matchLabels": {"a": "1"}}, "minAvailable": 1}}
    patch = {"spec": {"selector": {"matchExpressions": [{"key": "b", "operator": "Exists"}]}}}
    out = apply_strategic_merge_patch(live, patch, pdb)
    assert out["spec"] == {
        "selector": {"matchExpressions": [{"key": "b", "operator": "Exists"}]},
        "minAvailable": 1,
    }
