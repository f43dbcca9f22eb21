"""The resource registry: every built-in resource kybernetes serves, as discovery shows it.

Pure data. One :class:`ResourceInfo` per (group, version, plural). Lookups by plural, by
kind, by short name and by singular name, the way kubectl resolves ``kubectl get po``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

ALL_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    #: Subresource name -> the kind it speaks ("" for the parent's kind, e.g. status).
    subresources: dict[str, str] = field(default_factory=dict)
    categories: tuple[str, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        """The ``apiVersion`` field of objects of this resource."""
        return self.group_version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def gvk(self) -> tuple[str, str, str]:
        return (self.group, self.version, self.kind)

    @property
    def group_resource(self) -> str:
        """``deployments.apps`` style, as error messages name resources."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def url_prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


_STATUS = {"status": ""}
_STATUS_SCALE = {"status": "", "scale": "Scale"}


def _r(
    group: str,
    version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short: Iterable[str] = (),
    sub: dict[str, str] | None = None,
    cats: Iterable[str] = (),
    verbs: tuple[str, ...] = ALL_VERBS,
) -> ResourceInfo:
    return ResourceInfo(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=namespaced,
        short_names=tuple(short),
        verbs=verbs,
        subresources=dict(sub or {}),
        categories=tuple(cats),
    )


BUILTIN_RESOURCES: tuple[ResourceInfo, ...] = (
    # core/v1
    _r(
        "",
        "v1",
        "Pod",
        "pods",
        short=["po"],
        cats=["all"],
        sub={
            "status": "",
            "binding": "Binding",
            "eviction": "Eviction",
            "log": "Pod",
            "exec": "PodExecOptions",
            "attach": "PodAttachOptions",
            "portforward": "PodPortForwardOptions",
            "proxy": "PodProxyOptions",
            "ephemeralcontainers": "",
        },
    ),
    _r(
        "",
        "v1",
        "Node",
        "nodes",
        namespaced=False,
        short=["no"],
        sub={"status": "", "proxy": "NodeProxyOptions"},
    ),
    _r(
        "",
        "v1",
        "Namespace",
        "namespaces",
        namespaced=False,
        short=["ns"],
        sub={"status": "", "finalize": ""},
        verbs=tuple(v for v in ALL_VERBS if v != "deletecollection"),
    ),
    _r(
        "",
        "v1",
        "Service",
        "services",
        short=["svc"],
        cats=["all"],
        sub={"status": "", "proxy": "ServiceProxyOptions"},
    ),
    _r("", "v1", "Endpoints", "endpoints", short=["ep"]),
    _r("", "v1", "ConfigMap", "configmaps", short=["cm"]),
    _r("", "v1", "Secret", "secrets"),
    _r("", "v1", "ServiceAccount", "serviceaccounts", short=["sa"], sub={"token": "TokenRequest"}),
    _r("", "v1", "Event", "events", short=["ev"]),
    _r(
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        short=["rc"],
        cats=["all"],
        sub=_STATUS_SCALE,
    ),
    _r(
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        namespaced=False,
        short=["pv"],
        sub=_STATUS,
    ),
    _r(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        short=["pvc"],
        sub=_STATUS,
    ),
    _r("", "v1", "LimitRange", "limitranges", short=["limits"]),
    _r("", "v1", "ResourceQuota", "resourcequotas", short=["quota"], sub=_STATUS),
    # apps/v1
    _r(
        "apps", "v1", "Deployment", "deployments", short=["deploy"], cats=["all"], sub=_STATUS_SCALE
    ),
    _r("apps", "v1", "ReplicaSet", "replicasets", short=["rs"], cats=["all"], sub=_STATUS_SCALE),
    _r("apps", "v1", "DaemonSet", "daemonsets", short=["ds"], cats=["all"], sub=_STATUS),
    _r("apps", "v1", "StatefulSet", "statefulsets", short=["sts"], cats=["all"], sub=_STATUS_SCALE),
    _r("apps", "v1", "ControllerRevision", "controllerrevisions"),
    # batch/v1
    _r("batch", "v1", "Job", "jobs", cats=["all"], sub=_STATUS),
    _r("batch", "v1", "CronJob", "cronjobs", short=["cj"], cats=["all"], sub=_STATUS),
    # coordination.k8s.io/v1
    _r("coordination.k8s.io", "v1", "Lease", "leases"),
    # discovery.k8s.io/v1
    _r("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    # events.k8s.io/v1
    _r("events.k8s.io", "v1", "Event", "events", short=["ev"]),
    # policy/v1
    _r("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", short=["pdb"], sub=_STATUS),
    # rbac.authorization.k8s.io/v1
    _r("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    _r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False),
    _r(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        namespaced=False,
    ),
    # storage.k8s.io/v1
    _r("storage.k8s.io", "v1", "StorageClass", "storageclasses", namespaced=False, short=["sc"]),
    # scheduling.k8s.io/v1
    _r(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        namespaced=False,
        short=["pc"],
    ),
    # apiextensions.k8s.io/v1
    _r(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        short=["crd", "crds"],
        sub=_STATUS,
    ),
)


class Registry:
    """An index over a set of resources. Built-ins by default; CRDs may add more later."""

    def __init__(self, resources: Iterable[ResourceInfo] = BUILTIN_RESOURCES) -> None:
        self._by_gvr: dict[tuple[str, str, str], ResourceInfo] = {}
        self._by_gvk: dict[tuple[str, str, str], ResourceInfo] = {}
        for info in resources:
            self.add(info)

    def add(self, info: ResourceInfo) -> None:
        key = (info.group, info.version, info.plural)
        if key in self._by_gvr:
            raise ValueError(f"resource {info.group_resource}/{info.version} registered twice")
        self._by_gvr[key] = info
        self._by_gvk[info.gvk] = info

    def __iter__(self) -> Iterator[ResourceInfo]:
        return iter(self._by_gvr.values())

    def __len__(self) -> int:
        return len(self._by_gvr)

    def get(self, group: str, version: str, plural: str) -> ResourceInfo | None:
        """The resource served at ``/apis/{group}/{version}/{plural}`` (or ``/api/v1``)."""
        return self._by_gvr.get((group, version, plural))

    def by_kind(self, group: str, version: str, kind: str) -> ResourceInfo | None:
        return self._by_gvk.get((group, version, kind))

    def by_api_version_kind(self, api_version: str, kind: str) -> ResourceInfo | None:
        group, _, version = api_version.rpartition("/")
        return self.by_kind(group, version, kind)

    def group_versions(self) -> list[tuple[str, str]]:
        """Distinct (group, version) pairs in registration order, core first."""
        seen: dict[tuple[str, str], None] = {}
        for info in self._by_gvr.values():
            seen.setdefault((info.group, info.version), None)
        return list(seen)

    def in_group_version(self, group: str, version: str) -> list[ResourceInfo]:
        return [i for i in self._by_gvr.values() if i.group == group and i.version == version]

    def resolve(self, name: str) -> list[ResourceInfo]:
        """Resources a user-typed name means: plural, singular, short name, kind, or
        ``plural.group``, case-insensitively (what ``kubectl get NAME`` accepts)."""
        lowered = name.lower()
        resource, _, group = lowered.partition(".")
        out = []
        for info in self._by_gvr.values():
            if group and info.group != group:
                continue
            if resource in (info.plural, info.singular, info.kind.lower()) or (
                resource in info.short_names
            ):
                out.append(info)
        return out


#: The registry of built-in resources.
REGISTRY = Registry()
