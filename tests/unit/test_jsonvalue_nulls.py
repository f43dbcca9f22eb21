"""drop_nulls: what the API server stores after a patch leaves explicit nulls behind."""

from __future__ import annotations

from kybernetes.api._jsonvalue import drop_nulls


def test_nulls_inside_list_elements_are_dropped() -> None:
    obj = {"spec": {"ports": [{"port": 80, "nodePort": None}, {"port": 81}]}, "a": None}
    assert drop_nulls(obj) == {"spec": {"ports": [{"port": 80}, {"port": 81}]}}
    # The input is untouched.
    assert obj["spec"]["ports"][0] == {"port": 80, "nodePort": None}


def test_no_nulls_returns_the_same_object() -> None:
    obj = {"spec": {"ports": [{"port": 80}], "x": [1, "a", [2]]}}
    assert drop_nulls(obj) is obj


def test_null_list_elements_are_kept() -> None:
    assert drop_nulls({"args": [None, "a"]}) == {"args": [None, "a"]}
