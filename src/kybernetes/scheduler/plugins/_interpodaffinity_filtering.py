"""InterPodAffinity's filter arithmetic: topology-pair counts and the three checks.

A *topology pair* is (topology key, that label's value on a node). PreFilter counts, over
all nodes:

* ``existing_anti``: pairs where an existing pod's required anti-affinity term selects the
  incoming pod (the incoming pod may not land in those domains);
* ``affinity``: pairs where an existing pod matches *all* the incoming pod's required
  affinity terms (counted once per term's key);
* ``anti``: pairs where an existing pod matches one of the incoming pod's required
  anti-affinity terms.

A node passes when, for its labels: every affinity term's pair has a count (or nothing in
the cluster matches the terms yet and the pod matches them itself: the first pod of a
group), no anti-affinity term's pair has a count, and no existing_anti pair of its labels
has a count. Counts are kept exact under simulated pod additions and removals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import AffinityTerm, PodInfo

Pair = tuple[str, str]
Counts = dict[Pair, int]


def bump(counts: Counts, labels: Mapping[str, str], key: str, delta: int) -> None:
    value = labels.get(key)
    if value is None:
        return
    pair = (key, value)
    n = counts.get(pair, 0) + delta
    if n:
        counts[pair] = n
    else:
        counts.pop(pair, None)


def matches_all(terms: Sequence[AffinityTerm], pod: PodInfo) -> bool:
    if not terms:
        return False
    return all(t.matches(pod.namespace, pod.labels, None) for t in terms)


class PreFilterState:
    __slots__ = (
        "affinity",
        "anti",
        "existing_anti",
        "ns_labels",
        "pod",
        "required",
        "required_anti",
    )

    def __init__(
        self,
        pod: PodInfo,
        required: list[AffinityTerm],
        required_anti: list[AffinityTerm],
        ns_labels: Mapping[str, str] | None,
    ) -> None:
        self.pod = pod
        #: The incoming pod's terms, with namespace selectors resolved to names.
        self.required = required
        self.required_anti = required_anti
        self.ns_labels = ns_labels
        self.existing_anti: Counts = {}
        self.affinity: Counts = {}
        self.anti: Counts = {}

    def clone(self) -> PreFilterState:
        out = PreFilterState(self.pod, self.required, self.required_anti, self.ns_labels)
        out.existing_anti = dict(self.existing_anti)
        out.affinity = dict(self.affinity)
        out.anti = dict(self.anti)
        return out

    def count_existing_anti(self, nodes: Sequence[NodeInfo]) -> None:
        pod, ns_labels = self.pod, self.ns_labels
        namespace, labels, counts = pod.namespace, pod.labels, self.existing_anti
        for node in nodes:
            for existing in node.pods_with_required_anti_affinity:
                for term in existing.required_anti_affinity_terms:
                    if term.matches(namespace, labels, ns_labels):
                        bump(counts, node.labels, term.topology_key, 1)

    def count_incoming(self, nodes: Sequence[NodeInfo]) -> None:
        if not self.required and not self.required_anti:
            return
        if self.required:
            for node in nodes:
                for existing in node.pods:
                    self._count(existing, node.labels, 1, existing_terms=False)
            return
        # Anti-affinity only (the common case): the same counting, inlined.
        terms = [(t, t.topology_key) for t in self.required_anti]
        counts = self.anti
        for node in nodes:
            if not node.pods:
                continue
            node_labels = node.labels
            for existing in node.pods:
                namespace, labels = existing.namespace, existing.labels
                for term, key in terms:
                    if term.matches(namespace, labels, None):
                        bump(counts, node_labels, key, 1)

    def _count(
        self, other: PodInfo, labels: Mapping[str, str], delta: int, *, existing_terms: bool
    ) -> None:
        if existing_terms:
            for term in other.required_anti_affinity_terms:
                if term.matches(self.pod.namespace, self.pod.labels, self.ns_labels):
                    bump(self.existing_anti, labels, term.topology_key, delta)
        if self.required and matches_all(self.required, other):
            for term in self.required:
                bump(self.affinity, labels, term.topology_key, delta)
        for term in self.required_anti:
            if term.matches(other.namespace, other.labels, None):
                bump(self.anti, labels, term.topology_key, delta)

    def update_with_pod(self, other: PodInfo, node: NodeInfo, delta: int) -> None:
        """Account for ``other`` appearing on (+1) or leaving (-1) ``node``."""
        self._count(other, node.labels, delta, existing_terms=True)

    # -- the checks ------------------------------------------------------------------------

    def satisfies_affinity(self, node: NodeInfo) -> bool:
        labels = node.labels
        pods_exist = True
        for term in self.required:
            value = labels.get(term.topology_key)
            if value is None:
                return False  # every topology key must exist on the node
            if self.affinity.get((term.topology_key, value), 0) <= 0:
                pods_exist = False
        if pods_exist:
            return True
        # The first pod of a group with affinity to itself must be allowed somewhere.
        return not self.affinity and matches_all(self.required, self.pod)

    def satisfies_anti_affinity(self, node: NodeInfo) -> bool:
        if not self.anti:
            return True
        labels = node.labels
        for term in self.required_anti:
            value = labels.get(term.topology_key)
            if value is not None and self.anti.get((term.topology_key, value), 0) > 0:
                return False
        return True

    def satisfies_existing_anti_affinity(self, node: NodeInfo) -> bool:
        if not self.existing_anti:
            return True
        return not any(self.existing_anti.get(pair, 0) > 0 for pair in node.labels.items())
