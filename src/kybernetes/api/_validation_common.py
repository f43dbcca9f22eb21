"""Building blocks the per-resource validators share, with upstream's messages.

Paths are plain strings built the way upstream's ``field.Path`` prints them
(``spec.containers[0].ports[1].name``, ``metadata.labels[app]``). Every function returns a
list of :class:`FieldError` (empty when valid) and tolerates any JSON shape: wrong types are
the schema's business, so a value of the wrong type is skipped rather than reported twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeGuard

import orjson

from kybernetes.api._errors import (
    FieldError,
    StructValue,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kybernetes.api._jsonvalue import json_equal
from kybernetes.api._labels import LabelSelector, SelectorError
from kybernetes.api._labelselector import label_selector_from_api
from kybernetes.api._names import (
    FIELD_IMMUTABLE_MSG,
    IS_NEGATIVE_MSG,
    is_qualified_name,
    is_valid_label_value,
    regex_error,
    validate_labels,
)
from kybernetes.api._qos import parsed_quantity
from kybernetes.api._quantity import Quantity, QuantityError

Obj = dict[str, Any]
Errs = list[FieldError]

PORT_RANGE_MSG: Final = "must be between 1 and 65535, inclusive"
MAX_INT32: Final = 2**31 - 1
_PORT_NAME_CHARS: Final = re.compile(r"[-a-z0-9]+")
_HAS_LETTER: Final = re.compile(r".*[a-z].*")
_PERCENT: Final = re.compile(r"[0-9]+%")


def json_same(a: Any, b: Any) -> bool:
    """:func:`~kybernetes.api._jsonvalue.json_equal`, fast for the common cases: Python's
    ``==`` rules out most differences, and equal canonical encodings prove equality."""
    if a != b:
        return False
    try:
        opts = orjson.OPT_SORT_KEYS
        if orjson.dumps(a, option=opts) == orjson.dumps(b, option=opts):
            return True
    except (TypeError, orjson.JSONEncodeError):
        pass
    # Equal to Python but not byte for byte: 1 vs 1.0, or true vs 1.
    return json_equal(a, b)


def as_dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    """A string field's value, ``""`` when absent or not a string."""
    return value if isinstance(value, str) else ""


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def inclusive_range_error(low: int, high: int) -> str:
    return f"must be between {low} and {high}, inclusive"


def nonnegative(value: Any, field: str) -> Errs:
    if is_int(value) and value < 0:
        return [invalid(field, value, IS_NEGATIVE_MSG)]
    return []


def port_num_errors(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else [PORT_RANGE_MSG]


def port_name_errors(name: str) -> list[str]:
    """Upstream's ``IsValidPortName`` (an IANA service name)."""
    errs = []
    if len(name) > 15:
        errs.append("must be no more than 15 characters")
    if not _PORT_NAME_CHARS.fullmatch(name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _HAS_LETTER.fullmatch(name):
        errs.append("must contain at least one letter (a-z)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def port_num_or_name(port: Any, field: str) -> Errs:
    """An int-or-string port (probes, service target ports)."""
    if is_int(port):
        return [invalid(field, port, msg) for msg in port_num_errors(port)]
    if isinstance(port, str):
        return [invalid(field, port, msg) for msg in port_name_errors(port)]
    return []


def one_of(
    value: Any, field: str, supported: Iterable[str], *, required_if_empty: bool = True
) -> Errs:
    """A string enum: Required when empty, Unsupported (listing ``supported`` in the order
    given, as upstream's message does) when unknown."""
    choices = list(supported)
    if value is None or value == "":
        return [required(field)] if required_if_empty else []
    if value not in choices:
        return [not_supported(field, value, choices)]
    return []


def immutable(new: Any, old: Any, field: str) -> Errs:
    """Upstream's ``ValidateImmutableField`` (the new value is shown)."""
    if json_same(new, old):
        return []
    return [invalid(field, struct(new), FIELD_IMMUTABLE_MSG)]


def struct(value: Any) -> Any:
    """Show a dict the way upstream shows a Go struct: in the order its fields were given."""
    return StructValue(value) if isinstance(value, dict) else value


# -- int-or-percent (rolling update budgets) ---------------------------------------------------


def int_or_percent_value(value: Any) -> int:
    if is_int(value):
        return int(value)
    if isinstance(value, str) and _PERCENT.fullmatch(value):
        return int(value[:-1])
    return 0


def positive_int_or_percent(value: Any, field: str) -> Errs:
    if isinstance(value, str):
        if not _PERCENT.fullmatch(value):
            detail = regex_error(
                "a valid percent string must be a numeric string followed by an ending '%'",
                "[0-9]+%",
                "1%",
                "93%",
            )
            return [invalid(field, value, detail)]
        return []
    return nonnegative(value, field)


def not_more_than_100_percent(value: Any, field: str) -> Errs:
    if isinstance(value, str) and _PERCENT.fullmatch(value) and int(value[:-1]) > 100:
        return [invalid(field, value, "must not be greater than 100%")]
    return []


# -- label selectors ---------------------------------------------------------------------------


def label_selector(selector: Any, field: str) -> Errs:
    """Upstream's ``ValidateLabelSelector`` (a missing selector is the caller's business)."""
    if not isinstance(selector, dict):
        return []
    errs = validate_labels(selector.get("matchLabels"), f"{field}.matchLabels")
    for i, expr in enumerate(as_list(selector.get("matchExpressions"))):
        errs.extend(_requirement(as_dict(expr), f"{field}.matchExpressions[{i}]"))
    return errs


def _requirement(expr: Obj, field: str) -> Errs:
    errs: Errs = []
    operator = expr.get("operator")
    values = as_list(expr.get("values"))
    if operator in ("In", "NotIn"):
        if not values:
            detail = "must be specified when `operator` is 'In' or 'NotIn'"
            errs.append(required(f"{field}.values", detail))
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            errs.append(forbidden(f"{field}.values", detail))
    else:
        errs.append(invalid(f"{field}.operator", operator, "not a valid selector operator"))
    key = as_str(expr.get("key"))
    errs.extend(invalid(f"{field}.key", key, msg) for msg in is_qualified_name(key))
    for j, value in enumerate(values):
        if isinstance(value, str):
            errs.extend(
                invalid(f"{field}.values[{j}]", value, msg) for msg in is_valid_label_value(value)
            )
    return errs


def selector_of(selector: Any) -> LabelSelector | None:
    """The selector an API ``selector`` object means, or ``None`` when it cannot parse."""
    try:
        return label_selector_from_api(selector if isinstance(selector, dict) else None)
    except (SelectorError, ValueError):
        return None


def selector_is_empty(selector: Any) -> bool:
    sel = as_dict(selector)
    return not sel.get("matchLabels") and not sel.get("matchExpressions")


def template_labels(template: Any) -> Obj:
    return as_dict(as_dict(as_dict(template).get("metadata")).get("labels"))


def selector_matches_template(selector: LabelSelector, template: Any, field: str) -> Errs:
    """The template's labels must be selected, or the controller would orphan its pods."""
    labels = template_labels(template)
    if selector.empty or selector.matches({k: str(v) for k, v in labels.items()}):
        return []
    return [invalid(field, labels, "`selector` does not match template `labels`")]


# -- quantities --------------------------------------------------------------------------------


def quantity(value: Any, field: str) -> tuple[Quantity | None, Errs]:
    """Parse a quantity; a malformed one is reported with upstream's decode message."""
    parsed = parsed_quantity(value)
    if isinstance(parsed, QuantityError):
        return None, [invalid(field, value, str(parsed))]
    return parsed, []


def nonnegative_quantity(value: Any, field: str) -> tuple[Quantity | None, Errs]:
    parsed, errs = quantity(value, field)
    if parsed is not None and parsed.sign() < 0:
        errs.append(invalid(field, str(parsed), IS_NEGATIVE_MSG))
    return parsed, errs


def mapping_keys(value: Any) -> list[str]:
    return [k for k in value if isinstance(k, str)] if isinstance(value, Mapping) else []
