"""Test-wide configuration: markers by directory, and no test may mutate a cached object.

Every client informer deep-freezes its cache (``KYB_CLIENT_FREEZE=1``, inherited by the
component processes tests start), and a test during which any component mutated a cached
object fails, even if the component caught the error.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from kybernetes.client import cache_mutations, clear_cache_mutations

_ROOT = pathlib.Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        rel = pathlib.Path(str(item.fspath)).relative_to(_ROOT).parts
        kind = rel[0] if rel and rel[0] in ("unit", "integration", "e2e") else "unit"
        item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(autouse=True)
def _freeze_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYB_CLIENT_FREEZE", "1")


@pytest.fixture(autouse=True)
def _no_cache_mutations() -> Iterator[None]:
    clear_cache_mutations()
    yield
    mutations = cache_mutations()
    clear_cache_mutations()
    assert not mutations, "cached objects were mutated:\n" + "\n".join(mutations)
