"""Node selectors: ``nodeSelector``, node affinity terms and their matching against nodes.

Promises, as upstream's ``component-helpers/scheduling/corev1/nodeaffinity``:

* A term ANDs its ``matchExpressions`` (on labels: ``In``, ``NotIn``, ``Exists``,
  ``DoesNotExist``, ``Gt``, ``Lt``) and ``matchFields`` (``metadata.name`` with ``In`` or
  ``NotIn`` and exactly one value). A term with neither matches no node. Terms are ORed.
* ``NotIn`` and ``DoesNotExist`` match a node without the label; ``Gt``/``Lt`` compare
  integers and never match a missing or non-integer label.
* Parsing validates everything and raises :class:`AffinityError` naming the field, so a
  pod with a bad term is rejected with a message instead of matching arbitrarily.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from kybernetes.api import LabelOperator, LabelRequirement, SelectorError

_LABEL_OPS: Final = {
    "In": LabelOperator.IN,
    "NotIn": LabelOperator.NOT_IN,
    "Exists": LabelOperator.EXISTS,
    "DoesNotExist": LabelOperator.DOES_NOT_EXIST,
    "Gt": LabelOperator.GREATER_THAN,
    "Lt": LabelOperator.LESS_THAN,
}
NAME_FIELD: Final = "metadata.name"


class AffinityError(ValueError):
    """An affinity or selector term that cannot be evaluated; the message names the field."""


def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise AffinityError("values must be a list")
    return [str(v) for v in raw]


def label_requirement(expr: Any, path: str) -> LabelRequirement:
    """One ``matchExpressions`` entry as a label requirement."""
    if not isinstance(expr, Mapping):
        raise AffinityError(f"{path}: must be an object")
    operator = expr.get("operator")
    op = _LABEL_OPS.get(operator) if isinstance(operator, str) else None
    if op is None:
        raise AffinityError(f'{path}.operator: "{operator}" is not a valid node selector operator')
    values = _values(expr.get("values"))
    if op in (LabelOperator.GREATER_THAN, LabelOperator.LESS_THAN):
        if len(values) != 1:
            raise AffinityError(f"{path}.values: exactly one value is required for {operator}")
        try:
            int(values[0])
        except ValueError:
            raise AffinityError(
                f"{path}.values[0]: {operator} needs an integer, not {values[0]!r}"
            ) from None
    key = expr.get("key")
    try:
        return LabelRequirement.create(key if isinstance(key, str) else "", op, values)
    except SelectorError as e:
        raise AffinityError(f"{path}: {e}") from None


# Requirement kinds, compiled for a tight matching loop (terms run once per node).
_IN, _NOT_IN, _EXISTS, _NOT_EXISTS, _GT, _LT = range(6)
_KINDS: Final = {
    LabelOperator.IN: _IN,
    LabelOperator.NOT_IN: _NOT_IN,
    LabelOperator.EXISTS: _EXISTS,
    LabelOperator.DOES_NOT_EXIST: _NOT_EXISTS,
    LabelOperator.GREATER_THAN: _GT,
    LabelOperator.LESS_THAN: _LT,
}
_Compiled = tuple[str, int, frozenset[str], int]


def _compile(req: LabelRequirement) -> _Compiled:
    kind = _KINDS[req.operator]
    number = int(req.values[0]) if kind in (_GT, _LT) else 0
    return (req.key, kind, frozenset(req.values), number)


def _int_label(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


class NodeSelectorTerm:
    __slots__ = ("compiled", "fields", "labels")

    def __init__(
        self, labels: Sequence[LabelRequirement], fields: Sequence[tuple[bool, str]]
    ) -> None:
        self.labels = tuple(labels)
        #: (must equal, node name) pairs from matchFields.
        self.fields = tuple(fields)
        self.compiled = tuple(_compile(r) for r in self.labels)

    @classmethod
    def parse(cls, raw: Any, path: str) -> NodeSelectorTerm:
        if not isinstance(raw, Mapping):
            raise AffinityError(f"{path}: must be an object")
        exprs = raw.get("matchExpressions") or []
        fields = raw.get("matchFields") or []
        if not isinstance(exprs, list) or not isinstance(fields, list):
            raise AffinityError(f"{path}: matchExpressions and matchFields must be lists")
        labels = [
            label_requirement(e, f"{path}.matchExpressions[{i}]") for i, e in enumerate(exprs)
        ]
        parsed_fields: list[tuple[bool, str]] = []
        for i, f in enumerate(fields):
            where = f"{path}.matchFields[{i}]"
            if not isinstance(f, Mapping):
                raise AffinityError(f"{where}: must be an object")
            if f.get("key") != NAME_FIELD:
                raise AffinityError(
                    f'{where}.key: "{f.get("key")}" is not a valid field selector key'
                )
            values = _values(f.get("values"))
            if len(values) != 1:
                raise AffinityError(f"{where}.values: must have exactly one value")
            operator = f.get("operator")
            if operator not in ("In", "NotIn"):
                raise AffinityError(
                    f'{where}.operator: "{operator}" is not a valid node field selector operator'
                )
            parsed_fields.append((operator == "In", values[0]))
        return cls(labels, parsed_fields)

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        if not self.compiled and not self.fields:
            return False
        for key, kind, values, number in self.compiled:
            value = labels.get(key)
            if kind == _IN:
                if value is None or value not in values:
                    return False
            elif kind == _NOT_IN:
                if value is not None and value in values:
                    return False
            elif kind == _EXISTS:
                if value is None:
                    return False
            elif kind == _NOT_EXISTS:
                if value is not None:
                    return False
            else:
                have = _int_label(value) if value is not None else None
                if have is None or not (have > number if kind == _GT else have < number):
                    return False
        # Plain loops, not all()/any(): this runs once per node, and a generator per call
        # costs more than the check itself.
        for equal, value in self.fields:  # noqa: SIM110
            if (name == value) != equal:
                return False
        return True

    def node_names(self) -> set[str] | None:
        """The node names this term can only match (``metadata.name In``), or None."""
        names = {value for equal, value in self.fields if equal}
        if not names:
            return None
        # Two different "metadata.name In" values in one term (ANDed) match nothing.
        return names if len(names) == 1 else set()


class NodeSelector:
    """ORed terms (``requiredDuringSchedulingIgnoredDuringExecution``, a PV's node affinity)."""

    __slots__ = ("terms",)

    def __init__(self, terms: Sequence[NodeSelectorTerm]) -> None:
        self.terms = tuple(terms)

    @classmethod
    def parse(cls, raw: Any, path: str) -> NodeSelector:
        if not isinstance(raw, Mapping):
            raise AffinityError(f"{path}: must be an object")
        terms = raw.get("nodeSelectorTerms") or []
        if not isinstance(terms, list):
            raise AffinityError(f"{path}.nodeSelectorTerms: must be a list")
        return cls(
            [
                NodeSelectorTerm.parse(t, f"{path}.nodeSelectorTerms[{i}]")
                for i, t in enumerate(terms)
            ]
        )

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        for term in self.terms:  # noqa: SIM110 (once per node: no generator)
            if term.matches(labels, name):
                return True
        return False


class RequiredNodeAffinity:
    """A pod's hard node constraints: ``nodeSelector`` AND required node affinity."""

    __slots__ = ("node_selector", "required")

    def __init__(self, node_selector: Mapping[str, str], required: NodeSelector | None) -> None:
        self.node_selector = dict(node_selector)
        self.required = required

    @property
    def empty(self) -> bool:
        return not self.node_selector and self.required is None

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        for key, value in self.node_selector.items():
            if labels.get(key) != value:
                return False
        return self.required is None or self.required.matches(labels, name)


def parse_required_node_affinity(pod: Mapping[str, Any]) -> RequiredNodeAffinity:
    """The pod's ``nodeSelector`` and required node affinity; raises :class:`AffinityError`."""
    spec = pod.get("spec") or {}
    selector = spec.get("nodeSelector") or {}
    if not isinstance(selector, Mapping):
        raise AffinityError("spec.nodeSelector: must be an object")
    affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    raw = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    path = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
    required = NodeSelector.parse(raw, path) if raw is not None else None
    return RequiredNodeAffinity({str(k): str(v) for k, v in selector.items()}, required)


def parse_preferred_terms(pod: Mapping[str, Any]) -> list[tuple[int, NodeSelectorTerm]]:
    """(weight, term) of the pod's preferred node affinity; weight-0 terms are dropped."""
    spec = pod.get("spec") or {}
    affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    raw = affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    path = "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"
    if not isinstance(raw, list):
        raise AffinityError(f"{path}: must be a list")
    out: list[tuple[int, NodeSelectorTerm]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise AffinityError(f"{path}[{i}]: must be an object")
        weight = item.get("weight") or 0
        if not isinstance(weight, int) or isinstance(weight, bool):
            raise AffinityError(f"{path}[{i}].weight: must be an integer")
        term = NodeSelectorTerm.parse(item.get("preference") or {}, f"{path}[{i}].preference")
        if weight:
            out.append((weight, term))
    return out
