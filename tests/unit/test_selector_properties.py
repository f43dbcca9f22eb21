"""Property tests for label and field selectors: round trips, blanks, and a reference matcher."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kybernetes.api import (
    FieldRequirement,
    FieldSelector,
    LabelOperator,
    LabelRequirement,
    LabelSelector,
    SelectorError,
    escape_field_value,
    label_selector_from_api,
    label_selector_to_api,
    parse_field_selector,
    parse_label_selector,
    unescape_field_value,
)

Op = LabelOperator

_ALNUM = "abcxyzABZ019"
_NAME_CHARS = _ALNUM + "-_."
_SEGMENT = st.text(_ALNUM, min_size=1, max_size=2) | st.builds(
    lambda a, mid, b: a + mid + b,
    st.sampled_from(_ALNUM),
    st.text(_NAME_CHARS, max_size=6),
    st.sampled_from(_ALNUM),
)
_PREFIX = st.lists(st.text("abz09", min_size=1, max_size=4), min_size=1, max_size=3).map(".".join)
# A small alphabet so that generated labels often hit the generated selectors.
_KEYS = st.sampled_from(["a", "b", "app", "in", "notin", "x.y", "k8s.io/role", "A-1_b.c"])
_ANY_KEY = _KEYS | _SEGMENT | st.builds(lambda p, n: f"{p}/{n}", _PREFIX, _SEGMENT)
_VALUES = st.sampled_from(["", "1", "2", "10", "web", "db", "in", "x_y.z-1"])
_ANY_VALUE = _VALUES | _SEGMENT | st.integers(0, 10**6).map(str)


@st.composite
def _requirements(draw: st.DrawFn, keys: st.SearchStrategy[str] = _ANY_KEY) -> LabelRequirement:
    key = draw(keys)
    op = draw(st.sampled_from(list(Op)))
    if op in (Op.EXISTS, Op.DOES_NOT_EXIST):
        values: tuple[str, ...] = ()
    elif op in (Op.GREATER_THAN, Op.LESS_THAN):
        small = st.sampled_from(["0", "1", "2", "4", "007", "10"])
        values = (draw(small | st.integers(0, 2**63 - 1).map(str)),)
    elif op in (Op.IN, Op.NOT_IN):
        # The parser keeps set values sorted and unique; generate them that way.
        values = tuple(sorted(set(draw(st.lists(_ANY_VALUE, min_size=1, max_size=4)))))
    else:
        values = (draw(_ANY_VALUE),)
    return LabelRequirement.create(key, op, values)


_SELECTORS = st.lists(_requirements(), max_size=5).map(LabelSelector.of)
_MATCHABLE = st.lists(_requirements(_KEYS), max_size=4).map(LabelSelector.of)
_LABELS = st.dictionaries(_KEYS, _VALUES | st.sampled_from(["-3", "+4", "x", "007"]), max_size=6)


def _reference_match(sel: LabelSelector, labels: Mapping[str, str]) -> bool:
    """An independent reading of upstream's Requirement.Matches."""
    for r in sel.requirements:
        have = labels.get(r.key)
        if r.operator in (Op.EQUALS, Op.DOUBLE_EQUALS, Op.IN):
            ok = have is not None and have in r.values
        elif r.operator in (Op.NOT_EQUALS, Op.NOT_IN):
            ok = have is None or have not in r.values
        elif r.operator is Op.EXISTS:
            ok = have is not None
        elif r.operator is Op.DOES_NOT_EXIST:
            ok = have is None
        else:
            ok = False
            if have is not None and re.fullmatch(r"[+-]?\d+", have):
                a, b = int(have), int(r.values[0])
                ok = a > b if r.operator is Op.GREATER_THAN else a < b
        if not ok:
            return False
    return True


@given(_SELECTORS)
def test_label_string_form_round_trips(sel: LabelSelector) -> None:
    assert parse_label_selector(str(sel)) == sel


@given(_SELECTORS, st.data())
def test_label_blanks_between_tokens_do_not_matter(sel: LabelSelector, data: st.DataObject) -> None:
    def blank() -> str:
        return data.draw(st.text(" \t\r\n", max_size=2))

    parts = []
    for r in sel.requirements:
        if r.operator is Op.EXISTS:
            parts.append(f"{blank()}{r.key}{blank()}")
        elif r.operator is Op.DOES_NOT_EXIST:
            parts.append(f"{blank()}!{blank()}{r.key}{blank()}")
        elif r.operator in (Op.IN, Op.NOT_IN):
            inner = ",".join(f"{blank()}{v}{blank()}" for v in r.values)
            # At least one blank each side of the keyword, or it would join the key.
            parts.append(f"{r.key} {blank()}{r.operator.value} {blank()}({inner}){blank()}")
        else:
            infix = {Op.GREATER_THAN: ">", Op.LESS_THAN: "<"}.get(r.operator, r.operator.value)
            parts.append(f"{blank()}{r.key}{blank()}{infix}{blank()}{r.values[0]}{blank()}")
    assert parse_label_selector(",".join(parts)) == sel


@given(_MATCHABLE, _LABELS)
def test_label_matching_agrees_with_the_reference(
    sel: LabelSelector, labels: dict[str, str]
) -> None:
    assert sel.matches(labels) is _reference_match(sel, labels)
    assert parse_label_selector(str(sel)).matches(labels) is sel.matches(labels)


@given(_MATCHABLE, _LABELS)
def test_exact_matches_never_exclude_a_match(sel: LabelSelector, labels: dict[str, str]) -> None:
    # What an informer index lookup relies on: every match carries every exact value.
    if sel.matches(labels):
        assert all(labels.get(k) == v for k, v in sel.exact_matches().items())


_LABEL_TOKENS = [*"ab=!(),<>1 \t-/._x", "in", "notin", " in ", "=="]


@given(st.lists(st.sampled_from(_LABEL_TOKENS), max_size=20).map("".join))
def test_label_parser_only_raises_selector_errors(text: str) -> None:
    try:
        sel = parse_label_selector(text)
    except SelectorError:
        return
    assert parse_label_selector(str(sel)) == sel


@given(st.text(max_size=30))
def test_label_parser_survives_any_text(text: str) -> None:
    try:
        parse_label_selector(text)
    except SelectorError:
        pass


_API_EXPRESSIONS = st.lists(
    st.fixed_dictionaries(
        {
            "key": _KEYS,
            "operator": st.sampled_from(["In", "NotIn"]),
            "values": st.lists(_VALUES, min_size=1, max_size=3),
        }
    )
    | st.fixed_dictionaries(
        {"key": _KEYS, "operator": st.sampled_from(["Exists", "DoesNotExist"])}
    ),
    max_size=3,
)


@given(st.dictionaries(_KEYS, _VALUES, max_size=3), _API_EXPRESSIONS, _LABELS)
def test_api_form_round_trips(
    match_labels: dict[str, str], expressions: list[dict[str, Any]], labels: dict[str, str]
) -> None:
    obj = {"matchLabels": match_labels, "matchExpressions": expressions}
    sel = label_selector_from_api(obj)
    # The /scale status.selector string means the same thing as the object.
    assert parse_label_selector(str(sel)).matches(labels) is sel.matches(labels)
    again = label_selector_from_api(label_selector_to_api(sel))
    assert again.matches(labels) is sel.matches(labels)


_FIELD_NAMES = st.sampled_from(["metadata.name", "metadata.namespace", "spec.nodeName", "a"])


@given(st.text())
def test_field_value_escaping_round_trips(value: str) -> None:
    escaped = escape_field_value(value)
    assert unescape_field_value(escaped) == value
    assert re.search(r"(?<!\\)(?:\\\\)*[,=]", escaped) is None  # no bare , or = is left


@given(
    st.lists(
        st.builds(FieldRequirement, _FIELD_NAMES, st.sampled_from(["=", "!="]), st.text()),
        max_size=4,
    )
)
def test_field_string_form_round_trips(reqs: list[FieldRequirement]) -> None:
    sel = FieldSelector(tuple(sorted(reqs, key=str)))
    assert parse_field_selector(str(sel)) == sel


_OBJECTS = st.fixed_dictionaries(
    {
        "metadata": st.fixed_dictionaries(
            {"name": st.sampled_from(["x", "y"])},
            optional={"namespace": st.sampled_from(["", "ns"])},
        ),
        "spec": st.fixed_dictionaries({}, optional={"nodeName": st.sampled_from(["n1", "n2"])}),
    }
)


@given(
    st.lists(
        st.builds(
            FieldRequirement,
            st.sampled_from(["metadata.name", "metadata.namespace", "spec.nodeName"]),
            st.sampled_from(["=", "!="]),
            st.sampled_from(["", "x", "y", "ns", "n1"]),
        ),
        max_size=3,
    ),
    _OBJECTS,
)
def test_field_matching_agrees_with_the_reference(
    reqs: list[FieldRequirement], obj: dict[str, Any]
) -> None:
    sel = FieldSelector(tuple(reqs))

    def read(path: str) -> str:
        cur: Any = obj
        for part in path.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        return cur if isinstance(cur, str) else ""

    expected = all((read(r.field) == r.value) is (r.operator == "=") for r in reqs)
    assert sel.matches(obj) is expected
    assert sel.for_resource("", "pods").matches(obj) is expected
    if expected:
        assert all(read(k) == v for k, v in sel.exact_matches().items())


@given(st.text(alphabet="ab=!,\\. x"))
def test_field_parser_only_raises_selector_errors(text: str) -> None:
    try:
        sel = parse_field_selector(text)
    except SelectorError:
        return
    assert parse_field_selector(str(sel)) == sel


@given(st.integers(-(2**63), 2**63 - 1), st.integers(0, 2**63 - 1))
def test_gt_lt_compare_as_int64(have: int, want: int) -> None:
    labels = {"a": str(have)}
    assert parse_label_selector(f"a>{want}").matches(labels) is (have > want)
    assert parse_label_selector(f"a<{want}").matches(labels) is (have < want)
    assert parse_label_selector(f"a>{want}").matches({"a": str(want)}) is False
