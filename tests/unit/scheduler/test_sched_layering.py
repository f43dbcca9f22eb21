"""The layering contract (DESIGN.md): the scheduler imports kybernetes.api and
kybernetes.client only (never store, apiserver, or another component)."""

from __future__ import annotations

import ast
import pathlib

import kybernetes.scheduler

SCHEDULER = pathlib.Path(kybernetes.scheduler.__file__).parent


def test_scheduler_imports_only_api_and_client() -> None:
    modules = sorted(SCHEDULER.rglob("*.py"))
    assert len(modules) > 30
    allowed = ("kybernetes.api", "kybernetes.client", "kybernetes.scheduler")
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "kybernetes":
                    assert ".".join(name.split(".")[:2]) in allowed, f"{module.name}: {name}"
