"""How deep and how large a decoded request body may be. Pure.

Request bodies are decoded into plain dicts and lists that the server then walks with
recursive code (validation, pruning, patching, managed fields, copying) and encodes with
orjson, which refuses more than 254 levels. A body nested deeper than :data:`MAX_DEPTH`
is therefore refused up front with a 400, whatever its media type: upstream accepts up to
10,000 levels, but no real object comes close to ours (a pod template is about 15 levels
deep, a large CRD schema about 60).

YAML needs two more guards:

* libyaml's composer (behind ``yaml.CSafeLoader``) recurses in C without a limit, so a
  deeply nested flow collection (``[[[[...``) overflows the C stack and kills the process.
  :func:`check_yaml_text` finds the depth from the parser's event stream (which does not
  recurse) before anything composes the document.
* aliases let a small text stand for a huge value (the "billion laughs"); walking it would
  take forever. :func:`check_value` counts every node it visits, shared ones once per use,
  and refuses a value with more nodes than its text has bytes (JSON can never exceed that).
"""

from __future__ import annotations

from typing import Any

import yaml

from kybernetes.apiserver import _errors as errors

MAX_DEPTH = 100

_OPENERS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSERS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
_EventLoader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


def too_deep() -> errors.APIError:
    return errors.bad_request(
        f"the request body nests objects and arrays more than {MAX_DEPTH} levels deep"
    )


def excessive_aliasing() -> errors.APIError:
    return errors.bad_request(
        "error converting YAML to JSON: yaml: document contains excessive aliasing"
    )


def _may_nest_deeply(raw: bytes) -> bool:
    # Every level of a JSON (or flow YAML) collection opens with a bracket: a text with
    # fewer brackets than the limit cannot nest deeper than it. This keeps the common case
    # (a few hundred bytes of manifest) free of any walk.
    return raw.count(b"[") + raw.count(b"{") > MAX_DEPTH


def check_value(value: Any, raw: bytes, *, aliases: bool = False) -> None:
    """400 if ``value`` (decoded from ``raw``) nests deeper than :data:`MAX_DEPTH` or, when
    the text may hold ``aliases`` (YAML), has more nodes than ``raw`` has bytes."""
    if not aliases and not _may_nest_deeply(raw):
        return
    if not isinstance(value, dict | list):
        return
    budget = len(raw) + 1
    stack: list[tuple[dict[Any, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise too_deep()
        children = node.values() if isinstance(node, dict) else node
        budget -= len(children)
        if budget < 0:
            raise excessive_aliasing()
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))


def check_yaml_text(raw: bytes) -> None:
    """400 if the YAML text nests deeper than :data:`MAX_DEPTH`; run it before composing
    with libyaml. Malformed text passes: the real parse reports it in its own words."""
    if not _may_nest_deeply(raw):
        # Block-style nesting needs ever longer indentation: within the body limit it
        # stays far below what overflows libyaml, and check_value refuses it after.
        return
    depth = 0
    try:
        for event in yaml.parse(raw, Loader=_EventLoader):
            if isinstance(event, _OPENERS):
                depth += 1
                if depth > MAX_DEPTH:
                    raise too_deep()
            elif isinstance(event, _CLOSERS):
                depth -= 1
    except yaml.YAMLError:
        return
