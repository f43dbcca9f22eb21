"""Kubernetes resource quantities (``100m``, ``1Gi``, ``1e3``) with upstream's exact rules.

A :class:`Quantity` is immutable, hashable and ordered by numeric value. It holds its value
exactly as an integer number of nano-units (every quantity upstream can hold is a multiple of
10^-9: parsing rounds up, away from zero, to that precision) plus the *format* its input
used (``DecimalSI``, ``BinarySI`` or ``DecimalExponent``), which decides how it prints.

:func:`parse_quantity` follows upstream's ``ParseQuantity`` step by step, including its
quirks: a value already in canonical form keeps its exact input text (``+1`` prints as
``+1``, ``1.G`` as ``1.G``), ``BinarySI`` values are capped at 2^63-1, and a ``BinarySI``
value strictly between -1 and 1 becomes ``DecimalSI``. ``str(q)`` is upstream's
``Quantity.String()``: the mantissa is an integer and the suffix as large as possible in the
value's format (``0.5`` -> ``500m``, ``1.5Gi`` -> ``1536Mi``, ``1000`` -> ``1k``, ``1e3`` ->
``1e3``). :func:`normalize_quantity` is what a decode/encode round trip through the API server
does to a quantity field.

Two deliberate differences, both for values nobody uses: a ``DecimalSI`` value above the
``E`` suffix prints in exponent form (``1e21``) where upstream 1.33 drops the magnitude and
prints ``1`` (fixed upstream later), and a ``BinarySI`` value above ``Ei`` keeps ``Ei``; and
values needing more than :data:`MAX_DIGITS` decimal digits are rejected instead of exhausting
memory.
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal
from typing import Any, Final, cast


class Format(enum.StrEnum):
    DECIMAL_EXPONENT = "DecimalExponent"  # 12e6
    BINARY_SI = "BinarySI"  # 12Mi
    DECIMAL_SI = "DecimalSI"  # 12M


#: upstream's pattern, quoted in its format error
SPLIT_RE: Final = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT: Final = f"quantities must match the regular expression '{SPLIT_RE}'"
ERR_NUMERIC: Final = "unable to parse numeric part of quantity"
ERR_SUFFIX: Final = "unable to parse quantity's suffix"
ERR_RANGE: Final = "quantity is out of range"

#: Largest number of decimal digits (in nano-units) a quantity may need.
MAX_DIGITS: Final = 4000

_NANO: Final = 10**9
_MAX_INT64: Final = 2**63 - 1
_DIGITS: Final = frozenset("0123456789")
_SUFFIX_CHARS: Final = frozenset("eEinumkKMGTP")
_EXPONENT_RE: Final = re.compile(r"[+-]?[0-9]+")

# suffix -> (base, exponent, format)
_SUFFIXES: Final[dict[str, tuple[int, int, Format]]] = {
    "": (10, 0, Format.DECIMAL_SI),
    "n": (10, -9, Format.DECIMAL_SI),
    "u": (10, -6, Format.DECIMAL_SI),
    "m": (10, -3, Format.DECIMAL_SI),
    "k": (10, 3, Format.DECIMAL_SI),
    "M": (10, 6, Format.DECIMAL_SI),
    "G": (10, 9, Format.DECIMAL_SI),
    "T": (10, 12, Format.DECIMAL_SI),
    "P": (10, 15, Format.DECIMAL_SI),
    "E": (10, 18, Format.DECIMAL_SI),
    "Ki": (2, 10, Format.BINARY_SI),
    "Mi": (2, 20, Format.BINARY_SI),
    "Gi": (2, 30, Format.BINARY_SI),
    "Ti": (2, 40, Format.BINARY_SI),
    "Pi": (2, 50, Format.BINARY_SI),
    "Ei": (2, 60, Format.BINARY_SI),
}
_DECIMAL_SUFFIX: Final = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T"}
_DECIMAL_SUFFIX.update({15: "P", 18: "E"})
_BINARY_SUFFIX: Final = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


class QuantityError(ValueError):
    """A string that is not a quantity; the message is upstream's."""


def _pow10(n: int) -> int:
    """10**n for n >= 0, typed as the int it is."""
    return cast(int, 10**n)


def _ceil_div(n: int, d: int) -> int:
    """n / d rounded away from zero (d > 0)."""
    q, r = divmod(abs(n), d)
    if r:
        q += 1
    return q if n >= 0 else -q


class Quantity:
    """An exact, immutable resource quantity. Build one with :func:`parse_quantity`."""

    __slots__ = ("_format", "_nanos", "_text")

    _nanos: int
    _format: Format
    _text: str | None

    def __init__(self, nanos: int, format: Format = Format.DECIMAL_SI) -> None:
        """A quantity of ``nanos`` * 10^-9 in ``format``."""
        object.__setattr__(self, "_nanos", int(nanos))
        object.__setattr__(self, "_format", Format(format))
        object.__setattr__(self, "_text", None)

    @classmethod
    def _make(cls, nanos: int, format: Format, text: str | None = None) -> Quantity:
        q = cls(nanos, format)
        object.__setattr__(q, "_text", text)
        return q

    @classmethod
    def from_int(cls, value: int, format: Format = Format.DECIMAL_SI) -> Quantity:
        """Upstream's ``NewQuantity``."""
        return cls(value * _NANO, format)

    @classmethod
    def from_milli(cls, value: int, format: Format = Format.DECIMAL_SI) -> Quantity:
        """Upstream's ``NewMilliQuantity``."""
        return cls(value * 10**6, format)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Quantity is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Quantity is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Quantity._make, (self._nanos, self._format, self._text))

    # -- value ------------------------------------------------------------------------------

    @property
    def format(self) -> Format:
        return self._format

    @property
    def nanos(self) -> int:
        """The exact value in units of 10^-9."""
        return self._nanos

    def is_zero(self) -> bool:
        return self._nanos == 0

    def sign(self) -> int:
        return (self._nanos > 0) - (self._nanos < 0)

    def as_decimal(self) -> Decimal:
        """The exact value (built from text: Decimal arithmetic would round it)."""
        return Decimal(f"{self._nanos}E-9")

    def scaled_value(self, scale: int) -> int:
        """ceil(q / 10^scale), rounding away from zero (upstream's ``ScaledValue``).

        Unlike upstream the result is never truncated to int64.
        """
        shift = 9 + scale
        if shift >= 0:
            return _ceil_div(self._nanos, _pow10(shift))
        return self._nanos * _pow10(-shift)

    def value(self) -> int:
        """The value rounded up, away from zero, to an integer (``Value()``)."""
        return self.scaled_value(0)

    def milli_value(self) -> int:
        """ceil(q * 1000), away from zero (``MilliValue()``)."""
        return self.scaled_value(-3)

    def __float__(self) -> float:
        return float(self.as_decimal())

    # -- arithmetic (upstream's Add/Sub/Neg, as new values) ----------------------------------

    def __add__(self, other: object) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        fmt = other._format if self._nanos == 0 else self._format
        return Quantity(self._nanos + other._nanos, fmt)

    def __sub__(self, other: object) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        fmt = other._format if self._nanos == 0 else self._format
        return Quantity(self._nanos - other._nanos, fmt)

    def __neg__(self) -> Quantity:
        return Quantity(-self._nanos, self._format)

    def __abs__(self) -> Quantity:
        return self if self._nanos >= 0 else -self

    # -- comparison: by value only, as upstream's Cmp/Equal ------------------------------------

    def cmp(self, other: Quantity) -> int:
        return (self._nanos > other._nanos) - (self._nanos < other._nanos)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos == other._nanos

    def __hash__(self) -> int:
        return hash(self._nanos)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos < other._nanos

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos <= other._nanos

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos > other._nanos

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos >= other._nanos

    # -- text -------------------------------------------------------------------------------

    def __str__(self) -> str:
        if self._text is None:
            object.__setattr__(self, "_text", _canonical(self._nanos, self._format))
        assert self._text is not None
        return self._text

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    def to_json(self) -> str:
        return str(self)


def _canonical(nanos: int, fmt: Format) -> str:
    """Upstream's ``CanonicalizeBytes``: integer mantissa, largest suffix of the format."""
    if nanos == 0:
        return "0"
    if fmt is Format.BINARY_SI:
        # Small or fractional binary values print as decimal rather than round.
        if -1024 * _NANO < nanos < 1024 * _NANO or nanos % _NANO:
            fmt = Format.DECIMAL_SI
        else:
            mantissa, power = nanos // _NANO, 0
            while power < len(_BINARY_SUFFIX) - 1 and mantissa % 1024 == 0:
                mantissa //= 1024
                power += 1
            return f"{mantissa}{_BINARY_SUFFIX[power]}"
    digits = str(abs(nanos))
    stripped = digits.rstrip("0")
    exponent = -9 + len(digits) - len(stripped)
    # Lower the exponent to a multiple of three, growing the mantissa.
    pad = exponent % 3
    text = ("-" if nanos < 0 else "") + stripped + "0" * pad
    exponent -= pad
    if fmt is Format.DECIMAL_SI:
        suffix = _DECIMAL_SUFFIX.get(exponent)
        if suffix is not None:
            return text + suffix
    return text if exponent == 0 else f"{text}e{exponent}"


def _scan(text: str) -> tuple[bool, str, str, str, str]:
    """Upstream's ``parseQuantityString``: (positive, value, num, denom, suffix)."""
    positive = True
    pos, end = 0, len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] == "+"
        pos += 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "0", "", ""
    i = pos
    while i < end and text[i] in _DIGITS:
        i += 1
    num = text[pos:i]
    if i >= end:
        return positive, text, num, "", ""
    pos = i
    num = num or "0"
    denom = ""
    if text[pos] == ".":
        pos += 1
        i = pos
        while i < end and text[i] in _DIGITS:
            i += 1
        denom = text[pos:i]
        if i >= end:
            return positive, text, num, denom, ""
        pos = i
    value = text[:pos]
    start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(ERR_FORMAT)
    return positive, value, num, denom, text[start:]


def _interpret(suffix: str) -> tuple[int, int, Format]:
    known = _SUFFIXES.get(suffix)
    if known is not None:
        return known
    if len(suffix) > 1 and suffix[0] in "eE" and _EXPONENT_RE.fullmatch(suffix[1:]):
        parsed = int(suffix[1:])
        if -(2**63) <= parsed <= _MAX_INT64:
            # Upstream keeps the exponent in an int32 and wraps it.
            return 10, (parsed + 2**31) % 2**32 - 2**31, Format.DECIMAL_EXPONENT
    raise QuantityError(ERR_SUFFIX)


def _scale_nanos(coefficient: int, exponent: int, digits: int) -> int:
    """coefficient * 10^exponent in nano-units, rounded away from zero; ``digits`` bounds
    the coefficient's decimal length."""
    shift = exponent + 9
    if coefficient == 0:
        return 0
    if shift >= 0:
        if digits + shift > MAX_DIGITS:
            raise QuantityError(ERR_RANGE)
        return coefficient * _pow10(shift)
    if -shift > digits:  # 0 < |value| < 1n: rounds up to one nano
        return 1 if coefficient > 0 else -1
    return _ceil_div(coefficient, _pow10(-shift))


def parse_quantity(value: str | int | float) -> Quantity:
    """Parse like upstream's ``ParseQuantity``; numbers are parsed from their JSON text.

    Raises :class:`QuantityError` (a ``ValueError``) with upstream's message.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise QuantityError(ERR_FORMAT)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QuantityError(ERR_FORMAT)
        text = repr(value)
    else:
        try:
            text = str(value)
        except ValueError:  # an int too long for Python to print
            raise QuantityError(ERR_RANGE) from None
    if not text:
        raise QuantityError(ERR_FORMAT)
    if text == "0":
        return Quantity._make(0, Format.DECIMAL_SI, "0")
    positive, number, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret(suffix)

    # Upstream's int64 fast path decides whether the input text is kept verbatim.
    if fmt is Format.BINARY_SI:
        precision = 15 - len(num) - exponent * 3 // 10 - 1 if not denom else -1
        multiplier = 1 << exponent
        scale = 0
    else:
        precision = 18 - len(num) - len(denom)
        multiplier = 1
        scale = exponent
    if precision >= 0:
        scale -= len(denom)
        if scale >= -9:
            shifted = num + denom
            magnitude = int(shifted) * multiplier
            if magnitude <= _MAX_INT64:
                nanos = _scale_nanos(magnitude if positive else -magnitude, scale, 19)
                canonical = (
                    (int(shifted) & 7) != 0
                    if fmt is Format.BINARY_SI
                    else scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
                )
                return Quantity._make(nanos, fmt, text if canonical else None)

    # Slow path: arbitrary precision, rounded up to nano precision.
    if not any(ch in _DIGITS for ch in number):
        raise QuantityError(ERR_NUMERIC)
    digits = (num + denom).lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:
        raise QuantityError(ERR_RANGE)
    coefficient = int(digits)
    exp10 = -len(denom)
    if base == 10:
        exp10 += exponent
    else:
        coefficient <<= exponent
    nanos = _scale_nanos(coefficient, exp10, len(digits) + 19)
    if fmt is Format.BINARY_SI:
        nanos = min(nanos, _MAX_INT64 * _NANO)
        if 0 < nanos < _NANO:
            fmt = Format.DECIMAL_SI
    return Quantity._make(nanos if positive else -nanos, fmt)


def normalize_quantity(value: str | int | float) -> str:
    """What decoding and re-encoding a quantity field does upstream (whitespace trimmed)."""
    if isinstance(value, str):
        value = value.strip()
    return str(parse_quantity(value))
