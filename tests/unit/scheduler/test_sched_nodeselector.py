"""Node selector terms: operators, fields, and the errors bad terms give."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.scheduler._nodeselector import (
    AffinityError,
    NodeSelector,
    parse_preferred_terms,
    parse_required_node_affinity,
)

LABELS = {"zone": "a", "gen": "5", "disk": "ssd"}


def _sel(*exprs: dict[str, Any], fields: list[dict[str, Any]] | None = None) -> NodeSelector:
    term: dict[str, Any] = {"matchExpressions": list(exprs)}
    if fields is not None:
        term["matchFields"] = fields
    return NodeSelector.parse({"nodeSelectorTerms": [term]}, "t")


@pytest.mark.parametrize(
    ("expr", "match"),
    [
        ({"key": "zone", "operator": "In", "values": ["a", "b"]}, True),
        ({"key": "zone", "operator": "NotIn", "values": ["a"]}, False),
        ({"key": "missing", "operator": "NotIn", "values": ["a"]}, True),
        ({"key": "disk", "operator": "Exists"}, True),
        ({"key": "disk", "operator": "DoesNotExist"}, False),
        ({"key": "gen", "operator": "Gt", "values": ["4"]}, True),
        ({"key": "gen", "operator": "Lt", "values": ["4"]}, False),
        ({"key": "zone", "operator": "Gt", "values": ["1"]}, False),  # not an integer label
        ({"key": "missing", "operator": "Lt", "values": ["9"]}, False),
    ],
)
def test_operators(expr: dict[str, Any], match: bool) -> None:
    assert _sel(expr).matches(LABELS, "n1") is match


def test_fields_terms_and_or() -> None:
    by_name = _sel(fields=[{"key": "metadata.name", "operator": "In", "values": ["n1"]}])
    assert by_name.matches({}, "n1") and not by_name.matches({}, "n2")
    assert by_name.terms[0].node_names() == {"n1"}
    either = NodeSelector.parse(
        {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["x"]}]},
                {"matchExpressions": [{"key": "disk", "operator": "Exists"}]},
            ]
        },
        "t",
    )
    assert either.matches(LABELS, "n")
    # An empty term matches nothing.
    assert not NodeSelector.parse({"nodeSelectorTerms": [{}]}, "t").matches(LABELS, "n")


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            {"key": "zone", "operator": "Foo", "values": ["a"]},
            '"Foo" is not a valid node selector operator',
        ),
        ({"key": "zone", "operator": "In", "values": []}, "values"),
        ({"key": "zone", "operator": "Exists", "values": ["a"]}, "values"),
        ({"key": "gen", "operator": "Gt", "values": ["x"]}, "needs an integer"),
        ({"key": "bad key!", "operator": "Exists"}, "key"),
    ],
)
def test_invalid_terms_raise_with_the_field(expr: dict[str, Any], message: str) -> None:
    with pytest.raises(AffinityError, match=message) as e:
        _sel(expr)
    assert str(e.value).startswith("t.nodeSelectorTerms[0].matchExpressions[0]")


def test_pod_affinity_parsing() -> None:
    pod = {
        "spec": {
            "nodeSelector": {"disk": "ssd"},
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "zone", "operator": "In", "values": ["a"]}
                                ]
                            }
                        ]
                    },
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 5,
                            "preference": {
                                "matchExpressions": [{"key": "gen", "operator": "Exists"}]
                            },
                        },
                        {
                            "weight": 0,
                            "preference": {
                                "matchExpressions": [{"key": "gen", "operator": "Exists"}]
                            },
                        },
                    ],
                }
            },
        }
    }
    required = parse_required_node_affinity(pod)
    assert required.matches(LABELS, "n") and not required.matches({"zone": "a"}, "n")
    assert [w for w, _ in parse_preferred_terms(pod)] == [5]
