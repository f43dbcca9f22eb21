"""JSON patch (RFC 6902) and JSON merge patch (RFC 7386)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kybernetes.api import PatchError, apply_json_patch, apply_merge_patch, create_merge_patch

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
}


# -- JSON patch ------------------------------------------------------------------------------


def test_json_patch_operations_apply_in_order() -> None:
    ops = [
        {"op": "test", "path": "/metadata/name", "value": "web"},
        {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
        {"op": "replace", "path": "/spec/containers/0/image", "value": "nginx:2"},
        {"op": "add", "path": "/spec/containers/-", "value": {"name": "d", "image": "busybox"}},
        {"op": "copy", "from": "/metadata/labels", "path": "/metadata/annotations"},
        {"op": "move", "from": "/metadata/labels/app", "path": "/metadata/labels/name"},
        {"op": "remove", "path": "/metadata/annotations/tier"},
    ]
    out = apply_json_patch(POD, ops)
    assert out["metadata"] == {
        "name": "web",
        "labels": {"tier": "front", "name": "web"},
        "annotations": {"app": "web"},
    }
    assert out["spec"]["containers"] == [
        {"name": "c", "image": "nginx:2"},
        {"name": "d", "image": "busybox"},
    ]


def test_json_patch_never_mutates_inputs_and_shares_nothing() -> None:
    doc = copy.deepcopy(POD)
    value = {"name": "d", "image": "busybox"}
    ops = [
        {"op": "add", "path": "/spec/containers/-", "value": value},
        {"op": "add", "path": "/spec/containers/1/image", "value": "alpine"},
    ]
    ops_before = copy.deepcopy(ops)
    out = apply_json_patch(doc, ops)
    assert doc == POD
    assert ops == ops_before
    assert value == {"name": "d", "image": "busybox"}
    out["metadata"]["labels"]["x"] = "y"
    assert "x" not in doc["metadata"]["labels"]


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        (
            [{"op": "test", "path": "/metadata/name", "value": "db"}],
            "testing value /metadata/name failed: test failed",
        ),
        (
            [{"op": "test", "path": "/metadata/nope", "value": 1}],
            "testing value /metadata/nope failed: test failed",
        ),
        (
            [{"op": "test", "path": "/nope/deeper", "value": 1}],
            "test operation does not apply: is missing path: /nope/deeper",
        ),
        (
            [{"op": "remove", "path": "/metadata/nope"}],
            "Unable to remove nonexistent key: /metadata/nope: missing value",
        ),
        (
            [{"op": "replace", "path": "/spec/nope", "value": 1}],
            "replace operation does not apply: doc is missing key: /spec/nope",
        ),
        (
            [{"op": "add", "path": "/spec/a/b", "value": 1}],
            'add operation does not apply: doc is missing path: "/spec/a/b"',
        ),
        (
            [{"op": "move", "from": "/spec/nope", "path": "/spec/x"}],
            "move operation does not apply: doc is missing from path: /spec/nope",
        ),
        (
            [{"op": "remove", "path": "/spec/containers/5"}],
            "invalid index referenced: /spec/containers/5",
        ),
        ([{"op": "frobnicate", "path": "/a"}], "Unexpected kind: frobnicate"),
        ([{"path": "/a"}], "Unexpected kind: <missing>"),
    ],
)
def test_json_patch_failures_say_what_failed(ops: list[Any], message: str) -> None:
    with pytest.raises(PatchError) as info:
        apply_json_patch(POD, ops)
    assert message in str(info.value)
    assert not info.value.malformed


def test_json_patch_test_op_is_json_equality() -> None:
    doc = {"a": 1, "b": True}
    assert apply_json_patch(doc, [{"op": "test", "path": "/a", "value": 1.0}]) == doc
    assert apply_json_patch(doc, [{"op": "test", "path": "/missing", "value": None}]) == doc
    with pytest.raises(PatchError, match="testing value /b failed"):
        apply_json_patch(doc, [{"op": "test", "path": "/b", "value": 1}])


def test_json_patch_malformed_documents() -> None:
    with pytest.raises(PatchError) as info:
        apply_json_patch(POD, {"op": "add"})  # type: ignore[arg-type]
    assert info.value.malformed
    with pytest.raises(PatchError, match="not an object"):
        apply_json_patch(POD, ["add"])
    with pytest.raises(PatchError, match="not a JSON object"):
        apply_json_patch(POD, [{"op": "replace", "path": "", "value": [1]}])


def test_json_patch_failure_leaves_input_alone() -> None:
    doc = copy.deepcopy(POD)
    ops = [
        {"op": "add", "path": "/metadata/labels/x", "value": "1"},
        {"op": "test", "path": "/metadata/name", "value": "other"},
    ]
    with pytest.raises(PatchError):
        apply_json_patch(doc, ops)
    assert doc == POD


# -- JSON merge patch ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "patch", "result"),
    [
        # The examples of RFC 7386 appendix A, among others.
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_rfc_examples(doc: Any, patch: Any, result: Any) -> None:
    assert apply_merge_patch(doc, patch) == result


def test_merge_patch_cordon_and_label_shapes() -> None:
    node = {"metadata": {"name": "n1", "labels": {"a": "1", "b": "2"}}, "spec": {}}
    out = apply_merge_patch(node, {"spec": {"unschedulable": True}})
    assert out["spec"] == {"unschedulable": True}
    out = apply_merge_patch(node, {"metadata": {"labels": {"a": None, "c": "3"}}})
    assert out["metadata"]["labels"] == {"b": "2", "c": "3"}


def test_create_merge_patch_is_minimal() -> None:
    original = {"a": {"b": 1, "c": [1, 2]}, "d": "x", "gone": True}
    modified = {"a": {"b": 1, "c": [2]}, "d": "x", "new": {"k": "v"}}
    assert create_merge_patch(original, modified) == {
        "a": {"c": [2]},
        "new": {"k": "v"},
        "gone": None,
    }
    assert create_merge_patch(original, original) == {}
    assert create_merge_patch({"a": 1}, {"a": True}) == {"a": True}


# -- properties ------------------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "a", "b"])
_keys = st.sampled_from(["a", "b", "c", "d"])


def _json(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        values,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4),
        max_leaves=12,
    )


# A merge patch cannot express "set to null", so documents to reach hold no null members.
_no_null_values = _json(st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "a", "b"]))
_docs = st.dictionaries(_keys, _no_null_values, max_size=4)


@settings(max_examples=200, deadline=None)
@given(original=_docs, modified=_docs)
def test_merge_patch_round_trip(original: dict[str, Any], modified: dict[str, Any]) -> None:
    before = copy.deepcopy((original, modified))
    patch = create_merge_patch(original, modified)
    assert apply_merge_patch(original, patch) == modified
    assert (original, modified) == before


@settings(max_examples=200, deadline=None)
@given(doc=_json(_scalars), patch=_json(_scalars))
def test_merge_patch_identity_and_no_mutation(doc: Any, patch: Any) -> None:
    before = copy.deepcopy((doc, patch))
    if isinstance(doc, dict):
        assert apply_merge_patch(doc, {}) == doc
    result = apply_merge_patch(doc, patch)
    assert (doc, patch) == before
    # Applying the same patch again changes nothing (merge patches are idempotent).
    assert apply_merge_patch(result, patch) == result
