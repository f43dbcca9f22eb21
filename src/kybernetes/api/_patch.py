"""JSON patch (RFC 6902) and JSON merge patch (RFC 7386) over plain JSON-shaped dicts.

Every function here is pure: inputs are never mutated and results share no dict or list
with them. Failures raise :class:`PatchError`, whose messages follow the wording the
Kubernetes API server uses, so clients see familiar text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsonpatch

from kybernetes.api._jsonvalue import deep_copy, json_equal, render

#: The API server refuses JSON patches with more operations than this.
MAX_JSON_PATCH_OPERATIONS = 10000

_OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})


class PatchError(ValueError):
    """A patch that cannot be applied (or created).

    ``malformed`` is True when the patch document itself is not well formed (a 400 Bad
    Request upstream); otherwise it is well formed but does not apply to this object
    (upstream answers 422 Unprocessable Entity).
    """

    def __init__(self, message: str, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.malformed = malformed


# -- JSON patch -----------------------------------------------------------------------------


def apply_json_patch(doc: Mapping[str, Any], ops: Sequence[Any]) -> dict[str, Any]:
    """Apply RFC 6902 operations to ``doc`` and return the new document.

    Operations apply in order; the first that fails stops the patch with a
    :class:`PatchError` naming the operation and path.
    """
    if not isinstance(ops, list | tuple):
        raise PatchError("json patch must be a JSON array of operations", malformed=True)
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchError(
            f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS},"
            f" got {len(ops)}",
            malformed=True,
        )
    result: Any = deep_copy(dict(doc))
    for op in ops:
        if not isinstance(op, dict):
            raise PatchError(f"json patch operation is not an object: {render(op)}", malformed=True)
        result = _apply_op(result, deep_copy(op))
    if not isinstance(result, dict):
        raise PatchError(f"json patch result is not a JSON object: {render(result)}")
    return result


def _apply_op(doc: Any, op: dict[str, Any]) -> Any:
    kind = op.get("op")
    if kind not in _OPS:
        raise PatchError(f"Unexpected kind: {kind}" if kind else "Unexpected kind: <missing>")
    path = op.get("path")
    if not isinstance(path, str):
        raise PatchError(f"{kind} operation does not apply: path is missing or not a string")
    if kind in ("add", "replace", "test") and "value" not in op:
        raise PatchError(f"{kind} operation does not apply: value is missing for path {path}")
    if kind in ("move", "copy") and not isinstance(op.get("from"), str):
        raise PatchError(f"{kind} operation does not apply: from is missing for path {path}")
    if kind == "test":
        # jsonpatch compares with Python ==, where true == 1; JSON does not.
        found, current = _resolve(doc, path)
        if not found and not _resolve(doc, path.rpartition("/")[0])[0]:
            raise PatchError(f"test operation does not apply: is missing path: {path}")
        # As upstream, a missing member tests equal to null.
        if not json_equal(current, op["value"]):
            raise PatchError(f"testing value {path} failed: test failed")
        return doc
    try:
        return jsonpatch.JsonPatch([op]).apply(doc, in_place=True)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise PatchError(_describe_failure(kind, op, path, doc)) from exc


def _describe_failure(kind: str, op: dict[str, Any], path: str, doc: Any) -> str:
    if not path.startswith("/") and path != "":
        return f"{kind} operation does not apply: invalid path {path!r}: must start with /"
    if kind in ("move", "copy"):
        source = op["from"]
        if kind == "move" and path.startswith(source + "/"):
            return f"move operation does not apply: cannot move {source} into its own child"
        if not _resolve(doc, source)[0]:
            return f"{kind} operation does not apply: doc is missing from path: {source}"
        return f"{kind} operation does not apply: doc is missing destination path: {path}"
    parent, _, _ = path.rpartition("/")
    found, container = _resolve(doc, parent)
    if found and isinstance(container, list):
        return f"{kind} operation does not apply: invalid index referenced: {path}"
    if kind == "add":
        return f'add operation does not apply: doc is missing path: "{path}": missing value'
    if kind == "remove":
        return f"Unable to remove nonexistent key: {path}: missing value"
    return f"replace operation does not apply: doc is missing key: {path}: missing value"


def _resolve(doc: Any, pointer: str) -> tuple[bool, Any]:
    """Follow an RFC 6901 pointer; (False, None) where it leads nowhere."""
    if pointer == "":
        return True, doc
    if not pointer.startswith("/"):
        return False, None
    current = doc
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict):
            if token not in current:
                return False, None
            current = current[token]
        elif isinstance(current, list):
            if not token.isdigit() or int(token) >= len(current) or token != str(int(token)):
                return False, None
            current = current[int(token)]
        else:
            return False, None
    return True, current


# -- JSON merge patch -----------------------------------------------------------------------


def apply_merge_patch(doc: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch: ``null`` deletes, objects merge, the rest replaces.

    A patch that is not an object replaces the whole document; an object patch applied to
    a document that is not an object starts from ``{}``.
    """
    if not isinstance(patch, dict):
        return deep_copy(patch)
    base: dict[str, Any] = deep_copy(doc) if isinstance(doc, dict) else {}
    return _merge_into(base, patch)


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge ``patch`` into ``target`` (which we own and may change)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            target[key] = _merge_into(current if isinstance(current, dict) else {}, value)
        else:
            target[key] = deep_copy(value)
    return target


def create_merge_patch(original: Any, modified: Any) -> Any:
    """The RFC 7386 merge patch that turns ``original`` into ``modified``.

    ``modified`` must not hold ``null`` values inside objects: a merge patch cannot say
    "set to null" (null means delete).
    """
    if not isinstance(original, dict) or not isinstance(modified, dict):
        return deep_copy(modified)
    patch: dict[str, Any] = {}
    for key, new in modified.items():
        if key not in original:
            patch[key] = deep_copy(new)
            continue
        old = original[key]
        if isinstance(old, dict) and isinstance(new, dict):
            sub = create_merge_patch(old, new)
            if sub:
                patch[key] = sub
        elif not json_equal(old, new):
            # Sent whole; an object over a non-object merges onto {}, giving itself.
            patch[key] = deep_copy(new)
    for key in original:
        if key not in modified:
            patch[key] = None
    return patch
