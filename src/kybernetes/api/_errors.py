"""Field-level validation errors, one type for every validator in kybernetes.

:class:`FieldError` is the Python twin of upstream's ``field.Error``: a cause ``type`` (the
``reason`` of a ``Status`` cause, e.g. ``FieldValueRequired``), the ``field`` path
(``spec.containers[0].image``), a ``message`` (upstream's "detail") and an optional
``bad_value``. :meth:`FieldError.body` and :meth:`FieldError.render` produce exactly the text
upstream puts in a cause's ``message`` and in the ``Foo "x" is invalid: ...`` line, including
Go's way of printing the bad value (``%q`` for strings, ``%v`` for numbers and booleans, JSON
with sorted map keys for everything else). :func:`aggregate_message`, :func:`invalid_message`
and :func:`status_causes` assemble those pieces the way upstream's ``NewInvalid`` does; turning
them into a ``Status`` object stays the API server's job.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final


class ErrorType(enum.StrEnum):
    """Upstream's cause reasons (``metav1.CauseType`` values of field errors)."""

    NOT_FOUND = "FieldValueNotFound"
    REQUIRED = "FieldValueRequired"
    DUPLICATE = "FieldValueDuplicate"
    INVALID = "FieldValueInvalid"
    NOT_SUPPORTED = "FieldValueNotSupported"
    FORBIDDEN = "FieldValueForbidden"
    TOO_LONG = "FieldValueTooLong"
    TOO_MANY = "FieldValueTooMany"
    INTERNAL = "InternalError"
    TYPE_INVALID = "FieldValueTypeInvalid"

    @property
    def label(self) -> str:
        """The human text upstream prints for this type (``Required value``...)."""
        return _TITLES[self]


_TITLES: Final = {
    ErrorType.NOT_FOUND: "Not found",
    ErrorType.REQUIRED: "Required value",
    ErrorType.DUPLICATE: "Duplicate value",
    ErrorType.INVALID: "Invalid value",
    ErrorType.NOT_SUPPORTED: "Unsupported value",
    ErrorType.FORBIDDEN: "Forbidden",
    ErrorType.TOO_LONG: "Too long",
    ErrorType.TOO_MANY: "Too many",
    ErrorType.INTERNAL: "Internal error",
    ErrorType.TYPE_INVALID: "Invalid value",
}

# These types never print the bad value, whatever it is.
_VALUELESS: Final = frozenset(
    {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.INTERNAL}
)


class _Omitted:
    """Marker for "no bad value": the body then shows only the title."""

    _instance: _Omitted | None = None

    def __new__(cls) -> _Omitted:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMITTED"


#: Pass as ``bad_value`` to print no value (upstream's ``omitValue``).
OMITTED: Final = _Omitted()


class StructValue(dict[str, Any]):
    """A bad value that upstream holds as a Go struct: rendered as JSON in insertion order.

    Plain dicts are Go maps and render with sorted keys, as ``encoding/json`` does.
    """


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field-level problem, as upstream's ``field.Error``."""

    type: ErrorType
    field: str
    message: str = ""
    bad_value: Any = OMITTED

    def body(self) -> str:
        """The text without the field path: a ``Status`` cause's ``message``."""
        text = self.type.label
        if self.type not in _VALUELESS and self.bad_value is not OMITTED:
            text = f"{text}: {go_value(self.bad_value)}"
        if self.message:
            text = f"{text}: {self.message}"
        return text

    def render(self) -> str:
        """``field: body``, e.g. ``spec.containers[0].image: Required value``."""
        return f"{self.field}: {self.body()}"

    def __str__(self) -> str:
        return self.render()

    def to_cause(self) -> dict[str, str]:
        """The ``Status`` cause upstream builds from this error."""
        return {"reason": str(self.type), "message": self.body(), "field": self.field}


# -- constructors, named after upstream's -------------------------------------------------


def required(field: str, detail: str = "") -> FieldError:
    return FieldError(ErrorType.REQUIRED, field, detail, "")


def invalid(field: str, value: Any, detail: str = "") -> FieldError:
    return FieldError(ErrorType.INVALID, field, detail, value)


def type_invalid(field: str, value: Any, detail: str = "") -> FieldError:
    return FieldError(ErrorType.TYPE_INVALID, field, detail, value)


def not_found(field: str, value: Any) -> FieldError:
    return FieldError(ErrorType.NOT_FOUND, field, "", value)


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError(ErrorType.DUPLICATE, field, "", value)


def forbidden(field: str, detail: str = "") -> FieldError:
    return FieldError(ErrorType.FORBIDDEN, field, detail, "")


def not_supported(field: str, value: Any, valid_values: Iterable[Any] = ()) -> FieldError:
    quoted = [go_quote(v if isinstance(v, str) else go_value(v)) for v in valid_values]
    detail = "supported values: " + ", ".join(quoted) if quoted else ""
    return FieldError(ErrorType.NOT_SUPPORTED, field, detail, value)


def too_long(field: str, max_length: int) -> FieldError:
    """Upstream's ``TooLong``: the value is never shown; lengths are in bytes."""
    if max_length >= 0:
        unit = "byte" if max_length == 1 else "bytes"
        detail = f"may not be more than {max_length} {unit}"
    else:
        detail = "value is too long"
    return FieldError(ErrorType.TOO_LONG, field, detail, "<value omitted>")


def too_many(field: str, actual: int, max_items: int) -> FieldError:
    if max_items >= 0:
        unit = "item" if max_items == 1 else "items"
        detail = f"must have at most {max_items} {unit}"
    else:
        detail = "has too many items"
    return FieldError(ErrorType.TOO_MANY, field, detail, actual if actual >= 0 else OMITTED)


def internal_error(field: str, detail: str) -> FieldError:
    return FieldError(ErrorType.INTERNAL, field, detail, OMITTED)


# -- aggregation ----------------------------------------------------------------------------


def aggregate_message(errors: Iterable[FieldError | str]) -> str:
    """Upstream's aggregate text: distinct messages, ``[a, b]`` when there are several."""
    seen: dict[str, None] = {}
    for err in errors:
        seen.setdefault(str(err), None)
    if len(seen) == 1:
        return next(iter(seen))
    return "[" + ", ".join(seen) + "]" if seen else ""


def invalid_message(group: str, kind: str, name: str, errors: Sequence[FieldError]) -> str:
    """The message of a 422 Invalid ``Status``: ``Pod "x" is invalid: ...``."""
    qualified = f"{kind}.{group}" if group else kind
    head = f"{qualified} {go_quote(name)} is invalid"
    return f"{head}: {aggregate_message(errors)}" if errors else head


def status_causes(errors: Iterable[FieldError]) -> list[dict[str, str]]:
    return [err.to_cause() for err in errors]


# -- Go value printing ----------------------------------------------------------------------

_SHORT_ESCAPES: Final = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (``%q``): printable runes kept, the rest escaped."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    out = ['"']
    for ch in text:
        esc = _SHORT_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_value(value: Any) -> str:
    """How upstream's ``ErrorBody`` prints a bad value."""
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float_v(value)
    return go_json(value)


def _float_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits and decimal point position (Go's ``digs.d``/``dp``)."""
    _sign, digits, exp = Decimal(repr(value)).as_tuple()
    assert isinstance(exp, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + exp
    return text, point


def _go_float_v(value: float) -> str:
    """Go's ``%v`` for a float64: ``%g`` with shortest digits and exponent threshold 6."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    digits, point = _float_digits(abs(value))
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _go_json_float(value: float) -> str:
    """``encoding/json``'s float: plain form, exponent form outside [1e-6, 1e21)."""
    if math.isnan(value) or math.isinf(value):
        return "null"  # Go refuses to marshal these; never reached from JSON input
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    digits, point = _float_digits(abs(value))
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:
        exp = point - 1
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp)}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


_JSON_ESCAPES: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    # encoding/json escapes HTML-sensitive characters and JS line separators by default.
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _go_json_string(text: str) -> str:
    out = ['"']
    for ch in text:
        esc = _JSON_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_json(value: Any) -> str:
    """``encoding/json.Marshal`` output: map keys sorted, :class:`StructValue` in order."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return _go_json_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_json_float(value)
    if isinstance(value, Mapping):
        items = value.items() if isinstance(value, StructValue) else sorted(value.items())
        inner = ",".join(f"{_go_json_string(str(k))}:{go_json(v)}" for k, v in items)
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    return _go_json_string(str(value))
