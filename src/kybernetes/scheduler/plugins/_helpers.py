"""Small helpers the in-tree plugins share: score normalisation and argument parsing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.scheduler._framework import MAX_NODE_SCORE
from kybernetes.scheduler._status import ConfigError


def default_normalize_score(
    scores: list[int], *, reverse: bool, max_score: int = MAX_NODE_SCORE
) -> None:
    """Scale ``scores`` in place so the highest becomes ``max_score`` (upstream's
    ``DefaultNormalizeScore``); ``reverse`` flips them (``max - score``). All zeros stay 0,
    or all become ``max_score`` when reversed."""
    highest = max(scores, default=0)
    if highest == 0:
        if reverse:
            scores[:] = [max_score] * len(scores)
        return
    for i, score in enumerate(scores):
        scaled = max_score * score // highest
        scores[i] = max_score - scaled if reverse else scaled


def check_args(plugin: str, args: Mapping[str, Any], known: Sequence[str]) -> None:
    """Reject unknown fields in a plugin's args (as upstream's strict decoding)."""
    if not isinstance(args, Mapping):
        raise ConfigError(f"{plugin} args: must be an object")
    unknown = sorted(set(args) - set(known) - {"kind", "apiVersion"})
    if unknown:
        raise ConfigError(f"{plugin} args: unknown field(s) {', '.join(unknown)}")


def int_arg(
    plugin: str, args: Mapping[str, Any], key: str, default: int, low: int, high: int
) -> int:
    value = args.get(key, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(
            f"{plugin} args: {key} must be an integer in [{low}, {high}], got {value!r}"
        )
    return value
