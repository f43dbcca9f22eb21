"""The API object form of a label selector (``metav1.LabelSelector``) and its conversions.

The object form is ``{"matchLabels": {k: v}, "matchExpressions": [{"key", "operator",
"values"}]}`` with operators ``In``, ``NotIn``, ``Exists`` and ``DoesNotExist``.

Promises:

- :func:`label_selector_from_api` is upstream's ``LabelSelectorAsSelector``. **A ``None``
  (JSON ``null`` or absent) selector matches nothing; an empty one (``{}``, or both parts
  empty) matches everything.** Controllers rely on this: a PodDisruptionBudget with no
  selector covers no pods, one with ``selector: {}`` covers every pod in its namespace.
- :func:`validate_label_selector` is upstream's ``ValidateLabelSelector``: a list of
  :class:`~kybernetes.api._errors.FieldError` (empty when valid) that render as
  ``spec.selector.matchExpressions[0].values: Required value: must be specified when
  `operator` is 'In' or 'NotIn'``.
- :func:`format_label_selector` is ``metav1.FormatLabelSelector`` (``<none>`` / ``<error>``);
  the ``status.selector`` of ``/scale`` is plain ``str(label_selector_from_api(sel))``.
- :func:`label_selector_to_api` is ``metav1.ParseToLabelSelector`` applied to a selector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.api._errors import FieldError, forbidden, go_quote, invalid, required
from kybernetes.api._labels import LabelOperator, LabelRequirement, LabelSelector, SelectorError
from kybernetes.api._names import is_qualified_name, is_valid_label_value, validate_labels

_FROM_API = {
    "In": LabelOperator.IN,
    "NotIn": LabelOperator.NOT_IN,
    "Exists": LabelOperator.EXISTS,
    "DoesNotExist": LabelOperator.DOES_NOT_EXIST,
}
_TO_API = {v: k for k, v in _FROM_API.items()}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


def label_selector_from_api(selector: Mapping[str, Any] | None) -> LabelSelector:
    """The selector an API object's ``selector`` field means; raise :class:`SelectorError`.

    ``None`` matches nothing, ``{}`` matches everything (see the module docstring).
    """
    if selector is None:
        return LabelSelector.nothing()
    match_labels = _mapping(selector.get("matchLabels"))
    expressions = _sequence(selector.get("matchExpressions"))
    if not match_labels and not expressions:
        return LabelSelector.everything()
    requirements: list[LabelRequirement] = []
    # Sorted so the first error reported is stable (upstream walks a Go map here).
    for key in sorted(match_labels):
        value = match_labels[key]
        requirements.append(LabelRequirement.create(key, LabelOperator.EQUALS, [str(value)]))
    for expr in expressions:
        expr = _mapping(expr)
        operator = expr.get("operator")
        op = _FROM_API.get(operator) if isinstance(operator, str) else None
        if op is None:
            shown = go_quote(operator if isinstance(operator, str) else "")
            raise SelectorError(f"{shown} is not a valid label selector operator")
        raw_key = expr.get("key")
        values = [str(v) for v in _sequence(expr.get("values"))]
        requirements.append(
            LabelRequirement.create(raw_key if isinstance(raw_key, str) else "", op, values)
        )
    return LabelSelector.of(requirements)


def validate_label_selector(
    selector: Mapping[str, Any] | None, path: str = "selector"
) -> list[FieldError]:
    """Upstream's ``ValidateLabelSelector``: every problem, with its field path.

    ``path`` is where the selector sits in its object, e.g. ``"spec.selector"``. A ``None``
    selector is valid here; whether one is required is the caller's rule.
    """
    errs: list[FieldError] = []
    if selector is None:
        return errs
    errs.extend(validate_labels(selector.get("matchLabels"), f"{path}.matchLabels"))
    for i, raw in enumerate(_sequence(selector.get("matchExpressions"))):
        errs.extend(_validate_requirement(_mapping(raw), f"{path}.matchExpressions[{i}]"))
    return errs


def _validate_requirement(expr: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    operator = expr.get("operator")
    values = [str(v) for v in _sequence(expr.get("values"))]
    if operator in ("In", "NotIn"):
        if not values:
            detail = "must be specified when `operator` is 'In' or 'NotIn'"
            errs.append(required(f"{path}.values", detail))
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            errs.append(forbidden(f"{path}.values", detail))
    else:
        shown = operator if isinstance(operator, str) else ""
        errs.append(invalid(f"{path}.operator", shown, "not a valid selector operator"))
    raw_key = expr.get("key")
    key = raw_key if isinstance(raw_key, str) else ""
    errs.extend(invalid(f"{path}.key", key, msg) for msg in is_qualified_name(key))
    for j, value in enumerate(values):
        value_path = f"{path}.values[{j}]"
        errs.extend(invalid(value_path, value, msg) for msg in is_valid_label_value(value))
    return errs


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """For humans (``kubectl describe``): the string form, ``<none>`` or ``<error>``."""
    try:
        text = str(label_selector_from_api(selector))
    except SelectorError:
        return "<error>"
    return text or "<none>"


def label_selector_to_api(selector: LabelSelector) -> dict[str, Any]:
    """The object form of ``selector``; raise :class:`SelectorError` if it has none.

    ``=``/``==`` become ``matchLabels``; ``in``, ``notin``, exists and ``!`` become
    ``matchExpressions``; ``!=``, ``gt`` and ``lt`` have no object form (as upstream).
    The nothing selector has no object form either (it is the absent selector).
    """
    if selector.matches_nothing:
        raise SelectorError("the selector that matches nothing has no object form")
    match_labels: dict[str, str] = {}
    expressions: list[dict[str, Any]] = []
    for r in selector.requirements:
        if r.operator in (LabelOperator.EQUALS, LabelOperator.DOUBLE_EQUALS):
            match_labels[r.key] = r.values[0]
        elif r.operator in _TO_API:
            expr: dict[str, Any] = {"key": r.key, "operator": _TO_API[r.operator]}
            if r.values:  # omitempty, as the Go struct serialises
                expr["values"] = sorted(set(r.values))
            expressions.append(expr)
        elif r.operator in (LabelOperator.GREATER_THAN, LabelOperator.LESS_THAN):
            raise SelectorError(f"{go_quote(r.operator.value)} isn't supported in label selectors")
        else:
            raise SelectorError(
                f"{go_quote(r.operator.value)} is not a valid label selector operator"
            )
    out: dict[str, Any] = {}
    if match_labels:
        out["matchLabels"] = match_labels
    if expressions:
        out["matchExpressions"] = expressions
    return out
