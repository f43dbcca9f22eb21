"""The scheduler's configuration file (``--config``): a ``KubeSchedulerConfiguration``.

Supported (``apiVersion: kubescheduler.config.k8s.io/v1``)::

    percentageOfNodesToScore: 0          # 0 = adaptive (50% - nodes/125, >= 5%)
    podInitialBackoffSeconds: 1
    podMaxBackoffSeconds: 10
    leaderElection: {leaderElect, leaseDuration, renewDeadline, retryPeriod,
                     resourceName, resourceNamespace}
    clientConnection: {qps, burst}
    profiles:
    - schedulerName: default-scheduler
      percentageOfNodesToScore: 50       # optional, per profile
      plugins:
        multiPoint | preEnqueue | queueSort | preFilter | filter | postFilter | preScore |
        score | reserve | permit | preBind | bind | postBind:
          enabled: [{name, weight}]
          disabled: [{name}]             # "*" disables every default at that point
      pluginConfig: [{name, args}]

Promises: every profile starts from upstream's default plugin set (all plugins through
``multiPoint``) merged with what the file says, as upstream's defaulting does (a plugin
re-enabled at a point keeps its place and takes the new weight; custom plugins are
appended; ``disabled`` removes). Unknown fields, unknown plugin names, duplicate scheduler
names or plugin configs, and out-of-range numbers raise :class:`~._status.ConfigError`
with the path of the mistake. Whether each plugin implements the points it is enabled at is
checked when the framework is built (:mod:`._runtime`), also before serving.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from kybernetes.scheduler._status import ConfigError
from kybernetes.scheduler.plugins import DEFAULT_MULTI_POINT, IN_TREE_REGISTRY

API_VERSION: Final = "kubescheduler.config.k8s.io/v1"
KIND: Final = "KubeSchedulerConfiguration"
DEFAULT_SCHEDULER_NAME: Final = "default-scheduler"
EXTENSION_POINTS: Final = (
    "multiPoint",
    "preEnqueue",
    "queueSort",
    "preFilter",
    "filter",
    "postFilter",
    "preScore",
    "score",
    "reserve",
    "permit",
    "preBind",
    "bind",
    "postBind",
)
_TOP_FIELDS: Final = {
    "apiVersion",
    "kind",
    "percentageOfNodesToScore",
    "podInitialBackoffSeconds",
    "podMaxBackoffSeconds",
    "leaderElection",
    "clientConnection",
    "profiles",
    "parallelism",
    "enableProfiling",
    "enableContentionProfiling",
    "delayCacheUntilActive",
    "extenders",
}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


@dataclass(frozen=True)
class PluginRef:
    name: str
    weight: int = 0


@dataclass(frozen=True)
class PluginSet:
    enabled: tuple[PluginRef, ...] = ()
    disabled: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProfileConfig:
    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    #: Extension point -> plugin set, already merged with the defaults.
    plugins: Mapping[str, PluginSet] = field(default_factory=dict)
    plugin_args: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    percentage_of_nodes_to_score: int | None = None


@dataclass(frozen=True)
class LeaderElectionSettings:
    leader_elect: bool = True
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    resource_name: str = "kube-scheduler"
    resource_namespace: str = "kube-system"


@dataclass(frozen=True)
class SchedulerConfig:
    profiles: tuple[ProfileConfig, ...]
    percentage_of_nodes_to_score: int = 0
    pod_initial_backoff_seconds: float = 1.0
    pod_max_backoff_seconds: float = 10.0
    leader_election: LeaderElectionSettings = field(default_factory=LeaderElectionSettings)
    qps: float = 50.0
    burst: int = 100


def _default_plugins() -> dict[str, PluginSet]:
    multi = tuple(PluginRef(name, weight) for name, weight in DEFAULT_MULTI_POINT)
    return {"multiPoint": PluginSet(enabled=multi)}


def default_config() -> SchedulerConfig:
    return SchedulerConfig(profiles=(ProfileConfig(plugins=_default_plugins()),))


_UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any, where: str) -> float:
    """A Go duration (``15s``, ``1m30s``, ``500ms``) or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        total, pos = 0.0, 0
        for m in _DURATION.finditer(text):
            if m.start() != pos:
                break
            pos = m.end()
            total += float(m.group(1)) * _UNITS[m.group(2)]
        if text and pos == len(text) and total > 0:
            return total
    raise ConfigError(f"{where}: {value!r} is not a positive duration (like 15s)")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: must be an object")
    return value


def _known(value: Mapping[str, Any], fields: Collection[str], where: str) -> None:
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")


def _number(value: Any, where: str, low: float, high: float, *, integer: bool = False) -> Any:
    ok = isinstance(value, int if integer else int | float) and not isinstance(value, bool)
    if not ok or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{where}: must be {kind} in [{low:g}, {high:g}], got {value!r}")
    return value


def _plugin_set(raw: Any, where: str, registry: Collection[str]) -> PluginSet:
    raw = _mapping(raw, where)
    _known(raw, ("enabled", "disabled"), where)
    enabled: list[PluginRef] = []
    for i, item in enumerate(raw.get("enabled") or ()):
        at = f"{where}.enabled[{i}]"
        item = _mapping(item, at)
        _known(item, ("name", "weight"), at)
        name = item.get("name")
        if name not in registry:
            raise ConfigError(
                f'{at}: unknown plugin "{name}" (known: {", ".join(sorted(registry))})'
            )
        weight = item.get("weight") or 0
        _number(weight, f"{at}.weight", 0, 100, integer=True)
        enabled.append(PluginRef(str(name), weight))
    disabled: list[str] = []
    for i, item in enumerate(raw.get("disabled") or ()):
        at = f"{where}.disabled[{i}]"
        item = _mapping(item, at)
        _known(item, ("name",), at)
        name = item.get("name")
        if name != "*" and name not in registry:
            raise ConfigError(
                f'{at}: unknown plugin "{name}" (known: {", ".join(sorted(registry))})'
            )
        disabled.append(str(name))
    return PluginSet(tuple(enabled), tuple(disabled))


def merge_plugin_set(default: PluginSet, custom: PluginSet) -> PluginSet:
    """Upstream's ``mergePluginSet``: custom settings layered over the defaults."""
    disabled = set(custom.disabled) | set(default.disabled)
    custom_by_name = {p.name: i for i, p in enumerate(custom.enabled)}
    replaced: set[int] = set()
    enabled: list[PluginRef] = []
    if "*" not in disabled:
        for plugin in default.enabled:
            if plugin.name in disabled:
                continue
            if plugin.name in custom_by_name:
                index = custom_by_name[plugin.name]
                plugin = custom.enabled[index]
                replaced.add(index)
            enabled.append(plugin)
    enabled += [p for i, p in enumerate(custom.enabled) if i not in replaced]
    return PluginSet(tuple(enabled), tuple(custom.disabled) + tuple(default.disabled))


def _profile(raw: Any, where: str, registry: Collection[str]) -> ProfileConfig:
    raw = _mapping(raw, where)
    _known(raw, ("schedulerName", "plugins", "pluginConfig", "percentageOfNodesToScore"), where)
    name = raw.get("schedulerName") or DEFAULT_SCHEDULER_NAME
    if not isinstance(name, str):
        raise ConfigError(f"{where}.schedulerName: must be a string")
    plugins_raw = _mapping(raw.get("plugins"), f"{where}.plugins")
    _known(plugins_raw, EXTENSION_POINTS, f"{where}.plugins")
    defaults = _default_plugins()
    plugins: dict[str, PluginSet] = {}
    for point in EXTENSION_POINTS:
        custom = _plugin_set(plugins_raw.get(point), f"{where}.plugins.{point}", registry)
        plugins[point] = merge_plugin_set(defaults.get(point, PluginSet()), custom)
    args: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(raw.get("pluginConfig") or ()):
        at = f"{where}.pluginConfig[{i}]"
        entry = _mapping(entry, at)
        _known(entry, ("name", "args"), at)
        plugin = entry.get("name")
        if plugin not in registry:
            raise ConfigError(f'{at}: unknown plugin "{plugin}"')
        if plugin in args:
            raise ConfigError(f'{at}: duplicate config for plugin "{plugin}"')
        args[str(plugin)] = _mapping(entry.get("args"), f"{at}.args")
    percentage = raw.get("percentageOfNodesToScore")
    if percentage is not None:
        _number(percentage, f"{where}.percentageOfNodesToScore", 0, 100, integer=True)
    return ProfileConfig(name, plugins, args, percentage)


def _leader_election(raw: Any) -> LeaderElectionSettings:
    where = "leaderElection"
    raw = _mapping(raw, where)
    fields = (
        "leaderElect",
        "leaseDuration",
        "renewDeadline",
        "retryPeriod",
        "resourceLock",
        "resourceName",
        "resourceNamespace",
    )
    _known(raw, fields, where)
    d = LeaderElectionSettings()
    settings = LeaderElectionSettings(
        leader_elect=bool(raw.get("leaderElect", d.leader_elect)),
        lease_duration=parse_duration(
            raw.get("leaseDuration", d.lease_duration), f"{where}.leaseDuration"
        ),
        renew_deadline=parse_duration(
            raw.get("renewDeadline", d.renew_deadline), f"{where}.renewDeadline"
        ),
        retry_period=parse_duration(raw.get("retryPeriod", d.retry_period), f"{where}.retryPeriod"),
        resource_name=str(raw.get("resourceName") or d.resource_name),
        resource_namespace=str(raw.get("resourceNamespace") or d.resource_namespace),
    )
    if raw.get("resourceLock", "leases") != "leases":
        raise ConfigError(f"{where}.resourceLock: only leases are supported")
    if not settings.lease_duration > settings.renew_deadline > settings.retry_period:
        raise ConfigError(f"{where}: need leaseDuration > renewDeadline > retryPeriod")
    return settings


def parse_config(doc: Any, registry: Collection[str] = tuple(IN_TREE_REGISTRY)) -> SchedulerConfig:
    """A parsed YAML/JSON document as a :class:`SchedulerConfig` (raises ConfigError)."""
    doc = _mapping(doc, "configuration")
    _known(doc, _TOP_FIELDS, "configuration")
    if doc.get("apiVersion", API_VERSION) != API_VERSION:
        raise ConfigError(
            f"apiVersion: {doc.get('apiVersion')!r} is not supported (use {API_VERSION})"
        )
    if doc.get("kind", KIND) != KIND:
        raise ConfigError(f"kind: {doc.get('kind')!r} is not supported (use {KIND})")
    if doc.get("extenders"):
        raise ConfigError("extenders: scheduler extenders are not supported")
    profiles_raw = doc.get("profiles") or [{}]
    if not isinstance(profiles_raw, list):
        raise ConfigError("profiles: must be a list")
    profiles = tuple(_profile(p, f"profiles[{i}]", registry) for i, p in enumerate(profiles_raw))
    names = [p.scheduler_name for p in profiles]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(f'profiles[{i}].schedulerName: duplicate scheduler name "{name}"')
    d = SchedulerConfig(profiles=profiles)
    percentage = doc.get("percentageOfNodesToScore") or 0
    _number(percentage, "percentageOfNodesToScore", 0, 100, integer=True)
    initial = doc.get("podInitialBackoffSeconds", d.pod_initial_backoff_seconds)
    maximum = doc.get("podMaxBackoffSeconds", d.pod_max_backoff_seconds)
    _number(initial, "podInitialBackoffSeconds", 0.001, 3600)
    _number(maximum, "podMaxBackoffSeconds", initial, 3600)
    client = _mapping(doc.get("clientConnection"), "clientConnection")
    _known(
        client,
        ("qps", "burst", "kubeconfig", "acceptContentTypes", "contentType"),
        "clientConnection",
    )
    qps = client.get("qps", d.qps)
    burst = client.get("burst", d.burst)
    _number(qps, "clientConnection.qps", 0, 1e9)
    _number(burst, "clientConnection.burst", 1, 1e9, integer=True)
    return SchedulerConfig(
        profiles=profiles,
        percentage_of_nodes_to_score=percentage,
        pod_initial_backoff_seconds=float(initial),
        pod_max_backoff_seconds=float(maximum),
        leader_election=_leader_election(doc.get("leaderElection")),
        qps=float(qps),
        burst=int(burst),
    )


def load_config(
    path: str | os.PathLike[str], registry: Collection[str] = tuple(IN_TREE_REGISTRY)
) -> SchedulerConfig:
    """Read and parse a configuration file; every problem is a ConfigError naming it."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    try:
        return parse_config(doc, registry)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
