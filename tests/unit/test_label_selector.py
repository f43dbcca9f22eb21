"""Label selector string form: parsing, canonical rendering, matching, errors (as upstream)."""

from __future__ import annotations

import pytest

from kybernetes.api import (
    LabelOperator,
    LabelRequirement,
    LabelSelector,
    SelectorError,
    parse_label_selector,
)

Op = LabelOperator

_QNAME_RULE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.mark.parametrize(
    ("text", "canonical", "requirements"),
    [
        ("", "", []),
        ("   \t\n ", "", []),
        ("a=b", "a=b", [("a", Op.EQUALS, ("b",))]),
        ("a==b", "a==b", [("a", Op.DOUBLE_EQUALS, ("b",))]),
        ("a!=b", "a!=b", [("a", Op.NOT_EQUALS, ("b",))]),
        ("a=", "a=", [("a", Op.EQUALS, ("",))]),
        ("a!=,b", "a!=,b", [("a", Op.NOT_EQUALS, ("",)), ("b", Op.EXISTS, ())]),
        ("a", "a", [("a", Op.EXISTS, ())]),
        ("!a", "!a", [("a", Op.DOES_NOT_EXIST, ())]),
        ("  ! a  ", "!a", [("a", Op.DOES_NOT_EXIST, ())]),
        ("a>1", "a>1", [("a", Op.GREATER_THAN, ("1",))]),
        ("a < 10", "a<10", [("a", Op.LESS_THAN, ("10",))]),
        ("a in (y,x)", "a in (x,y)", [("a", Op.IN, ("x", "y"))]),
        ("a in (x,x)", "a in (x)", [("a", Op.IN, ("x",))]),
        ("a notin (x)", "a notin (x)", [("a", Op.NOT_IN, ("x",))]),
        ("a in ()", "a in ()", [("a", Op.IN, ("",))]),
        ("a in (,x)", "a in (,x)", [("a", Op.IN, ("", "x"))]),
        ("a in (x,)", "a in (,x)", [("a", Op.IN, ("", "x"))]),
        ("a in (x,,y)", "a in (,x,y)", [("a", Op.IN, ("", "x", "y"))]),
        ("a  in\t( x , y )", "a in (x,y)", [("a", Op.IN, ("x", "y"))]),
        # Keywords are identifiers wherever a key or value is expected.
        ("in in (in,notin)", "in in (in,notin)", [("in", Op.IN, ("in", "notin"))]),
        ("notin=in", "notin=in", [("notin", Op.EQUALS, ("in",))]),
        # Sorted by key (stably), as upstream's parser does.
        ("z=1,a,m notin (q)", "a,m notin (q),z=1", None),
        ("b=2,a=1,b=1", "a=1,b=2,b=1", None),
        (
            "x in (foo,,baz),y,z notin ()",
            "x in (,baz,foo),y,z notin ()",
            [("x", Op.IN, ("", "baz", "foo")), ("y", Op.EXISTS, ()), ("z", Op.NOT_IN, ("",))],
        ),
        ("example.com/app=web", "example.com/app=web", [("example.com/app", Op.EQUALS, ("web",))]),
    ],
)
def test_parse_valid(
    text: str, canonical: str, requirements: list[tuple[str, Op, tuple[str, ...]]] | None
) -> None:
    sel = parse_label_selector(text)
    assert str(sel) == canonical
    if requirements is not None:
        assert [(r.key, r.operator, r.values) for r in sel.requirements] == requirements
    assert parse_label_selector(str(sel)) == sel


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a=b,", "found '', expected: identifier after ','"),
        # NUL ends a token without being one, as in upstream's byte lexer.
        ("a=b\x00c", "found 'c', expected: ',' or 'end of string'"),
        ("a,,b", "found ',', expected: identifier after ','"),
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        (",", "found ',', expected: !, identifier, or 'end of string'"),
        ("(a)", "found '(', expected: !, identifier, or 'end of string'"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("!!a", "unable to parse requirement: found '!', expected: identifier"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("a in", "unable to parse requirement: found '' expected: '('"),
        ("a in x", "unable to parse requirement: found 'x' expected: '('"),
        ("a in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
        ("a in (x", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in (x y)", "unable to parse requirement: found 'y', expected: ',' or ')'"),
        ("a in (,,)", "unable to parse requirement: found ')', expected: ',', or identifier"),
        ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("a=(x)", "unable to parse requirement: found '(', expected: identifier"),
        ("a=!b", "unable to parse requirement: found '!', expected: identifier"),
        ("a>=1", "unable to parse requirement: found '=', expected: identifier"),
        (
            "a>b",
            'unable to parse requirement: values[0]: Invalid value: "b": '
            "for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        (
            "a<99999999999999999999",
            'unable to parse requirement: values[0]: Invalid value: "99999999999999999999": '
            "for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        ("a@b=c", f'unable to parse requirement: <nil>: Invalid value: "a@b": {_QNAME_RULE}'),
        ("-a", f'unable to parse requirement: <nil>: Invalid value: "-a": {_QNAME_RULE}'),
        (
            "a=b@",
            f'unable to parse requirement: values[0][a]: Invalid value: "b@": {_VALUE_RULE}',
        ),
        (
            "a in (ok,-bad)",
            f'unable to parse requirement: values[0][a]: Invalid value: "-bad": {_VALUE_RULE}',
        ),
        (
            "a=" + "x" * 64,
            'unable to parse requirement: values[0][a]: Invalid value: "'
            + "x" * 64
            + '": must be no more than 63 characters',
        ),
        (
            "a/b/c",
            'unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name must '
            "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
            "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
            "subdomain prefix and '/' (e.g. 'example.com/MyName')",
        ),
        (
            "/a",
            'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be '
            "non-empty",
        ),
        (
            "Example.com/a",
            'unable to parse requirement: <nil>: Invalid value: "Example.com/a": prefix part a '
            "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character (e.g. "
            "'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ),
        (
            "a/",
            'unable to parse requirement: <nil>: Invalid value: "a/": name part must be '
            f"non-empty; {_QNAME_RULE}",
        ),
        (
            "k" * 64,
            f'unable to parse requirement: <nil>: Invalid value: "{"k" * 64}": name part must '
            "be no more than 63 characters",
        ),
        (
            'a"b',
            f'unable to parse requirement: <nil>: Invalid value: "a\\"b": {_QNAME_RULE}',
        ),
    ],
)
def test_parse_errors_use_upstream_wording(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse_label_selector(text)
    assert str(info.value) == message


def test_gt_lt_with_several_errors_are_aggregated() -> None:
    with pytest.raises(SelectorError) as info:
        LabelRequirement.create("a", Op.GREATER_THAN, ["1", "x@"])
    assert str(info.value) == (
        "[values: Invalid value: []string{\"1\", \"x@\"}: for 'Gt', 'Lt' operators, exactly one "
        "value is required, values[1]: Invalid value: \"x@\": for 'Gt', 'Lt' operators, the "
        f'value must be an integer, values[1][a]: Invalid value: "x@": {_VALUE_RULE}]'
    )


@pytest.mark.parametrize(
    ("key", "op", "values", "message"),
    [
        (
            "a",
            Op.IN,
            [],
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set "
            "can't be empty",
        ),
        (
            "a",
            Op.EQUALS,
            ["x", "y"],
            'values: Invalid value: []string{"x", "y"}: exact-match compatibility requires one '
            "single value",
        ),
        (
            "a",
            Op.EXISTS,
            ["x"],
            'values: Invalid value: []string{"x"}: values set must be empty for exists and does '
            "not exist",
        ),
        (
            "a",
            "~",
            [],
            'operator: Unsupported value: "~": supported values: "in", "notin", "=", "==", '
            '"!=", "gt", "lt", "exists", "!"',
        ),
        ("a b", Op.EXISTS, [], f'key: Invalid value: "a b": {_QNAME_RULE}'),
    ],
)
def test_create_validates_like_new_requirement(
    key: str, op: Op | str, values: list[str], message: str
) -> None:
    with pytest.raises(SelectorError) as info:
        LabelRequirement.create(key, op, values)
    assert str(info.value) == message


def test_create_accepts_operator_strings() -> None:
    r = LabelRequirement.create("tier", "notin", ["db"])
    assert r == LabelRequirement("tier", Op.NOT_IN, ("db",))
    assert str(r) == "tier notin (db)"


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("", None, True),
        ("", {"a": "b"}, True),
        ("a=b", {"a": "b"}, True),
        ("a=b", {"a": "c"}, False),
        ("a=b", {}, False),
        ("a=b", None, False),
        ("a==b", {"a": "b", "x": "y"}, True),
        ("a=", {"a": ""}, True),
        ("a=", {}, False),
        ("a!=b", {"a": "c"}, True),
        ("a!=b", {}, True),  # a missing key is "not b"
        ("a!=b", {"a": "b"}, False),
        ("a in (x,y)", {"a": "y"}, True),
        ("a in (x,y)", {"a": "z"}, False),
        ("a in (x,y)", {}, False),
        ("a notin (x,y)", {"a": "z"}, True),
        ("a notin (x,y)", {}, True),
        ("a notin (x,y)", {"a": "x"}, False),
        ("a in ()", {"a": ""}, True),
        ("a", {"a": ""}, True),
        ("a", {"b": "a"}, False),
        ("!a", {"b": "a"}, True),
        ("!a", {"a": ""}, False),
        ("!a", None, True),
        ("a>1", {"a": "2"}, True),
        ("a>1", {"a": "1"}, False),
        ("a>1", {"a": "-5"}, False),
        ("a<1", {"a": "-5"}, True),
        ("a<1", {"a": "+0"}, True),  # Go's ParseInt takes a sign
        ("a>1", {"a": "x"}, False),
        ("a>1", {"a": "1_0"}, False),  # ...but not Python's underscores
        ("a>1", {"a": " 5"}, False),  # ...nor blanks
        ("a>1", {"a": "99999999999999999999"}, False),  # out of int64 range
        ("a<1", {}, False),
        ("a>1", {}, False),
        ("a=b,c", {"a": "b", "c": "d"}, True),
        ("a=b,c", {"a": "b"}, False),
        ("a=1,a=2", {"a": "1"}, False),
    ],
)
def test_matches(selector: str, labels: dict[str, str] | None, expected: bool) -> None:
    assert parse_label_selector(selector).matches(labels) is expected


def test_everything_and_nothing() -> None:
    everything = LabelSelector.everything()
    nothing = LabelSelector.nothing()
    assert everything == LabelSelector() == parse_label_selector("")
    assert everything.empty and not nothing.empty
    assert everything.matches({}) and everything.matches(None)
    assert not nothing.matches({}) and not nothing.matches({"a": "b"})
    assert str(nothing) == "" and nothing != everything
    assert nothing.add(LabelRequirement("a", Op.EXISTS)) is nothing
    assert nothing.exact_matches() == {}


def test_from_set_and_add_keep_keys_sorted() -> None:
    sel = LabelSelector.from_set({"tier": "web", "app": "shop"})
    assert str(sel) == "app=shop,tier=web"
    assert sel.matches({"app": "shop", "tier": "web", "x": "y"})
    assert not sel.matches({"app": "shop"})
    assert LabelSelector.from_set({}) == LabelSelector.from_set(None) == LabelSelector()
    more = sel.add(LabelRequirement("env", Op.NOT_IN, ("dev",)))
    assert str(more) == "app=shop,env notin (dev),tier=web"
    assert str(sel) == "app=shop,tier=web"  # immutable


def test_string_form_sorts_set_values_without_changing_them() -> None:
    r = LabelRequirement("a", Op.IN, ("z", "b"))
    assert str(r) == "a in (b,z)"
    assert r.values == ("z", "b")


def test_exact_matches_for_index_lookups() -> None:
    sel = parse_label_selector("app=web,tier in (db),env in (a,b),zone!=x,k==v,q")
    assert sel.exact_matches() == {"app": "web", "tier": "db", "k": "v"}
    assert sel.requires_exact_match("app") == "web"
    assert sel.requires_exact_match("env") is None
    assert sel.requires_exact_match("missing") is None
    # The first requirement on a key decides, as upstream's RequiresExactMatch.
    first_wins = LabelSelector(
        (LabelRequirement("a", Op.EXISTS), LabelRequirement("a", Op.EQUALS, ("x",)))
    )
    assert first_wins.exact_matches() == {}


def test_selectors_are_immutable_and_hashable() -> None:
    sel = parse_label_selector("a=b")
    with pytest.raises(AttributeError):
        sel.requirements = ()  # type: ignore[misc]
    assert hash(sel) == hash(parse_label_selector("a = b"))
    assert {sel: 1}[parse_label_selector("a=b")] == 1
