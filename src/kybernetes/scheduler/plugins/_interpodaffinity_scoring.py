"""InterPodAffinity's score arithmetic: weights per topology pair.

For every existing pod (all of them when the incoming pod has preferred terms, otherwise
only pods with affinity terms), on a node with labels:

* each incoming preferred affinity term the existing pod matches adds its weight to the
  pair (term key, node's value); each preferred anti-affinity term subtracts it;
* each existing pod's required affinity term that selects the incoming pod adds
  ``hardPodAffinityWeight``; its preferred affinity terms add and its preferred
  anti-affinity terms subtract their weights.

A node's score is the sum over pairs of its labels; scores are then min-max normalised
to 0..100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import AffinityTerm, PodInfo

TopologyScore = dict[str, dict[str, int]]


def _process_term(
    scores: TopologyScore,
    term: AffinityTerm,
    weight: int,
    namespace: str,
    labels: Mapping[str, str],
    ns_labels: Mapping[str, str] | None,
    node_labels: Mapping[str, str],
) -> None:
    if not term.matches(namespace, labels, ns_labels):
        return
    value = node_labels.get(term.topology_key)
    if value is None:
        return
    by_value = scores.setdefault(term.topology_key, {})
    by_value[value] = by_value.get(value, 0) + weight


def topology_scores(
    pod: PodInfo,
    preferred: Sequence[AffinityTerm],
    preferred_anti: Sequence[AffinityTerm],
    ns_labels: Mapping[str, str] | None,
    nodes: Sequence[NodeInfo],
    hard_weight: int,
) -> TopologyScore:
    scores: TopologyScore = {}
    all_pods = bool(preferred or preferred_anti)
    for node in nodes:
        node_labels = node.labels
        if not node_labels:
            continue
        for existing in node.pods if all_pods else node.pods_with_affinity:
            for term in preferred:
                _process_term(
                    scores,
                    term,
                    term.weight,
                    existing.namespace,
                    existing.labels,
                    None,
                    node_labels,
                )
            for term in preferred_anti:
                _process_term(
                    scores,
                    term,
                    -term.weight,
                    existing.namespace,
                    existing.labels,
                    None,
                    node_labels,
                )
            if hard_weight > 0:
                for term in existing.required_affinity_terms:
                    _process_term(
                        scores, term, hard_weight, pod.namespace, pod.labels, ns_labels, node_labels
                    )
            for term in existing.preferred_affinity_terms:
                _process_term(
                    scores, term, term.weight, pod.namespace, pod.labels, ns_labels, node_labels
                )
            for term in existing.preferred_anti_affinity_terms:
                _process_term(
                    scores, term, -term.weight, pod.namespace, pod.labels, ns_labels, node_labels
                )
    # Drop keys whose values all summed to nothing, so "no preference at all" is detectable.
    return {k: v for k, v in scores.items() if v}


def node_score(scores: TopologyScore, node: NodeInfo) -> int:
    total = 0
    labels = node.labels
    for key, by_value in scores.items():
        value = labels.get(key)
        if value is not None:
            total += by_value.get(value, 0)
    return total


def normalize(scores: list[int], max_score: int) -> None:
    if not scores:
        return
    low, high = min(scores), max(scores)
    spread = high - low
    for i, score in enumerate(scores):
        scores[i] = int(max_score * ((score - low) / spread)) if spread > 0 else 0
