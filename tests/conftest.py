"""Test-wide configuration: markers by directory."""

from __future__ import annotations

import pathlib

import pytest

_ROOT = pathlib.Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        rel = pathlib.Path(str(item.fspath)).relative_to(_ROOT).parts
        kind = rel[0] if rel and rel[0] in ("unit", "integration", "e2e") else "unit"
        item.add_marker(getattr(pytest.mark, kind))
