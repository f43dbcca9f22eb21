"""Field sets (FieldsV1), managedFields encoding, and the field-manager helpers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kybernetes.api import SchemaNode, load_schema
from kybernetes.api._fieldpath import FieldSet, FieldsV1Error, Path, path_string
from kybernetes.api._managedfields import (
    ManagedFieldsError,
    cap_update_managers,
    decode_managed_fields,
    default_manager,
    encode_managed_fields,
    revert_managed_fields_timestamps,
)
from kybernetes.api._ssa_schema import shape_of
from kybernetes.api._ssa_walk import to_trie


def _node(group: str, version: str, kind: str) -> SchemaNode:
    node = load_schema().for_kind(group, version, kind)
    assert node is not None
    return node


POD = _node("", "v1", "Pod")
PORT80 = 'k:{"containerPort":80,"protocol":"TCP"}'


def _fields(obj: dict[str, Any], node: SchemaNode = POD) -> dict[str, Any]:
    return FieldSet(to_trie(obj, shape_of(node))).to_fields_v1()


def test_field_set_of_a_pod_follows_list_semantics() -> None:
    pod = {
        "metadata": {"name": "p", "labels": {"app": "web"}, "finalizers": ["a/b"]},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "nginx",
                    "args": ["x", "y"],
                    "ports": [{"containerPort": 80}],
                }
            ],
            "nodeSelector": {"disk": "ssd"},
            "affinity": {"nodeAffinity": {}},
        },
    }
    assert _fields(pod) == {
        "f:metadata": {
            "f:finalizers": {'v:"a/b"': {}},
            "f:labels": {"f:app": {}},
            "f:name": {},
        },
        "f:spec": {
            # An empty granular struct owns nothing; an atomic list is one leaf; ports are
            # keyed with the schema's default protocol.
            "f:containers": {
                'k:{"name":"c"}': {
                    ".": {},
                    "f:args": {},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": {PORT80: {".": {}, "f:containerPort": {}}},
                }
            },
            "f:nodeSelector": {},  # x-kubernetes-map-type: atomic
        },
    }


def test_fields_v1_round_trip_canonicalises_keys() -> None:
    raw = {
        "f:spec": {
            "f:containers": {
                'k:{ "name" : "c" }': {".": {}, "f:image": {}},
                'k:{"name":"a"}': {".": {}},
            }
        }
    }
    fs = FieldSet.from_fields_v1(raw)
    assert fs.to_fields_v1() == {
        "f:spec": {
            "f:containers": {'k:{"name":"a"}': {}, 'k:{"name":"c"}': {".": {}, "f:image": {}}}
        }
    }
    assert ("f:spec", "f:containers", 'k:{"name":"c"}') in fs
    assert ("f:spec", "f:containers") not in fs
    assert [path_string(p) for p in fs.paths()] == [
        '.spec.containers[name="a"]',
        '.spec.containers[name="c"]',
        '.spec.containers[name="c"].image',
    ]


@pytest.mark.parametrize(
    "bad", [[], {"x:y": {}}, {"f:a": []}, {"k:notjson": {}}, {"f:a": {".": 1}}]
)
def test_malformed_fields_v1_is_rejected(bad: Any) -> None:
    with pytest.raises(FieldsV1Error):
        FieldSet.from_fields_v1(bad)


def test_set_operations() -> None:
    a = FieldSet.from_paths([("f:a", "f:b"), ("f:a", "f:c"), ("f:d",)])
    b = FieldSet.from_paths([("f:a", "f:c"), ("f:a",), ("f:e",)])
    assert (a | b).paths() == [("f:a",), ("f:a", "f:b"), ("f:a", "f:c"), ("f:d",), ("f:e",)]
    assert (a - b).paths() == [("f:a", "f:b"), ("f:d",)]
    assert (a & b).paths() == [("f:a", "f:c")]
    # A member of the other set takes everything below it along.
    assert a.recursive_difference(FieldSet.from_paths([("f:a",)])).paths() == [("f:d",)]
    assert (a - a).is_empty()
    assert a == FieldSet.from_fields_v1({"f:d": {}, "f:a": {"f:c": {}, "f:b": {}}})


def test_path_strings_match_upstream() -> None:
    path = ("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}', "f:name")
    assert path_string(path) == '.spec.ports[port=80,protocol="TCP"].name'
    assert path_string(("f:metadata", "f:finalizers", 'v:"x"')) == '.metadata.finalizers[="x"]'


def _entry(manager: str, op: str, time: str, **fields: Any) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": op,
        "apiVersion": "v1",
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields or {"f:data": {"f:" + manager: {}}},
    }


def test_managed_fields_are_sorted_and_empty_entries_dropped() -> None:
    entries = [
        _entry("b", "Update", "2024-01-02T00:00:00Z"),
        _entry("a", "Update", "2024-01-02T00:00:00Z"),
        _entry("z", "Apply", "2024-01-03T00:00:00Z"),
        _entry("c", "Update", "2024-01-01T00:00:00Z"),
        {**_entry("empty", "Update", "2024-01-01T00:00:00Z"), "fieldsV1": {}},
    ]
    encoded = encode_managed_fields(decode_managed_fields(entries))
    assert encoded is not None
    assert [e["manager"] for e in encoded] == ["z", "c", "a", "b"]
    assert encoded[0] == _entry("z", "Apply", "2024-01-03T00:00:00Z")


@pytest.mark.parametrize(
    "entry",
    [
        {"operation": "Patch", "apiVersion": "v1", "fieldsType": "FieldsV1"},
        {"operation": "Update", "apiVersion": "", "fieldsType": "FieldsV1"},
        {"operation": "Update", "apiVersion": "v1"},
        {"operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV2"},
        {"operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": []},
    ],
)
def test_undecodable_managed_fields(entry: dict[str, Any]) -> None:
    with pytest.raises(ManagedFieldsError):
        decode_managed_fields([entry])


def test_more_than_ten_updaters_fold_into_ancient_changes() -> None:
    entries = [_entry(f"m{i:02d}", "Update", f"2024-01-{i + 1:02d}T00:00:00Z") for i in range(12)]
    managers = decode_managed_fields(entries)
    cap_update_managers(managers)
    encoded = encode_managed_fields(managers) or []
    names = [e["manager"] for e in encoded]
    assert len(names) == 10
    assert "m00" not in names and "m01" not in names and "m02" not in names
    bucket = next(e for e in encoded if e["manager"] == "ancient-changes")
    # The three oldest entries' fields survive in the bucket, with the newest one's time.
    assert bucket["fieldsV1"] == {"f:data": {"f:m00": {}, "f:m01": {}, "f:m02": {}}}
    assert bucket["time"] == "2024-01-03T00:00:00Z"


@pytest.mark.parametrize(
    ("agent", "manager"),
    [
        ("kubectl/v1.33.0 (linux/amd64) kubernetes/abcdef", "kubectl"),
        ("OpenAPI-Generator/33.1.0/python", "OpenAPI-Generator"),
        ("kube-controller-manager/v1.33.0", "kube-controller-manager"),
        ("", ""),
        (None, ""),
        ("a\tb/1", "ab"),
        ("x" * 200, "x" * 128),
    ],
)
def test_default_manager_from_user_agent(agent: str | None, manager: str) -> None:
    assert default_manager(agent) == manager


def test_revert_timestamps_only_when_nothing_else_changed() -> None:
    old = {"metadata": {"name": "a", "managedFields": [_entry("m", "Update", "T1")]}, "data": {}}
    same = {"metadata": {"name": "a", "managedFields": [_entry("m", "Update", "T2")]}, "data": {}}
    assert (
        revert_managed_fields_timestamps(same, old)["metadata"]["managedFields"][0]["time"] == "T1"
    )
    changed = {**same, "data": {"k": "v"}}
    assert revert_managed_fields_timestamps(changed, old) is changed


_paths = st.sets(
    st.lists(st.sampled_from(["f:a", "f:b", 'k:{"n":1}', 'v:"x"']), min_size=1, max_size=3).map(
        tuple
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(_paths, _paths)
def test_set_operations_agree_with_sets_of_paths(a: set[Path], b: set[Path]) -> None:
    fa, fb = FieldSet.from_paths(a), FieldSet.from_paths(b)
    assert set(fa.paths()) == a
    assert set((fa | fb).paths()) == a | b
    assert set((fa - fb).paths()) == a - b
    assert set((fa & fb).paths()) == a & b
    below_b = {p for p in a if any(p[:i] in b for i in range(1, len(p) + 1))}
    assert set(fa.recursive_difference(fb).paths()) == a - below_b
    assert FieldSet.from_fields_v1((fa | fb).to_fields_v1()) == fa | fb
    # Nothing to add or take away: the very same trie comes back (encoding reuses it).
    assert (fa | FieldSet()).trie is fa.trie
    assert (fa - FieldSet.from_paths(b - a)).trie is fa.trie
