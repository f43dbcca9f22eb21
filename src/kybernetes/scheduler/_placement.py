"""Which plugin runs where, built from a profile: instances, placement, weights, events.

Promises, as upstream's framework construction:

* :func:`build_plugins` makes one instance per plugin named anywhere in the profile, with
  its ``pluginConfig`` args; unknown names and bad args are ConfigErrors naming the profile.
* :func:`place_plugins` lists, per extension point, the plugins that run there: a plugin
  enabled at a point must implement it; ``multiPoint`` plugins go to every point they
  implement unless disabled there (``*`` disables them all), and the ones also
  re-configured at the point keep their explicit place first.
* :func:`score_weights`: a score plugin's weight comes from its ``score`` entry, else its
  ``multiPoint`` entry, else 1.
* :func:`collect_hints`: the events each plugin that can reject pods registered; a plugin
  that registers none is woken by every event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kybernetes.scheduler._config import ProfileConfig
from kybernetes.scheduler._events import ActionType, ClusterEvent, ClusterEventWithHint, Resource
from kybernetes.scheduler._framework import (
    BindPlugin,
    EnqueueExtensions,
    FilterPlugin,
    PermitPlugin,
    PostBindPlugin,
    PostFilterPlugin,
    PreBindPlugin,
    PreEnqueuePlugin,
    PreFilterPlugin,
    PreScorePlugin,
    QueueSortPlugin,
    ReservePlugin,
    ScorePlugin,
)
from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler._status import ConfigError
from kybernetes.scheduler.plugins import Registry

POINTS: dict[str, type] = {
    "preEnqueue": PreEnqueuePlugin,
    "queueSort": QueueSortPlugin,
    "preFilter": PreFilterPlugin,
    "filter": FilterPlugin,
    "postFilter": PostFilterPlugin,
    "preScore": PreScorePlugin,
    "score": ScorePlugin,
    "reserve": ReservePlugin,
    "permit": PermitPlugin,
    "preBind": PreBindPlugin,
    "bind": BindPlugin,
    "postBind": PostBindPlugin,
}
#: Points where a plugin can reject a pod: their plugins' events drive requeueing.
_REJECTING = ("preEnqueue", "preFilter", "filter", "reserve", "permit")
_ANY_EVENT = ClusterEventWithHint(ClusterEvent(Resource.WILDCARD, ActionType.ALL))


def build_plugins(profile: ProfileConfig, registry: Registry, handle: Handle) -> dict[str, Any]:
    names: dict[str, None] = {}
    for pset in profile.plugins.values():
        for ref in pset.enabled:
            names.setdefault(ref.name)
    plugins: dict[str, Any] = {}
    for name in names:
        if name not in registry:
            raise ConfigError(f'profile "{profile.scheduler_name}": unknown plugin "{name}"')
        try:
            plugins[name] = registry[name](profile.plugin_args.get(name, {}), handle)
        except ConfigError as e:
            raise ConfigError(f'profile "{profile.scheduler_name}": {e}') from None
    return plugins


def place_plugins(profile: ProfileConfig, plugins: Mapping[str, Any]) -> dict[str, list[str]]:
    """Extension point -> plugin names, with multiPoint expanded as upstream does."""
    multi = profile.plugins.get("multiPoint")
    out: dict[str, list[str]] = {}
    for point, protocol in POINTS.items():
        pset = profile.plugins.get(point)
        enabled = [p.name for p in pset.enabled] if pset else []
        disabled = set(pset.disabled) if pset else set()
        for name in enabled:
            if not isinstance(plugins[name], protocol):
                raise ConfigError(
                    f'profile "{profile.scheduler_name}": plugin "{name}" does not '
                    f"implement the {point} extension point"
                )
        if "*" in disabled:
            out[point] = enabled
            continue
        overrides: list[str] = []
        from_multi: list[str] = []
        for ref in multi.enabled if multi else ():
            if not isinstance(plugins[ref.name], protocol) or ref.name in disabled:
                continue
            if ref.name in enabled:
                overrides.append(ref.name)
            elif ref.name in from_multi:
                raise ConfigError(f'plugin "{ref.name}" already registered as {point}')
            else:
                from_multi.append(ref.name)
        rest = [n for n in enabled if n not in overrides]
        out[point] = [n for n in enabled if n in overrides] + from_multi + rest
    return out


def score_weights(profile: ProfileConfig, score_plugins: Sequence[str]) -> dict[str, int]:
    weights: dict[str, int] = {}
    for point in ("multiPoint", "score"):
        pset = profile.plugins.get(point)
        for ref in pset.enabled if pset else ():
            if ref.weight:
                weights[ref.name] = ref.weight
    return {name: weights.get(name, 1) for name in score_plugins}


def collect_hints(
    points: Mapping[str, list[str]], plugins: Mapping[str, Any]
) -> dict[str, list[ClusterEventWithHint]]:
    hints: dict[str, list[ClusterEventWithHint]] = {}
    for point in _REJECTING:
        for name in points[point]:
            plugin = plugins[name]
            if name in hints:
                continue
            if isinstance(plugin, EnqueueExtensions):
                hints[name] = list(plugin.events_to_register())
            else:
                hints[name] = [_ANY_EVENT]
    return hints
