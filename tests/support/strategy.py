"""Helpers for the strategy tests: run an object through create or update the way the API
server does (system fields, defaults, preparation, validation) and render the errors as
kubectl prints them."""

from __future__ import annotations

from typing import Any

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.api._jsonvalue import deep_copy
from kybernetes.api._strategy import (
    default,
    prepare_for_create,
    prepare_for_update,
    validate_create,
    validate_update,
)

UID = "11111111-2222-3333-4444-555555555555"
CREATED = "2025-01-01T00:00:00Z"


def info(plural: str, group: str = "") -> ResourceInfo:
    found = [i for i in REGISTRY if i.plural == plural and i.group == group]
    assert found, f"no resource {plural}.{group}"
    return found[0]


def create(plural: str, obj: dict[str, Any], group: str = "") -> tuple[dict[str, Any], list[str]]:
    """The stored object and the rendered errors of creating ``obj``."""
    res = info(plural, group)
    obj = deep_copy(obj)
    meta = obj.setdefault("metadata", {})
    meta.setdefault("uid", UID)
    meta.setdefault("creationTimestamp", CREATED)
    if res.namespaced:
        meta.setdefault("namespace", "default")
    prepared = prepare_for_create(res, default(res, obj))
    return prepared, [e.render() for e in validate_create(res, prepared)]


def create_errors(plural: str, obj: dict[str, Any], group: str = "") -> list[str]:
    return create(plural, obj, group)[1]


def update(
    plural: str, old: dict[str, Any], new: dict[str, Any], group: str = ""
) -> tuple[dict[str, Any], list[str]]:
    """The object stored by updating the stored ``old`` to ``new`` (system metadata copied
    from ``old`` as the API server does), and the rendered errors."""
    res = info(plural, group)
    new = deep_copy(new)
    meta = new.setdefault("metadata", {})
    for key in ("uid", "creationTimestamp", "namespace", "resourceVersion", "generation"):
        if key in old.get("metadata", {}):
            meta[key] = old["metadata"][key]
    meta.setdefault("resourceVersion", "7")
    prepared = prepare_for_update(res, default(res, new), old)
    return prepared, [e.render() for e in validate_update(res, prepared, old)]


def stored(plural: str, obj: dict[str, Any], group: str = "") -> dict[str, Any]:
    """``obj`` created successfully, with a resourceVersion, ready to be updated."""
    result, errors = create(plural, obj, group)
    assert errors == [], errors
    result["metadata"]["resourceVersion"] = "7"
    return result


def pod(**spec: Any) -> dict[str, Any]:
    """A minimal valid pod named ``x``, with ``spec`` fields merged over one container."""
    base: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx:1.27"}]}
    base.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": base}


def template(labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx:1.27"}]}
    base.update(spec)
    return {"metadata": {"labels": labels if labels is not None else {"app": "a"}}, "spec": base}
