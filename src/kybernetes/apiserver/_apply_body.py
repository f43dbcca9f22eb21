"""The body of a server-side apply PATCH: a YAML (or JSON) object, decoded as upstream. Pure.

:func:`decode_apply_body` turns ``application/apply-patch+yaml`` bytes into the applied
configuration plus the duplicate keys it holds, worded as upstream's strict YAML decoder
words them (``line 10: key "replicas" already set in map``): the caller refuses them under
``fieldValidation=Strict`` (:func:`strict_yaml_message`) and warns under ``Warn``, the
default. JSON bodies (what kubectl sends) take the fast JSON decoder; YAML bodies keep
timestamps as strings, as Go's YAML-to-JSON conversion does. Malformed bodies are 400
``error decoding YAML: ...``. An empty body is an empty configuration.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import yaml

from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver import _nesting as nesting

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """YAML as JSON sees it, noting each key a mapping repeats."""

    def __init__(self, stream: bytes) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, int, str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node)
            if key in seen:
                shown = f'"{key}"' if isinstance(key, str) else str(key)
                mark = key_node.start_mark
                message = f"line {mark.line + 1}: key {shown} already set in map"
                self.duplicates.append((mark.line, mark.column, message))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _jsonable(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_jsonable(v) for v in value)
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return value is None or isinstance(value, str | int | bool)


def _load_yaml(raw: bytes) -> tuple[Any, list[str]]:
    nesting.check_yaml_text(raw)  # before libyaml composes (and could overflow the C stack)
    loader = _Loader(raw)
    try:
        value = loader.get_single_data()
    except yaml.YAMLError as e:
        raise errors.bad_request(f"error decoding YAML: yaml: {e}") from None
    except RecursionError:  # the pure-Python composer, when libyaml is absent
        raise nesting.too_deep() from None
    finally:
        loader.dispose()
    nesting.check_value(value, raw, aliases=True)
    if not _jsonable(value):
        raise errors.bad_request(
            "error decoding YAML: the configuration is not representable as JSON"
        )
    # Nested mappings are built after their parents: report in document order.
    return value, [message for _, _, message in sorted(loader.duplicates)]


def _json_duplicates(raw: bytes) -> bool:
    found = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        if len({k for k, _ in items}) != len(items):
            found = True
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except ValueError:
        return False
    return found


def decode_apply_body(raw: bytes, *, find_duplicates: bool) -> tuple[Any, list[str]]:
    """(the applied configuration, its duplicate-key messages); ``find_duplicates`` False
    skips that search (``fieldValidation=Ignore``). The configuration may be any JSON value:
    the caller checks that it is an object."""
    if not raw.strip():
        return {}, []
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value, duplicates = _load_yaml(raw)
        return ({} if value is None else value), (duplicates if find_duplicates else [])
    nesting.check_value(value, raw)
    if not find_duplicates or not _json_duplicates(raw):
        return value, []
    # Rare: the YAML reading of the same text numbers the lines as upstream does.
    try:
        return value, _load_yaml(raw)[1]
    except errors.APIError:
        return value, ["duplicate keys in the JSON configuration"]


def strict_yaml_message(duplicates: list[str]) -> str:
    """The 400 message for duplicate keys under ``fieldValidation=Strict``."""
    return (
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  "
        + "\n  ".join(duplicates)
    )
