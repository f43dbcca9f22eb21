"""Creating strategic merge patches, and properties of create + apply on Deployments."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kybernetes.api import (
    SchemaNode,
    apply_merge_patch,
    apply_strategic_merge_patch,
    create_merge_patch,
    create_strategic_merge_patch,
    load_schema,
)


def _schema(group: str, version: str, kind: str) -> SchemaNode:
    node = load_schema().for_kind(group, version, kind)
    assert node is not None
    return node


POD = _schema("", "v1", "Pod")
DEPLOYMENT = _schema("apps", "v1", "Deployment")


def _round_trip(original: dict[str, Any], modified: dict[str, Any], node: SchemaNode) -> Any:
    patch = create_strategic_merge_patch(original, modified, node)
    assert apply_strategic_merge_patch(original, patch, node) == modified
    return patch


# -- create: the shapes kubectl produces ----------------------------------------------------------


def test_create_reorder_emits_set_element_order_only() -> None:
    original = {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    modified = {"spec": {"containers": [{"name": "b"}, {"name": "a"}]}}
    patch = _round_trip(original, modified, POD)
    assert patch == {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}


def test_create_removed_element_and_field() -> None:
    original = {
        "metadata": {"name": "p", "labels": {"a": "1"}},
        "spec": {
            "containers": [
                {"name": "a", "image": "x", "env": [{"name": "E", "value": "1"}]},
                {"name": "b"},
            ]
        },
    }
    modified = {
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "a", "image": "y", "env": [{"name": "E"}]}]},
    }
    patch = _round_trip(original, modified, POD)
    assert patch == {
        "metadata": {"labels": None},
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "containers": [
                {
                    "name": "a",
                    "image": "y",
                    "$setElementOrder/env": [{"name": "E"}],
                    "env": [{"name": "E", "value": None}],
                },
                {"name": "b", "$patch": "delete"},
            ],
        },
    }


def test_create_primitive_merge_list() -> None:
    original = {"metadata": {"finalizers": ["a", "b", "c"]}}
    modified = {"metadata": {"finalizers": ["c", "a", "d"]}}
    patch = _round_trip(original, modified, POD)
    assert patch == {
        "metadata": {
            "finalizers": ["d"],
            "$deleteFromPrimitiveList/finalizers": ["b"],
            "$setElementOrder/finalizers": ["c", "a", "d"],
        }
    }


def test_create_retain_keys_for_strategy_and_volumes() -> None:
    original = {
        "spec": {
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {"spec": {"volumes": [{"name": "v", "emptyDir": {}}]}},
        }
    }
    modified = {
        "spec": {
            "strategy": {"type": "Recreate"},
            "template": {"spec": {"volumes": [{"name": "v", "hostPath": {"path": "/x"}}]}},
        }
    }
    patch = _round_trip(original, modified, DEPLOYMENT)
    assert patch["spec"]["strategy"] == {
        "type": "Recreate",
        "rollingUpdate": None,
        "$retainKeys": ["type"],
    }
    volume = patch["spec"]["template"]["spec"]["volumes"][0]
    assert volume == {
        "name": "v",
        "hostPath": {"path": "/x"},
        "emptyDir": None,
        "$retainKeys": ["hostPath", "name"],
    }


def test_create_atomic_list_sent_whole() -> None:
    original = {"spec": {"tolerations": [{"key": "a"}, {"key": "b"}]}}
    modified = {"spec": {"tolerations": [{"key": "a"}]}}
    assert _round_trip(original, modified, POD) == {"spec": {"tolerations": [{"key": "a"}]}}


def test_create_identical_is_empty() -> None:
    obj = {"metadata": {"finalizers": ["a"]}, "spec": {"containers": [{"name": "a"}]}}
    assert create_strategic_merge_patch(obj, copy.deepcopy(obj), POD) == {}


# -- properties on Deployment-shaped objects -------------------------------------------------------

_small_text = st.sampled_from(["", "x", "y"])
_plain = st.recursive(
    st.booleans() | st.integers(-3, 3) | _small_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_small_text, inner, max_size=3),
    max_leaves=8,
)
_string_map = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.sampled_from(["1", "2"]))


def _unique_list(elements: st.SearchStrategy[Any], key: str) -> st.SearchStrategy[list[Any]]:
    return st.lists(elements, max_size=3, unique_by=lambda e: e[key])


_port = st.fixed_dictionaries(
    {"containerPort": st.sampled_from([80, 443, 8080])},
    optional={"protocol": st.sampled_from(["TCP", "UDP"]), "name": st.sampled_from(["h", "t"])},
)
_env = st.fixed_dictionaries(
    {"name": st.sampled_from(["A", "B", "C"])}, optional={"value": st.sampled_from(["1", "2"])}
)
_container = st.fixed_dictionaries(
    {"name": st.sampled_from(["a", "b", "c", "d"])},
    optional={
        "image": st.sampled_from(["nginx", "busybox"]),
        "args": st.lists(_small_text, max_size=2),
        "ports": _unique_list(_port, "containerPort"),
        "env": _unique_list(_env, "name"),
        "resources": st.dictionaries(st.sampled_from(["limits", "requests"]), _string_map),
    },
)
_volume = st.fixed_dictionaries(
    {"name": st.sampled_from(["v1", "v2", "v3"])},
    optional={
        "emptyDir": st.fixed_dictionaries({}, optional={"medium": st.just("Memory")}),
        "hostPath": st.fixed_dictionaries({"path": st.sampled_from(["/a", "/b"])}),
        "configMap": st.fixed_dictionaries({"name": st.sampled_from(["c1", "c2"])}),
    },
)
_toleration = st.fixed_dictionaries(
    {}, optional={"key": st.sampled_from(["k1", "k2"]), "operator": st.just("Exists")}
)
_owner = st.fixed_dictionaries(
    {"uid": st.sampled_from(["u1", "u2", "u3"])},
    optional={"name": st.sampled_from(["o1", "o2"]), "controller": st.booleans()},
)
_metadata = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["web", "db"]),
        "labels": _string_map,
        "annotations": _string_map,
        "finalizers": st.lists(st.sampled_from(["f1", "f2", "f3", "f4"]), max_size=4, unique=True),
        "ownerReferences": _unique_list(_owner, "uid"),
    },
)
_pod_spec = st.fixed_dictionaries(
    {},
    optional={
        "containers": _unique_list(_container, "name"),
        "initContainers": _unique_list(_container, "name"),
        "volumes": _unique_list(_volume, "name"),
        "tolerations": st.lists(_toleration, max_size=2),
        "nodeSelector": _string_map,
        "restartPolicy": st.sampled_from(["Always", "Never"]),
        "unknownField": _plain,
    },
)
_strategy = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["Recreate", "RollingUpdate"]),
        "rollingUpdate": st.fixed_dictionaries(
            {}, optional={"maxSurge": st.integers(0, 2) | st.just("25%")}
        ),
    },
)
_deployments = st.fixed_dictionaries(
    {"apiVersion": st.just("apps/v1"), "kind": st.just("Deployment")},
    optional={
        "metadata": _metadata,
        "spec": st.fixed_dictionaries(
            {},
            optional={
                "replicas": st.integers(0, 3),
                "strategy": _strategy,
                "template": st.fixed_dictionaries(
                    {}, optional={"metadata": _metadata, "spec": _pod_spec}
                ),
            },
        ),
        "status": _plain,
    },
)


_MERGE_KEYS = ("name", "containerPort", "uid")


def _list_key(values: list[Any]) -> str | None:
    """The merge key every element carries, "" for primitives, None for anything else."""
    if all(not isinstance(v, dict | list) for v in values):
        return ""
    for key in _MERGE_KEYS:
        if all(isinstance(v, dict) and key in v for v in values):
            return key
    return None


def _blend(data: st.DataObject, a: Any, b: Any) -> Any:
    """A value between ``a`` (the original) and ``b`` (another object of the same shape):
    fields kept, changed, dropped or added, list elements kept, edited, dropped, added and
    reordered. This reaches the interesting diffs far more often than unrelated objects."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: dict[str, Any] = {}
        for key in [*a, *(k for k in b if k not in a)]:
            choice = data.draw(st.sampled_from(["a", "a", "blend", "b", "drop"]))
            if choice == "blend" and key in a and key in b:
                out[key] = _blend(data, a[key], b[key])
            elif choice in ("a", "blend") and key in a:
                out[key] = a[key]
            elif choice == "b" and key in b:
                out[key] = b[key]
        return out
    if isinstance(a, list) and isinstance(b, list):
        key = _list_key(a + b)
        if key is None:
            return data.draw(st.sampled_from([a, b]))
        pool: dict[str, list[Any]] = {}
        for value in a + b:
            pool.setdefault(repr(value[key] if key else value), []).append(value)
        names = data.draw(st.lists(st.sampled_from(sorted(pool)), unique=True)) if pool else []
        out_list: list[Any] = []
        for name in data.draw(st.permutations(names)):
            options = pool[name]
            if len(options) == 2 and data.draw(st.booleans()):
                blended = _blend(data, options[0], options[1])
                # An element never loses its merge key: that is the precondition of
                # creating a strategic merge patch (upstream's too).
                if key:
                    blended[key] = options[0][key]
                out_list.append(blended)
            else:
                out_list.append(data.draw(st.sampled_from(options)))
        return out_list
    return data.draw(st.sampled_from([a, b]))


@settings(max_examples=400, deadline=None)
@given(original=_deployments, other=_deployments, data=st.data())
def test_strategic_round_trip(
    original: dict[str, Any], other: dict[str, Any], data: st.DataObject
) -> None:
    modified = _blend(data, original, other)
    before = copy.deepcopy((original, modified))
    patch = create_strategic_merge_patch(original, modified, DEPLOYMENT)
    patch_before = copy.deepcopy(patch)
    assert apply_strategic_merge_patch(original, patch, DEPLOYMENT) == modified
    assert (original, modified, patch) == (*before, patch_before)
    # The same holds after a JSON merge patch round trip (no list semantics at all).
    assert apply_merge_patch(original, create_merge_patch(original, modified)) == modified


@settings(max_examples=200, deadline=None)
@given(doc=_deployments)
def test_empty_patch_is_identity(doc: dict[str, Any]) -> None:
    assert apply_strategic_merge_patch(doc, {}, DEPLOYMENT) == doc
    assert create_strategic_merge_patch(doc, doc, DEPLOYMENT) == {}


# Patches without directives and without nulls inside lists: on content no schema describes,
# a strategic merge patch must do exactly what a JSON merge patch does.
_no_null = _plain
_patch_values = st.recursive(
    st.none() | _no_null,
    lambda inner: st.dictionaries(_small_text, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    doc=st.dictionaries(_small_text, _plain | st.none(), max_size=4),
    patch=st.dictionaries(_small_text, _patch_values, max_size=4),
)
def test_schemaless_strategic_patch_is_merge_patch(
    doc: dict[str, Any], patch: dict[str, Any]
) -> None:
    before = copy.deepcopy((doc, patch))
    assert apply_strategic_merge_patch(doc, patch, None) == apply_merge_patch(doc, patch)
    assert (doc, patch) == before


def test_create_replace_strategy_map_sent_whole() -> None:
    pdb = _schema("policy", "v1", "PodDisruptionBudget")
    original = {"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}}}}
    modified = {"spec": {"selector": {"matchLabels": {"a": "1"}}}}
    assert _round_trip(original, modified, pdb) == {
        "spec": {"selector": {"matchLabels": {"a": "1"}}}
    }
