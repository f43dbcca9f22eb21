"""The admin kubeconfig: how kubectl and the Python client find this API server."""

from __future__ import annotations

import os
import pathlib

import yaml

CLUSTER = USER = CONTEXT = "kybernetes"
ADMIN_USER = "admin"


def kubeconfig(server: str) -> dict[str, object]:
    """A kubeconfig with one cluster (``server``), the ``admin`` user and its context."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": CLUSTER, "cluster": {"server": server}}],
        # Plain HTTP on loopback for now: no credentials until TLS and authentication.
        "users": [{"name": ADMIN_USER, "user": {}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CLUSTER, "user": ADMIN_USER}}],
        "current-context": CONTEXT,
    }


def write_kubeconfig(path: str | os.PathLike[str], server: str) -> pathlib.Path:
    """Write the admin kubeconfig atomically (readable by the owner only)."""
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(kubeconfig(server), f, sort_keys=False)
    os.replace(tmp, target)
    return target
