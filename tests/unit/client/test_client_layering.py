"""The layering contract (DESIGN.md): the client depends on kybernetes.api and nothing else
of kybernetes (never store, apiserver or a component)."""

from __future__ import annotations

import ast
import pathlib

import kybernetes.client

CLIENT = pathlib.Path(kybernetes.client.__file__).parent


def kybernetes_imports(path: pathlib.Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(n for n in names if n.split(".")[0] == "kybernetes")
    return found


def test_client_imports_only_api() -> None:
    modules = sorted(CLIENT.glob("*.py"))
    assert len(modules) > 10
    for module in modules:
        for name in kybernetes_imports(module):
            top = ".".join(name.split(".")[:2])
            assert top in ("kybernetes.api", "kybernetes.client"), f"{module.name}: {name}"
