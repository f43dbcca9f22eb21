"""Label selectors compiled for speed: the affinity and spreading plugins match selectors
against pods in loops that run for every pod in the cluster, every cycle.

:func:`matcher` turns a :class:`~kybernetes.api.LabelSelector` into a plain function of a
label dict with exactly the selector's semantics (equality, set membership, existence,
integer comparison; the nothing selector matches nothing, the empty one everything). The
common shapes (one ``key=value`` or ``key in (...)``) get a one-line function.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from kybernetes.api import LabelOperator, LabelSelector

Labels = Mapping[str, str]
Matcher = Callable[[Labels], bool]

_IN = frozenset({LabelOperator.IN, LabelOperator.EQUALS, LabelOperator.DOUBLE_EQUALS})
_NOT_IN = frozenset({LabelOperator.NOT_IN, LabelOperator.NOT_EQUALS})


def _nothing(labels: Labels) -> bool:
    return False


def _everything(labels: Labels) -> bool:
    return True


@functools.lru_cache(maxsize=4096)
def matcher(selector: LabelSelector) -> Matcher:
    if selector.matches_nothing:
        return _nothing
    reqs = selector.requirements
    if not reqs:
        return _everything
    if len(reqs) == 1 and reqs[0].operator in _IN:
        key, values = reqs[0].key, frozenset(reqs[0].values)
        if len(values) == 1:
            (value,) = values
            return lambda labels: labels.get(key) == value
        return lambda labels: labels.get(key) in values
    simple = [
        (r.key, r.operator in _IN, frozenset(r.values)) for r in reqs if r.operator in _IN | _NOT_IN
    ]
    if len(simple) == len(reqs):

        def match_sets(labels: Labels) -> bool:
            for key, inside, values in simple:
                value = labels.get(key)
                if (value is not None and value in values) != inside:
                    return False
            return True

        return match_sets
    return selector.matches
