"""Server-side apply and managedFields, as `kubectl apply --server-side` experiences them."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kybernetes.api import SchemaNode, load_schema
from kybernetes.api._apply import LAST_APPLIED, ApplyConflict, ApplyError, server_side_apply
from kybernetes.api._fieldmanager import update_managed_fields
from kybernetes.api._managedfields import reset_fields


def _node(group: str, version: str, kind: str) -> SchemaNode:
    node = load_schema().for_kind(group, version, kind)
    assert node is not None
    return node


DEPLOYMENT = _node("apps", "v1", "Deployment")
CONFIGMAP = _node("", "v1", "ConfigMap")
MAIN = reset_fields("", has_status=True)
T1, T2, T3, T4 = (f"2024-05-0{i}T10:00:00Z" for i in range(1, 5))
C = 'k:{"name":"c"}'


def _deployment(replicas: int = 2, **template_spec: Any) -> dict[str, Any]:
    spec = template_spec or {"containers": [{"name": "c", "image": "nginx:1"}]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec},
        },
    }


def _stored(obj: dict[str, Any]) -> dict[str, Any]:
    """What the API server would store: system metadata added (and a defaulted field)."""
    out = copy.deepcopy(obj)
    out["metadata"].update(uid="u-1", resourceVersion="5", creationTimestamp=T1)
    out["spec"].setdefault("revisionHistoryLimit", 10)
    return out


def _apply(
    live: dict[str, Any] | None,
    cfg: dict[str, Any],
    manager: str = "kubectl",
    *,
    force: bool = False,
    now: str = T1,
) -> dict[str, Any]:
    return server_side_apply(
        live, cfg, DEPLOYMENT, manager=manager, force=force, now=now, ignore=MAIN
    )


def _update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    now: str = T2,
    subresource: str = "",
) -> dict[str, Any]:
    return update_managed_fields(
        old, new, DEPLOYMENT, manager=manager, now=now, subresource=subresource, ignore=MAIN
    )


def _entries(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e for e in obj["metadata"].get("managedFields", [])}


def _owned(obj: dict[str, Any], manager: str) -> dict[str, Any]:
    return _entries(obj)[manager]["fieldsV1"]


def test_first_apply_creates_with_managed_fields() -> None:
    cfg = _deployment(
        containers=[{"name": "c", "image": "nginx:1", "ports": [{"containerPort": 80}]}]
    )
    cfg["status"] = {"replicas": 7}  # reset on the main resource: neither applied nor owned
    obj = _apply(None, cfg)
    assert "status" not in obj
    assert obj["spec"]["template"]["spec"]["containers"] == [
        {"name": "c", "image": "nginx:1", "ports": [{"containerPort": 80}]}
    ]
    assert obj["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": T1,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                C: {
                                    ".": {},
                                    "f:image": {},
                                    "f:name": {},
                                    "f:ports": {
                                        'k:{"containerPort":80,"protocol":"TCP"}': {
                                            ".": {},
                                            "f:containerPort": {},
                                        }
                                    },
                                }
                            }
                        },
                    },
                },
            },
        }
    ]


def test_reapplying_the_same_configuration_is_a_no_op() -> None:
    live = _stored(_apply(None, _deployment()))
    again = _apply(live, _deployment(), now=T2)
    assert again == live  # same object, same managedFields timestamps: no write needed
    assert again is not live and again["metadata"] is not live["metadata"]


def test_conflicting_apply_after_a_scale_then_force() -> None:
    live = _stored(_apply(None, _deployment(replicas=2)))
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 5
    live = _update(live, scaled, "scaler", subresource="scale")
    assert _owned(live, "scaler") == {"f:spec": {"f:replicas": {}}}
    assert _entries(live)["scaler"]["subresource"] == "scale"
    assert "f:replicas" not in _owned(live, "kubectl")["f:spec"]

    with pytest.raises(ApplyConflict) as info:
        _apply(live, _deployment(replicas=3), now=T3)
    err = info.value
    assert str(err) == (
        'Apply failed with 1 conflict: conflict with "scaler" with subresource "scale" '
        "using apps/v1: .spec.replicas"
    )
    assert err.causes() == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "scaler" with subresource "scale" using apps/v1',
            "field": ".spec.replicas",
        }
    ]

    # Applying the value the field already has is no conflict: the field becomes shared.
    shared = _apply(live, _deployment(replicas=5), now=T3)
    assert "f:replicas" in _owned(shared, "kubectl")["f:spec"]
    assert _owned(shared, "scaler") == {"f:spec": {"f:replicas": {}}}

    forced = _apply(live, _deployment(replicas=3), force=True, now=T3)
    assert forced["spec"]["replicas"] == 3
    assert "scaler" not in _entries(forced)  # its only field moved to the applier
    assert "f:replicas" in _owned(forced, "kubectl")["f:spec"]
    assert _entries(forced)["kubectl"]["time"] == T3


def test_conflicts_with_several_managers_are_listed_per_manager() -> None:
    live = _stored(_apply(None, _deployment(replicas=2)))
    changed = copy.deepcopy(live)
    changed["spec"]["replicas"] = 4
    changed["metadata"]["labels"]["app"] = "other"
    live = _update(live, changed, "b-editor")
    with pytest.raises(ApplyConflict) as info:
        _apply(live, _deployment(replicas=9), manager="a-applier", now=T3)
    assert str(info.value) == (
        'Apply failed with 2 conflicts: conflicts with "b-editor" using apps/v1:\n'
        "- .metadata.labels.app\n- .spec.replicas"
    )
    assert [c["field"] for c in info.value.causes()] == [".metadata.labels.app", ".spec.replicas"]


def test_removing_a_field_from_the_configuration_removes_it() -> None:
    first = _deployment(containers=[{"name": "c", "image": "nginx:1"}, {"name": "d", "image": "x"}])
    first["metadata"]["annotations"] = {"note": "hi"}
    live = _stored(_apply(None, first))
    obj = _apply(live, _deployment(replicas=2), now=T2)
    assert "annotations" not in obj["metadata"]  # emptied by the removal: gone
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["c"]
    assert obj["spec"]["revisionHistoryLimit"] == 10  # never applied: untouched
    assert obj["metadata"]["uid"] == "u-1"
    assert _entries(obj)["kubectl"]["time"] == T2


def test_a_field_two_managers_own_stays_until_both_let_go() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}

    def apply(live: dict[str, Any] | None, cfg: dict[str, Any], manager: str) -> dict[str, Any]:
        return server_side_apply(live, cfg, CONFIGMAP, manager=manager, force=False, now=T1)

    live = apply(None, cm, "alice")
    live = apply(live, cm, "bob")
    assert _owned(live, "alice") == _owned(live, "bob") == {"f:data": {"f:k": {}}}
    empty = {**cm, "data": {"other": "x"}}
    live = apply(live, empty, "alice")
    assert live["data"] == {"k": "v", "other": "x"}  # bob still owns k
    live = apply(live, {**cm, "data": {}}, "bob")
    assert live["data"] == {"other": "x"}
    assert list(_entries(live)) == ["alice"]


def test_list_map_items_merge_by_key() -> None:
    ports = [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}]
    cfg = _deployment(containers=[{"name": "c", "image": "nginx:1", "ports": ports}])
    live = _stored(_apply(None, cfg))
    # Another writer adds a sidecar and a TCP port 53 next to the UDP one.
    edited = copy.deepcopy(live)
    containers = edited["spec"]["template"]["spec"]["containers"]
    containers[0]["ports"].append({"containerPort": 53, "protocol": "TCP"})
    containers.insert(0, {"name": "sidecar", "image": "envoy"})
    live = _update(live, edited, "injector")
    assert _owned(live, "injector")["f:spec"]["f:template"]["f:spec"]["f:containers"] == {
        'k:{"name":"sidecar"}': {".": {}, "f:image": {}, "f:name": {}, "f:resources": {}},
        C: {
            "f:ports": {
                'k:{"containerPort":53,"protocol":"TCP"}': {
                    ".": {},
                    "f:containerPort": {},
                    "f:protocol": {},
                }
            }
        },
    }
    new_ports = [{"containerPort": 80, "name": "http"}, {"containerPort": 53, "protocol": "UDP"}]
    obj = _apply(
        live,
        _deployment(containers=[{"name": "c", "image": "nginx:2", "ports": new_ports}]),
        now=T3,
    )
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["sidecar", "c"]
    assert containers[1]["image"] == "nginx:2"
    assert containers[1]["ports"] == [
        {"containerPort": 80, "name": "http"},
        {"containerPort": 53, "protocol": "UDP"},
        {"containerPort": 53, "protocol": "TCP"},
    ]


def test_update_moves_ownership_to_the_writer() -> None:
    live = _stored(_apply(None, _deployment()))
    edited = copy.deepcopy(live)
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    edited["metadata"]["labels"]["tier"] = "front"
    updated = _update(live, edited, "kubectl-set", now=T2)
    assert _owned(updated, "kubectl-set") == {
        "f:metadata": {"f:labels": {"f:tier": {}}},
        "f:spec": {"f:template": {"f:spec": {"f:containers": {C: {"f:image": {}}}}}},
    }
    assert (
        "f:image"
        not in _owned(updated, "kubectl")["f:spec"]["f:template"]["f:spec"]["f:containers"][C]
    )
    assert _entries(updated)["kubectl-set"]["time"] == T2
    assert _entries(updated)["kubectl"]["time"] == T1
    # A write by the same manager that changes nothing keeps its timestamp.
    assert _update(updated, copy.deepcopy(updated), "kubectl-set", now=T3) == updated
    # Applying the old image again now conflicts with the new owner.
    with pytest.raises(ApplyConflict) as info:
        _apply(_stored(updated), _deployment(), now=T3)
    assert [c.field for c in info.value.conflicts] == [
        '.spec.template.spec.containers[name="c"].image'
    ]


def test_update_entries_track_create_and_removals() -> None:
    created = _update(None, _deployment(), "kubectl-create", now=T1)
    fields = _owned(created, "kubectl-create")
    # As upstream diffs Go objects: new maps and items are owned with ".", a new container's
    # (always serialised) resources as an empty leaf; metadata.name never.
    assert fields["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}
    assert fields["f:spec"]["f:template"]["f:spec"]["f:containers"] == {
        C: {".": {}, "f:image": {}, "f:name": {}, "f:resources": {}}
    }
    assert set(fields["f:spec"]) == {"f:replicas", "f:selector", "f:template"}
    less = copy.deepcopy(created)
    del less["metadata"]["labels"]
    removed = _update(created, less, "someone-else", now=T2)
    assert "f:metadata" not in _owned(removed, "kubectl-create")
    assert "someone-else" not in _entries(removed)  # removing fields owns nothing


def test_request_managed_fields_replace_or_reset_stored_ones() -> None:
    live = _stored(_apply(None, _deployment()))
    reset = copy.deepcopy(live)
    reset["metadata"]["managedFields"] = [{}]
    assert "managedFields" not in _update(live, reset, "x")["metadata"]
    on_status = _update(live, reset, "x", subresource="status")
    assert on_status["metadata"]["managedFields"] == live["metadata"]["managedFields"]
    garbage = copy.deepcopy(live)
    garbage["metadata"]["managedFields"] = [{"operation": "Nope"}]
    assert (
        _update(live, garbage, "x")["metadata"]["managedFields"]
        == live["metadata"]["managedFields"]
    )


def test_kubectl_takes_over_from_client_side_apply() -> None:
    cfg = _deployment(replicas=2)
    annotated = copy.deepcopy(cfg)
    annotated["metadata"]["annotations"] = {LAST_APPLIED: orjson.dumps(cfg).decode()}
    live = _stored(_update(None, annotated, "kubectl-client-side-apply"))
    # Same fields, new values: taken over without --force-conflicts...
    obj = _apply(live, _deployment(replicas=4), now=T2)
    assert obj["spec"]["replicas"] == 4
    assert "f:replicas" not in _owned(obj, "kubectl-client-side-apply")["f:spec"]
    synced = orjson.loads(obj["metadata"]["annotations"][LAST_APPLIED])
    assert synced["spec"]["replicas"] == 4
    assert obj["metadata"]["annotations"][LAST_APPLIED].endswith("\n")
    # ...unless someone changed the field since the last client-side apply.
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 7
    scaled = _update(live, scaled, "kubectl-client-side-apply", now=T2)
    with pytest.raises(ApplyConflict) as info:
        _apply(scaled, _deployment(replicas=4), now=T3)
    assert str(info.value) == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using '
        "apps/v1: .spec.replicas"
    )
    # Other managers get no such help.
    with pytest.raises(ApplyConflict):
        _apply(live, _deployment(replicas=4), manager="helm", now=T2)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["metadata"].update(managedFields=[]), "metadata.managedFields must be nil"),
        (lambda c: c.update(kind="StatefulSet"), "invalid object type: apps/v1, Kind=StatefulSet"),
        (
            lambda c: c["spec"]["template"]["spec"]["containers"].append({"name": "c"}),
            "failed to create typed patch object (apps/v1, Kind=Deployment): "
            '.spec.template.spec.containers: duplicate entries for key [name="c"]',
        ),
        (
            lambda c: c["spec"]["template"]["spec"]["containers"].append({"image": "x"}),
            "failed to create typed patch object (apps/v1, Kind=Deployment): "
            ".spec.template.spec.containers: element 1: associative list with keys has an "
            'element that omits key field "name" (and doesn\'t have default value)',
        ),
    ],
)
def test_bad_configurations(change: Any, message: str) -> None:
    live = _stored(_apply(None, _deployment()))
    cfg = _deployment()
    change(cfg)
    with pytest.raises(ApplyError) as info:
        _apply(live, cfg)
    assert str(info.value) == message


def test_inputs_are_never_mutated() -> None:
    live = _stored(_apply(None, _deployment()))
    cfg = _deployment(replicas=3, containers=[{"name": "d", "image": "busybox"}])
    live_before, cfg_before = copy.deepcopy(live), copy.deepcopy(cfg)
    obj = _apply(live, cfg, force=True, now=T2)
    obj["spec"]["selector"]["matchLabels"]["x"] = "y"
    assert live == live_before and cfg == cfg_before


def test_set_lists_union_across_appliers_and_free_form_objects() -> None:
    def cm(finalizers: list[str]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "finalizers": finalizers},
        }

    live = server_side_apply(None, cm(["a/x", "a/y"]), CONFIGMAP, manager="a", force=False, now=T1)
    live = server_side_apply(live, cm(["b/z", "a/x"]), CONFIGMAP, manager="b", force=False, now=T1)
    assert live["metadata"]["finalizers"] == ["b/z", "a/x", "a/y"]
    live = server_side_apply(live, cm([]), CONFIGMAP, manager="a", force=False, now=T2)
    assert live["metadata"]["finalizers"] == ["b/z", "a/x"]  # b still holds a/x

    # Without a schema (custom resources): objects merge by key, lists are replaced.
    cr = {
        "apiVersion": "x.io/v1",
        "kind": "Thing",
        "metadata": {"name": "t"},
        "spec": {"a": {"b": 1}, "list": [1, 2]},
    }
    obj = server_side_apply(None, cr, None, manager="op", force=False, now=T1)
    # Every entry of a schemaless object is owned itself too ("."), as upstream deduces.
    assert _owned(obj, "op") == {"f:spec": {".": {}, "f:a": {".": {}, "f:b": {}}, "f:list": {}}}
    other = {**cr, "spec": {"a": {"c": 2}, "list": [3]}}
    with pytest.raises(ApplyConflict):
        server_side_apply(obj, other, None, manager="me", force=False, now=T2)
    merged = server_side_apply(obj, other, None, manager="me", force=True, now=T2)
    assert merged["spec"] == {"a": {"b": 1, "c": 2}, "list": [3]}


_names = st.sampled_from(["a", "b", "c", "d"])
_config = st.fixed_dictionaries(
    {
        "data": st.dictionaries(_names, st.sampled_from(["1", "2"]), max_size=3),
        "labels": st.dictionaries(_names, st.sampled_from(["x", "y"]), max_size=3),
        "finalizers": st.lists(_names, unique=True, max_size=3),
    }
)


def _configmap(c: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "c"}
    if c["labels"]:
        meta["labels"] = c["labels"]
    if c["finalizers"]:
        meta["finalizers"] = [f"x/{f}" for f in c["finalizers"]]
    out = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
    if c["data"]:
        out["data"] = c["data"]
    return out


@settings(max_examples=120, deadline=None)
@given(_config, _config, _config)
def test_a_sole_applier_gets_exactly_its_configuration(a: Any, b: Any, c: Any) -> None:
    live = None
    for step in (a, b, c):
        cfg = _configmap(step)
        live = server_side_apply(live, cfg, CONFIGMAP, manager="only", force=False, now=T1)
        assert {k: v for k, v in live.items() if k != "metadata"} == {
            k: v for k, v in cfg.items() if k != "metadata"
        }
        meta = {k: v for k, v in live["metadata"].items() if k != "managedFields"}
        assert meta == cfg["metadata"]
        again = server_side_apply(live, cfg, CONFIGMAP, manager="only", force=False, now=T2)
        assert again == live


def test_status_writes_are_recorded_per_subresource() -> None:
    live = _stored(_apply(None, _deployment()))
    new = copy.deepcopy(live)
    new["status"] = {"replicas": 2, "readyReplicas": 2}
    new["spec"]["replicas"] = 9  # a status write cannot change spec: never owned through it
    status_reset = reset_fields("status", has_status=True)
    obj = update_managed_fields(
        live,
        new,
        DEPLOYMENT,
        manager="controller",
        now=T2,
        subresource="status",
        ignore=status_reset,
    )
    entry = _entries(obj)["controller"]
    assert entry["subresource"] == "status"
    # status is a Go value struct: never "added" itself, only its fields.
    assert entry["fieldsV1"] == {"f:status": {"f:readyReplicas": {}, "f:replicas": {}}}
    assert "f:replicas" in _owned(obj, "kubectl")["f:spec"]
