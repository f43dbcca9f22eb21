"""Why a pod fits nowhere, and the message users read in ``kubectl describe pod``.

Promises, as upstream's ``FitError``:

* :class:`Diagnosis` keeps one status per node a Filter rejected (``node_to_status``) and
  one status for every other node (``absent_status``: what PreFilter said for all nodes, or
  what excluded nodes a PreFilter result left out).
* :meth:`FitError.message` is ``0/N nodes are available: <histogram>.`` where the histogram
  counts each reason over all N nodes and lists ``"<count> <reason>"`` sorted as strings,
  joined by ``", "``; a PreFilter rejection replaces the histogram with its own message; a
  PostFilter (preemption) message follows after a space (it carries its own period).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from kybernetes.scheduler._status import Code, Status

NO_NODE_AVAILABLE = "0/{} nodes are available"
NO_NODES_MESSAGE = "no nodes available to schedule pods"

#: Upstream's default for nodes nobody explicitly rejected.
_DEFAULT_ABSENT = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)


@dataclass
class Diagnosis:
    node_to_status: dict[str, Status] = field(default_factory=dict)
    absent_status: Status = _DEFAULT_ABSENT
    #: Plugins that rejected the pod somewhere (their events can make it schedulable).
    unschedulable_plugins: set[str] = field(default_factory=set)
    pre_filter_msg: str = ""
    post_filter_msg: str = ""

    def status_of(self, node_name: str) -> Status:
        return self.node_to_status.get(node_name, self.absent_status)

    def nodes_with_code(self, names: Iterable[str], code: Code) -> list[str]:
        """Which of ``names`` were rejected with ``code`` (absent nodes included)."""
        return [n for n in names if self.status_of(n).code == code]


def reasons_histogram(diagnosis: Diagnosis, num_all_nodes: int) -> str:
    counts: Counter[str] = Counter()
    for status in diagnosis.node_to_status.values():
        counts.update(status.reasons)
    absent = num_all_nodes - len(diagnosis.node_to_status)
    if absent > 0:
        for reason in diagnosis.absent_status.reasons:
            counts[reason] += absent
    return ", ".join(sorted(f"{count} {reason}" for reason, count in counts.items()))


@dataclass
class FitError(Exception):
    """The pod fits on none of ``num_all_nodes`` nodes."""

    pod_key: str
    num_all_nodes: int
    diagnosis: Diagnosis

    def message(self) -> str:
        out = NO_NODE_AVAILABLE.format(self.num_all_nodes) + ":"
        if self.diagnosis.pre_filter_msg:
            out += f" {self.diagnosis.pre_filter_msg}."
        else:
            out += f" {reasons_histogram(self.diagnosis, self.num_all_nodes)}."
        if self.diagnosis.post_filter_msg:
            # Preemption's own message ends with its period (as upstream 1.33 prints it).
            out += f" {self.diagnosis.post_filter_msg}"
        return out

    def __str__(self) -> str:
        return self.message()
