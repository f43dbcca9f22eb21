"""Discovery documents: ``/version``, legacy and aggregated API discovery. Pure, no I/O.

What this module promises:

- :func:`version_info` is the ``/version`` body. It reports 1.33, which also makes the
  image's ``kubectl`` dispatcher run its bundled kubectl 1.33.
- :class:`Discovery` builds each discovery document of a :class:`Registry` on first use and
  caches it with its JSON bytes (kubectl asks for them on every invocation).
  :meth:`Discovery.respond` dispatches: ``respond(path, accept)`` returns ``(body_bytes,
  content_type)`` for ``/api``, ``/apis`` (legacy ``APIVersions``/``APIGroupList``, or
  aggregated ``APIGroupDiscoveryList`` when the Accept header asks), ``/apis/{g}``
  (``APIGroup``), ``/api/v1`` and ``/apis/{g}/{v}`` (``APIResourceList``, subresources named
  ``pods/log``); None when ``path`` is not a discovery path.
- :func:`negotiate_discovery` reads an Accept header and says whether (and in which
  version) to answer aggregated discovery (``apidiscovery.k8s.io`` v2 or v2beta1).
  Anything else gets legacy JSON; we never answer 406 here.
- The registry's subresource table says which kind a subresource speaks;
  :func:`subresource_kind` and :func:`subresource_verbs` complete it with the group/version
  of that kind and the verbs upstream serves (shared with ``_openapi``).

Documents are never recomputed: when the registry changes (CRDs, later), build a new
:class:`Discovery`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import platform
import sys
from collections.abc import Mapping
from typing import Any, Literal

import orjson

from kybernetes.api import KUBE_VERSION, REGISTRY, Registry, ResourceInfo

DISCOVERY_GROUP = "apidiscovery.k8s.io"
DISCOVERY_VERSIONS: tuple[str, ...] = ("v2", "v2beta1")
_DISCOVERY_LIST_KIND = "APIGroupDiscoveryList"

JSON = "application/json"

#: Kinds that subresources speak outside their parent's group/version.
_FOREIGN_KINDS: dict[str, tuple[str, str]] = {
    "Scale": ("autoscaling", "v1"),
    "Eviction": ("policy", "v1"),
    "TokenRequest": ("authentication.k8s.io", "v1"),
}

#: Verbs upstream serves on each subresource (by subresource name).
_SUBRESOURCE_VERBS: dict[str, tuple[str, ...]] = {
    "status": ("get", "patch", "update"),
    "scale": ("get", "patch", "update"),
    "ephemeralcontainers": ("get", "patch", "update"),
    "binding": ("create",),
    "eviction": ("create",),
    "token": ("create",),
    "log": ("get",),
    "exec": ("create", "get"),
    "attach": ("create", "get"),
    "portforward": ("create", "get"),
    "proxy": ("create", "delete", "get", "patch", "update"),
    "finalize": ("update",),
}


def content_type_for(version: str) -> str:
    """The exact Content-Type of aggregated discovery in ``version`` (v2 or v2beta1)."""
    return f"{JSON};g={DISCOVERY_GROUP};v={version};as={_DISCOVERY_LIST_KIND}"


# -- /version -----------------------------------------------------------------------------


def _platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)
    return f"{sys.platform}/{arch}"


@functools.cache
def version_info() -> dict[str, str]:
    """The ``/version`` body (``version.Info``). Every field the Python client requires is
    present; fields we cannot know honestly (commit, build date) are empty strings."""
    major, minor, _patch = KUBE_VERSION.split(".")
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(int(minor) - 1),
        # Semver build metadata: the dispatcher and clients parse the v1.33.0 part.
        "gitVersion": f"v{KUBE_VERSION}+kyb",
        "gitCommit": "",
        "gitTreeState": "",
        "buildDate": "",
        "goVersion": f"python{platform.python_version()}",
        "compiler": platform.python_implementation().lower(),
        "platform": _platform(),
    }


@functools.cache
def version_info_bytes() -> bytes:
    return orjson.dumps(version_info())


# -- Accept negotiation -------------------------------------------------------------------


def _parse_accept(accept: str) -> list[tuple[str, dict[str, str], float]]:
    """Media ranges of an Accept header as (type/subtype, params, q), in header order."""
    out: list[tuple[str, dict[str, str], float]] = []
    for entry in accept.split(","):
        parts = [p.strip() for p in entry.split(";")]
        media = parts[0].lower()
        if not media:
            continue
        params: dict[str, str] = {}
        q = 1.0
        for p in parts[1:]:
            key, sep, value = p.partition("=")
            if not sep:
                continue
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            else:
                params[key] = value
        out.append((media, params, q))
    return out


def negotiate_discovery(accept: str | None) -> tuple[str, str] | None:
    """``(version, content_type)`` when ``accept`` asks for aggregated discovery in a
    version we serve (and prefers it to plain JSON), else None: answer legacy JSON.

    Ranges are tried by descending q, ties in header order; the first one we can serve
    decides. Protobuf ranges and aggregated versions we do not serve are skipped.
    """
    if not accept:
        return None
    ranges = _parse_accept(accept)
    # sorted() is stable, so equal q keeps header order.
    for media, params, q in sorted(ranges, key=lambda r: -r[2]):
        if q <= 0:
            continue
        if "as" in params:
            if (
                media == JSON
                and params.get("as") == _DISCOVERY_LIST_KIND
                and params.get("g") == DISCOVERY_GROUP
                and params.get("v") in DISCOVERY_VERSIONS
            ):
                version = params["v"]
                return version, content_type_for(version)
            continue
        if media in (JSON, "application/*", "*/*"):
            return None
    return None


# -- subresources -------------------------------------------------------------------------


def subresource_kind(info: ResourceInfo, subresource: str) -> tuple[str, str, str]:
    """(group, version, kind) a subresource of ``info`` reads and writes."""
    kind = info.subresources[subresource] or info.kind
    if kind != info.kind and kind in _FOREIGN_KINDS:
        group, version = _FOREIGN_KINDS[kind]
        return group, version, kind
    return info.group, info.version, kind


def subresource_verbs(subresource: str) -> tuple[str, ...]:
    return _SUBRESOURCE_VERBS.get(subresource, ("get",))


def storage_version_hash(info: ResourceInfo) -> str:
    """Opaque per-kind hash clients may use to notice storage version changes (upstream
    derives it from group/version/kind the same way)."""
    digest = hashlib.sha256(f"{info.group}/{info.version}/{info.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


# -- the documents ------------------------------------------------------------------------


def _gv_for_discovery(group: str, version: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/{version}" if group else version, "version": version}


class Discovery:
    """All discovery documents of one registry, computed on first use and cached."""

    def __init__(self, registry: Registry = REGISTRY, *, server_address: str = "") -> None:
        self._registry = registry
        self._server_address = server_address
        # group -> versions in preference order (registration order); core is "".
        groups: dict[str, list[str]] = {}
        for group, version in registry.group_versions():
            groups.setdefault(group, []).append(version)
        self._groups = groups
        self._bytes: dict[tuple[str, ...], bytes] = {}

    # -- legacy -------------------------------------------------------------------------

    def _cidrs(self) -> list[dict[str, str]]:
        if not self._server_address:
            return []
        return [{"clientCIDR": "0.0.0.0/0", "serverAddress": self._server_address}]

    @functools.cached_property
    def _api_versions(self) -> dict[str, Any]:
        return {
            "kind": "APIVersions",
            "versions": list(self._groups.get("", [])),
            "serverAddressByClientCIDRs": self._cidrs(),
        }

    def api_versions(self) -> dict[str, Any]:
        """``GET /api`` (legacy)."""
        return self._api_versions

    def _group_doc(self, group: str) -> dict[str, Any]:
        versions = [_gv_for_discovery(group, v) for v in self._groups[group]]
        return {"name": group, "versions": versions, "preferredVersion": versions[0]}

    @functools.cached_property
    def _api_group_list(self) -> dict[str, Any]:
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [self._group_doc(g) for g in self._groups if g],
        }

    def api_group_list(self) -> dict[str, Any]:
        """``GET /apis`` (legacy)."""
        return self._api_group_list

    def api_group(self, group: str) -> dict[str, Any] | None:
        """``GET /apis/{group}``, or None for an unknown group."""
        if not group or group not in self._groups:
            return None
        return {"kind": "APIGroup", "apiVersion": "v1", **self._group_doc(group)}

    @functools.cache  # noqa: B019 - instances live as long as their registry snapshot
    def api_resource_list(self, group: str, version: str) -> dict[str, Any] | None:
        """``GET /api/v1`` or ``GET /apis/{group}/{version}``, or None when not served."""
        infos = self._registry.in_group_version(group, version)
        if not infos:
            return None
        resources: list[dict[str, Any]] = []
        for info in infos:
            entry: dict[str, Any] = {
                "name": info.plural,
                "singularName": info.singular,
                "namespaced": info.namespaced,
                "kind": info.kind,
                "verbs": list(info.verbs),
            }
            if info.short_names:
                entry["shortNames"] = list(info.short_names)
            if info.categories:
                entry["categories"] = list(info.categories)
            entry["storageVersionHash"] = storage_version_hash(info)
            resources.append(entry)
            for sub in info.subresources:
                sub_group, sub_version, sub_kind = subresource_kind(info, sub)
                sub_entry: dict[str, Any] = {
                    "name": f"{info.plural}/{sub}",
                    "singularName": "",
                    "namespaced": info.namespaced,
                }
                if (sub_group, sub_version) != (group, version):
                    sub_entry["group"] = sub_group
                    sub_entry["version"] = sub_version
                sub_entry["kind"] = sub_kind
                sub_entry["verbs"] = list(subresource_verbs(sub))
                resources.append(sub_entry)
        resources.sort(key=lambda r: str(r["name"]))
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources,
        }

    # -- aggregated ---------------------------------------------------------------------

    def _aggregated_resource(self, info: ResourceInfo) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "resource": info.plural,
            "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
            "scope": "Namespaced" if info.namespaced else "Cluster",
            "singularResource": info.singular,
            "verbs": list(info.verbs),
        }
        if info.short_names:
            entry["shortNames"] = list(info.short_names)
        if info.categories:
            entry["categories"] = list(info.categories)
        subs = []
        for sub in sorted(info.subresources):
            group, version, kind = subresource_kind(info, sub)
            subs.append(
                {
                    "subresource": sub,
                    "responseKind": {"group": group, "version": version, "kind": kind},
                    "verbs": list(subresource_verbs(sub)),
                }
            )
        if subs:
            entry["subresources"] = subs
        return entry

    def _aggregated_group(self, group: str) -> dict[str, Any]:
        versions = []
        for version in self._groups[group]:
            infos = sorted(self._registry.in_group_version(group, version), key=lambda i: i.plural)
            versions.append(
                {
                    "version": version,
                    "resources": [self._aggregated_resource(i) for i in infos],
                    "freshness": "Current",
                }
            )
        metadata: dict[str, Any] = {"name": group} if group else {}
        return {"metadata": metadata, "versions": versions}

    @functools.cache  # noqa: B019 - see api_resource_list
    def _aggregated_items(self, scope: Literal["api", "apis"]) -> list[dict[str, Any]]:
        if scope == "api":
            return [self._aggregated_group("")] if "" in self._groups else []
        return [self._aggregated_group(g) for g in self._groups if g]

    def aggregated(self, scope: Literal["api", "apis"], version: str = "v2") -> dict[str, Any]:
        """``APIGroupDiscoveryList`` for ``/api`` (core) or ``/apis`` (named groups)."""
        if version not in DISCOVERY_VERSIONS:
            raise ValueError(f"aggregated discovery version {version!r} is not served")
        return {
            "kind": _DISCOVERY_LIST_KIND,
            "apiVersion": f"{DISCOVERY_GROUP}/{version}",
            "metadata": {},
            "items": self._aggregated_items(scope),
        }

    # -- bytes and dispatch -------------------------------------------------------------

    def _cached(self, key: tuple[str, ...], doc: Mapping[str, Any]) -> bytes:
        data = self._bytes.get(key)
        if data is None:
            data = self._bytes[key] = orjson.dumps(doc)
        return data

    def respond(self, path: str, accept: str | None = None) -> tuple[bytes, str] | None:
        """The discovery answer for ``path`` as ``(body, content_type)``; None when
        ``path`` is not a discovery path (the caller answers 404).

        ``/api`` and ``/apis`` are aggregated when :func:`negotiate_discovery` says so.
        """
        parts = [p for p in path.split("/") if p]
        if parts == ["api"] or parts == ["apis"]:
            scope: Literal["api", "apis"] = "api" if parts[0] == "api" else "apis"
            negotiated = negotiate_discovery(accept)
            if negotiated is not None:
                version, content_type = negotiated
                key = ("aggregated", scope, version)
                return self._cached(key, self.aggregated(scope, version)), content_type
            legacy = self.api_versions() if scope == "api" else self.api_group_list()
            return self._cached(("legacy", scope), legacy), JSON
        if len(parts) == 2 and parts[0] == "api":
            doc = self.api_resource_list("", parts[1])
        elif len(parts) == 2 and parts[0] == "apis":
            doc = self.api_group(parts[1])
        elif len(parts) == 3 and parts[0] == "apis" and parts[1]:
            doc = self.api_resource_list(parts[1], parts[2])
        else:
            return None
        if doc is None:
            return None
        return self._cached(("legacy", *parts), doc), JSON


@functools.cache
def default_discovery() -> Discovery:
    """The :class:`Discovery` of the built-in registry (no server address)."""
    return Discovery(REGISTRY)
