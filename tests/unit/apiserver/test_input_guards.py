"""Regression tests for bad input that used to crash the server (each was a 500 or worse).

Found by the schemathesis run and the hand-written bad-input tests; each test names the
class of bug it pins: nesting too deep for Python (RecursionError, or a libyaml segfault
that killed the process), YAML alias bombs, control characters in Warning headers,
bodies whose ``metadata`` is not an object, integers beyond int64, DeleteOptions fields of
the wrong type, patches that rename the object, and aiohttp's own plain-text errors.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.apiserver import _fieldcheck as fieldcheck
from kybernetes.apiserver._errors import APIError
from kybernetes.apiserver._httperrors import errors_as_status
from kybernetes.apiserver._nesting import MAX_DEPTH, check_value, check_yaml_text
from kybernetes.apiserver._options import (
    MAX_GRACE_PERIOD,
    parse_delete_options,
    parse_list_options,
)
from kybernetes.apiserver._patching import decode_patch
from kybernetes.apiserver._render import warning_headers
from kybernetes.apiserver._request import Target, check_identity, decode


def _configmaps() -> ResourceInfo:
    info = REGISTRY.get("", "v1", "configmaps")
    assert info is not None
    return info


CONFIGMAPS = _configmaps()


def nested_json(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def bad_request(call: Any, *args: Any, **kwargs: Any) -> APIError:
    with pytest.raises(APIError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == 400, caught.value
    return caught.value


# -- nesting ----------------------------------------------------------------------------------


def test_nesting_at_the_limit_is_accepted_one_more_is_refused() -> None:
    assert decode(nested_json(MAX_DEPTH), "application/json") is not None
    err = bad_request(decode, nested_json(MAX_DEPTH + 1), "application/json")
    assert "more than 100 levels deep" in err.message


@pytest.mark.parametrize("depth", [500, 1000, 10_000])
def test_deep_bodies_are_400_for_every_decoder(depth: int) -> None:
    body = nested_json(depth)
    bad_request(decode, body, "application/json")
    bad_request(decode_patch, body, "application/merge-patch+json")
    yaml_flow = b"a: " + b"[" * depth + b"]" * depth
    bad_request(decode, yaml_flow, "application/yaml")


def test_deep_block_yaml_is_400() -> None:
    lines = "".join(" " * i + "a:\n" for i in range(300)) + " " * 300 + "b: 1\n"
    bad_request(decode, lines.encode(), "application/yaml")


def test_libyaml_is_never_asked_to_compose_deep_flow_yaml() -> None:
    # libyaml's composer recursed in C and killed the process (SIGSEGV) on this input; the
    # event scan must refuse it first. Run in a child so a regression cannot take pytest.
    code = (
        "from kybernetes.apiserver._apply_body import decode_apply_body\n"
        "from kybernetes.apiserver._errors import APIError\n"
        "try:\n"
        "    decode_apply_body(b'a: ' + b'[' * 200000 + b']' * 200000, find_duplicates=True)\n"
        "except APIError as e:\n"
        "    print(e.code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "400"), done.stderr[-2000:]


def test_check_yaml_text_skips_bodies_without_many_brackets() -> None:
    check_yaml_text(b"apiVersion: v1\nkind: ConfigMap\n")  # no exception, no scan
    with pytest.raises(APIError):
        check_yaml_text(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    err = bad_request(decode, "\n".join(lines).encode(), "application/yaml")
    assert "excessive aliasing" in err.message


def test_modest_aliasing_is_fine() -> None:
    body = b"a: &a {k: v}\nb: *a\nc: *a\n"
    assert decode(body, "application/yaml") == {"a": {"k": "v"}, "b": {"k": "v"}, "c": {"k": "v"}}


def test_check_value_counts_nodes_against_the_text() -> None:
    shared: list[Any] = ["x"] * 50
    value = {"a": [shared] * 50}  # 2,551 nodes from a "text" of 100 bytes
    with pytest.raises(APIError):
        check_value(value, b"x" * 100, aliases=True)
    check_value(value, b"x" * 10_000, aliases=True)


# -- type confusion in bodies -----------------------------------------------------------------


@pytest.mark.parametrize("meta", [5, 1.5, "x", [], True])
def test_metadata_of_the_wrong_type_is_422_not_500(meta: Any) -> None:
    with pytest.raises(APIError) as caught:
        fieldcheck.check(CONFIGMAPS, {"metadata": meta, "data": {"a": 1}}, "Warn")
    assert caught.value.code == 422
    assert any(c.field == "metadata" for c in caught.value.causes)


def test_patch_cannot_rename_or_move_the_object() -> None:
    target = Target(CONFIGMAPS, "ns", "cm")
    check_identity({"metadata": {"name": "cm", "namespace": "ns"}}, target)
    err = bad_request(check_identity, {"metadata": {"name": "other"}}, target)
    assert err.message == "the name of the object (other) does not match the name on the URL (cm)"
    bad_request(check_identity, {"metadata": {}}, target)
    bad_request(check_identity, {"metadata": {"name": "cm", "namespace": "elsewhere"}}, target)


# -- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "99999999999999999999999"},
        {"timeoutSeconds": "-99999999999999999999999"},
        {"resourceVersion": "99999999999999999999999"},
        {"resourceVersion": str(2**63)},
    ],
)
def test_list_integers_beyond_int64_are_400(query: dict[str, str]) -> None:
    bad_request(parse_list_options, CONFIGMAPS, query)


def test_resource_version_at_int64_max_is_accepted() -> None:
    opts = parse_list_options(CONFIGMAPS, {"resourceVersion": str(2**63 - 1)})
    assert opts.resource_version == str(2**63 - 1)


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ({"gracePeriodSeconds": "99999999999999999999999"}, None),
        ({}, {"gracePeriodSeconds": 2**64}),
        ({}, {"propagationPolicy": 5}),
        ({}, {"preconditions": {"uid": 5}}),
        ({}, {"preconditions": {"resourceVersion": ["1"]}}),
    ],
)
def test_delete_options_of_the_wrong_type_are_400(
    query: dict[str, str], body: dict[str, Any] | None
) -> None:
    bad_request(parse_delete_options, query, body)


def test_huge_grace_periods_are_capped_to_a_representable_deadline() -> None:
    opts = parse_delete_options({"gracePeriodSeconds": str(2**62)}, None)
    assert opts.grace_period_seconds == MAX_GRACE_PERIOD


# -- what goes in headers ---------------------------------------------------------------------


def test_warnings_never_carry_control_characters_or_grow_unbounded() -> None:
    headers = warning_headers(['unknown field "a\nb\r\x00c"', "x" * 10_000, *["y" * 200] * 50])
    values = headers.getall("Warning")
    assert values[0] == '299 - "unknown field \\"a b  c\\""'
    assert all(not any(ord(ch) < 0x20 for ch in v) for v in values)
    assert len(values[1]) < 300 and values[1].endswith('..."')
    assert sum(len(v) for v in values) < 5000


# -- aiohttp's own errors ---------------------------------------------------------------------


async def _call(exc: BaseException) -> web.StreamResponse:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise exc

    return await errors_as_status(make_mocked_request("GET", "/x\ny"), handler)


@pytest.mark.parametrize(
    ("exc", "code", "reason"),
    [
        (web.HTTPNotFound(), 404, "NotFound"),
        (web.HTTPMethodNotAllowed("FOO", ["GET"]), 405, "MethodNotAllowed"),
        (web.HTTPRequestEntityTooLarge(3, 4), 413, "RequestEntityTooLarge"),
        (web.HTTPBadRequest(), 400, "BadRequest"),
        (RecursionError("boom"), 500, "InternalError"),
    ],
)
async def test_every_error_leaving_aiohttp_is_a_status(
    exc: BaseException, code: int, reason: str
) -> None:
    response = await _call(exc)
    assert isinstance(response, web.Response) and response.body is not None
    assert isinstance(response.body, bytes)
    doc = json.loads(response.body)
    assert (response.status, doc["kind"], doc["code"], doc["reason"]) == (
        code,
        "Status",
        code,
        reason,
    )
