"""Resource quantities: parsing, canonical text, arithmetic and order, as upstream."""

from __future__ import annotations

import pickle
from decimal import ROUND_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kybernetes.api._quantity import (
    ERR_FORMAT,
    ERR_NUMERIC,
    ERR_SUFFIX,
    Format,
    Quantity,
    QuantityError,
    normalize_quantity,
    parse_quantity,
)

# (input, canonical text, format, exact value)
PARSE_TABLE = [
    ("0", "0", Format.DECIMAL_SI, "0"),
    ("00", "0", Format.DECIMAL_SI, "0"),
    ("-0", "0", Format.DECIMAL_SI, "0"),
    ("100m", "100m", Format.DECIMAL_SI, "0.1"),
    ("1Gi", "1Gi", Format.BINARY_SI, "1073741824"),
    ("1e3", "1e3", Format.DECIMAL_EXPONENT, "1000"),
    ("1E3", "1E3", Format.DECIMAL_EXPONENT, "1000"),
    ("0.5", "500m", Format.DECIMAL_SI, "0.5"),
    ("0.1", "100m", Format.DECIMAL_SI, "0.1"),
    ("1.1", "1100m", Format.DECIMAL_SI, "1.1"),
    ("-1.5", "-1500m", Format.DECIMAL_SI, "-1.5"),
    ("1.5Ki", "1536", Format.BINARY_SI, "1536"),
    ("+1", "+1", Format.DECIMAL_SI, "1"),  # canonical input text is kept verbatim
    ("-1", "-1", Format.DECIMAL_SI, "-1"),
    ("1E", "1E", Format.DECIMAL_SI, "1e18"),
    ("12E", "12E", Format.DECIMAL_SI, "12e18"),
    ("500u", "500u", Format.DECIMAL_SI, "0.0005"),
    ("10n", "10n", Format.DECIMAL_SI, "1e-8"),
    ("1000", "1k", Format.DECIMAL_SI, "1000"),
    ("1000000", "1M", Format.DECIMAL_SI, "1000000"),
    ("123456789", "123456789", Format.DECIMAL_SI, "123456789"),
    ("1e6", "1e6", Format.DECIMAL_EXPONENT, "1000000"),
    ("1000m", "1", Format.DECIMAL_SI, "1"),
    ("0.1m", "100u", Format.DECIMAL_SI, "0.0001"),
    ("0.001", "1m", Format.DECIMAL_SI, "0.001"),
    ("1536Mi", "1536Mi", Format.BINARY_SI, "1610612736"),
    ("1.5Gi", "1536Mi", Format.BINARY_SI, "1610612736"),
    ("1Ki", "1Ki", Format.BINARY_SI, "1024"),
    ("8Ki", "8Ki", Format.BINARY_SI, "8192"),
    ("1024Ki", "1Mi", Format.BINARY_SI, "1048576"),
    ("1024Mi", "1Gi", Format.BINARY_SI, "1073741824"),
    ("1000Mi", "1000Mi", Format.BINARY_SI, "1048576000"),
    ("0.5Mi", "512Ki", Format.BINARY_SI, "524288"),
    ("2048", "2048", Format.DECIMAL_SI, "2048"),
    ("100.035Ki", "102435840m", Format.BINARY_SI, "102435.84"),
    ("0.05Gi", "53687091200m", Format.BINARY_SI, "53687091.2"),
    # upstream's leniencies
    ("1.", "1.", Format.DECIMAL_SI, "1"),
    ("1.G", "1.G", Format.DECIMAL_SI, "1e9"),
    (".001", "1m", Format.DECIMAL_SI, "0.001"),
    (".0001k", "100m", Format.DECIMAL_SI, "0.1"),
    # rounding up (away from zero) to nano precision
    ("3.001n", "4n", Format.DECIMAL_SI, "4e-9"),
    ("1.1E-9", "2e-9", Format.DECIMAL_EXPONENT, "2e-9"),
    ("0.0000000001", "1n", Format.DECIMAL_SI, "1e-9"),
    ("0.00000012345", "124n", Format.DECIMAL_SI, "1.24e-7"),
    ("-0.0000000001", "-1n", Format.DECIMAL_SI, "-1e-9"),
    ("1e-2000000000", "1e-9", Format.DECIMAL_EXPONENT, "1e-9"),
    # a binary value below one becomes decimal; above 2^63-1 it is capped
    ("0.000000000001Ki", "2n", Format.DECIMAL_SI, "2e-9"),
    ("9Ei", "9223372036854775807", Format.BINARY_SI, "9223372036854775807"),
    ("9223372036854775807Ki", "9223372036854775807", Format.BINARY_SI, "9223372036854775807"),
    # values above the E suffix print in exponent form (upstream 1.33 would print "1")
    ("1000E", "1e21", Format.DECIMAL_SI, "1e21"),
]


@pytest.mark.parametrize(("text", "canonical", "fmt", "value"), PARSE_TABLE)
def test_parse_and_print(text: str, canonical: str, fmt: Format, value: str) -> None:
    q = parse_quantity(text)
    assert str(q) == canonical
    assert q.format is fmt
    assert q.as_decimal() == Decimal(value)
    assert q.to_json() == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", ERR_FORMAT),
        ("abc", ERR_FORMAT),
        ("1.5.5", ERR_FORMAT),
        ("1 ", ERR_FORMAT),
        (" 1", ERR_FORMAT),
        ("1x", ERR_FORMAT),
        ("1e", ERR_SUFFIX),
        ("1Kim", ERR_SUFFIX),
        ("1kk", ERR_SUFFIX),
        ("1i", ERR_SUFFIX),
        ("--1", ERR_SUFFIX),
        ("1e+", ERR_SUFFIX),
        ("1e99999999999999999999", ERR_SUFFIX),
        (".e-10", ERR_NUMERIC),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(text)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_format_error_text_is_upstreams() -> None:
    assert ERR_FORMAT == (
        "quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


def test_absurd_magnitudes_are_rejected_not_computed() -> None:
    with pytest.raises(QuantityError, match="out of range"):
        parse_quantity("1e999999999")
    assert parse_quantity("0e999999999").is_zero()


def test_numbers_parse_from_their_json_text() -> None:
    assert str(parse_quantity(2)) == "2"
    assert str(parse_quantity(0.25)) == "250m"
    assert str(parse_quantity(-3)) == "-3"
    for bad in (True, None, float("nan"), float("inf"), [1]):
        with pytest.raises(QuantityError):
            parse_quantity(bad)  # type: ignore[arg-type]


def test_normalize_is_a_decode_encode_round_trip() -> None:
    assert normalize_quantity(" 1000m ") == "1"
    assert normalize_quantity("1.5Gi") == "1536Mi"
    assert normalize_quantity(0.5) == "500m"
    assert normalize_quantity("100m") == "100m"


@pytest.mark.parametrize(
    ("text", "value", "milli"),
    [
        ("1", 1, 1000),
        ("0.5", 1, 500),
        ("1.1", 2, 1100),
        ("-0.5", -1, -500),
        ("-1.1", -2, -1100),
        ("100m", 1, 100),
        ("1n", 1, 1),
        ("1Ki", 1024, 1024000),
        ("1.5", 2, 1500),
        ("0", 0, 0),
    ],
)
def test_value_and_milli_value_round_away_from_zero(text: str, value: int, milli: int) -> None:
    q = parse_quantity(text)
    assert q.value() == value
    assert q.milli_value() == milli


def test_scaled_value_and_constructors() -> None:
    q = parse_quantity("10n")
    assert q.scaled_value(-9) == 10
    assert q.scaled_value(-6) == 1
    assert parse_quantity("5G").scaled_value(9) == 5
    assert parse_quantity("5G").scaled_value(-3) == 5 * 10**12
    assert str(Quantity.from_int(5, Format.BINARY_SI)) == "5"
    assert str(Quantity.from_int(2048, Format.BINARY_SI)) == "2Ki"
    assert str(Quantity.from_milli(1500)) == "1500m"
    assert str(Quantity.from_milli(500, Format.BINARY_SI)) == "500m"
    assert float(parse_quantity("250m")) == 0.25


def test_add_and_sub_keep_the_left_format_unless_it_is_zero() -> None:
    one, half = parse_quantity("1"), parse_quantity("500m")
    assert str(one + half) == "1500m"
    assert str(one - half) == "500m"
    assert str(half - one) == "-500m"
    zero = parse_quantity("0")
    assert (zero + parse_quantity("1Ki")).format is Format.BINARY_SI
    assert str(zero + parse_quantity("1Ki")) == "1Ki"
    assert str(zero - parse_quantity("1Ki")) == "-1Ki"
    assert str(parse_quantity("1Gi") - parse_quantity("512Mi")) == "512Mi"
    assert str(parse_quantity("1Ki") - parse_quantity("1Ki")) == "0"
    assert str(parse_quantity("1Ki") + parse_quantity("1")) == "1025"
    assert str(-parse_quantity("1Ki")) == "-1Ki"
    assert abs(parse_quantity("-2")) == parse_quantity("2")


def test_order_equality_hash_ignore_format_and_text() -> None:
    assert parse_quantity("1") == parse_quantity("1000m") == parse_quantity("1e0")
    assert len({parse_quantity("1"), parse_quantity("1000m"), parse_quantity("+1")}) == 1
    values = ["1Ki", "1", "-1", "999m", "1k", "1e3", "0", "1n"]
    ordered = sorted(parse_quantity(v) for v in values)
    assert [str(q) for q in ordered] == ["-1", "0", "1n", "999m", "1", "1k", "1e3", "1Ki"]
    assert parse_quantity("1k").cmp(parse_quantity("1e3")) == 0
    assert parse_quantity("1").cmp(parse_quantity("2")) == -1
    assert parse_quantity("1") != "1"
    assert parse_quantity("2").sign() == 1 and parse_quantity("-2").sign() == -1


def test_quantity_is_immutable_and_picklable() -> None:
    q = parse_quantity("+1")
    with pytest.raises(AttributeError):
        q.foo = 1
    with pytest.raises(AttributeError):
        del q._nanos
    restored = pickle.loads(pickle.dumps(q))
    assert restored == q and str(restored) == "+1"
    assert repr(q) == "Quantity('+1')"


# -- properties ---------------------------------------------------------------------------------

_SUFFIXES = ["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
_SUFFIXES += ["e0", "e3", "e-3", "E5", "e-12", "e+2"]
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"": 0, "n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


@st.composite
def quantity_texts(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from(["", "+", "-"]))
    whole = draw(st.text("0123456789", max_size=12))
    frac = draw(st.none() | st.text("0123456789", max_size=12))
    if not whole and not frac:
        whole = "0"
    suffix = draw(st.sampled_from(_SUFFIXES))
    return sign + whole + ("" if frac is None else "." + frac) + suffix


def expected_value(text: str) -> Decimal:
    """An independent oracle: the exact value, rounded up to nano, binary values capped."""
    with localcontext() as ctx:
        ctx.prec = 200
        return _expected(text)


def _expected(text: str) -> Decimal:
    suffix = next(s for s in sorted(_SUFFIXES, key=len, reverse=True) if text.endswith(s))
    number = Decimal(text[: len(text) - len(suffix)] if suffix else text)
    value: Decimal
    if suffix in _BINARY:
        value = number * 2 ** _BINARY[suffix]
    elif suffix in _DECIMAL:
        value = number.scaleb(_DECIMAL[suffix])
    else:
        value = number.scaleb(int(suffix[1:]))
    value = value.quantize(Decimal("1e-9"), rounding=ROUND_UP)
    if suffix in _BINARY:
        value = max(min(value, Decimal(2**63 - 1)), Decimal(-(2**63 - 1)))
    return value


@given(quantity_texts())
def test_parse_matches_exact_arithmetic(text: str) -> None:
    assert parse_quantity(text).as_decimal() == expected_value(text)


@given(quantity_texts())
def test_canonical_text_round_trips(text: str) -> None:
    q = parse_quantity(text)
    again = parse_quantity(str(q))
    assert again == q
    assert str(again) == str(q)
    if str(q) != text:  # a re-printed value has an integer mantissa
        mantissa = str(q).rstrip("numkMGTPEi").split("e")[0].split("E")[0]
        assert "." not in mantissa


@given(quantity_texts(), quantity_texts())
def test_order_and_arithmetic_agree_with_values(a: str, b: str) -> None:
    qa, qb = parse_quantity(a), parse_quantity(b)
    da, db = qa.as_decimal(), qb.as_decimal()
    assert (qa < qb) == (da < db)
    assert (qa == qb) == (da == db)
    with localcontext() as ctx:
        ctx.prec = 200
        assert (qa + qb).as_decimal() == da + db
        assert (qa - qb).as_decimal() == da - db
    total = qa + qb
    # Parsing caps binary values at 2^63-1; arithmetic does not (as upstream).
    if total.format is not Format.BINARY_SI or abs(total.value()) < 2**63:
        assert parse_quantity(str(total)) == total
