"""Helpers for admission plugin tests: request attributes and minimal objects."""

from __future__ import annotations

from typing import Any

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.apiserver._admission import CREATE, Attributes

Obj = dict[str, Any]


def info(plural: str, group: str = "", version: str = "v1") -> ResourceInfo:
    found = REGISTRY.get(group, version, plural)
    assert found is not None, (group, version, plural)
    return found


def attrs(
    obj: Obj | None,
    *,
    plural: str = "pods",
    group: str = "",
    version: str = "v1",
    operation: str = CREATE,
    namespace: str = "ns",
    subresource: str = "",
    old: Obj | None = None,
    dry_run: bool = False,
) -> Attributes:
    name = str(((obj or old or {}).get("metadata") or {}).get("name") or "")
    return Attributes(
        operation,
        info(plural, group, version),
        namespace,
        name,
        subresource,
        obj,
        old,
        dry_run,
    )


def container(name: str = "c", requests: Obj | None = None, limits: Obj | None = None) -> Obj:
    out: Obj = {"name": name, "image": "busybox"}
    resources: Obj = {}
    if requests is not None:
        resources["requests"] = requests
    if limits is not None:
        resources["limits"] = limits
    if resources:
        out["resources"] = resources
    return out


def pod(*containers: Obj, name: str = "p", namespace: str = "ns", **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "spec": {"containers": list(containers) or [container()], **spec},
    }
